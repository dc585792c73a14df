"""One small registry used for spaces, benchmarks, optimizers, predictors, evaluators and network builders.

A :class:`Registry` maps names to *targets*: a class or factory, or a string
``"package.module:attribute"`` that is imported the first time the name is
used.  Lazy targets keep the command line fast to start (nothing heavy is
imported until a name is asked for) and let a low layer name what a higher
layer provides without importing it.

>>> reg = Registry("colour")
>>> _ = reg.register("red", dict)
>>> reg.make("red", a=1)
{'a': 1}
>>> reg.make("blue")
Traceback (most recent call last):
...
archscape.errors.UnknownName: unknown colour 'blue'; accepted: red

Unknown names raise :class:`~archscape.errors.UnknownName` with the accepted
names; a factory called with parameters it does not take raises one line
naming the parameter and the accepted ones (from the target's declared
hyper-parameters, see :mod:`archscape.params`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from archscape.errors import ArchscapeError, unknown

T = TypeVar("T")


@dataclass
class Entry:
    """One registered name: its target (or the import path of it) and free-form metadata."""

    name: str
    target: Any
    meta: dict[str, Any] = field(default_factory=dict)

    def load(self) -> Any:
        if isinstance(self.target, str):
            self.target = load_target(self.target)
        return self.target


class Registry(Generic[T]):
    """Names -> factories of ``T`` (see the module docstring)."""

    def __init__(self, kind: str) -> None:
        #: what the entries are, for messages ("search space", "optimizer", ...)
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    # ------------------------------------------------------------ registering
    def register(self, name: str, target: Any = None, *, replace: bool = False, **meta: Any) -> Any:
        """Register ``target`` (a factory or ``"module:attr"``) under ``name``.

        Without ``target`` it returns a decorator.  A name is registered once;
        ``replace=True`` overrides an earlier entry (tests, plugins).
        """
        if target is None:
            def decorator(obj: Any) -> Any:
                self.register(name, obj, replace=replace, **meta)
                return obj

            return decorator
        if not isinstance(name, str) or not name:
            raise ArchscapeError(f"a {self.kind} name must be a non-empty string; got {name!r}")
        if name in self._entries and not replace:
            raise ArchscapeError(f"{self.kind} {name!r} is registered already")
        self._entries[name] = Entry(name, target, dict(meta))
        return target

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests that register a toy entry clean up with this)."""
        self._entries.pop(name, None)

    # ---------------------------------------------------------------- lookups
    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise unknown(self.kind, name, self._entries) from None

    def meta(self, name: str) -> dict[str, Any]:
        """The metadata given when ``name`` was registered."""
        return self.entry(name).meta

    def get(self, name: str) -> Callable[..., T]:
        """The factory (class or function) registered as ``name``, imported if it was lazy."""
        return self.entry(name).load()

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def items(self) -> list[tuple[str, Any]]:
        """(name, loaded target) of every entry (imports the lazy ones)."""
        return [(n, self.get(n)) for n in self.names()]

    def make(self, name: str, *args: Any, **params: Any) -> T:
        """Call the factory of ``name``; parameters it does not take are named in one line."""
        factory = self.get(name)
        try:
            return factory(*args, **params)
        except TypeError as exc:
            if "argument" not in str(exc):  # a TypeError from inside the factory is a bug, not bad input
                raise
            accepted = accepted_parameters(factory)
            raise ArchscapeError(
                f"bad parameter for {self.kind} {name!r}: {exc}; accepted: {', '.join(accepted) or '(none)'}"
            ) from None

    def __repr__(self) -> str:
        return f"<Registry {self.kind}: {', '.join(self._entries)}>"


def load_target(path: str) -> Any:
    """The object at ``"package.module:attribute"`` (the module itself without ``:attribute``)."""
    module, _, attribute = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        obj = getattr(obj, part)
    return obj


def accepted_parameters(factory: Any) -> list[str]:
    """The hyper-parameter names a factory declares (``_parameter_constraints``), if any."""
    return list(getattr(factory, "_parameter_constraints", {}) or {})


__all__ = ["Entry", "Registry", "accepted_parameters", "load_target"]
