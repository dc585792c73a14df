"""The DARTS evaluation network (quark0/darts ``NetworkCIFAR``), as trained for NAS-Bench-301.

Stem: 3x3 conv to ``3C`` channels and BN.  Then ``layers`` cells; the cells at
``layers // 3`` and ``2 * layers // 3`` are reduction cells (stride 2, channels
doubled), the others normal cells.  A cell takes the outputs of the two
previous cells, preprocesses them to ``C`` channels (ReLU-conv1x1-BN, or a
factorized reduction when the previous cell reduced), computes four
intermediate nodes (each the sum of two operations on earlier nodes; in a
reduction cell operations on the cell inputs have stride 2) and concatenates
them (``4C`` channels).  Then global average pooling and a linear classifier.

Defaults are NAS-Bench-301's training configuration (``C=32``, ``layers=8``,
auxiliary head, drop path 0.2); ``preset="darts"`` gives the DARTS paper's
evaluation network (``C=36``, ``layers=20``; DARTS-V2 has 3.35M parameters).

Training-only parts, for the trainer:

* the auxiliary head (after cell ``2 * layers // 3``) runs only in training
  mode; its logits are left in ``model.aux_logits`` (``None`` otherwise), to be
  added to the loss with weight ``model.auxiliary_weight`` (0.4).  ``forward``
  always returns the main logits only.  Parameter counts leave the head out
  (:func:`~archscape.train.models.flops.count_parameters`), as DARTS does.
* drop path: ``model.drop_path_prob`` (0 at first);
  ``model.on_epoch_start(epoch, epochs)`` sets it to
  ``max_drop_path_prob * epoch / epochs`` as DARTS' training script does.

The genotype is anything :meth:`archscape.spaces.darts.DartsSpace.as_genotype`
accepts: ``(normal, reduce)`` pairs of op indices and inputs, or DARTS'
``Genotype(...)`` text.
"""

from __future__ import annotations

from archscape.errors import ArchscapeError, unknown
from archscape.spaces.darts import CONCAT, OPS
from archscape.train import require_torch
from archscape.train.models.ops import (
    DilConv,
    FactorizedReduce,
    ReLUConvBN,
    SepConv,
    drop_path,
)

torch = require_torch()
nn = torch.nn

#: (C, layers) of the known training set-ups
PRESETS = {"nb301": (32, 8), "darts": (36, 20)}
AUXILIARY_WEIGHT = 0.4
DROP_PATH_PROB = 0.2


def make_op(name: str, C: int, stride: int):
    """One DARTS operation on ``C`` channels (``operations.py``)."""
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(C, C)
    if name == "sep_conv_3x3":
        return SepConv(C, C, 3, stride, 1)
    if name == "sep_conv_5x5":
        return SepConv(C, C, 5, stride, 2)
    if name == "dil_conv_3x3":
        return DilConv(C, C, 3, stride, 2, 2)
    if name == "dil_conv_5x5":
        return DilConv(C, C, 5, stride, 4, 2)
    raise unknown("DARTS operation", name, OPS)


class DartsCell(nn.Module):
    def __init__(self, cell, C_prev_prev: int, C_prev: int, C: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = FactorizedReduce(C_prev_prev, C) if reduction_prev else ReLUConvBN(C_prev_prev, C, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0)
        self.inputs = [inp for _, inp in cell]
        self._ops = nn.ModuleList(make_op(OPS[op], C, 2 if reduction and inp < 2 else 1) for op, inp in cell)
        self.multiplier = len(CONCAT)

    def forward(self, s0, s1, drop_prob: float = 0.0):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(len(self._ops) // 2):
            total = 0
            for j in (2 * k, 2 * k + 1):
                op = self._ops[j]
                h = op(states[self.inputs[j]])
                if self.training and drop_prob > 0 and not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob)
                total = total + h
            states.append(total)
        return torch.cat([states[i] for i in CONCAT], dim=1)


class AuxiliaryHead(nn.Module):
    """DARTS' CIFAR auxiliary tower (for an 8x8 input; the last conv shrinks to fit smaller maps)."""

    def __init__(self, C: int, num_classes: int, size: int) -> None:
        super().__init__()
        pooled = max(1, (size - 5) // 3 + 1) if size >= 5 else 1
        self.features = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False) if size >= 5 else nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, min(2, pooled), bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),  # a no-op for 32x32 inputs (the map is already 1x1)
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class DartsNetwork(nn.Module):
    """DARTS' ``NetworkCIFAR`` for a ``(normal, reduce)`` genotype."""

    def __init__(
        self,
        genotype,
        num_classes: int = 10,
        *,
        C: int = 32,
        layers: int = 8,
        auxiliary: bool = True,
        drop_path_prob: float = DROP_PATH_PROB,
        in_channels: int = 3,
        input_size: int = 32,
    ) -> None:
        super().__init__()
        if C < 1 or layers < 3 or num_classes < 1 or C % 2:
            raise ArchscapeError(f"DARTS network needs an even C >= 2 and layers >= 3; got C={C}, layers={layers}")
        self.genotype = genotype
        self.layers_n = layers
        self.max_drop_path_prob = float(drop_path_prob)
        self.drop_path_prob = 0.0
        self.auxiliary_weight = AUXILIARY_WEIGHT if auxiliary else 0.0
        self.aux_logits = None
        stem_c = 3 * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, stem_c, 3, padding=1, bias=False), nn.BatchNorm2d(stem_c))
        c_pp, c_p, c = stem_c, stem_c, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        self.aux_index = 2 * layers // 3
        size = input_size
        c_aux, size_aux = c_p, size
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c *= 2
                size = (size + 1) // 2
            cell = DartsCell(genotype[1] if reduction else genotype[0], c_pp, c_p, c, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells.append(cell)
            c_pp, c_p = c_p, cell.multiplier * c
            if i == self.aux_index:
                c_aux, size_aux = c_p, size
        self.auxiliary_head = AuxiliaryHead(c_aux, num_classes, size_aux) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    def on_epoch_start(self, epoch: int, epochs: int) -> None:
        """Linear drop-path schedule of DARTS' ``train.py``: ``max * epoch / epochs``."""
        self.drop_path_prob = self.max_drop_path_prob * epoch / max(1, epochs)

    def forward(self, x):
        self.aux_logits = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.aux_index and self.auxiliary_head is not None and self.training:
                self.aux_logits = self.auxiliary_head(s1)
        return self.classifier(torch.flatten(self.global_pooling(s1), 1))


def build(
    genotype,
    *,
    num_classes: int,
    in_channels: int = 3,
    input_size: int = 32,
    preset: str = "nb301",
    C: int | None = None,
    layers: int | None = None,
    auxiliary: bool = True,
    drop_path_prob: float = DROP_PATH_PROB,
) -> DartsNetwork:
    """The DARTS network for ``genotype``; ``preset`` "nb301" (C=32, 8 cells) or "darts" (C=36, 20 cells)."""
    from archscape.spaces import get_space

    if preset not in PRESETS:
        raise unknown("DARTS network preset", preset, PRESETS)
    c0, l0 = PRESETS[preset]
    g = get_space("darts").as_genotype(genotype)
    return DartsNetwork(
        g, num_classes, C=c0 if C is None else C, layers=l0 if layers is None else layers, auxiliary=auxiliary,
        drop_path_prob=drop_path_prob, in_channels=in_channels, input_size=input_size,
    )  # fmt: skip



__all__ = ["AUXILIARY_WEIGHT", "PRESETS", "DartsCell", "DartsNetwork", "build", "make_op"]
