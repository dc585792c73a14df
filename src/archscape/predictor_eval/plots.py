"""The output folder of ``archscape predictors eval --out DIR``.

* ``rank_correlation.png``: Kendall's tau and Spearman's rho against the
  training-set size (log x), one line per predictor/encoding: the mean over
  repeats with its 95% t-interval as a band;
* ``top_precision.png``: top-1% and top-10% precision, likewise;
* ``time.png``: fit and predict seconds (log-log);
* ``records.csv`` (one row per fit), ``summary.csv`` (mean and sd per
  predictor, encoding and size), ``summary.json`` (the ``--json`` object) and
  ``index.html``.

Same style, colours, figure writer and page as the other reports
(:mod:`archscape.report`: style, palette and statistics, figures, page).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from archscape.predictor_eval.evaluate import MEASURE_TITLES, PredictorEvaluation
from archscape.report.figures import save_figure
from archscape.report.html import Section, frame_html, write_index
from archscape.report.jsondata import write_json
from archscape.report.plots import Palette, summarise
from archscape.report.style import STYLE
from archscape.util import atomic_path


#: line style and marker per encoding
ENCODING_STYLES = {"onehot": ("-", "o"), "path": ("--", "s"), "opcount": (":", "^"), "graph": ("-.", "D")}


def measure_figure(evaluation: PredictorEvaluation, measures: tuple[str, ...], *, log_y: bool = False,
                   title: str = "") -> Figure:
    """One panel per measure: mean over repeats and 95% band against the training-set size."""
    s = evaluation.settings
    sizes = np.asarray(s["train_sizes"], dtype=np.float64)
    # one colour per predictor, one line style and marker per encoding: comparisons go both ways
    palette = Palette(dict.fromkeys(e.spec for e in evaluation.entries))
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(4.6 * len(measures) + 1.6, 3.9), layout="constrained")
        axes = fig.subplots(1, len(measures), squeeze=False)[0]
        for ax, measure in zip(axes, measures):
            for entry in evaluation.entries:
                values = np.full((s["repeats"], sizes.size), np.nan)
                for r in evaluation.records:
                    if r["label"] == entry.label:
                        values[r["repeat"], s["train_sizes"].index(r["n_train"])] = r[measure]
                centre, lo, hi = summarise(values, "mean")
                colour = palette[entry.spec][0]
                style, marker = ENCODING_STYLES.get(entry.encoding, ("-", "o"))
                ax.plot(sizes, centre, color=colour, linestyle=style, marker=marker, markersize=3.5, linewidth=1.5,
                        label=entry.label)
                ax.fill_between(sizes, lo, hi, color=colour, alpha=0.15, linewidth=0)
            ax.set_xscale("log")
            if log_y:
                ax.set_yscale("log")
            ax.set_xticks(sizes, [str(int(n)) for n in sizes])
            ax.minorticks_off()
            ax.set_xlabel("training-set size")
            ax.set_ylabel(MEASURE_TITLES[measure])
        axes[-1].legend(frameon=False, loc="center left", bbox_to_anchor=(1.02, 0.5))
        fig.suptitle(title or f"{s['benchmark']}: {s['metric']} of {s['test_size']} test architectures, "
                              f"{s['repeats']} repeats (mean, 95% interval)")
    return fig


def summary_frame(evaluation: PredictorEvaluation):
    """One row per predictor, encoding and size: mean and sd of every measure."""
    import pandas as pd

    rows = []
    for item in evaluation.summary():
        row = {k: item[k] for k in ("predictor", "encoding", "n_train", "n_test")}
        for m in MEASURE_TITLES:
            row[f"{m}_mean"] = item[m]["mean"]
            row[f"{m}_sd"] = item[m]["sd"]
        rows.append(row)
    return pd.DataFrame(rows)


def write_predictor_report(out_dir: str | Path, evaluation: PredictorEvaluation) -> list[Path]:
    """Figures, CSVs, ``summary.json`` and ``index.html`` in ``out_dir``; the paths written."""
    import pandas as pd

    out = Path(out_dir)
    s = evaluation.settings
    paths = [
        *save_figure(measure_figure(evaluation, ("kendall_tau", "spearman")), out / "rank_correlation", ("png",),
                     dpi="figure"),
        *save_figure(measure_figure(evaluation, ("top_1pct", "top_10pct")), out / "top_precision", ("png",),
                     dpi="figure"),
        *save_figure(measure_figure(evaluation, ("fit_s", "predict_s"), log_y=True), out / "time", ("png",),
                     dpi="figure"),
    ]
    records = pd.DataFrame(evaluation.records)
    summary = summary_frame(evaluation)
    for name, frame in (("records.csv", records), ("summary.csv", summary)):
        with atomic_path(out / name) as tmp:
            frame.to_csv(tmp, index=False)
        paths.append(out / name)
    paths.append(write_json(out / "summary.json", evaluation.to_json()))
    settings = pd.DataFrame({"setting": list(s), "value": [", ".join(map(str, v)) if isinstance(v, list) else str(v)
                                                          for v in s.values()]}).set_index("setting")
    shown = summary[["predictor", "encoding", "n_train"] + [f"{m}_mean" for m in ("kendall_tau", "spearman", "top_1pct",
                                                                                  "top_10pct", "fit_s", "predict_s")]]
    notes = " ".join(evaluation.notes)
    sections = [
        Section("Settings", None, frame_html(settings), notes),
        Section("Rank correlation with the truth", "rank_correlation.png", None,
                    "Kendall's tau-b and Spearman's rho between predicted mean and the test architectures' mean value; "
                    "lines: mean over repeats, bands: 95% t-interval."),
        Section("Top-k precision", "top_precision.png", None,
                    "Share of the ceil(k% x test size) architectures predicted best that are in the true top k% "
                    "(ties with the boundary count as top); random guessing scores about k%."),
        Section("Time", "time.png", None, "Seconds per fit and per prediction of the whole test set (encoding included)."),
        Section("Means over repeats", None, frame_html(shown.set_index(["predictor", "encoding", "n_train"]), digits=3),
                    "summary.csv has the standard deviations too; records.csv one row per fit."),
    ]
    intro = (f"{s['benchmark']} ({s['space']}), {s['metric']}: training values with noise {s['noise']}, "
             f"truth = mean over seeds; {s['repeats']} repeats of {s['test_size']} test architectures ({s['source']}).")
    paths.append(write_index(out, sections, title=f"Predictors on {s['benchmark']}", intro=intro,
                             downloads=(("one row per fit", "records.csv"), ("mean and sd per setting", "summary.csv"),
                                        ("the --json object", "summary.json"))))
    return paths


__all__ = ["measure_figure", "summary_frame", "write_predictor_report"]
