"""The benchmark interface and the one result schema.

A benchmark knows *values*: ``query(genotype, noise=..., fidelity=...)``
returns an :class:`Evaluation` with metrics and the simulated cost of the
training it stands for.  Tabular and real-training benchmarks return the same
schema, so optimizers, the runner and reports read both alike.

Metric units, the same in every benchmark:

=============  ==========================================
``val_acc``    validation accuracy, percent
``test_acc``   test accuracy, percent
``train_time`` training time of the result, seconds
``latency``    inference latency, seconds
``params``     parameters, millions
``flops``      FLOPs, millions
=============  ==========================================

Noise is explicit.  ``noise="seed"`` draws one of the recorded training seeds
per query from the caller's generator (the benchmark's own noise),
``noise="mean"`` averages the recorded seeds (denoised), and an integer picks
that seed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Union

import numpy as np

from archscape.errors import ArchscapeError, UnsupportedOperation, unknown
from archscape.spaces.base import Genotype, SearchSpace

Noise = Union[str, int]

METRIC_UNITS = {
    "val_acc": "%",
    "test_acc": "%",
    "train_time": "s",
    "latency": "s",
    "params": "M",
    "flops": "M",
}


class Evaluation(NamedTuple):
    """One benchmark answer: the result schema shared by tables and training.

    A named tuple rather than a dataclass because a table answers in a few
    microseconds and building a frozen dataclass alone would cost more.
    """

    genotype: Genotype
    #: row of the benchmark's table (the official index where the space has one)
    index: int | None
    metrics: Mapping[str, float]
    #: simulated seconds of training this result stands for
    cost: float
    fidelity: int | None
    #: recorded seed used, or ``None`` for the mean over seeds
    seed: int | None = None
    extra: Mapping[str, Any] = MappingProxyType({})


def check_noise(noise: Any) -> Noise:
    """Validate a noise mode; accepts ``"mean"``, ``"seed"`` or a seed number (also as text)."""
    if isinstance(noise, str):
        if noise in ("mean", "seed"):
            return noise
        digits = noise.strip().removeprefix("-")
        if digits.isascii() and digits.isdigit() and len(digits) <= 20:  # one sign, ASCII digits (int() refuses others)
            noise = int(noise)
        else:
            shown = repr(noise) if len(noise) <= 40 else repr(noise[:40]) + f"... ({len(noise):,} characters)"
            raise ArchscapeError(f"unknown noise mode {shown}; accepted: mean, seed, or a seed number 0, 1, ...")
    if isinstance(noise, (int, np.integer)) and not isinstance(noise, bool):
        if noise < 0:
            raise ArchscapeError(f"seed number must be >= 0; got {noise}")
        return int(noise)
    raise ArchscapeError(f"unknown noise mode {noise!r}; accepted: mean, seed, or a seed number 0, 1, ...")


class Benchmark(ABC):
    """Abstract benchmark: values for the architectures of one search space."""

    name: str = ""
    space: SearchSpace
    #: metric names this benchmark reports (keys of ``Evaluation.metrics``)
    metrics: tuple[str, ...] = ()
    #: the metric a search maximises by default
    objective: str = "val_acc"
    #: the metric a report reads for the incumbent (e.g. a test accuracy), default the objective
    report_metric: str | None = None
    fidelities: tuple[int, ...] = ()
    default_fidelity: int | None = None
    description: str = ""

    @abstractmethod
    def query(
        self,
        arch: Any,
        *,
        noise: Noise = "mean",
        fidelity: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> Evaluation:
        """Value of one architecture (genotype, text form or index)."""

    def query_many(self, archs: Iterable[Any], **kwargs: Any) -> list[Evaluation]:
        return [self.query(a, **kwargs) for a in archs]

    # ------------------------------------------------------------ checking
    def check_fidelity(self, fidelity: Any) -> int | None:
        if fidelity is None:
            return self.default_fidelity
        try:
            value = int(fidelity)
        except (TypeError, ValueError):
            value = None
        if value is None or value not in self.fidelities or str(fidelity).strip() not in (str(value), f"{value}.0"):
            raise unknown(f"fidelity for {self.name}", fidelity, self.fidelities)
        return value

    def check_metric(self, metric: str) -> str:
        """``metric`` if this benchmark reports it, else one line naming the metrics it does."""
        if metric not in self.metrics:
            raise unknown(f"metric of {self.name}", metric, self.metrics)
        return metric

    # ------------------------------------------------------------ describing
    def info(self) -> dict[str, Any]:
        """A summary for ``archscape bench list``."""
        return {
            "name": self.name,
            "space": self.space.name,
            "size": self.size,
            "metrics": list(self.metrics),
            "objective": self.objective,
            "fidelities": list(self.fidelities),
            "default_fidelity": self.default_fidelity,
            "noise_seeds": self.noise_seeds,
            "description": self.description,
        }

    @property
    def size(self) -> int | None:
        return self.space.size

    @property
    def noise_seeds(self) -> str:
        """Human summary of the recorded seeds, e.g. ``"2-3"``."""
        return "1"

    def evaluation_json(self, evaluation: Evaluation) -> dict[str, Any]:
        """The JSON form printed by ``bench query --json``."""
        out = {
            "benchmark": self.name,
            "arch": self.space.format(evaluation.genotype),
            "index": evaluation.index,
            "fidelity": evaluation.fidelity,
            "training_seed": evaluation.seed,  # the table's recorded training run answered (None: the mean)
            "cost": evaluation.cost,
            "metrics": {k: _json_float(v) for k, v in evaluation.metrics.items()},
        }
        out.update(evaluation.extra)
        return out

    def unsupported_noise(self, noise: Noise) -> UnsupportedOperation:
        return UnsupportedOperation(f"{self.name} cannot provide noise mode {noise!r}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def _json_float(value: float) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value
