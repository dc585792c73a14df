"""The NAS-Bench-Macro network (xiusu/NAS-Bench-Macro ``train/model.py``).

Stem: 3x3 conv-BN-ReLU to ``C`` (32) channels.  Then 8 searchable layers in
three stages of 2, 3 and 3; the first layer of each stage has stride 2 and
doubles the channels (64, 128, 256).  Each layer is

* ``0`` identity (at a stride-2 layer a strided 1x1 conv + BN),
* ``1`` MB3_K3: MobileNetV2 inverted residual, expansion 3, kernel 3,
* ``2`` MB6_K5: expansion 6, kernel 5,

(with a shortcut when the shape is kept).  Then a 1x1 conv-BN-ReLU to 1280
channels, global average pooling and a linear classifier.  Parameter counts
and FLOPs match the benchmark's ``params`` and ``flops`` exactly.

The genotype is anything :meth:`archscape.spaces.macro.MacroSpace.as_genotype`
accepts: 8 block indices or the 8-digit string.
"""

from __future__ import annotations

from archscape.errors import ArchscapeError
from archscape.spaces.macro import OPS, STAGES
from archscape.train import require_torch
from archscape.train.models.ops import ConvBNReLU, Downsample, InvertedResidual

torch = require_torch()
nn = torch.nn

#: (expansion, kernel) of the two MobileNetV2 blocks
BLOCKS = {"mb3_k3": (3, 3), "mb6_k5": (6, 5)}


def make_block(name: str, C_in: int, C_out: int, stride: int):
    if name == "identity":
        return Downsample(C_in, C_out, stride)
    try:
        expansion, kernel = BLOCKS[name]
    except KeyError:
        raise ArchscapeError(f"unknown NAS-Bench-Macro block {name!r}; accepted: {', '.join(OPS)}") from None
    return InvertedResidual(C_in, C_out, stride, expansion, kernel)


class MacroNetwork(nn.Module):
    """NAS-Bench-Macro's chain of 8 blocks."""

    def __init__(self, genotype, num_classes: int = 10, *, C: int = 32, last_channels: int = 1280, in_channels: int = 3) -> None:
        super().__init__()
        if C < 1 or last_channels < 1 or num_classes < 1:
            raise ArchscapeError(f"Macro network needs C, last_channels, classes >= 1; got C={C}, last_channels={last_channels}")
        self.genotype = tuple(genotype)
        self.stem = ConvBNReLU(in_channels, C, 3)
        blocks = []
        c = C
        layer = 0
        for length in STAGES:
            for j in range(length):
                stride = 2 if j == 0 else 1
                c_out = 2 * c if j == 0 else c
                blocks.append(make_block(OPS[self.genotype[layer]], c, c_out, stride))
                c, layer = c_out, layer + 1
        self.features = nn.Sequential(*blocks)
        self.out = nn.Sequential(ConvBNReLU(c, last_channels, 1), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(last_channels, num_classes)

    def forward(self, x):
        x = self.out(self.features(self.stem(x)))
        return self.classifier(torch.flatten(x, 1))


def build(genotype, *, num_classes: int, in_channels: int = 3, input_size: int = 32, C: int = 32, last_channels: int = 1280) -> MacroNetwork:
    """The NAS-Bench-Macro network for ``genotype`` (``input_size`` is free: global pooling)."""
    from archscape.spaces import get_space

    g = get_space("macro").as_genotype(genotype)
    return MacroNetwork(g, num_classes, C=C, last_channels=last_channels, in_channels=in_channels)



__all__ = ["BLOCKS", "MacroNetwork", "build", "make_block"]
