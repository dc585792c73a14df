"""The NAS-Bench-101 cell: a DAG of at most 7 vertices and 9 edges, 3 operations.

A genotype is an :class:`NB101Cell`: an upper-triangular 0/1 adjacency matrix
(tuple of row tuples, ``matrix[i][j] == 1`` is an edge ``i -> j``) and one
operation index per vertex into :data:`OPS`; vertex 0 is ``input`` and the last
vertex is ``output``.  Validity is that of the official ``ModelSpec`` and
``NASBench.is_valid``: vertices that are not on an input->output path are
pruned first, then the pruned cell must connect input to output, keep at most
:data:`MAX_EDGES` edges and :data:`MAX_VERTICES` vertices.

Canonical form: the pruned cell with its vertices in a deterministic
topological order, so isomorphic cells have equal canonical forms.  The order
puts, among the vertices whose inputs are already placed, the one with the
smallest official vertex hash first; ties are searched and the smallest
(ops, adjacency) wins.  ``key`` is the official ``module_hash``
(google-research/nasbench ``graph_util.hash_module``), the key of the
official tfrecord.  Both were checked over all 1,293,208 labelled graphs that
the official generator enumerates: 423,624 hashes, exactly one canonical form
per hash.

Neighbourhood (symmetric by construction; every move keeps each vertex on an
input->output path, so no move is undone by pruning):

* change the operation of one interior vertex;
* add or remove one edge;
* insert a new vertex with one in-edge and one out-edge, either beside the
  existing wiring or splitting an existing edge ``x -> y`` into
  ``x -> w -> y``; and the inverses: delete a vertex with one in-edge and one
  out-edge, with or without joining its two neighbours.

Edge flips on the unpruned 7x7 matrix (the neighbourhood of BANANAS and
NASLib) are not symmetric once a cell is identified with its pruned graph:
removing an edge can prune a vertex, and no single edge can bring one back.
The vertex moves above are exactly those missing inverses, and they make the
relation connected: every cell reaches ``input -> output``.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archscape.errors import ArchscapeError, InvalidArchitecture
from archscape.spaces.base import SearchSpace, truncate
from archscape.spaces.capabilities import CellLayout, GraphBatch, GraphView, empty_graphs

OPS = ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output")
INPUT, OUTPUT = 0, 4
#: the interior operations, in the order of the official ``available_ops``
INTERIOR = (1, 2, 3)
MAX_VERTICES = 7
MAX_EDGES = 9
#: unique cells of the official benchmark
N_CELLS = 423_624
#: op coding of NASLib's tuple keys ``(49 adjacency bits..., 7 op codes)``
NASLIB_OPS = ("input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")
#: labels of the official hash: input -1, output -2, interior = index in available_ops
_HASH_LABEL = {INPUT: -1, OUTPUT: -2, 1: 0, 2: 1, 3: 2}
_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class NB101Cell:
    """One NAS-Bench-101 cell (not necessarily pruned or canonical)."""

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[int, ...]

    @property
    def n_vertices(self) -> int:
        return len(self.ops)

    @property
    def n_edges(self) -> int:
        return sum(map(sum, self.matrix))

    def op_names(self) -> list[str]:
        return [OPS[o] for o in self.ops]

    def to_spec(self) -> dict[str, Any]:
        """The nasbench ``ModelSpec`` arguments: ``{"matrix": [[...]], "ops": [names]}``."""
        return {"matrix": [list(r) for r in self.matrix], "ops": self.op_names()}


# ------------------------------------------------------------------ graph core
# Internally a cell is (n, succ, ops): succ[v] is the bitmask of v's out-neighbours.


def _structure(cell: NB101Cell) -> tuple[int, list[int], tuple[int, ...]]:
    """Check shape, bits, triangularity and op positions; return (n, succ, ops)."""
    ops = cell.ops
    n = len(ops)
    if not 2 <= n:
        raise InvalidArchitecture(f"an nb101 cell needs at least the input and output vertices; got {n} vertex(es)")
    if len(cell.matrix) != n or any(len(row) != n for row in cell.matrix):
        raise InvalidArchitecture(f"an nb101 matrix must be square with one row per op ({n}x{n}); got rows of {[len(r) for r in cell.matrix]}")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise InvalidArchitecture(f"an nb101 cell starts with 'input' and ends with 'output'; got {_names(ops)}")
    for o in ops[1:-1]:
        if o not in INTERIOR:
            raise InvalidArchitecture(
                f"unknown interior operation {_name(o)!r} in nb101; accepted: {', '.join(OPS[i] for i in INTERIOR)}"
            )
    succ = []
    for i, row in enumerate(cell.matrix):
        mask = 0
        for j, bit in enumerate(row):
            if bit:
                if bit != 1:
                    raise InvalidArchitecture(f"an nb101 matrix holds 0/1 entries; got {bit!r} at ({i}, {j})")
                if j <= i:
                    raise InvalidArchitecture(f"an nb101 matrix must be upper triangular; got an edge {i}->{j}")
                mask |= 1 << j
            elif bit != 0:
                raise InvalidArchitecture(f"an nb101 matrix holds 0/1 entries; got {bit!r} at ({i}, {j})")
        succ.append(mask)
    return n, succ, ops


def _name(o: Any) -> Any:
    return OPS[o] if isinstance(o, int) and 0 <= o < len(OPS) else o


def _names(ops: Sequence[Any]) -> list[Any]:
    return [_name(o) for o in ops]


def _prune(n: int, succ: list[int], ops: Sequence[int]) -> tuple[int, list[int], tuple[int, ...]]:
    """Drop vertices off every input->output path, as the official ModelSpec does."""
    forward = 1
    for v in range(n):  # upper triangular: one pass in index order is a topological sweep
        if forward >> v & 1:
            forward |= succ[v]
    backward = 1 << (n - 1)
    for v in range(n - 2, -1, -1):
        if succ[v] & backward:
            backward |= 1 << v
    keep_mask = forward & backward
    if not keep_mask & 1:
        raise InvalidArchitecture("invalid nb101 cell: the input is not connected to the output")
    if keep_mask == (1 << n) - 1:
        return n, succ, tuple(ops)
    keep = [v for v in range(n) if keep_mask >> v & 1]
    new_index = {v: i for i, v in enumerate(keep)}
    new_succ = []
    for v in keep:
        m = 0
        s = succ[v] & keep_mask
        while s:
            low = s & -s
            m |= 1 << new_index[low.bit_length() - 1]
            s ^= low
        new_succ.append(m)
    return len(keep), new_succ, tuple(ops[v] for v in keep)


def _check_limits(n: int, succ: list[int]) -> None:
    if n > MAX_VERTICES:
        raise InvalidArchitecture(f"invalid nb101 cell: {n} vertices after pruning; accepted: at most {MAX_VERTICES}")
    edges = sum(s.bit_count() for s in succ)
    if edges > MAX_EDGES:
        raise InvalidArchitecture(f"invalid nb101 cell: {edges} edges after pruning; accepted: at most {MAX_EDGES}")


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _preds(n: int, succ: list[int]) -> list[int]:
    pred = [0] * n
    for v in range(n):
        for w in _bits(succ[v]):
            pred[w] |= 1 << v
    return pred


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _vertex_hashes(n: int, succ: list[int], pred: list[int], ops: Sequence[int]) -> list[str]:
    """Per-vertex hashes of the official iterated-MD5 (Weisfeiler-Lehman style) refinement."""
    md5 = hashlib.md5
    ins = [_bits(p) for p in pred]
    outs = [_bits(s) for s in succ]
    hashes = [_md5(str((len(outs[v]), len(ins[v]), _HASH_LABEL[ops[v]]))) for v in range(n)]
    sides = list(zip(ins, outs))
    for _ in range(n):  # the official code refines as many rounds as there are vertices
        new = []
        for v, (i, o) in enumerate(sides):
            text = "".join(sorted([hashes[w] for w in i])) + "|" + "".join(sorted([hashes[w] for w in o])) + "|" + hashes[v]
            new.append(md5(text.encode()).hexdigest())
        hashes = new
    return hashes


def _fingerprint(hashes: list[str]) -> str:
    return _md5(str(sorted(hashes)))


def module_hash(matrix: Any, ops: Sequence[Any]) -> str:
    """The official ``module_hash`` of a cell given as a matrix and ops (names or indices).

    The cell is validated and pruned first, exactly as ``ModelSpec.hash_spec`` does.
    """
    return _SHARED.key({"matrix": matrix, "ops": list(ops)})


def _canonical_order(n: int, succ: list[int], pred: list[int], ops: Sequence[int], colours: list[str]) -> list[int]:
    """The smallest (ops, adjacency) over topological orders that place the lowest colour first."""
    best: tuple | None = None
    best_order: list[int] = []
    order: list[int] = []

    def encode(order: list[int]) -> tuple:
        pos = [0] * n
        for i, v in enumerate(order):
            pos[v] = i
        rows = []
        for v in order:
            m = 0
            for w in _bits(succ[v]):
                m |= 1 << pos[w]
            rows.append(m)
        return tuple(ops[v] for v in order) + tuple(rows)

    def extend(placed: int) -> None:
        nonlocal best, best_order
        if len(order) == n:
            enc = encode(order)
            if best is None or enc < best:
                best, best_order = enc, list(order)
            return
        ready = [v for v in range(n) if not placed >> v & 1 and pred[v] & ~placed == 0]
        low = min(colours[v] for v in ready)
        seen_twins = set()
        for v in ready:
            if colours[v] != low:
                continue
            # Twins (same inputs, outputs and op) are swapped by an automorphism: try one.
            twin = (pred[v], succ[v], ops[v])
            if twin in seen_twins:
                continue
            seen_twins.add(twin)
            order.append(v)
            extend(placed | 1 << v)
            order.pop()

    extend(0)
    return best_order


def _reorder(n: int, succ: list[int], ops: Sequence[int], order: list[int]) -> NB101Cell:
    pos = [0] * n
    for i, v in enumerate(order):
        pos[v] = i
    matrix = []
    for v in order:
        row = [0] * n
        for w in _bits(succ[v]):
            row[pos[w]] = 1
        matrix.append(tuple(row))
    return NB101Cell(tuple(matrix), tuple(ops[v] for v in order))


# (cell -> (canonical cell, key)); bounded by clearing, since cells are cheap to redo.
_ANALYSED: dict[NB101Cell, tuple[NB101Cell, str]] = {}


def _analyse_graph(n: int, succ: list[int], ops: Sequence[int]) -> tuple[NB101Cell, str]:
    """Canonical cell and official hash of a pruned, within-limits graph."""
    pred = _preds(n, succ)
    colours = _vertex_hashes(n, succ, pred, ops)
    canonical = _reorder(n, succ, ops, _canonical_order(n, succ, pred, ops, colours))
    return canonical, _fingerprint(colours)


def _remember(cell: NB101Cell, result: tuple[NB101Cell, str]) -> None:
    if len(_ANALYSED) >= _CACHE_LIMIT:
        _ANALYSED.clear()
    _ANALYSED[cell] = result
    _ANALYSED[result[0]] = result


def _analyse(cell: NB101Cell) -> tuple[NB101Cell, str]:
    hit = _ANALYSED.get(cell)
    if hit is not None:
        return hit
    n, succ, ops = _structure(cell)
    n, succ, ops = _prune(n, succ, ops)
    _check_limits(n, succ)
    result = _analyse_graph(n, succ, ops)
    _remember(cell, result)
    return result


# (succ, ops) of a pruned graph -> (canonical cell, key): neighbourhoods of nearby cells
# rebuild the same candidate graphs, so the neighbourhood's hot path remembers them.
_GRAPHS: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[NB101Cell, str]] = {}


def _canonical_graph(n: int, succ: list[int], ops: Sequence[int]) -> tuple[NB101Cell, str]:
    """Canonical cell and key of an already pruned graph."""
    graph = (tuple(succ), tuple(ops))
    result = _GRAPHS.get(graph)
    if result is None:
        result = _analyse_graph(n, succ, ops)
        if len(_GRAPHS) >= _CACHE_LIMIT:
            _GRAPHS.clear()
        _GRAPHS[graph] = result
        if result[0] not in _ANALYSED:
            _remember(result[0], result)
    return result


# ------------------------------------------------------------------ path features
def _path_index(seq: Sequence[int]) -> int:
    """BANANAS path index: sum of 3**i * (op_i + 1), so shorter paths come first."""
    index = 0
    for i, o in enumerate(seq):
        index += 3**i * (o - INTERIOR[0] + 1)
    return index


#: op sequences of length 0..5 over the 3 interior ops: 1 + 3 + ... + 243
N_PATH_FEATURES = sum(3**k for k in range(MAX_VERTICES - 1))


def _paths(n: int, succ: list[int], ops: Sequence[int]) -> list[tuple[int, ...]]:
    """Interior op sequences of every input->output path."""
    routes: list[list[tuple[int, ...]]] = [[] for _ in range(n)]
    routes[0] = [()]
    for v in range(n - 1):
        if not routes[v]:
            continue
        ext = routes[v] if v == 0 else [r + (ops[v],) for r in routes[v]]
        for w in _bits(succ[v]):
            routes[w].extend(ext)
    return routes[n - 1]


# ------------------------------------------------------------------ the space
def _is_full_dag(n: int, succ: list[int], pred: list[int]) -> bool:
    """Every vertex on an input->output path: in a DAG, no sink but output, no source but input."""
    return all(succ[v] for v in range(n - 1)) and all(pred[v] for v in range(1, n))


def _descendants(n: int, succ: list[int]) -> list[int]:
    """desc[v]: bitmask of the vertices reachable from v (canonical cells are topologically ordered)."""
    desc = [0] * n
    for v in range(n - 1, -1, -1):
        m = succ[v]
        for w in _bits(succ[v]):
            m |= desc[w]
        desc[v] = m
    return desc


def _insert_vertex(n: int, succ: list[int], ops: Sequence[int], x: int, y: int, op: int, split: bool) -> tuple[int, list[int], list[int]]:
    """Add a vertex ``w`` with edges x->w->y (removing x->y when ``split``); w goes just before y."""
    # New index of old vertex v: v if v < y else v + 1; w takes index y.
    def shift(mask: int) -> int:
        low = mask & ((1 << y) - 1)
        return low | ((mask ^ low) << 1)

    new_succ = [shift(succ[v]) for v in range(n)]
    new_succ.insert(y, 1 << (y + 1))  # w -> y (y moved to y + 1)
    xi = x if x < y else x + 1
    if split:
        new_succ[xi] &= ~(1 << (y + 1))
    new_succ[xi] |= 1 << y
    new_ops = list(ops[:y]) + [op] + list(ops[y:])
    return n + 1, new_succ, new_ops


def _delete_vertex(n: int, succ: list[int], ops: Sequence[int], w: int, join: tuple[int, int] | None) -> tuple[int, list[int], list[int]]:
    """Remove vertex ``w`` and its edges, adding the edge ``join`` (old indices) if given."""
    succ = list(succ)
    if join is not None:
        succ[join[0]] |= 1 << join[1]

    def drop(mask: int) -> int:
        low = mask & ((1 << w) - 1)
        return low | ((mask >> (w + 1)) << w)

    new_succ = [drop(succ[v]) for v in range(n) if v != w]
    return n - 1, new_succ, [ops[v] for v in range(n) if v != w]


class NB101Space(SearchSpace):
    """The NAS-Bench-101 cell search space (423,624 unique cells; not enumerated)."""

    name = "nb101"
    ops = OPS
    encodings = ("onehot", "path", "opcount")
    size = None

    def __init__(self) -> None:
        self._neighbour_cache: dict[NB101Cell, list[NB101Cell]] = {}

    # -------------------------------------------------------------- validity
    def validate(self, genotype: Any) -> NB101Cell:
        """An :class:`NB101Cell`, a ``{"matrix", "ops"}`` dict (op names) or a ModelSpec-like object."""
        if type(genotype) is NB101Cell:
            try:
                known = genotype in _ANALYSED
            except TypeError:  # built with lists instead of tuples
                raise InvalidArchitecture(f"an NB101Cell holds tuples (matrix rows, ops); got {genotype!r:.80}") from None
            if not known:
                _analyse(genotype)
            return genotype
        if isinstance(genotype, dict):
            if set(genotype) != {"matrix", "ops"}:
                raise InvalidArchitecture(f"an nb101 cell dict has exactly the keys 'matrix' and 'ops'; got {sorted(genotype, key=str)}")
            cell = _cell_from_spec(genotype["matrix"], genotype["ops"])
        elif hasattr(genotype, "original_matrix") and hasattr(genotype, "original_ops"):
            cell = _cell_from_spec(genotype.original_matrix, genotype.original_ops)  # nasbench ModelSpec
        elif hasattr(genotype, "matrix") and hasattr(genotype, "ops"):
            cell = _cell_from_spec(genotype.matrix, genotype.ops)
        else:
            raise InvalidArchitecture(
                f"an nb101 genotype is an NB101Cell or a {{'matrix': [[0/1...]], 'ops': [names]}} spec; got {genotype!r:.80}"
            )
        _analyse(cell)
        return cell

    def canonical(self, genotype: Any) -> NB101Cell:
        return self._analysis(genotype)[0]

    def key(self, genotype: Any) -> str:
        """The official NAS-Bench-101 ``module_hash`` (32 hex digits)."""
        return self._analysis(genotype)[1]

    def _analysis(self, genotype: Any) -> tuple[NB101Cell, str]:
        if type(genotype) is NB101Cell:
            try:
                hit = _ANALYSED.get(genotype)  # the hot path: a cell seen before
            except TypeError:
                hit = None  # unhashable: validate says why
            if hit is not None:
                return hit
        return _analyse(self.validate(genotype))

    def is_valid(self, genotype: Any) -> bool:
        try:
            self.validate(genotype)
        except InvalidArchitecture:
            return False
        return True

    # -------------------------------------------------------------- sampling
    def sample(self, rng: np.random.Generator) -> NB101Cell:
        """The official random spec: each upper-triangular edge with probability 1/2, uniform ops, retried until valid.

        Uniform over 7x7 specs, not over the 423,624 unique cells (small cells
        are reached by many specs), exactly as NAS-Bench-101 and BANANAS sample.
        """
        n = MAX_VERTICES
        while True:
            bits = rng.integers(0, 2, size=(n, n))
            interior = rng.integers(INTERIOR[0], INTERIOR[-1] + 1, size=n - 2)
            succ = [0] * n
            for i in range(n - 1):
                row = bits[i].tolist()
                succ[i] = sum(1 << j for j in range(i + 1, n) if row[j])
            ops = (INPUT, *interior.tolist(), OUTPUT)
            try:
                pn, psucc, pops = _prune(n, succ, ops)
                _check_limits(pn, psucc)
            except InvalidArchitecture:
                continue
            return _canonical_graph(pn, psucc, pops)[0]

    # -------------------------------------------------------------- capabilities
    network = "archscape.train.models.nb101:build"

    def graph_view(self) -> NB101Graphs:
        return NB101Graphs()

    def cell_layout(self) -> CellLayout:
        return LAYOUT

    def slot_ops(self, genotype: Any) -> list[list[int]]:
        """The interior ops of the canonical (pruned) cell."""
        return [list(self.canonical(genotype).ops[1:-1])]

    def with_slot_ops(self, genotype: Any, cells: Sequence[Sequence[int]]) -> NB101Cell:
        cell = self.canonical(genotype)
        return self.canonical(NB101Cell(cell.matrix, (cell.ops[0], *cells[0], cell.ops[-1])))

    def arrange(self, cells: Sequence[np.ndarray], rng: np.random.Generator) -> NB101Cell:
        """The official random spec conditioned on a full cell holding ``cells[0]``'s interior ops.

        Rejection, a vectorised batch of specs at a time.  In a DAG numbered
        in topological order, a vertex lies on an input->output path exactly
        when every interior vertex has an in-edge and an out-edge (by
        induction from either end), so that and the 9-edge limit are the
        whole test: nothing is pruned and the op counts stay those asked for.
        """
        interior = np.asarray(cells[0])
        n = len(interior) + 2
        upper = np.triu(np.ones((n, n), dtype=bool), 1)
        weights = 1 << np.arange(n)
        for _ in range(0, ARRANGE_TRIES, ARRANGE_BATCH):
            adj = (rng.integers(0, 2, size=(ARRANGE_BATCH, n, n)) == 1) & upper
            indeg, outdeg = adj.sum(axis=1), adj.sum(axis=2)
            ok = ((adj.sum(axis=(1, 2)) <= MAX_EDGES) & (indeg[:, 1:-1] > 0).all(axis=1)
                  & (outdeg[:, 1:-1] > 0).all(axis=1))
            hits = np.flatnonzero(ok)
            if hits.size:
                succ = (adj[hits[0]] * weights).sum(axis=1).tolist()
                ops = (INPUT, *rng.permutation(interior).tolist(), OUTPUT)
                return _canonical_graph(n, succ, ops)[0]
        raise ArchscapeError(f"no valid NB101 cell with interior ops {sorted(interior.tolist())} in {ARRANGE_TRIES:,} draws")

    # -------------------------------------------------------------- neighbourhood
    def neighbours(self, genotype: Any) -> list[NB101Cell]:
        cell = self.canonical(genotype)
        hit = self._neighbour_cache.get(cell)
        if hit is None:
            hit = self._neighbours(cell)
            if len(self._neighbour_cache) >= 20_000:
                self._neighbour_cache.clear()
            self._neighbour_cache[cell] = hit
        return list(hit)

    def _neighbours(self, cell: NB101Cell) -> list[NB101Cell]:
        n, succ, ops = _structure(cell)
        pred = _preds(n, succ)
        desc = _descendants(n, succ)
        edges = sum(s.bit_count() for s in succ)
        own = self.key(cell)
        out: dict[str, NB101Cell] = {}

        def add(graph: tuple[int, list[int], Sequence[int]]) -> None:
            c, k = _canonical_graph(*graph)
            if k != own and k not in out:
                out[k] = c

        # 1. the op of one interior vertex
        for v in range(1, n - 1):
            for o in INTERIOR:
                if o != ops[v]:
                    add((n, succ, ops[:v] + (o,) + ops[v + 1 :]))
        # 2. remove one edge (if nothing dangles) or add one (if acyclic and within the edge limit)
        for x in range(n - 1):
            for y in range(1, n):
                if x == y:
                    continue
                if succ[x] >> y & 1:
                    s = list(succ)
                    s[x] &= ~(1 << y)
                    p = list(pred)
                    p[y] &= ~(1 << x)
                    if _is_full_dag(n, s, p):
                        add((n, s, ops))
                elif edges < MAX_EDGES and not desc[y] >> x & 1:
                    s = list(succ)
                    s[x] |= 1 << y
                    if x > y:  # keep the matrix upper triangular: relabel topologically
                        add(_topological(n, s, ops))
                    else:
                        add((n, s, ops))
        # 3. insert a vertex x -> w -> y, beside the wiring or splitting the edge x -> y
        if n < MAX_VERTICES:
            for x in range(n - 1):
                for y in range(1, n):
                    if x == y or desc[y] >> x & 1:
                        continue
                    has_edge = bool(succ[x] >> y & 1)
                    for o in INTERIOR:
                        if edges + 2 <= MAX_EDGES:
                            add(_topological(*_insert_vertex(n, succ, ops, x, y, o, split=False)))
                        if has_edge and edges + 1 <= MAX_EDGES:
                            add(_topological(*_insert_vertex(n, succ, ops, x, y, o, split=True)))
        # 4. delete a vertex with one in-edge and one out-edge, with or without joining its neighbours
        for w in range(1, n - 1):
            if pred[w].bit_count() == 1 and succ[w].bit_count() == 1:
                x, y = pred[w].bit_length() - 1, succ[w].bit_length() - 1
                m, s, o = _delete_vertex(n, succ, ops, w, None)
                if _is_full_dag(m, s, _preds(m, s)):
                    add((m, s, o))
                add(_delete_vertex(n, succ, ops, w, (x, y)))
        return list(out.values())

    # -------------------------------------------------------------- text
    def format(self, genotype: Any) -> str:
        """Compact JSON of the canonical cell: ``{"matrix": [[...]], "ops": [names]}``."""
        return json.dumps(self.canonical(genotype).to_spec(), separators=(",", ":"))

    def parse(self, text: str) -> NB101Cell:
        """Read the JSON spec form, or NASLib's tuple key ``"(0, 1, ..., 0, 2, 4, 1)"``."""
        if not isinstance(text, str):
            raise InvalidArchitecture(f"an nb101 cell text is a string; got {type(text).__name__}")
        s = text.strip()
        if len(s) > MAX_TEXT:  # bounded before parsing: a 7-vertex cell is a few hundred characters
            raise InvalidArchitecture(f"an nb101 cell text is at most {MAX_TEXT:,} characters; got {len(s):,}")
        if s.startswith("{"):
            try:
                spec = json.loads(s)
            except (ValueError, RecursionError):
                raise InvalidArchitecture(f"malformed nb101 cell {text!r:.80}: not valid JSON") from None
            return self.validate(spec)
        if s.startswith("(") or s.startswith("["):
            return self.validate(_naslib_spec(s, text))
        raise InvalidArchitecture(
            f"malformed nb101 cell {text!r:.80}; accepted: JSON like "
            '{"matrix":[[0,1],[0,0]],"ops":["input","output"]} or a NASLib tuple key "(0, 1, ..., 0, 1)"'
        )

    def format_naslib(self, genotype: Any) -> str:
        """NASLib's tuple key of the canonical cell padded to 7 vertices (the key form of its data files)."""
        m, ops = _padded(self.canonical(genotype))
        # Padding vertices are isolated; NASLib gives them conv3x3-bn-relu.
        codes = tuple(NASLIB_OPS.index(OPS[o if o >= 0 else INTERIOR[0]]) for o in ops)
        return str(tuple(int(b) for b in m.ravel()) + codes)

    # -------------------------------------------------------------- encodings
    def _encode_onehot(self, g: NB101Cell) -> np.ndarray:
        """21 upper-triangular adjacency bits of the padded 7-vertex canonical cell, then 5 x 3 one-hot ops."""
        m, ops = _padded(self.canonical(g))
        adj = m[np.triu_indices(MAX_VERTICES, 1)].astype(np.float32)
        onehot = np.zeros((MAX_VERTICES - 2, len(INTERIOR)), dtype=np.float32)
        for v in range(1, MAX_VERTICES - 1):
            if ops[v] in INTERIOR:
                onehot[v - 1, ops[v] - INTERIOR[0]] = 1.0
        return np.concatenate([adj, onehot.ravel()])

    def _encode_path(self, g: NB101Cell, cutoff: int | None = None) -> np.ndarray:
        """BANANAS path encoding: one bit per op sequence found on an input->output path (364 features)."""
        n, succ, ops = _structure(self.canonical(g))
        v = np.zeros(N_PATH_FEATURES, dtype=np.float32)
        for seq in _paths(n, succ, ops):
            v[_path_index(seq)] = 1.0
        return truncate(v, cutoff)

    def _encode_opcount(self, g: NB101Cell) -> np.ndarray:
        ops = self.canonical(g).ops
        return np.array([ops.count(o) for o in INTERIOR], dtype=np.float32)

    def encoding_size(self, encoding: str, **options: Any) -> int:
        self._check_encoding(encoding)
        if encoding == "onehot":
            return MAX_VERTICES * (MAX_VERTICES - 1) // 2 + (MAX_VERTICES - 2) * len(INTERIOR)
        if encoding == "opcount":
            return len(INTERIOR)
        cutoff = options.get("cutoff")
        return N_PATH_FEATURES if cutoff is None else int(truncate(np.zeros(N_PATH_FEATURES), cutoff).shape[0])

    def op_counts(self, genotype: Any) -> np.ndarray:
        """Counts of conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3 in the pruned cell."""
        return self.encode(genotype, "opcount")


def _topological(n: int, succ: list[int], ops: Sequence[int]) -> tuple[int, list[int], list[int]]:
    """Relabel a DAG (input 0, output n-1) in a topological order so its matrix is upper triangular."""
    pred = _preds(n, succ)
    order: list[int] = []
    placed = 0
    while len(order) < n:
        for v in range(n):
            if not placed >> v & 1 and pred[v] & ~placed == 0:
                order.append(v)
                placed |= 1 << v
                break
        else:  # pragma: no cover - callers only build acyclic graphs
            raise InvalidArchitecture("nb101 cell has a cycle")
    pos = [0] * n
    for i, v in enumerate(order):
        pos[v] = i
    new_succ = [0] * n
    for v in range(n):
        for w in _bits(succ[v]):
            new_succ[pos[v]] |= 1 << pos[w]
    return n, new_succ, [ops[v] for v in order]


def _padded(cell: NB101Cell) -> tuple[np.ndarray, list[int]]:
    """The 7x7 form of a cell: missing vertices are empty rows/columns inserted before the output."""
    n = cell.n_vertices
    m = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    src = np.asarray(cell.matrix, dtype=np.int8)
    index = list(range(n - 1)) + [MAX_VERTICES - 1]
    m[np.ix_(index, index)] = src
    ops = list(cell.ops[:-1]) + [-1] * (MAX_VERTICES - n) + [OUTPUT]
    return m, ops


def _cell_from_spec(matrix: Any, ops: Any) -> NB101Cell:
    """An NB101Cell from a ModelSpec-style matrix (nested lists or array) and op names."""
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence) and not isinstance(ops, np.ndarray):
        raise InvalidArchitecture(f"nb101 ops must be a list of op names; got {ops!r:.80}")
    op_idx = []
    for op in list(ops):
        if isinstance(op, str) and op in OPS:
            op_idx.append(OPS.index(op))
        else:
            raise InvalidArchitecture(f"unknown operation {op!r} in nb101; accepted: {', '.join(OPS)}")
    try:
        arr = np.asarray(matrix)
    except (ValueError, TypeError):
        raise InvalidArchitecture(f"an nb101 matrix must be a square 0/1 array; got {matrix!r:.80}") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InvalidArchitecture(f"an nb101 matrix must be square; got shape {arr.shape}")
    if arr.shape[0] != len(op_idx):
        raise InvalidArchitecture(f"nb101 ops must match the matrix size: {len(op_idx)} ops for a {arr.shape[0]}x{arr.shape[0]} matrix")
    if arr.dtype == bool:
        arr = arr.astype(np.int8)
    if arr.size and (arr.dtype.kind not in "iu" or not np.isin(arr, (0, 1)).all()):
        raise InvalidArchitecture(f"an nb101 matrix holds only 0/1 entries; got {matrix!r:.80}")
    return NB101Cell(tuple(tuple(int(b) for b in row) for row in arr.tolist()), tuple(op_idx))


def _naslib_spec(s: str, text: str) -> dict[str, Any]:
    try:
        values = ast.literal_eval(s)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise InvalidArchitecture(f"malformed nb101 NASLib key {text!r:.80}: expected a tuple of ints") from None
    if not isinstance(values, (tuple, list)) or not all(type(v) is int for v in values):
        raise InvalidArchitecture(f"malformed nb101 NASLib key {text!r:.80}: expected a tuple of ints")
    length = len(values)
    n = next((k for k in range(2, MAX_VERTICES + 1) if k * k + k == length), None)
    if n is None:
        raise InvalidArchitecture(
            f"malformed nb101 NASLib key {text!r:.80}: {length} numbers, expected n*n adjacency bits + n op codes (56 for 7 vertices)"
        )
    codes = values[n * n :]
    if any(not 0 <= c < len(NASLIB_OPS) for c in codes):
        raise InvalidArchitecture(
            f"unknown NASLib op code in {text!r:.80}; accepted: " + ", ".join(f"{i}={o}" for i, o in enumerate(NASLIB_OPS))
        )
    matrix = [list(values[i * n : (i + 1) * n]) for i in range(n)]
    return {"matrix": matrix, "ops": [NASLIB_OPS[c] for c in codes]}


#: operation distributions count the 5 interior vertices of full cells over the 3 interior ops
LAYOUT = CellLayout("nb101", ("cell",), MAX_VERTICES - 2, tuple(OPS[o] for o in INTERIOR), values=INTERIOR)
#: the longest cell text :meth:`NB101Space.parse` reads
MAX_TEXT = 4096
#: specs drawn by :meth:`NB101Space.arrange` before giving up (about one in 470 official random specs is a full cell)
ARRANGE_TRIES = 1_000_000
#: specs drawn at once (vectorised rejection)
ARRANGE_BATCH = 512


class NB101Graphs(GraphView):
    """The canonical pruned cell as it is, padded to 7 vertices (operations on the vertices)."""

    def __init__(self) -> None:
        self.n_nodes = MAX_VERTICES
        self.n_features = len(OPS)

    def graphs(self, space, genotypes) -> GraphBatch:
        n = len(genotypes)
        x, a, mask = empty_graphs(n, self.n_nodes, self.n_features)
        mask[:] = 0.0
        for b, g in enumerate(genotypes):
            cell = space.canonical(g)
            v = cell.n_vertices
            a[b, :v, :v] = cell.matrix
            x[b, np.arange(v), cell.ops] = 1.0
            mask[b, :v] = 1.0
        return GraphBatch(x, a, mask)


_SHARED = NB101Space()


def space() -> NB101Space:
    """The shared NB101 space (its neighbourhood cache is shared too)."""
    return _SHARED


def iter_interior_permutations(cell: NB101Cell) -> Iterator[NB101Cell]:
    """Every relabelling of the interior vertices that keeps the matrix upper triangular (isomorphic cells)."""
    n = cell.n_vertices
    for perm in itertools.permutations(range(1, n - 1)):
        order = [0, *perm, n - 1]
        pos = {v: i for i, v in enumerate(order)}
        if any(cell.matrix[a][b] and pos[a] > pos[b] for a in range(n) for b in range(n)):
            continue
        yield NB101Cell(
            tuple(tuple(cell.matrix[a][b] for b in order) for a in order),
            tuple(cell.ops[a] for a in order),
        )


__all__ = [
    "ARRANGE_TRIES",
    "INPUT",
    "LAYOUT",
    "INTERIOR",
    "MAX_EDGES",
    "MAX_VERTICES",
    "N_CELLS",
    "N_PATH_FEATURES",
    "NASLIB_OPS",
    "NB101Cell",
    "NB101Space",
    "OPS",
    "OUTPUT",
    "iter_interior_permutations",
    "module_hash",
    "space",
]
