"""The NAS-Bench-101 network (google-research/nasbench ``model_builder``).

Stem: 3x3 conv-BN-ReLU to 128 channels.  Three stacks of three cells
(modules); before the second and third stacks a 2x2 max pooling of stride 2
halves the resolution and the channels double.  Then global average pooling
and a dense layer.  Batch norm as TensorFlow's in the benchmark (decay 0.997,
i.e. torch momentum 0.003; epsilon 1e-5).

Channel handling inside a cell (the benchmark's ``build_module``):

* the output's channels are split among the vertices that feed the output
  (``compute_vertex_channels``: an even split, the first vertices one channel
  more when it does not divide); every other interior vertex gets the largest
  count among the vertices it feeds;
* a tensor from the cell input to an interior vertex goes through a 1x1
  conv-BN-ReLU projection to that vertex's channels; a tensor between interior
  vertices keeps its first channels when the receiver has fewer (one at most);
* a vertex sums its inputs and applies its operation (3x3 or 1x1
  conv-BN-ReLU to its channels, or 3x3 max pooling of stride 1);
* the output concatenates the vertices that feed it, plus a projection of the
  cell input when the input feeds the output directly (a projection alone
  when no interior vertex does).

The genotype is anything :meth:`archscape.spaces.nb101.NB101Space.validate`
accepts (an ``NB101Cell``, a ``{"matrix", "ops"}`` spec, a ModelSpec) or its
text form.  The cell is pruned as the official ``ModelSpec`` does (vertices
off every input->output path removed) and keeps its vertex order otherwise:
the order decides which vertices get the extra channel of an uneven split,
so a relabelled (isomorphic) cell can differ by a few parameters, exactly as
in the benchmark.
"""

from __future__ import annotations

from archscape.errors import ArchscapeError
from archscape.spaces.nb101 import INPUT, OPS, OUTPUT, NB101Cell
from archscape.train import require_torch
from archscape.train.models.ops import ConvBNReLU

torch = require_torch()
nn = torch.nn

#: NB101 batch norm (TensorFlow decay 0.997 -> torch momentum 0.003)
BN_MOMENTUM = 0.003
BN_EPS = 1e-5


def prune(cell: NB101Cell) -> tuple[list[list[int]], list[int]]:
    """The official ``ModelSpec`` pruning, keeping vertex order: (matrix, ops) of the vertices on an input->output path."""
    n = len(cell.ops)
    m = cell.matrix
    from_input = {0}
    for v in range(1, n):
        if any(m[u][v] for u in from_input):
            from_input.add(v)
    to_output = {n - 1}
    for v in range(n - 2, -1, -1):
        if any(m[v][w] for w in to_output):
            to_output.add(v)
    keep = sorted(from_input & to_output)
    if 0 not in keep or n - 1 not in keep:
        raise ArchscapeError("the NB101 cell does not connect its input to its output")
    return [[m[a][b] for b in keep] for a in keep], [cell.ops[v] for v in keep]


def vertex_channels(in_channels: int, out_channels: int, matrix: list[list[int]]) -> list[int]:
    """Channels of every vertex (the benchmark's ``compute_vertex_channels``)."""
    n = len(matrix)
    ch = [0] * n
    ch[0], ch[n - 1] = in_channels, out_channels
    if n == 2:
        return ch
    fan_in = sum(matrix[v][n - 1] for v in range(1, n - 1))
    base, extra = divmod(out_channels, fan_in)
    for v in range(1, n - 1):
        if matrix[v][n - 1]:
            ch[v] = base + (1 if extra > 0 else 0)
            extra -= 1
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            for w in range(v + 1, n - 1):
                if matrix[v][w]:
                    ch[v] = max(ch[v], ch[w])
    if any(c <= 0 for c in ch[1:-1]):
        raise ArchscapeError(f"NB101 cell: {out_channels} output channels cannot feed {fan_in} vertices")
    return ch


def _projection(c_in: int, c_out: int):
    return ConvBNReLU(c_in, c_out, 1, momentum=BN_MOMENTUM, eps=BN_EPS)


class NB101CellModule(nn.Module):
    """One NB101 module (cell) from a pruned (matrix, ops) pair."""

    def __init__(self, matrix: list[list[int]], ops: list[int], in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.matrix, self.ops = matrix, ops
        n = self.n = len(ops)
        self.channels = ch = vertex_channels(in_channels, out_channels, matrix)
        self.projections = nn.ModuleDict()
        self.vertex_ops = nn.ModuleDict()
        for t in range(1, n - 1):
            if matrix[0][t]:
                self.projections[str(t)] = _projection(in_channels, ch[t])
            name = OPS[ops[t]]
            if name == "conv3x3-bn-relu":
                op = ConvBNReLU(ch[t], ch[t], 3, momentum=BN_MOMENTUM, eps=BN_EPS)
            elif name == "conv1x1-bn-relu":
                op = ConvBNReLU(ch[t], ch[t], 1, momentum=BN_MOMENTUM, eps=BN_EPS)
            elif name == "maxpool3x3":
                op = nn.MaxPool2d(3, stride=1, padding=1)
            else:
                raise ArchscapeError(f"NB101 interior vertex {t} has operation {name!r}")
            self.vertex_ops[str(t)] = op
        self.output_inputs = [t for t in range(1, n - 1) if matrix[t][n - 1]]
        if matrix[0][n - 1] or not self.output_inputs:
            self.projections["out"] = _projection(in_channels, out_channels)

    def forward(self, x):
        n, m, ch = self.n, self.matrix, self.channels
        tensors = [x]
        for t in range(1, n - 1):
            add = [tensors[s][:, : ch[t]] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                add.append(self.projections[str(t)](x))
            h = add[0]
            for a in add[1:]:
                h = h + a
            tensors.append(self.vertex_ops[str(t)](h))
        if not self.output_inputs:
            return self.projections["out"](x)
        outs = [tensors[t] for t in self.output_inputs]
        out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
        if m[0][n - 1]:
            out = out + self.projections["out"](x)
        return out


class NB101Network(nn.Module):
    """NAS-Bench-101's skeleton: stem, ``stacks`` x ``cells`` modules with downsampling, pooling, dense."""

    def __init__(self, cell: NB101Cell, num_classes: int = 10, *, C: int = 128, stacks: int = 3, cells: int = 3, in_channels: int = 3) -> None:
        super().__init__()
        if C < 1 or stacks < 1 or cells < 1 or num_classes < 1:
            raise ArchscapeError(f"NB101 network needs C, stacks, cells, classes >= 1; got C={C}, stacks={stacks}, cells={cells}")
        matrix, ops = prune(cell)
        self.matrix, self.ops = matrix, ops
        self.stem = ConvBNReLU(in_channels, C, 3, momentum=BN_MOMENTUM, eps=BN_EPS)
        layers = []
        c = C
        for stack in range(stacks):
            c_in = c
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))  # TF 'same' for 2x2/2
                c *= 2
            for _ in range(cells):
                layers.append(NB101CellModule(matrix, ops, c_in, c))
                c_in = c
        self.layers = nn.Sequential(*layers)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.classifier(torch.flatten(self.global_pooling(x), 1))


def build(genotype, *, num_classes: int, in_channels: int = 3, input_size: int = 32, C: int = 128, stacks: int = 3, cells: int = 3) -> NB101Network:
    """The NB101 network for ``genotype`` (``input_size`` is free: global pooling)."""
    from archscape.spaces import get_space

    space = get_space("nb101")
    cell = space.validate(space.parse(genotype) if isinstance(genotype, str) else genotype)
    if cell.ops[0] != INPUT or cell.ops[-1] != OUTPUT:  # validate guarantees it; kept for clarity
        raise ArchscapeError("an NB101 cell starts with input and ends with output")
    return NB101Network(cell, num_classes, C=C, stacks=stacks, cells=cells, in_channels=in_channels)



__all__ = ["NB101CellModule", "NB101Network", "build", "prune", "vertex_channels"]
