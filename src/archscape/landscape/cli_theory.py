"""``archscape landscape theory`` and ``archscape landscape noise``.

Two plain click commands (``theory_cmd`` and ``noise_cmd``) that the
``landscape`` group registers with ``add_command``.  User errors raise
:class:`~archscape.errors.ArchscapeError` subclasses with one line, which
the console entry point prints as ``error: ...``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from archscape.benchmarks.base import check_noise
from archscape.errors import ArchscapeError


def _load_table(name: str):
    from archscape.benchmarks import load_benchmark
    from archscape.benchmarks.table import TableBenchmark

    bench = load_benchmark(name)
    if not isinstance(bench, TableBenchmark):
        raise ArchscapeError(f"{name} is not a table; landscape analysis needs a tabular benchmark")
    return bench


def _dump(obj, path: Path) -> Path:
    path.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")
    return path


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
    summary = analysis.summary()
    if out is not None:
        from archscape.landscape.plots_noise import write_theory_plots

        out.mkdir(parents=True, exist_ok=True)
        tag = "mean" if noise == "mean" else f"seed{noise}"
        written = [_dump(summary, out / f"{table.name}-theory-{tag}.json"), *write_theory_plots(analysis, out)]
    if as_json:
        click.echo(json.dumps(summary, allow_nan=False))
    else:
        _print_theory(summary)
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
    summary = analysis.summary()
    if out is not None:
        from archscape.landscape.plots_noise import write_noise_plots

        out.mkdir(parents=True, exist_ok=True)
        written = [_dump(summary, out / f"{analysis.benchmark}-noise.json"), *write_noise_plots(analysis, out)]
    if as_json:
        click.echo(json.dumps(summary, allow_nan=False))
    else:
        _print_noise(summary)
        if out is not None:
            click.echo(f"wrote {len(written)} files to {out}")


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


__all__ = ["noise_cmd", "theory_cmd"]
