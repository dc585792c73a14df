"""The output of ``archscape opdist darts``: the JSON payload, ``results.json``, ``trajectory.csv`` and plots.

Per-epoch architecture probabilities (``trajectory.csv``) and a plot of them
per seed (``trajectory-seed<S>.png``); nothing here imports torch.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from archscape.errors import ArchscapeError
from archscape.opdist.seed_summary import summarize
from archscape.report.jsondata import jsonable

#: short names of the NB201 operations in tables and legends
SHORT_OPS = {"none": "none", "skip_connect": "skip", "nor_conv_1x1": "conv1x1", "nor_conv_3x3": "conv3x3",
             "avg_pool_3x3": "pool"}


def darts_payload(method: str, cfg, data, results) -> dict[str, Any]:
    """What ``--json`` prints and ``results.json`` holds: the data, every run and the summary over seeds."""
    return jsonable({"method": method, "data": data.summary(), "data_info": data.info,
                     "runs": [r.to_dict() for r in results], "summary": summarize(results)})


def write_darts_outputs(out: Path, method: str, cfg, data, results) -> None:
    """``results.json`` (the payload), ``trajectory.csv`` (architecture probabilities per epoch) and the
    latest seed's ``trajectory-seed<S>.png`` in ``out``."""
    from archscape.spaces.nb201 import OPS
    from archscape.util import atomic_path

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchscapeError(f"cannot create the output folder {out}: {exc.strerror}") from None
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(darts_payload(method, cfg, data, results), indent=2, allow_nan=False) + "\n")
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
                ax.plot(epochs, [h["probabilities"][e][k] for h in r.history], marker="o", markersize=3, label=SHORT_OPS[op])
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
            ax.plot(epochs, [h["ratio"][k] for h in r.history], marker="o", markersize=3, label=SHORT_OPS[op])
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("op ratio softmax(theta)")
        ax.legend(fontsize=7, frameon=False)
        ax.set_title(f"distribution seed {r.seed} ({r.settings['estimator']})", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)


__all__ = ["SHORT_OPS", "darts_payload", "write_darts_outputs"]
