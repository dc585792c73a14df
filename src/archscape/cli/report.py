"""``archscape report STORE...``: plots, tables and exports of stores, tied together by ``index.html``."""

from __future__ import annotations

from pathlib import Path

import click

from archscape.cli.common import write_report
from archscape.errors import ArchscapeError


@click.command("report")
@click.argument("stores", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for index.html, plots and exports.")
@click.option("--at-queries", default=None, help="Also tabulate the incumbents after these query counts, e.g. 25,50,100.")
@click.option("--table", "print_table", is_flag=True, help="Also print the final-results table(s).")
def report_cmd(stores, out_dir, at_queries, print_table) -> None:
    """Write plots, tables and exports of one or more stores, tied together by index.html."""
    points = None
    if at_queries:
        try:
            points = [int(q) for q in at_queries.split(",") if q.strip()]
        except ValueError:
            raise ArchscapeError(f"--at-queries takes query counts separated by commas, e.g. 25,50,100; got {at_queries!r}") from None
    write_report(stores, out_dir, points)
    if print_table:
        from archscape.report import final_table_text

        click.echo(final_table_text([Path(s) for s in stores], at_queries=points))
