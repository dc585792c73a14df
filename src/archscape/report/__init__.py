"""Reports: anytime curves, final tables, plots and an HTML page, read from stores.

Reports read stores only; they never reach into an optimizer or the runner.

:func:`write_report` writes into ``out_dir``::

    index.html              settings, final tables and figures of every comparison
    results.csv             final-results table(s) (see archscape.report.tables)
    studies.csv             one row per study: store, settings, optimum, version
    evaluations.csv/.parquet  every evaluation, with ``comparison`` and ``study`` columns
    anytime.csv/.parquet    incumbent curves per trial on the query and time axes
    plots/<comparison>-{regret,report}-{queries,sim_time}.{png,pdf}
    pareto.csv, plots/<comparison>-pareto.{png,pdf}
                            trained studies: objective against parameters, each optimizer's Pareto front

Several stores combine as described in :mod:`archscape.report.collect`:
studies on the same problem (benchmark, noise, budget, fidelity, metrics)
share plots and a table; others get their own section.  ``label`` in every
output is the label shown on the plots (``label [study]`` when one label
occurs in several stores of a comparison).

The folder is built in a temporary sibling and then moved into place
(``index.html`` last), so an interrupted report never leaves a half-written
page; files of an earlier report in ``out_dir`` that this one does not
produce are left as they were.  The temporary folder is named
``.<out>.<pid>.<random>.part``; one that a killed report left behind is
removed by the next report into the same parent folder
(:func:`remove_stale_parts`).  A write the disk refuses (full, read-only)
is one :class:`ArchscapeError` line.  Stores are opened read-only.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from archscape.errors import ArchscapeError
from archscape.registry import load_target
from archscape.util import process_running

if TYPE_CHECKING:  # pandas and the store readers load on first use: `report.jsondata` alone needs neither
    import pandas as pd

    from archscape.report.anytime import AnytimeCurves
    from archscape.report.collect import Comparison, StudyData

#: names this package re-exports from its modules, imported when first asked for
_REEXPORTS = {
    "AnytimeCurves": "anytime", "by_queries": "anytime", "by_time": "anytime", "time_grid": "anytime",
    "final_table": "tables", "format_table": "tables", "table_html": "tables", "table_notes": "tables",
}


def __getattr__(name: str):
    if name not in _REEXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = load_target(f"{__name__}.{_REEXPORTS[name]}:{name}")  # the registry's lazy "module:attr" loader
    globals()[name] = value
    return value


#: figure formats write_report accepts; the page shows PNG (or SVG without PNG) and links the others
FIGURE_FORMATS = ("png", "pdf", "svg")

_NOISE = {"seed": "one recorded training seed drawn per query", "mean": "denoised (mean over recorded seeds)"}


def write_report(
    stores: Sequence[str | os.PathLike] | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    at_queries: Iterable[int] | None = None,
    formats: Sequence[str] = ("png", "pdf"),
) -> Path:
    """Write the report of one or more stores into ``out_dir``; returns the path of ``index.html``.

    ``at_queries`` adds final-table rows at those query counts besides the
    full budget.  A path that is not a store raises :class:`ArchscapeError`.
    """
    if isinstance(stores, (str, os.PathLike)):
        stores = [stores]
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad or not formats:
        raise ArchscapeError(f"unknown figure format(s) {bad or list(formats)}; accepted: {', '.join(FIGURE_FORMATS)}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ArchscapeError(f"report folder {out_dir} exists and is not a folder")
    at_queries = sorted({int(q) for q in at_queries or ()})
    from archscape.report.collect import group_studies, load_studies

    comparisons = group_studies(load_studies(stores))
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(out_dir.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.{os.getpid()}.", suffix=".part", dir=out_dir.parent))
    except OSError as exc:
        raise ArchscapeError(f"cannot write a report next to {out_dir}: {exc.strerror}") from None
    try:
        try:
            _build(tmp, comparisons, at_queries, tuple(formats))
        except OSError as exc:  # a full disk, a quota, a folder turned read-only: one line, the old report as it was
            raise ArchscapeError(f"cannot write the report {out_dir}: {_why(exc)}; {out_dir} was not changed") from None
        try:
            _publish(tmp, out_dir)
        except OSError as exc:
            raise ArchscapeError(f"cannot move the report into {out_dir}: {_why(exc)}; its index.html is the earlier "
                                 "one, or none") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / "index.html"


#: a report's temporary folder: ``.<out>.<pid>.<random>.part`` beside the output
_PART = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+\.part$")


def remove_stale_parts(parent: str | os.PathLike) -> list[Path]:
    """Remove the temporary folders that interrupted reports left in ``parent``; returns them.

    A folder is stale when the process named in it (``.<out>.<pid>.<random>.part``)
    is not running, or started after the folder was last changed (its pid was
    reused).  Folders of running reports are left alone.
    """
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        match = _PART.match(entry.name)
        if not match or not entry.is_dir(follow_symlinks=False):
            continue
        pid = int(match.group(1))
        try:
            changed = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if not process_running(pid, since=changed):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def _why(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({exc.strerror or exc})"
    return exc.strerror or str(exc)


def final_table_text(
    stores: Sequence[str | os.PathLike] | str | os.PathLike,
    *,
    style: str = "text",
    at_queries: Iterable[int] | None = None,
) -> str:
    """The final-results table of every comparison as aligned text or Markdown (for the CLI)."""
    from archscape.report.collect import group_studies, load_studies
    from archscape.report.tables import final_table, format_table

    if isinstance(stores, (str, os.PathLike)):
        stores = [stores]
    blocks = []
    for comp in group_studies(load_studies(stores)):
        table = final_table(comp.by_queries, comp.optimum_arch, at_queries, comp.trials, comp.labels)
        head = _title(comp)
        heading = f"## {head}" if style == "markdown" else f"{head}\n{'=' * len(head)}"
        blocks.append(f"{heading}\n\n{format_table(table, style)}")
    return "\n\n".join(blocks)


# ------------------------------------------------------------------ building
def _build(root: Path, comparisons: list[Comparison], at_queries: list[int], formats: tuple[str, ...]) -> None:
    from archscape import __version__
    from archscape.report import plots
    from archscape.report.figures import save_figure
    from archscape.report.html import REPORT_STYLE, FigureLink, comparison_section, render_page
    from archscape.report.tables import final_table, table_html
    import pandas as pd

    (root / "plots").mkdir()
    palette = plots.Palette(label for comp in comparisons for label in comp.labels)
    results, evaluations, anytime, studies, sections, fronts = [], [], [], [], [], []
    for comp in comparisons:
        table = final_table(comp.by_queries, comp.optimum_arch, at_queries, comp.trials, comp.labels)
        results.append(_with_comparison(table, comp))
        evaluations.append(_with_comparison(comp.frame, comp))
        studies += [_study_row(s, comp) for s in comp.studies]
        figures = []
        for curves in (comp.by_queries, comp.by_time):
            anytime.append(_with_comparison(curves.to_frame(archs=False), comp))
            if curves.x.size == 0:
                continue
            for value in ("regret", "report"):
                metric = comp.settings["report_metric"]
                fig = plots.anytime_figure(curves, value=value, title=_title(comp), metric=metric, unit=_unit(metric),
                                           palette=palette, labels=comp.labels, optimum_known=_optimum_known(comp))
                stem = f"{comp.slug}-{value}-{curves.axis}"
                paths = save_figure(fig, root / "plots" / stem, formats)
                rel = {p.suffix[1:]: f"plots/{p.name}" for p in paths}
                shown = rel.get("png") or rel.get("svg")
                if shown:
                    figures.append(FigureLink(_figure_title(value, curves), shown, _caption(value, curves, comp),
                                              rel.get("pdf")))
        if not _optimum_known(comp):  # trained networks: accuracy against size, and each optimizer's front
            figures += _pareto(root, comp, palette, formats, fronts)
        notes = [] if comp.by_time.x.size else ["No query took simulated time on this benchmark: no time axis."]
        sections.append(comparison_section(_title(comp), comp.slug, settings=_settings(comp),
                                           studies=[_study_cells(s) for s in comp.studies],
                                           optimizers=_optimizer_rows(comp), table=table_html(table), figures=figures,
                                           notes=notes))

    results_frame = pd.concat(results, ignore_index=True)
    results_frame.to_csv(root / "results.csv", index=False)
    pd.DataFrame(studies).to_csv(root / "studies.csv", index=False)
    _export(pd.concat(evaluations, ignore_index=True), root / "evaluations")
    _export(pd.concat(anytime, ignore_index=True), root / "anytime")
    if fronts:
        pd.concat(fronts, ignore_index=True).to_csv(root / "pareto.csv", index=False)
    downloads = [
        ("final-results table", "results.csv"),
        ("one row per study: store, settings, optimum", "studies.csv"),
        ("every evaluation (CSV)", "evaluations.csv"),
        ("every evaluation (Parquet)", "evaluations.parquet"),
        ("incumbent per trial after each query and on the time grid (CSV; incumbent_k joins evaluations' k)",
         "anytime.csv"),
        ("the same (Parquet)", "anytime.parquet"),
    ] + ([("Pareto front of each optimizer: objective against parameters (trained studies)", "pareto.csv")] if fronts else [])
    generated = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    page = render_page(
        sections,
        title="archscape report: " + ", ".join(dict.fromkeys(c.settings["benchmark"] for c in comparisons)),
        meta=f"Generated by archscape {__version__} on {generated}.",
        downloads=downloads,
        downloads_title="Data",
        style=REPORT_STYLE,
        intro=(
            "The incumbent of a trial is its best evaluation so far by the objective the optimizer saw "
            "(noisy where noise is on); plots and tables show that incumbent's report value (denoised) "
            "and its regret, the global optimum's report value minus the incumbent's. Statistics are over "
            "complete trials only."
        ),
    )
    (root / "index.html").write_text(page, encoding="utf-8")


def _pareto(root: Path, comp: Comparison, palette, formats: tuple[str, ...], fronts: list[pd.DataFrame]) -> list:
    """The accuracy-against-size figure of a trained comparison (nothing when no evaluation has a size)."""
    from archscape.report.figures import save_figure
    from archscape.report.html import FigureLink
    from archscape.report.pareto import pareto_figure, pareto_front

    front = pareto_front(comp.frame)
    if front.empty:
        return []
    fronts.append(_with_comparison(front, comp))
    objective = comp.settings["objective"]
    fig = pareto_figure(comp.frame, front, title=_title(comp), objective=objective, palette=palette, labels=comp.labels)
    paths = save_figure(fig, root / "plots" / f"{comp.slug}-pareto", formats)
    rel = {p.suffix[1:]: f"plots/{p.name}" for p in paths}
    caption = (f"Every successful evaluation ({objective}, what the optimizers saw, against the network's parameters), "
               "and per optimizer the Pareto front over all its trials: the evaluations that no other is at least as "
               "accurate and at most as large as, with one of the two strictly (listed in pareto.csv).")
    shown = rel.get("png") or rel.get("svg")
    return [FigureLink("Accuracy against size: Pareto fronts", shown, caption, rel.get("pdf"))] if shown else []


def _export(frame: pd.DataFrame, stem: Path) -> None:
    """CSV and Parquet of one frame (through Arrow: several times faster than pandas' CSV writer)."""
    import pyarrow as pa
    import pyarrow.csv
    import pyarrow.parquet

    table = pa.Table.from_pandas(frame, preserve_index=False)
    pyarrow.csv.write_csv(table, stem.with_suffix(".csv"))
    pyarrow.parquet.write_table(table, stem.with_suffix(".parquet"))


def _with_comparison(frame: pd.DataFrame, comp: Comparison) -> pd.DataFrame:
    frame = frame.copy()
    frame.insert(0, "comparison", comp.slug)
    return frame


def _publish(tmp: Path, out_dir: Path) -> None:
    """Move the finished report into place, ``index.html`` last."""
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; a report folder is not
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    files = sorted(p for p in tmp.rglob("*") if p.is_file() and p.name != "index.html")
    for src in [*files, tmp / "index.html"]:
        dst = out_dir / src.relative_to(tmp)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)


# ------------------------------------------------------------------ words
def _trials_text(comp: Comparison) -> str:
    counts = sorted({int(s.record.config.get("trials", 0)) for s in comp.studies})
    return "/".join(map(str, counts))


def _title(comp: Comparison) -> str:
    st = comp.settings
    return f"{st['benchmark']}, noise={st['noise']}, {st['budget']} queries, {_trials_text(comp)} trials per optimizer"


def _unit(metric: str | None) -> str:
    from archscape.benchmarks.base import METRIC_UNITS

    return METRIC_UNITS.get(metric or "", "")


def _figure_title(value: str, curves: AnytimeCurves) -> str:
    what = "Regret" if value == "regret" else "Incumbent report value"
    return f"{what} against {'queries' if curves.axis == 'queries' else 'simulated training time'}"


def _optimum_known(comp: Comparison) -> bool:
    """Whether the study knows its global optimum (a table does; real training does not)."""
    return comp.optimum_arch is not None


def _why_unknown(comp: Comparison) -> str:
    """Why a study has no known optimum: its networks are trained, or its space cannot be enumerated."""
    return ("networks are trained, not looked up" if str(comp.settings["benchmark"]).startswith("train:")
            else "the space is too large to enumerate")


def _caption(value: str, curves: AnytimeCurves, comp: Comparison) -> str:
    from archscape.report import plots

    metric = comp.settings["report_metric"]
    best = ("global optimum's" if _optimum_known(comp)
            else f"{comp.optimum_report:g} (no optimum is known: {_why_unknown(comp)}), i.e.")
    zoomed = ""
    if value == "regret":
        what = (f"regret ({best} {metric} minus the incumbent's; where regrets span decades the axis is "
                "logarithmic above a small threshold and linear below it, so zero regret stays visible)")
    elif _optimum_known(comp):
        what = (f"the incumbent's {metric}, with the global optimum dotted; the y axis is zoomed on where the "
                "incumbents converge, and the panel says up to which point the curves rise from below it")
        zoomed = ", and not where their curve is below the zoomed axis"
    else:
        what = f"the incumbent's {metric}"
    axis = ("after each query" if curves.axis == "queries" else
            "at each simulated time, a step function: the incumbent after the last query finished by then "
            "(curves start once every trial has finished its first query)")
    return (f"Shows {what}, {axis}. Left: mean over complete trials with a 95% confidence band "
            f"(Student t-interval, clipped to the range of the trials' values); right: median with inter-quartile "
            f"band. Bands are drawn where at least {plots.MIN_BAND_TRIALS} trials have a value"
            f"{zoomed}. n = complete trials per optimizer.")


def _settings(comp: Comparison) -> list[tuple[str, str]]:
    st, info = comp.settings, comp.studies[0].record.info
    noise = st["noise"]
    return [
        ("benchmark", st["benchmark"]),
        ("search space", str(info.get("space")) + (f" ({size:,} architectures)" if (size := info.get("space_size")) else "")),
        ("noise", f"{noise}: {_NOISE.get(noise, f'training seed {noise} for every query')}"),
        ("budget", f"{st['budget']} queries per trial"),
        ("fidelity", f"{st['fidelity']} epochs" if st["fidelity"] is not None else "default"),
        ("objective (what optimizers maximise)", str(st["objective"])),
        ("report metric (what is shown)", f"{st['report_metric']} (denoised)"),
        ("global optimum", f"{comp.optimum_report:.4f} {_unit(st['report_metric'])} at {comp.optimum_arch}" if _optimum_known(comp)
         else f"unknown ({_why_unknown(comp)}): regret is measured from {comp.optimum_report:g} "
              f"{_unit(st['report_metric'])}, the incumbent's error"),
    ]


def _study_cells(s: StudyData) -> dict[str, str]:
    cfg = s.record.config
    return {
        "study": s.key,
        "store": str(s.store),
        "trials": f"{int((s.trials['trial_state'] == 'complete').sum())} of {len(s.trials)} complete",
        "seed": str(cfg.get("seed")),
        "created": _dt.datetime.fromtimestamp(s.record.created).astimezone().strftime("%Y-%m-%d %H:%M"),
        "archscape": s.record.version,
    }


def _study_row(s: StudyData, comp: Comparison) -> dict:
    cfg, info = s.record.config, s.record.info
    return {
        "comparison": comp.slug,
        "study": s.key,
        "store": str(s.store),
        "benchmark": s.record.benchmark,
        **{key: cfg.get(key) for key in ("noise", "budget", "trials", "seed")},
        **{key: info.get(key) for key in ("fidelity", "objective", "report_metric", "optimum_arch", "optimum_report")},
        "optimizers": json.dumps(cfg.get("optimizers"), sort_keys=True),
        "archscape": s.record.version,
    }


def _optimizer_rows(comp: Comparison) -> list[dict[str, str]]:
    rows = []
    by_study = {s.key: s for s in comp.studies}
    for shown, (study, label) in comp.label_map.items():
        specs = [o for o in by_study[study].record.config.get("optimizers", []) if o.get("label") == label]
        spec = specs[0] if specs else {}
        rows.append({
            "label": shown, "study": study, "optimizer": str(spec.get("name", "")),
            "parameters": json.dumps(spec.get("params", {}), sort_keys=True) if spec.get("params") else "defaults",
        })
    return rows


__all__ = [
    "AnytimeCurves", "by_queries", "by_time", "final_table", "final_table_text", "format_table", "table_html",
    "remove_stale_parts", "table_notes", "time_grid", "write_report",
]
