"""Anytime plots for papers: all optimizers of a comparison on one figure.

Each figure has two panels that share the y axis: (left) the mean over trials
with a 95% confidence band from Student's t-interval (mean +- t(0.975, n-1) *
s / sqrt(n)), and (right) the median with the inter-quartile band (25th to
75th percentile).  Statistics are over an optimizer's complete trials and are
drawn only where every one of them has an incumbent (on the time axis, from
the moment the slowest first query finished), and bands only where at least
:data:`MIN_BAND_TRIALS` trials make them; the mean's band is clipped to the
range of the trials' values (a mean cannot lie outside it, though a t-interval
over a skewed sample can).  Four figures per comparison:
regret and the incumbent's report value, each against queries (linear x) and
against simulated time (log x).  Regret uses a symmetric-log y axis where
regrets span more than a decade or so: logarithmic above a small threshold,
linear below, so that zero regret (the optimum found) stays on the plot
instead of vanishing as it would on a plain log axis.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``,
which renders with Agg): no pyplot, no display, no global backend switch, so a
report works on a headless machine and does not disturb a notebook.  A
:class:`Palette` fixes each optimizer's colour and line style once for a whole
report, so the same optimizer looks the same in every figure.  Colours and rc
settings are :mod:`archscape.report.style`'s (Okabe-Ito); figures are written
by :func:`archscape.report.figures.save_figure`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure
from scipy.special import stdtrit  # Student t quantile; scipy.stats alone takes a second to import

from archscape.errors import ArchscapeError
from archscape.report.anytime import AnytimeCurves
from archscape.report.style import COLOURS, LINE_STYLES, STYLE


#: fewer trials than this make no band (a t-interval over two values is mostly noise)
MIN_BAND_TRIALS = 3


class Palette:
    """A fixed colour and line style per optimizer label, in order of first appearance."""

    def __init__(self, labels: Iterable[str] = ()) -> None:
        self._styles: dict[str, tuple[str, str]] = {}
        self.add(labels)

    def add(self, labels: Iterable[str]) -> None:
        extra = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab10"].colors]
        colours = list(COLOURS) + [c for c in extra if c not in COLOURS]
        for label in labels:
            if label not in self._styles:
                i = len(self._styles)
                self._styles[label] = (colours[i % len(colours)], LINE_STYLES[(i // len(colours)) % len(LINE_STYLES)])

    def __getitem__(self, label: str) -> tuple[str, str]:
        self.add([label])
        return self._styles[label]


def summarise(values: np.ndarray, stat: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre, lower and upper band per column of a (trials, points) matrix, ignoring NaN.

    ``stat="mean"``: mean and 95% t-interval, clipped to the column's smallest and
    largest value; ``stat="median"``: median and quartiles.  A column with no
    value is NaN; a mean over one trial has no band.
    """
    values = np.asarray(values, dtype=float)
    n = np.isfinite(values).sum(axis=0)
    nan = np.full(values.shape[1], np.nan)
    if values.shape[0] == 0:
        return nan, nan, nan
    with np.errstate(invalid="ignore", divide="ignore"):
        if stat == "mean":
            filled = np.where(np.isfinite(values), values, 0.0)
            mean = np.where(n > 0, filled.sum(axis=0) / np.maximum(n, 1), np.nan)
            dev = np.where(np.isfinite(values), values - mean, 0.0)
            sd = np.sqrt((dev**2).sum(axis=0) / np.maximum(n - 1, 1))
            half = np.where(n > 1, stdtrit(np.maximum(n - 1, 1), 0.975) * sd / np.sqrt(np.maximum(n, 1)), np.nan)
            low = np.where(n > 0, np.where(np.isfinite(values), values, np.inf).min(axis=0), np.nan)
            high = np.where(n > 0, np.where(np.isfinite(values), values, -np.inf).max(axis=0), np.nan)
            return mean, np.maximum(mean - half, low), np.minimum(mean + half, high)
        if stat == "median":
            if not n.any():
                return nan, nan, nan
            q = np.full((3, values.shape[1]), np.nan)
            some = n > 0
            q[:, some] = np.nanpercentile(values[:, some], [50, 25, 75], axis=0)
            return q[0], q[1], q[2]
    raise ArchscapeError(f"unknown statistic {stat!r}; accepted: mean, median")


def time_unit(seconds: float) -> tuple[str, float]:
    """A readable unit for a simulated-time axis whose largest value is ``seconds``."""
    for name, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= 3 * size:
            return name, size
    return "seconds", 1.0


def plot_curves(
    ax,
    curves: AnytimeCurves,
    *,
    value: str = "regret",
    stat: str = "mean",
    palette: Palette | None = None,
    labels: Sequence[str] | None = None,
    x_scale: float = 1.0,
    floor: float | None = None,
) -> None:
    """Draw one line and band per optimizer (complete trials) on ``ax``.

    ``floor``: the lowest value the axis shows; a band is not drawn where its
    line is below it (a band without its line reads as a spike).
    """
    palette = palette or Palette(curves.labels)
    x = curves.x / x_scale
    step = "post" if curves.axis == "sim_time" else None
    for label, n, (centre, lo, hi) in _statistics(curves, value, stat, labels):
        no_band = n < MIN_BAND_TRIALS
        if floor is not None:
            no_band = no_band | ~(centre >= floor)
        lo, hi = (np.where(no_band, np.nan, a) for a in (lo, hi))
        colour, style = palette[label]
        ax.plot(x, centre, color=colour, linestyle=style, linewidth=1.6, label=f"{label} (n={n})",
                drawstyle="steps-post" if step else "default")
        ax.fill_between(x, lo, hi, color=colour, alpha=0.15, linewidth=0, step=step)


def _statistics(curves: AnytimeCurves, value: str, stat: str, labels: Sequence[str] | None):
    """``(label, n_trials, (centre, lo, hi))`` per optimizer with a complete trial.

    Only where every trial has an incumbent: a statistic over the few trials whose
    first query happened to finish early would be noise, and would jump as more join.
    """
    if value not in ("regret", "report"):
        raise ArchscapeError(f"unknown value {value!r}; accepted: regret, report")
    matrix = curves.regret if value == "regret" else curves.incumbent_report
    for label in labels or curves.labels:
        values = matrix[curves.rows(label)]
        values = values[np.isfinite(values).any(axis=1)]  # a trial with no successful query at all
        if values.shape[0] == 0:
            continue
        partial = ~np.isfinite(values).all(axis=0)
        yield label, values.shape[0], tuple(np.where(partial, np.nan, a) for a in summarise(values, stat))


def anytime_figure(
    curves: AnytimeCurves,
    *,
    value: str,
    title: str,
    metric: str,
    unit: str = "",
    palette: Palette | None = None,
    labels: Sequence[str] | None = None,
    optimum_known: bool = True,
) -> Figure:
    """The two-panel figure (mean and 95% CI | median and IQR) of one value on one axis.

    ``labels`` chooses and orders the optimizers (default: all, in order of appearance).
    ``optimum_known=False`` (real training): regret is an error from the best
    possible value, and no optimum line is drawn.
    """
    palette = palette or Palette(labels or curves.labels)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(9.0, 3.6), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True)
        scale, xlabel, x_unit = 1.0, "queries (architectures evaluated)", ""
        if curves.axis == "sim_time":
            x_unit, scale = time_unit(float(np.nanmax(curves.x)) if curves.x.size else 1.0)
            xlabel = f"simulated training time ({x_unit})"
        suffix = f" ({unit})" if unit else ""
        if value == "regret":
            ylabel = f"regret of incumbent, {metric}{suffix}" if optimum_known else f"error of incumbent, {metric}{suffix}"
        else:
            ylabel = f"incumbent {metric}{suffix}"
        zoom = _report_zoom(curves, labels) if value == "report" and optimum_known else None
        floor = zoom[0] if zoom else None
        for ax, stat, name in zip(axes, ("mean", "median"), ("mean, 95% t-interval", "median, inter-quartile range")):
            plot_curves(ax, curves, value=value, stat=stat, palette=palette, labels=labels, x_scale=scale, floor=floor)
            ax.set_title(name)
            ax.set_xlabel(xlabel)
            if curves.axis == "sim_time":
                ax.set_xscale("log")
            else:
                ax.set_xlim(0, curves.x[-1] if curves.x.size else 1)
        axes[0].set_ylabel(ylabel)
        if value == "regret":
            _regret_scale(axes[0], curves)
        elif zoom:
            _report_limits(axes, curves, zoom, scale, x_unit)
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside right center", frameon=False)
        fig.suptitle(title)
    return fig


def _regret_scale(ax, curves: AnytimeCurves) -> None:
    """Symmetric-log y where regrets span more than a decade or so, linear otherwise.

    The symlog threshold is a power of ten at about the smallest regret on the
    plot (at most three decades below the largest): small regrets are
    resolved, and zero (the optimum found) sits at the bottom of the axis.
    """
    shown = _shown_values(ax)
    positive = shown[shown > 0]
    if positive.size == 0:
        return
    top, low = float(positive.max()), float(positive.min())
    linthresh = 10.0 ** np.floor(np.log10(max(low, top * 1e-3)))
    if top / linthresh >= 20:
        # Decade ticks only: minor ticks on a symlog axis cost a third of the drawing time.
        ax.set_yscale("symlog", linthresh=linthresh, linscale=0.5)
        ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        # A little below zero, so a curve at zero regret is not hidden by the bottom spine.
        ax.set_ylim(-0.15 * linthresh, top * 1.5)
    else:
        ax.set_ylim(-0.02 * top, top * 1.05)


def _report_zoom(curves: AnytimeCurves, labels: Sequence[str] | None) -> tuple[float, float] | None:
    """``(floor, x_enter)`` of a report-value figure, or ``None`` when there is nothing to zoom on.

    The floor is the lowest curve (mean or median) a tenth of the way along the
    axis: the first few queries (far from the optimum) would otherwise flatten
    the part of the curves where optimizers differ.  ``x_enter`` is the last
    point where some curve is still below the floor (the part the zoom cuts).
    """
    tails, below = [], []
    for stat in ("mean", "median"):
        for _, _, (centre, _, _) in _statistics(curves, "report", stat, labels):
            finite = np.flatnonzero(np.isfinite(centre))
            tails.append(centre[finite[int(0.1 * finite.size):]])
            below.append((centre, finite))
    shown = np.concatenate(tails) if tails else np.empty(0)
    if shown.size == 0:
        return None
    floor = float(shown.min())
    cut = [int(idx[centre[idx] < floor].max()) for centre, idx in below if (centre[idx] < floor).any()]
    return floor, (float(curves.x[max(cut)]) if cut else np.nan)


def _report_limits(axes, curves: AnytimeCurves, zoom: tuple[float, float], x_scale: float, x_unit: str) -> None:
    """Zoom on where the incumbents converge, with the global optimum as a reference line,
    and say on each panel which part of the curves the zoom leaves out."""
    optimum = float(np.nanmax(curves.trials["optimum_report"])) if len(curves.trials) else np.nan
    floor, x_enter = zoom
    if not np.isfinite(optimum):
        return
    span = max(optimum - floor, 1e-6)
    axes[0].set_ylim(floor - 0.05 * span, optimum + 0.08 * span)
    for ax in axes:
        ax.axhline(optimum, color="0.4", linewidth=0.8, linestyle=(0, (1, 2)))
    axes[0].annotate("global optimum", (0.01, optimum), xycoords=("axes fraction", "data"), xytext=(0, 2),
                     textcoords="offset points", fontsize=8, color="0.35", va="bottom")
    if np.isfinite(x_enter):
        where = f"query {x_enter:.0f}" if curves.axis == "queries" else f"{x_enter / x_scale:.2g} {x_unit}"
        note = f"y axis cut at {floor:.4g}:\ncurves rise from below it up to {where}"
        for ax in axes:
            ax.text(0.98, 0.03, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="0.35")


def _shown_values(ax) -> np.ndarray:
    """The finite y values of the lines on every panel of ``ax``'s figure."""
    out = []
    for a in ax.figure.axes:
        for line in a.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            out.append(y[np.isfinite(y)])
    return np.concatenate(out) if out else np.empty(0)


__all__ = ["Palette", "anytime_figure", "plot_curves", "summarise", "time_unit"]
