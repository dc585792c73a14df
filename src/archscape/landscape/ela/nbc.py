"""``nbc``: nearest-better clustering features (minimisation).

For each observation: ``nn`` the distance to its nearest neighbour, ``nb`` the
distance to its nearest *better* observation (strictly smaller ``y``).  As in
pflacco: an observation with no better one anywhere takes its nearest
*equal-valued* observation outside its ``fast_k`` nearest neighbours
(``fast_k = ceil(0.05 n)``, itself included), and otherwise has none; a missing
``nb`` is replaced by ``nn`` before the statistics.

* ``nn_nb.sd_ratio`` = sd(nn) / sd(nb), ``nn_nb.mean_ratio`` = mean(nn) / mean(nb),
  ``nn_nb.cor`` = cor(nn, nb);
* ``dist_ratio.coeff_var``: coefficient of variation of nn / nb;
* ``nb_fitness.cor``: correlation between ``y`` and the indegree (how many
  observations have this one as their nearest better).

Distances are computed exactly from coordinate differences, in row blocks, so
memory stays at a few MB.  Deterministic, except that ties in distance between
several nearest-better candidates are broken by ``dist_tie_breaker``:
``"first"`` (lowest index, the default here), ``"last"``, or ``"sample"``
(random from ``seed``; pflacco's default, which matters only for exact ties).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.distance import cdist

from archscape.errors import ArchscapeError

from ._common import pearson, row_chunks

NAMES = (
    "nbc.nn_nb.sd_ratio",
    "nbc.nn_nb.mean_ratio",
    "nbc.nn_nb.cor",
    "nbc.dist_ratio.coeff_var",
    "nbc.nb_fitness.cor",
)


def nearest_better(X: np.ndarray, y: np.ndarray, fast_k: float = 0.05, dist_tie_breaker: str = "first", seed=0):
    """(nn distance, nb distance or NaN, nb index or -1) for every row."""
    n = X.shape[0]
    k = math.ceil(fast_k * n) if fast_k < 1 else int(fast_k)
    if k < 1 or k > n:
        raise ArchscapeError(f"nbc fast_k gives {k} neighbours; it must give between 1 and n = {n}")
    if dist_tie_breaker not in ("first", "last", "sample"):
        raise ArchscapeError(f"nbc dist_tie_breaker must be 'first', 'last' or 'sample'; got {dist_tie_breaker!r}")
    rng = np.random.default_rng(seed) if dist_tie_breaker == "sample" else None
    nn = np.empty(n)
    nb = np.full(n, np.nan)
    nb_idx = np.full(n, -1, dtype=np.int64)
    for sl in row_chunks(n, X.shape[1]):
        D = cdist(X[sl], X)
        rows = np.arange(sl.start, sl.stop)
        Dself = D.copy()
        Dself[rows - sl.start, rows] = np.inf
        nn[sl] = Dself.min(axis=1)
        better = y[None, :] < y[sl, None]
        Db = np.where(better, D, np.inf)
        j = Db.argmin(axis=1)
        dist = Db[rows - sl.start, j]
        has = np.isfinite(dist)
        for r in np.flatnonzero(has):
            cand = np.flatnonzero(Db[r] == dist[r])
            if len(cand) > 1:
                j[r] = _tie(cand, dist_tie_breaker, rng)
        nb[sl][has] = dist[has]
        nb_idx[sl][has] = j[has]
        # no better observation anywhere: the nearest equal one outside the fast_k nearest
        for r in np.flatnonzero(~has):
            i = rows[r]
            order = np.argsort(D[r], kind="stable")
            outside = np.ones(n, dtype=bool)
            outside[order[:k]] = False
            outside[i] = False  # self is always among the fast_k nearest
            eq = np.flatnonzero(outside & (y == y[i]))
            if len(eq) == 0:
                continue
            de = D[r, eq]
            cand = eq[de == de.min()]
            pick = cand[0] if len(cand) == 1 else _tie(cand, dist_tie_breaker, rng)
            nb[i] = D[r, pick]
            nb_idx[i] = pick
    return nn, nb, nb_idx


def _tie(cand: np.ndarray, how: str, rng) -> int:
    if how == "first":
        return int(cand[0])
    if how == "last":
        return int(cand[-1])
    return int(rng.choice(cand))


def nbc(
    X: np.ndarray,
    y: np.ndarray,
    fast_k: float = 0.05,
    dist_tie_breaker: str = "first",
    minimize: bool = True,
    seed=0,
) -> dict[str, float]:
    """The five nearest-better clustering features (see the module docstring)."""
    if not minimize:
        y = -y
    nn, nb, nb_idx = nearest_better(X, y, fast_k, dist_tie_breaker, seed)
    indegree = np.bincount(nb_idx[nb_idx >= 0], minlength=len(y)).astype(float)
    nb = np.where(np.isnan(nb), nn, nb)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = nn / nb
        sd_nb = np.std(nb, ddof=1)
        out = {
            "nbc.nn_nb.sd_ratio": float(np.std(nn, ddof=1) / sd_nb),
            "nbc.nn_nb.mean_ratio": float(np.mean(nn) / np.mean(nb)),
            "nbc.nn_nb.cor": pearson(nn, nb),
            "nbc.dist_ratio.coeff_var": float(np.nanstd(ratio, ddof=1) / np.nanmean(ratio)),
            "nbc.nb_fitness.cor": pearson(indegree, y),
        }
    return out
