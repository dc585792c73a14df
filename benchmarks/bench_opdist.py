"""Speed of the operation-distribution analysis (target: one NB201 table in <= 1 s).

For each table: the time to load it, then the median over ``--repeats`` runs
of the whole exhaustive analysis (grouping, every swap and one-op-change
pair, Mann-Whitney and KS) under ``--noise mean`` and ``--noise seed``, as
``archscape opdist analyze BENCH`` runs it after loading.  Prints figures,
asserts nothing.

Usage: python benchmarks/bench_opdist.py [--bench NAME ...] [--repeats 5]
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()
    t = time.perf_counter()
    import archscape.opdist.analysis  # noqa: F401 - scipy.stats is most of it

    print(f"imports: {time.perf_counter() - t:.2f} s")
    print(f"exhaustive analysis, median of {args.repeats} runs")
    analysis_times(args.bench, args.repeats)


if __name__ == "__main__":
    main()
