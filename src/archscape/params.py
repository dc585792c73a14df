"""Hyper-parameters declared once per class: default and constraints, checked with one message template.

A :class:`Configurable` class (every optimizer and predictor) declares each
hyper-parameter once, in the order its constructor takes them::

    class LocalSearch(Optimizer):
        params = {
            "num_init": Param(10, Interval(int, 1, None)),
            "improvement": Param("first", Options(("first", "best"))),
        }

and gets from it a constructor that only stores its arguments (keyword or
positional, in declaration order; ``inspect.signature`` shows them with their
defaults), ``_parameter_constraints`` (name -> list of constraints) and
:meth:`Configurable.get_params` in declaration order.  Shared groups are dicts
of :class:`Param` merged into a declaration (``{**VECTOR_PARAMS, ...}``); a
subclass inherits its parent's declaration or declares its full set.  Work a
constructor must do beyond storing goes into ``__post_init__``, called by the
generated constructor.

:func:`validate_params` checks the values when work starts and raises, for example::

    The 'num_init' parameter of LocalSearch must be an int in [1, inf). Got -3 instead.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

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
    """Raise :class:`InvalidParameter` for the first parameter meeting none of its constraints (none listed: any value)."""
    for name, value in params.items():
        allowed = constraints.get(name)
        if not allowed:
            continue
        if not any(c.accepts(value) for c in allowed):
            wanted = " or ".join(str(c) for c in allowed)
            raise InvalidParameter(f"The {name!r} parameter of {owner} must be {wanted}. Got {value!r} instead.")


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: its default and the constraints a value must meet one of (none: anything goes)."""

    default: Any
    constraints: tuple

    def __init__(self, default: Any, *constraints: Any) -> None:
        if isinstance(default, (list, dict, set)):
            raise TypeError(f"a mutable default ({default!r}) would be shared by every instance; use None")
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "constraints", constraints)

    def with_default(self, default: Any) -> Param:
        """The same parameter with another default (a class that shares a group but not its default)."""
        return Param(default, *self.constraints)


class Configurable:
    """A class configured by hyper-parameters declared once in :attr:`params` (see the module docstring).

    A subclass that declares ``params`` gets a generated ``__init__``; one
    that declares none may write its own constructor and set
    ``_parameter_constraints`` itself (``get_params`` reads the names there).
    """

    #: name -> :class:`Param`, in constructor order
    params: ClassVar[dict[str, Param]] = {}
    #: name -> constraints, derived from :attr:`params`
    _parameter_constraints: ClassVar[dict[str, list]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "params" not in cls.__dict__:
            return
        if "__init__" in cls.__dict__:
            raise TypeError(f"{cls.__name__} declares params and writes __init__; put the extra work in __post_init__")
        cls._parameter_constraints = {name: list(p.constraints) for name, p in cls.params.items()}
        cls.__init__ = _generated_init(cls)

    def __post_init__(self) -> None:
        """Hook: work beyond storing the arguments, run by the generated constructor."""

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (what a config file holds), in declaration order."""
        return {k: getattr(self, k) for k in self._parameter_constraints}

    def validate_params(self) -> None:
        """Raise :class:`InvalidParameter` for the first parameter outside its constraints."""
        validate_params(type(self).__name__, self.get_params(), self._parameter_constraints)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _generated_init(cls: type) -> Any:
    """A constructor storing ``cls.params`` (keyword or positional), then calling ``__post_init__``."""
    declared = dict(cls.params)
    names = list(declared)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        who = type(self).__name__
        if len(args) > len(names):
            raise TypeError(f"{who}() takes {len(names)} positional arguments but {len(args)} were given")
        values = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in declared:
                raise TypeError(f"{who}() got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{who}() got multiple values for argument {name!r}")
            values[name] = value
        for name, param in declared.items():
            setattr(self, name, values.get(name, param.default))
        self.__post_init__()

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("self", kind)] + [inspect.Parameter(n, kind, default=p.default) for n, p in declared.items()],
        return_annotation=None,
    )
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = f"Store the hyper-parameters of {cls.__name__}: {', '.join(names) or '(none)'}."
    return __init__
