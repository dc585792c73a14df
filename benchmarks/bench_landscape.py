"""Speed of the exhaustive landscape analysis (target: one NB201 data set in <= 2 s on 2 cores).

For each benchmark, in one process pinned to two cores (where the machine
has more):

* ``first``: the whole analysis of every noise mode (mean and each seed)
  including building the neighbour-row matrix of the table (done once per
  table and process) — what ``archscape landscape BENCH --noise all`` costs
  after loading;
* ``warm``: the same with the neighbour matrix cached (best of 3);
* the split of one noise mode (mean) into its stages: exhaustive (optima,
  basins, FDC, neutrality), random walks (200 x 1000 steps plus the exact
  curve), and the local-optima network.

Usage: python benchmarks/bench_landscape.py [--bench NAME ...] [--cores 2]
"""

from __future__ import annotations

import argparse
import os
import time


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", nargs="*", default=["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16",
                                                        "nas-bench-macro", "nb101-subset"])
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))[: args.cores]
        os.sched_setaffinity(0, cores)
    n_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    t = time.perf_counter()
    from archscape import load_benchmark
    from archscape.landscape.analyze import analyze_all_noise, noise_modes
    from archscape.landscape.exhaustive import exhaustive_analysis
    from archscape.landscape.lon import local_optima_network
    from archscape.landscape.table import finite_landscape
    from archscape.landscape.walks import autocorrelation

    print(f"imports: {time.perf_counter() - t:.2f} s; running on {n_cores} core(s)")
    print(f"{'benchmark':<18} {'rows':>7} {'modes':>5} {'first':>8} {'warm':>8}   mean: {'exhaust':>8} {'walks':>8} {'lon':>8}")
    for name in args.bench:
        try:
            bench = load_benchmark(name)
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            print(f"{name:<18} skipped: {exc}")
            continue
        t = time.perf_counter()
        analyze_all_noise(bench)
        first = time.perf_counter() - t
        warm = best_of(lambda b=bench: analyze_all_noise(b))
        land = finite_landscape(bench, noise="mean")
        t_ex = best_of(lambda land=land: exhaustive_analysis(land))
        ex = exhaustive_analysis(land)
        t_walk = best_of(lambda ex=ex: autocorrelation(ex.landscape))
        t_lon = best_of(lambda ex=ex: local_optima_network(ex))
        modes = len(noise_modes(bench))
        print(f"{name:<18} {bench.size:>7,} {modes:>5} {first:>7.2f}s {warm:>7.2f}s   "
              f"      {t_ex * 1e3:>6.0f}ms {t_walk * 1e3:>6.0f}ms {t_lon * 1e3:>6.0f}ms")


if __name__ == "__main__":
    main()
