"""The NAS-Bench-201 cell: 4 nodes, 6 edges, 5 operations, 15,625 cells.

A genotype is a tuple of six op indices, one per edge in arch-string order
``0->1, 0->2, 1->2, 0->3, 1->3, 2->3``.  The text form is the official arch
string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

The official index (0..15624, the order of the released benchmark) is not a
formula of the cell: it ships with archscape as a small constant
(``nb201_order.npy``, the base-5 code of each cell in official order, 31 kB),
checked against the benchmark's own tables by the tests and whenever a table
is converted.  Every cell is its own canonical
form, as in the official benchmark (cells that compute the same function are
still distinct entries there).
"""

from __future__ import annotations

import itertools
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np

from archscape.errors import InvalidArchitecture
from archscape.spaces.base import truncate
from archscape.spaces.capabilities import GraphBatch, GraphView, empty_graphs
from archscape.spaces.vector import CategoricalVectorSpace, from_code, lexicographic, to_code

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


@lru_cache(maxsize=1)
def official_order() -> np.ndarray:
    """The base-5 code of each cell in the official index order (read-only, shipped with archscape)."""
    with resources.files(__package__).joinpath("nb201_order.npy").open("rb") as f:
        codes = np.load(f, allow_pickle=False).astype(np.int64)
    codes.setflags(write=False)
    return codes


class NB201Space(CategoricalVectorSpace):
    """The NAS-Bench-201 cell search space."""

    n_positions = N_EDGES
    choice_label = "op indices"
    cell_name = "cell"
    network = "archscape.train.models.nb201:build"

    name = "nb201"
    ops = OPS
    encodings = ("onehot", "path", "opcount")
    size = SIZE

    # -------------------------------------------------------------- order
    @cached_property
    def _order(self) -> tuple[list[int], list[int]]:
        """(official index -> code, code -> official index)."""
        codes = official_order()
        to_index = np.empty(SIZE, dtype=np.int64)
        to_index[codes] = np.arange(SIZE)
        return codes.tolist(), to_index.tolist()

    @cached_property
    def _genotypes(self) -> list[tuple[int, ...]]:
        lex = lexicographic(N_OPS, N_EDGES)  # lex[code] is the cell of that code
        return [lex[c] for c in self._order[0]]

    def _codes_by_index(self) -> np.ndarray:
        return official_order()

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
        return self._intern(tuple(ops))

    def _text_of(self, g) -> str:
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

    # -------------------------------------------------------------- graph
    def graph_view(self) -> NB201Graphs:
        return _GRAPHS


class NB201Graphs(GraphView):
    """Input, one node per edge operation, output (8 nodes).

    An operation node on edge ``i -> j`` feeds every operation node on an edge
    leaving ``j`` (or the output, for ``j = 3``) and is fed by those entering
    ``i`` (or the input, for ``i = 0``).  A ``none`` edge carries nothing, so
    its node keeps its feature but loses its edges.
    """

    def __init__(self) -> None:
        self.n_nodes = N_EDGES + 2
        self.n_features = 2 + N_OPS  # input, output, each op
        out = self.n_nodes - 1
        template = np.zeros((self.n_nodes, self.n_nodes), dtype=np.float32)
        for e, (i, j) in enumerate(EDGES):
            if i == 0:
                template[0, 1 + e] = 1.0
            if j == 3:
                template[1 + e, out] = 1.0
            for f, (k, _) in enumerate(EDGES):
                if k == j:
                    template[1 + e, 1 + f] = 1.0
        self._template = template

    def graphs(self, space, genotypes) -> GraphBatch:
        ops = np.asarray([space.validate(g) for g in genotypes], dtype=np.int64).reshape(-1, self.n_nodes - 2)
        n = len(ops)
        x, a, mask = empty_graphs(n, self.n_nodes, self.n_features)
        x[:, 0, 0] = 1.0
        x[:, -1, 1] = 1.0
        rows = np.arange(n)[:, None]
        x[rows, np.arange(1, self.n_nodes - 1)[None, :], 2 + ops] = 1.0
        live = np.ones((n, self.n_nodes), dtype=np.float32)
        live[:, 1:-1] = ops != 0  # 'none' (op 0) cuts its edge
        a[:] = self._template
        a *= live[:, :, None] * live[:, None, :]
        return GraphBatch(x, a, mask)


_GRAPHS = NB201Graphs()


_SPACE = NB201Space()


def space() -> NB201Space:
    """The shared NB201 space (its index tables are built once per process)."""
    return _SPACE
