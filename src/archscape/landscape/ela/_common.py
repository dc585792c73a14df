"""Input checks and small numerical helpers shared by the ELA feature sets."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.spatial.distance import cdist

from archscape.errors import ArchscapeError


def check_sample(X, y, *, min_rows: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Return ``X`` as a float (n, d) array and ``y`` as a float (n,) array, or raise one line."""
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise ArchscapeError("X must be a numeric (n, d) array of decision vectors") from None
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ArchscapeError("y must be a numeric (n,) array of objective values") from None
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2 or X.shape[1] < 1:
        raise ArchscapeError(f"X must be a 2-D (n, d) array; got shape {X.shape}")
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ArchscapeError(f"y must be a 1-D array of n objective values; got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ArchscapeError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values; they must match")
    if X.shape[0] < min_rows:
        raise ArchscapeError(f"ELA features need at least {min_rows} observations; got {X.shape[0]}")
    if not np.all(np.isfinite(X)):
        raise ArchscapeError("X contains NaN or infinite values; ELA features accept finite values only")
    if not np.all(np.isfinite(y)):
        bad = int(np.sum(~np.isfinite(y)))
        raise ArchscapeError(f"y contains {bad} NaN or infinite value(s); drop or impute them first")
    return X, y


def check_bounds(lower_bound, upper_bound, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast the box bounds to ``d`` values and check that they hold ``X``."""
    d = X.shape[1]
    try:
        lb = np.broadcast_to(np.asarray(lower_bound, dtype=float), (d,)).copy()
        ub = np.broadcast_to(np.asarray(upper_bound, dtype=float), (d,)).copy()
    except (TypeError, ValueError):
        raise ArchscapeError(
            f"lower_bound and upper_bound must be numbers or sequences of {d} numbers (one per dimension)"
        ) from None
    if not (np.all(np.isfinite(lb)) and np.all(np.isfinite(ub))):
        raise ArchscapeError("lower_bound and upper_bound must be finite")
    if not np.all(lb < ub):
        j = int(np.argmin(ub - lb))
        raise ArchscapeError(f"lower_bound must be below upper_bound in every dimension; dimension {j} has [{lb[j]}, {ub[j]}]")
    tol = 1e-9 * np.maximum(1.0, ub - lb)
    outside = (X < lb - tol) | (X > ub + tol)
    if outside.any():
        i, j = map(int, np.argwhere(outside)[0])
        raise ArchscapeError(
            f"X[{i}, {j}] = {X[i, j]} lies outside the bounds [{lb[j]}, {ub[j]}]; "
            f"{int(outside.any(axis=1).sum())} row(s) are outside the box"
        )
    return lb, ub


def check_blocks(blocks, d: int) -> np.ndarray | None:
    """Validate ``blocks`` (cells per dimension; only cell-mapping sets use it)."""
    if blocks is None:
        return None
    b = np.asarray(blocks)
    if b.ndim == 0:
        b = np.full(d, int(b))
    if b.shape != (d,) or not np.issubdtype(b.dtype, np.integer) or np.any(b < 1):
        raise ArchscapeError(f"blocks must be a positive integer or {d} positive integers (one per dimension); got {blocks!r}")
    return b.astype(int)


@lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_threaded_blas():
    """A context in which BLAS uses one thread.

    ELA works on matrices of at most a few thousand rows, where BLAS threads
    cost more than they save on two busy cores (a 1000 x 1000 SVD took 10 s
    with two threads under load and 0.4 s with one).
    """
    return _blas_controller().limit(limits=1, user_api="blas")


def pairwise_rows(X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Euclidean distances from ``X[rows]`` to all of ``X``, computed from the differences."""
    return cdist(X[rows], X)


def row_chunks(n: int, d: int, budget: int = 1 << 24):
    """Slices of ``range(n)`` so that a (chunk, n) distance block stays near ``budget`` bytes."""
    step = max(1, min(n, budget // max(1, 8 * n)))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; NaN where either input is constant (as scipy returns)."""
    a = np.asarray(a, dtype=float) - np.mean(a)
    b = np.asarray(b, dtype=float) - np.mean(b)
    na = np.sqrt(np.dot(a, a))
    nb = np.sqrt(np.dot(b, b))
    if na == 0 or nb == 0:
        return float("nan")
    r = np.dot(a / na, b / nb)
    return float(max(-1.0, min(1.0, r)))
