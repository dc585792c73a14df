"""Speed of one predictor round: fit on the told architectures, then score a candidate pool.

Target: one round of each vector predictor (mlp, gp, rf, lgbm) under 1 s on 2 cores.

* NB201: fit on 100 and on 300 cells of the CIFAR-10 table, then predict all
  15,625 cells (mean and std where the predictor has one);
* DARTS: fit on 100 and 300 random genotypes valued by a fixed synthetic
  function, then predict 10^5 random genotypes.

Each line is the median over ``--repeats`` rounds of the fit, the predict
and their sum, each round a fresh predictor (so encodings are computed
afresh, as in a search whose pool changes every round) after one untimed
warm-up round (imports, torch start-up).  The graph network (gnn) is timed
too; it is the slow one.  A line per space gives the time the space alone
takes to encode the pool (inside every predict).  Prints figures, asserts nothing.

Usage: python benchmarks/bench_predictors.py [--predictor NAME ...] [--space nb201|darts] [--repeats 3] [--darts-candidates 100000] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time


def synthetic_darts_values(space, genotypes):
    """A fixed smooth function of the op counts of both cells (stands in for a surrogate benchmark)."""
    import numpy as np

    counts = space.encode_many(genotypes, "opcount")
    weights = np.random.default_rng(301).normal(size=counts.shape[1])
    return 94.0 + np.tanh(counts @ weights / 4.0)


def time_rounds(name: str, space, train, values, pool, repeats: int) -> tuple[float, float]:
    import numpy as np

    from archscape.predictors import make_predictor

    fits, predicts = [], []
    for r in range(repeats + 1):
        predictor = make_predictor(name).setup(space, np.random.default_rng(r))
        t0 = time.perf_counter()
        predictor.fit(train, values)
        t1 = time.perf_counter()
        predictor.predict(pool)
        t2 = time.perf_counter()
        if r:  # round 0 warms up
            fits.append(t1 - t0)
            predicts.append(t2 - t1)
    return statistics.median(fits), statistics.median(predicts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictor", action="append", help="predictor name (repeatable; default: all registered)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--darts-candidates", type=int, default=100_000)
    parser.add_argument("--space", action="append", choices=("nb201", "darts"), help="default: both")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: one repeat, 100 told cells, 2,000 DARTS candidates, the vector predictors")
    args = parser.parse_args()
    sizes = (100, 300)
    if args.quick:
        args.repeats, args.darts_candidates, sizes = 1, 2_000, (100,)

    import numpy as np
    from threadpoolctl import threadpool_info

    import archscape
    from archscape.predictors import predictor_names
    from archscape.spaces import get_space

    names = args.predictor or predictor_names()
    if args.quick and not args.predictor:
        names = [n for n in names if n != "gnn"]  # the graph network trains for seconds
    blas = ", ".join(f"{i['internal_api']}:{i['num_threads']}" for i in threadpool_info())
    print(f"thread pools: {blas}")
    bench = archscape.load_benchmark("nb201-cifar10")
    nb201 = bench.space
    cells = list(nb201.enumerate())
    acc = bench.values()
    darts = get_space("darts")
    rng = np.random.default_rng(0)
    darts_pool = [darts.sample(rng) for _ in range(args.darts_candidates)]
    darts_train = [darts.sample(rng) for _ in range(300)]
    darts_values = synthetic_darts_values(darts, darts_train)
    print(f"{'space':<6} {'predictor':<9} {'train':>5} {'pool':>8} {'fit s':>7} {'predict s':>9} {'round s':>8}")
    for space_name, space, train, values, pool in (
        ("nb201", nb201, None, None, cells),
        ("darts", darts, darts_train, darts_values, darts_pool),
    ):
        if args.space and space_name not in args.space:
            continue
        # what the space itself spends encoding the pool (part of every predict above it)
        for enc in ("onehot", "path") if space_name == "nb201" else ("onehot",):
            t0 = time.perf_counter()
            space.encode_many(pool, enc)
            label = f"(the space's {enc} encoding of the pool)"
            print(f"{space_name:<6} {label:<42} {time.perf_counter() - t0:>8.3f}")
        for name in names:
            for n in sizes:
                if space_name == "nb201":
                    rows = np.random.default_rng(n).choice(len(cells), size=n, replace=False)
                    g, y = [cells[i] for i in rows], acc[rows]
                else:
                    g, y = train[:n], values[:n]
                try:
                    fit, predict = time_rounds(name, space, g, y, pool, args.repeats)
                except archscape.errors.MissingExtra as exc:
                    print(f"{space_name:<6} {name:<9} skipped: {exc}")
                    break
                print(f"{space_name:<6} {name:<9} {n:>5} {len(pool):>8,} {fit:>7.3f} {predict:>9.3f} {fit + predict:>8.3f}",
                      flush=True)


if __name__ == "__main__":
    main()
