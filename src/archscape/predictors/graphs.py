"""Architectures as graphs for the graph predictor (numpy only; the network is in :mod:`.gnn`).

A :class:`GraphBatch` holds padded arrays: node features ``(n, nodes, F)``,
adjacency ``(n, nodes, nodes)`` with ``adjacency[b, i, j] = 1`` for an edge
``i -> j`` (data flows along it), and a node mask ``(n, nodes)``.  Every
graph has one node per operation, so a message-passing network sees each
operation together with what feeds it and what it feeds:

* ``nb201`` (operations on the 6 edges): input, one node per edge operation,
  output (8 nodes).  An operation node on edge ``i -> j`` feeds every
  operation node on an edge leaving ``j`` (or the output, for ``j = 3``) and
  is fed by those entering ``i`` (or the input, for ``i = 0``).  A ``none``
  edge carries nothing, so its node keeps its feature but loses its edges.
* ``nb101`` (operations on the vertices): the canonical pruned cell as it
  is, up to 7 nodes, the rest masked.
* ``darts`` (operations on the edges, two cells): per cell the two cell
  inputs, one node per (operation, input) pair and the output (11 nodes, 22
  for both cells); a pair on node ``k``'s input ``i`` is fed by cell input
  ``i`` or, for an intermediate node ``i``, by the two pairs that make it;
  every pair feeds the output (the cell concatenates all intermediate nodes).
  Features say the cell type too.
* ``macro`` (a chain): input, the 8 layers, output; a layer's feature is its
  block and its position (which fixes its stride and width).

Subset spaces (a partial table's cells) use their parent's view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from archscape.spaces.base import Genotype, SearchSpace


class GraphBatch(NamedTuple):
    features: np.ndarray  # (n, nodes, F) float32
    adjacency: np.ndarray  # (n, nodes, nodes) float32, [b, i, j] = 1 for i -> j
    mask: np.ndarray  # (n, nodes) float32, 1 for a node, 0 for padding

    def take(self, rows: np.ndarray | slice) -> GraphBatch:
        return GraphBatch(self.features[rows], self.adjacency[rows], self.mask[rows])


class GraphView:
    """How the architectures of one space become graphs."""

    #: nodes per graph (padded) and features per node
    n_nodes: int
    n_features: int

    def graphs(self, space: SearchSpace, genotypes: Sequence[Genotype]) -> GraphBatch:
        raise NotImplementedError


def _empty(n: int, nodes: int, features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.zeros((n, nodes, features), dtype=np.float32), np.zeros((n, nodes, nodes), dtype=np.float32),
            np.ones((n, nodes), dtype=np.float32))


class NB201Graphs(GraphView):
    """Input, six edge-operation nodes, output."""

    def __init__(self) -> None:
        from archscape.spaces.nb201 import EDGES, N_OPS

        self.n_nodes = len(EDGES) + 2
        self.n_features = 2 + N_OPS  # input, output, each op
        out = self.n_nodes - 1
        template = np.zeros((self.n_nodes, self.n_nodes), dtype=np.float32)
        for e, (i, j) in enumerate(EDGES):
            if i == 0:
                template[0, 1 + e] = 1.0
            if j == 3:
                template[1 + e, out] = 1.0
            for f, (k, _) in enumerate(EDGES):
                if k == j:
                    template[1 + e, 1 + f] = 1.0
        self._template = template

    def graphs(self, space: SearchSpace, genotypes: Sequence[Genotype]) -> GraphBatch:
        ops = np.asarray([space.validate(g) for g in genotypes], dtype=np.int64).reshape(-1, self.n_nodes - 2)
        n = len(ops)
        x, a, mask = _empty(n, self.n_nodes, self.n_features)
        x[:, 0, 0] = 1.0
        x[:, -1, 1] = 1.0
        rows = np.arange(n)[:, None]
        x[rows, np.arange(1, self.n_nodes - 1)[None, :], 2 + ops] = 1.0
        live = np.ones((n, self.n_nodes), dtype=np.float32)
        live[:, 1:-1] = ops != 0  # 'none' (op 0) cuts its edge
        a[:] = self._template
        a *= live[:, :, None] * live[:, None, :]
        return GraphBatch(x, a, mask)


class NB101Graphs(GraphView):
    """The canonical pruned cell, padded to 7 vertices."""

    def __init__(self) -> None:
        from archscape.spaces.nb101 import MAX_VERTICES, OPS

        self.n_nodes = MAX_VERTICES
        self.n_features = len(OPS)

    def graphs(self, space: SearchSpace, genotypes: Sequence[Genotype]) -> GraphBatch:
        n = len(genotypes)
        x, a, mask = _empty(n, self.n_nodes, self.n_features)
        mask[:] = 0.0
        for b, g in enumerate(genotypes):
            cell = space.canonical(g)
            v = cell.n_vertices
            a[b, :v, :v] = cell.matrix
            x[b, np.arange(v), cell.ops] = 1.0
            mask[b, :v] = 1.0
        return GraphBatch(x, a, mask)


class DartsGraphs(GraphView):
    """Per cell: two inputs, eight (operation, input) nodes, the output."""

    def __init__(self) -> None:
        from archscape.spaces.darts import N_OPS, N_SLOTS

        self.slots = N_SLOTS
        self.per_cell = 2 + N_SLOTS + 1
        self.n_nodes = 2 * self.per_cell
        self.n_ops = N_OPS
        # roles (input 0, input 1, output), the op of a pair node, the cell type (normal, reduce)
        self.n_features = 3 + N_OPS + 2

    def graphs(self, space: SearchSpace, genotypes: Sequence[Genotype]) -> GraphBatch:
        arr = np.asarray([space.canonical(g) for g in genotypes], dtype=np.int64).reshape(-1, 2, self.slots, 2)
        ops, inputs = arr[..., 0], arr[..., 1]
        n = len(arr)
        x, a, mask = _empty(n, self.n_nodes, self.n_features)
        rows = np.arange(n)
        for c in range(2):
            base = c * self.per_cell
            out = base + self.per_cell - 1
            x[:, base : base + self.per_cell, 3 + self.n_ops + c] = 1.0
            x[:, base, 0] = 1.0
            x[:, base + 1, 1] = 1.0
            x[:, out, 2] = 1.0
            for s in range(self.slots):
                node = base + 2 + s
                x[rows, node, 3 + ops[:, c, s]] = 1.0
                a[:, node, out] = 1.0
                inp = inputs[:, c, s]
                from_cell = inp < 2
                a[rows[from_cell], base + inp[from_cell], node] = 1.0
                # an intermediate input i is the sum of its two pairs (slots 2(i-2) and 2(i-2)+1)
                inner = ~from_cell
                first = base + 2 + 2 * (inp[inner] - 2)
                a[rows[inner], first, node] = 1.0
                a[rows[inner], first + 1, node] = 1.0
        return GraphBatch(x, a, mask)


class MacroGraphs(GraphView):
    """Input, the 8 layers in a chain, output."""

    def __init__(self) -> None:
        from archscape.spaces.macro import N_LAYERS, N_OPS

        self.layers = N_LAYERS
        self.n_ops = N_OPS
        self.n_nodes = N_LAYERS + 2
        self.n_features = 2 + N_OPS + N_LAYERS  # input, output, block, position

    def graphs(self, space: SearchSpace, genotypes: Sequence[Genotype]) -> GraphBatch:
        ops = np.asarray([space.validate(g) for g in genotypes], dtype=np.int64).reshape(-1, self.layers)
        n = len(ops)
        x, a, mask = _empty(n, self.n_nodes, self.n_features)
        x[:, 0, 0] = 1.0
        x[:, -1, 1] = 1.0
        layer_nodes = np.arange(1, self.layers + 1)
        x[np.arange(n)[:, None], layer_nodes[None, :], 2 + ops] = 1.0
        x[:, layer_nodes, 2 + self.n_ops + layer_nodes - 1] = 1.0
        chain = np.arange(self.n_nodes - 1)
        a[:, chain, chain + 1] = 1.0
        return GraphBatch(x, a, mask)


def graph_view(space: SearchSpace) -> GraphView | None:
    """The graph view of ``space`` (or of the space a subset space restricts), ``None`` if it has none."""
    from archscape.spaces.darts import DartsSpace
    from archscape.spaces.macro import MacroSpace
    from archscape.spaces.nb101 import NB101Space
    from archscape.spaces.nb201 import NB201Space
    from archscape.spaces.subset import SubsetSpace

    while isinstance(space, SubsetSpace):
        space = space.parent
    for cls, view in ((NB201Space, NB201Graphs), (NB101Space, NB101Graphs), (DartsSpace, DartsGraphs), (MacroSpace, MacroGraphs)):
        if isinstance(space, cls):
            return view()
    return None


#: names of the spaces with a graph view (for messages)
GRAPH_SPACES = ("nb201", "nb101", "darts", "macro")

__all__ = ["GRAPH_SPACES", "GraphBatch", "GraphView", "graph_view"]
