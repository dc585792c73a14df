"""The NAGO network: a three-level hierarchy of random graphs sampled from a generator.

``build_network("nago", genotype, num_classes=10, in_channels=3, input_size=32,
param_budget=1.0, graph_seed=0)`` samples the graphs of the generator
``genotype`` with ``graph_seed`` (:meth:`archscape.spaces.nago.NagoSpace.sample_graphs`)
and builds:

* a **stem**: conv3x3 (no bias) + BN from the input to the width of stage 0;
* one **cell** per top node.  Top nodes are split into stages in index order
  (default 1:1:1, :func:`~archscape.spaces.nago.node_stages`); stage ``s`` has
  ``round(width * channel_ratios[s])`` channels (default 1:2:4) and runs at
  ``ceil(H / 2**s)`` (downsampling by average pooling where a cell reads a
  tensor of an earlier stage, as in the authors' code).  A cell reads the
  stem if it has no predecessor in the top graph, else its predecessors; an
  input of another width goes through a 1x1 conv (no bias);
* inside a cell, the mid-level graph: each mid node is a bottom-level graph,
  each bottom node an operation ReLU-conv3x3-BN at the cell's width;
* at every level, a node with several inputs takes their **weighted sum**
  ``sum_e sigmoid(w_e) * x_e`` with one learnable scalar per input
  (independent sigmoid gates, initialised at ``w_e = 0``, i.e. 0.5; a softmax
  would make the inputs compete, the authors' ``BoundedScalarMultiply`` is a
  sigmoid gate too); a node without predecessors reads the graph's input; a
  graph's output is the mean of the nodes without successors;
* the **head**: the mean of the top graph's outputs (pooled to the last
  stage's resolution, projected by 1x1 convs to the last node's width), then
  ReLU, global average pooling and a linear classifier.

Width: with ``channels=None`` (default) the base width is the largest whose
network has at most ``param_budget`` million parameters, found by bisection
on the exact count of :func:`archscape.spaces.nago.count_parameters` (a
network always has width at least 1, even when that exceeds the budget);
``channels=C`` fixes it (and ``param_budget`` is then ignored).

The same genotype, options and ``graph_seed`` always give the same graphs and
width; weights are initialised from torch's global generator (seed it, e.g.
``torch.manual_seed``, for identical weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from archscape.errors import ArchscapeError
from archscape.spaces.nago import (
    CHANNEL_RATIOS,
    STAGE_RATIOS,
    Dag,
    NagoGraphs,
    NagoSpace,
    count_parameters,
    node_stages,
    stage_widths,
    width_for_budget,
)


class Gate(nn.Module):
    """Weighted sum of ``k`` inputs with independent sigmoid weights."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(k))

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        w = torch.sigmoid(self.weight)
        out = xs[0] * w[0]
        for i in range(1, len(xs)):
            out = out + xs[i] * w[i]
        return out


class Operation(nn.Sequential):
    """ReLU - conv3x3 (no bias) - BN at a fixed width."""

    def __init__(self, channels: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )


class GraphModule(nn.Module):
    """A DAG of modules: inputs read the graph's input, several inputs are gated, outputs averaged."""

    def __init__(self, dag: Dag, nodes: Sequence[nn.Module]) -> None:
        super().__init__()
        self.preds = dag.preds
        self.outputs = dag.outputs
        self.nodes = nn.ModuleList(nodes)
        self.gates = nn.ModuleDict({str(k): Gate(len(p)) for k, p in enumerate(dag.preds) if len(p) > 1})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs: list[torch.Tensor] = []
        for k, node in enumerate(self.nodes):
            preds = self.preds[k]
            if not preds:
                inp = x
            elif len(preds) == 1:
                inp = outs[preds[0]]
            else:
                inp = self.gates[str(k)]([outs[j] for j in preds])
            outs.append(node(inp))
        return _mean([outs[o] for o in self.outputs])


class Cell(nn.Module):
    """A top-level node: its inputs pooled, projected and gated, then its mid-level graph."""

    def __init__(self, source_widths: Sequence[int], width: int, mid: Dag, bottoms: Sequence[Dag]) -> None:
        super().__init__()
        self.project = nn.ModuleList(
            nn.Identity() if c == width else nn.Conv2d(c, width, 1, bias=False) for c in source_widths
        )
        self.gate = Gate(len(source_widths)) if len(source_widths) > 1 else None
        self.body = GraphModule(mid, [GraphModule(b, [Operation(width) for _ in range(b.n)]) for b in bottoms])

    def forward(self, xs: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        xs = [proj(_pool(x, size)) for proj, x in zip(self.project, xs)]
        x = xs[0] if self.gate is None else self.gate(xs)
        return self.body(x)


class NagoNetwork(nn.Module):
    """A network sampled from a NAGO generator (see the module docstring)."""

    def __init__(
        self,
        graphs: NagoGraphs,
        width: int,
        *,
        num_classes: int,
        in_channels: int = 3,
        stage_ratios: Sequence[float] = STAGE_RATIOS,
        channel_ratios: Sequence[float] = CHANNEL_RATIOS,
    ) -> None:
        super().__init__()
        self.graphs = graphs
        self.width = width
        widths = stage_widths(width, channel_ratios)
        top = graphs.top
        self.stages = node_stages(top.n, stage_ratios)
        self.n_stages = len(widths)
        node_width = [widths[s] for s in self.stages]
        self.preds = top.preds
        self.outputs = top.outputs
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]))
        self.cells = nn.ModuleList(
            Cell([node_width[j] for j in top.preds[i]] or [widths[0]], node_width[i], graphs.mid[i], graphs.bottom[i])
            for i in range(top.n)
        )
        last = node_width[top.n - 1]
        self.last_stage = self.stages[top.n - 1]
        self.out_project = nn.ModuleList(
            nn.Identity() if node_width[o] == last else nn.Conv2d(node_width[o], last, 1, bias=False) for o in top.outputs
        )
        self.classifier = nn.Linear(last, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        sizes = [(-(-h // 2**s), -(-w // 2**s)) for s in range(self.n_stages)]
        stem = self.stem(x)
        outs: list[torch.Tensor] = []
        for i, cell in enumerate(self.cells):
            preds = self.preds[i]
            inputs = [outs[j] for j in preds] if preds else [stem]
            outs.append(cell(inputs, sizes[self.stages[i]]))
        size = sizes[self.last_stage]
        y = _mean([proj(_pool(outs[o], size)) for proj, o in zip(self.out_project, self.outputs)])
        y = F.adaptive_avg_pool2d(F.relu(y), 1).flatten(1)
        return self.classifier(y)


def _pool(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return x if tuple(x.shape[-2:]) == size else F.adaptive_avg_pool2d(x, size)


def _mean(xs: list[torch.Tensor]) -> torch.Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out if len(xs) == 1 else out / len(xs)


def build_nago_network(
    genotype: Any,
    *,
    num_classes: int,
    in_channels: int = 3,
    input_size: int = 32,
    param_budget: float = 1.0,
    channels: int | None = None,
    graph_seed: int = 0,
    stage_ratios: Sequence[float] = STAGE_RATIOS,
    channel_ratios: Sequence[float] = CHANNEL_RATIOS,
    generators: Sequence[str] = ("ws", "er", "ws"),
    p_step: float = 0.05,
) -> NagoNetwork:
    """Sample the graphs of ``genotype`` with ``graph_seed`` and build its network.

    ``genotype``: a genotype (or its text form) of ``NagoSpace(*generators,
    p_step=p_step)``.  ``param_budget``: millions of parameters the width is
    fitted to; ``channels``: a fixed base width instead.  ``input_size`` is
    only checked: the resolution of each stage follows the actual input.
    """
    if isinstance(generators, str) or len(generators) != 3:
        raise ArchscapeError(f"generators names the top, mid and bottom generators, e.g. ('ws', 'er', 'ws'); got {generators!r}")
    space = NagoSpace(*generators, p_step=p_step)
    genotype = space.as_genotype(genotype)
    for name, value in (("num_classes", num_classes), ("in_channels", in_channels), ("input_size", input_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ArchscapeError(f"{name} must be a positive int; got {value!r}")
    if len(stage_ratios) != len(channel_ratios):
        raise ArchscapeError(
            f"stage_ratios and channel_ratios must have the same length; got {len(stage_ratios)} and {len(channel_ratios)}"
        )
    graphs = space.sample_graphs(genotype, graph_seed)
    options = {"in_channels": in_channels, "num_classes": num_classes, "stage_ratios": stage_ratios, "channel_ratios": channel_ratios}
    if channels is None:
        if not isinstance(param_budget, (int, float)) or isinstance(param_budget, bool) or not param_budget > 0:
            raise ArchscapeError(f"param_budget is a positive number of millions of parameters; got {param_budget!r}")
        width = width_for_budget(graphs, param_budget * 1e6, **options)
    else:
        if not isinstance(channels, int) or isinstance(channels, bool) or channels < 1:
            raise ArchscapeError(f"channels must be a positive int (or None to fit param_budget); got {channels!r}")
        width = channels
    net = NagoNetwork(graphs, width, num_classes=num_classes, in_channels=in_channels, stage_ratios=stage_ratios, channel_ratios=channel_ratios)
    net.genotype = genotype
    net.graph_seed = graph_seed
    net.expected_parameters = count_parameters(graphs, width, **options)
    return net



__all__ = ["Cell", "Gate", "GraphModule", "NagoNetwork", "Operation", "build_nago_network"]
