"""Networks built from genotypes, only when they are trained.

``build_network(space, genotype, num_classes=..., in_channels=..., input_size=...)``
looks the space up in a registry of builders; each builder module registers
itself with :func:`register_network`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from archscape.errors import unknown
from archscape.train import require_torch

#: space name -> module that registers its builder when imported
BUILDER_MODULES = {
    "nb201": "archscape.train.models.nb201",
    "nb101": "archscape.train.models.nb101",
    "darts": "archscape.train.models.darts",
    "macro": "archscape.train.models.macro",
    "cnn": "archscape.train.models.cnn",
    "cnn-broad": "archscape.train.models.cnn",
    "cnn-narrow": "archscape.train.models.cnn",
    "nago": "archscape.train.models.nago",
}
_BUILDERS: dict[str, Callable[..., Any]] = {}


def register_network(space: str, builder: Callable[..., Any]) -> None:
    _BUILDERS[space] = builder


def build_network(space: str, genotype: Any, *, num_classes: int, in_channels: int = 3, input_size: int = 32, **options: Any):
    """A fresh ``torch.nn.Module`` for ``genotype`` of search space ``space``."""
    require_torch()
    if space not in _BUILDERS and space in BUILDER_MODULES:
        importlib.import_module(BUILDER_MODULES[space])
    try:
        builder = _BUILDERS[space]
    except KeyError:
        raise unknown("search space with a network builder", space, BUILDER_MODULES) from None
    return builder(genotype, num_classes=num_classes, in_channels=in_channels, input_size=input_size, **options)
