"""``archscape opdist darts``: DARTS and distribution DARTS on the NAS-Bench-201 cell.

A thin layer over :mod:`archscape.opdist.differentiable`: one search a seed,
each found cell scored by the NB201 tables, a summary over the seeds, and
with ``--out`` the results (``results.json``), the per-epoch architecture
probabilities (``trajectory.csv``) and a plot of them per seed
(``trajectory-seed<S>.png``).  Nothing here imports torch until a search runs.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import click

from archscape.errors import ArchscapeError
from archscape.opdist.darts_config import ESTIMATORS, SearchConfig

_D = SearchConfig()  # the API's defaults are the command's

_SHORT = {"none": "none", "skip_connect": "skip", "nor_conv_1x1": "conv1x1", "nor_conv_3x3": "conv3x3",
          "avg_pool_3x3": "pool"}
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
                   "archscape.opdist.differentiable).")
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
            _write(out, method, cfg, data, results)

    run_seeds(method, cfg, seed_list, data=data, progress=say, on_result=done)
    payload = _payload(method, cfg, data, results)
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
    from archscape.spaces.nb201 import OPS

    return " ".join(f"{_SHORT[o]} {format(v, fmt)}" for o, v in zip(OPS, values))


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


# ------------------------------------------------------------------ files
def _clean(obj):
    """JSON-safe: NaN and infinities become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _payload(method: str, cfg, data, results) -> dict[str, Any]:
    from archscape.opdist.seed_summary import summarize

    return _clean({"method": method, "data": data.summary(), "data_info": data.info,
                   "runs": [r.to_dict() for r in results], "summary": summarize(results)})


def _write(out: Path, method: str, cfg, data, results) -> None:
    from archscape.spaces.nb201 import OPS
    from archscape.util import atomic_path

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchscapeError(f"cannot create the output folder {out}: {exc.strerror}") from None
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(_payload(method, cfg, data, results), indent=2, allow_nan=False) + "\n")
    with atomic_path(out / "trajectory.csv") as tmp, tmp.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["seed", "epoch", "edge", *OPS])
        for r in results:
            for h in r.history:
                rows = h["probabilities"] if "probabilities" in h else [h["ratio"]]
                for e, row in enumerate(rows):
                    w.writerow([r.seed, h["epoch"], e if "probabilities" in h else "all", *(f"{v:.6f}" for v in row)])
    _plot(out / f"trajectory-seed{results[-1].seed}.png", results[-1])


def _plot(path: Path, r) -> None:
    """Architecture probabilities against the epoch: one panel per edge (DARTS) or one for the ratio."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from archscape.spaces.nb201 import EDGES, OPS
    from archscape.util import atomic_path

    epochs = [h["epoch"] for h in r.history]
    if r.method == "darts":
        fig = Figure(figsize=(10, 5.2))
        axes = fig.subplots(2, 3, sharex=True, sharey=True).ravel()
        for e, ax in enumerate(axes):
            for k, op in enumerate(OPS):
                ax.plot(epochs, [h["probabilities"][e][k] for h in r.history], marker="o", markersize=3, label=_SHORT[op])
            ax.set_title(f"edge {EDGES[e][0]}->{EDGES[e][1]}", fontsize=9)
        axes[0].legend(fontsize=7, frameon=False)
        for ax in axes[3:]:
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.suptitle(f"DARTS seed {r.seed}: softmax(alpha) per edge; found {r.arch}", fontsize=8)
    else:
        fig = Figure(figsize=(5.5, 3.6))
        ax = fig.subplots()
        for k, op in enumerate(OPS):
            ax.plot(epochs, [h["ratio"][k] for h in r.history], marker="o", markersize=3, label=_SHORT[op])
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("op ratio softmax(theta)")
        ax.legend(fontsize=7, frameon=False)
        ax.set_title(f"distribution seed {r.seed} ({r.settings['estimator']})", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
