"""``ela_meta``: linear and quadratic regression models of ``y`` on ``X``.

Four ordinary least-squares models, each with an intercept, fitted with one
``numpy.linalg.lstsq`` call on an explicitly built design matrix:

* ``lin_simple``: ``y ~ x_1 + ... + x_d``;
* ``lin_w_interact``: plus every product ``x_i x_j`` (i < j);
* ``quad_simple``: ``y ~ x_i + x_i^2``;
* ``quad_w_interact``: all columns of ``quad_simple`` plus every product of two
  *different* of its 2d columns (as flacco's ``model.matrix(~ .^2)`` on
  ``[X, X^2]`` and pflacco do; that includes ``x_i x_i^2`` and ``x_i^2 x_j^2``).

Adjusted R^2 is ``1 - (1 - R^2) (n - 1) / (n - p - 1)`` with ``p`` design
columns besides the intercept, exactly as flacco (since 2021) and pflacco
compute it, also when ``p >= n - 1`` (then ``R^2`` is 1 and so is the adjusted
value).  ``legacy_adj_r2=True`` gives flacco's earlier formula (see
:func:`ela_meta`).  Deterministic.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

NAMES = (
    "ela_meta.lin_simple.adj_r2",
    "ela_meta.lin_simple.intercept",
    "ela_meta.lin_simple.coef.min",
    "ela_meta.lin_simple.coef.max",
    "ela_meta.lin_simple.coef.max_by_min",
    "ela_meta.lin_w_interact.adj_r2",
    "ela_meta.quad_simple.adj_r2",
    "ela_meta.quad_simple.cond",
    "ela_meta.quad_w_interact.adj_r2",
)


def _fit(Z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float, int]:
    """OLS with intercept on centred data (as scikit-learn's LinearRegression): coef, intercept, R^2, rank."""
    zm = Z.mean(axis=0)
    ym = y.mean()
    Zc = Z - zm
    yc = y - ym
    coef, _, rank, _ = np.linalg.lstsq(Zc, yc, rcond=None)
    resid = yc - Zc @ coef
    ss_res = float(resid @ resid)
    ss_tot = float(yc @ yc)
    if ss_tot == 0.0:
        r2 = 1.0 if ss_res == 0.0 else 0.0
    else:
        r2 = 1.0 - ss_res / ss_tot
    return coef, float(ym - zm @ coef), r2, int(rank)


def _r2(Z: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """R^2 of the OLS fit with intercept, from a column-pivoted QR of the centred design.

    Only the fitted values are needed, so no coefficients are solved for; the
    rank is cut where LAPACK's least squares would cut it (``eps * max(n, p)``
    relative to the largest pivot), which also handles ``p >= n``.
    """
    Zc = Z - Z.mean(axis=0)
    yc = y - y.mean()
    ss_tot = float(yc @ yc)
    q, r, _ = scipy.linalg.qr(Zc, mode="economic", pivoting=True, check_finite=False)
    diag = np.abs(np.diag(r))
    if diag.size == 0 or diag[0] == 0:
        return (0.0 if ss_tot else 1.0), 0
    rank = int(np.sum(diag > diag[0] * np.finfo(float).eps * max(Zc.shape)))
    q = q[:, :rank]
    resid = yc - q @ (q.T @ yc)
    ss_res = float(resid @ resid)
    if ss_tot == 0.0:
        return (1.0 if ss_res == 0.0 else 0.0), rank
    return 1.0 - ss_res / ss_tot, rank


def _adj(r2: float, n: int, p: int, legacy: bool = False, rank: int | None = None) -> float:
    if legacy:
        # flacco before its 2021 fix: n = residual degrees of freedom, p = rank with the intercept
        p = (p if rank is None else rank) + 1
        n = n - p
    denom = n - p - 1
    if denom == 0:
        return float("nan") if r2 != 1.0 else 1.0
    return 1.0 - (1.0 - r2) * (n - 1) / denom


def _pair_products(Z: np.ndarray) -> np.ndarray:
    """Products of every pair of different columns of ``Z`` (i < j), in row-major pair order."""
    i, j = np.triu_indices(Z.shape[1], k=1)
    return Z[:, i] * Z[:, j]


def _div(a: float, b: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def ela_meta(X: np.ndarray, y: np.ndarray, legacy_adj_r2: bool = False) -> dict[str, float]:
    """The nine ``ela_meta`` features of flacco/pflacco (see the module docstring).

    ``legacy_adj_r2=True`` computes adjusted R^2 as flacco did before its
    September 2021 fix (with ``n`` the residual degrees of freedom and ``p`` the
    rank including the intercept); published studies of that time, such as
    "Learning from NAS" (2020), report those values.  The rank is the numerical
    rank of the design, as R's ``lm`` reports it.
    """
    n, d = X.shape
    out: dict[str, float] = {}

    coef, intercept, r2, rank = _fit(X, y)
    a = np.abs(coef)
    out["ela_meta.lin_simple.adj_r2"] = _adj(r2, n, d, legacy_adj_r2, rank)
    out["ela_meta.lin_simple.intercept"] = intercept
    out["ela_meta.lin_simple.coef.min"] = float(a.min())
    out["ela_meta.lin_simple.coef.max"] = float(a.max())
    out["ela_meta.lin_simple.coef.max_by_min"] = _div(a.max(), a.min())

    inter = _pair_products(X)
    Z = np.hstack([X, inter])
    r2, rank = _r2(Z, y)
    out["ela_meta.lin_w_interact.adj_r2"] = _adj(r2, n, Z.shape[1], legacy_adj_r2, rank)

    Q = np.hstack([X, X * X])
    coef, _, r2, rank = _fit(Q, y)
    sq = np.abs(coef[d:])
    out["ela_meta.quad_simple.adj_r2"] = _adj(r2, n, Q.shape[1], legacy_adj_r2, rank)
    out["ela_meta.quad_simple.cond"] = _div(sq.max(), sq.min())

    Z = np.hstack([Q, _pair_products(Q)])
    r2, rank = _r2(Z, y)
    out["ela_meta.quad_w_interact.adj_r2"] = _adj(r2, n, Z.shape[1], legacy_adj_r2, rank)
    return out
