"""Predictors (surrogate models of a search space) and their registry.

See :mod:`archscape.predictors.base` for the interface.  ``make_predictor(name,
**params)`` builds a registered one; ``predictor_names()`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archscape.errors import ArchscapeError, unknown
from archscape.predictors.base import Prediction, Predictor

_PREDICTORS: dict[str, Callable[..., Predictor]] = {}


def register_predictor(name: str, factory: Callable[..., Predictor]) -> None:
    _PREDICTORS[name] = factory


def predictor_names() -> list[str]:
    return list(_PREDICTORS)


def make_predictor(name: str, **params: Any) -> Predictor:
    """Build a registered predictor; an unknown hyper-parameter is named in one line."""
    try:
        factory = _PREDICTORS[name]
    except KeyError:
        raise unknown("predictor", name, _PREDICTORS) from None
    try:
        return factory(**params)
    except TypeError as exc:
        accepted = list(getattr(factory, "_parameter_constraints", {}))
        raise ArchscapeError(f"bad parameter for predictor {name!r}: {exc}; accepted: {', '.join(accepted)}") from None


__all__ = ["Prediction", "Predictor", "make_predictor", "predictor_names", "register_predictor"]


# The predictors (each module imports its heavy library lazily, so registering them costs little).
from archscape.predictors.forest import RandomForestPredictor  # noqa: E402
from archscape.predictors.gnn import GNNPredictor  # noqa: E402
from archscape.predictors.gp import GPPredictor  # noqa: E402
from archscape.predictors.lgbm import LGBMPredictor  # noqa: E402
from archscape.predictors.mlp import MLPPredictor  # noqa: E402

for _cls in (MLPPredictor, GPPredictor, RandomForestPredictor, LGBMPredictor, GNNPredictor):
    register_predictor(_cls.name, _cls)
