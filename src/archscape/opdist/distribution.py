"""Operation distributions of cells, and architectures sampled from them.

"Approximate NAS via Operation Distribution Learning" (Wan et al., WACV 2022)
observes that a cell's accuracy depends mostly on how many of each operation
it holds, not on where each one sits.  Here a distribution is a *count
vector*: for every cell of an architecture, how many of its op slots hold
each operation (:class:`CellLayout` says which cells, slots and operations a
space has).  A *ratio vector* (a point of the simplex) describes cells of any
size; :func:`counts_from_ratio` turns it into counts for one size.

=========  ==========================  =====  ================================
space      cells                       slots  operations counted
=========  ==========================  =====  ================================
nb201      the cell                    6      the 5 NB201 ops (``none`` too)
macro      the chain                   8      identity, mb3_k3, mb6_k5
nb101      the cell                    5      conv3x3, conv1x1, maxpool3x3
darts      normal, reduce              8, 8   the 7 DARTS ops
=========  ==========================  =====  ================================

NB101 distributions are of full cells (5 interior vertices, 7 in all); a
smaller cell has fewer slots and another count vector.

Sampling (:func:`sample_architecture`): the op multiset is placed on the
slots in a uniformly random order, so every architecture with those counts is
equally likely (NB201, Macro; DARTS and NB101 given their wiring).  DARTS
draws each intermediate node's two distinct inputs uniformly, as the space's
own sampler does, per cell.  NB101 draws the official random spec (each
upper-triangular edge with probability 1/2) and keeps it only when no vertex
would be pruned and it has at most 9 edges (pruning would change the counts):
resampling until valid, a vectorised batch of specs at a time.  Every random number comes from the caller's
generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations_with_replacement
from typing import Any

import numpy as np

from archscape.errors import ArchscapeError, InvalidArchitecture, UnsupportedOperation
from archscape.spaces.base import Genotype, SearchSpace

#: how a ratio vector becomes counts when ratio x size is not whole
RATIO_METHODS = ("round", "multinomial")


@dataclass(frozen=True)
class CellLayout:
    """Which op slots of a space's architectures a distribution counts."""

    space: str
    #: the cell types, each with its own count vector (DARTS: normal and reduce)
    cells: tuple[str, ...]
    #: op slots per cell
    slots: int
    #: the operations counted, in the order of a count vector
    ops: tuple[str, ...]

    @property
    def n_ops(self) -> int:
        return len(self.ops)

    @property
    def length(self) -> int:
        """Entries of a count vector (cells x operations)."""
        return len(self.cells) * len(self.ops)

    @property
    def n_per_cell(self) -> int:
        """Count vectors of one cell: compositions of ``slots`` into ``n_ops`` parts."""
        return math.comb(self.slots + self.n_ops - 1, self.n_ops - 1)

    @property
    def size(self) -> int:
        """Count vectors of a whole architecture."""
        return self.n_per_cell ** len(self.cells)

    def split(self, counts: Sequence[int]) -> list[tuple[int, ...]]:
        """The count vector of each cell."""
        k = self.n_ops
        return [tuple(counts[c * k:(c + 1) * k]) for c in range(len(self.cells))]


def layout_of(space: SearchSpace) -> CellLayout:
    """The cell layout of a space (nb201, macro, nb101, darts)."""
    return _layout(space.name, tuple(space.ops))


@lru_cache(maxsize=16)
def _layout(name: str, ops: tuple[str, ...]) -> CellLayout:
    # Cached by name: samplers ask for the layout on every call.
    if name == "nb201":
        return CellLayout(name, ("cell",), 6, ops)
    if name == "macro":
        return CellLayout(name, ("chain",), 8, ops)
    if name == "nb101":
        from archscape.spaces.nb101 import INTERIOR, MAX_VERTICES, OPS

        return CellLayout(name, ("cell",), MAX_VERTICES - 2, tuple(OPS[o] for o in INTERIOR))
    if name == "darts":
        from archscape.spaces.darts import CELL_TYPES, N_SLOTS, OPS

        return CellLayout(name, CELL_TYPES, N_SLOTS, OPS)
    raise UnsupportedOperation(f"search space {name!r} has no operation distribution; accepted: nb201, macro, nb101, darts")


@lru_cache(maxsize=32)
def cell_count_vectors(slots: int, n_ops: int) -> tuple[tuple[int, ...], ...]:
    """Every count vector of one cell, in lexicographic order (most of op 0 last)."""
    out = []
    for combo in combinations_with_replacement(range(n_ops), slots):
        out.append(tuple(np.bincount(np.asarray(combo, dtype=np.int64), minlength=n_ops).tolist()))
    return tuple(sorted(out))


def counts_of(space: SearchSpace, genotype: Genotype) -> tuple[int, ...]:
    """The count vector of an architecture (NB101: of its pruned cell, which must have 5 interior vertices)."""
    lay = layout_of(space)
    counts = tuple(int(c) for c in space.op_counts(genotype))
    if sum(counts) != lay.slots * len(lay.cells):
        raise InvalidArchitecture(
            f"{space.format(genotype)} has {sum(counts)} op slots; distributions of {space.name} count cells of "
            f"{lay.slots} (after pruning)"
        )
    return counts


def check_counts(lay: CellLayout, counts: Any, what: str = "counts") -> tuple[int, ...]:
    """``counts`` as a tuple of ints, or one line saying what is wrong and what is accepted."""
    try:
        values = tuple(counts)
    except TypeError:
        raise InvalidArchitecture(f"{what} of {lay.space} must be {lay.length} integers; got {counts!r}") from None
    if len(values) != lay.length or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
                                            for v in values):
        raise InvalidArchitecture(
            f"{what} of {lay.space} must be {lay.length} integers >= 0 ({', '.join(lay.ops)}"
            f"{' per ' + ' and '.join(lay.cells) + ' cell' if len(lay.cells) > 1 else ''}); got {values!r}"
        )
    values = tuple(int(v) for v in values)
    for cell, part in zip(lay.cells, lay.split(values)):
        if sum(part) != lay.slots:
            where = f" of the {cell} cell" if len(lay.cells) > 1 else ""
            raise InvalidArchitecture(f"{what}{where} must sum to the cell size {lay.slots}; got {sum(part)} ({part})")
    return values


def counts_from_ratio(ratio: Sequence[float], size: int, *, method: str = "round",
                      rng: np.random.Generator | None = None) -> tuple[int, ...]:
    """Counts of ``size`` slots from a ratio vector (non-negative, normalised here).

    Exact when ``ratio * size`` is whole.  Otherwise ``"round"``: the largest
    remainder method (each op gets ``floor(ratio * size)``, the slots left go
    to the largest remainders, ties to the earlier op), deterministic;
    ``"multinomial"``: a draw of Multinomial(size, ratio) from ``rng``, whose
    expectation is ``ratio * size``.
    """
    if method not in RATIO_METHODS:
        raise ArchscapeError(f"unknown ratio method {method!r}; accepted: {', '.join(RATIO_METHODS)}")
    p = np.asarray(ratio, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise ArchscapeError(f"a ratio vector is non-negative numbers with a positive sum; got {list(ratio)!r}")
    if not isinstance(size, (int, np.integer)) or size < 0:
        raise ArchscapeError(f"cell size must be an integer >= 0; got {size!r}")
    p = p / p.sum()
    exact = p * size
    whole = np.floor(exact + 1e-9)
    if np.allclose(exact, whole, atol=1e-9):
        return tuple(int(x) for x in whole)
    if method == "multinomial":
        if rng is None:
            raise ArchscapeError("the multinomial ratio method needs a random generator (rng)")
        return tuple(int(x) for x in rng.multinomial(int(size), p))
    base = np.floor(exact).astype(np.int64)
    left = int(size - base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:left]] += 1
    return tuple(int(x) for x in base)


# ------------------------------------------------------------------ sampling
def _multiset(part: Sequence[int]) -> np.ndarray:
    return np.repeat(np.arange(len(part)), part)


@lru_cache(maxsize=4096)
def _checked_multiset(lay: CellLayout, counts: tuple) -> tuple[tuple[int, ...], np.ndarray]:
    # Sampling many cells of one distribution validates its counts once.
    counts = check_counts(lay, counts)
    return counts, _multiset(counts)


def _validated(lay: CellLayout, counts: Any) -> tuple[tuple[int, ...], np.ndarray]:
    try:
        return _checked_multiset(lay, tuple(counts))
    except TypeError:  # not hashable or not a sequence: let check_counts say what is wrong
        return check_counts(lay, counts), None


def sample_architecture(space: SearchSpace, counts: Sequence[int], rng: np.random.Generator) -> Genotype:
    """One architecture with exactly ``counts`` (a count vector of :func:`layout_of` ``(space)``)."""
    lay = layout_of(space)
    counts, multiset = _validated(lay, counts)
    if lay.space in ("nb201", "macro"):
        return tuple(rng.permutation(multiset).tolist())
    if lay.space == "darts":
        return _sample_darts(space, lay, counts, rng)
    return _sample_nb101(lay, counts, rng)


def sample_cells(space: SearchSpace, counts: Sequence[int], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` cells of a one-cell vector space (nb201, macro) with exactly ``counts``, as an ``(n, slots)`` array.

    The vectorised :func:`sample_architecture`: each row is a uniformly random
    order of the op multiset (the argsort of uniform keys), drawn all at once.
    """
    lay = layout_of(space)
    if lay.space not in ("nb201", "macro"):
        raise UnsupportedOperation(f"sample_cells draws {lay.space} cells one by one: use sample_architecture")
    _, multiset = _validated(lay, counts)
    order = np.argsort(rng.random((int(n), lay.slots)), axis=1)
    return multiset[order]


def _sample_darts(space: SearchSpace, lay: CellLayout, counts: tuple[int, ...], rng: np.random.Generator) -> Genotype:
    from archscape.spaces.darts import _INPUT_PAIRS, NODES

    cells = []
    for part in lay.split(counts):
        ops = rng.permutation(_multiset(part)).tolist()
        cell = []
        for n, k in enumerate(NODES):
            a, b = _INPUT_PAIRS[k][int(rng.integers(len(_INPUT_PAIRS[k])))]
            cell += [(ops[2 * n], a), (ops[2 * n + 1], b)]
        cells.append(tuple(cell))
    return space.canonical(tuple(cells))


#: NB101 draws before giving up (about one in 470 official random specs is a full cell)
NB101_TRIES = 1_000_000
#: NB101 specs drawn at once (vectorised rejection)
NB101_BATCH = 512


def _sample_nb101(lay: CellLayout, counts: tuple[int, ...], rng: np.random.Generator) -> Genotype:
    """The official random spec conditioned on a full cell: rejection, a vectorised batch at a time.

    In a DAG numbered in topological order, a vertex lies on an input->output
    path exactly when every interior vertex has an in-edge and an out-edge
    (by induction from either end), so that and the 9-edge limit are the whole
    test: nothing is pruned and the counts stay those asked for.
    """
    from archscape.spaces.nb101 import INPUT, INTERIOR, MAX_EDGES, OUTPUT, _canonical_graph

    n = lay.slots + 2
    interior = np.asarray(INTERIOR)[_multiset(counts)]
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    weights = 1 << np.arange(n)
    for _ in range(0, NB101_TRIES, NB101_BATCH):
        adj = (rng.integers(0, 2, size=(NB101_BATCH, n, n)) == 1) & upper
        indeg, outdeg = adj.sum(axis=1), adj.sum(axis=2)
        ok = ((adj.sum(axis=(1, 2)) <= MAX_EDGES) & (indeg[:, 1:-1] > 0).all(axis=1)
              & (outdeg[:, 1:-1] > 0).all(axis=1))
        hits = np.flatnonzero(ok)
        if hits.size:
            succ = (adj[hits[0]] * weights).sum(axis=1).tolist()
            ops = (INPUT, *rng.permutation(interior).tolist(), OUTPUT)
            return _canonical_graph(n, succ, ops)[0]
    raise ArchscapeError(f"no valid NB101 cell with counts {counts} in {NB101_TRIES:,} draws")


__all__ = [
    "NB101_TRIES", "RATIO_METHODS", "CellLayout", "cell_count_vectors", "check_counts", "counts_from_ratio",
    "counts_of", "layout_of", "sample_architecture", "sample_cells",
]
