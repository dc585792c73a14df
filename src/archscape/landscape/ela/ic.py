"""``ic``: information content of a tour through the sample (Munoz, Kirley, Halgamuge 2015).

The observations are ordered into a tour: by default (``sorting="nn"``) a
greedy nearest-neighbour tour that starts at ``nn_start`` (drawn at random
when not given) and always moves to the nearest unvisited observation among
the current one's ``nn_neighborhood`` (20) nearest, or among all unvisited ones
when those are all visited; with ``sorting="random"`` a random permutation.
Along the tour the slopes ``(y_{i+1} - y_i) / |x_{i+1} - x_i|`` are coded as
-1, 0, 1 with threshold ``epsilon`` for every epsilon of the grid
``{0} U 10^linspace(-5, 15, 1000)``, and

* ``h_max``: the largest entropy (base 6) of consecutive unequal code pairs;
* ``eps_s``: log10 of the smallest epsilon with entropy below 0.05 (``settling_sensitivity``);
* ``eps_max``: the median epsilon at which the entropy peaks;
* ``eps_ratio``: log10 of the largest epsilon whose partial information is above
  ``info_sensitivity`` (0.5) times ``m0``;
* ``m0``: the partial information at epsilon 0 (changes of slope sign).

Rows with the same ``X`` are merged into one, with the mean ``y`` (complete
duplicates first dropped), as flacco and pflacco do.

**Random**: the start of the tour (``nn_start=None``) or the permutation
(``sorting="random"``) is drawn from ``seed`` with numpy's legacy
``RandomState`` in the same way pflacco draws them from ``np.random.seed(seed)``,
so with the same integer seed archscape and pflacco walk the same tour.
The same seed gives the same features.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from archscape.errors import ArchscapeError

from ._common import row_chunks

NAMES = ("ic.h_max", "ic.eps_s", "ic.eps_max", "ic.eps_ratio", "ic.m0")

DEFAULT_EPSILON = np.insert(10 ** np.linspace(start=-5, stop=15, num=1000), 0, 0)


def _merge_duplicates(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, inverse, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    if np.all(counts == 1):
        return X, y
    # drop complete (X, y) duplicates, then average y over rows that share X
    keep = np.ones(len(y), dtype=bool)
    seen: set[tuple[int, float]] = set()
    for i, (g, v) in enumerate(zip(inverse, y)):
        key = (int(g), float(v))
        if key in seen:
            keep[i] = False
        seen.add(key)
    X, y, inverse = X[keep], y[keep], inverse[keep]
    groups = np.unique(inverse, return_counts=True)
    dup_groups = set(groups[0][groups[1] > 1].tolist())
    single = np.array([g not in dup_groups for g in inverse])
    order_dup = []
    for i, g in enumerate(inverse):
        if g in dup_groups and g not in order_dup:
            order_dup.append(g)
    Xs = [X[single]] + [X[inverse == g][:1] for g in order_dup]
    ys = [y[single]] + [np.array([y[inverse == g].mean()]) for g in order_dup]
    return np.vstack(Xs), np.concatenate(ys)


def _knn(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    n = X.shape[0]
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k))
    for sl in row_chunks(n, X.shape[1]):
        D = cdist(X[sl], X)
        part = np.argpartition(D, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (D.shape[0], 1))
        pd_ = np.take_along_axis(D, part, axis=1)
        order = np.lexsort((part, pd_), axis=1)
        idx[sl] = np.take_along_axis(part, order, axis=1)
        dist[sl] = np.take_along_axis(pd_, order, axis=1)
    return idx, dist


def nn_tour(X: np.ndarray, start: int, neighborhood: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """The greedy nearest-neighbour tour from ``start``: (permutation, step lengths)."""
    n = X.shape[0]
    k = min(neighborhood, n)
    idx, dist = _knn(X, k)
    visited = np.zeros(n, dtype=bool)
    perm = np.empty(n, dtype=np.int64)
    steps = np.empty(n - 1)
    cur = start
    perm[0] = cur
    visited[cur] = True
    for i in range(1, n):
        free = ~visited[idx[cur]]
        if free.any():
            j = int(np.argmax(free))
            nxt = int(idx[cur, j])
            steps[i - 1] = dist[cur, j]
        else:
            cand = np.flatnonzero(~visited)
            d = np.sqrt(np.sum((X[cand] - X[cur]) ** 2, axis=1))
            j = int(np.argmin(d))
            nxt = int(cand[j])
            steps[i - 1] = d[j]
        perm[i] = nxt
        visited[nxt] = True
        cur = nxt
    return perm, steps


def _entropy_and_partial(psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H(eps) and M(eps) for the (n_eps, L) code matrix ``psi`` with values -1, 0, 1."""
    n_eps, L = psi.shape
    a = psi[:, :-1]
    b = psi[:, 1:]
    pairs = ((-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0))
    H = np.zeros(n_eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        for pa, pb in pairs:
            p = np.mean((a == pa) & (b == pb), axis=1)
            H = H + np.where(p == 0, 0.0, p * np.log(p) / np.log(6))
    H = -H
    # partial information: sign changes between consecutive non-zero codes
    pos = np.where(psi != 0, np.arange(L)[None, :], -1)
    last = np.maximum.accumulate(pos, axis=1)
    prev = np.concatenate([np.full((n_eps, 1), -1), last[:, :-1]], axis=1)
    prev_val = np.take_along_axis(psi, np.maximum(prev, 0), axis=1)
    change = (psi != 0) & (prev >= 0) & (prev_val != psi)
    M = change.sum(axis=1) / (L - 1)
    return H, M


def ic(
    X: np.ndarray,
    y: np.ndarray,
    sorting: str = "nn",
    nn_neighborhood: int = 20,
    nn_start: int | None = None,
    epsilon: np.ndarray | None = None,
    settling_sensitivity: float = 0.05,
    info_sensitivity: float = 0.5,
    seed: int | None = 0,
) -> dict[str, float]:
    """The five information-content features (see the module docstring)."""
    eps = DEFAULT_EPSILON if epsilon is None else np.asarray(epsilon, dtype=float)
    if eps.ndim != 1 or eps.min() < 0 or 0 not in eps:
        raise ArchscapeError("ic epsilon must be a 1-D grid of values >= 0 that includes 0")
    if sorting not in ("nn", "random"):
        raise ArchscapeError(f"ic sorting must be 'nn' or 'random'; got {sorting!r}")
    if settling_sensitivity < 0 or not -1 <= info_sensitivity <= 1:
        raise ArchscapeError("ic settling_sensitivity must be >= 0 and info_sensitivity in [-1, 1]")
    eps = np.unique(eps)
    X, y = _merge_duplicates(X, y)
    n = X.shape[0]
    if n < 3:
        raise ArchscapeError("ic needs at least 3 distinct points")
    rs = np.random.RandomState(seed)
    if sorting == "random":
        perm = rs.choice(n, size=n, replace=False)
        steps = np.sqrt(np.sum(np.diff(X[perm], axis=0) ** 2, axis=1))
    else:
        if nn_start is None:
            nn_start = int(rs.choice(n, size=1)[0])
        if not 0 <= nn_start < n:
            raise ArchscapeError(f"ic nn_start must be a row index in [0, {n}); got {nn_start}")
        if nn_neighborhood < 1:
            raise ArchscapeError(f"ic nn_neighborhood must be >= 1; got {nn_neighborhood}")
        perm, steps = nn_tour(X, nn_start, nn_neighborhood)
    ratio = np.diff(y[perm]) / steps
    psi = np.where(np.abs(ratio)[None, :] < eps[:, None], 0, np.sign(ratio)[None, :]).astype(np.int8)
    H, M = _entropy_and_partial(psi)
    h_max = H.max()
    settled = eps[H < settling_sensitivity]
    with np.errstate(divide="ignore"):
        eps_s = float(np.log10(settled.min())) if settled.size else float("nan")
        m0 = float(M[eps == 0][0])
        above = eps[M > info_sensitivity * m0]
        eps_ratio = float(np.log10(above.max())) if above.size else float("nan")
    return {
        "ic.h_max": float(h_max) + 0.0,  # never -0.0
        "ic.eps_s": eps_s,
        "ic.eps_max": float(np.median(eps[H == h_max])),
        "ic.eps_ratio": eps_ratio,
        "ic.m0": m0,
    }
