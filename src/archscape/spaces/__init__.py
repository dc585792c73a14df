"""Search spaces: structure only (sampling, neighbourhoods, text, encodings)."""

from __future__ import annotations

from collections.abc import Callable

from archscape.errors import unknown
from archscape.spaces.base import ENCODINGS, Genotype, SearchSpace

_SPACES: dict[str, Callable[[], SearchSpace]] = {}


def register_space(name: str, factory: Callable[[], SearchSpace]) -> None:
    _SPACES[name] = factory


def space_names() -> list[str]:
    return list(_SPACES)


def get_space(name: str) -> SearchSpace:
    try:
        return _SPACES[name]()
    except KeyError:
        raise unknown("search space", name, _SPACES) from None


def _nb201() -> SearchSpace:
    from archscape.benchmarks.nb201 import space

    return space()


register_space("nb201", _nb201)


def _nb101() -> SearchSpace:
    from archscape.spaces.nb101 import space

    return space()


register_space("nb101", _nb101)


def _darts() -> SearchSpace:
    from archscape.spaces.darts import DartsSpace

    return DartsSpace()


def _macro() -> SearchSpace:
    from archscape.spaces.macro import MacroSpace

    return MacroSpace()


register_space("darts", _darts)
register_space("macro", _macro)


def _graph() -> SearchSpace:
    from archscape.spaces.graph import GraphSpace

    return GraphSpace()


def _graph_proteins() -> SearchSpace:
    from archscape.spaces.graph import GraphProteinsSpace

    return GraphProteinsSpace()


register_space("graph", _graph)
register_space("graph-proteins", _graph_proteins)


def _cnn_broad() -> SearchSpace:
    from archscape.spaces.cnn import broad

    return broad()


def _cnn_narrow() -> SearchSpace:
    from archscape.spaces.cnn import narrow

    return narrow()


register_space("cnn-broad", _cnn_broad)
register_space("cnn-narrow", _cnn_narrow)


def _nago() -> SearchSpace:
    from archscape.spaces.nago import NagoSpace

    return NagoSpace()


register_space("nago", _nago)


def _opdist(base: str) -> Callable[[], SearchSpace]:
    def make() -> SearchSpace:
        from archscape.opdist.space import opdist_space

        return opdist_space(base)

    return make


# Operation-distribution spaces over the cells of these (archscape.opdist.space.BASE_SPACES).
for _base in ("nb201", "macro", "nb101", "darts"):
    register_space(f"{_base}-opdist", _opdist(_base))


__all__ = ["ENCODINGS", "Genotype", "SearchSpace", "get_space", "register_space", "space_names"]
