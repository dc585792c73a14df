"""Flat-array tabular benchmarks.

Every tabular benchmark is the same object: for each fidelity a :class:`Table`
of metric arrays of shape ``(n_rows, n_seeds)`` indexed by architecture row,
so a batch of a million queries is one fancy-indexing call per metric.  A
single query goes through pre-built Python lists instead, because indexing a
numpy array element by element from Python costs more than the whole lookup.

Seed-independent metrics (parameters, latency, ...) have one column; per-seed
metrics have one column per recorded seed, NaN where a row has fewer seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archscape.benchmarks.base import Benchmark, Evaluation, Noise, check_noise
from archscape.errors import ArchscapeError, DataError, NotInTable, unknown
from archscape.spaces.base import Genotype, SearchSpace
from archscape.util import atomic_path


@dataclass
class Table:
    """The values of one fidelity.

    ``values[m]`` has shape ``(n_rows, 1)`` or ``(n_rows, max_seeds)``;
    ``n_seeds[r]`` is how many seeds row ``r`` recorded.  ``cost`` names the
    metric that is the simulated training time (or ``None``: cost 0).
    """

    values: Mapping[str, np.ndarray]
    n_seeds: np.ndarray
    cost: str | None = "train_time"

    def __post_init__(self) -> None:
        self.values = {m: np.asarray(v, dtype=np.float64).reshape(len(v), -1) for m, v in self.values.items()}
        self.n_seeds = np.asarray(self.n_seeds, dtype=np.int64)
        n = len(self.n_seeds)
        for m, v in self.values.items():
            if v.shape[0] != n:
                raise ValueError(f"metric {m} has {v.shape[0]} rows, expected {n}")
        self.max_seeds = int(self.n_seeds.max()) if n else 0
        self.metric_names = tuple(self.values)
        # Per-metric means over the recorded seeds (NaN-padded columns ignored).
        self.means = {m: (v[:, 0].copy() if v.shape[1] == 1 else np.nanmean(v, axis=1)) for m, v in self.values.items()}
        self._mean_rows: list[dict] | None = None
        self._seed_rows: dict[int, list[dict]] = {}
        self._n_seeds_list = self.n_seeds.tolist()

    @property
    def n_rows(self) -> int:
        return len(self.n_seeds)

    # Per-row metric dicts for single queries, built on first use; a query answers a copy
    # (copying a small dict costs a sixth of building it from names and values).
    def mean_rows(self) -> list[dict]:
        """``{metric: mean over seeds}`` of every row (shared: copy before handing one out)."""
        if self._mean_rows is None:
            self._mean_rows = self._row_dicts([self.means[m].tolist() for m in self.metric_names])
        return self._mean_rows

    def seed_rows(self, seed: int) -> list[dict]:
        """``{metric: value of seed}`` of every row (shared: copy before handing one out)."""
        rows = self._seed_rows.get(seed)
        if rows is None:
            cols = []
            for m in self.metric_names:
                v = self.values[m]
                cols.append((v[:, seed] if v.shape[1] > 1 else v[:, 0]).tolist())
            rows = self._seed_rows[seed] = self._row_dicts(cols)
        return rows

    def _row_dicts(self, cols: list[list[float]]) -> list[dict]:
        names = self.metric_names
        return [dict(zip(names, values)) for values in zip(*cols)]

    def column(self, metric: str, rows: np.ndarray, seeds: np.ndarray | None) -> np.ndarray:
        if seeds is None:
            return self.means[metric].take(rows)  # take: a little faster than fancy indexing, same values
        v = self.values[metric]
        if v.shape[1] == 1:
            return v[:, 0].take(rows)
        return v[rows, seeds]


_new_tuple = tuple.__new__
_NO_EXTRA = Evaluation._field_defaults["extra"]

#: tables up to this size keep a genotype -> row dict for the single-query hot path
FAST_LOOKUP_MAX_ROWS = 100_000


class TableBenchmark(Benchmark):
    """A benchmark answered from flat arrays.

    ``locate`` maps a canonical genotype to its row (raising
    :class:`NotInTable` when absent); ``genotype_of`` maps a row back.
    """

    def __init__(
        self,
        name: str,
        space: SearchSpace,
        tables: Mapping[int, Table],
        *,
        locate: Callable[[Genotype], int] | None = None,
        genotype_of: Callable[[int], Genotype] | None = None,
        objective: str = "val_acc",
        report_metric: str | None = None,
        default_fidelity: int | None = None,
        description: str = "",
        notes: str = "",
        missing_fidelities: Mapping[int, str] | None = None,
        covers_space: bool = True,
    ) -> None:
        super().__init__()
        self.name = name
        self.space = space
        self.tables = dict(tables)
        self.fidelities = tuple(sorted(self.tables))
        self.default_fidelity = default_fidelity if default_fidelity is not None else max(self.fidelities)
        metrics: list[str] = []
        for t in self.tables.values():
            metrics += [m for m in t.metric_names if m not in metrics]
        self.metrics = tuple(metrics)
        self.objective = objective
        self.report_metric = report_metric
        self.description = description
        self.notes = notes
        #: whether row ``r`` is the space's index ``r`` (no own locate / genotype_of mapping)
        self._rows_are_indices = locate is None and genotype_of is None
        self._locate = locate or space.index
        self._genotype_at = genotype_of or space.from_index
        self._seed_rng = np.random.default_rng(0)
        self._rows_by_genotype: dict | None = None
        self._genotypes: list | None = None
        #: whether every valid architecture of the space has a row (False: a sample of cells)
        self.covers_space = covers_space
        self._search_space: SearchSpace | None = None
        #: fidelity -> registry entry that would provide it, for a helpful error
        self.missing_fidelities = dict(missing_fidelities or {})

    def check_fidelity(self, fidelity: Any) -> int | None:
        try:
            return super().check_fidelity(fidelity)
        except ArchscapeError:
            data = self.missing_fidelities.get(_as_int(fidelity))
            if data is None:
                raise
            raise DataError(
                f"fidelity {fidelity} of {self.name} needs data set {data!r}; run: archscape data fetch {data} --from PATH"
            ) from None

    # ------------------------------------------------------------ single
    def query(
        self,
        arch: Any,
        *,
        noise: Noise = "mean",
        fidelity: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> Evaluation:
        # The hot path of optimizers over small tables, inlined: a known canonical genotype at the
        # default fidelity with noise "mean" or "seed" (the same answer and the same draw as query_row).
        lookup = self._rows_by_genotype
        row = lookup.get(arch) if lookup and type(arch) is tuple else None
        if row is None or fidelity is not None or not (noise == "mean" or noise == "seed"):
            return self.query_row(self.row_of(arch), noise=noise, fidelity=fidelity, rng=rng)
        table = self.tables[self.default_fidelity]
        if noise == "mean":
            metrics = (table._mean_rows or table.mean_rows())[row].copy()
            seed = None
        else:
            seed = int((rng or self._seed_rng).random() * table._n_seeds_list[row])
            metrics = (table._seed_rows.get(seed) or table.seed_rows(seed))[row].copy()
        # tuple.__new__ skips the named tuple's Python-level __new__ (same object, a third faster)
        return _new_tuple(Evaluation, (self._genotypes[row], row, metrics, metrics[table.cost] if table.cost else 0.0,
                                       self.default_fidelity, seed, _NO_EXTRA))

    def row_of(self, arch: Any) -> int:
        """The table row of an architecture (genotype, text or index); :class:`NotInTable` if absent."""
        row = self._row_lookup().get(arch) if type(arch) is tuple else None
        return row if row is not None else self._locate(self.space.as_genotype(arch))

    def search_space(self) -> SearchSpace:
        """The space an optimizer should search: the benchmark's space, or its table cells when partial."""
        if self.covers_space:
            return self.space
        if self._search_space is None:
            from archscape.spaces.subset import SubsetSpace

            self._search_space = SubsetSpace(
                self.space, [self._genotype_at(r) for r in range(self.size)], name=f"{self.name}-cells"
            )
        return self._search_space

    def _row_lookup(self) -> dict:
        """Canonical genotype -> row for small tables: one dict lookup replaces validation."""
        lookup = self._rows_by_genotype
        if lookup is None:
            n = self.size
            lookup = {}
            if n <= FAST_LOOKUP_MAX_ROWS:
                self._genotypes = [self._genotype_at(r) for r in range(n)]
                lookup = {g: r for r, g in enumerate(self._genotypes)}
            self._rows_by_genotype = lookup
        return lookup

    def query_row(
        self,
        row: int,
        *,
        noise: Noise = "mean",
        fidelity: int | None = None,
        rng: np.random.Generator | None = None,
        genotype: Genotype | None = None,
    ) -> Evaluation:
        """Query by table row; the hot path for optimizers over finite tables."""
        table = self.tables[self.default_fidelity if fidelity is None else self.check_fidelity(fidelity)]
        if noise == "mean":
            metrics = table.mean_rows()[row].copy()
            seed = None
        else:
            n = table._n_seeds_list[row]
            if noise == "seed":
                seed = int((rng or self._seed_rng).random() * n)
            else:
                seed = check_noise(noise)
                if seed >= n:
                    raise ArchscapeError(
                        f"{self.name} recorded {n} seed(s) for row {row}; seed {seed} does not exist (accepted: 0..{n - 1})"
                    )
            metrics = table.seed_rows(seed)[row].copy()
        cost = metrics[table.cost] if table.cost else 0.0
        if genotype is None:
            genotype = self._genotypes[row] if self._genotypes is not None else self._genotype_at(row)
        return Evaluation(genotype, row, metrics, cost, fidelity or self.default_fidelity, seed)

    # ------------------------------------------------------------ batched
    def rows(self, archs: Iterable[Any]) -> np.ndarray:
        """Table rows of several architectures (genotypes, strings or indices)."""
        return np.fromiter((self._locate(self.space.as_genotype(a)) for a in archs), dtype=np.int64)

    def query_rows(
        self,
        rows: Sequence[int] | np.ndarray,
        *,
        noise: Noise = "mean",
        fidelity: int | None = None,
        rng: np.random.Generator | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Vectorised query: one array per metric, aligned with ``rows``.

        Draws seeds exactly as the same sequence of single queries would with
        the same generator, so batched and one-by-one runs agree.
        """
        fidelity = self.check_fidelity(fidelity)
        table = self.tables[fidelity]
        rows = np.asarray(rows, dtype=np.int64)
        noise = check_noise(noise)
        wanted = table.metric_names if metrics is None else [self.check_metric(m, fidelity) for m in metrics]
        # Negative rows would wrap around: refuse them; rows past the end make numpy's gather raise.
        if rows.size and rows.min() < 0:
            raise self._row_range_error(table)
        try:
            if noise == "mean":
                seeds = None
            elif noise == "seed":
                n_seeds = table.n_seeds[rows]  # before the draw: a row out of range leaves the generator as it was
                seeds = ((rng or self._seed_rng).random(rows.shape) * n_seeds).astype(np.int64)
            else:
                if rows.size and noise >= table.n_seeds[rows].min():
                    raise ArchscapeError(f"seed {noise} was not recorded for every requested row of {self.name}")
                seeds = np.full(rows.shape, noise, dtype=np.int64)
            out = {m: table.column(m, rows, seeds) for m in wanted}
        except IndexError:
            raise self._row_range_error(table) from None
        if seeds is not None:
            out["seed"] = seeds
        return out

    def _row_range_error(self, table: Table) -> ArchscapeError:
        return ArchscapeError(f"row out of range for {self.name}; accepted: 0..{table.n_rows - 1}")

    def check_metric(self, metric: str, fidelity: int | None = None) -> str:
        """``metric`` if recorded at ``fidelity`` (default: at any fidelity), else one line naming those that are."""
        if fidelity is None:
            return super().check_metric(metric)
        table = self.tables[self.check_fidelity(fidelity)]
        if metric not in table.values:
            raise unknown(f"metric of {self.name} at this fidelity", metric, table.metric_names)
        return metric

    def rows_are_space_indices(self) -> bool:
        """Whether the table has one row per architecture of its space, row ``r`` being ``space.index`` ``r``."""
        return self._rows_are_indices and self.covers_space and self.size == self.space.size

    def genotype_of(self, row: int) -> Genotype:
        """The architecture of table row ``row``."""
        return self._genotype_at(row)

    # ------------------------------------------------------------ whole table
    @property
    def size(self) -> int:
        return self.tables[self.default_fidelity].n_rows

    @property
    def noise_seeds(self) -> str:
        parts = []
        for f, t in self.tables.items():
            lo, hi = int(t.n_seeds.min()), int(t.n_seeds.max())
            parts.append(f"{lo}" if lo == hi else f"{lo}-{hi}")
        return ", ".join(dict.fromkeys(parts))

    def values(self, metric: str | None = None, *, noise: Noise = "mean", fidelity: int | None = None) -> np.ndarray:
        """The whole column of ``metric`` (default: the objective) by row."""
        fidelity = self.check_fidelity(fidelity)
        table = self.tables[fidelity]
        metric = self.check_metric(metric or self.objective, fidelity)
        noise = check_noise(noise)
        if noise == "mean":
            return table.means[metric].copy()
        if noise == "seed":
            raise ArchscapeError("a whole column needs noise 'mean' or a seed number, not 'seed'")
        col = table.values[metric]
        if col.shape[1] == 1:
            return col[:, 0].copy()
        if noise >= col.shape[1]:
            raise ArchscapeError(f"{self.name} records at most {col.shape[1]} seeds; seed {noise} does not exist")
        return col[:, noise].copy()

    def optimum(self, metric: str | None = None, *, noise: Noise = "mean", fidelity: int | None = None) -> tuple[Genotype, float]:
        """The best architecture by ``metric`` (maximised) and its value."""
        col = self.values(metric, noise=noise, fidelity=fidelity)
        row = int(np.nanargmax(col))
        return self._genotype_at(row), float(col[row])

    def export(self, out: str | Path, *, noise: Noise | str = "mean", fidelity: int | None = None) -> int:
        """Write the whole table (:meth:`to_frame`) to ``out`` (``.csv`` or ``.parquet``), atomically; returns the rows."""
        out = Path(out)
        if out.suffix not in (".csv", ".parquet"):
            raise ArchscapeError(f"unknown export format {out.suffix or out.name!r}; accepted: .csv, .parquet")
        frame = self.to_frame(noise=noise if noise == "all" else check_noise(noise), fidelity=self.check_fidelity(fidelity))
        with atomic_path(out) as tmp:
            if out.suffix == ".csv":
                frame.to_csv(tmp, index=False)
            else:
                frame.to_parquet(tmp, index=False)
        return len(frame)

    def to_frame(self, *, noise: Noise = "mean", fidelity: int | None = None):
        """The whole table as a pandas DataFrame, one row per architecture.

        ``noise`` is ``"mean"``, a seed number, or ``"all"`` for one column per
        metric and seed (``val_acc_seed0``, ...).
        """
        import pandas as pd

        table = self.tables[self.check_fidelity(fidelity)]
        data: dict[str, Any] = {
            "index": np.arange(table.n_rows),
            "arch": [self.space.format(self._genotype_at(r)) for r in range(table.n_rows)],
            "n_seeds": table.n_seeds,
        }
        if noise == "all":
            for m in table.metric_names:
                col = table.values[m]
                if col.shape[1] == 1:
                    data[m] = col[:, 0]
                else:
                    for s in range(col.shape[1]):
                        data[f"{m}_seed{s}"] = col[:, s]
        else:
            noise = check_noise(noise)
            if noise == "seed":
                raise ArchscapeError("export needs noise 'mean', 'all' or a seed number, not 'seed'")
            for m in table.metric_names:
                data[m] = self.values(m, noise=noise, fidelity=fidelity)
        return pd.DataFrame(data)

    def check_row(self, row: int) -> int:
        if not 0 <= row < self.size:
            raise NotInTable(f"row {row} is not in {self.name}; accepted: 0..{self.size - 1}")
        return row


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
