"""Pareto fronts of (value, size) pairs: a value maximised against a size minimised.

Used by NAGO's multi-objective search (accuracy against parameters) and by
reports of trained studies.
"""

from __future__ import annotations

import numpy as np

from archscape.errors import ArchscapeError


def pareto_mask(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Which points no other point dominates (value maximised, size minimised).

    ``j`` dominates ``i`` when ``values[j] >= values[i]`` and
    ``sizes[j] <= sizes[i]`` with at least one strict; equal points do not
    dominate each other.  Exact comparisons, O(n^2).
    """
    v = np.asarray(values, dtype=np.float64)
    s = np.asarray(sizes, dtype=np.float64)
    if v.shape != s.shape or v.ndim != 1:
        raise ArchscapeError(f"values and sizes must be two 1-D arrays of one length; got shapes {v.shape} and {s.shape}")
    no_worse = (v[None, :] >= v[:, None]) & (s[None, :] <= s[:, None])  # [i, j]: j no worse than i
    better = (v[None, :] > v[:, None]) | (s[None, :] < s[:, None])
    return ~np.any(no_worse & better, axis=1)


def nondominated_ranks(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Non-dominated sorting: 0 for the Pareto front, 1 for the front of the rest, ..."""
    v = np.asarray(values, dtype=np.float64)
    s = np.asarray(sizes, dtype=np.float64)
    ranks = np.full(len(v), -1)
    left = np.arange(len(v))
    r = 0
    while left.size:
        mask = pareto_mask(v[left], s[left])
        ranks[left[mask]] = r
        left = left[~mask]
        r += 1
    return ranks
