"""``archscape predictors ...``: evaluate surrogate models of a benchmark."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group("predictors")
def predictors() -> None:
    """Predictors (surrogate models): how well they rank unseen architectures."""


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@predictors.command("eval")
@click.argument("bench", metavar="BENCH")
@click.option("--predictor", "predictor_specs", multiple=True, metavar="NAME[:key=value,...]",
              help="Predictor to evaluate (repeatable; default: every registered one whose extra is installed), "
                   "with parameters as for optimizers, e.g. gp:backend=sklearn.")
@click.option("--encoding", "encodings", multiple=True, metavar="ENC",
              help="Encoding(s) to evaluate (repeatable or comma-separated: onehot, path, opcount, graph); "
                   "default: every one the space offers (graph: the gnn predictor).")
@click.option("--train-sizes", default="10,20,50,100,200,500", show_default=True, help="Training-set sizes, comma-separated.")
@click.option("--repeats", type=int, default=20, show_default=True, help="Draws of training and test sets.")
@click.option("--test-size", type=int, default=1000, show_default=True, help="Test architectures per repeat.")
@click.option("--noise", default="mean", show_default=True,
              help="Noise of the training values: mean, seed (one recorded seed drawn per architecture) or a seed "
                   "number; the test truth is always the mean.")
@click.option("--metric", default=None, help="Metric (default: the benchmark's objective).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draws and of every fit.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for records.csv, summary.csv, summary.json, the plots and index.html.")
def eval_cmd(bench: str, predictor_specs: tuple[str, ...], encodings: tuple[str, ...], train_sizes: str, repeats: int,
             test_size: int, noise: str, metric: str | None, seed: int, as_json: bool, out_dir: Path | None) -> None:
    """Fit predictors on random training sets of BENCH and score their ranking of a disjoint test set.

    Per predictor, encoding and training-set size: Kendall's tau, Spearman's
    rho, top-1%/10% precision (share of the predicted top k% in the true top
    k%), fit and predict seconds; mean and sd over the repeats.  BENCH: see
    `archscape bench list` (tables that list their architectures are
    sampled without replacement; other benchmarks, e.g. nb301, are queried
    on architectures sampled from the space).
    """
    from archscape.predictor_eval.evaluate import evaluate_predictors, summary_lines
    from archscape.report.jsondata import jsonable

    # progress only for a person watching: scripts and --json readers get clean streams
    interactive = sys.stderr.isatty() and not as_json
    progress = (lambda line: click.echo(f"{bench}: {line}", err=True)) if interactive else None
    result = evaluate_predictors(bench, predictors=list(predictor_specs) or None, encodings=_split(encodings) or None,
                                 train_sizes=train_sizes, repeats=repeats, test_size=test_size, noise=noise,
                                 metric=metric, seed=seed, progress=progress)
    if out_dir is not None:
        from archscape.predictor_eval.plots import write_predictor_report

        write_predictor_report(out_dir, result)
    if as_json:
        click.echo(json.dumps(jsonable(result.to_json())))
        return
    for line in summary_lines(result):
        click.echo(line)
    if out_dir is not None:
        click.echo(f"wrote {out_dir / 'index.html'}")


__all__ = ["predictors"]
