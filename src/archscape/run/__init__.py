"""Running studies: config, seeding, evaluators, trials, executors, the runner and the store."""

#: where a study's evaluations can run (see :mod:`archscape.run.executors`)
EXECUTORS = ("serial", "process", "ray")

# Bounds of a study's settings, here (not in run.config) so the command line declares them without pydantic.
#: the most queries per trial (a finite space also bounds the budget by its size)
MAX_BUDGET = 10_000_000
#: the most trials per optimizer
MAX_TRIALS = 100_000
#: the largest study seed (a 64-bit signed integer, as SQLite stores it)
MAX_SEED = 2**63 - 1
#: the most architectures sampled per evaluation of a distribution space
MAX_OPDIST_SAMPLES = 10_000
#: the most worker processes (or trials in flight on Ray)
MAX_WORKERS = 4096
