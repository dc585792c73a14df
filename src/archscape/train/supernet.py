"""Supernets on the NAS-Bench-201 skeleton, and NB201-skeleton networks with cells of any size (torch).

Both reuse the skeleton of :class:`~archscape.train.models.nb201.NB201Network`:
a 3x3 stem to ``C`` channels, three stages of ``N`` cells with ``C``, ``2C``
and ``4C`` channels separated by the residual reduction block, then BN, ReLU,
global pooling and a linear classifier.  A cell of ``n`` nodes has an edge
``i -> j`` for every pair ``i < j`` (:func:`cell_edges`, grouped by target
node, so ``n = 4`` gives NB201's arch-string order); node ``j`` sums its
incoming edges and the cell outputs its last node.

* :class:`NB201SuperNet`: every edge is a :class:`MixedOp` of the five NB201
  operations.  The architecture is *not* a parameter of the network: the
  caller passes one weight matrix ``[edges, 5]`` to ``forward`` and every
  cell uses it (one cell genotype shared by all cells, as NB201's one-shot
  methods do).  ``model.parameters()`` are therefore the operation weights
  only, and the architecture optimiser never touches them.
* :class:`CellNetwork`: a fixed operation per edge.  For ``n = 4`` it is the
  NB201 network itself (same modules built in the same order: the same
  parameter count and, seeded alike, the same initial weights).

The supernet's batch norms have no affine parameters by default, as in the
DARTS search networks: a learnable scale after an operation could offset the
architecture weight in front of it and blur what the weights mean.
"""

from __future__ import annotations

from collections.abc import Sequence

from archscape.errors import ArchscapeError
from archscape.spaces.nb201 import OPS
from archscape.train import require_torch
from archscape.train.models.nb201 import make_op
from archscape.train.models.ops import Pool3x3, ReLUConvBN, ResNetBasicBlock, Zero

torch = require_torch()
nn = torch.nn

#: the most nodes a cell may have (cells grow as n^2 edges)
MAX_NODES = 16


def cell_edges(n_nodes: int) -> tuple[tuple[int, int], ...]:
    """Edges ``(i, j)`` of an ``n_nodes`` cell, every ``i < j``, grouped by ``j`` (NB201's order for 4 nodes)."""
    if not isinstance(n_nodes, int) or isinstance(n_nodes, bool) or not 2 <= n_nodes <= MAX_NODES:
        raise ArchscapeError(f"a cell has 2..{MAX_NODES} nodes; got {n_nodes!r}")
    return tuple((i, j) for j in range(1, n_nodes) for i in range(j))


def search_op(name: str, C: int, affine: bool):
    """One NB201 operation for a supernet; the convolutions' BN affine or not (the rest has no parameters)."""
    if name == "nor_conv_1x1":
        return ReLUConvBN(C, C, 1, 1, 0, affine=affine)
    if name == "nor_conv_3x3":
        return ReLUConvBN(C, C, 3, 1, 1, affine=affine)
    if name == "none":
        return Zero(C, C, 1)
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return Pool3x3(C, C, 1, "avg")
    raise ArchscapeError(f"unknown NB201 operation {name!r}; accepted: {', '.join(OPS)}")


class MixedOp(nn.Module):
    """The five NB201 operations on one edge, mixed by a weight vector."""

    def __init__(self, C: int, affine: bool = False) -> None:
        super().__init__()
        self.ops = nn.ModuleList(search_op(name, C, affine) for name in OPS)

    def forward(self, x, weights, index: int | None = None):
        if index is not None:
            # A one-hot choice: only the chosen op runs (5x cheaper); its weight (1 in value) still
            # carries the straight-through gradient to the architecture parameters.
            return weights[index] * self.ops[index](x)
        return sum(w * op(x) for w, op in zip(weights, self.ops))


class SearchCell(nn.Module):
    """A cell of ``n_nodes`` nodes whose every edge is a :class:`MixedOp`."""

    def __init__(self, C: int, n_nodes: int = 4, affine: bool = False) -> None:
        super().__init__()
        self.edge_list = cell_edges(n_nodes)
        self.n_nodes = n_nodes
        self.edges = nn.ModuleList(MixedOp(C, affine) for _ in self.edge_list)

    def forward(self, x, weights, hard: Sequence[int] | None = None):
        nodes = [x]
        for j in range(1, self.n_nodes):
            nodes.append(sum(
                self.edges[e](nodes[i], weights[e], None if hard is None else int(hard[e]))
                for e, (i, k) in enumerate(self.edge_list) if k == j
            ))
        return nodes[-1]


class FixedCell(nn.Module):
    """A cell of ``n_nodes`` nodes with one NB201 operation (an index into ``OPS``) per edge."""

    def __init__(self, ops: Sequence[int], C: int, n_nodes: int) -> None:
        super().__init__()
        self.edge_list = cell_edges(n_nodes)
        self.n_nodes = n_nodes
        self.ops = check_cell_ops(ops, n_nodes)
        self.edges = nn.ModuleList(make_op(OPS[o], C) for o in self.ops)

    def forward(self, x):
        nodes = [x]
        for j in range(1, self.n_nodes):
            nodes.append(sum(self.edges[e](nodes[i]) for e, (i, k) in enumerate(self.edge_list) if k == j))
        return nodes[-1]


def check_cell_ops(ops: Sequence[int], n_nodes: int) -> tuple[int, ...]:
    """``ops`` as a tuple of op indices, one per edge of an ``n_nodes`` cell, or one line saying what is wrong."""
    n_edges = len(cell_edges(n_nodes))
    values = tuple(ops)
    if len(values) != n_edges or not all(isinstance(o, int) and not isinstance(o, bool) and 0 <= o < len(OPS) for o in values):
        raise ArchscapeError(f"a {n_nodes}-node cell needs {n_edges} op indices in 0..{len(OPS) - 1}; got {values!r}")
    return values


def _check_skeleton(C: int, N: int, num_classes: int, in_channels: int) -> None:
    if C < 1 or N < 0 or num_classes < 1 or in_channels < 1:
        raise ArchscapeError(f"an NB201 skeleton needs C >= 1, N >= 0, classes >= 1, channels >= 1; got C={C}, N={N}")


class _Skeleton(nn.Module):
    """NB201's macro skeleton around cells made by ``make_cell(channels)``; built in NB201Network's module order."""

    def __init__(self, make_cell, num_classes: int, C: int, N: int, in_channels: int) -> None:
        super().__init__()
        _check_skeleton(C, N, num_classes, in_channels)
        self.C, self.N = C, N
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        cells = []
        c_prev = C
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                cells.append(ResNetBasicBlock(c_prev, c, 2))
            cells += [make_cell(c) for _ in range(N)]
            c_prev = c
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def _head(self, x):
        return self.classifier(torch.flatten(self.global_pooling(self.lastact(x)), 1))


class NB201SuperNet(_Skeleton):
    """The NB201 skeleton with :class:`SearchCell` cells; ``forward(x, weights, hard=None)``.

    ``weights``: ``[edges, 5]`` (a softmax of architecture logits, or a
    one-hot sample), shared by every cell.  ``hard``: one op index per edge
    when ``weights`` is one-hot, so that only the chosen ops run.
    """

    def __init__(self, num_classes: int = 10, *, C: int = 8, N: int = 1, in_channels: int = 3, n_nodes: int = 4,
                 affine: bool = False) -> None:
        super().__init__(lambda c: SearchCell(c, n_nodes, affine), num_classes, C, N, in_channels)
        self.n_nodes = n_nodes
        self.edge_list = cell_edges(n_nodes)

    @property
    def n_edges(self) -> int:
        return len(self.edge_list)

    def forward(self, x, weights, hard: Sequence[int] | None = None):
        if tuple(weights.shape) != (self.n_edges, len(OPS)):
            raise ArchscapeError(f"architecture weights must be [{self.n_edges}, {len(OPS)}]; got {list(weights.shape)}")
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x, weights, hard) if isinstance(cell, SearchCell) else cell(x)
        return self._head(x)


class CellNetwork(_Skeleton):
    """The NB201 skeleton around a fixed cell of ``n_nodes`` nodes (``ops``: one index per :func:`cell_edges` edge)."""

    def __init__(self, ops: Sequence[int], num_classes: int = 10, *, n_nodes: int = 4, C: int = 16, N: int = 5,
                 in_channels: int = 3) -> None:
        ops = check_cell_ops(ops, n_nodes)
        super().__init__(lambda c: FixedCell(ops, c, n_nodes), num_classes, C, N, in_channels)
        self.n_nodes, self.ops = n_nodes, ops

    def forward(self, x):
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self._head(x)


__all__ = ["MAX_NODES", "CellNetwork", "check_cell_ops", "FixedCell", "MixedOp", "NB201SuperNet", "SearchCell", "cell_edges", "search_op"]
