"""The look every archscape figure shares: one palette and one matplotlib style.

Figures are built with the object-oriented API under
``matplotlib.rc_context(STYLE)``; colours come from :data:`COLOURS` in order
(the colour-blind-safe Okabe-Ito set), so the same role has the same colour
in the search report, the landscape, opdist and predictor pages.  PDFs embed
TrueType fonts (Type 42), which publishers accept where they reject Type 3.
"""

from __future__ import annotations

#: colour-blind-safe qualitative colours (Okabe-Ito); :class:`~archscape.report.plots.Palette` adds tab10 after them
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

#: line styles, used in turn once every colour is taken
LINE_STYLES = ("-", "--", "-.", ":")

#: matplotlib rc settings of every figure (use with ``matplotlib.rc_context(STYLE)``)
STYLE = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "savefig.dpi": 200,
    "pdf.fonttype": 42,  # TrueType in PDFs: editable text, accepted by publishers
}


def colour(i: int) -> str:
    """The ``i``-th colour of :data:`COLOURS`, cycling."""
    return COLOURS[i % len(COLOURS)]


__all__ = ["COLOURS", "LINE_STYLES", "STYLE", "colour"]
