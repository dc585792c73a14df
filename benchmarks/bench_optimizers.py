"""Speed of the search strategies, driven by ask/tell directly on nb201-cifar10.

Prints, for every registered optimizer with its default settings:

* seconds per trial of 300 queries (targets: <= 30 s for BANANAS and GP-BO;
  random, local search and evolution are timed over 100 trials, target
  <= 10 s for all 100), with the mean final regret of the trials as a sanity
  check that they search;
* the pure optimizer overhead per ask + tell in microseconds for random
  search, local search and regularized evolution: values come from a
  pre-built array, so no benchmark query is timed;
* GP-BO before and after issue 17 in the same process: hyper-parameters
  chosen on the grid at every fit (``RESELECT_GROWTH = None``, the former
  algorithm, whose stores it reproduces) against the schedule (chosen again
  when the told values grew by 25%, the Cholesky factor extended by block
  updates in between): seconds per trial and final regret, mean +- standard
  error, over ``--gp-trials`` trials of 150 queries with noise 'mean'.

Measured (issue 17, 2 cores shared with other jobs, so CPU-bound figures are
~1.5x a quiet machine's): 20 trials x 150 queries, final regret 0.092 +- 0.042
(every fit) vs 0.069 +- 0.038 (schedule), CPU 1.22 vs 0.61 s per trial; a
300-query trial 6.3-7.3 s vs 1.6-2.4 s CPU.

Runs single-threaded in one process; the model-based optimizers limit BLAS
to one thread themselves.

Usage: python benchmarks/bench_optimizers.py [--quick] [--noise mean|seed]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from archscape import load_benchmark
from archscape.search import make_optimizer, optimizer_names

CHEAP = ("random", "local", "evolution")


def gp_before_after(bench, trials: int, budget: int) -> None:
    """GP-BO with hyper-parameters chosen at every fit (before) and on the schedule (after), same trials."""
    import archscape.search.gp as gp

    schedule = gp.RESELECT_GROWTH
    print(f"GP-BO, {trials} trials x {budget} queries, noise mean: hyper-parameters every fit (before) vs on a schedule (after)")
    results = {}
    try:
        for label, growth in (("every fit", None), (f"growth {schedule}", schedule)):
            gp.RESELECT_GROWTH = growth
            optimum = bench.optimum()[1]
            finals, start = [], time.perf_counter()
            for trial in range(trials):
                opt = make_optimizer("gp").setup(bench.space, np.random.default_rng(trial))
                best_value, best_row = -np.inf, 0
                for _ in range(budget):
                    g = opt.ask()
                    e = bench.query(g, noise="mean")
                    value = e.metrics[bench.objective]
                    opt.tell(g, value)
                    if value > best_value:
                        best_value, best_row = value, e.index
                finals.append(optimum - bench.query_row(best_row).metrics[bench.objective])
            per_trial = (time.perf_counter() - start) / trials
            f = np.asarray(finals)
            se = f.std(ddof=1) / np.sqrt(len(f)) if len(f) > 1 else float("nan")
            results[label] = per_trial
            print(f"  {label:<12} {per_trial:7.2f} s/trial   final regret {f.mean():.3f} +- {se:.3f} (SE)")
    finally:
        gp.RESELECT_GROWTH = schedule
    before, after = results.values()
    print(f"  speed-up {before / after:.2f}x")


def run_trials(name: str, bench, trials: int, budget: int, noise: str) -> tuple[float, float]:
    """(seconds per trial, mean final regret) of ``trials`` trials of ``budget`` queries."""
    optimum = bench.optimum()[1]
    finals = []
    start = time.perf_counter()
    for trial in range(trials):
        opt = make_optimizer(name).setup(bench.space, np.random.default_rng(trial))
        noise_rng = np.random.default_rng(10_000 + trial)
        best_value, best_row = -np.inf, 0
        for _ in range(budget):
            g = opt.ask()
            e = bench.query(g, noise=noise, rng=noise_rng)
            value = e.metrics[bench.objective]
            opt.tell(g, value)
            if value > best_value:
                best_value, best_row = value, e.index
        finals.append(optimum - bench.query_row(best_row).metrics[bench.objective])
    return (time.perf_counter() - start) / trials, float(np.mean(finals))


def overhead_us(name: str, bench, asks: int, repeats: int) -> float:
    """Microseconds per ask + tell with values read from a pre-built array (best of ``repeats``)."""
    rows = {g: r for r, g in enumerate(bench.space.enumerate())}
    values = bench.values().tolist()
    best = np.inf
    for repeat in range(repeats):
        opt = make_optimizer(name).setup(bench.space, np.random.default_rng(repeat))
        start = time.perf_counter()
        for _ in range(asks):
            g = opt.ask()
            opt.tell(g, values[rows[g]])
        best = min(best, time.perf_counter() - start)
    return best / asks * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials (a rough figure in a few seconds)")
    parser.add_argument("--noise", default="mean", choices=("mean", "seed"))
    parser.add_argument("--gp-trials", type=int, default=20, help="trials of the GP-BO before/after comparison (0: skip)")
    parser.add_argument("--gp-budget", type=int, default=150)
    args = parser.parse_args()
    if args.quick:
        args.gp_trials, args.gp_budget = min(args.gp_trials, 2), min(args.gp_budget, 40)

    bench = load_benchmark("nb201-cifar10")
    bench.query(bench.space.from_index(0))  # build the lookup tables outside the timings
    cheap_trials, model_trials = (10, 1) if args.quick else (100, 3)

    print(f"nb201-cifar10, noise={args.noise}, 300 queries per trial, default settings")
    print(f"{'optimizer':<10} {'trials':>6} {'s/trial':>9} {'s/100 trials':>13} {'mean regret':>12}")
    for name in optimizer_names():
        trials = cheap_trials if name in CHEAP else model_trials
        per_trial, regret = run_trials(name, bench, trials, 300, args.noise)
        print(f"{name:<10} {trials:>6} {per_trial:>9.3f} {100 * per_trial:>13.1f} {regret:>12.3f}")

    print()
    print("optimizer overhead per ask + tell (values from an array, 3,000 asks, best of 5)")
    for name in CHEAP:
        print(f"{name:<10} {overhead_us(name, bench, 3_000, 2 if args.quick else 5):>8.1f} us")

    if args.gp_trials:
        print()
        gp_before_after(bench, args.gp_trials, args.gp_budget)


if __name__ == "__main__":
    main()
