"""Figures and the ``index.html`` of a landscape analysis.

Three figures compare the noise modes of one benchmark (mean over seeds and
each seed; same colour per mode in every figure):

* ``basin_sizes.png``: the basin-size histogram (logarithmic bins on a log x
  axis, drawn as steps; whole counts on a linear y axis; the basin of the
  global optimum marked by a dotted line);
* ``fitness_distance.png``: value against steps to the global optimum, one
  hexbin panel per noise mode (log counts; distances are whole steps, so each
  point is spread by up to +-0.3 steps along x to show the density, seeded),
  with the mean value per distance;
* ``autocorrelation.png``: rho(k) of the random walks (markers) and of the
  exact stationary chain (dashed), with the correlation length per mode.

Built with the object-oriented matplotlib API in the report style
(:mod:`archscape.report.style`: rc settings and Okabe-Ito colours), no
pyplot; the page is :func:`archscape.report.html.write_index`'s, so other
landscape analyses (noise) add their sections to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import matplotlib.lines
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure

from archscape.landscape.analyze import summary_table
from archscape.report.figures import save_figure
from archscape.report.html import Section, escape, frame_html, write_index
from archscape.report.jsondata import write_json
from archscape.report.style import STYLE, colour
from archscape.util import atomic_path


def _mode_name(label: str) -> str:
    return "mean over seeds" if label == "mean" else label.replace("seed", "seed ")


# ---------------------------------------------------------------- figures
def basin_size_figure(analyses: Mapping[str, object], *, title: str = "") -> Figure:
    """Histogram of basin sizes per noise mode (analyses: label -> LandscapeAnalysis).

    Logarithmic bins of basin size (x, log axis), drawn as steps so that no line
    joins bins that are far apart; the y axis counts local optima (whole numbers,
    linear).  A dotted line marks the basin of the global optimum in each mode.
    """
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7.2, 3.8), layout="constrained")
        ax = fig.subplots()
        largest = max(int(a.exhaustive.basin_sizes.max()) for a in analyses.values())
        edges = np.unique(np.round(np.logspace(0, np.log10(largest + 1), 16)))
        if edges.size < 2:
            edges = np.array([1.0, 2.0])
        for i, (label, a) in enumerate(analyses.items()):
            sizes = a.exhaustive.basin_sizes
            counts, _ = np.histogram(sizes, bins=edges)
            c = colour(i)
            ax.stairs(counts, edges, color=c, linewidth=1.4, baseline=0,
                      label=f"{_mode_name(label)} ({sizes.size} optima)")
            opt = a.summary["basin_of_optimum_size"]
            ax.axvline(max(opt, 1), color=c, linestyle=":", linewidth=1.0)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylim(0, None)
        ax.set_xlabel("basin size (architectures; logarithmic bins)")
        ax.set_ylabel("number of local optima")
        handles, labels = ax.get_legend_handles_labels()
        handles.append(matplotlib.lines.Line2D([], [], color="0.3", linestyle=":", linewidth=1.0))
        labels.append("basin of the global optimum")
        fig.legend(handles, labels, loc="outside right upper", frameon=False)
        ax.set_title(title or "basin sizes of best-improvement local search")
    return fig


def fitness_distance_figure(analyses: Mapping[str, object], *, title: str = "", metric: str = "value", seed: int = 0) -> Figure:
    """Value against steps to the global optimum, one hexbin panel per noise mode."""
    k = len(analyses)
    cols = min(k, 4)
    rows = -(-k // cols)
    rng = np.random.default_rng(seed)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(3.2 * cols + 0.8, 3.0 * rows + 0.4), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
        image = None
        for i, (label, a) in enumerate(analyses.items()):
            ax = axes[i]
            ex = a.exhaustive
            reach = ex.distance >= 0
            d = ex.distance[reach].astype(np.float64)
            v = ex.landscape.values[reach]
            top = int(d.max()) if d.size else 0
            x = d + rng.uniform(-0.3, 0.3, d.size)
            if d.size > 2000:
                image = ax.hexbin(x, v, gridsize=(max(3 * (top + 1), 12), 30), bins="log", mincnt=1,
                                  cmap="viridis", linewidths=0.0, extent=(-0.5, top + 0.5, v.min(), v.max()))
            else:
                ax.scatter(x, v, s=6, alpha=0.5, color=colour(i), linewidths=0)
            steps = np.arange(top + 1)
            means = np.array([v[d == s].mean() if (d == s).any() else np.nan for s in steps])
            ax.plot(steps, means, color="#D55E00", marker="o", markersize=3.5, linewidth=1.4, label="mean per distance")
            fdc = a.summary["fdc"]
            ax.set_title(f"{_mode_name(label)}: FDC = {fdc:.3f}" if np.isfinite(fdc) else _mode_name(label))
            ax.set_xlabel("steps to the global optimum")
            ax.set_xticks(steps)
            ax.grid(True, alpha=0.3)
        for ax in axes[k:]:
            ax.set_visible(False)
        for r in range(rows):
            axes[r * cols].set_ylabel(metric)
        if title:
            fig.suptitle(title)
        # Above the panels, not on them: every corner of a panel holds data somewhere.
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper left", frameon=False)
        if image is not None:
            fig.colorbar(image, ax=list(axes[:k]), label="architectures (log)", shrink=0.9)
    return fig


def autocorrelation_figure(analyses: Mapping[str, object], *, title: str = "") -> Figure:
    """rho(k) from the random walks (markers) and the exact stationary chain (dashed) per noise mode."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(5.6, 3.8), layout="constrained")
        ax = fig.subplots()
        for i, (label, a) in enumerate(analyses.items()):
            w = a.walks
            lags = np.arange(1, w.rho.size + 1)
            c = colour(i)
            ax.plot(lags, w.rho, marker="o", markersize=3.5, linewidth=1.2, color=c,
                    label=f"{_mode_name(label)} (l = {w.correlation_length:.2f})")
            ax.plot(lags, w.rho_exact, linestyle="--", linewidth=0.9, color=c, alpha=0.8)
        ax.axhline(0.0, color="0.4", linewidth=0.8)
        ax.set_xlabel("lag k (random-walk steps)")
        ax.set_ylabel("autocorrelation rho(k)")
        ax.set_xlim(0.5, None)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.legend(frameon=False)
        ax.set_title(title or "random-walk autocorrelation (dashed: exact stationary chain)")
    return fig


# ---------------------------------------------------------------- the whole output folder
#: the figures of the summary table on the page, in order (flattened summary keys)
SUMMARY_ROWS = (
    "n_rows_analysed", "n_excluded", "global_optimum.arch", "global_optimum.value", "n_local_optima",
    "n_strict_local_optima", "n_plateau_local_optima", "basin_of_optimum_fraction", "within_eps.0.1",
    "within_eps.0.5", "within_eps.1", "fdc", "fdc_spearman", "autocorrelation_length",
    "autocorrelation_length_exact", "neutrality.equal", "neutrality.within_tol", "basins.mean_size",
    "basins.max_size", "basins.mean_climb_steps", "distance.max",
)


#: what each row of the page's tables means (landscape.csv and landscape.json keep the keys)
ROW_LABELS = {
    "n_rows_analysed": "architectures analysed",
    "n_excluded": "architectures left out (no value)",
    "global_optimum.arch": "global optimum",
    "global_optimum.value": "global optimum's value",
    "n_local_optima": "local optima",
    "n_strict_local_optima": "strict local optima (every neighbour worse)",
    "n_plateau_local_optima": "plateau optima (equal neighbours counted once)",
    "basin_of_optimum_fraction": "share of architectures in the optimum's basin",
    "fdc": "fitness-distance correlation (Pearson)",
    "fdc_spearman": "fitness-distance correlation (Spearman)",
    "autocorrelation_length": "autocorrelation length (random walks)",
    "autocorrelation_length_exact": "autocorrelation length (exact)",
    "neutrality.equal": "share of neighbour pairs with equal values",
    "neutrality.within_tol": "share of neighbour pairs within the neutrality tolerance",
    "basins.mean_size": "mean basin size",
    "basins.max_size": "largest basin",
    "basins.mean_climb_steps": "mean steps of local search to its optimum",
    "distance.max": "most steps to the global optimum",
    "lon.method": "escape edges counted",
    "lon.distance": "kick distance D (steps)",
    "lon.n_nodes": "nodes (local optima)",
    "lon.n_edges": "escape edges",
    "lon.mean_out_degree": "mean out-degree",
    "lon.escape_probability": "escape probability (mean over optima)",
    "lon.escape_probability_optimum": "escape probability of the global optimum",
    "lon.improving_edge_fraction": "share of improving edges",
    "lon.neutral_edge_fraction": "share of neutral edges",
    "lon.n_sinks": "sinks (no improving out-edge)",
    "lon.global_optimum_is_sink": "global optimum is a sink",
    "lon.single_funnel": "single funnel",
    "lon.global_funnel_fraction": "share of optima in the global funnel",
    "lon.global_funnel_space_fraction": "share of architectures in the global funnel",
}


def row_label(key: str) -> str:
    """The words a page shows for a flattened summary key (``within_eps.0.5``: a sentence of its own)."""
    if key in ROW_LABELS:
        return ROW_LABELS[key]
    if key.startswith("within_eps."):
        return f"share of architectures whose local search ends within {key.split('.', 1)[1]} of the optimum"
    return key.replace("_", " ")


def _readable(table, keys: Sequence[str]):
    """The rows ``keys`` of a summary table, transposed, with readable row names."""
    shown = table[list(keys)].T
    shown.index = [row_label(k) for k in keys]
    shown.index.name = None
    shown.columns = [_mode_name(str(c)) for c in shown.columns]
    shown.columns.name = "noise mode"
    return shown


def _lon_view(table):
    """The local-optima-network rows as shown: how edges were counted in words, not ``n_samples None``."""
    table = table.copy()
    if "lon.method" in table.columns:
        samples = table["lon.n_samples"] if "lon.n_samples" in table.columns else None
        table["lon.method"] = [
            "every row within D steps" if m == "exhaustive" else f"{int(samples.iloc[i])} kicks per optimum"
            for i, m in enumerate(table["lon.method"])
        ]
    keys = [c for c in table.columns if c.startswith("lon.") and c not in ("lon.n_samples", "lon.seed", "lon.definition")]
    return _readable(table, keys)


def _sentence(text: str) -> str:
    """``text`` ending in exactly one full stop."""
    return text.rstrip().rstrip(".") + "."


def write_landscape_report(
    out_dir: str | Path,
    analyses: Mapping[str, object],
    *,
    title: str,
    metric: str = "value",
    extra_sections: Sequence = (),
    extra_json: Mapping | None = None,
) -> list[Path]:
    """Figures, ``landscape.csv`` (one row per noise mode), ``landscape.json`` and ``index.html``.

    ``extra_sections`` (:class:`~archscape.report.html.Section` or tuples) are appended to the page and
    ``extra_json`` merged into the JSON file, for analyses added by other modules.
    """
    out = Path(out_dir)
    summaries = {k: a.summary for k, a in analyses.items()}
    table = summary_table(summaries)
    paths = [
        *save_figure(basin_size_figure(analyses), out / "basin_sizes", ("png",), dpi="figure"),
        *save_figure(fitness_distance_figure(analyses, metric=metric), out / "fitness_distance", ("png",), dpi="figure"),
        *save_figure(autocorrelation_figure(analyses), out / "autocorrelation", ("png",), dpi="figure"),
    ]
    csv = out / "landscape.csv"
    with atomic_path(csv) as tmp:
        table.to_csv(tmp)
    paths.append(csv)
    paths.append(write_json(out / "landscape.json", {**summaries, **dict(extra_json or {})}))

    # the optimum's text form is long: listed under the table rather than stretching a column
    rows = [r for r in SUMMARY_ROWS if r in table.columns and r != "global_optimum.arch"]
    optima = "".join(f"<li>{escape(_mode_name(str(mode)))}: <code>{escape(str(arch))}</code></li>"
                     for mode, arch in table.get("global_optimum.arch", {}).items())
    first = next(iter(summaries.values()))
    sections = [
        Section("Figures by noise mode", None,
                frame_html(_readable(table, rows)) + (f"<p>Global optimum per noise mode:</p><ul>{optima}</ul>" if optima else ""),
                    "Tie rule: " + _sentence(first["tie_rule"]) + " FDC sign: " + _sentence(first["fdc_sign"])),
        Section("Basins of attraction", "basin_sizes.png", None,
                    "Number of local optima per basin size (logarithmic bins); dotted: the basin of the global "
                    "optimum."),
        Section("Fitness-distance", "fitness_distance.png", None,
                    "Value against neighbourhood steps to the global optimum; x spread by up to 0.3 steps."),
        Section("Random-walk autocorrelation", "autocorrelation.png", None,
                    f"{first['walks']['n_walks']} walks of {first['walks']['length']} steps from the stationary "
                    f"distribution, seed {first['walks']['seed']}; dashed: exact rho(k) of the stationary chain."),
        Section("Local-optima network", None, frame_html(_lon_view(table)), _sentence(first["lon"]["definition"])),
        *extra_sections,
    ]
    paths.append(write_index(out, sections, title=title,
                             intro="Exhaustive landscape analysis, one column per noise mode.",
                             downloads=(("figures per noise mode", "landscape.csv"), ("full results", "landscape.json"))))
    return paths


__all__ = [
    "ROW_LABELS",
    "SUMMARY_ROWS",
    "autocorrelation_figure",
    "basin_size_figure",
    "fitness_distance_figure",
    "row_label",
    "write_landscape_report",
]
