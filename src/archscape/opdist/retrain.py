"""After a search: retrain the found cell from scratch, or grow a larger cell from its op ratio.

:func:`retrain_cell` trains the NB201 network of the cell with the project's
:class:`~archscape.train.trainer.Trainer` (``retrain_epochs``).
:func:`train_large_cell` (``large_cell_nodes``): a cell of ``n`` nodes (every
pair ``i < j`` an edge) whose ops are ``counts_from_ratio(ratio, n(n-1)/2)``
placed uniformly at random (a generator of ``SeedSequence(seed,
spawn_key=(TAG_LARGE,))``), trained on the search's data set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from archscape.opdist.darts_config import SearchConfig
from archscape.spaces.distribution import counts_from_ratio
from archscape.spaces import get_space
from archscape.spaces.nb201 import OPS
from archscape.train.darts_search import N_OPS, TAG_LARGE
from archscape.train.models import build_network
from archscape.train.trainer import TrainConfig, Trainer



def _train_config(cfg: SearchConfig, epochs: int) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=cfg.batch_size, device=cfg.device, threads=cfg.threads,
                       deterministic=cfg.deterministic)


def _train_summary(result) -> dict[str, Any]:
    return {"val_acc": result.val_acc, "test_acc": result.test_acc, "train_acc": result.train_acc,
            "params": result.params, "flops": result.flops, "epochs": result.epochs, "train_time": result.train_time,
            "curve": list(result.curve)}


def retrain_cell(genotype: Sequence[int], data, config: SearchConfig, *, seed: int = 0) -> dict[str, Any]:
    """Train the NB201 network of a cell from scratch (``channels``, ``cells`` of the search) with the Trainer."""
    g = get_space("nb201").as_genotype(tuple(genotype))

    def factory():
        return build_network("nb201", g, num_classes=data.num_classes, in_channels=data.in_channels,
                             input_size=data.input_size, C=config.channels, N=config.cells)

    result = Trainer(_train_config(config, config.retrain_epochs)).fit(factory, data, seed=seed)
    return {"arch": get_space("nb201").format(g), **_train_summary(result)}


def large_cell_ops(ratio: Sequence[float], n_nodes: int, rng: np.random.Generator, method: str = "round") -> tuple[int, ...]:
    """Ops of an ``n_nodes`` cell: counts of the ratio over its edges, placed uniformly at random."""
    from archscape.train.supernet import cell_edges  # needs torch

    n_edges = len(cell_edges(n_nodes))
    counts = counts_from_ratio(ratio, n_edges, method=method, rng=rng)
    # the same placement rule as sample_architecture (a uniformly random order of the op multiset)
    return tuple(int(o) for o in rng.permutation(np.repeat(np.arange(len(counts)), counts)))


def format_cell(ops: Sequence[int], n_nodes: int) -> str:
    """The arch string of an ``n_nodes`` cell (NB201's form: ``|op~i|`` per edge, nodes joined by ``+``)."""
    from archscape.train.supernet import cell_edges, check_cell_ops  # needs torch

    ops = check_cell_ops(tuple(int(o) for o in ops), n_nodes)
    nodes = []
    for j in range(1, n_nodes):
        nodes.append("|" + "|".join(f"{OPS[o]}~{i}" for o, (i, k) in zip(ops, cell_edges(n_nodes)) if k == j) + "|")
    return "+".join(nodes)


def train_large_cell(ratio: Sequence[float], n_nodes: int, data, config: SearchConfig, *, seed: int = 0,
                     epochs: int | None = None) -> dict[str, Any]:
    """Sample an ``n_nodes`` cell from ``ratio`` and train its NB201-skeleton network with the Trainer."""
    from archscape.train.supernet import CellNetwork  # needs torch

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(TAG_LARGE,)))
    ops = large_cell_ops(ratio, n_nodes, rng, config.ratio_method)

    def factory():
        return CellNetwork(ops, data.num_classes, n_nodes=n_nodes, C=config.channels, N=config.cells,
                           in_channels=data.in_channels)

    result = Trainer(_train_config(config, epochs or config.large_cell_epochs)).fit(factory, data, seed=seed)
    counts = np.bincount(np.asarray(ops), minlength=N_OPS).tolist()
    return {"n_nodes": n_nodes, "n_edges": len(ops), "ops": list(ops), "counts": counts,
            "arch": format_cell(ops, n_nodes), "ratio": [float(r) for r in ratio], **_train_summary(result)}


__all__ = ["format_cell", "large_cell_ops", "retrain_cell", "train_large_cell"]
