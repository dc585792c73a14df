"""The settings of a differentiable search on the NB201 cell, and their validation.

:class:`SearchConfig` holds every setting of ``archscape opdist darts`` but
the seeds (:func:`check_seeds`); :meth:`SearchConfig.check` raises one line
naming a bad one.  What the settings do is told in
:mod:`archscape.train.darts_search` (the search) and
:mod:`archscape.opdist.darts` (scoring, retraining, larger cells).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archscape.data.datasets import canonical_name
from archscape.errors import ArchscapeError, UnknownName
from archscape.spaces.distribution import RATIO_METHODS
from archscape.train.darts_search import ESTIMATORS, METHODS

#: the data sets a search trains on
DATASETS = ("mnist", "fashion-mnist", "cifar10", "cifar100")
#: the largest cell of ``large_cell_nodes`` (supernet.MAX_NODES; not imported, that module needs torch)
MAX_CELL_NODES = 16


@dataclass(frozen=True)
class SearchConfig:
    """Settings of one search (the seed is an argument of the search functions)."""

    dataset: str = "mnist"
    train_subset: int | None = 2000
    val_subset: int | None = 1000
    test_subset: int | None = 1000
    #: seed of the train/validation split and the subsets, the same for every search seed
    data_seed: int = 0
    epochs: int = 4
    batch_size: int = 64
    #: supernet (and retrained network) width and cells per stage
    channels: int = 8
    cells: int = 1
    # ---- weights (DARTS' SGD; lr the trainer's 0.05 rather than DARTS' 0.025: few epochs)
    lr: float = 0.05
    lr_min: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    # ---- architecture.  DARTS' 3e-4 is tuned for ~20,000 steps (50 epochs of 25,000 images);
    # a CPU run makes ~100 (3 epochs of 31 batches), and Adam moves a logit by about lr a step,
    # so logits could not move by O(1) with less than ~0.01.
    arch_lr: float = 0.03
    arch_weight_decay: float = 1e-3
    #: epochs of weight steps only before architecture steps begin: an untrained supernet's
    #: gradients mostly favour the parameter-free ops, which then stay ahead
    warmup_epochs: int = 1
    second_order: bool = False
    estimator: str = "expected"
    tau_max: float = 10.0
    tau_min: float = 0.1
    baseline_decay: float = 0.9
    #: how the distribution's ratio becomes op counts (``round`` or ``multinomial``)
    ratio_method: str = "round"
    # ---- after the search
    retrain_epochs: int = 0
    large_cell_nodes: int | None = None
    large_cell_epochs: int = 2
    device: str = "auto"
    #: torch CPU threads during the run (None: leave torch's setting); CPU numbers depend on it
    threads: int | None = None
    deterministic: bool = True

    def check(self, method: str | None = None) -> SearchConfig:
        """Raise one line naming a bad setting; returns ``self``."""
        def bad(key: str, accepted: str) -> ArchscapeError:
            return ArchscapeError(f"bad search setting {key}={getattr(self, key)!r}; accepted: {accepted}")

        def is_int(v) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        if method is not None and method not in METHODS:
            raise ArchscapeError(f"unknown search method {method!r}; accepted: {', '.join(METHODS)}")
        try:
            known = canonical_name(self.dataset) in DATASETS
        except UnknownName:
            known = False
        if not known:
            raise ArchscapeError(f"unknown data set {self.dataset!r} for the search; accepted: {', '.join(DATASETS)}")
        for key, low in (("epochs", 1), ("batch_size", 2), ("channels", 1), ("cells", 0), ("retrain_epochs", 0),
                         ("large_cell_epochs", 1), ("warmup_epochs", 0), ("data_seed", 0)):
            v = getattr(self, key)
            if not is_int(v) or v < low:
                raise bad(key, f"an integer >= {low}")
        for key in ("train_subset", "val_subset"):
            v = getattr(self, key)
            if v is not None and (not is_int(v) or v < 2):
                raise bad(key, "a count of images >= 2 (the weight steps use train, the architecture steps val)")
        if self.test_subset is not None and (not is_int(self.test_subset) or self.test_subset < 0):
            raise bad("test_subset", "a count of images >= 0")
        if self.warmup_epochs >= self.epochs:
            raise bad("warmup_epochs", f"fewer than the {self.epochs} epochs (else nothing is searched)")
        for key in ("lr", "arch_lr", "tau_max", "tau_min", "grad_clip"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise bad(key, "a number > 0")
        if not 0 <= self.lr_min <= self.lr:
            raise bad("lr_min", f"a number in [0, lr={self.lr}]")
        if not 0 <= self.momentum < 1:
            raise bad("momentum", "a number in [0, 1)")
        for key in ("weight_decay", "arch_weight_decay"):
            if not getattr(self, key) >= 0:
                raise bad(key, "a number >= 0")
        if self.tau_min > self.tau_max:
            raise bad("tau_min", f"a number <= tau_max={self.tau_max}")
        if not 0 <= self.baseline_decay < 1:
            raise bad("baseline_decay", "a number in [0, 1)")
        if self.estimator not in ESTIMATORS:
            raise bad("estimator", ", ".join(ESTIMATORS))
        if self.ratio_method not in RATIO_METHODS:
            raise bad("ratio_method", ", ".join(RATIO_METHODS))
        if self.large_cell_nodes is not None and (not is_int(self.large_cell_nodes)
                                                  or not 2 <= self.large_cell_nodes <= MAX_CELL_NODES):
            raise bad("large_cell_nodes", f"an integer in 2..{MAX_CELL_NODES}")
        if self.threads is not None and not (is_int(self.threads) and self.threads >= 1):
            raise bad("threads", "an integer >= 1 or None")
        if method == "distribution" and self.second_order:
            raise ArchscapeError("second-order (unrolled) gradients are DARTS'; the distribution method is first order")
        from archscape.train.trainer import resolve_device  # imported when a search is checked: a light CLI start

        resolve_device(self.device)
        return self

    def tau(self, epoch: int) -> float:
        """Gumbel temperature of ``epoch`` (0-based): linear from ``tau_max`` to ``tau_min``."""
        if self.epochs == 1:
            return float(self.tau_max)
        return float(self.tau_max - (self.tau_max - self.tau_min) * epoch / (self.epochs - 1))


def check_seeds(seeds: Sequence[int] | str) -> tuple[int, ...]:
    """Seeds as a tuple of distinct ints >= 0 (a string: comma-separated), or one line saying what is wrong."""
    text = seeds if isinstance(seeds, str) else None
    try:
        values = [int(s) for s in text.split(",")] if text is not None else [int(s) for s in seeds]
        if text is None and any(isinstance(s, bool) or int(s) != s for s in seeds):
            raise ValueError
    except (TypeError, ValueError):
        raise ArchscapeError(f"seeds are comma-separated integers >= 0, e.g. 0,1,2; got {seeds!r}") from None
    if not values or any(v < 0 for v in values) or len(set(values)) != len(values):
        raise ArchscapeError(f"seeds are distinct integers >= 0, at least one, e.g. 0,1,2; got {seeds!r}")
    return tuple(values)


__all__ = ["DATASETS", "ESTIMATORS", "MAX_CELL_NODES", "METHODS", "SearchConfig", "check_seeds"]
