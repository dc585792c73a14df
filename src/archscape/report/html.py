"""HTML pages of every archscape report: one renderer, no scripts, no network.

Pure rendering: :func:`render_page` receives what to show (a list of
:class:`Section`, each a heading with an optional table, further HTML,
figures and a caption) and returns the page as a string;
:func:`write_index` writes it atomically.  The search report
(:func:`archscape.report.write_report`) builds its sections with
:func:`comparison_section`; the landscape, opdist and predictor pages pass
sections of a title, image(s), a table and a caption.  Figures are linked
relatively, so a page and its folder can be moved, zipped or served as they
are.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from archscape.util import atomic_path


def escape(text: object) -> str:
    """``text`` as HTML text or attribute value (quotes escaped too)."""
    return html.escape(str(text), quote=True)


class Section(NamedTuple):
    """One part of a page: a heading and, all optional, a table, further HTML, image(s) and a caption.

    A plain tuple ``(title, image, table[, caption])`` is accepted wherever a
    section is.  ``anchor`` defaults to ``s<i>``, the section's position.
    """

    title: str
    image: str | Sequence[str] | None = None  # path(s) relative to the page
    table: str | None = None  # HTML, already rendered
    caption: str = ""
    body: str = ""  # further HTML, already rendered, after the table
    anchor: str = ""


@dataclass(frozen=True)
class FigureLink:
    """A figure of the search report: its title, the image shown, a caption and optionally its PDF."""

    title: str
    image: str  # PNG or SVG, path relative to index.html
    caption: str
    pdf: str | None = None


#: the look of the search report
REPORT_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
h3 { margin-top: 1.6rem; font-size: 1.05rem; }
.meta { color: #666; font-size: .9rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: .85rem; word-break: break-all; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .88rem; color: #444; } ul.notes { color: #8a4b00; font-size: .9rem; }
"""

#: the look of the analysis pages (landscape, opdist, predictors): numbers right-aligned, wide tables scroll
PAGE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1150px;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: .9rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .85rem; }
th, td { padding: .25rem .55rem; border-bottom: 1px solid #e4e4e4; text-align: right; vertical-align: top; }
th { background: #f6f6f6; } .wide { overflow-x: auto; } tbody th { text-align: left; min-width: 14rem; }
code { font-size: .85rem; word-break: break-all; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .88rem; color: #444; }
"""


# ------------------------------------------------------------------ pieces
def _figure(image: str, alt: str, caption_html: str) -> str:
    cap = f"<figcaption>{caption_html}</figcaption>" if caption_html else ""
    return f'<figure><a href="{escape(image)}"><img src="{escape(image)}" alt="{escape(alt)}"></a>{cap}</figure>'


def kv_table(rows: Sequence[tuple[str, str]]) -> str:
    """A two-column table of (name, value) rows, names as row headers."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="settings">{body}</table>'


def rows_table(rows: Sequence[dict[str, str]], code_columns: Sequence[str] = ()) -> str:
    """A table of dict rows (columns: the first row's keys); ``code_columns`` set in ``<code>``."""
    if not rows:
        return ""
    columns = list(rows[0])
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)

    def cell(c: str, v: str) -> str:
        return f"<td><code>{escape(v)}</code></td>" if c in code_columns else f"<td>{escape(v)}</td>"

    body = "".join("<tr>" + "".join(cell(c, r.get(c, "")) for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def frame_html(frame, *, digits: int = 4) -> str:
    """A DataFrame as an HTML table, numbers to ``digits`` significant digits (whole numbers in full)."""
    def number(x: float) -> str:
        return f"{x:.0f}" if float(x).is_integer() and abs(x) < 1e12 else f"{x:.{digits}g}"

    return frame.to_html(border=0, na_rep="", float_format=number, escape=True)


def comparison_section(
    title: str,
    anchor: str,
    *,
    settings: Sequence[tuple[str, str]],
    studies: Sequence[dict[str, str]],
    optimizers: Sequence[dict[str, str]],
    table: str,
    figures: Sequence[FigureLink] = (),
    notes: Sequence[str] = (),
) -> Section:
    """One comparison of the search report: settings, studies, optimizers, the final table, notes, figures."""
    parts = ["<h3>Settings</h3>" + kv_table(settings),
             "<h3>Studies</h3>" + rows_table(studies, code_columns=("store",)),
             "<h3>Optimizers</h3>" + rows_table(optimizers, code_columns=("parameters",)),
             "<h3>Final results</h3>" + table]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    if figures:
        links = []
        for f in figures:
            pdf = f' (<a href="{escape(f.pdf)}">PDF</a>)' if f.pdf else ""
            links.append(_figure(f.image, f.title, f"<b>{escape(f.title)}.</b> {escape(f.caption)}{pdf}"))
        parts.append("<h3>Anytime performance</h3>" + "".join(links))
    return Section(title, body="\n".join(parts), anchor=anchor)


def _section(sec: Section, anchor: str) -> str:
    block = [f'<section id="{escape(anchor)}"><h2>{escape(sec.title)}</h2>']
    if sec.table:
        block.append(f'<div class="wide">{sec.table}</div>')
    if sec.body:
        block.append(sec.body)
    images = [sec.image] if isinstance(sec.image, str) else list(sec.image or ())
    for img in images:
        block.append(_figure(img, sec.title, escape(sec.caption) if sec.caption else ""))
    if sec.caption and not images:
        block.append(f'<p class="meta">{escape(sec.caption)}</p>')
    block.append("</section>")
    return "\n".join(block)


# ------------------------------------------------------------------ pages
def html_page(title: str, body: str, style: str = PAGE_STYLE) -> str:
    """A complete HTML page: the head every archscape report shares, ``title`` as heading, then ``body``."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{style}</style>
</head>
<body>
<h1>{escape(title)}</h1>
{body}
</body>
</html>
"""


def render_page(
    sections: Sequence,
    *,
    title: str,
    meta: str = "",
    intro: str = "",
    downloads: Sequence[tuple[str, str]] = (),
    downloads_title: str = "",
    style: str = PAGE_STYLE,
) -> str:
    """The whole page as a string.

    ``sections``: :class:`Section` or tuples; ``meta``: the grey line under
    the title; ``intro``: a paragraph after it; ``downloads``: (description,
    relative path) pairs, under the heading ``downloads_title`` if given.
    With more than one section the page starts with their list.
    """
    secs = [s if isinstance(s, Section) else Section(*s) for s in sections]
    anchors = [s.anchor or f"s{i}" for i, s in enumerate(secs)]
    parts = [f'<p class="meta">{escape(meta)}</p>']
    if intro:
        parts.append(f"<p>{escape(intro)}</p>")
    if len(secs) > 1:
        parts.append("<ul>" + "".join(f'<li><a href="#{escape(a)}">{escape(s.title)}</a></li>'
                                      for a, s in zip(anchors, secs)) + "</ul>")
    if downloads:
        items = "".join(f'<li><a href="{escape(p)}">{escape(p)}</a>: {escape(d)}</li>' for d, p in downloads)
        heading = f"<h3>{escape(downloads_title)}</h3>" if downloads_title else ""
        parts.append(f"{heading}<ul>{items}</ul>")
    parts += [_section(s, a) for s, a in zip(secs, anchors)]
    return html_page(title, "\n".join(parts), style)


def write_index(out_dir: str | Path, sections: Sequence, *, title: str, intro: str = "",
                downloads: Sequence[tuple[str, str]] = (), name: str = "index.html") -> Path:
    """Write an analysis page (:func:`render_page`, ``intro`` as its grey line) into ``out_dir`` atomically;
    returns its path."""
    path = Path(out_dir) / name
    with atomic_path(path) as tmp:
        tmp.write_text(render_page(sections, title=title, meta=intro, downloads=downloads), encoding="utf-8")
    return path


__all__ = [
    "PAGE_STYLE",
    "REPORT_STYLE",
    "FigureLink",
    "Section",
    "comparison_section",
    "escape",
    "frame_html",
    "html_page",
    "kv_table",
    "render_page",
    "write_index",
]
