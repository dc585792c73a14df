"""Runner speed: overhead per evaluation, wall time of full studies, worker speed-up.

Prints, on nb201-cifar10 with noise 'seed':

* runner overhead per evaluation with the store on: the wall time of
  ``run_study`` minus that of a bare ask -> query -> tell loop doing the same
  work in the same process, divided by the number of evaluations
  (target <= 50 us);
* wall time of 100 trials x 300 queries for random search, local search and
  regularized evolution (target <= 10 s each on 2 cores);
* seconds per 300-query trial of BANANAS and GP-BO (target <= 30 s);
* the ``--workers 2`` speed-up on the same study.

Usage: python benchmarks/bench_runner.py [--trials 100] [--budget 300] [--quick]
"""

from __future__ import annotations

import argparse
import os
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


def study_seconds(config, workers: int = 1) -> float:
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        run_study(config, Path(d) / "s.sqlite", workers=workers)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--model-trials", type=int, default=3, help="trials timed for BANANAS and GP-BO")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.budget, args.model_trials = 10, 100, 1
    print(f"{os.cpu_count()} cores; nb201-cifar10, noise seed, {args.trials} trials x {args.budget} queries")

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

    print(f"\n== wall time of {args.trials} trials x {args.budget} queries (1 process / --workers 2) ==")
    for name in ("random", "local", "evolution"):
        cfg = config([name], args.trials)
        one = study_seconds(cfg, 1)
        two = study_seconds(cfg, 2)
        print(f"{name:<10} {one:6.2f} s   workers=2 {two:6.2f} s   speed-up {one / two:4.2f}x")

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
