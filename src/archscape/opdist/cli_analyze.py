"""``archscape opdist analyze BENCH``: how much of the metric the operation distribution explains."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("analyze")
@click.argument("bench", metavar="BENCH")
@click.option("--noise", default="mean", show_default=True,
              help="mean (average of the recorded seeds), seed (one recorded seed drawn per architecture), "
                   "or a seed number.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the drawn seeds (--noise seed) and of the sampled mode.")
@click.option("--metric", default=None, help="Metric (default: the benchmark's objective).")
@click.option("--fidelity", type=int, default=None, help="Training budget (epochs) of the table; default: the full budget.")
@click.option("--samples", type=int, default=None,
              help="Sampled mode: distributions drawn uniformly (default 200 when sampling).")
@click.option("--per-distribution", type=int, default=None,
              help="Sampled mode: architectures drawn from each distribution (default 10 when sampling).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the plots, summary.json, distributions.csv and index.html.")
def analyze_cmd(bench: str, noise: str, seed: int, metric: str | None, fidelity: int | None, samples: int | None,
                per_distribution: int | None, as_json: bool, out_dir: Path | None) -> None:
    """Does the operation distribution explain the accuracy? (BENCH: see `archscape bench list`).

    Groups architectures by their op-count vector: eta^2 (between-group /
    total sum of squares), Spearman of value vs group mean, pooled
    within-group sd, the best distribution and the rank of the global
    optimum's, and |metric change| of op swaps (same counts) against one-op
    changes (different counts) with Mann-Whitney U and KS tests.
    Exhaustive over a table (NB201, Macro: every pair); sampled with
    --samples/--per-distribution or for a space too large to enumerate.
    """
    from archscape.landscape.analyze import jsonable
    from archscape.opdist.analysis import analyze_opdist

    result = analyze_opdist(bench, noise=noise, metric=metric, seed=seed, fidelity=fidelity, samples=samples,
                            per_distribution=per_distribution)
    if out_dir is not None:
        from archscape.opdist.plots import write_opdist_report

        write_opdist_report(out_dir, result)
    if as_json:
        click.echo(json.dumps(jsonable(result.summary)))
        return
    for line in summary_lines(result.summary):
        click.echo(line)
    if out_dir is not None:
        click.echo(f"wrote {out_dir / 'index.html'}")


def _num(x, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def _p(x) -> str:
    # a p-value below the smallest double prints as 0
    return "< 1e-300" if x == 0 else f"= {_num(x)}"


def summary_lines(s: dict) -> list[str]:
    """The readable summary of an analysis."""
    sampled = f" ({s['samples']} distributions drawn x {s['per_distribution']} architectures)" if s["mode"] == "sampled" else ""
    excluded = f", {s['n_excluded']:,} without a value left out" if s["n_excluded"] else ""
    best, opt, sv = s["best_distribution"], s["global_optimum"], s["swap_vs_change"]
    mw, ks = sv["mann_whitney"], sv["ks"]
    return [
        f"{s['benchmark']}, {s['metric']}, noise {s['noise']}, {s['mode']}{sampled}: {s['n_architectures']:,} "
        f"architectures in {s['n_distributions']:,} op distributions ({s['n_singleton_groups']} of one architecture"
        f"{excluded})",
        f"  eta^2 (between / total SS)    {_num(s['eta_squared'])}  (pure noise would give {_num(s['eta_squared_chance'])}; "
        f"epsilon^2 {_num(s['epsilon_squared'])})",
        f"  Spearman(value, group mean)   {_num(s['spearman_group_mean'])}",
        f"  sd within groups (pooled)     {_num(s['within_group_sd'])}  (total {_num(s['total_sd'])})",
        f"  best distribution             {best['text']}: mean {best['mean']:.4g}, max {best['max']:.4g}, "
        f"{best['size']} architecture(s)",
        f"  {'global optimum' if s['mode'] == 'exhaustive' else 'best sampled':<30}{opt['arch']} = {opt['value']:.4g}; its distribution {opt['distribution']} "
        f"ranks {s['optimum_distribution_rank']} of {s['n_distributions']} (mean {opt['distribution_mean']:.4g})",
        f"  |change| swap vs one-op change  median {_num(sv['swap']['median'])} vs {_num(sv['change']['median'])}, "
        f"mean {_num(sv['swap']['mean'])} vs {_num(sv['change']['mean'])} ({sv['swap']['n_pairs']:,} vs "
        f"{sv['change']['n_pairs']:,} pairs)",
        f"  Mann-Whitney p {_p(mw['p_value'])}, P(|swap| > |change|) = {_num(mw['prob_swap_greater'])}; "
        f"KS D = {_num(ks['statistic'])}, p {_p(ks['p_value'])}",
        "--json for all figures",
    ]


__all__ = ["analyze_cmd", "summary_lines"]
