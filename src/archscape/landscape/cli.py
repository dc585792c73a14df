"""``archscape landscape``: landscape analysis commands.

``archscape landscape BENCH [options]`` runs the default command ``analyze``
(the exhaustive analysis of a finite table under each noise mode); other
analyses are subcommands (``archscape landscape theory BENCH ...``), added by
their modules with ``landscape.add_command(...)``.

Modules listed in :data:`EXTRA_MODULES` may extend ``analyze``: if such a
module defines ``landscape_extra(bench, *, metric, fidelity, noise, seed,
out_dir)`` returning ``(key, json_dict, html_sections)``, its figures are
added to the JSON under ``key`` and its sections to ``index.html``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path

import click
import numpy as np

from archscape.errors import UnknownName

#: modules that may add figures to ``archscape landscape BENCH`` (see the module docstring)
EXTRA_MODULES = ["archscape.landscape.noise"]
DEFAULT_COMMAND = "analyze"


class DefaultCommandGroup(click.Group):
    """A group whose first argument, when it is not a subcommand, goes to a default command."""

    default_command = DEFAULT_COMMAND

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # An option before BENCH (``landscape --noise all nb201-cifar10``) belongs to the default command.
        if args and args[0].startswith("-") and args[0] not in ctx.help_option_names:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            return self.default_command, self.get_command(ctx, self.default_command), args
        return super().resolve_command(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["BENCH [OPTIONS]", "|", "COMMAND [ARGS]..."]


@click.group("landscape", cls=DefaultCommandGroup)
def landscape() -> None:
    """Landscape analysis of NAS benchmarks.

    \b
    archscape landscape BENCH [--noise mean|N|all] [--json] [--out DIR]
        runs `analyze`: local optima, basins, fitness-distance correlation,
        neutrality, random-walk autocorrelation and the local-optima network
        of a finite table (see `archscape landscape analyze --help`).
    """


@landscape.command(DEFAULT_COMMAND)
@click.argument("bench", metavar="BENCH")
@click.option("--noise", default="mean", show_default=True,
              help="mean (average over seeds), a seed number, or all (the mean and every recorded seed).")
@click.option("--metric", default=None, help="Metric to maximise (default: the benchmark's objective).")
@click.option("--fidelity", type=int, default=None, help="Training budget (epochs) of the table; default: the full budget.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random walks and of sampled LON kicks.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for --noise all: one entry per noise mode).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the plots, landscape.csv, landscape.json and index.html.")
def analyze(bench: str, noise: str, metric: str | None, fidelity: int | None, seed: int, as_json: bool,
            out_dir: Path | None) -> None:
    """Exhaustive landscape of a finite table (BENCH: see `archscape bench list`).

    Local optima (no strictly better neighbour; strict and plateau counts
    too), basins of best-improvement local search (ties: lowest row), the
    share of the space whose search ends at the global optimum or within
    0.1/0.5/1 points of it, fitness-distance correlation (negative is easy
    under maximisation), neutrality, random-walk autocorrelation and
    correlation length, and a local-optima network with escape edges.
    """
    from archscape.landscape.analyze import (
        jsonable,
        landscape_analyses,
        parse_noise,
        resolve_benchmark,
        summary_table,
    )

    mode = parse_noise(noise)
    try:
        table_bench = resolve_benchmark(bench)
    except UnknownName as exc:
        commands = ", ".join(sorted(c for c in landscape.commands if c != DEFAULT_COMMAND))
        hint = f"; or a command of `archscape landscape`: {commands}" if commands else ""
        raise UnknownName(f"{exc}{hint}") from None
    analyses = landscape_analyses(table_bench, mode, metric, seed, fidelity=fidelity)
    metric = metric or table_bench.objective
    extras_json, extras_html = _extras(table_bench, metric=metric, fidelity=fidelity, noise=mode, seed=seed, out_dir=out_dir)
    if mode == "all":
        obj = {label: a.summary for label, a in analyses.items()}
    else:
        obj = dict(next(iter(analyses.values())).summary)
    obj.update(extras_json)
    if out_dir is not None:
        from archscape.landscape.plots import write_landscape_report

        title = f"Landscape of {table_bench.name} ({metric})"
        write_landscape_report(out_dir, analyses, title=title, metric=metric, extra_sections=extras_html,
                               extra_json=extras_json)
    if as_json:
        click.echo(json.dumps(jsonable(obj)))
        return
    from archscape.landscape.plots import SUMMARY_ROWS

    table = summary_table({label: a.summary for label, a in analyses.items()})
    rows = [r for r in SUMMARY_ROWS if r in table.columns and r != "global_optimum.arch"]
    rows += ["lon.n_edges", "lon.escape_probability", "lon.n_sinks", "lon.global_funnel_fraction", "seconds"]
    click.echo(f"{table_bench.name}, {metric} (maximised), {table.iloc[0]['n_rows']:,} architectures")
    click.echo(table[rows].T.map(_cell).to_string())
    for label, a in analyses.items():
        click.echo(f"global optimum ({label}): {a.summary['global_optimum']['arch']}")
    click.echo("local optimum: no strictly better neighbour (ties within tie_tol); FDC < 0: values rise towards the "
               "optimum; --json for all figures")
    if out_dir is not None:
        click.echo(f"wrote {out_dir / 'index.html'}")


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e12):
        return f"{int(value)}"
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def _extras(bench, **kwargs) -> tuple[dict, list]:
    """Figures that other landscape modules add to ``analyze`` (see the module docstring)."""
    data: dict = {}
    sections: list = []
    for name in EXTRA_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            continue
        hook = getattr(importlib.import_module(name), "landscape_extra", None)
        if hook is None:
            continue
        key, obj, secs = hook(bench, **kwargs)
        data[key] = obj
        sections.extend(secs or ())
    return data, sections


__all__ = ["EXTRA_MODULES", "DefaultCommandGroup", "landscape"]
