"""Summaries of a search over several seeds: mean and sample standard deviation of each score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from archscape.opdist.cell_scores import SCORE_TABLES
from archscape.opdist.darts import SearchResult


def summarize(results: Sequence[SearchResult]) -> dict[str, Any]:
    """Mean and sample standard deviation over the runs (sd None for a single run)."""
    def stat(values) -> dict[str, float | None]:
        v = np.asarray(list(values), dtype=np.float64)
        return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else None}

    out: dict[str, Any] = {"n": len(results)}
    if not results:
        return out
    for key in SCORE_TABLES:
        out[key] = stat(r.scores[key] for r in results)
        out[f"{key}_counts_mean"] = stat(r.counts_scores[key] for r in results)
    out["search_time"] = stat(r.search_time for r in results)
    if all(r.retrain for r in results):
        out["retrain_val_acc"] = stat(r.retrain["val_acc"] for r in results)
    if all(r.large_cell for r in results):
        out["large_cell_val_acc"] = stat(r.large_cell["val_acc"] for r in results)
    return out


__all__ = ["summarize"]
