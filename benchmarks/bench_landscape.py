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

Then the cold start of one table (``--cold``, default nb201-cifar10): the
neighbour-row matrix from the space's vectorised ``neighbour_indices`` against
the row-by-row loop over ``space.neighbours`` (the ratio), the exhaustive
analysis of the mean landscape on a cold neighbour cache (target <= 0.06 s on
NB201), and the whole process ``archscape landscape BENCH --noise mean --json``
(target <= 0.6 s; best of 3 fresh processes).

Usage: python benchmarks/bench_landscape.py [--bench NAME ...] [--cores 2] [--cold NAME] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
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
    parser.add_argument("--cold", default="nb201-cifar10", help="the table whose cold start is timed")
    parser.add_argument("--quick", action="store_true", help="a smoke run: the cold start and nas-bench-macro only")
    args = parser.parse_args()
    repeats = 3
    if args.quick:
        args.bench, repeats = ["nas-bench-macro"], 1
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
        warm = best_of(lambda b=bench: analyze_all_noise(b), repeats)
        land = finite_landscape(bench, noise="mean")
        t_ex = best_of(lambda land=land: exhaustive_analysis(land), repeats)
        ex = exhaustive_analysis(land)
        t_walk = best_of(lambda ex=ex: autocorrelation(ex.landscape), repeats)
        t_lon = best_of(lambda ex=ex: local_optima_network(ex), repeats)
        modes = len(noise_modes(bench))
        print(f"{name:<18} {bench.size:>7,} {modes:>5} {first:>7.2f}s {warm:>7.2f}s   "
              f"      {t_ex * 1e3:>6.0f}ms {t_walk * 1e3:>6.0f}ms {t_lon * 1e3:>6.0f}ms")
    cold_start(args.cold, repeats)


def cold_start(name: str, repeats: int) -> None:
    from archscape import load_benchmark
    from archscape.landscape import table as landscape_table
    from archscape.landscape.exhaustive import exhaustive_analysis

    try:
        bench = load_benchmark(name)
    except Exception as exc:  # noqa: BLE001 - data not here
        print(f"cold start of {name} skipped: {exc}")
        return

    def cold_analysis() -> None:
        landscape_table._NEIGHBOURS.clear()  # a cold neighbour cache, as in a fresh process
        exhaustive_analysis(landscape_table.finite_landscape(bench, noise="mean"))

    def cold_rows() -> None:
        landscape_table._NEIGHBOURS.clear()
        landscape_table.neighbour_rows(bench)

    t_fast = best_of(cold_rows, repeats)
    t_loop = best_of(lambda: landscape_table.neighbour_rows_by_loop(bench), repeats)
    t_cold = best_of(cold_analysis, repeats)
    print(f"\ncold start of {name}:")
    print(f"neighbour rows, space.neighbour_indices     {t_fast:8.4f} s")
    print(f"neighbour rows, loop over space.neighbours  {t_loop:8.4f} s   ratio loop / vectorised {t_loop / t_fast:6.1f}x")
    print(f"exhaustive analysis (mean), cold neighbours {t_cold:8.4f} s   (target <= 0.06 s on NB201)")
    cmd = [sys.executable, "-m", "archscape.cli", "landscape", name, "--noise", "mean", "--json"]
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        runs.append(time.perf_counter() - t)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd[2:])} failed: {proc.stderr.strip().splitlines()[-1:]}")
    print(f"whole process: archscape landscape {name} --noise mean --json  {min(runs):6.2f} s   (target <= 0.6 s)")


if __name__ == "__main__":
    main()
