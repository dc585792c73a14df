"""NAS-Bench-Graph tables: 26,206 GNNs on nine node-classification data sets.

The optional extra ``graph`` installs the PyPI package ``nas-bench-graph``,
whose ``light/<data set>.bench`` files (registry entries
``nas-bench-graph-<data set>``) are pickled dicts: the package's
``Arch.valid_hash()`` of an architecture -> ``valid_perf``, ``perf`` (test),
``latency`` (seconds) and ``para`` (parameters, millions).  Each holds one
result per architecture, no training time and no per-epoch values (those
are in the full benchmark on figshare, not read here), so every query costs 0
simulated seconds, there is one "seed" and one fidelity level (1: the data
set's full training run; it is not an epoch count).

The key of an architecture is five decimal digits: the index of its tree
shape in :data:`~archscape.spaces.graph.PATTERNS`, then the index in the
nine-op list :data:`~archscape.spaces.graph.OPS` of each node's operation.
The ogbn-proteins file uses the same nine-op digits (the package's
``hash_arch(use_proteins=True)`` base-6 variant is not what it stores) over
the 2,021 architectures built from its five operations.

Rows follow the space's index, which is also the order of every file.
"""

from __future__ import annotations

import pickle
from functools import lru_cache

import numpy as np

from archscape.benchmarks.table import Table, TableBenchmark
from archscape.data import registry
from archscape.data.converted import load_or_build
from archscape.errors import DataError, InvalidArchitecture, unknown
from archscape.spaces.graph import N_NODES, OPS, PATTERNS, GraphProteinsSpace, GraphSpace

#: data set -> its usual name
DATASETS = {
    "cora": "Cora",
    "citeseer": "CiteSeer",
    "pubmed": "PubMed",
    "cs": "Coauthor-CS",
    "physics": "Coauthor-Physics",
    "photo": "Amazon-Photo",
    "computers": "Amazon-Computers",
    "arxiv": "ogbn-arxiv",
    "proteins": "ogbn-proteins",
}
#: the one fidelity level of the light tables: the full training run
FULL_TRAINING = 1
_SPACE = GraphSpace()
_PROTEINS_SPACE = GraphProteinsSpace()


def space(dataset: str = "cora") -> GraphSpace:
    """The shared space of ``dataset`` (``graph-proteins`` for proteins, else ``graph``)."""
    return _PROTEINS_SPACE if dataset == "proteins" else _SPACE


def file_key(space: GraphSpace, genotype) -> int:
    """Key of ``genotype``'s architecture in the NAS-Bench-Graph files (the package's ``valid_hash``)."""
    g = space.canonical(genotype)
    key = PATTERNS.index(g[:N_NODES])
    for op in g[N_NODES:]:
        key = key * 10 + OPS.index(space.ops[op])
    return key


def genotype_of_key(space: GraphSpace, key: int) -> tuple[int, ...]:
    """The canonical genotype stored under ``key``; :class:`DataError` when no architecture of ``space`` has it."""
    if not isinstance(key, (int, np.integer)) or not 0 <= key < 9 * 10**N_NODES:
        raise DataError(f"{key!r} is not a NAS-Bench-Graph key (five decimal digits)")
    digits = [int(d) for d in f"{int(key):05d}"]
    try:
        ops = tuple(space.ops.index(OPS[d]) for d in digits[1:])
    except ValueError:
        raise DataError(f"NAS-Bench-Graph key {key} uses an operation outside {space.name}") from None
    g = PATTERNS[digits[0]] + ops
    try:
        canonical = space.canonical(g)
    except InvalidArchitecture as exc:  # the all-skip network
        raise DataError(f"NAS-Bench-Graph key {key}: {exc}") from None
    if canonical != g:
        raise DataError(f"NAS-Bench-Graph key {key} is not an architecture in canonical form")
    return g


@lru_cache(maxsize=None)
def _rows_by_key(space_name: str) -> dict[int, int]:
    sp = _PROTEINS_SPACE if space_name == _PROTEINS_SPACE.name else _SPACE
    return {file_key(sp, g): row for row, g in enumerate(sp.enumerate())}


def _read_bench(dataset: str) -> dict:
    file = registry.path(f"nas-bench-graph-{dataset}")
    try:
        with open(file, "rb") as f:
            table = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise DataError(f"cannot read NAS-Bench-Graph table {file}: {exc}") from None
    if not isinstance(table, dict):
        raise DataError(f"{file} is not a NAS-Bench-Graph table (a dict of architectures)")
    return table


def _arrays(dataset: str) -> dict[str, np.ndarray]:
    def build() -> dict[str, np.ndarray]:
        table = _read_bench(dataset)
        sp = space(dataset)
        if len(table) != sp.size:
            raise DataError(f"the NAS-Bench-Graph {dataset} table has {len(table)} entries, expected {sp.size}")
        columns = {m: np.full(sp.size, np.nan) for m in ("valid_perf", "perf", "latency", "para")}
        rows = _rows_by_key(sp.name)
        seen = np.zeros(sp.size, dtype=bool)
        for key, rec in table.items():
            row = rows.get(key) if isinstance(key, int) else None
            if row is None:
                raise DataError(f"NAS-Bench-Graph {dataset} key {key!r} is no architecture of space {sp.name}")
            try:
                for m, col in columns.items():
                    col[row] = float(rec[m])
            except (KeyError, TypeError, ValueError) as exc:
                raise DataError(f"malformed NAS-Bench-Graph {dataset} entry {key}: {exc!r}") from None
            seen[row] = True
        if not seen.all():
            raise DataError(f"the NAS-Bench-Graph {dataset} table lacks {int((~seen).sum())} architectures")
        return {
            "val_acc": columns["valid_perf"] * 100,
            "test_acc": columns["perf"] * 100,
            "latency": columns["latency"],
            "params": columns["para"],
        }

    return load_or_build(f"nas-bench-graph-{dataset}", [f"nas-bench-graph-{dataset}"], build)


@lru_cache(maxsize=None)
def _tables(dataset: str) -> dict[int, Table]:
    arrays = _arrays(dataset)
    n = len(arrays["val_acc"])
    return {FULL_TRAINING: Table(arrays, n_seeds=np.ones(n, dtype=np.int64), cost=None)}


def load(dataset: str) -> TableBenchmark:
    """A fresh NAS-Bench-Graph benchmark of ``dataset`` (see :data:`DATASETS`)."""
    if dataset not in DATASETS:
        raise unknown("NAS-Bench-Graph data set", dataset, DATASETS)
    sp = space(dataset)
    score = "ROC-AUC x 100 (the ogbn-proteins metric)" if dataset == "proteins" else "accuracy"
    return TableBenchmark(
        f"nas-bench-graph-{dataset}",
        sp,
        _tables(dataset),
        objective="val_acc",
        report_metric="test_acc",
        default_fidelity=FULL_TRAINING,
        description=(
            f"NAS-Bench-Graph {DATASETS[dataset]} node classification: {sp.size:,} GNN architectures "
            f"(space {sp.name}), one trained result each; val/test {score}, latency (s), params (M); "
            "no training time recorded (cost 0)"
        ),
    )


__all__ = ["DATASETS", "FULL_TRAINING", "file_key", "genotype_of_key", "load", "space"]
