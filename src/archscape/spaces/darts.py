"""The DARTS cell space (also the space of NAS-Bench-301).

A DARTS network stacks two cell types, *normal* and *reduction*.  A cell has
six nodes: ``0`` is the output of the cell before the previous one
(c_{k-2}), ``1`` the output of the previous cell (c_{k-1}), and ``2..5`` are
intermediate nodes.  Intermediate node ``k`` sums two operations applied to
two *distinct* earlier nodes (``0..k-1``), as DARTS derives them; the cell
output concatenates nodes 2..5.  The operations are the DARTS primitives
without ``none``, in the order of DARTS' ``PRIMITIVES`` (and NAS-Bench-301):
:data:`OPS`.

Genotype: ``(normal, reduce)``, each a tuple of 8 ``(op_index, input_node)``
pairs; pairs ``2j`` and ``2j+1`` feed node ``j + 2``.  The two pairs of a node
are summed, so their order does not change the network: the canonical form
sorts them by input node (inputs are distinct, so the order is total).
:meth:`DartsSpace.parse` returns canonical genotypes, and :meth:`sample` and
:meth:`neighbours` only produce canonical ones.  Each cell type has
:data:`N_CELLS` (about 1.04e9) canonical cells, so the space has about 1.08e18
architectures and is not enumerable.

Edge numbering (used by the ``onehot`` encoding and by NAS-Bench-301's
configurations, ``edge_normal_0..13``): the 14 possible edges of a cell are
numbered per intermediate node, from earlier node ``i`` to node ``k`` being
:func:`edge_index` ``(k, i) = EDGE_OFFSET[k] + i``; node 2 owns edges 0-1,
node 3 edges 2-4, node 4 edges 5-8 and node 5 edges 9-13.

Text form: the ``Genotype(...)`` notation of DARTS' ``genotypes.py``.
"""

from __future__ import annotations

import ast
import math
from itertools import combinations

import numpy as np

from archscape.errors import InvalidArchitecture
from archscape.spaces.base import SearchSpace, truncate
from archscape.spaces.capabilities import CellLayout, GraphBatch, GraphView, empty_graphs

OPS = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
N_OPS = len(OPS)
CELL_TYPES = ("normal", "reduce")
#: intermediate nodes; node k may take input from nodes 0..k-1
NODES = (2, 3, 4, 5)
N_SLOTS = 2 * len(NODES)  # (op, input) pairs per cell
#: the intermediate node fed by each pair position of a cell
NODE_OF_SLOT = tuple(k for k in NODES for _ in range(2))
#: first edge number of each intermediate node (edges numbered per node, see the module docstring)
EDGE_OFFSET = {2: 0, 3: 2, 4: 5, 5: 9}
N_EDGES = 14
CONCAT = (2, 3, 4, 5)
#: canonical cells of one type: per node a pair of distinct inputs and an op on each
N_CELLS = math.prod(math.comb(k, 2) * N_OPS**2 for k in NODES)

#: the unordered input pairs of each node, ascending; sampling picks one of them uniformly
_INPUT_PAIRS = {k: tuple(combinations(range(k), 2)) for k in NODES}
_PAIR_COUNTS = np.array([len(_INPUT_PAIRS[k]) for k in NODES] * 2)
#: (slot, t): moving the pair in ``slot`` to the t-th free earlier node of its node; k-2 per slot
_INPUT_MOVES = tuple((s, t) for s in range(N_SLOTS) for t in range(NODE_OF_SLOT[s] - 2))
_OP_MOVES_PER_CELL = N_SLOTS * (N_OPS - 1)
N_NEIGHBOURS = 2 * (_OP_MOVES_PER_CELL + len(_INPUT_MOVES))

# Path encoding: (cell type, cell input, op sequence of length 1..4) grouped by length, short first.
MAX_PATH = len(NODES)
_PATHS_OF_LENGTH = {n: 2 * 2 * N_OPS**n for n in range(1, MAX_PATH + 1)}  # 2 cell types x 2 inputs
_PATH_OFFSET = {n: sum(_PATHS_OF_LENGTH[m] for m in range(1, n)) for n in _PATHS_OF_LENGTH}
N_PATH_FEATURES = sum(_PATHS_OF_LENGTH.values())

_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")
_EXAMPLE = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5], "
    "reduce=[...], reduce_concat=[2, 3, 4, 5])"
)
_MAX_TEXT = 10_000

Cell = tuple[tuple[int, int], ...]
DartsGenotype = tuple[Cell, Cell]


def edge_index(node: int, source: int) -> int:
    """Number (0..13) of the edge from earlier node ``source`` into intermediate node ``node``."""
    if node not in EDGE_OFFSET or not 0 <= source < node:
        raise InvalidArchitecture(f"no DARTS edge {source}->{node}; accepted: node 2..5 with source 0..node-1")
    return EDGE_OFFSET[node] + source


def _cell_problem(cell) -> str | None:
    """Why ``cell`` is not 8 valid (op, input) pairs, or ``None`` when it is."""
    if not isinstance(cell, (tuple, list)) or len(cell) != N_SLOTS:
        n = len(cell) if isinstance(cell, (tuple, list)) else None
        if n is None:
            return "is not a sequence of 8 (op, input) pairs"
        return f"has {n} (op, input) pairs; a DARTS cell has 8 (2 per intermediate node)"
    for s, pair in enumerate(cell):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            return f"pair {s} is {_short(pair)}, not (op, input)"
        op, inp = pair
        if not _is_int(op) or not 0 <= op < N_OPS:
            return f"pair {s} has op {op!r}; accepted: op index 0..{N_OPS - 1}"
        k = NODE_OF_SLOT[s]
        if not _is_int(inp) or not 0 <= inp < k:
            return f"node {k} takes input {inp!r}; accepted: 0..{k - 1}"
    for s in range(0, N_SLOTS, 2):
        if cell[s][1] == cell[s + 1][1]:
            return f"node {NODE_OF_SLOT[s]} takes input {cell[s][1]} twice; its two inputs must be distinct"
    return None


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _sorted_cell(cell: Cell) -> Cell:
    out = list(cell)
    for s in range(0, N_SLOTS, 2):
        if out[s][1] > out[s + 1][1]:
            out[s], out[s + 1] = out[s + 1], out[s]
    return tuple(out)


def _is_sorted(cell: Cell) -> bool:
    return all(cell[s][1] < cell[s + 1][1] for s in range(0, N_SLOTS, 2))


class DartsSpace(SearchSpace):
    """The DARTS / NAS-Bench-301 cell search space (normal and reduction cell)."""

    name = "darts"
    ops = OPS
    encodings = ("onehot", "path", "opcount")
    size = None

    # -------------------------------------------------------------- structure
    def validate(self, genotype) -> DartsGenotype:
        if isinstance(genotype, tuple) and len(genotype) == 2 and all(
            type(c) is tuple
            and len(c) == N_SLOTS
            and all(type(p) is tuple and len(p) == 2 and type(p[0]) is int and type(p[1]) is int for p in c)
            for c in genotype
        ):
            clean = True  # already nested tuples of ints: only the values need checking
        elif isinstance(genotype, np.ndarray) and genotype.shape == (2, N_SLOTS, 2):
            genotype, clean = genotype.tolist(), False
        elif isinstance(genotype, (tuple, list)) and len(genotype) == 2:
            clean = False
        else:
            raise InvalidArchitecture(
                f"a darts genotype is (normal, reduce), each 8 (op index, input node) pairs; got {_short(genotype)}"
            )
        for name, cell in zip(CELL_TYPES, genotype):
            problem = _cell_problem(cell)
            if problem:
                raise InvalidArchitecture(f"invalid darts genotype: {name} cell {problem}")
        if clean:
            return genotype
        return tuple(tuple((int(op), int(inp)) for op, inp in cell) for cell in genotype)

    def canonical(self, genotype) -> DartsGenotype:
        g = self.validate(genotype)
        if _is_sorted(g[0]) and _is_sorted(g[1]):
            return g
        return (_sorted_cell(g[0]), _sorted_cell(g[1]))

    def sample(self, rng: np.random.Generator) -> DartsGenotype:
        ops = rng.integers(0, N_OPS, size=2 * N_SLOTS).tolist()
        picks = rng.integers(0, _PAIR_COUNTS).tolist()
        cells = []
        for c in range(2):
            cell: list[tuple[int, int]] = []
            for n, k in enumerate(NODES):
                a, b = _INPUT_PAIRS[k][picks[c * len(NODES) + n]]
                s = c * N_SLOTS + 2 * n
                cell += [(ops[s], a), (ops[s + 1], b)]
            cells.append(tuple(cell))
        return tuple(cells)

    def neighbours(self, genotype) -> list[DartsGenotype]:
        """Every op change (16 edges x 6 other ops) and every input change (move one
        edge to an earlier node its node does not use yet: k-2 choices in node k),
        120 in all, canonical and distinct."""
        g = self.canonical(genotype)
        return [self._move(g, m) for m in range(N_NEIGHBOURS)]

    def mutate(self, genotype, rng: np.random.Generator) -> DartsGenotype:
        # The same as a uniform pick from neighbours(), without building all 120.
        return self._move(self.canonical(genotype), int(rng.integers(N_NEIGHBOURS)))

    def _move(self, g: DartsGenotype, move: int) -> DartsGenotype:
        """The ``move``-th neighbour: op moves first (cell, slot, op), then input moves."""
        if move < 2 * _OP_MOVES_PER_CELL:
            c, rest = divmod(move, _OP_MOVES_PER_CELL)
            slot, op = divmod(rest, N_OPS - 1)
            old_op, inp = g[c][slot]
            op += op >= old_op  # any op but the current one
            cell = g[c][:slot] + ((op, inp),) + g[c][slot + 1 :]
        else:
            c, rest = divmod(move - 2 * _OP_MOVES_PER_CELL, len(_INPUT_MOVES))
            slot, t = _INPUT_MOVES[rest]
            sibling = slot ^ 1
            op, inp = g[c][slot]
            used = (inp, g[c][sibling][1])
            free = [x for x in range(NODE_OF_SLOT[slot]) if x not in used]
            pair = (op, free[t])
            first = slot & ~1
            a, b = (pair, g[c][sibling]) if slot == first else (g[c][sibling], pair)
            if a[1] > b[1]:
                a, b = b, a
            cell = g[c][:first] + (a, b) + g[c][first + 2 :]
        return (cell, g[1]) if c == 0 else (g[0], cell)

    # -------------------------------------------------------------- text
    def parse(self, text: str) -> DartsGenotype:
        """Read DARTS' ``Genotype(normal=[...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=...)``.

        Either quote style, any whitespace, positional or keyword fields, and
        ``range(2, 6)`` for the concatenations are accepted.  The text is read
        as a syntax tree, never executed.  Returns the canonical genotype.
        """
        if not isinstance(text, str):
            raise InvalidArchitecture(f"a darts genotype string is text; got {type(text).__name__}")
        s = text.strip()
        if len(s) > _MAX_TEXT:
            raise InvalidArchitecture(f"darts genotype string is {len(s)} characters long; expected {_EXAMPLE}")
        try:
            tree = ast.parse(s, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None
        if not isinstance(tree, ast.Call) or _call_name(tree) != "Genotype":
            raise InvalidArchitecture(f"malformed darts genotype {_short(s)}: expected {_EXAMPLE}")
        fields = _genotype_fields(tree)
        cells = []
        for name in CELL_TYPES:
            _check_concat(fields[f"{name}_concat"], name)
            cell = _read_cell(fields[name], name, self)
            problem = _cell_problem(cell)
            if problem:
                raise InvalidArchitecture(f"invalid darts genotype: {name} cell {problem}")
            cells.append(_sorted_cell(cell))
        return tuple(cells)

    def format(self, genotype) -> str:
        g = self.validate(genotype)
        normal, reduce = (", ".join(f"('{OPS[op]}', {inp})" for op, inp in cell) for cell in g)
        concat = list(CONCAT)
        return f"Genotype(normal=[{normal}], normal_concat={concat}, reduce=[{reduce}], reduce_concat={concat})"

    # -------------------------------------------------------------- encodings
    def _encode_onehot(self, g) -> np.ndarray:
        """Per cell (normal first): 14 bits saying which possible edges are used,
        then for each of the 14 edges a one-hot of its op (all zero when unused)."""
        return self.encode_many([g], "onehot")[0]

    def _encode_opcount(self, g) -> np.ndarray:
        return self.encode_many([g], "opcount")[0]

    def _encode_path(self, g, cutoff: int | None = None) -> np.ndarray:
        """BANANAS path encoding, after naszilla's DARTS cell.

        A path is a route from a cell input (c_{k-2} or c_{k-1}) through
        intermediate nodes; every intermediate node is concatenated into the
        output, so every such route reaches it.  A feature is (cell type, cell
        input, op sequence of length 1..4) and is 1 when at least one route has
        it.  Unlike naszilla, which blocks features by (cell, input) first, the
        features here are grouped by length, short paths first, so ``cutoff``
        keeps the short paths of both cells and both inputs; naszilla's unused
        length-0 slots are dropped.  There are 4 * (7 + 49 + 343 + 2401) = 11,200.
        """
        v = np.zeros(N_PATH_FEATURES, dtype=np.float32)
        for c, cell in enumerate(g):
            routes: dict[int, list[tuple[int, int, int]]] = {}  # node -> (input, length, op code)
            for s, (op, inp) in enumerate(cell):
                k = NODE_OF_SLOT[s]
                if inp < 2:
                    new = [(inp, 1, op)]
                else:
                    new = [(src, n + 1, code * N_OPS + op) for src, n, code in routes[inp]]
                routes.setdefault(k, []).extend(new)
                for src, n, code in new:
                    v[_PATH_OFFSET[n] + (2 * c + src) * N_OPS**n + code] = 1.0
        return truncate(v, cutoff)

    def encode_many(self, genotypes, encoding: str = "onehot", **options) -> np.ndarray:
        if encoding == "path":
            return super().encode_many(genotypes, encoding, **options)
        self._check_encoding(encoding)
        arr = _valid_array(genotypes)
        if arr is None:  # something is off: validate one by one, for the message
            arr = np.asarray([self.validate(x) for x in genotypes], dtype=np.int64).reshape(-1, 2, N_SLOTS, 2)
        ops, inputs = arr[..., 0], arr[..., 1]
        n = len(arr)
        if encoding == "opcount":
            return (ops[..., None] == np.arange(N_OPS)).sum(axis=2).reshape(n, 2 * N_OPS).astype(np.float32)
        edges = _SLOT_EDGE_BASE + inputs  # (n, 2, 8): edge number of every pair
        width = N_EDGES + N_EDGES * N_OPS
        out = np.zeros((n, 2, width), dtype=np.float32)
        rows, cells = np.arange(n)[:, None, None], np.arange(2)[None, :, None]
        out[rows, cells, edges] = 1.0
        out[rows, cells, N_EDGES + edges * N_OPS + ops] = 1.0
        return out.reshape(n, 2 * width)

    # ------------------------------------------------------ capabilities
    network = "archscape.train.models.darts:build"

    def cell_layout(self) -> CellLayout:
        return LAYOUT

    def slot_ops(self, genotype) -> list[list[int]]:
        return [[op for op, _ in cell] for cell in self.validate(genotype)]

    def with_slot_ops(self, genotype, cells) -> DartsGenotype:
        g = self.validate(genotype)
        return self.canonical(tuple(tuple((op, inp) for op, (_, inp) in zip(ops, cell)) for ops, cell in zip(cells, g)))

    def arrange(self, cells, rng: np.random.Generator) -> DartsGenotype:
        """The ops in a uniformly random order per cell; each node's two distinct inputs drawn
        uniformly, as :meth:`sample` does."""
        out = []
        for multiset in cells:
            ops = rng.permutation(multiset).tolist()
            cell: list[tuple[int, int]] = []
            for n, k in enumerate(NODES):
                a, b = _INPUT_PAIRS[k][int(rng.integers(len(_INPUT_PAIRS[k])))]
                cell += [(ops[2 * n], a), (ops[2 * n + 1], b)]
            out.append(tuple(cell))
        return self.canonical(tuple(out))

    def graph_view(self) -> DartsGraphs:
        return DartsGraphs()


#: operation distributions count the 8 op slots of each cell type over the 7 DARTS ops
LAYOUT = CellLayout("darts", CELL_TYPES, N_SLOTS, OPS)


class DartsGraphs(GraphView):
    """Per cell: the two cell inputs, one node per (operation, input) pair, the output (11 nodes, 22 in all).

    A pair on node ``k``'s input ``i`` is fed by cell input ``i`` or, for an
    intermediate node ``i``, by the two pairs that make it; every pair feeds
    the output (the cell concatenates all intermediate nodes).  Features say
    the cell type too.
    """

    def __init__(self) -> None:
        self.slots = N_SLOTS
        self.per_cell = 2 + N_SLOTS + 1
        self.n_nodes = 2 * self.per_cell
        self.n_ops = N_OPS
        # roles (input 0, input 1, output), the op of a pair node, the cell type (normal, reduce)
        self.n_features = 3 + N_OPS + 2

    def graphs(self, space, genotypes) -> GraphBatch:
        arr = np.asarray([space.canonical(g) for g in genotypes], dtype=np.int64).reshape(-1, 2, self.slots, 2)
        ops, inputs = arr[..., 0], arr[..., 1]
        n = len(arr)
        x, a, mask = empty_graphs(n, self.n_nodes, self.n_features)
        rows = np.arange(n)
        for c in range(2):
            base = c * self.per_cell
            out = base + self.per_cell - 1
            x[:, base : base + self.per_cell, 3 + self.n_ops + c] = 1.0
            x[:, base, 0] = 1.0
            x[:, base + 1, 1] = 1.0
            x[:, out, 2] = 1.0
            for s in range(self.slots):
                node = base + 2 + s
                x[rows, node, 3 + ops[:, c, s]] = 1.0
                a[:, node, out] = 1.0
                inp = inputs[:, c, s]
                from_cell = inp < 2
                a[rows[from_cell], base + inp[from_cell], node] = 1.0
                # an intermediate input i is the sum of its two pairs (slots 2(i-2) and 2(i-2)+1)
                inner = ~from_cell
                first = base + 2 + 2 * (inp[inner] - 2)
                a[rows[inner], first, node] = 1.0
                a[rows[inner], first + 1, node] = 1.0
        return GraphBatch(x, a, mask)


_SLOT_EDGE_BASE = np.array([EDGE_OFFSET[k] for k in NODE_OF_SLOT], dtype=np.int64)
_SLOT_NODE = np.array(NODE_OF_SLOT, dtype=np.int64)


def _valid_array(genotypes) -> np.ndarray | None:
    """Many genotypes as one ``(n, 2, 8, 2)`` int array when all pass :meth:`DartsSpace.validate`'s
    value checks, checked at once (a pool of 10^5 candidates validated one by one costs more than
    the model that scores it); ``None`` when any does not, or the input is not that shape."""
    try:
        arr = np.asarray(genotypes)
    except ValueError:  # ragged
        return None
    if arr.dtype.kind not in "iu" or arr.ndim != 4 or arr.shape[1:] != (2, N_SLOTS, 2):
        return None
    ops, inputs = arr[..., 0], arr[..., 1]
    ok = (ops >= 0).all() and (ops < N_OPS).all() and (inputs >= 0).all() and (inputs < _SLOT_NODE).all()
    ok = ok and bool((inputs[..., 0::2] != inputs[..., 1::2]).all())  # a node's two inputs are distinct
    return arr.astype(np.int64, copy=False) if ok else None


# ------------------------------------------------------------------ parsing
def _short(x, limit: int = 80) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):  # e.g. genotypes.Genotype(...)
        return call.func.attr
    return None


def _genotype_fields(call: ast.Call) -> dict[str, ast.expr]:
    if len(call.args) > len(_FIELDS):
        raise InvalidArchitecture(f"darts Genotype has {len(call.args)} positional fields; accepted: {', '.join(_FIELDS)}")
    fields = dict(zip(_FIELDS, call.args))
    for kw in call.keywords:
        if kw.arg not in _FIELDS:
            raise InvalidArchitecture(f"unknown darts Genotype field {kw.arg!r}; accepted: {', '.join(_FIELDS)}")
        if kw.arg in fields:
            raise InvalidArchitecture(f"darts Genotype field {kw.arg!r} is given twice")
        fields[kw.arg] = kw.value
    missing = [f for f in _FIELDS if f not in fields]
    if missing:
        raise InvalidArchitecture(f"darts Genotype lacks field(s) {', '.join(missing)}; expected {_EXAMPLE}")
    return fields


def _check_concat(node: ast.expr, cell: str) -> None:
    ok = False
    if isinstance(node, (ast.List, ast.Tuple)):
        ok = [_constant(e) for e in node.elts] == list(CONCAT)
    elif isinstance(node, ast.Call) and _call_name(node) == "range" and not node.keywords:
        ok = [_constant(e) for e in node.args] == [2, 6]
    if not ok:
        raise InvalidArchitecture(f"{cell}_concat is {_short(ast.unparse(node))}; accepted: [2, 3, 4, 5] or range(2, 6)")


def _constant(node: ast.expr):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):  # -1 is an operator applied to 1
        value = _constant(node.operand)
        return -value if isinstance(value, int) else None
    value = node.value if isinstance(node, ast.Constant) else None
    return None if isinstance(value, bool) else value


def _read_cell(node: ast.expr, cell: str, space: SearchSpace) -> list[tuple[int, int]]:
    if not isinstance(node, (ast.List, ast.Tuple)):
        raise InvalidArchitecture(f"darts {cell} cell must be a list of (op, input) pairs; got {_short(ast.unparse(node))}")
    pairs = []
    for e in node.elts:
        items = e.elts if isinstance(e, (ast.List, ast.Tuple)) else ()
        op, inp = (_constant(items[0]), _constant(items[1])) if len(items) == 2 else (None, None)
        if not isinstance(op, str) or not isinstance(inp, int):
            raise InvalidArchitecture(f"darts {cell} cell: {_short(ast.unparse(e))} is not an ('op', input) pair")
        pairs.append((space._op_index(op), inp))
    return pairs


__all__ = [
    "CELL_TYPES",
    "CONCAT",
    "DartsSpace",
    "EDGE_OFFSET",
    "N_CELLS",
    "N_EDGES",
    "N_NEIGHBOURS",
    "N_PATH_FEATURES",
    "NODE_OF_SLOT",
    "OPS",
    "edge_index",
]
