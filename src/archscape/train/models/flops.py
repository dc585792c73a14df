"""Parameter and FLOP counts of a network, as the NAS benchmarks report them.

``count_flops`` follows the convention of NAS-Bench-101, NAS-Bench-201 and
NAS-Bench-Macro (and of ``thop``/``ptflops``): one multiply-accumulate counts
as one FLOP, only convolutions and fully connected layers count (not batch
norm, activations, pooling or additions), biases are ignored, and the result
is per image, in millions.  On the NAS-Bench-Macro chain ``00000000`` this
gives the benchmark's 7.71328 MFLOPs exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from archscape.errors import ArchscapeError
from archscape.train import require_torch

torch = require_torch()
nn = torch.nn

#: parameters whose name contains one of these are left out by default: training-only heads
#: (the DARTS auxiliary tower), as DARTS' and NB301's own counts do
TRAINING_ONLY = ("auxiliary",)


def count_parameters(model, *, exclude: Sequence[str] = TRAINING_ONLY, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (buffers such as batch-norm statistics are not parameters).

    Parameters whose qualified name contains a string of ``exclude`` are left
    out (default: the DARTS auxiliary head, which only exists for training).
    """
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if not any(e in name for e in exclude) and (p.requires_grad or not trainable_only)
    )


def count_flops(model, input_shape: Sequence[int], *, device=None) -> float:
    """Multiply-accumulates of one forward pass of a single image, in millions (MFLOPs).

    ``input_shape`` is ``(channels, height, width)`` (a leading batch size of 1
    is accepted).  The model is run once in eval mode on zeros, with forward
    hooks on every ``Conv2d`` and ``Linear``; its training mode is restored.
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) != 3 or min(shape) < 1:
        raise ArchscapeError(f"input_shape is (channels, height, width); got {tuple(input_shape)!r}")
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else "cpu"
    total = 0

    def conv_hook(module, inputs, output):
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1]
        total += output.numel() * (module.in_channels // module.groups) * k

    def linear_hook(module, inputs, output):
        nonlocal total
        total += output.numel() * module.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *shape), device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total / 1e6


__all__ = ["TRAINING_ONLY", "count_flops", "count_parameters"]
