"""NAGO: the hierarchical random-graph *generator* space (Ru et al., NeurIPS 2020).

An architecture here is not one network but a network *generator*: three
random-graph models, one per level of a three-level hierarchy.

* the **top** graph is a graph of cells (default Watts-Strogatz, ``N, K, P``);
* each top node (a cell) is a **mid**-level graph (default Erdos-Renyi, ``N, P``);
* each mid node is a **bottom**-level graph (default Watts-Strogatz, ``N, K, P``)
  whose nodes are operations (ReLU-conv3x3-BN in the network of
  :mod:`archscape.train.models.nago`).

``N`` (nodes) is an int in [3, 10], ``K`` (ring neighbours of Watts-Strogatz)
an int in [2, 5] and ``P`` (rewiring or edge probability) a float in
[0.1, 1], as in the authors' code (rubinxin/vega_NAGO, ``nago.yml``), except
that their Erdos-Renyi ``P`` starts at 0.2 and here every ``P`` starts at 0.1.
Barabasi-Albert (``N, M``: ``M`` edges per new node, an int in [1, 5]) is
available for any level: ``NagoSpace(top="ba")``.

Genotype
--------
The flat tuple of the levels' parameters, top first: with the default
generators ``(N_t, K_t, P_t, N_m, P_m, N_b, K_b, P_b)``, ints for ``N``/``K``/``M``
and floats for ``P``.  ``P`` lives on a grid of step ``p_step`` (default
0.05: 0.1, 0.15, ..., 1.0), so genotypes are hashable, finitely many, and a
neighbour is one grid step away.

Canonical form: parameters that cannot change the generated graphs are
normalised, so that two canonical genotypes differ in what they generate:

* ``K`` is clipped to ``N - 1`` (as the authors' code does before building);
* ``K`` is rounded down to an even number: networkx's ``watts_strogatz_graph``
  joins each node to ``K // 2`` neighbours on each side and draws its random
  numbers per such neighbour, so ``K = 3`` gives exactly the graphs of
  ``K = 2`` (and 5 those of 4) for every seed.  Canonical ``K`` is 2 or 4.
* when that ring lattice is already complete (``K == N - 1``: ``N = 3``, or
  ``N = 5, K = 4``), rewiring cannot change it and ``P`` is set to its lower
  bound;
* Barabasi-Albert's ``M`` is clipped to ``N - 1``.

:meth:`NagoSpace.sample` draws every parameter uniformly from its box (the
authors' prior) and returns the canonical form, so canonical ``K = 2`` is
drawn for raw 2 and 3.  A neighbour changes one parameter by one step of its
canonical values (``N`` +-1, ``K`` +-2, ``M`` +-1, ``P`` +-``p_step``) and is
itself canonical, which keeps the relation symmetric.

Text forms: ``top=ws(N=6,K=4,P=0.75);mid=er(N=5,P=0.5);bottom=ws(N=4,K=2,P=0.3)``
(what :meth:`NagoSpace.format` writes) or the bare values
``6,4,0.75,5,0.5,4,2,0.3``; :meth:`NagoSpace.parse` reads both.

Graphs
------
:func:`sample_graphs` turns a genotype and an integer seed into
:class:`NagoGraphs`: the top graph, one mid graph per top node and one
bottom graph per mid node, each drawn by networkx with an integer seed
derived from ``(seed, level, position, attempt)`` by ``numpy.random.SeedSequence``
(no global random state).  The seeds do not depend on the parameters, so
nearby genotypes share their random numbers (common random numbers: a small
change of ``P`` changes few edges).  As in the authors' code, a disconnected
draw is redrawn (up to :data:`CONNECT_TRIES` attempts, then the last draw is
kept).  Edges are oriented from the lower to the higher node index, which
makes every graph a DAG; a node without predecessors reads the graph's
input, and the outputs of the nodes without successors are averaged into
the graph's output (an isolated node does both).

Network plan (no torch)
-----------------------
:func:`count_parameters` counts the parameters of the network that
:mod:`archscape.train.models.nago` builds, exactly, from the graphs alone, so
a budget can be met by bisection on the width and the multi-objective search
can use model size without torch.  The rules it shares with the network:
top nodes are split into stages in index order in proportion to
``stage_ratios`` (:func:`node_stages`), stage ``s`` has
``max(1, round(width * channel_ratios[s]))`` channels (:func:`stage_widths`)
and runs at ``1 / 2**s`` of the input resolution.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from archscape.errors import ArchscapeError, InvalidArchitecture, unknown
from archscape.spaces.base import SearchSpace

#: generator name -> its parameters, in genotype order
GENERATORS: dict[str, tuple[str, ...]] = {"ws": ("N", "K", "P"), "er": ("N", "P"), "ba": ("N", "M")}
GENERATOR_NAMES = {"ws": "Watts-Strogatz", "er": "Erdos-Renyi", "ba": "Barabasi-Albert"}
LEVELS = ("top", "mid", "bottom")
#: inclusive bounds of the integer parameters
N_RANGE = (3, 10)
K_RANGE = (2, 5)
M_RANGE = (1, 5)
#: bounds of the probabilities
P_RANGE = (0.1, 1.0)
#: draws of one graph until a connected one (then the last draw is kept)
CONNECT_TRIES = 20
#: default stage and channel ratios of the network (1:1:1 stages, 1:2:4 channels)
STAGE_RATIOS = (1.0, 1.0, 1.0)
CHANNEL_RATIOS = (1.0, 2.0, 4.0)


# ====================================================================== graphs
@dataclass(frozen=True)
class Dag:
    """A DAG on nodes ``0..n-1`` with edges ``(u, v)``, ``u < v``, sorted."""

    n: int
    edges: tuple[tuple[int, int], ...]

    @cached_property
    def preds(self) -> tuple[tuple[int, ...], ...]:
        """Predecessors of each node, ascending."""
        out: list[list[int]] = [[] for _ in range(self.n)]
        for u, v in self.edges:
            out[v].append(u)
        return tuple(tuple(p) for p in out)

    @cached_property
    def inputs(self) -> tuple[int, ...]:
        """Nodes without predecessors: they read the graph's input."""
        return tuple(i for i, p in enumerate(self.preds) if not p)

    @cached_property
    def outputs(self) -> tuple[int, ...]:
        """Nodes without successors: their outputs are averaged into the graph's output."""
        has_succ = {u for u, _ in self.edges}
        return tuple(i for i in range(self.n) if i not in has_succ)

    def fan_in_total(self) -> int:
        """Inputs of nodes that merge several (one learnable weight each)."""
        return sum(len(p) for p in self.preds if len(p) > 1)


@dataclass(frozen=True)
class NagoGraphs:
    """The graphs of one sample from a generator: top, one mid per top node, one bottom per mid node."""

    top: Dag
    mid: tuple[Dag, ...]
    bottom: tuple[tuple[Dag, ...], ...]

    @property
    def n_operations(self) -> int:
        return sum(g.n for cell in self.bottom for g in cell)


def derived_seed(seed: int, *path: int) -> int:
    """An int seed for networkx from ``seed`` and a position path (``numpy.random.SeedSequence``)."""
    return int(np.random.SeedSequence(seed, spawn_key=path).generate_state(1)[0])


@lru_cache(maxsize=1 << 14)
def draw_graph(kind: str, params: tuple, seed: int, path: tuple[int, ...]) -> Dag:
    """One graph of generator ``kind`` with canonical ``params``, redrawn until connected.

    Cached: a graph depends only on its own level's parameters and position,
    so genotypes that share a level's parameters share those draws.
    """
    import networkx as nx

    n = int(params[0])
    graph = None
    for attempt in range(CONNECT_TRIES):
        s = derived_seed(seed, *path, attempt)
        if kind == "ws":
            graph = nx.watts_strogatz_graph(n, int(params[1]), float(params[2]), seed=s)
        elif kind == "er":
            graph = nx.erdos_renyi_graph(n, float(params[1]), seed=s)
        else:
            graph = nx.barabasi_albert_graph(n, int(params[1]), seed=s)
        if kind == "ba" or nx.is_connected(graph):
            break
    edges = sorted((min(u, v), max(u, v)) for u, v in graph.edges())
    return Dag(n, tuple(edges))


def _check_seed(seed: Any) -> int:
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise ArchscapeError(f"a graph seed is a non-negative int; got {seed!r}")


# ====================================================================== the space
@dataclass(frozen=True)
class _Coord:
    level: int  # 0 top, 1 mid, 2 bottom
    name: str  # N, K, M or P
    low: float
    high: float


class NagoSpace(SearchSpace):
    """The NAGO generator space (see the module docstring).

    Parameters
    ----------
    top, mid, bottom:
        the random-graph model of each level: ``"ws"`` (Watts-Strogatz,
        parameters N, K, P), ``"er"`` (Erdos-Renyi, N, P) or ``"ba"``
        (Barabasi-Albert, N, M).  Defaults: ws, er, ws as in the paper.
    p_step:
        grid step of the probabilities in [0.1, 1]; 0.9 must be a whole
        number of steps (0.05 -> 19 values, 0.01 -> 91).
    """

    name = "nago"
    ops = ("conv3x3",)
    encodings = ("onehot",)
    network = "archscape.train.models.nago:build_nago_network"

    def __init__(self, top: str = "ws", mid: str = "er", bottom: str = "ws", *, p_step: float = 0.05) -> None:
        for level, kind in zip(LEVELS, (top, mid, bottom)):
            if kind not in GENERATORS:
                raise unknown(f"{level}-level graph generator", kind, GENERATORS)
        if not isinstance(p_step, (int, float)) or isinstance(p_step, bool) or not 0 < p_step <= 0.9:
            raise ArchscapeError(f"p_step must be a float in (0, 0.9]; got {p_step!r}")
        steps = (P_RANGE[1] - P_RANGE[0]) / p_step
        if abs(steps - round(steps)) > 1e-6:
            raise ArchscapeError(f"p_step must divide 0.9 (the width of [0.1, 1]) into whole steps; got {p_step!r}")
        self.generators = (top, mid, bottom)
        self.p_step = float(p_step)
        self._decimals = next((d for d in range(1, 7) if abs(round(p_step, d) - p_step) < 1e-12), 6)
        self.p_grid = tuple(round(P_RANGE[0] + i * p_step, self._decimals) for i in range(round(steps) + 1))
        coords = []
        for level, kind in enumerate(self.generators):
            for pname in GENERATORS[kind]:
                low, high = {"N": N_RANGE, "K": K_RANGE, "M": M_RANGE, "P": P_RANGE}[pname]
                coords.append(_Coord(level, pname, low, high))
        self._coords = tuple(coords)
        self._slices = []
        start = 0
        for kind in self.generators:
            self._slices.append(slice(start, start + len(GENERATORS[kind])))
            start += len(GENERATORS[kind])
        self.size = math.prod(len(v) for v in self._level_values)

    # ------------------------------------------------------------ description
    @property
    def dimension(self) -> int:
        """Number of parameters in a genotype (8 with the default generators)."""
        return len(self._coords)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """``top.N``, ``top.K``, ... in genotype order."""
        return tuple(f"{LEVELS[c.level]}.{c.name}" for c in self._coords)

    def levels(self, genotype) -> tuple[tuple[str, dict[str, int | float]], ...]:
        """Per level, its generator and named parameters: ``(("ws", {"N": 6, "K": 4, "P": 0.75}), ...)``."""
        g = self.validate(genotype)
        return tuple(
            (kind, dict(zip(GENERATORS[kind], g[sl]))) for kind, sl in zip(self.generators, self._slices)
        )

    def __repr__(self) -> str:
        top, mid, bottom = self.generators
        return f"NagoSpace(top={top!r}, mid={mid!r}, bottom={bottom!r}, p_step={self.p_step!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NagoSpace) and (self.generators, self.p_step) == (other.generators, other.p_step)

    def __hash__(self) -> int:
        return hash((NagoSpace, self.generators, self.p_step))

    # ------------------------------------------------------------ validation
    @cached_property
    def _allowed(self) -> tuple[tuple[type, frozenset], ...]:
        """Per coordinate, the exact type and values of a clean genotype (the fast path of :meth:`validate`)."""
        out = []
        for c in self._coords:
            if c.name == "P":
                out.append((float, frozenset(self.p_grid)))
            else:
                out.append((int, frozenset(range(int(c.low), int(c.high) + 1))))
        return tuple(out)

    def validate(self, genotype) -> tuple:
        if type(genotype) is tuple and len(genotype) == len(self._coords):
            for (kind, values), v in zip(self._allowed, genotype):
                if type(v) is not kind or v not in values:
                    break
            else:
                return genotype  # the hot path: already a clean genotype
        if not isinstance(genotype, (tuple, list, np.ndarray)) or len(genotype) != self.dimension:
            raise InvalidArchitecture(
                f"a nago genotype is a tuple of {self.dimension} values ({', '.join(self.parameter_names)}); got {_short(genotype)}"
            )
        out = []
        for coord, value in zip(self._coords, genotype):
            out.append(self._check_value(coord, value))
        return tuple(out)

    def _check_value(self, coord: _Coord, value) -> int | float:
        where = f"{LEVELS[coord.level]}.{coord.name}"
        if coord.name == "P":
            if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                p = float(value)
                if math.isfinite(p):
                    i = round((p - P_RANGE[0]) / self.p_step)
                    if 0 <= i < len(self.p_grid) and abs(self.p_grid[i] - p) <= 1e-9:
                        return self.p_grid[i]
            raise InvalidArchitecture(
                f"{where} must be a probability on the grid {_fmt_p(self.p_grid[0])}, {_fmt_p(self.p_grid[1])}, ..., "
                f"{_fmt_p(self.p_grid[-1])} (step {self.p_step:g}); got {_short(value)}"
            )
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and coord.low <= value <= coord.high:
            return int(value)
        raise InvalidArchitecture(f"{where} must be an int in [{coord.low}, {coord.high}]; got {_short(value)}")

    # ------------------------------------------------------------ canonical form
    def _canonical_level(self, kind: str, values: tuple) -> tuple:
        if kind == "ws":
            n, k, p = values
            k = 2 * (min(k, n - 1) // 2)
            if k >= n - 1:  # the ring lattice is complete: rewiring changes nothing
                p = self.p_grid[0]
            return (n, k, p)
        if kind == "ba":
            n, m = values
            return (n, min(m, n - 1))
        return tuple(values)

    def canonical(self, genotype) -> tuple:
        g = self.validate(genotype)
        out: list = []
        for kind, sl in zip(self.generators, self._slices):
            out += self._canonical_level(kind, g[sl])
        return tuple(out)

    # ------------------------------------------------------------ structure
    def sample(self, rng: np.random.Generator) -> tuple:
        """Each parameter uniformly from its box (the grid for ``P``), then the canonical form."""
        values = []
        for coord in self._coords:
            if coord.name == "P":
                values.append(self.p_grid[int(rng.integers(len(self.p_grid)))])
            else:
                values.append(int(rng.integers(coord.low, coord.high + 1)))
        return self.canonical(tuple(values))

    @staticmethod
    def _steps(coord: _Coord) -> int:
        return 2 if coord.name == "K" else 1

    def neighbours(self, genotype) -> list[tuple]:
        """Canonical genotypes one step of one parameter away (N +-1, K +-2, M +-1, P +-p_step)."""
        g = self.canonical(genotype)
        out = []
        for i, coord in enumerate(self._coords):
            for direction in (-1, 1):
                if coord.name == "P":
                    j = self.p_grid.index(g[i]) + direction
                    if not 0 <= j < len(self.p_grid):
                        continue
                    value: int | float = self.p_grid[j]
                else:
                    value = g[i] + direction * self._steps(coord)
                    if not coord.low <= value <= coord.high:
                        continue
                h = g[:i] + (value,) + g[i + 1 :]
                if self.canonical(h) == h:
                    out.append(h)
        return out

    # ------------------------------------------------------------ text
    def format(self, genotype) -> str:
        parts = []
        for level, (kind, params) in zip(LEVELS, self.levels(genotype)):
            args = ",".join(f"{k}={_fmt_p(v) if k == 'P' else v}" for k, v in params.items())
            parts.append(f"{level}={kind}({args})")
        return ";".join(parts)

    def format_values(self, genotype) -> str:
        """The bare comma-separated form, e.g. ``6,4,0.75,5,0.5,4,2,0.3``."""
        return ",".join(_fmt_p(v) if c.name == "P" else str(v) for c, v in zip(self._coords, self.validate(genotype)))

    def parse(self, text: str) -> tuple:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"a nago architecture string is text; got {type(text).__name__}")
        s = text.strip()
        if "=" in s:
            return self._parse_long(s)
        parts = [p.strip() for p in s.split(",")]
        if len(parts) != self.dimension or not all(_NUMBER.fullmatch(p) for p in parts):
            raise InvalidArchitecture(
                f"malformed nago architecture {_short(s)}: expected {self.dimension} comma-separated values "
                f"({', '.join(self.parameter_names)}) like {self._example_values()} or the form {self._example_long()}"
            )
        return self.validate(tuple(_number(p, c.name == "P") for p, c in zip(parts, self._coords)))

    def _parse_long(self, s: str) -> tuple:
        parts = [p.strip() for p in s.split(";") if p.strip()]
        found: dict[str, tuple[str, dict[str, str]]] = {}
        for part in parts:
            m = _LEVEL_RE.fullmatch(part)
            if m is None:
                raise InvalidArchitecture(f"malformed nago level {_short(part)}: expected e.g. {self._example_long()}")
            level, kind, args = m.group(1).lower(), m.group(2).lower(), m.group(3)
            if level not in LEVELS:
                raise unknown_arch("nago level", level, LEVELS)
            if level in found:
                raise InvalidArchitecture(f"nago level {level!r} is given twice in {_short(s)}")
            named: dict[str, str] = {}
            for arg in (a.strip() for a in args.split(",") if a.strip()):
                am = _ARG_RE.fullmatch(arg)
                if am is None:
                    raise InvalidArchitecture(f"malformed parameter {_short(arg)} of the {level} level: expected NAME=value")
                named[am.group(1).upper()] = am.group(2)
            found[level] = (kind, named)
        missing = [lv for lv in LEVELS if lv not in found]
        if missing:
            raise InvalidArchitecture(f"nago architecture {_short(s)} lacks level(s) {', '.join(missing)}; expected e.g. {self._example_long()}")
        values: list = []
        for level, expected in zip(LEVELS, self.generators):
            kind, named = found[level]
            if kind != expected:
                raise InvalidArchitecture(
                    f"the {level} level of this nago space uses {expected} ({GENERATOR_NAMES[expected]}); got {kind!r}"
                )
            names = GENERATORS[kind]
            if set(named) != set(names):
                raise InvalidArchitecture(
                    f"the {level} level ({kind}) takes parameters {', '.join(names)}; got {', '.join(named) or 'none'}"
                )
            for pname in names:
                raw = named[pname]
                if not _NUMBER.fullmatch(raw):
                    raise InvalidArchitecture(f"{level}.{pname} must be a number; got {_short(raw)}")
                values.append(_number(raw, pname == "P"))
        return self.validate(tuple(values))

    def _example_values(self) -> str:
        return self.format_values(self._example())

    def _example_long(self) -> str:
        return self.format(self._example())

    def _example(self) -> tuple:
        vals = {"N": 6, "K": 4, "M": 2, "P": 0.5}
        return tuple(vals[c.name] for c in self._coords)

    # ------------------------------------------------------------ finite space
    @cached_property
    def _level_values(self) -> list[list[tuple]]:
        """Per level, its canonical parameter tuples, sorted."""
        out = []
        for kind in self.generators:
            ranges = []
            for pname in GENERATORS[kind]:
                if pname == "P":
                    ranges.append(self.p_grid)
                else:
                    low, high = {"N": N_RANGE, "K": K_RANGE, "M": M_RANGE}[pname]
                    ranges.append(tuple(range(low, high + 1)))
            combos = {self._canonical_level(kind, c) for c in _product(ranges)}
            out.append(sorted(combos))
        return out

    @cached_property
    def _level_index(self) -> list[dict[tuple, int]]:
        return [{v: i for i, v in enumerate(vals)} for vals in self._level_values]

    def index(self, genotype) -> int:
        """Mixed-radix position over the levels' sorted canonical values (top most significant)."""
        g = self.canonical(genotype)
        index = 0
        for sl, vals, lookup in zip(self._slices, self._level_values, self._level_index):
            index = index * len(vals) + lookup[g[sl]]
        return index

    def from_index(self, index: int) -> tuple:
        index = self._check_index(index)
        parts = []
        for vals in reversed(self._level_values):
            index, r = divmod(index, len(vals))
            parts.append(vals[r])
        return tuple(v for part in reversed(parts) for v in part)

    # ------------------------------------------------------------ encodings
    def _values_of(self, coord: _Coord) -> tuple:
        if coord.name == "P":
            return self.p_grid
        if coord.name == "K":
            return tuple(k for k in range(K_RANGE[0], K_RANGE[1] + 1) if k % 2 == 0)
        return tuple(range(int(coord.low), int(coord.high) + 1))

    def _encode_onehot(self, genotype) -> np.ndarray:
        """One-hot of each parameter's canonical value, parameters in genotype order."""
        g = self.canonical(genotype)
        parts = []
        for coord, value in zip(self._coords, g):
            values = self._values_of(coord)
            v = np.zeros(len(values), dtype=np.float32)
            v[values.index(value)] = 1.0
            parts.append(v)
        return np.concatenate(parts)

    def unit_vector(self, genotype) -> np.ndarray:
        """The canonical parameters scaled to [0, 1] by their bounds (what a GP reads)."""
        g = self.canonical(genotype)
        return np.array([(v - c.low) / (c.high - c.low) for c, v in zip(self._coords, g)], dtype=np.float64)

    def unit_vectors(self, genotypes: Iterable) -> np.ndarray:
        rows = [self.unit_vector(g) for g in genotypes]
        return np.stack(rows) if rows else np.zeros((0, self.dimension))

    def from_unit(self, x: Sequence[float]) -> tuple:
        """The canonical genotype nearest to a point of [0, 1]^d (values clipped, rounded to the grid)."""
        x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
        if x.shape != (self.dimension,):
            raise ArchscapeError(f"a nago unit vector has {self.dimension} entries; got shape {x.shape}")
        values = []
        for coord, u in zip(self._coords, x.tolist()):
            raw = coord.low + u * (coord.high - coord.low)
            if coord.name == "P":
                values.append(self.p_grid[round((raw - P_RANGE[0]) / self.p_step)])
            else:
                values.append(round(raw))
        return self.canonical(tuple(values))

    # ------------------------------------------------------------ graphs and sizes
    def sample_graphs(self, genotype, seed: int = 0) -> NagoGraphs:
        """The graphs that ``seed`` draws from the generator ``genotype`` (same inputs, same graphs)."""
        seed = _check_seed(seed)
        levels = self.levels(self.canonical(genotype))
        (tk, tp), (mk, mp), (bk, bp) = ((k, tuple(p.values())) for k, p in levels)
        top = draw_graph(tk, tp, seed, (0,))
        mids = tuple(draw_graph(mk, mp, seed, (1, i)) for i in range(top.n))
        bottoms = tuple(tuple(draw_graph(bk, bp, seed, (2, i, j)) for j in range(mids[i].n)) for i in range(top.n))
        return NagoGraphs(top, mids, bottoms)

    def parameter_count(self, genotype, channels: int, *, graph_seed: int = 0, **options: Any) -> int:
        """Parameters of the network built for ``genotype`` at base width ``channels`` (no torch)."""
        return count_parameters(self.sample_graphs(genotype, graph_seed), channels, **options)

    def model_size(self, genotype, *, channels: int, graph_seed: int = 0, **options: Any) -> float:
        """:meth:`parameter_count` (the space's model-size capability)."""
        return float(self.parameter_count(genotype, channels, graph_seed=graph_seed, **options))


def sample_graphs(genotype, seed: int = 0, *, space: NagoSpace | None = None) -> NagoGraphs:
    """The graphs that ``seed`` draws from the generator ``genotype`` (default space: ws, er, ws)."""
    return (space or NagoSpace()).sample_graphs(genotype, seed)


# ====================================================================== network plan
def node_stages(n: int, stage_ratios: Sequence[float] = STAGE_RATIOS) -> tuple[int, ...]:
    """The stage of each of ``n`` top nodes: consecutive runs in proportion to ``stage_ratios``.

    Node ``i`` is in the first stage ``s`` with ``i < n * (r_0 + ... + r_s) / sum(r)``;
    3 nodes at 1:1:1 are one per stage, 10 nodes are 4, 3 and 3.
    """
    ratios = _check_ratios(stage_ratios, "stage_ratios")
    total = sum(ratios)
    bounds = np.cumsum(ratios) / total * n
    out = []
    for i in range(n):
        s = next((s for s, b in enumerate(bounds) if i < b - 1e-9), len(ratios) - 1)
        out.append(s)
    return tuple(out)


def stage_widths(width: int, channel_ratios: Sequence[float] = CHANNEL_RATIOS) -> tuple[int, ...]:
    """Channels of each stage: ``max(1, round(width * ratio))``."""
    ratios = _check_ratios(channel_ratios, "channel_ratios")
    return tuple(max(1, round(width * r)) for r in ratios)


def count_parameters(
    graphs: NagoGraphs,
    channels: int,
    *,
    in_channels: int = 3,
    num_classes: int = 10,
    stage_ratios: Sequence[float] = STAGE_RATIOS,
    channel_ratios: Sequence[float] = CHANNEL_RATIOS,
) -> int:
    """Exact parameter count of the NAGO network for these graphs at base width ``channels``.

    The network (see :mod:`archscape.train.models.nago`): a stem conv3x3 (no
    bias) + BN to the width of stage 0; per cell, a 1x1 conv (no bias) for each
    input whose width differs, one sigmoid gate per input where a node merges
    several (at every level), and per operation a conv3x3 (no bias) + BN of
    the cell's width; a 1x1 conv for each graph output whose width differs
    from the last node's; a linear classifier.
    """
    if not isinstance(channels, (int, np.integer)) or isinstance(channels, bool) or channels < 1:
        raise ArchscapeError(f"channels must be a positive int; got {channels!r}")
    if len(channel_ratios) != len(stage_ratios):
        raise ArchscapeError(
            f"stage_ratios and channel_ratios must have the same length; got {len(stage_ratios)} and {len(channel_ratios)}"
        )
    widths = stage_widths(int(channels), channel_ratios)
    top = graphs.top
    stages = node_stages(top.n, stage_ratios)
    c0 = widths[0]
    total = 9 * in_channels * c0 + 2 * c0  # stem
    node_width = [widths[s] for s in stages]
    for i in range(top.n):
        c = node_width[i]
        sources = [node_width[j] for j in top.preds[i]] or [c0]
        total += sum(cs * c for cs in sources if cs != c)
        if len(sources) > 1:
            total += len(sources)
        mid = graphs.mid[i]
        total += mid.fan_in_total()
        for bottom in graphs.bottom[i]:
            total += bottom.n * (9 * c * c + 2 * c) + bottom.fan_in_total()
    last = node_width[top.n - 1]
    total += sum(node_width[o] * last for o in top.outputs if node_width[o] != last)
    total += last * num_classes + num_classes
    return int(total)


def width_for_budget(graphs: NagoGraphs, budget: float, **options: Any) -> int:
    """The largest base width whose network has at most ``budget`` parameters (at least 1).

    The count grows with the width, so an exponential search then a bisection
    on the integers finds it in a few dozen exact counts.
    """
    if not isinstance(budget, (int, float)) or isinstance(budget, bool) or not budget > 0:
        raise ArchscapeError(f"a parameter budget is a positive number of parameters; got {budget!r}")

    def fits(w: int) -> bool:
        return count_parameters(graphs, w, **options) <= budget

    if not fits(1):
        return 1
    low, high = 1, 2
    while fits(high):
        low, high = high, high * 2
        if high > 1 << 20:  # pragma: no cover - a budget beyond any sane network
            return low
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            low = mid
        else:
            high = mid
    return low


# ====================================================================== helpers
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_LEVEL_RE = re.compile(r"(\w+)\s*=\s*(\w+)\s*\(([^()]*)\)")
_ARG_RE = re.compile(r"(\w+)\s*=\s*(\S+)")


def _number(text: str, as_float: bool) -> int | float:
    if as_float:
        return float(text)
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    raise InvalidArchitecture(f"expected an integer; got {_short(text)}")


def _fmt_p(p: float) -> str:
    s = f"{p:.6f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def _short(value: Any, limit: int = 40) -> str:
    s = repr(value)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def unknown_arch(kind: str, got: str, accepted: Iterable[str]) -> InvalidArchitecture:
    return InvalidArchitecture(f"unknown {kind} {got!r}; accepted: {', '.join(accepted)}")


def _product(ranges: list[Sequence]) -> Iterable[tuple]:
    from itertools import product

    return product(*ranges)


def _check_ratios(ratios: Sequence[float], name: str) -> tuple[float, ...]:
    try:
        out = tuple(float(r) for r in ratios)
    except (TypeError, ValueError):
        raise ArchscapeError(f"{name} must be a sequence of positive numbers; got {ratios!r}") from None
    if not out or not all(math.isfinite(r) and r > 0 for r in out):
        raise ArchscapeError(f"{name} must be a sequence of positive numbers; got {ratios!r}")
    return out


__all__ = [
    "CHANNEL_RATIOS",
    "CONNECT_TRIES",
    "GENERATORS",
    "LEVELS",
    "STAGE_RATIOS",
    "Dag",
    "NagoGraphs",
    "NagoSpace",
    "count_parameters",
    "derived_seed",
    "draw_graph",
    "node_stages",
    "sample_graphs",
    "stage_widths",
    "width_for_budget",
]
