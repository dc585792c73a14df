"""A finite landscape: the values of every architecture of a table and its neighbour graph.

Every exhaustive analysis works on the same two arrays: ``values[r]`` (the
metric of table row ``r``, to maximise) and ``neighbours[r]`` (the rows of
``r``'s neighbours, padded with -1 where neighbourhoods differ in size).  The
neighbour graph is built once per table and space and cached in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from archscape.benchmarks.base import Noise
from archscape.benchmarks.table import TableBenchmark
from archscape.errors import ArchscapeError, NotInTable


@dataclass(frozen=True)
class FiniteLandscape:
    """Values and neighbour rows of an enumerable table (see the module docstring)."""

    name: str
    values: np.ndarray  # (N,) float64, maximised
    neighbours: np.ndarray  # (N, max_degree) int64, -1 padded
    degree: np.ndarray  # (N,) int64

    @property
    def size(self) -> int:
        return len(self.values)

    def mask(self) -> np.ndarray:
        """(N, max_degree) bool: which entries of :attr:`neighbours` are real."""
        return self.neighbours >= 0


_NEIGHBOURS: dict[tuple[str, int], np.ndarray] = {}


def neighbour_rows(bench: TableBenchmark) -> np.ndarray:
    """The -1 padded neighbour-row matrix of a table's search space (cached per loaded table).

    Benchmark objects of one name share their tables, so the cache is keyed by
    the table object, not by the (fresh, per-call) benchmark object.
    """
    key = (bench.name, id(bench.tables[bench.default_fidelity]))
    if key not in _NEIGHBOURS:
        _NEIGHBOURS[key] = _build_neighbour_rows(bench)
    return _NEIGHBOURS[key]


def _build_neighbour_rows(bench: TableBenchmark) -> np.ndarray:
    space = bench.search_space()
    if bench.rows_are_space_indices():
        matrix = space.neighbour_indices()  # the space's vectorised neighbourhoods, where it offers them
        if matrix is not None:
            return np.asarray(matrix, dtype=np.int64)
    return neighbour_rows_by_loop(bench)


def neighbour_rows_by_loop(bench: TableBenchmark) -> np.ndarray:
    """The neighbour-row matrix from ``space.neighbours`` row by row (any table; the reference of the fast path)."""
    space = bench.search_space()
    rows: list[list[int]] = []
    for r in range(bench.size):
        nbrs = []
        for n in space.neighbours(bench.genotype_of(r)):
            try:
                nbrs.append(bench.row_of(n))
            except NotInTable:
                continue  # a neighbour the table lacks is not part of this landscape
        rows.append(nbrs)
    width = max((len(n) for n in rows), default=0)
    out = np.full((len(rows), width), -1, dtype=np.int64)
    for r, nbrs in enumerate(rows):
        out[r, : len(nbrs)] = nbrs
    return out


def finite_landscape(
    bench: TableBenchmark, metric: str | None = None, *, noise: Noise = "mean", fidelity: int | None = None
) -> FiniteLandscape:
    """The landscape of ``metric`` (default: the objective) under a noise mode ('mean' or a seed number).

    With a seed number, rows that did not record that seed keep NaN values;
    analyses leave them out (and say how many).
    """
    if bench.search_space().size is None:
        raise ArchscapeError(f"{bench.name} is not enumerable; exhaustive analysis needs a finite table")
    table = bench.tables[bench.check_fidelity(fidelity)]
    metric = bench.check_metric(metric or bench.objective, bench.check_fidelity(fidelity))
    if noise == "seed":
        raise ArchscapeError("a landscape needs noise 'mean' or a seed number, not 'seed'")
    if isinstance(noise, int) and noise >= table.max_seeds:
        raise ArchscapeError(f"{bench.name} records at most {table.max_seeds} seed(s); seed {noise} does not exist")
    if isinstance(noise, int) and table.values[metric].shape[1] > 1:
        values = table.values[metric][:, noise].astype(np.float64)  # NaN where the seed is missing
    else:
        values = bench.values(metric, noise=noise, fidelity=fidelity)
    nbrs = neighbour_rows(bench)
    return FiniteLandscape(f"{bench.name}:{metric}:{noise}", values, nbrs, (nbrs >= 0).sum(axis=1))
