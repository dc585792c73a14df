"""Random-walk autocorrelation and correlation length (Weinberger 1990).

A random walk moves from its row to a uniformly drawn neighbour at every
step (NaN rows are not part of the landscape and are never visited).  The
autocorrelation at lag k is

    rho(k) = E[(f(x_t) - m)(f(x_{t+k}) - m)] / Var f

estimated from many walks at once (pooled mean, variance and lagged
products), and the correlation length is ``l = -1 / ln|rho(1)|``: the number
of steps over which values stay correlated (0 when rho(1) = 0, infinite when
|rho(1)| = 1).

Walks start from the walk's stationary distribution (rows drawn with
probability proportional to their number of neighbours; uniform on NB201 and
NAS-Bench-Macro, where every row has as many neighbours), so every step of
every walk is a sample of the stationary chain and no burn-in is needed.

:func:`exact_autocorrelation` gives the same quantity without sampling: for
the stationary chain with transition matrix P, rho(k) = <g, P^k g>_pi / <g,
g>_pi with g = f - E_pi f, evaluated with k sparse products over the
neighbour matrix.  The walk estimate converges to it; both are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archscape.errors import ArchscapeError
from archscape.landscape.exhaustive import clean
from archscape.landscape.table import FiniteLandscape


def correlation_length(rho1: float) -> float:
    """``-1 / ln|rho(1)|``; 0 for rho(1) = 0, inf for |rho(1)| >= 1, NaN when rho(1) is undefined."""
    a = abs(float(rho1))
    if not np.isfinite(a):
        return float("nan")
    if a == 0.0:
        return 0.0
    if a >= 1.0:
        return float("inf")
    return float(-1.0 / np.log(a))


def _walkable(land: FiniteLandscape) -> tuple[np.ndarray, np.ndarray]:
    deg = (land.neighbours >= 0).sum(axis=1)
    ok = np.isfinite(land.values) & (deg > 0)
    if not ok.any():
        raise ArchscapeError(f"landscape {land.name} has no row with a neighbour: no random walk possible")
    return ok, deg


def random_walks(landscape: FiniteLandscape, n_walks: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """(n_walks, length) rows visited by independent random walks started from the stationary distribution."""
    if n_walks < 1 or length < 1:
        raise ArchscapeError(f"random walks need n_walks >= 1 and length >= 1; got {n_walks} and {length}")
    land = clean(landscape)
    ok, deg = _walkable(land)
    p = np.where(ok, deg, 0).astype(np.float64)
    cur = rng.choice(len(p), size=n_walks, p=p / p.sum())
    nb = land.neighbours
    u = rng.random((length - 1, n_walks))
    out = np.empty((length, n_walks), dtype=np.int64)
    out[0] = cur
    for t in range(1, length):
        d = deg[cur]
        # a row without neighbours (only reachable in a non-symmetric neighbourhood) keeps the walk in place
        cur = np.where(d > 0, nb[cur, (u[t - 1] * d).astype(np.int64)], cur)
        out[t] = cur
    return out.T


def walk_autocorrelation(values: np.ndarray, max_lag: int) -> np.ndarray:
    """rho(1..max_lag) pooled over the rows of a (walks, length) matrix of values."""
    f = np.asarray(values, dtype=np.float64)
    m, v = f.mean(), f.var()
    g = f - m
    lags = min(max_lag, f.shape[1] - 1)
    rho = np.full(max_lag, np.nan)
    if v <= 0:
        return rho
    for k in range(1, lags + 1):
        rho[k - 1] = np.mean(g[:, :-k] * g[:, k:]) / v
    return rho


def exact_autocorrelation(landscape: FiniteLandscape, max_lag: int) -> np.ndarray:
    """rho(1..max_lag) of the stationary random walk, computed without sampling."""
    land = clean(landscape)
    ok, deg = _walkable(land)
    n = len(land.values)
    # padding (-1) reads an extra slot that always holds 0
    idx = np.where(land.neighbours >= 0, land.neighbours, n)
    pi = np.where(ok, deg, 0) / deg[ok].sum()
    f = np.where(ok, land.values, 0.0)
    g = np.where(ok, f - np.sum(pi * f), 0.0)
    pg = pi * g
    var = np.sum(pg * g)  # (no BLAS dot: on a few cores OpenBLAS threads cost more than the sum)
    rho = np.full(max_lag, np.nan)
    if not var > 0:
        return rho
    h = np.zeros(n + 1)
    h[:n] = g
    safe_deg = np.maximum(deg, 1)
    for k in range(max_lag):
        h[:n] = h[idx].sum(axis=1) / safe_deg  # one step of P
        rho[k] = np.sum(pg * h[:n]) / var
    return rho


@dataclass(frozen=True)
class WalkResult:
    rho: np.ndarray  # rho(1..K) from the walks
    rho_exact: np.ndarray  # rho(1..K) of the stationary chain
    n_walks: int
    length: int
    seed: int

    @property
    def correlation_length(self) -> float:
        return correlation_length(self.rho[0]) if self.rho.size else float("nan")

    @property
    def correlation_length_exact(self) -> float:
        return correlation_length(self.rho_exact[0]) if self.rho_exact.size else float("nan")

    def summary(self) -> dict:
        return {
            "autocorrelation_length": self.correlation_length,
            "autocorrelation_length_exact": self.correlation_length_exact,
            "autocorrelation": [float(x) for x in self.rho],
            "autocorrelation_exact": [float(x) for x in self.rho_exact],
            "walks": {"n_walks": self.n_walks, "length": self.length, "seed": self.seed, "start": "stationary"},
        }


def autocorrelation(
    landscape: FiniteLandscape, *, max_lag: int = 20, n_walks: int = 200, length: int = 1000, seed: int = 0
) -> WalkResult:
    """Autocorrelation from ``n_walks`` seeded random walks of ``length`` steps, and the exact curve."""
    if max_lag < 1:
        raise ArchscapeError(f"max_lag must be >= 1; got {max_lag}")
    land = clean(landscape)
    rng = np.random.default_rng([seed, 0x3A1C])
    walks = random_walks(land, n_walks, length, rng)
    rho = walk_autocorrelation(land.values[walks], max_lag)
    return WalkResult(rho, exact_autocorrelation(land, max_lag), n_walks, length, seed)


__all__ = [
    "WalkResult",
    "autocorrelation",
    "correlation_length",
    "exact_autocorrelation",
    "random_walks",
    "walk_autocorrelation",
]
