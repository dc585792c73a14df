"""Operation distributions of cells, and architectures sampled from them.

"Approximate NAS via Operation Distribution Learning" (Wan et al., WACV 2022)
observes that a cell's accuracy depends mostly on how many of each operation
it holds, not on where each one sits.  Here a distribution is a *count
vector*: for every cell of an architecture, how many of its op slots hold
each operation (the space declares which cells, slots and operations it has:
:meth:`SearchSpace.cell_layout`, a :class:`CellLayout`).  A *ratio vector* (a point of the simplex) describes cells of any
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

Sampling (:func:`sample_architecture`): the space places the op multiset
(:meth:`SearchSpace.arrange`): on the slots in a uniformly random order, so every architecture with those counts is
equally likely (NB201, Macro; DARTS and NB101 given their wiring).  DARTS
draws each intermediate node's two distinct inputs uniformly, as the space's
own sampler does, per cell.  NB101 draws the official random spec (each
upper-triangular edge with probability 1/2) and keeps it only when no vertex
would be pruned and it has at most 9 edges (pruning would change the counts):
resampling until valid, a vectorised batch of specs at a time.  Every random number comes from the caller's
generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import combinations_with_replacement
from typing import Any

import numpy as np

from archscape.errors import ArchscapeError, InvalidArchitecture, UnsupportedOperation
from archscape.spaces import spaces_with
from archscape.spaces.base import Genotype, SearchSpace
from archscape.spaces.capabilities import CellLayout

#: how a ratio vector becomes counts when ratio x size is not whole
RATIO_METHODS = ("round", "multinomial")


def layout_of(space: SearchSpace) -> CellLayout:
    """The cell layout a space declares (:meth:`SearchSpace.cell_layout`); one-line error when it has none."""
    lay = space.cell_layout()
    if lay is None:
        raise UnsupportedOperation(f"search space {space.name!r} has no operation distribution; accepted: "
                                   f"{', '.join(spaces_with('opdist'))}")
    return lay


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
def _slot_values(lay: CellLayout, counts: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Per cell, the multiset of slot values that ``counts`` asks for (ascending)."""
    alphabet = np.asarray(lay.alphabet, dtype=np.int64)
    return tuple(alphabet[np.repeat(np.arange(lay.n_ops), part)] for part in lay.split(counts))


@lru_cache(maxsize=4096)
def _checked_values(lay: CellLayout, counts: tuple) -> tuple[np.ndarray, ...]:
    # Sampling many cells of one distribution validates its counts once.
    return _slot_values(lay, check_counts(lay, counts))


def _validated(lay: CellLayout, counts: Any) -> tuple[np.ndarray, ...]:
    try:
        return _checked_values(lay, tuple(counts))
    except TypeError:  # not hashable or not a sequence: let check_counts say what is wrong
        return _slot_values(lay, check_counts(lay, counts))


def sample_architecture(space: SearchSpace, counts: Sequence[int], rng: np.random.Generator) -> Genotype:
    """One architecture with exactly ``counts`` (a count vector of :func:`layout_of` ``(space)``).

    The space places each cell's multiset of operations (:meth:`SearchSpace.arrange`),
    so every architecture with those counts is equally likely given its wiring.
    """
    return space.arrange(_validated(layout_of(space), counts), rng)


def sample_cells(space: SearchSpace, counts: Sequence[int], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` cells of a one-cell vector space (nb201, macro) with exactly ``counts``, as an ``(n, slots)`` array.

    The vectorised :func:`sample_architecture`: each row is a uniformly random
    order of the op multiset (the argsort of uniform keys), drawn all at once.
    """
    lay = layout_of(space)
    if not lay.flat or len(lay.cells) != 1:
        raise UnsupportedOperation(f"sample_cells draws {lay.space} cells one by one: use sample_architecture")
    (values,) = _validated(lay, counts)
    order = np.argsort(rng.random((int(n), lay.slots)), axis=1)
    return values[order]


__all__ = [
    "RATIO_METHODS", "CellLayout", "cell_count_vectors", "check_counts", "counts_from_ratio",
    "counts_of", "layout_of", "sample_architecture", "sample_cells",
]
