"""Reference ELA feature values from pflacco 1.2.2, for tests/test_ela.py.

Run it in a throwaway virtual environment that has pflacco (numpy < 2), never
in archscape's own environment: ``scripts/make_pflacco_fixture.sh`` builds
that environment and runs this script.  It imports neither archscape nor
anything that needs numpy 2.

Samples (fixed, so that archscape can recompute them):

* BBOB f1, f3, f7, f15, f21 (instance 1, via ``ioh``) in 2, 5 and 10
  dimensions, 50 d points uniform in [-5, 5]^d from ``numpy.random.default_rng``
  seeded per problem, rounded to 4 decimals (so that the JSON stays small and
  exact); ``X`` and ``y`` are stored;
* Learning-from-NAS data (``--lfnas DIR``, the folder with the published
  CSV files): the first 200 rows of the broad-space MNIST table and the first
  400 of the narrow-space CIFAR-10 table, mapped to [-5, 5] with the
  published space bounds; only the row count and a checksum of ``X`` and ``y``
  are stored, and the test maps the rows again with ``archscape.landscape.lfnas``.

Every feature set is computed with its pflacco defaults, except
``dist_tie_breaker='first'`` for nbc (no exact ties occur in these samples) and
``seed=0`` for ic.  A set that raises is stored as its error message.

``--time FIXTURE`` instead times pflacco (best of ``--repeat``) on the samples
of an existing fixture, plus the first 800 rows of the MNIST table (the size of
one Learning-from-NAS bootstrap sample), and prints JSON (used by
benchmarks/bench_ela.py).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

FUNCTIONS = (1, 3, 7, 15, 21)
DIMS = (2, 5, 10)
SETS = ("ela_meta", "ela_distr", "ela_level", "nbc", "disp", "ic", "pca")

# the published bounds of the two CNN spaces of "Learning from NAS" (prefix -> (low, high))
BROAD = {"filters_": (10, 600), "k_": (1, 8), "s_": (1, 5), "dense_size_": (0, 2000),
         "dropout_": (1e-5, 0.9), "lr": (1e-5, 1e-2), "l2": (1e-5, 1e-2)}
NARROW = {"filters_": (250, 400), "k_": (3, 7), "s_": (2, 5), "dense_size_": (500, 1500),
          "dropout_": (0.1, 0.4), "lr": (4e-3, 9e-3), "l2": (5e-4, 3e-3)}
DROP = {"stack_0", "stack_1", "stack_2", "filters_1", "filters_3", "filters_5",
        "activation", "activ_dense", "max_pooling", "perf", "time"}
NAS_SAMPLES = (("lfnas-mnist", "mnist-results.csv", BROAD, 200), ("lfnas-cifar-narrow", "cifar10-results-narrow.csv", NARROW, 400))


def lfnas_sample(path: Path, bounds: dict, rows: int):
    with open(path, newline="") as f:
        table = list(csv.DictReader(f))[:rows]
    cols = [c for c in table[0] if c not in DROP]
    X = np.empty((len(table), len(cols)))
    for j, c in enumerate(cols):
        prefix = next(p for p in bounds if c.startswith(p))
        lo, hi = bounds[prefix]
        X[:, j] = [10 * (float(r[c]) - lo) / (hi - lo) - 5 for r in table]
    y = np.array([float(r["perf"]) for r in table])
    return cols, X, y


def bbob_sample(fid: int, dim: int):
    import ioh

    rng = np.random.default_rng(1000 * fid + dim)
    X = np.round(rng.uniform(-5, 5, size=(50 * dim, dim)), 4)
    problem = ioh.get_problem(fid, 1, dim)
    y = np.array([problem(list(x)) for x in X], dtype=float)
    return X, y


def pflacco_sets(X: np.ndarray, y: np.ndarray, sets=SETS) -> tuple[dict, dict, dict]:
    from pflacco import classical_ela_features as cf

    calls = {
        "ela_meta": lambda: cf.calculate_ela_meta(X, y),
        "ela_distr": lambda: cf.calculate_ela_distribution(X, y),
        "ela_level": lambda: cf.calculate_ela_level(X, y),
        "nbc": lambda: cf.calculate_nbc(X, y, dist_tie_breaker="first"),
        "disp": lambda: cf.calculate_dispersion(X, y),
        "ic": lambda: cf.calculate_information_content(X, y, seed=0),
        "pca": lambda: cf.calculate_pca(X, y),
    }
    features, errors, seconds = {}, {}, {}
    for s in sets:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = calls[s]()
        except Exception as exc:  # noqa: BLE001 - the reference records pflacco's failures
            errors[s] = f"{type(exc).__name__}: {exc}"
            continue
        finally:
            seconds[s] = time.perf_counter() - t0
        for k, v in values.items():
            if k.endswith("costs_runtime"):
                continue
            features[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
    return features, errors, seconds


def checksum(a: np.ndarray) -> float:
    return float(np.sum(a * np.arange(1, a.size + 1).reshape(a.shape)))


def build(lfnas_dir: Path | None) -> dict:
    import importlib.metadata as md

    out = {
        "generator": "scripts/pflacco_reference.py",
        "versions": {p: md.version(p) for p in ("pflacco", "numpy", "scikit-learn", "scipy", "pandas", "ioh")},
        "settings": {"nbc": {"dist_tie_breaker": "first"}, "ic": {"seed": 0}, "other": "pflacco defaults"},
        "samples": [],
    }
    for fid in FUNCTIONS:
        for dim in DIMS:
            X, y = bbob_sample(fid, dim)
            features, errors, _ = pflacco_sets(X, y)
            out["samples"].append({
                "name": f"bbob-f{fid}-d{dim}", "kind": "bbob", "fid": fid, "instance": 1, "dim": dim,
                "X": X.tolist(), "y": y.tolist(), "features": features, "errors": errors,
            })
            print(f"bbob f{fid} d{dim}: {len(features)} features, errors: {sorted(errors)}", file=sys.stderr)
    if lfnas_dir is not None:
        for name, file, bounds, rows in NAS_SAMPLES:
            cols, X, y = lfnas_sample(lfnas_dir / file, bounds, rows)
            features, errors, _ = pflacco_sets(X, y)
            out["samples"].append({
                "name": f"{name}-first{rows}", "kind": "lfnas", "dataset": name, "rows": rows,
                "space": "cnn-broad" if bounds is BROAD else "cnn-narrow", "columns": cols,
                "X_checksum": checksum(X), "y_checksum": checksum(y), "features": features, "errors": errors,
            })
            print(f"{name}: {len(features)} features, errors: {errors}", file=sys.stderr)
    return out


#: samples timed in ``--time`` mode besides the fixture's: the Learning-from-NAS protocol size
TIMED_EXTRA = (("lfnas-mnist-first800", "lfnas-mnist", 800),)


def time_fixture(fixture: Path, lfnas_dir: Path | None, repeat: int) -> dict:
    ref = json.loads(fixture.read_text())
    files = {n: (f, b) for n, f, b, _ in NAS_SAMPLES}
    todo = []
    for s in ref["samples"]:
        if s["kind"] == "bbob":
            todo.append((s["name"], np.array(s["X"]), np.array(s["y"])))
        elif lfnas_dir is not None:
            file, bounds = files[s["dataset"]]
            todo.append((s["name"], *lfnas_sample(lfnas_dir / file, bounds, s["rows"])[1:]))
    if lfnas_dir is not None:
        for name, dataset, rows in TIMED_EXTRA:
            file, bounds = files[dataset]
            todo.append((name, *lfnas_sample(lfnas_dir / file, bounds, rows)[1:]))
    result = {}
    for name, X, y in todo:
        best, errors = None, {}
        for _ in range(repeat):
            _, errors, sec = pflacco_sets(X, y)
            best = sec if best is None else {k: min(best[k], sec[k]) for k in sec}
        result[name] = {"seconds": best, "errors": sorted(errors)}
        print(f"timed {name}", file=sys.stderr)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="fixture file to write")
    ap.add_argument("--lfnas", type=Path, help="folder with the Learning-from-NAS CSV files")
    ap.add_argument("--time", type=Path, metavar="FIXTURE", help="time pflacco on the samples of FIXTURE")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if args.time:
        print(json.dumps(time_fixture(args.time, args.lfnas, args.repeat)))
        return
    data = build(args.lfnas)
    text = json.dumps(data, separators=(",", ":"))
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
