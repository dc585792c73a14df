"""The local-search theory of White, Nolen and Savani (UAI 2021, Section 5), fitted to a table.

"Exploring the Loss Landscape in Neural Architecture Search" models a search
space as a graph in which every architecture has ``s`` neighbours, its loss
``v`` is drawn from a global density ``pdf(v)``, and the losses of its
neighbours are drawn independently from a neighbour density ``pdf_n(v, u)``.
Local search moves from an architecture to its best neighbour while that is
better (``LS(v)``); ``LS^-1(v)`` is the set of architectures that move to
``v``.  From these two densities the paper predicts

* the probability that an architecture of loss ``v`` is a local minimum:
  every neighbour is worse, ``p(v) = (integral_v^1 pdf_n(v, u) du)^s``;
* the expected number of local minima, ``n * integral pdf(v) p(v) dv``;
* the expected size of a preimage: a neighbour ``u`` of ``v`` moves to ``v``
  when it is worse than ``v`` and its ``s - 1`` other neighbours are worse
  than ``v`` too, so ``E|LS^-1(v)| = integral_v^1 K(v, u) du`` with
  ``K(v, u) = s pdf_n(v, u) (integral_v^1 pdf_n(u, w) dw)^(s-1)``, and the
  deeper preimages follow the recursion
  ``E|LS^-k(v)| = integral_v^1 K(v, u) E|LS^-(k-1)(u)| du``, ``|LS^0| = 1``;
* the expected number of starting points from which local search ends
  within ``epsilon`` of the optimum ``v*``:
  ``n * integral_{v*}^{v*+eps} pdf(v) p(v) sum_k E|LS^-k(v)| dv``.

The sum over ``k`` is the solution ``B(v)`` of the Volterra equation
``B(v) = 1 + integral_v^1 K(v, u) B(u) du`` (the expected basin size of a
local minimum of loss ``v``), solved by back-substitution from the worst
loss to the best (see :class:`NeighbourModel` for the discretisation).

**A conditioned recursion.**  The paper's recursion treats a member ``u`` of
a preimage as a fresh architecture with ``s`` unconditioned neighbours.  But
``u`` is in the preimage of ``v`` only if its ``s - 1`` other neighbours are
worse than ``v``; counting ``u``'s own preimage among those neighbours,
conditioned on that, gives ``B(u | v) = 1 + (s-1) G(u) / S(u, v)`` with
``S(u, v) = integral_v^1 pdf_n(u, w) dw`` and
``G(u) = integral_u^1 pdf_n(u, w) S(w, u)^(s-1) B(w | u) dw``, again a
Volterra equation in one variable, and the expected number of starts that
end at an architecture of loss ``v`` is ``S(v,v)^s + s S(v,v)^(s-1) G(v)``.
Under the model on a graph without short cycles this is exact: on a random
3-regular graph with 400,000 nodes and independent uniform losses, the share
of starts ending below loss 0.01 is 0.0583 by simulation, 0.0598 by this
recursion and 0.0730 by the paper's (0.2678, 0.2679 and 0.3148 below 0.05).
Both recursions are reported (``predicted`` and ``predicted_conditioned``).

**Loss.**  ``loss = 1 - accuracy / 100`` in [0, 1], the paper's convention;
``epsilon`` is given in accuracy points (0.5 means within half a point of
the best accuracy, 0.005 in loss).  Ties follow
:mod:`archscape.landscape.exhaustive`: values within its ``tie_tol`` (1e-6 of
the largest value) are snapped to one value first, so float noise is no
order, and the truth here is the exhaustive analysis's.

**Estimation.**  The theory depends on the losses only through their order
(local minima and local search see only which of two losses is lower), so it
is estimated on the probability-integral transform of the loss:
``x = F(loss)``, the share of architectures with lower loss (mid-ranks for
ties), the "loss rank".  There ``pdf`` is uniform and ``pdf_n`` a copula
density, which a fixed-bandwidth kernel estimates evenly over the whole
range.  On the raw loss the few architectures near the optimum sit in a
sparse tail that a fixed bandwidth either blurs or leaves empty, and the
smoothed marginal no longer matches the table's own ``pdf``: tried on NB201
CIFAR-10, the predictions there account for only 6% of the starting points.  ``pdf_n`` is a binned kernel density estimate:
a ``grid`` x ``grid`` histogram of (x of an architecture, x of a neighbour)
over every ordered neighbour pair, smoothed by a Gaussian of standard
deviation ``bandwidth`` on both axes (reflected at 0 and 1; the default is
Scott's rule for two dimensions, ``n_pairs^(-1/6) * sd(x)``), divided by its
row sums.  ``pdf`` is the table's own distribution: the integrals over ``v``
are sums over the table's architectures, ``p`` and ``B`` interpolated from the
grid, each architecture with its own number of neighbours ``d`` in ``p = S^d``
and the number of neighbours of a neighbour, ``E[d^2] / E[d]``, as ``s`` in
the recursion (for NB201 and NAS-Bench-Macro every architecture has the same
number, 24 and 16; a seed that only part of the table recorded leaves an
irregular graph, outside the paper's model, where the paper's recursion no
longer conserves the starting points: ``total_mass`` says by how much).

The predictions depend on the bandwidth, because the local minima lie where
``p = S^24`` turns a small change of ``S`` into a large one: on NB201
CIFAR-10 (mean over seeds, 13 true local minima) Scott's 0.038 predicts 83,
0.01 predicts 31 and 0.003 predicts 16.  Pass ``bandwidth`` to see it.

**Truth and simulation.**  Beside the prediction: the exhaustive truth (a
local minimum has no strictly better neighbour; best-improvement local search
moves to the best neighbour, the lowest row on ties, while it is strictly
better; the share of all starting architectures whose search ends within
``epsilon``; the same rules and numbers as
:func:`archscape.landscape.exhaustive.exhaustive_analysis`), and simulated runs of the real
:class:`~archscape.search.local.LocalSearch` optimizer (one descent each from
a uniformly drawn architecture, ``num_init=1``, stopped at its first local
optimum; the share of runs that end within ``epsilon``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from archscape.benchmarks.base import Noise, check_noise
from archscape.benchmarks.table import TableBenchmark
from archscape.errors import ArchscapeError

if TYPE_CHECKING:  # pandas is imported where a table is built
    import pandas as pd

#: the loss convention, as reported
LOSS = "1 - accuracy/100 (in [0, 1], as White et al.); epsilon in accuracy points"
RECURSIONS = ("paper", "conditioned")
DEFAULT_EPSILONS = (0.1, 0.5, 1.0)


# ====================================================================== the model
@dataclass(frozen=True)
class NeighbourModel:
    """``pdf_n`` as a piecewise-constant ("checkerboard") density on the unit square, with the theory's quantities.

    ``density[i, j]`` is the conditional density of a neighbour's (scaled)
    loss in cell ``j`` given an architecture's in cell ``i`` (cells of width
    ``1/size``): each row integrates to one (rows where no architecture lies
    are zero).  ``s`` is the neighbourhood size of the recursion.

    The theory's functions vary much faster than the density: ``S^(s-1)``
    with ``s = 24`` turns a small change of ``S`` into a large one.  So they
    are computed at ``substeps`` points inside each cell (the midpoints of
    ``size * substeps`` equal parts), where ``S`` is exact for the
    checkerboard density; every integral over a part that the diagonal
    ``u = v`` cuts counts half the part.  A coarse evaluation (one point per
    cell) loses a large share of all starting points in the recursion (on
    NB201 about 5% to 60% depending on the bandwidth); with 8 points per cell
    the predicted shares of all starts add up to 0.99 or more.  The
    recursions are back-substitutions over the cells from the worst loss to
    the best, ``O(size^2 * substeps)`` work and ``O(size^2)`` memory.
    """

    density: np.ndarray
    s: float
    substeps: int = 8

    @property
    def size(self) -> int:
        return self.density.shape[0]

    @property
    def width(self) -> float:
        return 1.0 / self.size

    @property
    def centres(self) -> np.ndarray:
        """The midpoints of the cells."""
        return (np.arange(self.size) + 0.5) * self.width

    @property
    def points(self) -> np.ndarray:
        """The ``size * substeps`` points where the theory's functions are evaluated."""
        q = self.substeps
        return (np.arange(self.size * q) + 0.5) * (self.width / q)

    # ------------------------------------------------------------ constructors
    @classmethod
    def independent(cls, size: int, s: float, substeps: int = 8) -> NeighbourModel:
        """Neighbours independent of the architecture (a random landscape): ``pdf_n(v, u) = pdf(u)``."""
        return cls(np.ones((size, size)), float(s), substeps)

    @classmethod
    def fit(
        cls, x: np.ndarray, pairs: np.ndarray, s: float, *, grid: int = 512, bandwidth: float | None = None, substeps: int = 8
    ) -> NeighbourModel:
        """Binned kernel estimate from scaled losses ``x`` in [0, 1] and ordered neighbour pairs (positions in ``x``).

        ``pairs`` holds both directions of every neighbour pair; ``bandwidth``
        is the Gaussian's standard deviation on the [0, 1] scale (``None``:
        Scott's rule; 0: the plain histogram).
        """
        from scipy.ndimage import gaussian_filter

        x = np.asarray(x, dtype=np.float64)
        cells = np.clip((x * grid).astype(np.int64), 0, grid - 1)
        joint = np.bincount(cells[pairs[:, 0]] * grid + cells[pairs[:, 1]], minlength=grid * grid)
        joint = joint.reshape(grid, grid).astype(np.float64)
        if bandwidth is None:
            bandwidth = scott_bandwidth(x, len(pairs) // 2)
        if bandwidth > 0:
            joint = gaussian_filter(joint, sigma=bandwidth * grid, mode="reflect", truncate=4.0)
        rows = joint.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            density = np.where(rows > 0, joint / (rows / grid), 0.0)
        return cls(density, float(s), substeps)

    # ------------------------------------------------------------ the theory
    def _tail(self) -> np.ndarray:
        """``tail[j, i] = h * sum_{k > i} density[j, k]``: the mass of row ``j`` above cell ``i``."""
        c = self.density
        above = np.cumsum(c[:, ::-1], axis=1)[:, ::-1] - c  # sum over k > i
        return self.width * above

    def _offsets(self) -> np.ndarray:
        """``1 - theta``: the share of a cell above each of its points."""
        q = self.substeps
        return 1.0 - (np.arange(q) + 0.5) / q

    def better_free(self) -> np.ndarray:
        """``S(v, v) = integral_v^1 pdf_n(v, u) du`` at each point: the chance that one neighbour is worse."""
        tail = np.diag(self._tail())
        diag = np.diag(self.density) * self.width
        out = tail[:, None] + diag[:, None] * self._offsets()[None, :]
        return np.clip(out, 0.0, 1.0).ravel()

    def minimum_probability(self, s: float | None = None) -> np.ndarray:
        """``p(v) = S(v, v)^s`` at each point."""
        return self.better_free() ** (self.s if s is None else s)

    def _sweep(self, e: float, lam: float = 0.0, f0: np.ndarray | None = None) -> np.ndarray:
        """Integrals over ``u > v`` of ``pdf_n(v, u) S(u, v)^e F(u)`` at each point.

        With ``f0`` ``None``: ``F = 1`` (a plain integral).  Otherwise ``F``
        solves ``F(v) = f0(v) + lam * integral_{u>v} pdf_n(v, u) S(u, v)^e F(u) du``
        and ``F`` is returned (``inf`` where the recursion diverges).
        """
        from scipy.linalg import solve_triangular

        m, q, h = self.size, self.substeps, self.width
        c, tail, off = self.density, self._tail(), self._offsets()
        solve = f0 is not None
        out = np.empty(m * q)
        mean_f = np.empty(m)  # per cell: the mean of F over its points
        above = np.triu(np.ones((q, q)), 1)  # [a, b] = 1 for b > a
        for i in range(m - 1, -1, -1):
            # S(u, v) for u in the cells above cell i and v at the points of cell i: (cells above, q)
            surv = np.clip(tail[i + 1 :, i, None] + (c[i + 1 :, i, None] * h) * off[None, :], 0.0, 1.0)
            weights = c[i, i + 1 :, None] * surv**e
            if solve:  # F is constant over a cell's points as far as the other cells see it
                weights = weights * mean_f[i + 1 :, None]
            rest = h * weights.sum(axis=0)
            s_in = np.clip(tail[i, i] + c[i, i] * h * off, 0.0, 1.0)  # S(u, v) for u, v both in cell i
            w_in = (h / q) * c[i, i] * s_in**e  # the weight of one part of cell i, by the point v
            cell = slice(i * q, (i + 1) * q)
            if not solve:
                out[cell] = rest + w_in * (above.sum(axis=1) + 0.5)
                continue
            # F(v_a) = f0(v_a) + lam * (rest_a + w_in[a] * (sum_{b > a} F(v_b) + F(v_a) / 2))
            system = np.eye(q) - lam * w_in[:, None] * (above + 0.5 * np.eye(q))
            if np.any(np.diag(system) <= 0):
                return np.full(m * q, np.inf)
            f = solve_triangular(system, f0[cell] + lam * rest, lower=False, check_finite=False)
            if not np.all(np.isfinite(f)) or np.any(f < 0):
                return np.full(m * q, np.inf)
            out[cell] = f
            mean_f[i] = f.mean()
        return out

    def preimage(self) -> np.ndarray:
        """``E|LS^-1(v)| = s integral_v^1 pdf_n(v, u) S(u, v)^(s-1) du`` at each point."""
        return self.s * self._sweep(self.s - 1)

    def basin(self) -> np.ndarray:
        """``B(v) = sum_k E|LS^-k(v)|``, the paper's recursion, at each point (``inf`` where it diverges)."""
        return self._sweep(self.s - 1, self.s, np.ones(self.size * self.substeps))

    def subtree(self) -> np.ndarray:
        """``G(v)`` of the conditioned recursion at each point (see the module docstring).

        ``G(u) = integral_u^1 pdf_n(u, w) S(w, u)^(s-1) [1 + (s-1) G(w) / S(w, u)] dw``.
        """
        first = self._sweep(self.s - 1)
        if self.s <= 1:
            return first
        return self._sweep(self.s - 2, self.s - 1, first)

    def ends(self, x: np.ndarray, degree: np.ndarray, recursion: str = "paper") -> np.ndarray:
        """Expected number of starting points whose local search ends at an architecture of scaled loss ``x``.

        ``recursion="paper"``: ``p(x) * B(x)``, the paper's formula, with the
        architecture's own number of neighbours ``d`` in ``p(x) = S(x, x)^d``.
        ``recursion="conditioned"``: ``S^d + d S^(d-1) G(x)``, which
        conditions every member of a preimage on what its parent already
        implies (its other neighbours are worse than the parent).
        """
        surv = self.at(self.better_free(), x)
        degree = np.asarray(degree, dtype=np.float64)
        if recursion == "paper":
            return surv**degree * self.at(self.basin(), x)
        if recursion == "conditioned":
            with np.errstate(divide="ignore", invalid="ignore"):
                return surv**degree + degree * surv ** np.maximum(degree - 1, 0) * self.at(self.subtree(), x)
        raise ArchscapeError(f"unknown recursion {recursion!r}; accepted: {', '.join(RECURSIONS)}")

    def at(self, point_values: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Interpolate a per-point quantity (one value per :attr:`points`) at scaled losses ``x``."""
        return np.interp(x, self.points, point_values)


def scott_bandwidth(x: np.ndarray, n: int) -> float:
    """Scott's rule for a two-dimensional Gaussian kernel: ``n^(-1/6) * sd(x)``."""
    return float(max(n, 1) ** (-1.0 / 6.0) * np.std(x))


# ====================================================================== exhaustive truth
def descend(values: np.ndarray, neighbours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best-improvement local search from every architecture (values maximised, compared exactly).

    Returns ``(step, end)``: the row each architecture moves to (itself at a
    local optimum) and the local optimum its search ends at.  The rules are
    :mod:`archscape.landscape.exhaustive`'s: a move needs a strictly better
    neighbour, the lowest row among equally good best neighbours; rows with
    NaN values neither move nor are moved to (``step`` and ``end`` are
    themselves).
    """
    from archscape.landscape import exhaustive
    from archscape.landscape.table import FiniteLandscape

    values = np.asarray(values, dtype=np.float64)
    neighbours = np.asarray(neighbours, dtype=np.int64).reshape(len(values), -1)
    land = exhaustive.clean(FiniteLandscape("descend", values, neighbours, (neighbours >= 0).sum(axis=1)))
    step = exhaustive.best_improvement_pointers(land)
    end, _ = exhaustive.follow_pointers(step)
    return step, end


def local_minima(values: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Bool mask: architectures with a value and no strictly better neighbour."""
    step, _ = descend(values, neighbours)
    return np.isfinite(values) & (step == np.arange(len(values)))


# ====================================================================== the analysis
@dataclass(frozen=True)
class TheoryAnalysis:
    """Predictions, exhaustive truth and simulated runs for one table and noise mode."""

    benchmark: str
    metric: str
    noise: Noise
    bandwidth: float
    epsilons: tuple[float, ...]
    model: NeighbourModel = field(repr=False)
    #: (N,) accuracy, ties snapped (NaN where the noise mode has no value)
    values: np.ndarray = field(repr=False)
    #: (N,) scaled loss in [0, 1] (NaN where no value)
    x: np.ndarray = field(repr=False)
    #: (N,) number of neighbours with values
    degree: np.ndarray = field(repr=False)
    #: (N,) predicted probability of being a local minimum
    p_min: np.ndarray = field(repr=False)
    #: (N,) predicted number of starting points whose search ends here: the paper's recursion ...
    ends: np.ndarray = field(repr=False)
    #: ... and the conditioned recursion
    ends_conditioned: np.ndarray = field(repr=False)
    #: (N,) exhaustive truth: is a local minimum
    is_min: np.ndarray = field(repr=False)
    #: (N,) exhaustive truth: the row best-improvement local search ends at
    end: np.ndarray = field(repr=False)
    #: (runs,) rows where the simulated runs ended; (runs,) their numbers of queries
    sim_end: np.ndarray = field(repr=False)
    sim_queries: np.ndarray = field(repr=False)
    simulation: dict = field(repr=False)
    optimum: tuple[str, float] = ("", math.nan)

    # ------------------------------------------------------------ derived numbers
    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.values)

    @property
    def n(self) -> int:
        return int(self.valid.sum())

    @property
    def s(self) -> float:
        return self.model.s

    @property
    def best(self) -> float:
        return float(np.nanmax(self.values))

    def predicted_minima(self) -> float:
        return float(self.p_min[self.valid].sum())

    def random_minima(self) -> float:
        """The count for a landscape without structure, ``sum 1/(s+1)`` (the paper's reference)."""
        return float((1.0 / (self.degree[self.valid] + 1.0)).sum())

    def random_within(self, eps: float | np.ndarray) -> np.ndarray:
        """The paper's prediction for the same losses without structure (``pdf_n(v, u) = pdf(u)``)."""
        model = NeighbourModel.independent(self.model.size, self.s, self.model.substeps)
        ends = np.full(len(self.values), np.nan)
        ends[self.valid] = model.ends(self.x[self.valid], self.degree[self.valid], "paper")
        return self._share(ends, eps)

    def predicted_within(self, eps: float | np.ndarray, recursion: str = "paper") -> np.ndarray:
        """Predicted share of starting points whose local search ends within ``eps`` accuracy points."""
        return self._share(self._ends(recursion), eps)

    def _share(self, ends: np.ndarray, eps) -> np.ndarray:
        eps = np.atleast_1d(np.asarray(eps, dtype=np.float64))
        v = self.valid
        order = np.argsort(-self.values[v], kind="stable")
        acc = self.values[v][order]
        mass = np.cumsum(ends[v][order])
        k = np.searchsorted(-acc, -(self.best - eps) + 1e-9, side="right")  # rows with acc >= best - eps
        return np.where(k > 0, mass[np.maximum(k - 1, 0)], 0.0) / self.n

    def exhaustive_within(self, eps: float | np.ndarray) -> np.ndarray:
        eps = np.atleast_1d(np.asarray(eps, dtype=np.float64))
        end_acc = np.sort(self.values[self.end[self.valid]])
        return 1.0 - np.searchsorted(end_acc, self.best - eps - 1e-9, side="left") / self.n

    def simulated_within(self, eps: float | np.ndarray) -> np.ndarray:
        eps = np.atleast_1d(np.asarray(eps, dtype=np.float64))
        if self.sim_end.size == 0:
            return np.full(eps.shape, np.nan)
        end_acc = self.values[self.sim_end]
        return (end_acc[None, :] >= self.best - eps[:, None] - 1e-9).mean(axis=1)

    def total_mass(self, recursion: str = "paper") -> float:
        """The predicted share of all starts that end anywhere: 1 if the theory accounts for every start."""
        return float(self._ends(recursion)[self.valid].sum() / self.n)

    def _ends(self, recursion: str) -> np.ndarray:
        if recursion not in RECURSIONS:
            raise ArchscapeError(f"unknown recursion {recursion!r}; accepted: {', '.join(RECURSIONS)}")
        return self.ends if recursion == "paper" else self.ends_conditioned

    # ------------------------------------------------------------ outputs
    def frame(self) -> pd.DataFrame:
        """One row per quantity: predicted, exhaustive and simulated."""
        rows = [{"quantity": "local minima", "predicted": self.predicted_minima(),
                 "exhaustive": float(self.is_min.sum()), "simulated": np.nan,
                 "random_landscape": self.random_minima()}]
        rows[0]["predicted_conditioned"] = rows[0]["predicted"]
        pred, cond, true, sim = self._within(self.epsilons)
        rand = self.random_within(self.epsilons)
        for k, eps in enumerate(self.epsilons):
            rows.append({"quantity": f"share of starts within {eps:g} of the optimum", "predicted": float(pred[k]),
                         "predicted_conditioned": float(cond[k]), "exhaustive": float(true[k]),
                         "simulated": float(sim[k]), "random_landscape": float(rand[k])})
        import pandas as pd

        columns = ["quantity", "predicted", "predicted_conditioned", "exhaustive", "simulated", "random_landscape"]
        return pd.DataFrame(rows, columns=columns)

    def _within(self, eps) -> tuple[np.ndarray, ...]:
        return (self.predicted_within(eps), self.predicted_within(eps, "conditioned"),
                self.exhaustive_within(eps), self.simulated_within(eps))

    def summary(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        pred, cond, true, sim = self._within(self.epsilons)
        rand = self.random_within(self.epsilons)
        runs = int(self.sim_end.size)
        within = []
        for k, eps in enumerate(self.epsilons):
            se = math.sqrt(sim[k] * (1 - sim[k]) / runs) if runs else math.nan
            within.append({"epsilon": float(eps), "predicted": _f(pred[k]), "predicted_conditioned": _f(cond[k]),
                           "exhaustive": _f(true[k]), "simulated": _f(sim[k]), "simulated_se": _f(se),
                           "random_landscape": _f(rand[k])})
        return {
            "benchmark": self.benchmark,
            "metric": self.metric,
            "noise": self.noise,
            "loss": LOSS,
            "n_architectures": self.n,
            "neighbourhood_size": _f(self.s),  # of the recursion: E[d^2] / E[d]
            "mean_degree": _f(self.degree[self.valid].mean()),
            "optimum": {"arch": self.optimum[0], "accuracy": _f(self.optimum[1]), "loss": _f(1 - self.optimum[1] / 100)},
            "estimate": {"scale": "loss rank", "grid": self.model.size, "substeps": self.model.substeps,
                         "bandwidth": _f(self.bandwidth)},
            "local_minima": {
                "predicted": _f(self.predicted_minima()),
                "exhaustive": int(self.is_min.sum()),
                "random_landscape": _f(self.random_minima()),
            },
            "expected_preimage_of_optimum": _f(self.model.at(self.model.preimage(), self.x[self._best_row()])),
            "total_mass": {"paper": _f(self.total_mass()), "conditioned": _f(self.total_mass("conditioned"))},
            "within_epsilon": within,
            "simulation": {**self.simulation, "runs": runs,
                           "mean_queries": _f(self.sim_queries.mean()) if runs else None},
        }

    def _best_row(self) -> int:
        return int(np.nanargmax(self.values))


def theory_analysis(
    bench: TableBenchmark,
    noise: Noise = "mean",
    epsilons: Sequence[float] = DEFAULT_EPSILONS,
    *,
    metric: str | None = None,
    fidelity: int | None = None,
    grid: int = 512,
    bandwidth: float | None = None,
    substeps: int = 8,
    runs: int = 200,
    seed: int = 0,
    improvement: str = "best",
) -> TheoryAnalysis:
    """Fit the theory to a table under a noise mode and put it beside the truth and simulated runs."""
    from archscape.landscape import exhaustive
    from archscape.landscape.table import finite_landscape

    if not (isinstance(grid, int) and grid >= 2):
        raise ArchscapeError(f"grid must be an integer >= 2; got {grid!r}")
    if not (isinstance(substeps, int) and substeps >= 1):
        raise ArchscapeError(f"substeps must be an integer >= 1; got {substeps!r}")
    if bandwidth is not None and not bandwidth >= 0:
        raise ArchscapeError(f"bandwidth must be >= 0 (on the [0, 1] scale) or None; got {bandwidth!r}")
    if not (isinstance(runs, int) and runs >= 0):
        raise ArchscapeError(f"runs must be an integer >= 0; got {runs!r}")
    if improvement not in ("best", "first"):
        raise ArchscapeError(f"unknown improvement {improvement!r}; accepted: best, first")
    epsilons = tuple(float(e) for e in epsilons)
    if any(not e >= 0 for e in epsilons):
        raise ArchscapeError(f"epsilons must be >= 0 accuracy points; got {list(epsilons)}")

    noise = check_noise(noise)
    if noise == "seed":
        raise ArchscapeError("the theory needs a fixed landscape: noise 'mean' or a seed number, not 'seed'")
    # the landscape of the architectures with values, ties as the exhaustive analysis has them
    land = exhaustive.clean(finite_landscape(bench, metric, noise=noise, fidelity=fidelity))
    raw = land.values
    values = exhaustive.snap(raw, exhaustive.default_tie_tol(raw))
    valid = np.isfinite(values)
    if valid.sum() < 2:
        raise ArchscapeError(f"{land.name} has fewer than two architectures with values")
    nbrs, degree = land.neighbours, land.degree
    d = degree[valid].astype(np.float64)
    s = float((d**2).sum() / d.sum()) if d.sum() > 0 else 0.0  # the degree of a neighbour (size-biased)
    if s <= 0:
        raise ArchscapeError(f"{land.name} has no neighbour pairs with values; the theory needs a neighbourhood")

    loss = 1.0 - values / 100.0
    x = loss_rank(loss, valid)
    rows = np.repeat(np.arange(len(values)), nbrs.shape[1])
    cols = nbrs.ravel()
    pairs = np.stack([rows[cols >= 0], cols[cols >= 0]], axis=1)
    bw = scott_bandwidth(x[valid], len(pairs) // 2) if bandwidth is None else float(bandwidth)
    model = NeighbourModel.fit(x[valid], _reindex(pairs, valid), s, grid=grid, bandwidth=bw, substeps=substeps)

    p_min = np.full(len(values), np.nan)
    ends = np.full(len(values), np.nan)
    ends_conditioned = np.full(len(values), np.nan)
    p_min[valid] = model.at(model.better_free(), x[valid]) ** degree[valid]
    ends[valid] = model.ends(x[valid], degree[valid], "paper")
    ends_conditioned[valid] = model.ends(x[valid], degree[valid], "conditioned")

    step, end = descend(values, nbrs)
    is_min = valid & (step == np.arange(len(values)))
    sim_end, sim_queries = simulate_descents(bench, values, runs=runs, seed=seed, improvement=improvement)
    best = int(np.nanargmax(raw))  # the first maximum, as bench.optimum()
    space = bench.search_space()
    return TheoryAnalysis(
        benchmark=bench.name,
        metric=land.name.split(":")[1],
        noise=noise,
        bandwidth=bw,
        epsilons=epsilons,
        model=model,
        values=values,
        x=x,
        degree=degree,
        p_min=p_min,
        ends=ends,
        ends_conditioned=ends_conditioned,
        is_min=is_min,
        end=end,
        sim_end=sim_end,
        sim_queries=sim_queries,
        simulation={"optimizer": "local", "num_init": 1, "improvement": improvement, "seed": seed,
                    "stop": "first local optimum"},
        optimum=(space.format(bench.genotype_of(best)), float(raw[best])),
    )


def theory_table(
    bench: TableBenchmark, noise: Noise = "mean", epsilons: Sequence[float] = DEFAULT_EPSILONS, **options
) -> dict[str, Any]:
    """JSON-ready predictions beside the exhaustive truth and simulated runs (see :func:`theory_analysis`)."""
    return theory_analysis(bench, noise, epsilons, **options).summary()


# ====================================================================== simulation
def simulate_descents(
    bench: TableBenchmark, values: np.ndarray, *, runs: int = 200, seed: int = 0, improvement: str = "best"
) -> tuple[np.ndarray, np.ndarray]:
    """Run the real :class:`LocalSearch` ``runs`` times, one descent each; the rows where they end and their query counts.

    Run ``i`` uses ``numpy.random.default_rng([seed, i])``.  The optimizer is
    told ``values`` (NaN: a failed evaluation, never moved to); a run that
    starts on an architecture without a value is not counted, and the next
    run index is used instead, so exactly ``runs`` runs are returned.
    """
    from archscape.search.local import LocalSearch

    space = bench.search_space()
    ends, queries = [], []
    index = 0
    while len(ends) < runs:
        if index > 20 * runs + 100:
            raise ArchscapeError(f"{bench.name}: too few architectures with values to start {runs} runs")
        opt = LocalSearch(num_init=1, improvement=improvement, at_minimum="restart")
        opt.setup(space, np.random.default_rng([seed, index]))
        index += 1
        first = None
        count = 0
        while True:
            g = opt.ask()
            if opt.minima_:  # the previous architecture was a local optimum; this ask starts a new run
                break
            row = bench.row_of(g)
            if first is None:
                first = row
                if not np.isfinite(values[row]):
                    break
            opt.tell(g, float(values[row]))
            count += 1
        if not np.isfinite(values[first]):
            continue
        ends.append(bench.row_of(opt.minima_[0]))
        queries.append(count)
    return np.asarray(ends, dtype=np.int64), np.asarray(queries, dtype=np.int64)


# ====================================================================== helpers
def loss_rank(loss: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """The share of (valid) architectures with lower loss, mid-ranks for ties, centred: ``(rank - 0.5) / n``."""
    from scipy.stats import rankdata

    loss = np.asarray(loss, dtype=np.float64)
    valid = np.isfinite(loss) if valid is None else valid
    x = np.full(len(loss), np.nan)
    x[valid] = (rankdata(loss[valid], method="average") - 0.5) / valid.sum()
    return x


def _reindex(pairs: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Pairs of table rows as pairs of positions among the valid rows."""
    position = np.cumsum(valid) - 1
    return position[pairs]


def _f(x) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = float(x)
    return x if math.isfinite(x) else None
