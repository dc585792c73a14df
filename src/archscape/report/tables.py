"""Final-results tables: one row per optimizer (and query count), with renderings.

Statistics are over the *complete* trials that have an incumbent: a trial
that is still running, was killed or failed is counted in ``incomplete`` /
``failed`` and left out, and a complete trial whose every evaluation failed
(no incumbent) is counted in ``no_result`` and left out.  The table says so,
so a number is never silently averaged over fewer trials than it seems.

Columns of :func:`final_table`:

``label, optimizer, queries``
    who, and after how many queries (the budget, or a count asked for).
``trials, complete, incomplete, failed, no_result``
    trials used for the statistics, and how many trials were in each state.
``failed_evaluations``
    evaluations that failed, over all trials of the optimizer.
``report_mean, report_se, report_median, regret_mean, regret_se, regret_median``
    the incumbent's report value and regret (standard error: sample standard
    deviation / sqrt(n); NaN for one trial).
``optimum_hits, optimum_rate``
    trials whose incumbent is the global optimum (same architecture, or a
    report value within 1e-9 of the optimum), and the same as text ``"k/n"``;
    -1 and ``"–"`` where no optimum is known (``optimum_arch=None``: real training).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from archscape.errors import ArchscapeError
from archscape.report.anytime import AnytimeCurves

#: a report value this close to the optimum counts as reaching it
OPTIMUM_TOLERANCE = 1e-9


def final_table(
    curves: AnytimeCurves,
    optimum_arch: str | None,
    at_queries: Iterable[int] | None = None,
    all_trials: pd.DataFrame | None = None,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The final-results table from curves on the query axis.

    ``at_queries`` adds rows at those query counts besides the last one
    (the full budget).  ``all_trials`` (columns ``label``, ``trial_state``)
    lists every trial, including those without any stored evaluation, which an
    evaluation frame cannot show; by default the trials of ``curves`` are counted.
    ``labels`` orders the rows (default: order of first appearance).
    """
    if curves.axis != "queries":
        raise ArchscapeError("a final table reads curves on the 'queries' axis")
    n_points = curves.x.size
    points = sorted({int(q) for q in (at_queries or ())} | ({n_points} if n_points else set()))
    bad = [q for q in points if not 1 <= q <= n_points]
    if bad:
        raise ArchscapeError(f"query count(s) {bad} outside the budget; accepted: 1..{n_points}")
    counted = curves.trials if all_trials is None else all_trials
    optimizers = dict(zip(counted["label"], counted["optimizer"])) if "optimizer" in counted else {}
    optimizers.update(zip(curves.trials["label"], curves.trials["optimizer"]))
    count_label = counted["label"].to_numpy()
    state = counted["trial_state"].to_numpy()
    labels = list(dict.fromkeys([*(labels or ()), *curves.labels, *count_label]))
    arch = curves.incumbent_arch()
    rows = []
    for q in points:
        col = q - 1
        for label in labels:
            mine = count_label == label
            used = curves.rows(label)
            report = curves.incumbent_report[used, col]
            regret = curves.regret[used, col]
            found = np.isfinite(report)
            report, regret = report[found], regret[found]
            hits = (arch[used, col][found] == optimum_arch) | (np.abs(regret) <= OPTIMUM_TOLERANCE)
            n = int(found.sum())
            rows.append(
                {
                    "label": label,
                    "optimizer": optimizers.get(label, ""),
                    "queries": q,
                    "trials": n,
                    "complete": int((mine & (state == "complete")).sum()),
                    "incomplete": int((mine & (state == "running")).sum()),
                    "failed": int((mine & (state == "failed")).sum()),
                    "no_result": int(used.size - n),
                    "failed_evaluations": int(curves.trials.loc[curves.trials["label"] == label, "n_failed"].sum()),
                    "report_mean": _mean(report),
                    "report_se": _se(report),
                    "report_median": float(np.median(report)) if n else np.nan,
                    "regret_mean": _mean(regret),
                    "regret_se": _se(regret),
                    "regret_median": float(np.median(regret)) if n else np.nan,
                    "optimum_hits": int(hits.sum()) if optimum_arch is not None else -1,
                    "optimum_rate": f"{int(hits.sum())}/{n}" if optimum_arch is not None else "–",
                }
            )
    return pd.DataFrame(rows)


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else np.nan


def _se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else np.nan


# ------------------------------------------------------------------ rendering
_HEADERS = (
    "optimizer", "queries", "trials", "report (mean ± se)", "median",
    "regret (mean ± se)", "median regret", "optimum",
)


def _cells(table: pd.DataFrame, digits: int) -> list[list[str]]:
    def num(x: float) -> str:
        return "–" if not np.isfinite(x) else f"{x:.{digits}f}"

    def pm(m: float, s: float) -> str:
        return num(m) if not np.isfinite(s) else f"{num(m)} ± {num(s)}"

    out = []
    for r in table.itertuples(index=False):
        out.append([
            str(r.label), str(r.queries), f"{r.trials}", pm(r.report_mean, r.report_se), num(r.report_median),
            pm(r.regret_mean, r.regret_se), num(r.regret_median), r.optimum_rate,
        ])
    return out


def table_notes(table: pd.DataFrame) -> list[str]:
    """Sentences about trials left out of the statistics (empty when none were)."""
    notes = []
    per_label = table.drop_duplicates("label")
    for r in per_label.itertuples(index=False):
        parts = []
        if r.incomplete:
            parts.append(f"{r.incomplete} incomplete (still running or interrupted)")
        if r.failed:
            parts.append(f"{r.failed} failed")
        if r.no_result:
            parts.append(f"{r.no_result} without any successful evaluation")
        if parts:
            notes.append(f"{r.label}: {', '.join(parts)} trial(s) left out of the statistics.")
        if r.failed_evaluations:
            notes.append(f"{r.label}: {r.failed_evaluations} failed evaluation(s), never counted as incumbents.")
    return notes


def format_table(table: pd.DataFrame, style: str = "text", digits: int = 2) -> str:
    """The table as aligned plain text (for a terminal) or as Markdown, with notes below."""
    if style not in ("text", "markdown"):
        raise ArchscapeError(f"unknown table style {style!r}; accepted: text, markdown")
    cells = _cells(table, digits)
    if style == "markdown":
        lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "|".join(["---"] + ["---:"] * (len(_HEADERS) - 1)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
    else:
        widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(_HEADERS)]

        def line(row: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

        lines = [line(_HEADERS), "  ".join("-" * w for w in widths)] + [line(row) for row in cells]
    notes = table_notes(table)
    if notes:
        lines += [""] + notes
    return "\n".join(lines)


def table_html(table: pd.DataFrame, digits: int = 2) -> str:
    """The table as an HTML ``<table>`` (plus notes as a list)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEADERS)
    body = "".join(
        "<tr>" + "".join(f'<td class="{"num" if i else "name"}">{html.escape(c)}</td>' for i, c in enumerate(row))
        + "</tr>"
        for row in _cells(table, digits)
    )
    out = f'<table class="results"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    notes = table_notes(table)
    if notes:
        out += '<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
    return out


__all__ = ["OPTIMUM_TOLERANCE", "final_table", "format_table", "table_html", "table_notes"]
