"""Building blocks shared by the benchmark networks (torch).

Each block reproduces the layer of an official implementation named in its
docstring; parameter counts therefore match the published benchmarks.
Convolutions followed by batch normalisation have no bias, as in all of them.
"""

from __future__ import annotations

import math

from archscape.train import require_torch

torch = require_torch()
nn = torch.nn
F = torch.nn.functional


class Zero(nn.Module):
    """The ``none`` operation: zeros shaped like the output (NB201, DARTS)."""

    def __init__(self, C_in: int, C_out: int, stride: int = 1) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x):
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.C_in == self.C_out:
            return x.mul(0.0)
        shape = list(x.shape)
        shape[1] = self.C_out
        return x.new_zeros(shape)

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class ReLUConvBN(nn.Sequential):
    """ReLU -> conv (no bias) -> batch norm (NB201 and DARTS)."""

    def __init__(self, C_in: int, C_out: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel, stride=stride, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class ConvBNReLU(nn.Sequential):
    """Conv (no bias, 'same' padding for odd kernels) -> batch norm -> ReLU (NB101 ``conv_bn_relu``, Macro stem).

    ``momentum`` and ``eps`` are torch's (NB101's TensorFlow decay 0.997 is torch momentum 0.003).
    """

    def __init__(self, C_in: int, C_out: int, kernel: int, stride: int = 1, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__(
            nn.Conv2d(C_in, C_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(C_out, momentum=momentum, eps=eps),
            nn.ReLU(inplace=True),
        )


class SepConv(nn.Sequential):
    """DARTS separable convolution: (ReLU, depthwise k x k, pointwise 1x1, BN) twice; stride in the first."""

    def __init__(self, C_in: int, C_out: int, kernel: int, stride: int, padding: int, affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel, stride=stride, padding=padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_in, 1, bias=False),
            nn.BatchNorm2d(C_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel, stride=1, padding=padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class DilConv(nn.Sequential):
    """DARTS dilated separable convolution: ReLU, dilated depthwise k x k, pointwise 1x1, BN."""

    def __init__(self, C_in: int, C_out: int, kernel: int, stride: int, padding: int, dilation: int, affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel, stride=stride, padding=padding, dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class FactorizedReduce(nn.Module):
    """Halve the resolution with two stride-2 1x1 convolutions, the second shifted by one pixel (DARTS).

    Unlike the original it also works on odd sizes: the shifted half is
    padded at the bottom/right to the size of the other half.
    """

    def __init__(self, C_in: int, C_out: int, affine: bool = True) -> None:
        super().__init__()
        if C_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of output channels; got {C_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x):
        x = self.relu(x)
        a = self.conv_1(x)
        b = self.conv_2(x[:, :, 1:, 1:])
        if b.shape[-2:] != a.shape[-2:]:
            b = F.pad(b, (0, a.shape[-1] - b.shape[-1], 0, a.shape[-2] - b.shape[-2]))
        return self.bn(torch.cat([a, b], dim=1))


class ResNetBasicBlock(nn.Module):
    """The residual reduction block of NAS-Bench-201: two ReLU-conv3x3-BN, shortcut avg-pool + 1x1 conv."""

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"ResNetBasicBlock stride must be 1 or 2; got {stride}")
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1)
        if stride == 2:
            self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(C_in, C_out, 1, bias=False))
        elif C_in != C_out:
            self.downsample = ReLUConvBN(C_in, C_out, 1, 1, 0)
        else:
            self.downsample = None

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))


class Pool3x3(nn.Module):
    """3x3 average (not counting padding) or max pooling, padding 1; a ReLU-conv1x1-BN first when channels change (NB201, DARTS)."""

    def __init__(self, C_in: int, C_out: int, stride: int, mode: str) -> None:
        super().__init__()
        self.preprocess = None if C_in == C_out else ReLUConvBN(C_in, C_out, 1, 1, 0)
        if mode == "avg":
            self.op = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
        elif mode == "max":
            self.op = nn.MaxPool2d(3, stride=stride, padding=1)
        else:
            raise ValueError(f"pooling mode is 'avg' or 'max'; got {mode!r}")

    def forward(self, x):
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)


class InvertedResidual(nn.Module):
    """MobileNetV2 block of NAS-Bench-Macro: 1x1 expand (x ``expansion``), depthwise k x k, 1x1 project;
    BN after each convolution, ReLU after the first two; a shortcut when shape is kept."""

    def __init__(self, C_in: int, C_out: int, stride: int, expansion: int, kernel: int) -> None:
        super().__init__()
        hidden = round(C_in * expansion)
        layers = []
        if expansion != 1:
            layers += [nn.Conv2d(C_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, kernel, stride, padding=kernel // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out),
        ]
        self.conv = nn.Sequential(*layers)
        self.use_shortcut = C_in == C_out and stride == 1

    def forward(self, x):
        out = self.conv(x)
        return out + x if self.use_shortcut else out


class Downsample(nn.Module):
    """NAS-Bench-Macro's identity block: nothing, or a strided 1x1 conv + BN when shape changes."""

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        if stride != 1 or C_in != C_out:
            self.downsample = nn.Sequential(nn.Conv2d(C_in, C_out, 1, stride=stride, bias=False), nn.BatchNorm2d(C_out))
        else:
            self.downsample = None

    def forward(self, x):
        return x if self.downsample is None else self.downsample(x)


def drop_path(x, drop_prob: float):
    """Zero whole samples with probability ``drop_prob`` and rescale the rest (DARTS' drop path)."""
    if drop_prob <= 0.0:
        return x
    keep = 1.0 - drop_prob
    mask = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
    return x / keep * mask


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow/Keras 'same' padding (before, after) of one axis: output ``ceil(size / stride)``, extra padding after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class SamePad2d(nn.Module):
    """Pad like Keras' ``padding='same'`` for a ``kernel`` x ``kernel`` window of stride ``stride``.

    ``value`` is ``-inf`` before a max pooling (padding never wins), 0 before a convolution.
    """

    def __init__(self, kernel: int, stride: int, value: float = 0.0) -> None:
        super().__init__()
        self.kernel, self.stride, self.value = kernel, stride, value

    def forward(self, x):
        top, bottom = same_padding(x.shape[-2], self.kernel, self.stride)
        left, right = same_padding(x.shape[-1], self.kernel, self.stride)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom), value=self.value)
        return x

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}, stride={self.stride}, value={self.value}"


__all__ = [
    "ConvBNReLU",
    "DilConv",
    "Downsample",
    "FactorizedReduce",
    "InvertedResidual",
    "Pool3x3",
    "ReLUConvBN",
    "ResNetBasicBlock",
    "SamePad2d",
    "SepConv",
    "Zero",
    "drop_path",
    "same_padding",
]
