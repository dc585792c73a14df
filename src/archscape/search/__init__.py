"""Search strategies (ask/tell optimizers) and their registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archscape.errors import ArchscapeError, unknown
from archscape.search.base import Optimizer, SearchExhausted

_OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {}


def register_optimizer(name: str, factory: Callable[..., Optimizer]) -> None:
    _OPTIMIZERS[name] = factory


def optimizer_names() -> list[str]:
    return list(_OPTIMIZERS)


def make_optimizer(name: str, **params: Any) -> Optimizer:
    """Build a registered optimizer; an unknown hyper-parameter is named in one line."""
    try:
        factory = _OPTIMIZERS[name]
    except KeyError:
        raise unknown("optimizer", name, _OPTIMIZERS) from None
    try:
        return factory(**params)
    except TypeError as exc:
        cls = factory if isinstance(factory, type) else None
        accepted = list(getattr(cls, "_parameter_constraints", {})) if cls else []
        raise ArchscapeError(f"bad parameter for optimizer {name!r}: {exc}; accepted: {', '.join(accepted)}") from None


def _register_builtin() -> None:
    from archscape.search.bananas import BANANAS
    from archscape.search.evolution import RegularizedEvolution
    from archscape.search.gp import GPBO
    from archscape.search.local import LocalSearch
    from archscape.search.random import RandomSearch

    for cls in (RandomSearch, LocalSearch, RegularizedEvolution, BANANAS, GPBO):
        register_optimizer(cls.name, cls)


_register_builtin()

from archscape.search.nago_bo import NagoBO  # noqa: E402  (NAGO generator search, issue 5)

register_optimizer(NagoBO.name, NagoBO)

from archscape.search.predictor_search import PredictorSearch  # noqa: E402  (predictor-based search, issue 9)

register_optimizer(PredictorSearch.name, PredictorSearch)


__all__ = ["Optimizer", "SearchExhausted", "make_optimizer", "optimizer_names", "register_optimizer"]
