"""Figures of the noise analysis and of the local-search theory.

The style is the report's (:mod:`archscape.report.style`): object-oriented
matplotlib figures (no pyplot, headless), Okabe-Ito colours, PNG and PDF with
TrueType fonts.

* :func:`noise_figure`: seed-to-seed standard deviation against the gap
  between neighbours (hexbin, log-log, with the line gap = sd), and the
  probability that one seed of each flips a neighbour comparison as a
  function of the gap;
* :func:`seed_figure`: one seed against another, all architectures and the
  top 5% by mean, Kendall's tau and Spearman's rho in the titles;
* :func:`theory_figure`: the predicted probability of being a local minimum
  against the loss beside the exhaustive share of local minima, and the share
  of starting points whose local search ends within epsilon of the optimum:
  predicted (both recursions, and for a random landscape), exhaustive and
  simulated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archscape.benchmarks.table import TableBenchmark
from archscape.landscape.noise import NoiseAnalysis, NoiseUnavailable, noise_analysis
from archscape.report.style import COLOURS, STYLE

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn: `landscape BENCH --json` draws none
    from matplotlib.figure import Figure

    from archscape.landscape.theory import TheoryAnalysis

#: the epsilons (accuracy points) of the curves in :func:`theory_figure`
EPSILON_CURVE = np.geomspace(0.01, 20.0, 120)


# ---------------------------------------------------------------------- noise
def noise_figure(analysis: NoiseAnalysis) -> Figure:
    """Seed sd against neighbour gap (hexbin) | flip probability against gap."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(9.0, 3.8), layout="constrained")
        left, right = fig.subplots(1, 2)
        keep = np.isfinite(analysis.pair_sd) & (analysis.gap > 0) & (analysis.pair_sd > 0)
        gap, sd = analysis.gap[keep], analysis.pair_sd[keep]
        if gap.size:
            hb = left.hexbin(gap, sd, xscale="log", yscale="log", bins="log", gridsize=60, cmap="viridis", mincnt=1)
            fig.colorbar(hb, ax=left, label="neighbour pairs")
            lo, hi = min(gap.min(), sd.min()), max(gap.max(), sd.max())
            left.plot([lo, hi], [lo, hi], color=COLOURS[1], lw=1.2, ls="--", label="gap = noise sd")
            left.legend(loc="upper left", frameon=False)
        share = np.mean(analysis.gap[np.isfinite(analysis.pair_sd)] < analysis.pair_sd[np.isfinite(analysis.pair_sd)])
        left.set_xlabel(f"gap between neighbours, |mean(u) - mean(v)| ({analysis.metric})")
        left.set_ylabel("seed-to-seed sd of the pair (RMS)")
        hidden = int(np.isfinite(analysis.pair_sd).sum() - keep.sum())
        left.set_title(f"{share:.0%} of neighbour pairs differ by less than the noise")
        if hidden:
            left.text(0.99, 0.01, f"{hidden:,} pairs with gap or sd 0 not shown", transform=left.transAxes,
                      ha="right", va="bottom", fontsize=8, color="0.3")

        ordered = np.isfinite(analysis.flip) & (analysis.gap > 0)
        g, f = analysis.gap[ordered], analysis.flip[ordered]
        if g.size:
            edges = np.geomspace(max(g.min(), 1e-3), g.max() * 1.0001, 40)
            which = np.digitize(g, edges)
            centres, means, counts = [], [], []
            for k in range(1, len(edges)):
                sel = which == k
                if sel.sum() >= 20:
                    centres.append(np.sqrt(edges[k - 1] * edges[k]))
                    means.append(f[sel].mean())
                    counts.append(sel.sum())
            right.plot(centres, means, marker="o", ms=3, color=COLOURS[0])
            right.set_xscale("log")
        right.set_ylim(0, 0.55)
        right.axhline(0.5, color="0.5", lw=0.8, ls=":")
        right.set_xlabel(f"gap between neighbours ({analysis.metric})")
        right.set_ylabel("P(one seed of each flips the order)")
        flips = analysis.flip[np.isfinite(analysis.flip)]
        right.set_title(f"flip probability (mean over pairs {flips.mean():.3f})")
        fig.suptitle(f"{analysis.benchmark}: noise against the neighbourhood")
    return fig


def seed_figure(analysis: NoiseAnalysis, seeds: tuple[int, int] = (0, 1)) -> Figure:
    """One seed against another: all architectures | the top 5% by mean."""
    import matplotlib
    from matplotlib.figure import Figure

    a, b = seeds
    frame = analysis.correlations
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(9.0, 4.0), layout="constrained")
        axes = fig.subplots(1, 2)
        both = np.isfinite(analysis.seeds[:, a]) & np.isfinite(analysis.seeds[:, b])
        cut = np.sort(analysis.mean[np.isfinite(analysis.mean)])[::-1]
        cut = cut[max(0, int(np.ceil(0.05 * cut.size)) - 1)]
        for ax, subset, sel in ((axes[0], "all", both), (axes[1], "top5%", both & (analysis.mean >= cut))):
            x, y = analysis.seeds[sel, a], analysis.seeds[sel, b]
            if subset == "all":
                ax.hexbin(x, y, bins="log", gridsize=70, cmap="viridis", mincnt=1)
            else:
                ax.scatter(x, y, s=6, alpha=0.6, color=COLOURS[0], edgecolors="none")
            if x.size:
                lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
                ax.plot([lo, hi], [lo, hi], color=COLOURS[1], lw=1.0, ls="--")
            row = frame[(frame.seed_a == a) & (frame.seed_b == b) & (frame.subset == subset)]
            tau = float(row.kendall_tau.iloc[0]) if len(row) else np.nan
            rho = float(row.spearman_rho.iloc[0]) if len(row) else np.nan
            label = "all architectures" if subset == "all" else "top 5% by mean"
            ax.set_title(f"{label} (n={x.size:,}): tau={tau:.3f}, rho={rho:.3f}")
            ax.set_xlabel(f"{analysis.metric}, seed {a}")
            ax.set_ylabel(f"{analysis.metric}, seed {b}")
        fig.suptitle(f"{analysis.benchmark}: seed {a} against seed {b}")
    return fig


# ---------------------------------------------------------------------- theory
def theory_figure(analysis: TheoryAnalysis, bins: int = 40) -> Figure:
    """P(local minimum) against the loss rank | share of starts ending within epsilon."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(10.0, 4.6), layout="constrained")
        left, right = fig.subplots(1, 2)
        v = analysis.valid
        x, is_min = analysis.x[v], analysis.is_min[v]
        n = analysis.n
        # predicted: the model's curve with the neighbourhood size of the recursion
        model = analysis.model
        pts = model.points
        p = model.better_free() ** np.median(analysis.degree[v])
        pts, p = np.concatenate([[0.0], pts]), np.concatenate([[p[0]], p])
        left.plot(np.maximum(pts, 0.5 / n), p, color=COLOURS[0], label="predicted, (integral pdf_n)^s")
        # exhaustive: share of local minima in log-spaced bins of the loss rank
        lo = 0.5 / n
        edges = np.concatenate([[0.0], np.geomspace(lo * 2, 1.0, bins)])
        which = np.clip(np.digitize(x, edges) - 1, 0, len(edges) - 2)
        count = np.bincount(which, minlength=len(edges) - 1)
        mins = np.bincount(which, weights=is_min, minlength=len(edges) - 1)
        ok = count > 0
        mid = np.where(edges[:-1] > 0, np.sqrt(np.maximum(edges[:-1], 1e-12) * edges[1:]), edges[1:] / 2)
        left.scatter(mid[ok], mins[ok] / count[ok], s=14, color=COLOURS[1], zorder=3,
                     label=f"exhaustive share of local minima ({int(is_min.sum())} in all)")
        left.set_xscale("log")
        left.set_xlim(lo, 1.0)
        left.set_ylim(-0.03, 1.03)
        xlabel = "loss rank (share of architectures with lower loss)"
        left.set_xlabel(xlabel)
        left.set_ylabel("P(local minimum)")
        left.set_title(f"local minima: predicted {analysis.predicted_minima():.1f}, true {int(is_min.sum())}")
        left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, fontsize=8)

        eps = EPSILON_CURVE
        curves = [
            ("predicted (paper's recursion)", analysis.predicted_within(eps), COLOURS[0], "-"),
            ("predicted (conditioned recursion)", analysis.predicted_within(eps, "conditioned"), COLOURS[0], ":"),
            ("exhaustive", analysis.exhaustive_within(eps), COLOURS[1], "-"),
            (f"simulated ({analysis.sim_end.size} LocalSearch runs)", analysis.simulated_within(eps), COLOURS[2], "--"),
            ("predicted for a random landscape", analysis.random_within(eps), "0.5", "-."),
        ]
        for label, y, colour, style in curves:
            if np.all(np.isnan(y)):
                continue
            right.plot(eps, y, color=colour, ls=style, label=label)
        right.set_xscale("log")
        right.set_ylim(-0.02, 1.02)
        right.set_xlabel(f"epsilon ({analysis.metric} points below the optimum)")
        right.set_ylabel("share of starts ending within epsilon")
        right.set_title("best-improvement local search from a random start")
        right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False, fontsize=8)
        fig.suptitle(f"{analysis.benchmark} ({_noise_label(analysis.noise)}): White et al. theory against the table")
    return fig


# ---------------------------------------------------------------------- writing
def write_noise_plots(analysis: NoiseAnalysis, out: str | Path, formats=("png", "pdf")) -> list[Path]:
    """The noise figure and one seed figure per pair of seeds, under ``out``."""
    from archscape.report.figures import save_figure

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = save_figure(noise_figure(analysis), out / f"{analysis.benchmark}-noise", formats)
    pairs = analysis.correlations[["seed_a", "seed_b"]].drop_duplicates().itertuples(index=False)
    for a, b in pairs:
        paths += save_figure(seed_figure(analysis, (int(a), int(b))), out / f"{analysis.benchmark}-seeds-{a}-{b}", formats)
    return paths


def write_theory_plots(analysis: TheoryAnalysis, out: str | Path, formats=("png", "pdf")) -> list[Path]:
    from archscape.report.figures import save_figure

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{analysis.benchmark}-theory-{'mean' if analysis.noise == 'mean' else f'seed{analysis.noise}'}"
    return save_figure(theory_figure(analysis), out / stem, formats)


def _dump(obj, path: Path) -> Path:
    path.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")
    return path


def write_noise_report(analysis: NoiseAnalysis, out: str | Path) -> list[Path]:
    """``<bench>-noise.json`` (the summary) and the noise figures (PNG and PDF) under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return [_dump(analysis.summary(), out / f"{analysis.benchmark}-noise.json"), *write_noise_plots(analysis, out)]


def write_theory_report(analysis: TheoryAnalysis, out: str | Path) -> list[Path]:
    """``<bench>-theory-<mode>.json`` (the summary) and the theory figure (PNG and PDF) under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tag = "mean" if analysis.noise == "mean" else f"seed{analysis.noise}"
    return [_dump(analysis.summary(), out / f"{analysis.benchmark}-theory-{tag}.json"), *write_theory_plots(analysis, out)]


def landscape_extra(bench: TableBenchmark, *, metric=None, fidelity=None, noise=None, seed=0, out_dir=None):
    """The noise figures of ``archscape landscape BENCH`` (the hook its command looks for).

    Returns ``("noise", summary, html_sections)``; a table with a single
    recorded seed gets ``{"available": False, "reason": ...}`` instead.
    """
    try:
        analysis = noise_analysis(bench, metric, fidelity=fidelity)
    except NoiseUnavailable as exc:
        return "noise", {"available": False, "reason": str(exc)}, []
    sections = []
    if out_dir is not None:
        images = [p for p in write_noise_plots(analysis, out_dir, formats=("png",)) if p.suffix == ".png"]
        sections.append(("Noise: seed-to-seed spread against neighbour gaps, and seed-vs-seed ranks",
                         [p.name for p in images], analysis.correlations.to_html(index=False, float_format="%.3f")))
    return "noise", analysis.summary(), sections


def _noise_label(noise) -> str:
    return "mean over seeds" if noise == "mean" else f"seed {noise}"


__all__ = ["landscape_extra", "noise_figure", "seed_figure", "theory_figure", "write_noise_plots", "write_noise_report", "write_theory_plots",
           "write_theory_report"]
