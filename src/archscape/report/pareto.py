"""Accuracy against size: the Pareto front of a study's evaluations.

For studies that train networks (and NAGO's multi-objective search in
particular) a report shows every successful evaluation as a point (the
objective the optimizer saw, e.g. validation accuracy, against the
network's parameters) and, per optimizer, the non-dominated points over all
its trials: no other evaluation of that optimizer is at least as accurate and
at most as large, with one of the two strictly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from archscape.pareto import pareto_mask

#: the metric a front measures size by (millions of parameters)
SIZE_METRIC = "params"


def size_column(frame: pd.DataFrame, metric: str = SIZE_METRIC) -> np.ndarray:
    """``metric`` of each evaluation, read from its metrics JSON (NaN where missing)."""
    return np.array([json.loads(m).get(metric, np.nan) if isinstance(m, str) else np.nan for m in frame["metrics"]],
                    dtype=np.float64)


def pareto_front(frame: pd.DataFrame, metric: str = SIZE_METRIC) -> pd.DataFrame:
    """The non-dominated successful evaluations of each optimizer (``label``), by objective up and size down.

    Columns: ``label, trial_index, k, arch, objective, report, size``; sorted by
    label and size.  Empty when no evaluation records ``metric``.
    """
    sizes = size_column(frame, metric)
    ok = (frame["status"] == "ok").to_numpy() & np.isfinite(frame["objective"].to_numpy(float)) & np.isfinite(sizes)
    parts = []
    for label in dict.fromkeys(frame.loc[ok, "label"]):
        mine = ok & (frame["label"] == label).to_numpy()
        points = frame.loc[mine, ["label", "trial_index", "k", "arch", "objective", "report"]].copy()
        points["size"] = sizes[mine]
        parts.append(points[pareto_mask(points["objective"].to_numpy(float), points["size"].to_numpy())])
    if not parts:
        return pd.DataFrame(columns=["label", "trial_index", "k", "arch", "objective", "report", "size"])
    return pd.concat(parts, ignore_index=True).sort_values(["label", "size"], kind="stable", ignore_index=True)


def pareto_figure(frame: pd.DataFrame, front: pd.DataFrame, *, title: str, objective: str, palette,
                  labels: Sequence[str], metric: str = SIZE_METRIC):
    """Every evaluation as a dot, each optimizer's front as a step line; size on a log axis."""
    import matplotlib
    from matplotlib.figure import Figure

    from archscape.report.style import STYLE

    sizes = size_column(frame, metric)
    ok = (frame["status"] == "ok").to_numpy() & np.isfinite(sizes) & np.isfinite(frame["objective"].to_numpy(float))
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7.5, 4.2), layout="constrained")
        ax = fig.subplots()
        for label in labels:
            mine = ok & (frame["label"] == label).to_numpy()
            if not mine.any():
                continue
            colour, style = palette[label]
            ax.scatter(sizes[mine], frame.loc[mine, "objective"], s=14, color=colour, alpha=0.35, linewidths=0)
            f = front[front["label"] == label]
            ax.plot(f["size"], f["objective"], color=colour, linestyle=style, marker="o", markersize=4,
                    drawstyle="steps-post", label=f"{label} front ({len(f)})")
        ax.set_xscale("log")
        ax.set_xlabel(f"{metric} (millions)" if metric == SIZE_METRIC else metric)
        ax.set_ylabel(f"{objective} (%)")
        ax.legend(frameon=False, fontsize=8)
        fig.suptitle(title)
    return fig


__all__ = ["SIZE_METRIC", "pareto_figure", "pareto_front", "size_column"]
