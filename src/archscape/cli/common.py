"""Helpers shared by the command modules: JSON on stdout, and writing a report with its one line of output."""

from __future__ import annotations

import json
from pathlib import Path

import click


def echo_json(obj) -> None:
    """Print ``obj`` as one line of JSON."""
    click.echo(json.dumps(obj, sort_keys=False))


def write_report(stores, out_dir: Path, at_queries=None) -> Path:
    """Write the report of ``stores`` into ``out_dir`` and say where its page is."""
    from archscape.report import write_report as write

    index = write([Path(s) for s in stores], out_dir, at_queries=at_queries)
    click.echo(f"report: {index}")
    return index
