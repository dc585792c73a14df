"""Speed-up of searching distributions: queries to come within a threshold of the optimum.

For every optimizer of every study in a comparison (studies on the same
benchmark, noise and budget, as in a report), the *hitting time* of a trial
is the first query after which its incumbent's report value is within
``threshold`` (percentage points) of the table's global optimum; a trial that
never gets there within its budget is *censored* (its hitting time is
infinite, so medians and quartiles stay honest: they are ``inf`` when more
than that share of trials never got there).  Quartiles are sample values
(the inverted-CDF rule), so they are defined with censored trials.

The *speed-up* of an optimizer pairs its study on a distribution space
(``<base>-opdist``) with its study on the cells (the base space):
``median queries on the cells / median queries on the distributions``;
above 1, searching distributions needs fewer queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from archscape.errors import ArchscapeError

#: the default thresholds, in percentage points of the report metric
THRESHOLDS = (0.1, 0.3, 0.5)
#: a regret this close to the threshold counts as within it (float storage)
TOLERANCE = 1e-9


def hitting_times(regret: np.ndarray, threshold: float) -> np.ndarray:
    """Per trial (row): the 1-based first query with ``regret <= threshold``, ``inf`` if none."""
    within = np.asarray(regret, dtype=np.float64) <= threshold + TOLERANCE
    first = np.argmax(within, axis=1).astype(np.float64) + 1
    first[~within.any(axis=1)] = np.inf
    return first


def _quantile(times: np.ndarray, q: float) -> float:
    return float(np.quantile(times, q, method="inverted_cdf")) if times.size else math.nan


def speedup_table(stores: Sequence[str | Path], thresholds: Iterable[float] = THRESHOLDS) -> pd.DataFrame:
    """One row per comparison, optimizer, space and threshold; see the module docstring.

    Columns: ``comparison, benchmark, noise, budget, optimizer, space, threshold, trials, censored,
    median, q25, q75, mean_reached`` and, on rows of a distribution space with a study on the cells,
    ``cells_median`` and ``speedup``.
    """
    from archscape.report.collect import group_studies, load_studies

    thresholds = [float(t) for t in thresholds]
    if not thresholds or any(not (t >= 0) for t in thresholds):
        raise ArchscapeError(f"thresholds must be numbers >= 0 (percentage points); got {thresholds}")
    rows = []
    for comp in group_studies(load_studies(stores)):
        curves = comp.by_queries
        regret = curves.regret
        spaces = {s.key: s.record.info.get("space") for s in comp.studies}
        for shown, (study, label) in comp.label_map.items():
            used = curves.rows(shown)
            for t in thresholds:
                times = hitting_times(regret[used], t)
                reached = times[np.isfinite(times)]
                rows.append({
                    "comparison": comp.slug, "benchmark": comp.settings["benchmark"], "noise": comp.settings["noise"],
                    "budget": comp.settings["budget"], "optimizer": label, "space": spaces[study], "threshold": t,
                    "trials": int(used.size), "censored": int(np.isinf(times).sum()),
                    "median": _quantile(times, 0.5), "q25": _quantile(times, 0.25), "q75": _quantile(times, 0.75),
                    "mean_reached": float(reached.mean()) if reached.size else math.nan,
                })
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["cells_median"] = math.nan
    table["speedup"] = math.nan
    for i, row in table.iterrows():
        if not str(row.space).endswith("-opdist"):
            continue
        base = str(row.space).removesuffix("-opdist")
        twin = table[(table.comparison == row.comparison) & (table.optimizer == row.optimizer)
                     & (table.space == base) & (table.threshold == row.threshold)]
        if len(twin):
            cells = float(twin["median"].iloc[0])
            table.loc[i, "cells_median"] = cells
            table.loc[i, "speedup"] = _ratio(cells, float(row["median"]))
    return table


def _ratio(cells: float, dist: float) -> float:
    if math.isinf(cells) and math.isinf(dist):
        return math.nan
    return cells / dist


def format_speedup(table: pd.DataFrame, style: str = "text") -> str:
    """The table as aligned text or Markdown: median [q25, q75] queries per optimizer, space and threshold."""
    if style not in ("text", "markdown"):
        raise ArchscapeError(f"unknown table style {style!r}; accepted: text, markdown")
    if table.empty:
        return "(no studies)"

    def q(x: float) -> str:
        return "never" if math.isinf(x) else ("–" if math.isnan(x) else f"{x:g}")

    blocks = []
    for comp, part in table.groupby("comparison", sort=False):
        head = ["optimizer", "space"] + [f"within {t:g} pp" for t in dict.fromkeys(part.threshold)]
        lines = []
        for (opt, space), g in part.groupby(["optimizer", "space"], sort=False):
            cells = [opt, str(space)]
            for r in g.itertuples():
                text = f"{q(r.median)} [{q(r.q25)}, {q(r.q75)}]"
                if r.censored:
                    text += f" ({r.censored}/{r.trials} never)"
                if not math.isnan(r.speedup):
                    text += f" x{r.speedup:.2f}"
                cells.append(text)
            lines.append(cells)
        title = f"{part.benchmark.iloc[0]}, noise={part.noise.iloc[0]}, budget {part.budget.iloc[0]}"
        if style == "markdown":
            out = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            out += ["| " + " | ".join(c) + " |" for c in lines]
        else:
            widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(head)]
            out = [title, "=" * len(title), "  ".join(h.ljust(w) for h, w in zip(head, widths))]
            out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in lines]
        blocks.append("\n".join(out))
    note = ("median [quartiles] of the queries until the incumbent is within the threshold of the global optimum; "
            "xN: median on the cells / median on the distributions (above 1: distributions are faster)")
    return "\n\n".join(blocks) + "\n\n" + note


__all__ = ["THRESHOLDS", "format_speedup", "hitting_times", "speedup_table"]
