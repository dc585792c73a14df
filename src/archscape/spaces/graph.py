"""The NAS-Bench-Graph macro space: four GNN layers wired as a tree.

Each of the four computing nodes (1..4) reads exactly one earlier node
(0 is the input graph's features) and applies one operation; every node
that no other node reads (a leaf) feeds the output.  A genotype is a tuple
of eight ints::

    (in_1, in_2, in_3, in_4, op_1, op_2, op_3, op_4)

with ``in_k`` in ``0..k-1`` (the *link* of the NAS-Bench-Graph package)
and ``op_k`` an index into :attr:`GraphSpace.ops`.  The text form is
``link=0,0,1,2;ops=gcn,gat,skip,fc``.

Writing the same network twice is easy (nodes can be numbered in several
orders, sibling leaves can swap, identity layers can sit in several
places), so the benchmark lists one representative per class, and
:meth:`GraphSpace.canonical` maps every genotype onto it.  The classes are
exactly those of the package's ``Arch.valid_hash``, in three steps:

1. *Renumber* the tree onto one of the nine tree shapes of :data:`PATTERNS`
   (the package's ``link_list``; 4! = 24 numbered trees fall onto them).
2. *Lift identity layers*: scanning nodes 1..4 in order, a ``skip`` node
   that has children, or has no sibling, or merely carries the input
   features (it and all its ancestors are ``skip``) is taken out of its
   place (its children read its parent instead) and re-inserted as node 1
   directly after the input, which every former reader of the input now
   reads through it.  Identity layers so gather at the front, where they
   stand for "fewer layers" (an identity leaf that only forwards the input
   features counts as such padding too: the package's convention).  The
   result is renumbered onto a shape again.
3. *Order symmetric nodes*: among the renumberings that the shape allows
   (its automorphisms: interchangeable sibling leaves, or the two equal
   branches of ``0,0,1,2``), keep the one with the smallest op tuple.

All-``skip`` networks compute nothing and are not in the space.  The space
has 26,206 classes with the nine operations (2,021 with the five of
``graph-proteins``), the benchmark's entries.  Their order (:meth:`index`)
is the package's: op tuples in lexicographic order of :attr:`ops`, then the
shapes in :data:`PATTERNS` order.

Neighbourhood: two classes are neighbours when some genotype of one and
some genotype of the other differ in one node's operation, or in one
node's input (rewiring node ``k`` to another of ``0..k-1``).  This move set
is symmetric by construction and reaches every class.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from archscape.errors import InvalidArchitecture
from archscape.spaces.base import SearchSpace

OPS = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
#: the five operations of the ogbn-proteins table (in the order of :data:`OPS`)
PROTEINS_OPS = ("gcn", "sage", "arma", "fc", "skip")
N_NODES = 4
#: the nine tree shapes (input of nodes 1..4), in the package's ``link_list`` order
PATTERNS = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)
#: every numbered tree: node k reads one of 0..k-1
LINKS = tuple(itertools.product(*(range(k) for k in range(1, N_NODES + 1))))
_PERMS = tuple(itertools.permutations(range(N_NODES)))


# ------------------------------------------------------------------ trees
def _renumbered(link: tuple[int, ...], order: tuple[int, ...]) -> tuple[int, ...] | None:
    """The link after renumbering: new node j+1 is old node order[j]+1; None if not numbered parents-first."""
    new_label = {0: 0}
    for j, old in enumerate(order):
        new_label[old + 1] = j + 1
    out = tuple(new_label[link[old]] for old in order)
    return out if all(p <= j for j, p in enumerate(out)) else None


def _onto_pattern(link: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(shape, order) with ``shape == _renumbered(link, order)``; the first such order wins."""
    for order in _PERMS:
        shape = _renumbered(link, order)
        if shape in PATTERNS:
            return shape, order
    raise AssertionError(f"{link} matches no tree shape")  # unreachable: the shapes cover all 24 trees


def _automorphisms(pattern: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    return tuple(order for order in _PERMS if _renumbered(pattern, order) == pattern)


_AUTOMORPHISMS = {p: _automorphisms(p) for p in PATTERNS}


def _carries_input(node: int, link: list[int], skip: list[bool]) -> bool:
    """Whether 0-based ``node`` outputs the input features unchanged (it and its ancestors are skip)."""
    while node >= 0:
        if not skip[node]:
            return False
        node = link[node] - 1
    return True


def _lift_to_front(node: int, link: list[int]) -> tuple[list[int], list[int]]:
    """Move 0-based ``node`` (a skip) to position 0 as described in the module docstring; (link, order)."""
    lifted = node + 1
    order = [node] + [v for v in range(N_NODES) if v != node]

    def label(old: int) -> int:  # new label of old 1-based node ``old`` (>= 1)
        return 1 if old == lifted else old + 1 if old < lifted else old

    new_link = [0]
    for v in order[1:]:
        src = link[v]
        if src == lifted:  # a reader of the lifted node now reads its parent
            src = link[node]
        new_link.append(1 if src == 0 else label(src))
    return new_link, order


def _lift_skips(link: tuple[int, ...], skip: tuple[bool, ...]) -> tuple[list[int], list[int]]:
    """Step 2 of the canonical form on a shape; returns (link, order of old positions)."""
    cur, skp, order = list(link), list(skip), list(range(N_NODES))
    for i in range(N_NODES):
        if not skp[i]:
            continue
        has_child = (i + 1) in cur
        has_sibling = any(j != i and cur[j] == cur[i] for j in range(N_NODES))
        if has_child or not has_sibling or _carries_input(i, cur, skp):
            cur, moved = _lift_to_front(i, cur)
            order = [order[m] for m in moved]
            skp = [skp[m] for m in moved]
    return cur, order


def _structure_table() -> dict[tuple[tuple[int, ...], int], tuple[tuple[int, ...], tuple[int, ...], tuple]]:
    """(link, skip mask) -> (shape, order of the raw op positions, automorphisms of the shape).

    Steps 1 and 2 depend only on the wiring and on which nodes are skip, so
    they are computed once for all 24 x 16 cases.
    """
    table = {}
    for link in LINKS:
        shape, first = _onto_pattern(link)
        for mask in range(1 << N_NODES):
            skip = tuple(bool(mask >> first[j] & 1) for j in range(N_NODES))
            lifted, second = _lift_skips(shape, skip)
            final, third = _onto_pattern(tuple(lifted))
            order = tuple(first[second[t]] for t in third)
            table[link, mask] = (final, order, _AUTOMORPHISMS[final])
    return table


def _by_shape() -> dict[tuple[int, ...], list[tuple[tuple[int, ...], int, tuple[int, ...]]]]:
    """Shape -> every (link, skip mask, order) whose canonical wiring is that shape."""
    out: dict = {p: [] for p in PATTERNS}
    for (link, mask), (shape, order, _) in _STRUCTURE.items():
        out[shape].append((link, mask, order))
    return out


_STRUCTURE = _structure_table()
_BY_SHAPE = _by_shape()


def canonical_of(genotype: tuple[int, ...], skip: int) -> tuple[int, ...]:
    """Canonical form of a valid genotype whose ``skip`` operation has index ``skip``."""
    ops = genotype[N_NODES:]
    mask = (ops[0] == skip) | (ops[1] == skip) << 1 | (ops[2] == skip) << 2 | (ops[3] == skip) << 3
    shape, order, autos = _STRUCTURE[genotype[:N_NODES], mask]
    new_ops = tuple(ops[p] for p in order)
    if len(autos) > 1:
        new_ops = min(tuple(new_ops[p] for p in a) for a in autos)
    return shape + new_ops


@lru_cache(maxsize=None)
def _enumeration(n_ops: int) -> tuple[list[tuple[int, ...]], dict[tuple[int, ...], int]]:
    skip = n_ops - 1
    order = []
    for ops in itertools.product(range(n_ops), repeat=N_NODES):
        if all(o == skip for o in ops):
            continue
        for shape in PATTERNS:
            g = shape + ops
            if canonical_of(g, skip) == g:
                order.append(g)
    return order, {g: i for i, g in enumerate(order)}


def _members(canonical: tuple[int, ...], skip: int) -> set[tuple[int, ...]]:
    """Every genotype whose canonical form is ``canonical``.

    Canonicalising only renumbers nodes, so a member's ops are those of
    ``canonical`` put back through the inverse of one (wiring, mask) order,
    up to an automorphism of the shape.
    """
    shape, ops = canonical[:N_NODES], canonical[N_NODES:]
    images = {tuple(ops[a.index(u)] for u in range(N_NODES)) for a in _AUTOMORPHISMS[shape]}
    out = set()
    for link, mask, order in _BY_SHAPE[shape]:
        for image in images:
            raw = [0] * N_NODES
            for u, p in enumerate(order):
                raw[p] = image[u]
            if all((raw[k] == skip) == bool(mask >> k & 1) for k in range(N_NODES)):
                g = link + tuple(raw)
                if canonical_of(g, skip) == canonical:
                    out.add(g)
    return out


@lru_cache(maxsize=65536)
def _neighbours(canonical: tuple[int, ...], n_ops: int) -> tuple[tuple[int, ...], ...]:
    skip = n_ops - 1
    found = set()
    for g in _members(canonical, skip):
        for k in range(N_NODES):
            for op in range(n_ops):
                if op != g[N_NODES + k]:
                    moved = g[: N_NODES + k] + (op,) + g[N_NODES + k + 1 :]
                    if any(o != skip for o in moved[N_NODES:]):
                        found.add(canonical_of(moved, skip))
            for src in range(k + 1):
                if src != g[k]:
                    found.add(canonical_of(g[:k] + (src,) + g[k + 1 :], skip))
    found.discard(canonical)
    return tuple(sorted(found))


# ------------------------------------------------------------------ space
class GraphSpace(SearchSpace):
    """The NAS-Bench-Graph space with its nine GNN operations."""

    name = "graph"
    ops = OPS
    encodings = ("onehot", "opcount")
    size = 26_206

    @property
    def _skip(self) -> int:
        return len(self.ops) - 1

    # -------------------------------------------------------------- order
    def index(self, genotype) -> int:
        return _enumeration(len(self.ops))[1][self.canonical(genotype)]

    def from_index(self, index: int) -> tuple[int, ...]:
        return _enumeration(len(self.ops))[0][self._check_index(index)]

    def enumerate(self):
        return iter(_enumeration(len(self.ops))[0])

    # -------------------------------------------------------------- structure
    def validate(self, genotype) -> tuple[int, ...]:
        if type(genotype) is tuple:
            order, index = _enumeration(len(self.ops))
            try:
                row = index.get(genotype)
            except TypeError:  # unhashable items; the full check below names the problem
                row = None
            if row is not None and not any(type(x) is bool for x in genotype):
                return order[row]  # the hot path: a canonical genotype (as plain ints)
        n = len(self.ops)
        if isinstance(genotype, (tuple, list, np.ndarray)) and len(genotype) == 2 * N_NODES:
            items = tuple(genotype)
            if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in items):
                g = tuple(int(x) for x in items)
                if all(0 <= g[k] <= k for k in range(N_NODES)) and all(0 <= o < n for o in g[N_NODES:]):
                    if all(o == self._skip for o in g[N_NODES:]):
                        raise InvalidArchitecture(
                            f"all four operations of {self.name} architecture {g} are skip; at least one must be a GNN layer"
                        )
                    return g
        raise InvalidArchitecture(
            f"a {self.name} genotype is 8 ints: the input of nodes 1..4 (node k reads 0..k-1) "
            f"then 4 op indices in 0..{n - 1}; got {genotype!r}"
        )

    def canonical(self, genotype) -> tuple[int, ...]:
        return canonical_of(self.validate(genotype), self._skip)

    def sample(self, rng: np.random.Generator) -> tuple[int, ...]:
        """Uniform over the distinct architectures (the benchmark's entries), not over genotypes."""
        order = _enumeration(len(self.ops))[0]
        return order[int(rng.integers(len(order)))]

    def neighbours(self, genotype) -> list[tuple[int, ...]]:
        return list(_neighbours(self.canonical(genotype), len(self.ops)))

    # -------------------------------------------------------------- text
    def parse(self, text: str) -> tuple[int, ...]:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"a {self.name} architecture is text; got {type(text).__name__}")
        example = "link=0,0,1,2;ops=gcn,gat,skip,fc"
        fields = {}
        for part in text.strip().split(";"):
            key, sep, value = part.partition("=")
            fields[key.strip()] = value if sep else None
        if set(fields) != {"link", "ops"} or None in fields.values():
            raise InvalidArchitecture(f"malformed {self.name} architecture {text[:80]!r}: expected like {example}")
        link = [x.strip() for x in fields["link"].split(",")]
        ops = [x.strip() for x in fields["ops"].split(",")]
        if len(link) != N_NODES or len(ops) != N_NODES:
            raise InvalidArchitecture(f"malformed {self.name} architecture {text[:80]!r}: link and ops need 4 entries each, like {example}")
        for k, src in enumerate(link):
            if not (src.isdigit() and int(src) <= k):
                raise InvalidArchitecture(
                    f"malformed {self.name} architecture {text[:80]!r}: node {k + 1} reads {src!r}; accepted: 0..{k}"
                )
        return self.validate(tuple(int(s) for s in link) + tuple(self._op_index(o) for o in ops))

    def format(self, genotype) -> str:
        g = self.validate(genotype)
        return "link=" + ",".join(map(str, g[:N_NODES])) + ";ops=" + ",".join(self.ops[o] for o in g[N_NODES:])

    # -------------------------------------------------------------- encodings
    # Both encode the canonical form, so equivalent genotypes share a vector.
    def _encode_onehot(self, g) -> np.ndarray:
        return self.encode_many([g], "onehot")[0]

    def _encode_opcount(self, g) -> np.ndarray:
        return self.encode_many([g], "opcount")[0]

    def encode_many(self, genotypes, encoding: str = "onehot", **options) -> np.ndarray:
        self._check_encoding(encoding)
        n = len(self.ops)
        g = np.asarray([self.canonical(x) for x in genotypes], dtype=np.int64).reshape(-1, 2 * N_NODES)
        rows = np.arange(len(g))[:, None]
        if encoding == "opcount":
            return (g[:, N_NODES:, None] == np.arange(n)).sum(axis=1).astype(np.float32)
        # One-hot of each node's input (its row of the adjacency: 1+2+3+4 = 10), then of each op.
        link_width = N_NODES * (N_NODES + 1) // 2
        out = np.zeros((len(g), link_width + N_NODES * n), dtype=np.float32)
        starts = np.array([k * (k + 1) // 2 for k in range(N_NODES)])
        out[rows, starts + g[:, :N_NODES]] = 1.0
        out[rows, link_width + np.arange(N_NODES) * n + g[:, N_NODES:]] = 1.0
        return out


class GraphProteinsSpace(GraphSpace):
    """The NAS-Bench-Graph space of the ogbn-proteins table: five operations."""

    name = "graph-proteins"
    ops = PROTEINS_OPS
    size = 2_021


__all__ = ["LINKS", "OPS", "PATTERNS", "PROTEINS_OPS", "GraphProteinsSpace", "GraphSpace", "canonical_of"]
