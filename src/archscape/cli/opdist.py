"""``archscape opdist ...``: operation-distribution analysis, speed-up tables and differentiable search.

* ``analyze BENCH``: how much of the metric the operation distribution explains
  (:func:`archscape.opdist.analysis.analyze_opdist`);
* ``speedup STORE...``: queries to come within 0.1/0.3/0.5 pp of the optimum,
  cells against distributions (:func:`archscape.opdist.speedup.speedup_table`);
* ``darts``: DARTS and distribution DARTS on the NAS-Bench-201 cell
  (:mod:`archscape.opdist.darts`; files by :mod:`archscape.opdist.darts_output`).
  Nothing here imports torch until a search runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from archscape.errors import ArchscapeError
from archscape.opdist.darts_config import ESTIMATORS, SearchConfig


@click.group("opdist")
def opdist() -> None:
    """Operation distributions: how much they explain, and searching them."""


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
    from archscape.opdist.analysis import analyze_opdist, summary_lines
    from archscape.report.jsondata import jsonable

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


@click.command("speedup")
@click.argument("stores", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--thresholds", default="0.1,0.3,0.5", show_default=True, help="Percentage points from the optimum, comma-separated.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of rows (null: not reached, see censored).")
@click.option("--markdown", is_flag=True, help="Print Markdown tables.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the rows to this CSV file.")
def speedup_cmd(stores, thresholds: str, as_json: bool, markdown: bool, out: Path | None) -> None:
    """Speed-up of optimizers on a distribution space (<base>-opdist) against the same optimizers on the cells.

    Give the stores of both (same benchmark, noise and budget), e.g. runs made with
    `archscape run -b nb201-cifar10 --space nb201-opdist ...` and without --space.
    """
    from archscape.opdist.speedup import format_speedup, speedup_table
    from archscape.report.jsondata import jsonable
    from archscape.util import atomic_path

    try:
        values = [float(t) for t in thresholds.split(",") if t.strip()]
    except ValueError:
        raise ArchscapeError(f"--thresholds must be numbers separated by commas, e.g. 0.1,0.3,0.5; got {thresholds!r}") from None
    table = speedup_table(stores, values)
    if out is not None:
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False)
    if as_json:
        # JSON has no infinity: a quantile that the trials did not reach is null (see "censored")
        click.echo(json.dumps(jsonable(table.to_dict("records"))))
    else:
        click.echo(format_speedup(table, "markdown" if markdown else "text"))


# ------------------------------------------------------------------ darts
_D = SearchConfig()  # the API's defaults are the command's

_TABLE_NAMES = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "ImageNet16"}


@click.command("darts")
@click.option("--method", type=click.Choice(["darts", "distribution"]), required=True,
              help="darts: a softmax per edge, argmax cell; distribution: one op ratio shared by all edges, sampled cell.")
@click.option("--dataset", default="mnist", show_default=True, help="mnist, fashion-mnist, cifar10 or cifar100.")
@click.option("--train-subset", type=int, default=_D.train_subset, show_default=True, help="Images of the train split (weight steps).")
@click.option("--val-subset", type=int, default=_D.val_subset, show_default=True, help="Images of the validation split (architecture steps).")
@click.option("--test-subset", type=int, default=_D.test_subset, show_default=True, help="Images of the test split (retraining).")
@click.option("--epochs", type=int, default=_D.epochs, show_default=True, help="Search epochs.")
@click.option("--warmup-epochs", type=int, default=_D.warmup_epochs, show_default=True, help="First epochs with weight steps only.")
@click.option("--batch-size", type=int, default=_D.batch_size, show_default=True)
@click.option("--seeds", default="0", show_default=True, help="Comma-separated search seeds, e.g. 0,1,2.")
@click.option("--channels", "-C", type=int, default=_D.channels, show_default=True, help="Supernet channels C (stages C, 2C, 4C).")
@click.option("--cells", "-N", type=int, default=_D.cells, show_default=True, help="Cells a stage N.")
@click.option("--lr", type=float, default=_D.lr, show_default=True, help=f"Weight learning rate (SGD, cosine to {_D.lr_min}).")
@click.option("--arch-lr", type=float, default=_D.arch_lr, show_default=True, help="Architecture learning rate (Adam).")
@click.option("--second-order", is_flag=True, help="DARTS: unrolled (second-order) architecture gradient.")
@click.option("--estimator", default=None,
              help=f"distribution: {', '.join(ESTIMATORS)} (default {_D.estimator}; see the module docstring of "
                   "archscape.train.darts_search).")
@click.option("--ratio-method", type=click.Choice(["round", "multinomial"]), default="round", show_default=True,
              help="distribution: how the learned ratio becomes the final cell's op counts.")
@click.option("--retrain-epochs", type=int, default=0, show_default=True, help="Retrain each found cell from scratch (0: no).")
@click.option("--large-cell-nodes", type=int, default=None, help="Also train a network of cells with this many nodes, ops from the learned ratio.")
@click.option("--large-cell-epochs", type=int, default=_D.large_cell_epochs, show_default=True, help="Training epochs of the large-cell network.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--threads", type=int, default=1, show_default=True, help="torch CPU threads (CPU results depend on it).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write results.json, trajectory.csv and trajectory plots here.")
def darts_cmd(method, dataset, train_subset, val_subset, test_subset, epochs, warmup_epochs, batch_size, seeds,
              channels, cells, lr, arch_lr, second_order, estimator, ratio_method, retrain_epochs, large_cell_nodes,
              large_cell_epochs, device, threads, as_json, out) -> None:
    """Differentiable search on the NB201 cell: DARTS, or DARTS over an operation distribution."""
    from archscape.opdist.darts import load_search_data, run_seeds
    from archscape.opdist.darts_config import check_seeds
    from archscape.opdist.darts_output import darts_payload, write_darts_outputs

    if estimator is not None and method != "distribution":
        raise ArchscapeError(f"--estimator is for --method distribution; got --method {method}")
    if second_order and method != "darts":
        raise ArchscapeError("--second-order is for --method darts (the distribution method is first order)")
    if estimator is not None and estimator not in ESTIMATORS:
        raise ArchscapeError(f"unknown estimator {estimator!r}; accepted: {', '.join(ESTIMATORS)}")
    seed_list = check_seeds(seeds)
    settings: dict[str, Any] = dict(
        dataset=dataset, train_subset=train_subset, val_subset=val_subset, test_subset=test_subset, epochs=epochs,
        warmup_epochs=warmup_epochs, batch_size=batch_size, channels=channels, cells=cells, second_order=second_order,
        ratio_method=ratio_method, retrain_epochs=retrain_epochs, large_cell_nodes=large_cell_nodes,
        large_cell_epochs=large_cell_epochs, device=device, threads=threads, lr=lr, arch_lr=arch_lr,
    )
    if estimator is not None:
        settings["estimator"] = estimator
    cfg = SearchConfig(**settings).check(method)
    data = load_search_data(cfg)
    if len(data.val) < 2:
        raise ArchscapeError(f"{data.name}: the architecture steps need a validation split of >= 2 images; got {len(data.val)}")

    def say(line: str) -> None:
        if not as_json:
            click.echo(line, err=True)

    if not as_json:
        from archscape.train.trainer import resolve_device

        click.echo(_header(method, cfg, data, resolve_device(cfg.device)))
    results: list = []

    def done(r) -> None:
        results.append(r)
        if not as_json:
            _print_run(r)
        if out is not None:
            write_darts_outputs(out, method, cfg, data, results)

    run_seeds(method, cfg, seed_list, data=data, progress=say, on_result=done)
    payload = darts_payload(method, cfg, data, results)
    if as_json:
        click.echo(json.dumps(payload, allow_nan=False))
    else:
        _print_summary(results, payload["summary"])
        if out is not None:
            click.echo(f"wrote {out / 'results.json'}, {out / 'trajectory.csv'} and {len(results)} trajectory plots")


# ------------------------------------------------------------------ text
def _header(method: str, cfg, data, device) -> str:
    if method == "darts":
        what = f"DARTS ({'second' if cfg.second_order else 'first'} order)"
    else:
        what = f"distribution DARTS (estimator {cfg.estimator}, counts by {cfg.ratio_method})"
    return (f"{what} on {data.summary()}\n"
            f"{cfg.epochs} epochs ({cfg.warmup_epochs} warm-up), batch {cfg.batch_size}, C={cfg.channels} N={cfg.cells}, "
            f"lr {cfg.lr:g}, arch lr {cfg.arch_lr:g}, device {device}, {cfg.threads or 'default'} thread(s)")


def _scores(d: dict, digits: int = 2) -> str:
    return "  ".join(f"{_TABLE_NAMES[k]} {v:.{digits}f}" for k, v in d.items())


def _ops_line(values, fmt: str) -> str:
    from archscape.opdist.darts_output import SHORT_OPS
    from archscape.spaces.nb201 import OPS

    return " ".join(f"{SHORT_OPS[o]} {format(v, fmt)}" for o, v in zip(OPS, values))


def _print_run(r) -> None:
    click.echo(f"seed {r.seed}: {r.arch}   search {r.search_time:.1f} s")
    click.echo(f"  NB201 mean val_acc   {_scores(r.scores)}")
    click.echo(f"  % of cells below     {_scores(r.percentiles, 1)}")
    click.echo(f"  op counts            {_ops_line(r.counts, 'd')}")
    click.echo(f"  mean over placements {_scores(r.counts_scores)}")
    if r.ratio is not None:
        click.echo(f"  learned ratio        {_ops_line(r.ratio, '.3f')}  -> sampled cell above")
    if r.retrain:
        t = r.retrain
        test = "-" if t["test_acc"] is None else f"{t['test_acc']:.2f}"
        click.echo(f"  retrained            val {t['val_acc']:.2f}%  test {test}%  ({t['epochs']} epochs, "
                   f"{t['params']:,} params, {t['train_time']:.1f} s)")
    if r.large_cell:
        t = r.large_cell
        test = "-" if t["test_acc"] is None else f"{t['test_acc']:.2f}"
        click.echo(f"  {t['n_nodes']}-node cell          {t['n_edges']} edges, counts {_ops_line(t['counts'], 'd')}")
        click.echo(f"                       val {t['val_acc']:.2f}%  test {test}%  ({t['epochs']} epochs, "
                   f"{t['params']:,} params, {t['train_time']:.1f} s)")


def _ms(stat: dict, digits: int = 2) -> str:
    return f"{stat['mean']:.{digits}f}" + ("" if stat["sd"] is None else f" ± {stat['sd']:.{digits}f}")


def _print_summary(results, summary: dict) -> None:
    rows = [("seed", "cifar10", "cifar100", "ImageNet16", "search s", "cell")]
    for r in results:
        rows.append((str(r.seed), f"{r.scores['cifar10']:.2f}", f"{r.scores['cifar100']:.2f}",
                     f"{r.scores['imagenet16']:.2f}", f"{r.search_time:.1f}", r.arch))
    rows.append(("mean ± sd", _ms(summary["cifar10"]), _ms(summary["cifar100"]), _ms(summary["imagenet16"]),
                 _ms(summary["search_time"], 1), ""))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    click.echo(f"\nsummary over {summary['n']} seed(s) (NB201 mean val_acc, %):")
    for row in rows:
        click.echo("  " + "  ".join(cell.rjust(w) for cell, w in zip(row[:5], widths)) + "  " + row[5])
    extra = []
    if "retrain_val_acc" in summary:
        extra.append(f"retrained val {_ms(summary['retrain_val_acc'])}%")
    if "large_cell_val_acc" in summary:
        extra.append(f"large cell val {_ms(summary['large_cell_val_acc'])}%")
    if extra:
        click.echo("  " + ", ".join(extra))


for _command in (analyze_cmd, speedup_cmd, darts_cmd):
    opdist.add_command(_command)

__all__ = ["opdist"]
