"""Figures and the output folder of ``archscape opdist analyze --out DIR``.

* ``group_means.png``: every op distribution (group of architectures with
  the same op counts), sorted by its mean: the mean (dot), the inter-quartile
  range (thick bar) and min..max (thin bar); the global optimum's group and
  the optimum itself are marked;
* ``swap_vs_change.png``: |metric change| of swap pairs (same counts) and of
  one-op-change pairs (different counts): density histograms (log y) with the
  medians, and the two empirical CDFs;
* ``summary.json`` (the JSON of ``--json``), ``distributions.csv`` (one row
  per group) and ``index.html``.

Same style, figure writer and page as every report (:mod:`archscape.report`:
rc settings, colours, atomic PNG writes and the page template).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.lines
import numpy as np
from matplotlib.figure import Figure

from archscape.opdist.analysis import OpDistAnalysis
from archscape.report.figures import save_figure
from archscape.report.html import Section, escape, frame_html, write_index
from archscape.report.jsondata import write_json
from archscape.report.style import COLOURS, STYLE
from archscape.util import atomic_path

SWAP_COLOUR, CHANGE_COLOUR, OPTIMUM_COLOUR = COLOURS[0], COLOURS[1], COLOURS[2]


def group_means_figure(analysis: OpDistAnalysis, *, title: str = "") -> Figure:
    """Groups sorted by mean (best first) with their IQR and range; the optimum's group marked."""
    s = analysis.summary
    order = np.argsort(-analysis.group_mean, kind="stable")
    x = np.arange(1, order.size + 1)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(8.0, 4.0), layout="constrained")
        ax = fig.subplots()
        thin = 0.6 if order.size > 100 else 1.0
        ax.vlines(x, analysis.group_min[order], analysis.group_max[order], color="0.75", linewidth=thin)
        ax.vlines(x, analysis.group_q25[order], analysis.group_q75[order], color=SWAP_COLOUR, linewidth=3 * thin)
        ax.plot(x, analysis.group_mean[order], "o", color="black", markersize=2.5 if order.size > 100 else 4)
        rank = int(np.flatnonzero(order == analysis.optimum_group)[0]) + 1
        opt = s["global_optimum"]
        ax.axvline(rank, color=OPTIMUM_COLOUR, linestyle=":", linewidth=1.2)
        ax.plot([rank], [opt["value"]], marker="*", markersize=12, color=OPTIMUM_COLOUR, linestyle="none")
        ax.set_xlabel("operation distribution, by mean (1 = best)")
        ax.set_ylabel(s["metric"])
        ax.set_xlim(0, order.size + 1)
        handles = [
            matplotlib.lines.Line2D([], [], color="black", marker="o", linestyle="none", markersize=4),
            matplotlib.lines.Line2D([], [], color=SWAP_COLOUR, linewidth=3),
            matplotlib.lines.Line2D([], [], color="0.75", linewidth=1),
            matplotlib.lines.Line2D([], [], color=OPTIMUM_COLOUR, marker="*", markersize=10, linestyle=":"),
        ]
        labels = ["group mean", "inter-quartile range", "min..max",
                  f"global optimum (its distribution ranks {s['optimum_distribution_rank']})"]
        ax.legend(handles, labels, frameon=False, loc="lower left")
        eta = s["eta_squared"]
        explained = f", eta\u00b2 = {eta:.3f}" if eta is not None else ""
        ax.set_title(title or f"{s['benchmark']}: {s['metric']} by operation distribution "
                              f"({s['n_distributions']} groups{explained})")
    return fig


def _p(p: float) -> str:
    # a p-value below the smallest double is stored as 0
    return "< 1e-300" if p == 0 else f"= {p:.2g}"


def swap_change_figure(analysis: OpDistAnalysis, *, title: str = "") -> Figure:
    """Histograms (density, log y) and empirical CDFs of |change| for swaps and one-op changes."""
    s = analysis.summary
    samples = (("swap (same counts)", analysis.swap_diffs, SWAP_COLOUR),
               ("one-op change", analysis.change_diffs, CHANGE_COLOUR))
    both = np.concatenate([analysis.swap_diffs, analysis.change_diffs])
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(9.0, 3.6), layout="constrained")
        hist, cdf = fig.subplots(1, 2)
        unit = f"|{s['metric']} difference|"
        if both.size == 0:
            for ax in (hist, cdf):
                ax.text(0.5, 0.5, "no pairs", ha="center", va="center", transform=ax.transAxes)
        else:
            edges = np.histogram_bin_edges(both, bins=60)
            # the CDF panel shows the bulk: up to the 95th percentile of both samples (broken cells make a long tail)
            right = float(np.quantile(both, 0.95)) or float(both.max()) or 1.0
            for label, d, colour in samples:
                if d.size == 0:
                    continue
                med = float(np.median(d))
                hist.hist(d, bins=edges, density=True, histtype="step", color=colour, linewidth=1.4,
                          label=f"{label}: median {med:.3g}, n = {d.size:,}")
                hist.axvline(med, color=colour, linestyle="--", linewidth=1.0)
                xs = np.sort(d)
                cdf.step(xs, np.arange(1, xs.size + 1) / xs.size, where="post", color=colour, linewidth=1.4, label=label)
                cdf.axvline(med, color=colour, linestyle="--", linewidth=1.0)
            hist.set_yscale("log")
            hist.set_xlabel(unit)
            hist.set_ylabel("density (log)")
            hist.legend(frameon=False, loc="upper right")
            cdf.set_xlim(0, right)
            cdf.set_ylim(0, 1.01)
            cdf.set_xlabel(f"{unit} (up to the 95th percentile)")
            cdf.set_ylabel("fraction of pairs")
            cdf.legend(frameon=False, loc="lower right")
        mw = s["swap_vs_change"]["mann_whitney"]
        ks = s["swap_vs_change"]["ks"]
        tests = ""
        if mw["p_value"] is not None:
            tests = f": Mann-Whitney p {_p(mw['p_value'])}, KS D = {ks['statistic']:.3f} (p {_p(ks['p_value'])})"
        fig.suptitle(title or f"{s['benchmark']}: swapping two ops vs changing one{tests}")
    return fig


def distributions_frame(analysis: OpDistAnalysis):
    """One row per group, best mean first."""
    import pandas as pd

    order = np.argsort(-analysis.group_mean, kind="stable")
    return pd.DataFrame({
        "rank": np.arange(1, order.size + 1),
        "distribution": [analysis.group_text[k] for k in order],
        "size": analysis.group_size[order],
        "mean": analysis.group_mean[order],
        "sd": analysis.group_sd[order],
        "min": analysis.group_min[order],
        "q25": analysis.group_q25[order],
        "q75": analysis.group_q75[order],
        "max": analysis.group_max[order],
    })


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _figures_html(summary: dict) -> str:
    sv, best, opt = summary["swap_vs_change"], summary["best_distribution"], summary["global_optimum"]
    mw, ks = sv["mann_whitney"], sv["ks"]
    rows = [
        ("benchmark", summary["benchmark"]), ("metric", summary["metric"]), ("noise", summary["noise"]),
        ("mode", summary["mode"]), ("architectures", summary["n_architectures"]),
        ("excluded (no value)", summary["n_excluded"]), ("distributions (groups)", summary["n_distributions"]),
        ("groups of one architecture", summary["n_singleton_groups"]), ("eta\u00b2", summary["eta_squared"]),
        ("eta\u00b2 of pure noise (chance)", summary["eta_squared_chance"]),
        ("epsilon\u00b2", summary["epsilon_squared"]),
        ("Spearman(value, group mean)", summary["spearman_group_mean"]),
        ("within-group sd (pooled)", summary["within_group_sd"]), ("total sd", summary["total_sd"]),
        ("best distribution", best["text"]),
        ("its mean / max / size", f"{_fmt(best['mean'])} / {_fmt(best['max'])} / {_fmt(best['size'])}"),
        ("global optimum", f"{opt['arch']} ({_fmt(opt['value'])})"),
        ("rank of its distribution", summary["optimum_distribution_rank"]),
        ("median |swap| / |change|", f"{_fmt(sv['swap']['median'])} / {_fmt(sv['change']['median'])}"),
        ("mean |swap| / |change|", f"{_fmt(sv['swap']['mean'])} / {_fmt(sv['change']['mean'])}"),
        ("pairs swap / change", f"{_fmt(sv['swap']['n_pairs'])} / {_fmt(sv['change']['n_pairs'])}"),
        ("Mann-Whitney p; P(|swap| > |change|)", f"{_fmt(mw['p_value'])}; {_fmt(mw['prob_swap_greater'])}"),
        ("KS D; p", f"{_fmt(ks['statistic'])}; {_fmt(ks['p_value'])}"),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td style='text-align:left'>{escape(_fmt(v))}</td></tr>"
                   for k, v in rows)
    return f"<table>{body}</table>"


def write_opdist_report(out_dir: str | Path, analysis: OpDistAnalysis) -> list[Path]:
    """Figures, ``summary.json``, ``distributions.csv`` and ``index.html`` in ``out_dir``; the paths written."""
    out = Path(out_dir)
    s = analysis.summary
    paths = [*save_figure(group_means_figure(analysis), out / "group_means", ("png",), dpi="figure"),
             *save_figure(swap_change_figure(analysis), out / "swap_vs_change", ("png",), dpi="figure"),
             write_json(out / "summary.json", s)]
    frame = distributions_frame(analysis)
    csv = out / "distributions.csv"
    with atomic_path(csv) as tmp:
        frame.to_csv(tmp, index=False)
    paths.append(csv)
    sections = [
        Section("Figures", None, _figures_html(s),
                    "eta\u00b2 = between-group / total sum of squares, architectures grouped by op-count vector; "
                    "within-group sd pooled over groups. " + s["swap_vs_change"]["definition"] + "."),
        Section("Operation distributions by mean", "group_means.png", None,
                    "Dots: group means; thick bars: inter-quartile range; thin bars: min..max; star: the global "
                    "optimum, dotted line: its distribution."),
        Section("Swapping two ops vs changing one", "swap_vs_change.png", None,
                    "|metric difference| between architectures one swap apart (same op counts) and one op change "
                    f"apart (different counts); pairs: {s['pairs']}. Dashed: medians."),
        Section(f"Best distributions (of {len(frame)})", None, frame_html(frame.head(20).set_index("rank"))),
    ]
    intro = (f"{s['benchmark']}, {s['metric']}, noise {s['noise']}, {s['mode']}: "
             f"does the operation distribution explain the metric? (Wan et al., WACV 2022)")
    paths.append(write_index(out, sections, title=f"Operation distributions of {s['benchmark']} ({s['metric']})",
                             intro=intro, downloads=(("all figures", "summary.json"),
                                                     ("one row per distribution", "distributions.csv"))))
    return paths


__all__ = ["distributions_frame", "group_means_figure", "swap_change_figure", "write_opdist_report"]
