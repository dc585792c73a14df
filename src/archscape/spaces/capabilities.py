"""What a search space can offer beyond structure, declared by the space itself.

Every capability is a method (or class attribute) of
:class:`~archscape.spaces.base.SearchSpace` with a default that says "not
offered"; a space that offers it overrides it in its own file, and nothing
outside that file dispatches on the space's type:

=====================  ==========================================  ==============================
capability             on the space                                used by
=====================  ==========================================  ==============================
operation graph        :meth:`graph_view` -> :class:`GraphView`     the GNN predictor
operation slots        :meth:`cell_layout` -> :class:`CellLayout`,  operation distributions
                       :meth:`slot_ops`, :meth:`with_slot_ops`,     (``<space>-opdist``, opdist
                       :meth:`arrange`                              analysis, opdist pools)
network builder        :attr:`network` (``"module:function"``)      training (the ``train`` extra)
official index order   :meth:`index` / :meth:`from_index`           tables, enumeration
neighbour matrix       :meth:`neighbour_indices` (finite spaces,    exhaustive landscapes
                       numpy: every index's neighbours' indices)
=====================  ==========================================  ==============================

The types here are plain numpy/dataclass values, so declaring a capability
costs a space no heavy import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # only for annotations
    from archscape.spaces.base import Genotype, SearchSpace


# ------------------------------------------------------------------ operation slots
@dataclass(frozen=True)
class CellLayout:
    """Which op slots of a space's architectures an operation distribution counts."""

    space: str
    #: the cell types, each with its own count vector (DARTS: normal and reduce)
    cells: tuple[str, ...]
    #: op slots per cell
    slots: int
    #: the operations counted, in the order of a count vector
    ops: tuple[str, ...]
    #: the value a slot holds for each counted operation (default ``0..n_ops-1``; NB101: its interior ops)
    values: tuple[int, ...] | None = None
    #: whether a genotype *is* the tuple of its one cell's slot values (vectorised sampling applies)
    flat: bool = False

    @property
    def n_ops(self) -> int:
        return len(self.ops)

    @property
    def alphabet(self) -> tuple[int, ...]:
        """The slot value of each counted operation."""
        return self.values if self.values is not None else tuple(range(self.n_ops))

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


# ------------------------------------------------------------------ operation graphs
class GraphBatch(NamedTuple):
    """Architectures as padded graphs: one node per operation, edges along the data flow."""

    features: np.ndarray  # (n, nodes, F) float32
    adjacency: np.ndarray  # (n, nodes, nodes) float32, [b, i, j] = 1 for i -> j
    mask: np.ndarray  # (n, nodes) float32, 1 for a node, 0 for padding

    def take(self, rows: np.ndarray | slice) -> GraphBatch:
        return GraphBatch(self.features[rows], self.adjacency[rows], self.mask[rows])


class GraphView:
    """How the architectures of one space become graphs (a space's :meth:`graph_view`)."""

    #: nodes per graph (padded) and features per node
    n_nodes: int
    n_features: int

    def graphs(self, space: SearchSpace, genotypes: Sequence[Genotype]) -> GraphBatch:
        raise NotImplementedError


def empty_graphs(n: int, nodes: int, features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero features and adjacency, and an all-ones mask, for ``n`` graphs."""
    return (np.zeros((n, nodes, features), dtype=np.float32), np.zeros((n, nodes, nodes), dtype=np.float32),
            np.ones((n, nodes), dtype=np.float32))


__all__ = ["CellLayout", "GraphBatch", "GraphView", "empty_graphs"]
