"""Hyper-parameter constraints kept as data, checked with one message template.

A class lists ``_parameter_constraints = {"num_init": [Interval(int, 1, None)], ...}``;
:func:`validate_params` checks the values when work starts (constructors only
store their arguments) and raises, for example::

    The 'num_init' parameter of LocalSearch must be an int in [1, inf). Got -3 instead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from archscape.errors import ArchscapeError


class InvalidParameter(ArchscapeError):
    """A hyper-parameter outside its constraints."""


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (int or float) in [low, high] (``None`` = unbounded); ``closed`` says which ends are included."""

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"  # "both", "left", "right", "neither"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if self.kind is float and not isinstance(value, numbers.Real):
            return False
        if isinstance(value, float) and math.isnan(value):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not left)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not right)):
            return False
        return True

    def __str__(self) -> str:
        lo = "-inf" if self.low is None else _num(self.low)
        hi = "inf" if self.high is None else _num(self.high)
        lb = "[" if self.closed in ("both", "left") and self.low is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        name = "an int" if self.kind is int else "a float"
        return f"{name} in {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (strings usually)."""

    values: tuple

    def __init__(self, values: Iterable) -> None:
        object.__setattr__(self, "values", tuple(values))

    def accepts(self, value: Any) -> bool:
        return any(value == v and type(value) is type(v) for v in self.values)

    def __str__(self) -> str:
        return "a str among {" + ", ".join(repr(v) for v in self.values) + "}"


@dataclass(frozen=True)
class Is:
    """A value of one of the given types (``None`` allowed by listing ``type(None)``)."""

    types: tuple

    def __init__(self, *types: type) -> None:
        object.__setattr__(self, "types", types)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types) and not (isinstance(value, bool) and bool not in self.types)

    def __str__(self) -> str:
        names = ["None" if t is type(None) else t.__name__ for t in self.types]
        return "a " + " or ".join(names)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def validate_params(owner: str, params: Mapping[str, Any], constraints: Mapping[str, list]) -> None:
    """Raise :class:`InvalidParameter` for the first parameter that meets none of its constraints."""
    for name, value in params.items():
        allowed = constraints.get(name)
        if allowed is None:
            continue
        if not any(c.accepts(value) for c in allowed):
            wanted = " or ".join(str(c) for c in allowed)
            raise InvalidParameter(f"The {name!r} parameter of {owner} must be {wanted}. Got {value!r} instead.")
