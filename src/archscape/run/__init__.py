"""Running studies: config, seeding, evaluators, trials, executors, the runner and the store."""

#: where a study's evaluations can run (see :mod:`archscape.run.executors`)
EXECUTORS = ("serial", "process", "ray")
