"""Runner speed: overhead per evaluation, wall time of full studies, worker speed-up.

Prints, on nb201-cifar10 with noise 'seed':

* runner overhead per evaluation with the store on: the wall time of
  ``run_study`` minus that of a bare ask -> query -> tell loop doing the same
  work in the same process, divided by the number of evaluations
  (target <= 50 us);
* wall time of 100 trials x 300 queries for random search, local search and
  regularized evolution in this process (target <= 0.35 s each on 2 quiet
  cores) and as a whole ``archscape run`` process (target <= 1.0 s);
* seconds per 300-query trial of BANANAS and GP-BO (target: GP-BO <= 2 s);
* the ``--workers 2`` speed-up: serial and parallel wall time of the same
  study, their ratio (target >= 1.7x for 1,000 trials x 300 queries of random
  search on 2 cores) and the CPU seconds of the writer process and of the
  workers (on a loaded machine the wall times say little; the CPU split says
  whether the work divides: parallel CPU close to serial CPU, and a writer
  well under half of it, give 1.7x or more once two cores are free).

Figures measured 2026-12-08 for issue 17 (2 cores shared with four other
jobs, load 2.5-8: wall times there are 1.3-1.7x the CPU times and say little,
so CPU seconds and same-process ratios; "before" is commit d27700c):

===============================================  =============  =============
                                                 before         after
===============================================  =============  =============
runner overhead per evaluation (us)              24.7-30.4      12.2-14.8
local 100 x 300, CPU s in process                0.97-1.23      0.70-0.86
random 100 x 300, CPU s in process               0.88-1.08      0.71-0.81
evolution 100 x 300, CPU s in process            1.13-1.33      0.96-1.07
random 1,000 x 300 --workers 2: writer CPU s     3.30           1.92
  workers' CPU s (serial run: 8.7-8.9 s)         7.81           7.49
GP-BO, s per 300-query trial (wall, loaded)      7.72           1.89
===============================================  =============  =============

With two free cores the parallel run's CPU (writer + workers, 1.06x the
serial run's) divides to about 1.9x; the lead re-measures the wall times.

Usage: python benchmarks/bench_runner.py [--trials 100] [--budget 300] [--parallel-trials 1000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archscape.run.config import config_from_mapping
from archscape.run.runner import evaluator_for, run_study
from archscape.run.seeding import trial_generators
from archscape.search import make_optimizer


def bare_loop(config) -> float:
    """The same trials without runner or store: ask, evaluate, tell."""
    evaluator = evaluator_for(config)
    space = evaluator.space
    start = time.perf_counter()
    for spec in config.labelled():
        for i in range(config.trials):
            opt_rng, noise_rng = trial_generators(config.seed, spec.label, i)
            opt = make_optimizer(spec.name, **spec.params).setup(space, opt_rng)
            for _ in range(config.budget):
                g = opt.ask()
                out = evaluator.evaluate(g, noise_rng.random())
                opt.tell(g, out.objective)
    return time.perf_counter() - start


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def study_seconds(config, workers: int = 1) -> float:
    return study_times(config, workers)[0]


def study_times(config, workers: int = 1) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of this process, CPU seconds of its worker processes) of one study."""
    with tempfile.TemporaryDirectory() as d:
        own, children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run_study(config, Path(d) / "s.sqlite", workers=workers)
        wall = time.perf_counter() - start
        return wall, _cpu(resource.RUSAGE_SELF) - own, _cpu(resource.RUSAGE_CHILDREN) - children


def cli_seconds(optimizer: str, trials: int, budget: int) -> float:
    """Wall time of a whole ``archscape run`` process (start-up, imports and table included)."""
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-m", "archscape.cli", "run", "-b", "nb201-cifar10", "-o", optimizer, "--budget", str(budget),
               "--trials", str(trials), "--no-progress", "--store", str(Path(d) / "s.sqlite")]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--parallel-trials", type=int, default=1000, help="trials of random search timed with --workers 2")
    parser.add_argument("--model-trials", type=int, default=3, help="trials timed for BANANAS and GP-BO")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs for the in-process times")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.budget, args.parallel_trials, args.model_trials, args.repeats = 10, 100, 20, 1, 1
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; nb201-cifar10, noise seed, {args.trials} trials x {args.budget} queries")

    def config(names, trials):
        return config_from_mapping(
            {"benchmark": "nb201-cifar10", "optimizers": names, "budget": args.budget, "trials": trials, "seed": 0}
        )

    study_seconds(config(["random"], 2))  # warm the tables and caches
    print("\n== runner overhead per evaluation (store on) ==")
    for name in ("random", "local", "evolution"):
        cfg = config([name], args.trials)
        bare = bare_loop(cfg)
        full = study_seconds(cfg)
        n = args.trials * args.budget
        print(f"{name:<10} study {full:6.2f} s   bare loop {bare:6.2f} s   overhead {(full - bare) / n * 1e6:6.1f} us/eval")

    print(f"\n== {args.trials} trials x {args.budget} queries: in this process (best of {args.repeats}) and as a whole "
          "`archscape run` process ==")
    for name in ("random", "local", "evolution"):
        cfg = config([name], args.trials)
        times = [study_times(cfg) for _ in range(args.repeats)]
        wall, cpu = min(t[0] for t in times), min(t[1] for t in times)
        whole = min(cli_seconds(name, args.trials, args.budget) for _ in range(args.repeats))
        print(f"{name:<10} in process {wall:6.2f} s wall, {cpu:6.2f} s CPU   whole process {whole:6.2f} s")

    print("\n== --workers 2: serial vs parallel (wall), speed-up, and where the CPU goes ==")
    for name, trials in (("random", args.parallel_trials), ("local", args.trials), ("evolution", args.trials)):
        cfg = config([name], trials)
        one, one_cpu, _ = study_times(cfg, 1)
        two, writer_cpu, workers_cpu = study_times(cfg, 2)
        print(f"{name:<10} {trials:>5} trials   serial {one:6.2f} s   workers=2 {two:6.2f} s   speed-up {one / two:4.2f}x   "
              f"CPU: serial {one_cpu:5.2f} s, parallel writer {writer_cpu:5.2f} s + workers {workers_cpu:5.2f} s")

    print(f"\n== model-based optimizers: seconds per {args.budget}-query trial ==")
    for name in ("bananas", "gp"):
        cfg = config([name], args.model_trials)
        one = study_seconds(cfg, 1)
        line = f"{name:<10} {one / args.model_trials:6.2f} s/trial"
        if args.model_trials >= 2:
            two = study_seconds(cfg, 2)
            line += f"   workers=2 {two / args.model_trials:6.2f} s/trial   speed-up {one / two:4.2f}x"
        print(line)


if __name__ == "__main__":
    main()
