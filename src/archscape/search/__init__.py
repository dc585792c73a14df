"""Search strategies (ask/tell optimizers) and their registry.

An optimizer is registered with one line below (a lazy ``"module:Class"``, so
nothing is imported until it is asked for); ``make_optimizer(name, **params)``
builds one, ``optimizer_names()`` lists them.
"""

from __future__ import annotations

from typing import Any

from archscape.registry import Registry
from archscape.search.base import Optimizer, SearchExhausted

#: name -> optimizer class
OPTIMIZERS: Registry[Optimizer] = Registry("optimizer")

OPTIMIZERS.register("random", "archscape.search.random:RandomSearch")
OPTIMIZERS.register("local", "archscape.search.local:LocalSearch")
OPTIMIZERS.register("evolution", "archscape.search.evolution:RegularizedEvolution")
OPTIMIZERS.register("bananas", "archscape.search.bananas:BANANAS")
OPTIMIZERS.register("gp", "archscape.search.gp:GPBO")
OPTIMIZERS.register("nago-bo", "archscape.search.nago_bo:NagoBO")
OPTIMIZERS.register("predictor", "archscape.search.predictor_search:PredictorSearch")


def register_optimizer(name: str, factory: Any, *, replace: bool = False) -> None:
    """Register an optimizer class (or ``"module:Class"``) under ``name``."""
    OPTIMIZERS.register(name, factory, replace=replace)


def optimizer_names() -> list[str]:
    return OPTIMIZERS.names()


def make_optimizer(name: str, **params: Any) -> Optimizer:
    """Build a registered optimizer; an unknown hyper-parameter is named in one line."""
    return OPTIMIZERS.make(name, **params)


__all__ = ["OPTIMIZERS", "Optimizer", "SearchExhausted", "make_optimizer", "optimizer_names", "register_optimizer"]
