"""``archscape landscape``: landscape analysis commands.

``archscape landscape BENCH [options]`` runs the default command ``analyze``
(the exhaustive analysis of a finite table under each noise mode); other
analyses are subcommands: ``theory`` and ``noise`` (White et al.'s local
search theory, seed-to-seed noise), ``ela`` and ``bbob`` (exploratory
landscape analysis of NAS problems and of BBOB).  Figures that other
landscape modules add to ``analyze`` are found by
:func:`archscape.landscape.analyze.landscape_extras`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from archscape.benchmarks.base import check_noise
from archscape.errors import ArchscapeError, UnknownName

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
        landscape_analyses,
        landscape_extras,
        parse_noise,
        resolve_benchmark,
        summary_table,
    )
    from archscape.report.jsondata import jsonable

    mode = parse_noise(noise)
    try:
        table_bench = resolve_benchmark(bench)
    except UnknownName as exc:
        commands = ", ".join(sorted(c for c in landscape.commands if c != DEFAULT_COMMAND))
        hint = f"; or a command of `archscape landscape`: {commands}" if commands else ""
        raise UnknownName(f"{exc}{hint}") from None
    analyses = landscape_analyses(table_bench, mode, metric, seed, fidelity=fidelity)
    metric = metric or table_bench.objective
    extras_json, extras_html = landscape_extras(table_bench, metric=metric, fidelity=fidelity, noise=mode, seed=seed, out_dir=out_dir)
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



@click.command("ela")
@click.option("--csv", "csv_file", type=click.Path(path_type=Path), help="a Learning-from-NAS results table (CSV)")
@click.option("--dataset", "datasets", multiple=True, type=click.Choice(["mnist", "fashion", "cifar"]),
              help="published table(s) from the data registry (repeatable; default: all three)")
@click.option("--space", type=click.Choice(["cnn-broad", "cnn-narrow"]), default="cnn-broad", show_default=True,
              help="the CNN space whose bounds map the design variables to [-5, 5]")
@click.option("--bootstrap", "reps", type=click.IntRange(min=1), default=30, show_default=True, help="bootstrap samples")
@click.option("--size", type=click.IntRange(min=10), default=800, show_default=True, help="rows per bootstrap sample")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--objective", type=click.Choice(["perf", "error"]), default="perf", show_default=True,
              help="y to minimise: perf as published (the paper's choice) or 1 - perf")
@click.option("--legacy-adj-r2", is_flag=True, help="flacco's adjusted R^2 of 2020, as the paper's table reports")
@click.option("--bbob/--no-bbob", "with_bbob", default=True, show_default=True, help="compare with the 24 BBOB functions")
@click.option("--instances", type=click.IntRange(min=1), default=5, show_default=True, help="BBOB instances per function")
@click.option("--all-features", is_flag=True, help="show every feature, not only the paper's 20")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--out", type=click.Path(path_type=Path), help="folder for tables and figures")
def ela_cmd(csv_file, datasets, space, reps, size, seed, objective, legacy_adj_r2, with_bbob, instances,
            all_features, as_json, out):
    """ELA features of NAS problems, as in "Learning from NAS" (van Stein et al. 2020).

    Maps the 23 numeric design variables to [-5, 5], minimises y = perf as the
    paper does, and computes ela_distr, ela_meta, disp, nbc and ic on
    bootstrap samples; prints mean +- sd per feature and data set, the
    nearest BBOB functions, and the correlation of each design variable with
    perf across data sets.
    """
    from archscape.landscape import lfnas as _lfnas
    from archscape.landscape.ela_report import ela_report

    r = ela_report(csv_file=csv_file, datasets=datasets, space=space, reps=reps, size=size, seed=seed,
                   objective=objective, legacy_adj_r2=legacy_adj_r2, with_bbob=with_bbob, instances=instances,
                   all_features=all_features, out=out)
    summary, results, table, paper = r["summary"], r["results"], r["table"], r["paper"]
    comparison, correlations = r["comparison"], r["correlations"]
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    click.echo(f"ELA features ({reps} bootstrap samples of {size} rows, space {space}, y = {objective} minimised)\n")
    click.echo(_lfnas.format_table(table, list(results), paper=paper))
    if comparison is not None:
        click.echo(f"\nNearest BBOB functions (d={comparison['reference'].dim}, n={size}, "
                   f"{instances} instances; y scaled to [0, 1]; standardised paper features):")
        for ds in results:
            near = ", ".join(f"f{n['fid']} {n['name']} ({n['distance']:.2f})" for n in comparison["nearest"][ds])
            votes = ", ".join(f"f{f}: {v:.0%}" for f, v in sorted(comparison["knn"][ds].items(), key=lambda t: -t[1]))
            click.echo(f"  {_lfnas.LABELS.get(ds, ds)}: {near}")
            click.echo(f"    {comparison['k']}-NN votes over the bootstrap samples: {votes}")
    if correlations is not None:
        ds = correlations["datasets"]
        click.echo(f"\nCorrelation ({correlations['method']}) of each design variable with perf:")
        click.echo("  " + f"{'variable':<14}" + "".join(f"{_lfnas.LABELS.get(d, d):>10}" for d in ds))
        for c, row in zip(correlations["columns"], correlations["correlation"]):
            click.echo("  " + f"{c:<14}" + "".join(f"{v:>10.3f}" for v in row))
        click.echo("  agreement between data sets (correlation of the columns above):")
        for a, row in zip(ds, correlations["agreement"]):
            click.echo("  " + f"{_lfnas.LABELS.get(a, a):<14}" + "".join(f"{v:>10.3f}" for v in row))
    if out is not None:
        click.echo(f"\nwrote {out}")



@click.command("bbob")
@click.option("--dim", type=click.IntRange(min=2), default=23, show_default=True, help="dimension (23: the LfNAS CNN space)")
@click.option("--n", "n", type=click.IntRange(min=10), default=800, show_default=True, help="sample size per instance")
@click.option("--instances", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--k", type=click.IntRange(min=1), default=1, show_default=True, help="neighbours of the leave-one-out k-NN")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--out", type=click.Path(path_type=Path), help="folder for the features CSV and the figures")
def bbob_cmd(dim, n, instances, seed, k, as_json, out):
    """ELA features of the 24 BBOB functions (via ioh) and how well they tell the functions apart.

    Computes ela_distr, ela_meta, disp, nbc and ic (y scaled to [0, 1]) on
    uniform samples of every function and instance, then checks a
    leave-one-out k-NN classifier over the instances.
    """
    from archscape.landscape import bbob as _bbob
    from archscape.landscape.ela_report import bbob_report

    r = bbob_report(dim=dim, n=n, instances=instances, seed=seed, k=k, out=out)
    summary, loo = r["summary"], r["loo"]
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    click.echo(f"BBOB d={dim} n={n}, {instances} instances, {len(loo['features'])} features; "
               f"leave-one-out {k}-NN accuracy {loo['accuracy']:.2f}")
    for f, a in loo["per_function"].items():
        click.echo(f"  f{f:<3}{_bbob.NAMES[f]:<26}{a:>6.2f}")
    if out is not None:
        click.echo(f"wrote {out}")


def _load_table(name: str):
    from archscape.benchmarks import load_benchmark
    from archscape.benchmarks.table import TableBenchmark

    bench = load_benchmark(name)
    if not isinstance(bench, TableBenchmark):
        raise ArchscapeError(f"{name} is not a table; landscape analysis needs a tabular benchmark")
    return bench


def _fmt(x, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


# ---------------------------------------------------------------------- theory
@click.command("theory")
@click.argument("bench")
@click.option("--noise", default="mean", show_default=True, help="'mean' (over seeds) or a seed number.")
@click.option("--epsilon", "epsilons", type=float, multiple=True, help="Accuracy points below the optimum (repeatable; default 0.1, 0.5, 1).")
@click.option("--runs", type=click.IntRange(min=0), default=200, show_default=True, help="Simulated LocalSearch descents.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulated runs.")
@click.option("--bandwidth", type=float, default=None, help="Kernel bandwidth on the loss-rank scale [0, 1] (default: Scott's rule).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write the JSON and the figures here.")
def theory_cmd(bench, noise, epsilons, runs, seed, bandwidth, as_json, out) -> None:
    """The local-search theory of White et al. (UAI 2021) beside the exhaustive truth and simulated runs."""
    from archscape.landscape.theory import DEFAULT_EPSILONS, theory_analysis

    table = _load_table(bench)
    noise = check_noise(noise)
    analysis = theory_analysis(table, noise, epsilons or DEFAULT_EPSILONS, runs=runs, seed=seed,
                               bandwidth=bandwidth)
    _show(analysis, out, as_json, "write_theory_report", _print_theory)


def _show(analysis, out: Path | None, as_json: bool, writer: str, print_summary) -> None:
    """Write the files (``plots_noise.<writer>``) if asked, then print the JSON or the readable summary."""
    summary = analysis.summary()
    if out is not None:
        from archscape.landscape import plots_noise

        written = getattr(plots_noise, writer)(analysis, out)
    if as_json:
        click.echo(json.dumps(summary, allow_nan=False))
    else:
        print_summary(summary)
        if out is not None:
            click.echo(f"wrote {len(written)} files to {out}")


def _print_theory(s: dict) -> None:
    opt = s["optimum"]
    size, mean = s["neighbourhood_size"], s["mean_degree"]
    degree = f"{mean:g} neighbours each" if abs(size - mean) < 1e-9 else f"{mean:.2f} neighbours on average ({size:.2f} seen from a neighbour)"
    click.echo(f"{s['benchmark']} ({s['metric']}, noise {s['noise']}): {s['n_architectures']:,} architectures, "
               f"{degree}; optimum {opt['arch']} at {opt['accuracy']:.3f}")
    est = s["estimate"]
    click.echo(f"loss = {s['loss']}; pdf_n on the {est['scale']} scale, grid {est['grid']}, bandwidth {est['bandwidth']:.4f}")
    m = s["local_minima"]
    click.echo(f"local minima: predicted {m['predicted']:.1f}, exhaustive {m['exhaustive']}, "
               f"random landscape {m['random_landscape']:.1f}")
    mass = s["total_mass"]
    click.echo(f"predicted share of all starts accounted for: {_fmt(mass['paper'])} (paper), {_fmt(mass['conditioned'])} (conditioned)")
    click.echo("share of starts whose best-improvement local search ends within epsilon of the optimum:")
    click.echo(f"  {'epsilon':>8}  {'paper':>7}  {'cond.':>7}  {'exhaust.':>8}  {'simul.':>7}  {'random':>7}")
    for w in s["within_epsilon"]:
        sim = "-" if w["simulated"] is None else f"{w['simulated']:.3f}"
        click.echo(f"  {w['epsilon']:>8g}  {_fmt(w['predicted']):>7}  {_fmt(w['predicted_conditioned']):>7}  "
                   f"{_fmt(w['exhaustive']):>8}  {sim:>7}  {_fmt(w['random_landscape']):>7}")
    sim = s["simulation"]
    if sim["runs"]:
        click.echo(f"simulated: {sim['runs']} LocalSearch descents ({sim['improvement']} improvement, seed {sim['seed']}), "
                   f"{sim['mean_queries']:.1f} queries each on average")


# ---------------------------------------------------------------------- noise
@click.command("noise")
@click.argument("bench")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a summary.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write the JSON and the figures here.")
def noise_cmd(bench, as_json, out) -> None:
    """Seed-to-seed noise against the gaps between neighbours, flips, and rank correlation between seeds."""
    from archscape.landscape.noise import noise_analysis

    analysis = noise_analysis(_load_table(bench))
    _show(analysis, out, as_json, "write_noise_report", _print_noise)


def _print_noise(s: dict) -> None:
    per_seed = ", ".join(f"seed {k}: {v:,}" for k, v in s["architectures_per_seed"].items())
    click.echo(f"{s['benchmark']} ({s['metric']}): {s['n_architectures']:,} architectures ({per_seed})")
    sd, gap, flip = s["seed_sd"], s["neighbour_gap"], s["flip_probability"]
    click.echo(f"seed-to-seed sd: median {_fmt(sd['median'])}, mean {_fmt(sd['mean'])}, 90th percentile {_fmt(sd['q90'])}")
    click.echo(f"gap between neighbours: median {_fmt(gap['median'])}, mean {_fmt(gap['mean'])} over {gap['n_pairs']:,} pairs")
    click.echo(f"share of neighbour pairs whose gap is below their noise sd: {_fmt(s['share_gap_below_sd'])}")
    tops = ", ".join(f"{k.removeprefix('among_')}: {_fmt(v['flip_probability'])}" for k, v in flip.items() if k.startswith("among_"))
    click.echo(f"probability that one seed of each flips a neighbour comparison: {_fmt(flip['mean'])} ({tops})")
    click.echo("rank correlation between seeds:")
    click.echo(f"  {'seeds':>6}  {'subset':>7}  {'n':>6}  {'tau':>7}  {'rho':>7}")
    for r in s["rank_correlation"]:
        click.echo(f"  {r['seed_a']:>3}-{r['seed_b']:<2}  {r['subset']:>7}  {r['n']:>6}  "
                   f"{_fmt(r['kendall_tau']):>7}  {_fmt(r['spearman_rho']):>7}")


for _command in (theory_cmd, noise_cmd, ela_cmd, bbob_cmd):
    landscape.add_command(_command)

__all__ = ["DefaultCommandGroup", "landscape"]
