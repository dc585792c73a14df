"""Query throughput of ``nb301`` (the YAHPO Gym v2 surrogate of NAS-Bench-301), one ONNX Runtime thread.

Single: ``bench.query(genotype)`` one by one (validation, encoding, one
session run each).  Batched: ``bench.query_batch`` on batches of
``--batch`` genotypes (default 10,000; numpy encoding, one session run per
batch), timed from genotypes to metric arrays, and split into encoding and
network time.  Also the time to load the benchmark (files and session) and
the ratio batched / single.  Prints figures, asserts nothing.

Needs the ``onnx`` extra and the nb301 files in ``$ARCHSCAPE_DATA``
(``archscape data fetch nb301-yahpo-model-v2 nb301-yahpo-encoding nb301-yahpo-config-space --from DIR``).

Also the raw network: one ``session.run`` on inputs encoded beforehand, the
floor of any batched query; ``query_batch`` from genotype tuples is printed
as a ratio of it (target >= 0.95x).  Without the files or onnxruntime it
prints a note and exits 0.

Usage: python benchmarks/bench_nb301.py [--seconds 3] [--batch 10000] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent on single queries")
    parser.add_argument("--batch", type=int, default=10_000, help="genotypes per batch")
    parser.add_argument("--repeats", type=int, default=5, help="batches timed (the median is shown)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 0.2 s of single queries, batches of 500")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.batch, args.repeats = 0.2, 500, 2

    import importlib.util

    import numpy as np

    from archscape.benchmarks import BENCHMARKS, load_benchmark
    from archscape.benchmarks.nb301 import session
    from archscape.data import registry

    missing = [d for d in BENCHMARKS["nb301"].data if not registry.is_available(d)]
    if missing or importlib.util.find_spec("onnxruntime") is None:
        why = f"data not available: {', '.join(missing)}" if missing else "onnxruntime is not installed"
        print(f"nb301 skipped ({why})")
        return

    start = time.perf_counter()
    bench = load_benchmark("nb301")
    load_s = time.perf_counter() - start
    space = bench.space
    rng = np.random.default_rng(0)
    genotypes = [space.sample(rng) for _ in range(args.batch)]
    bench.query(genotypes[0])  # warm-up: the session's first run allocates

    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        for g in genotypes[n % args.batch : n % args.batch + 100]:
            bench.query(g)
        n += 100
    single = n / (time.perf_counter() - start)

    def timed(fn) -> float:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    as_array = np.array(genotypes)
    batch_s = timed(lambda: bench.query_batch(genotypes))
    array_s = timed(lambda: bench.query_batch(as_array))
    encode_s = timed(lambda: bench.surrogate_inputs(genotypes))
    x_cat = bench.surrogate_inputs(genotypes)
    epochs = np.full(len(x_cat), bench.default_fidelity)
    network_s = timed(lambda: bench.predict(x_cat, epochs))
    sess, x_cont = session(), np.full((len(x_cat), 1), bench.default_fidelity, dtype=np.float32)
    raw_s = timed(lambda: sess.run(None, {"x_cat": x_cat, "x_cont": x_cont}))

    print(f"nb301 (YAHPO Gym v2 surrogate, onnxruntime, 1 intra-op thread); load {load_s * 1e3:.0f} ms")
    print(f"{'path':<40} {'queries/s':>12} {'vs single':>10}")
    print(f"{'single query':<40} {single:>12,.0f} {1.0:>10.1f}")
    for label, seconds in ((f"batched {args.batch:,}, genotype tuples", batch_s),
                           (f"batched {args.batch:,}, int array [n,2,8,2]", array_s)):
        rate = args.batch / seconds
        print(f"{label:<40} {rate:>12,.0f} {rate / single:>10.1f}")
    print(f"{'raw onnxruntime session.run (encoded)':<40} {args.batch / raw_s:>12,.0f} {args.batch / raw_s / single:>10.1f}")
    print(f"  of a batch: encoding {encode_s * 1e3:.1f} ms (tuples), network {network_s * 1e3:.1f} ms")
    print(f"query_batch(genotype tuples) vs raw onnxruntime: {raw_s / batch_s:.2f}x (target >= 0.95x)")


if __name__ == "__main__":
    main()
