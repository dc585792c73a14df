"""Networks built from genotypes, only when they are trained.

A search space declares its network builder itself (:attr:`SearchSpace.network`,
``"module:function"``, imported the first time a network is built), so a new
space with a builder needs no line here.  ``build_network(space, genotype,
num_classes=..., in_channels=..., input_size=...)`` looks it up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archscape.errors import UnsupportedOperation, unknown
from archscape.registry import load_target
from archscape.spaces import get_space, space_names, spaces_with
from archscape.spaces.base import SearchSpace
from archscape.train import require_torch


def network_builder(space: str | SearchSpace) -> Callable[..., Any]:
    """The function that builds ``space``'s networks; one line naming the spaces that have one otherwise."""
    if isinstance(space, str) and space not in space_names():
        raise unknown("search space with a network builder", space, spaces_with("network"))
    sp = get_space(space) if isinstance(space, str) else space
    if sp.network is None:
        raise UnsupportedOperation(
            f"search space {sp.name!r} has no network builder to train; accepted: {', '.join(spaces_with('network'))}"
        )
    return load_target(sp.network) if isinstance(sp.network, str) else sp.network


def build_network(space: str | SearchSpace, genotype: Any, *, num_classes: int, in_channels: int = 3,
                  input_size: int = 32, **options: Any):
    """A fresh ``torch.nn.Module`` for ``genotype`` of search space ``space`` (a name or a space)."""
    require_torch()
    return network_builder(space)(genotype, num_classes=num_classes, in_channels=in_channels, input_size=input_size,
                                  **options)


__all__ = ["build_network", "network_builder"]
