"""NAS-Bench-101 tables: the official tfrecord (``nb101``) and NASLib's subset (``nb101-subset``).

``nb101`` reads the official ``nasbench_only108.tfrecord`` (or
``nasbench_full.tfrecord``) without TensorFlow.  Each record is the JSON list
``[module_hash, epochs, adjacency bits, "op,op,...", base64 ModelMetrics]``,
one per training run; a cell has one record per repeat (3) and epoch budget.
Per run the table keeps the final evaluation: ``val_acc``, ``test_acc``,
``train_acc`` (percent; the file stores fractions) and ``train_time`` (seconds
of training for that budget), plus ``params`` (millions).  Fidelities are the
epoch budgets in the file (108, or 4/12/36/108).  Rows follow the file's
order of first appearance; ``locate`` is a dictionary from the official hash.

``nb101-subset`` reads NASLib's ``zc_nasbench101.json``: 500 random 7x7 specs
(unpruned, as the official sampler draws them) with one 108-epoch
``val_accuracy`` each, FLOPs, parameters and zero-cost proxy scores.  The 500
specs prune to 292 distinct cells; repeated specs of one cell carry at most
three distinct accuracies, i.e. the official per-seed values, each drawn at
random.  So a row is a cell, its seeds are its distinct accuracies (1 to 3, in
file order), and its other values are averaged over its specs: zero-cost
proxies (``zc_<name>``) were recomputed per spec with a fresh initialisation,
and FLOPs and parameters differ slightly between isomorphic specs (up to
1.4 % in this file) because NAS-Bench-101 hands out the spare output channels
in vertex order.  The file has no training time: queries cost 0 simulated
seconds.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from array import array
from functools import lru_cache
from pathlib import Path

import numpy as np

from archscape.benchmarks.table import Table, TableBenchmark
from archscape.benchmarks.tfrecord import TFRecordFile, WireFormatError, as_double, decode_message
from archscape.data import registry
from archscape.data.converted import load_or_build
from archscape.errors import ArchscapeError, DataError, NotInTable
from archscape.spaces.nb101 import MAX_VERTICES, N_CELLS, OPS, NB101Cell, NB101Space
from archscape.spaces.nb101 import space as _shared_space

_SPACE = _shared_space()
_OP_INDEX = {name: i for i, name in enumerate(OPS)}
#: per-run metrics of the tfrecord table: (table name, EvaluationData field, scale)
_RUN_METRICS = (("val_acc", 4, 100.0), ("test_acc", 5, 100.0), ("train_acc", 3, 100.0), ("train_time", 2, 1.0))
#: rows whose stored hash is recomputed on conversion, a cheap check of the file and of our hash
_HASH_SPOT_CHECKS = 16


def space() -> NB101Space:
    """The shared NB101 space."""
    return _SPACE


# ------------------------------------------------------------------ cell arrays
def _cell_arrays(cells: list[NB101Cell]) -> dict[str, np.ndarray]:
    """Cells as flat arrays: vertex count, adjacency bits (bit i*n+j), ops padded with -1."""
    n_vertices = np.array([c.n_vertices for c in cells], dtype=np.int8)
    adjacency = np.zeros(len(cells), dtype=np.int64)
    ops = np.full((len(cells), MAX_VERTICES), -1, dtype=np.int8)
    for r, c in enumerate(cells):
        n = c.n_vertices
        adjacency[r] = sum(1 << (i * n + j) for i in range(n) for j in range(n) if c.matrix[i][j])
        ops[r, :n] = c.ops
    return {"n_vertices": n_vertices, "adjacency": adjacency, "ops": ops}


def _cell_of(arrays: dict[str, np.ndarray], row: int) -> NB101Cell:
    n = int(arrays["n_vertices"][row])
    bits = int(arrays["adjacency"][row])
    matrix = tuple(tuple(bits >> (i * n + j) & 1 for j in range(n)) for i in range(n))
    return NB101Cell(matrix, tuple(int(o) for o in arrays["ops"][row, :n]))


class _Rows:
    """Hash -> row lookup and row -> canonical genotype, shared by the benchmark objects of one table."""

    def __init__(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        self.name = name
        self.arrays = arrays
        self.index = {h: r for r, h in enumerate(arrays["hash"].astype("U32").tolist())}
        self._genotypes: dict[int, NB101Cell] = {}

    def locate(self, genotype: NB101Cell) -> int:
        row = self.index.get(_SPACE.key(genotype))
        if row is None:
            raise NotInTable(
                f"{_SPACE.format(genotype)} is a valid NAS-Bench-101 cell but not in {self.name}, "
                f"which holds {len(self.index):,} of the {N_CELLS:,} cells"
            )
        return row

    def genotype_of(self, row: int) -> NB101Cell:
        g = self._genotypes.get(row)
        if g is None:
            g = self._genotypes[row] = _SPACE.canonical(_cell_of(self.arrays, row))
        return g


# ------------------------------------------------------------------ the subset
def _read_subset() -> dict[str, np.ndarray]:
    file = registry.path("nb101-subset")
    try:
        with open(file, encoding="utf-8") as f:
            specs = json.load(f)["nasbench101"]["cifar10"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read the NAS-Bench-101 subset {file}: {exc}") from None
    if not isinstance(specs, dict) or not specs:
        raise DataError(f"{file} holds no NAS-Bench-101 cells under nasbench101/cifar10")
    groups: dict[str, dict] = {}
    for text, values in specs.items():
        cell = _SPACE.canonical(_SPACE.parse(text))
        group = groups.setdefault(_SPACE.key(cell), {"cell": cell, "runs": []})
        group["runs"].append(values)
    proxies = sorted(k for k in next(iter(specs.values())) if k not in ("val_accuracy", "flops", "params"))
    n = len(groups)
    val = np.full((n, 3), np.nan)
    n_seeds = np.zeros(n, dtype=np.int64)
    fixed = {"flops": np.empty(n), "params": np.empty(n)}
    zc = {p: np.empty(n) for p in proxies}
    for r, (key, group) in enumerate(groups.items()):
        runs = group["runs"]
        try:
            seeds = list(dict.fromkeys(float(v["val_accuracy"]) for v in runs))
            for m, col in fixed.items():
                col[r] = float(np.mean([float(v[m]) for v in runs]))
            for p in proxies:
                zc[p][r] = float(np.mean([float(v[p]) for v in runs]))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{file}: an entry of cell {key} lacks a number ({exc})") from None
        if len(seeds) > 3:
            raise DataError(f"{file}: cell {key} has {len(seeds)} distinct accuracies; NAS-Bench-101 records 3 seeds")
        val[r, : len(seeds)] = seeds
        n_seeds[r] = len(seeds)
    arrays = _cell_arrays([g["cell"] for g in groups.values()])
    arrays.update(
        hash=np.array(list(groups), dtype="S32"),
        val_acc=val,
        n_seeds=n_seeds,
        **fixed,
        **{f"zc_{p}": zc[p] for p in proxies},
    )
    return arrays


@lru_cache(maxsize=None)
def _subset() -> tuple[dict[int, Table], _Rows]:
    arrays = load_or_build("nb101-subset", ["nb101-subset"], _read_subset)
    metrics = ["val_acc", "flops", "params"] + sorted(k for k in arrays if k.startswith("zc_"))
    table = Table({m: arrays[m] for m in metrics}, n_seeds=arrays["n_seeds"], cost=None)
    return {108: table}, _Rows("nb101-subset", arrays)


def load_subset() -> TableBenchmark:
    """NASLib's NAS-Bench-101 subset with zero-cost proxies (a fresh benchmark object)."""
    tables, rows = _subset()
    return TableBenchmark(
        "nb101-subset",
        _SPACE,
        tables,
        locate=rows.locate,
        genotype_of=rows.genotype_of,
        objective="val_acc",
        default_fidelity=108,
        covers_space=False,  # optimizers search its cells (SubsetSpace), not all of NB101
        description=(
            f"NAS-Bench-101 CIFAR-10, {len(rows.index)} cells from NASLib's zero-cost subset: "
            "108-epoch val accuracy (1-3 seeds), FLOPs, params, zc_* proxies; no training time (cost 0)"
        ),
    )


# ------------------------------------------------------------------ the tfrecord
def _run_metrics(raw: bytes) -> tuple[int, tuple[float, ...]]:
    """(trainable parameters, final-evaluation metrics in ``_RUN_METRICS`` order) of one ModelMetrics."""
    message = decode_message(raw)
    evaluations = message.get(1)
    if not evaluations:
        raise WireFormatError("no evaluation_data")
    final = decode_message(evaluations[-1])
    values = []
    for name, field, scale in _RUN_METRICS:
        if field not in final:
            raise WireFormatError(f"the final evaluation has no {name}")
        values.append(as_double(final[field][-1]) * scale)
    params = message.get(2)
    if not params:
        raise WireFormatError("no trainable_parameters")
    return params[-1], tuple(values)


def _record_error(path: Path, k: int, what: str) -> DataError:
    return DataError(f"{path}: record {k} is not a NAS-Bench-101 row ({what})")


def convert_tfrecord(path: str | os.PathLike, *, check_data: bool = True) -> dict[str, np.ndarray]:
    """Parse an official NAS-Bench-101 tfrecord into flat arrays (no cache; see :func:`load_tfrecord`).

    Raises :class:`DataError` naming the file and the record for a truncated,
    corrupt or foreign file.
    """
    path = Path(path)
    rows: dict[str, int] = {}
    cells: list[tuple[int, int, list[int]]] = []
    params: list[int] = []
    first_record: list[int] = []
    # One entry per run (record), kept compact: 1.3 million runs in the official file.
    run_row, run_epochs, run_values = array("q"), array("q"), array("d")
    loads, b64 = json.loads, base64.b64decode
    with TFRecordFile(path, check_data=check_data) as records:
        if not len(records):
            raise DataError(f"{path} holds no records; expected the NAS-Bench-101 tfrecord")
        for k, record in enumerate(records):
            try:
                module_hash, epochs, raw_adjacency, raw_ops, raw_metrics = loads(record)
                n_params, values = _run_metrics(b64(raw_metrics, validate=True))
            except (ValueError, TypeError, binascii.Error) as exc:
                raise _record_error(path, k, str(exc) or type(exc).__name__) from None
            row = rows.get(module_hash)
            if row is None:
                if not (isinstance(module_hash, str) and len(module_hash) == 32 and not module_hash.strip("0123456789abcdef")):
                    raise _record_error(path, k, f"module hash {module_hash!r} is not 32 hex digits")
                row = rows[module_hash] = len(rows)
                cells.append(_stored_cell(path, k, raw_adjacency, raw_ops))
                params.append(n_params)
                first_record.append(k)
            if type(epochs) is not int or epochs <= 0:
                raise _record_error(path, k, f"epochs {epochs!r} is not a positive integer")
            run_row.append(row)
            run_epochs.append(epochs)
            run_values.extend(values)
    n = len(rows)
    arrays = {
        "hash": np.array(list(rows), dtype="S32"),
        "n_vertices": np.array([c[0] for c in cells], dtype=np.int8),
        "adjacency": np.array([c[1] for c in cells], dtype=np.int64),
        "ops": np.full((n, MAX_VERTICES), -1, dtype=np.int8),
        "params": np.array(params, dtype=np.float64) / 1e6,
    }
    for r, c in enumerate(cells):
        arrays["ops"][r, : c[0]] = c[2]
    all_rows = np.frombuffer(run_row, dtype=np.int64)
    all_epochs = np.frombuffer(run_epochs, dtype=np.int64)
    all_values = np.frombuffer(run_values, dtype=np.float64).reshape(-1, len(_RUN_METRICS))
    budgets = np.unique(all_epochs)
    arrays["epochs"] = budgets
    for epochs in budgets.tolist():
        pick = np.flatnonzero(all_epochs == epochs)
        r = all_rows[pick]
        counts = np.bincount(r, minlength=n)
        if counts.min() == 0:
            missing = list(rows)[int(np.argmin(counts))]
            raise DataError(f"{path}: cell {missing} has no run at {epochs} epochs while others do; the file is incomplete")
        # The seed slot of a run is its rank among the runs of its cell, in file order.
        order = np.argsort(r, kind="stable")
        group_start = np.concatenate(([0], np.cumsum(counts)[:-1]))
        slot = np.empty_like(r)
        slot[order] = np.arange(len(r)) - group_start[r[order]]
        for m, (name, _, _) in enumerate(_RUN_METRICS):
            col = np.full((n, int(counts.max())), np.nan)
            col[r, slot] = all_values[pick, m]
            arrays[f"{name}__{epochs}"] = col
        arrays[f"n_seeds__{epochs}"] = counts
    _spot_check_hashes(path, arrays, first_record)
    return arrays


def _stored_cell(path: Path, k: int, raw_adjacency: object, raw_ops: object) -> tuple[int, int, list[int]]:
    if not isinstance(raw_adjacency, str) or not isinstance(raw_ops, str):
        raise _record_error(path, k, "adjacency and operations must be strings")
    names = raw_ops.split(",")
    n = len(names)
    if len(raw_adjacency) != n * n or raw_adjacency.strip("01"):
        raise _record_error(path, k, f"adjacency {raw_adjacency!r} is not {n}x{n} bits for {n} operations")
    try:
        op_idx = [_OP_INDEX[name] for name in names]
    except KeyError as exc:
        raise _record_error(path, k, f"unknown operation {exc.args[0]!r}") from None
    return n, int(raw_adjacency[::-1], 2), op_idx


def _spot_check_hashes(path: Path, arrays: dict[str, np.ndarray], first_record: list[int]) -> None:
    """Recompute the hash of a few rows: catches a foreign file (and would catch a wrong hash function)."""
    n = len(first_record)
    hashes = arrays["hash"]
    for row in sorted(set(np.linspace(0, n - 1, min(n, _HASH_SPOT_CHECKS)).astype(int).tolist())):
        try:
            got = _SPACE.key(_cell_of(arrays, row))
        except ArchscapeError as exc:  # an invalid cell
            raise _record_error(path, first_record[row], str(exc)) from None
        expected = hashes[row].decode()
        if got != expected:
            raise _record_error(path, first_record[row], f"its cell hashes to {got}, but the record says {expected}")


def _tables_from(arrays: dict[str, np.ndarray], name: str) -> tuple[dict[int, Table], _Rows]:
    tables = {}
    for epochs in arrays["epochs"].tolist():
        values = {m: arrays[f"{m}__{epochs}"] for m, _, _ in _RUN_METRICS}
        values["params"] = arrays["params"]
        tables[epochs] = Table(values, n_seeds=arrays[f"n_seeds__{epochs}"], cost="train_time")
    return tables, _Rows(name, arrays)


def _benchmark(name: str, tables: dict[int, Table], rows: _Rows, source: str) -> TableBenchmark:
    return TableBenchmark(
        name,
        _SPACE,
        tables,
        locate=rows.locate,
        genotype_of=rows.genotype_of,
        objective="val_acc",
        report_metric="test_acc",
        default_fidelity=max(tables),
        description=(
            f"NAS-Bench-101 CIFAR-10 ({len(rows.index):,} cells, epochs {', '.join(map(str, tables))}, "
            f"up to 3 seeds) from {source}"
        ),
    )


def load_tfrecord(path: str | os.PathLike, *, name: str = "nb101") -> TableBenchmark:
    """A benchmark read straight from an official NAS-Bench-101 tfrecord at ``path`` (parsed on every call).

    For repeated use, put the file in the data cache (``archscape data fetch
    nb101-tfrecord --from PATH``) and use ``load()``, which converts it once.
    """
    tables, rows = _tables_from(convert_tfrecord(path), name)
    return _benchmark(name, tables, rows, str(path))


@lru_cache(maxsize=None)
def _official() -> tuple[dict[int, Table], _Rows]:
    arrays = load_or_build("nb101-tfrecord", ["nb101-tfrecord"], _convert_cached)
    return _tables_from(arrays, "nb101")


def _convert_cached() -> dict[str, np.ndarray]:
    # no published checksum: a damaged cached copy shows only here, so name its repair
    try:
        return convert_tfrecord(registry.path("nb101-tfrecord"))
    except DataError as exc:
        raise DataError(f"{exc}; repair: {registry.repair_command('nb101-tfrecord')}") from None


def load() -> TableBenchmark:
    """The official NAS-Bench-101 table from the data cache (converted once, then read from .npz)."""
    tables, rows = _official()
    return _benchmark("nb101", tables, rows, registry.entry("nb101-tfrecord").filename)


__all__ = ["convert_tfrecord", "load", "load_subset", "load_tfrecord", "space"]
