"""The ``train`` evaluator: an architecture's value is what real training gives it.

It implements the runner's :class:`~archscape.run.evaluator.Evaluator` and its one result schema
(:class:`~archscape.run.evaluator.Outcome`),
so every optimizer runs unchanged against a table or against training:

* ``objective``: validation accuracy (%) after the last epoch; ``report``:
  test accuracy (%) (validation accuracy when there is no test split);
* ``metrics``: ``val_acc``, ``test_acc``, ``train_acc``, ``train_loss``,
  ``train_time``, ``eval_time``, ``params`` (M), ``flops`` (MFLOPs),
  ``epochs``, ``images_per_s``, ``device``, ``lr``, ``batch_size`` and the
  learning curve ``curve`` (validation accuracy after each epoch) with
  ``loss_curve``;
* ``cost``: the training seconds; ``fidelity``: the epochs; ``noise_seed``:
  the training seed.

The training seed comes from the evaluation's uniform number ``u`` of the
trial's noise stream: ``int(u * 2**31)`` (noise ``"seed"``), so a trial is
reproducible and resumes to the same numbers; a fixed seed number trains
every architecture with that seed.  A run that diverges (NaN loss), runs out
of memory or crashes is returned as ``status="failed"`` with its reason, and
the search goes on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from archscape.benchmarks.registry import load_benchmark
from archscape.errors import ArchscapeError
from archscape.run.config import RunConfig
from archscape.run.evaluator import Evaluator, Outcome
from archscape.spaces import get_space
from archscape.spaces.base import Genotype, SearchSpace
from archscape.train import require_torch
from archscape.train.models import build_network, network_builder

#: settings of the ``train`` mapping that choose and split the data
DATA_KEYS = ("dataset", "root", "val_fraction", "split_seed", "train_subset", "val_subset", "test_subset", "augment", "image_size")


class TrainEvaluator(Evaluator):
    """Evaluates architectures of ``space`` by training them on a data set."""

    objective = "val_acc"
    measured = frozenset({"cost", "train_time", "eval_time", "images_per_s"})

    def __init__(
        self,
        space: str,
        settings: Mapping[str, Any] | Any = None,
        *,
        noise: Any = "seed",
        report_metric: str | None = None,
        progress: Any = False,
        data: Any = None,
    ) -> None:
        require_torch()
        from archscape.train.datasets import load_dataset
        from archscape.train.trainer import TrainConfig, Trainer

        if settings is None:
            settings = {}
        elif not isinstance(settings, Mapping):
            settings = settings.model_dump()  # the run config's TrainSettings
        settings = dict(settings)
        self.space_name = str(space)
        self._check_builder()
        self.network_options = dict(settings.pop("network", None) or {})
        data_settings = {k: settings.pop(k) for k in DATA_KEYS if k in settings}
        dataset = data_settings.pop("dataset", "cifar10")
        if "split_seed" in data_settings:
            data_settings["seed"] = data_settings.pop("split_seed")
        if data_settings.get("val_fraction", 0.1) <= 0:
            raise ArchscapeError("the train evaluator needs a validation split (val_fraction > 0): it is what the search optimizes")
        self.data = data if data is not None else load_dataset(dataset, **data_settings)
        try:
            config = TrainConfig(**settings, progress=progress)
        except TypeError as exc:
            raise ArchscapeError(f"unknown training setting: {exc}") from None
        self.trainer = Trainer(config)
        if noise == "mean":
            raise ArchscapeError("the train evaluator trains once per query: noise must be 'seed' or a seed number, not 'mean'")
        if not (noise == "seed" or (isinstance(noise, int) and not isinstance(noise, bool) and noise >= 0)):
            raise ArchscapeError(f"unknown noise mode {noise!r} for training; accepted: seed, or a seed number 0, 1, ...")
        self.noise = noise
        self.fidelity = config.epochs
        metrics = ("val_acc", "test_acc") if len(self.data.test) else ("val_acc",)
        self.report_metric = report_metric or metrics[-1]
        if self.report_metric not in metrics:
            raise ArchscapeError(f"unknown report metric {self.report_metric!r} for training; accepted: {', '.join(metrics)}")
        #: what the study ran on, e.g. ``train:nago/fashion-mnist`` (stored as its benchmark label)
        self.name = self.label = f"train:{self.space_name}/{self.data.name}"

    @classmethod
    def from_config(cls, config: RunConfig) -> TrainEvaluator:
        space = config.space or load_benchmark(config.benchmark).space.name
        return cls(space, config.train, noise=config.noise, report_metric=config.report_metric)

    @classmethod
    def example(cls, workdir: Path) -> TrainEvaluator:
        """NB201 networks 4 channels wide, one cell a stage, trained for one epoch on 200 tiny grey images."""
        require_torch()
        from archscape.train.datasets import toy_dataset

        return cls("nb201", {"epochs": 1, "batch_size": 50, "network": {"C": 4, "N": 1}}, data=toy_dataset())

    # ------------------------------------------------------------ the evaluator interface
    @cached_property
    def space(self) -> SearchSpace:
        return get_space(self.space_name)

    def seed_of(self, u: float) -> int:
        """The training seed of an evaluation whose noise number is ``u``."""
        return int(u * 2**31) if self.noise == "seed" else int(self.noise)

    def build(self, genotype: Genotype):
        """A fresh network for ``genotype`` (what :meth:`evaluate` trains)."""
        d = self.data
        return build_network(self.space_name, genotype, num_classes=d.num_classes, in_channels=d.in_channels,
                             input_size=d.input_size, **self.network_options)

    def evaluate(self, genotype: Genotype, u: float, fidelity: int | None = None) -> Outcome:
        """Train ``genotype`` for ``fidelity`` epochs (default: the configured epochs)."""
        from archscape.train.trainer import TrainingFailed

        epochs = self.fidelity if fidelity is None else int(fidelity)
        seed = self.seed_of(u)
        start = time.perf_counter()
        try:
            result = self.trainer.fit(partial(self.build, genotype), self.data, seed=seed, epochs=epochs)
        except TrainingFailed as exc:
            metrics = {"curve": list(exc.curve), "failed_epoch": exc.epoch, "train_time": exc.train_time}
            return Outcome.failure(exc.reason, epochs, cost=exc.train_time, metrics=metrics, noise_seed=seed)
        except Exception as exc:  # a crash of one network must not stop the search
            _release_memory()
            elapsed = time.perf_counter() - start
            return Outcome.failure(_one_line(exc), epochs, cost=elapsed, noise_seed=seed)
        metrics = result.metrics()
        return Outcome(None, result.val_acc, metrics[self.report_metric], metrics, result.train_time, seed, epochs)

    def attach_progress(self, progress: Any) -> None:
        """Show each training's epochs on the runner's rich progress bar (``None``: no bar)."""
        from dataclasses import replace

        self.trainer.config = replace(self.trainer.config, progress=progress if progress is not None else False)

    # ------------------------------------------------------------ internals
    def _check_builder(self) -> None:
        network_builder(self.space_name)  # the space declares its builder; one line when it has none


def _one_line(exc: BaseException, limit: int = 400) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _release_memory() -> None:
    torch = require_torch()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
