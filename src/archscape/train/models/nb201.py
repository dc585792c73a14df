"""The NAS-Bench-201 network (the benchmark's ``TinyNetwork``).

Stem (3x3 conv to ``C`` channels, BN), then three stages of ``N`` cells with
``C``, ``2C`` and ``4C`` channels, separated by residual reduction blocks
(:class:`~archscape.train.models.ops.ResNetBasicBlock`, stride 2), then BN,
ReLU, global average pooling and a linear classifier.  Defaults are the
benchmark's: ``C=16``, ``N=5``.

A cell has nodes 0..3; node ``j`` sums one operation on each earlier node
(edges in arch-string order ``0->1, 0->2, 1->2, 0->3, 1->3, 2->3``) and the
cell outputs node 3.  Operations: ``none`` (zeros), ``skip_connect``
(identity), ``nor_conv_1x1`` / ``nor_conv_3x3`` (ReLU-conv-BN) and
``avg_pool_3x3`` (padding not counted), as in the benchmark.

The genotype is anything :meth:`archscape.spaces.nb201.NB201Space.as_genotype`
accepts: six op indices or the official arch string.
"""

from __future__ import annotations

from archscape.errors import ArchscapeError
from archscape.spaces.nb201 import EDGES, OPS
from archscape.train import require_torch
from archscape.train.models.ops import Pool3x3, ReLUConvBN, ResNetBasicBlock, Zero

torch = require_torch()
nn = torch.nn


def make_op(name: str, C: int):
    """One NB201 operation on ``C`` channels, stride 1."""
    if name == "none":
        return Zero(C, C, 1)
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(C, C, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(C, C, 3, 1, 1)
    if name == "avg_pool_3x3":
        return Pool3x3(C, C, 1, "avg")
    raise ArchscapeError(f"unknown NB201 operation {name!r}; accepted: {', '.join(OPS)}")


class NB201Cell(nn.Module):
    """The 4-node NB201 cell for a genotype of six op indices."""

    def __init__(self, genotype: tuple[int, ...], C: int) -> None:
        super().__init__()
        self.genotype = tuple(genotype)
        self.edges = nn.ModuleList(make_op(OPS[o], C) for o in self.genotype)

    def forward(self, x):
        nodes = [x]
        for j in (1, 2, 3):
            nodes.append(sum(self.edges[e](nodes[i]) for e, (i, k) in enumerate(EDGES) if k == j))
        return nodes[3]


class NB201Network(nn.Module):
    """NAS-Bench-201's macro skeleton around one cell genotype."""

    def __init__(self, genotype, num_classes: int = 10, *, C: int = 16, N: int = 5, in_channels: int = 3) -> None:
        super().__init__()
        if C < 1 or N < 0 or num_classes < 1 or in_channels < 1:
            raise ArchscapeError(f"NB201 network needs C >= 1, N >= 0, classes >= 1, channels >= 1; got C={C}, N={N}")
        self.genotype, self.C, self.N = tuple(genotype), C, N
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        cells = []
        c_prev = C
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                cells.append(ResNetBasicBlock(c_prev, c, 2))
            cells += [NB201Cell(self.genotype, c) for _ in range(N)]
            c_prev = c
        self.cells = nn.Sequential(*cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x):
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.global_pooling(x), 1))


def build(genotype, *, num_classes: int, in_channels: int = 3, input_size: int = 32, C: int = 16, N: int = 5) -> NB201Network:
    """The NB201 network for ``genotype`` (``input_size`` is free: global pooling)."""
    from archscape.spaces import get_space

    g = get_space("nb201").as_genotype(genotype)
    return NB201Network(g, num_classes, C=C, N=N, in_channels=in_channels)



__all__ = ["NB201Cell", "NB201Network", "build", "make_op"]
