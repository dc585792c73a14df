"""Search spaces: structure only (sampling, neighbourhoods, text, encodings), and their registry.

A space is registered with one line below (a lazy ``"module:factory"`` so
nothing is imported until the space is asked for).  What a space offers
beyond structure (an operation graph, operation slots, a network builder) it
declares itself: see :mod:`archscape.spaces.capabilities`.

Spaces derived from another space are named ``<base>-<suffix>``: ``-opdist``
(the operation distributions of the base's cells) exists for every space that
declares operation slots, the registered ones and any added later.
"""

from __future__ import annotations

from archscape.errors import unknown
from archscape.registry import Registry
from archscape.spaces.base import ENCODINGS, Genotype, SearchSpace
from archscape.spaces.capabilities import CellLayout, GraphBatch, GraphView

#: name -> factory of a space
SPACES: Registry[SearchSpace] = Registry("search space")
#: suffix -> factory(base space) of a derived space, and the capability the base needs
DERIVED_SPACES: Registry[SearchSpace] = Registry("derived search space")

SPACES.register("nb201", "archscape.spaces.nb201:space")
SPACES.register("macro", "archscape.spaces.macro:MacroSpace")
SPACES.register("nb101", "archscape.spaces.nb101:space")
SPACES.register("darts", "archscape.spaces.darts:DartsSpace")
SPACES.register("graph", "archscape.spaces.graph:GraphSpace")
SPACES.register("graph-proteins", "archscape.spaces.graph:GraphProteinsSpace")
SPACES.register("cnn-broad", "archscape.spaces.cnn:broad")
SPACES.register("cnn-narrow", "archscape.spaces.cnn:narrow")
SPACES.register("nago", "archscape.spaces.nago:NagoSpace")

DERIVED_SPACES.register("opdist", "archscape.spaces.opdist:OpDistSpace", needs="opdist")


#: register a space under a name (a factory or ``"module:factory"``)
register_space = SPACES.register


def _derived(name: str) -> tuple[SearchSpace, str] | None:
    """``(base space, suffix)`` when ``name`` is a derived space's name whose base offers what it needs."""
    base, sep, suffix = name.rpartition("-")
    if not sep or base not in SPACES or suffix not in DERIVED_SPACES:
        return None
    space = SPACES.make(base)
    needs = DERIVED_SPACES.meta(suffix).get("needs")
    return (space, suffix) if needs is None or space.capabilities()[needs] else None


def space_names() -> list[str]:
    """Every registered space, then the derived ones (``nb201-opdist``, ...)."""
    names = SPACES.names()
    return names + [f"{b}-{s}" for s in DERIVED_SPACES.names() for b in names if _derived(f"{b}-{s}")]


def get_space(name: str) -> SearchSpace:
    """A search space by name (registered or derived)."""
    if name in SPACES:
        return SPACES.make(name)
    derived = _derived(name) if isinstance(name, str) else None
    if derived is None:
        raise unknown("search space", name, space_names())
    base, suffix = derived
    return DERIVED_SPACES.make(suffix, base)


def spaces_with(capability: str) -> list[str]:
    """The registered spaces that offer ``capability`` (a key of :meth:`SearchSpace.capabilities`)."""
    return [n for n in SPACES.names() if SPACES.make(n).capabilities()[capability]]


__all__ = [
    "DERIVED_SPACES", "ENCODINGS", "SPACES", "CellLayout", "Genotype", "GraphBatch", "GraphView", "SearchSpace",
    "get_space", "register_space", "space_names", "spaces_with",
]
