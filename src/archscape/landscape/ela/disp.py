"""``disp``: dispersion of the best observations against the whole sample (minimisation).

For each quantile ``q`` (default 0.02, 0.05, 0.10, 0.25), the observations with
``y <= quantile(y, q)`` are the "best"; the mean and median of their pairwise
distances are compared with those of the whole sample, as ratios
(``ratio_mean_02``, ``ratio_median_02``, ...) and differences
(``diff_mean_02``, ...).  As in pflacco, zero distances (duplicated points)
are left out of every mean and median; the distance is Euclidean by default
(any ``scipy.spatial.distance.pdist`` metric, with ``p`` for Minkowski).
Deterministic.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist

from archscape.errors import ArchscapeError

DEFAULT_QUANTILES = (0.02, 0.05, 0.10, 0.25)


def _tag(q: float) -> str:
    return f"{int(round(q * 100, 0)):0>2d}"


def names(quantiles=DEFAULT_QUANTILES) -> tuple[str, ...]:
    return tuple(f"disp.{kind}_{_tag(q)}" for kind in ("ratio_mean", "ratio_median", "diff_mean", "diff_median") for q in quantiles)


NAMES = names()


def _dists(X: np.ndarray, metric: str, p: float) -> np.ndarray:
    if len(X) < 2:
        return np.empty(0)
    try:
        d = pdist(X, metric=metric, p=p) if metric == "minkowski" else pdist(X, metric=metric)
    except ValueError as exc:
        raise ArchscapeError(f"disp: unknown distance {metric!r} ({exc}); use a scipy pdist metric such as 'euclidean'") from None
    return d[d != 0]


def _mean_median(d: np.ndarray) -> tuple[float, float]:
    if d.size == 0:
        return float("nan"), float("nan")
    return float(np.mean(d)), float(np.median(d))


def disp(
    X: np.ndarray,
    y: np.ndarray,
    quantiles=DEFAULT_QUANTILES,
    dist_method: str = "euclidean",
    dist_p: float = 2,
    minimize: bool = True,
) -> dict[str, float]:
    """Ratios and differences of best-vs-all distance means and medians (see the module docstring)."""
    if not minimize:
        y = -y
    full_mean, full_median = _mean_median(_dists(X, dist_method, dist_p))
    means, medians = [], []
    for q in quantiles:
        if not 0 < q <= 1:
            raise ArchscapeError(f"disp quantiles must lie in (0, 1]; got {q}")
        sel = y <= np.quantile(y, q)
        m, md = _mean_median(_dists(X[sel], dist_method, dist_p))
        means.append(m)
        medians.append(md)
    out: dict[str, float] = {}
    for q, m in zip(quantiles, means):
        out[f"disp.ratio_mean_{_tag(q)}"] = m / full_mean
    for q, md in zip(quantiles, medians):
        out[f"disp.ratio_median_{_tag(q)}"] = md / full_median
    for q, m in zip(quantiles, means):
        out[f"disp.diff_mean_{_tag(q)}"] = m - full_mean
    for q, md in zip(quantiles, medians):
        out[f"disp.diff_median_{_tag(q)}"] = md - full_median
    return out
