"""Running studies: config, seeding, evaluators, the runner and the store."""
