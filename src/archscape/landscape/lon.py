"""Local-optima network (LON) with escape edges.

Following Ochoa, Tomassini, Vérel and Darabos (GECCO 2008) and the escape
edges of Vérel, Daolio, Ochoa and Tomassini (2011, "Local optima networks
with escape edges"):

* **nodes** are the local optima of the landscape (the fixed points of
  best-improvement local search, see :mod:`archscape.landscape.exhaustive`),
  each standing for its basin;
* an **escape edge** i -> j has weight w_ij = the number of rows s at most
  ``distance`` neighbourhood steps (default D = 2) from optimum i, other than i
  itself, from which best-improvement local search ends at optimum j.  This is
  the perturbation-plus-hill-climbing step of iterated local search, counted
  exhaustively.  w_ii counts the kicks that fall back into i's own basin.

With ``method="sampled"`` (chosen automatically when the balls would hold
more than ``max_exhaustive`` rows in all) each optimum instead gets
``n_samples`` perturbations of D uniformly random moves (a random walk of D
steps, which may come back to i), seeded; the hill climb is always exact,
since every row's attractor is known.

Figures of :meth:`LocalOptimaNetwork.summary`:

* ``n_nodes``, ``n_edges`` (distinct i -> j with i != j), ``mean_out_degree``;
* ``escape_probability``: the mean over optima of 1 - w_ii / sum_j w_ij, the
  chance that a kick leaves the basin; ``escape_probability_optimum`` the same
  for the global optimum;
* ``improving_edge_fraction`` (and ``neutral_edge_fraction``): the share of
  edges i -> j (i != j) whose target is strictly better (equal);
* ``n_sinks``: optima with no improving out-edge, the bottoms of the funnels
  of the monotonic LON (Ochoa et al. 2017).  Every global optimum is a sink by
  this definition (``global_optimum_is_sink`` checks it); ``single_funnel``
  says whether the global optima are the only sinks;
* ``global_funnel_fraction``: the share of optima from which a chain of
  improving edges reaches a global optimum, and ``global_funnel_space_fraction``
  the share of the whole space in those optima's basins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archscape.errors import ArchscapeError
from archscape.landscape.exhaustive import ExhaustiveResult, exhaustive_analysis
from archscape.landscape.table import FiniteLandscape

DEFINITION = (
    "nodes: local optima (basins of best-improvement local search); escape edge i->j weighted by the number of rows "
    "within D steps of optimum i (i excluded) whose local search ends at j (Verel et al. 2011), or, sampled, by "
    "kicks of D random moves; improving edge: target strictly better; sink: no improving out-edge"
)


@dataclass(frozen=True)
class LocalOptimaNetwork:
    """Nodes (optimum rows), weighted escape edges (node indices, self-loops included)."""

    nodes: np.ndarray
    values: np.ndarray
    basin_sizes: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    method: str
    distance: int
    n_samples: int | None
    seed: int
    n_space: int

    def summary(self) -> dict:
        m = len(self.nodes)
        w = self.weight.astype(np.float64)
        total = np.bincount(self.src, weights=w, minlength=m)
        loop = self.src == self.dst
        stay = np.bincount(self.src[loop], weights=w[loop], minlength=m)
        has_kicks = total > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            escape = np.where(has_kicks, 1.0 - stay / total, np.nan)
        out = ~loop
        s, d = self.src[out], self.dst[out]
        improving = self.values[d] > self.values[s]
        neutral = self.values[d] == self.values[s]
        best = self.values.max()
        glob = np.flatnonzero(self.values == best)
        has_improving = np.zeros(m, dtype=bool)
        has_improving[s[improving]] = True
        sinks = ~has_improving
        funnel = _reaching(m, s[improving], d[improving], glob)
        top = int(glob[0])
        return {
            "definition": DEFINITION,
            "method": self.method,
            "distance": self.distance,
            "n_samples": self.n_samples,
            "seed": self.seed,
            "n_nodes": m,
            "n_edges": int(out.sum()),
            "mean_out_degree": float(out.sum() / m),
            "escape_probability": float(np.nanmean(escape)) if has_kicks.any() else float("nan"),
            "escape_probability_optimum": float(escape[top]),
            "improving_edge_fraction": float(improving.mean()) if improving.size else float("nan"),
            "neutral_edge_fraction": float(neutral.mean()) if neutral.size else float("nan"),
            "n_sinks": int(sinks.sum()),
            "global_optimum_is_sink": bool(sinks[glob].all()),
            "single_funnel": bool(sinks.sum() == glob.size),
            "global_funnel_fraction": float(funnel.mean()),
            "global_funnel_space_fraction": float(self.basin_sizes[funnel].sum() / self.n_space),
        }


def _reaching(m: int, src: np.ndarray, dst: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Nodes from which a directed path along (src -> dst) reaches one of ``targets``."""
    reach = np.zeros(m, dtype=bool)
    reach[targets] = True
    while True:
        new = reach.copy()
        new[src[reach[dst]]] = True
        if np.array_equal(new, reach):
            return reach
        reach = new


def _ball(land: FiniteLandscape, optima: np.ndarray, distance: int) -> tuple[np.ndarray, np.ndarray]:
    """(owner node, row) of every row 1..distance steps from each optimum, without repeats."""
    n = len(land.values)
    nb = land.neighbours
    seen = np.arange(len(optima), dtype=np.int64) * n + optima  # distance 0
    owner, rows = np.arange(len(optima), dtype=np.int64), optima
    found = []
    for _ in range(distance):
        if nb.size == 0 or rows.size == 0:
            break
        step = nb[rows]
        o = np.repeat(owner, step.shape[1])
        x = step.ravel()
        keep = x >= 0
        keys = np.unique(o[keep] * n + x[keep])
        keys = keys[~np.isin(keys, seen, assume_unique=True)]
        found.append(keys)
        seen = np.union1d(seen, keys)
        owner, rows = keys // n, keys % n
    keys = np.concatenate(found) if found else np.empty(0, dtype=np.int64)
    return keys // n, keys % n


def _kicks(land: FiniteLandscape, optima: np.ndarray, distance: int, n_samples: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(owner node, row) after ``distance`` random moves, ``n_samples`` times from each optimum."""
    nb = land.neighbours
    deg = (nb >= 0).sum(axis=1)
    owner = np.repeat(np.arange(len(optima), dtype=np.int64), n_samples)
    cur = optima[owner]
    for _ in range(distance):
        if nb.size == 0:
            break
        d = deg[cur]
        j = (rng.random(cur.size) * d).astype(np.int64)
        cur = np.where(d > 0, nb[cur, np.minimum(j, nb.shape[1] - 1)], cur)
    return owner, cur


def local_optima_network(
    landscape: FiniteLandscape | ExhaustiveResult,
    *,
    distance: int = 2,
    method: str = "auto",
    n_samples: int = 100,
    seed: int = 0,
    max_exhaustive: int = 5_000_000,
) -> LocalOptimaNetwork:
    """The escape-edge LON of a landscape (or of an :func:`exhaustive_analysis` result, reusing its basins)."""
    if method not in ("auto", "exhaustive", "sampled"):
        raise ArchscapeError(f"unknown LON method {method!r}; accepted: auto, exhaustive, sampled")
    if distance < 1:
        raise ArchscapeError(f"LON perturbation distance must be >= 1; got {distance}")
    ex = landscape if isinstance(landscape, ExhaustiveResult) else exhaustive_analysis(landscape)
    land = ex.landscape
    optima = ex.optima
    m = len(optima)
    node_of = np.full(len(land.values), -1, dtype=np.int64)
    node_of[optima] = np.arange(m)
    if method == "auto":
        mean_deg = float(land.degree[ex.valid].mean()) if ex.valid.any() else 0.0
        estimate = m * sum(mean_deg**k for k in range(1, distance + 1))
        method = "exhaustive" if estimate <= max_exhaustive else "sampled"
    if method == "exhaustive":
        owner, rows = _ball(land, optima, distance)
        samples = None
    else:
        if n_samples < 1:
            raise ArchscapeError(f"n_samples must be >= 1; got {n_samples}")
        owner, rows = _kicks(land, optima, distance, n_samples, np.random.default_rng([seed, 0x10F]))
        samples = n_samples
    target = node_of[ex.attractor[rows]]
    keys, counts = np.unique(owner * m + target, return_counts=True)
    return LocalOptimaNetwork(
        nodes=optima,
        values=ex.values[optima],  # snapped: ties as in the exhaustive analysis
        basin_sizes=ex.basin_sizes,
        src=keys // m,
        dst=keys % m,
        weight=counts,
        method=method,
        distance=distance,
        n_samples=samples,
        seed=seed,
        n_space=int(ex.valid.sum()),
    )


__all__ = ["DEFINITION", "LocalOptimaNetwork", "local_optima_network"]
