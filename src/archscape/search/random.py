"""Random search: uniformly random architectures, each asked once."""

from __future__ import annotations

from typing import ClassVar

from archscape.search.base import Optimizer
from archscape.spaces.base import Genotype


class RandomSearch(Optimizer):
    """Sample architectures uniformly (as the space's ``sample`` does), never repeating one.

    Told values do not change what it asks, so any number of asks may be
    outstanding at once.
    """

    name = "random"
    requires: ClassVar[tuple[str, ...]] = ("sample",)

    def _ask(self) -> Genotype:
        return self.sample_new()
