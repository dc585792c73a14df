"""Writing figures: the one saver every report, page and command uses.

:func:`save_figure` writes a figure in one or more formats, each file
atomically (no half-written file on failure), under the report style
(:data:`archscape.report.style.STYLE`).  Resolution: ``dpi=None`` is the
style's (200 dpi, for papers); ``dpi="figure"`` is the figure's own (100 dpi
unless set, what the analysis pages show); a number is that resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from archscape.report.style import STYLE
from archscape.util import atomic_path


def save_figure(fig: Figure, stem: str | Path, formats: Sequence[str] = ("png", "pdf"), *,
                dpi: float | str | None = None) -> list[Path]:
    """Save ``fig`` as ``stem.<format>`` for each format (a suffix on ``stem`` is replaced); returns the paths."""
    stem = Path(stem)
    paths = []
    options = {} if dpi is None else {"dpi": dpi}
    with matplotlib.rc_context(STYLE):
        for i, fmt in enumerate(formats):
            path = stem.with_suffix(f".{fmt}")
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=fmt, **options)
            paths.append(path)
            if i == 0 and len(formats) > 1:
                # The layout is the same in every format: compute it once (it is the slow part).
                fig.set_layout_engine("none")
    return paths


__all__ = ["save_figure"]
