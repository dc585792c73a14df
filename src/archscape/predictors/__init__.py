"""Predictors (surrogate models of a search space) and their registry.

See :mod:`archscape.predictors.base` for the interface.  A predictor is
registered with one line below (a lazy ``"module:Class"``; each module imports
its heavy library lazily too).  ``make_predictor(name, **params)`` builds a
registered one; ``predictor_names()`` lists them.
"""

from __future__ import annotations

from typing import Any

from archscape.predictors.base import Prediction, Predictor
from archscape.registry import Registry

#: name -> predictor class
PREDICTORS: Registry[Predictor] = Registry("predictor")

PREDICTORS.register("mlp", "archscape.predictors.mlp:MLPPredictor")
PREDICTORS.register("gp", "archscape.predictors.gp:GPPredictor")
PREDICTORS.register("rf", "archscape.predictors.forest:RandomForestPredictor")
PREDICTORS.register("lgbm", "archscape.predictors.lgbm:LGBMPredictor")
PREDICTORS.register("gnn", "archscape.predictors.gnn:GNNPredictor")


def register_predictor(name: str, factory: Any, *, replace: bool = False) -> None:
    """Register a predictor class (or ``"module:Class"``) under ``name``."""
    PREDICTORS.register(name, factory, replace=replace)


def predictor_names() -> list[str]:
    return PREDICTORS.names()


def make_predictor(name: str, **params: Any) -> Predictor:
    """Build a registered predictor; an unknown hyper-parameter is named in one line."""
    return PREDICTORS.make(name, **params)


__all__ = ["PREDICTORS", "Prediction", "Predictor", "make_predictor", "predictor_names", "register_predictor"]
