"""Speed of operation distributions: sampling (target >= 100,000 NB201 cells/s) and analysis (one NB201 table <= 1 s).

Sampling: cells drawn from one distribution per second, one by one
(``sample_architecture``) and in a batch (``sample_cells``), for NB201 and
Macro, and one by one for DARTS and NB101 (whose NB101 draws are rejected
until no vertex would be pruned); the ratio batched / single is printed.

For each table: the time to load it, then the median over ``--repeats`` runs
of the whole exhaustive analysis (grouping, every swap and one-op-change
pair, Mann-Whitney and KS) under ``--noise mean`` and ``--noise seed``, as
``archscape opdist analyze BENCH`` runs it after loading.  Prints figures,
asserts nothing.

Usage: python benchmarks/bench_opdist.py [--bench NAME ...] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

TABLES = ("nb201-cifar10", "nb201-cifar100", "nb201-imagenet16", "nas-bench-macro")


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def sampling_rates(seconds: float = 1.0, batch: int = 1_000_000) -> None:
    """Cells per second from one distribution of each space, single and batched."""
    import numpy as np

    from archscape.spaces.distribution import sample_architecture, sample_cells
    from archscape.spaces import get_space

    print(f"{'space':<8} {'single /s':>12} {'batched /s':>12} {'ratio':>6}")
    for name in ("nb201", "macro", "darts", "nb101"):
        space, dist = get_space(name), get_space(f"{name}-opdist")
        counts = dist.sample(np.random.default_rng(0))
        rng = np.random.default_rng(1)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(200):
                sample_architecture(space, counts, rng)
            n += 200
        single = n / (time.perf_counter() - start)
        batched = math.nan
        if name in ("nb201", "macro"):
            start = time.perf_counter()
            sample_cells(space, counts, batch, rng)
            batched = batch / (time.perf_counter() - start)
        ratio = f"{batched / single:6.1f}" if batched == batched else "     -"
        shown = f"{batched:>12,.0f}" if batched == batched else f"{'-':>12}"
        print(f"{name:<8} {single:>12,.0f} {shown} {ratio}")


def analysis_times(names, repeats: int) -> None:
    """One line per table: rows, groups, pairs, load time and the median analysis times."""
    from archscape import load_benchmark
    from archscape.opdist.analysis import analyze_opdist

    print(f"{'benchmark':<18} {'rows':>7} {'groups':>6} {'pairs':>8} {'load':>7} {'mean':>8} {'seed':>8}")
    for name in names:
        t = time.perf_counter()
        try:
            bench = load_benchmark(name)
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            print(f"{name:<18} skipped: {exc}")
            continue
        load = time.perf_counter() - t
        s = analyze_opdist(bench).summary
        pairs = s["swap_vs_change"]["swap"]["n_pairs"] + s["swap_vs_change"]["change"]["n_pairs"]
        mean = median_time(lambda: analyze_opdist(bench, noise="mean"), repeats)
        seed = median_time(lambda: analyze_opdist(bench, noise="seed", seed=0), repeats)
        print(f"{name:<18} {s['n_architectures']:>7,} {s['n_distributions']:>6} {pairs:>8,} {load:>6.2f}s "
              f"{mean:>7.3f}s {seed:>7.3f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", nargs="*", default=list(TABLES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a smoke run: short sampling, one table, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.bench, args.repeats = ["nas-bench-macro"], 1
    t = time.perf_counter()
    import archscape.opdist.analysis  # noqa: F401 - scipy.stats is most of it

    print(f"imports: {time.perf_counter() - t:.2f} s")
    print("sampling cells from a distribution")
    sampling_rates(0.1, 10_000) if args.quick else sampling_rates()
    print(f"exhaustive analysis, median of {args.repeats} runs")
    analysis_times(args.bench, args.repeats)


if __name__ == "__main__":
    main()
