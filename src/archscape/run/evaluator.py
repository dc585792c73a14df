"""The evaluator interface: what the runner asks of every way to value an architecture.

An evaluator turns ``(genotype, u, fidelity)`` into one :class:`Outcome`, the
result schema that every evaluator returns (a table look-up, a surrogate
query, a real training, a distribution's samples):

* ``objective``: the value the optimizer maximises (``nan`` when failed);
* ``report``: the denoised value a report reads for the incumbent;
* ``metrics``: every metric of the evaluation (JSON-able values);
* ``cost``: the (simulated or measured) seconds of training it stands for;
* ``row``, ``noise_seed``, ``fidelity``: where the value came from;
* ``status`` ``"ok"`` or ``"failed"`` with ``error`` (one line): an
  evaluation that cannot be made is *recorded*, never raised, so the search
  goes on.

``u`` is the evaluation's uniform number from the trial's noise stream
(:mod:`archscape.run.seeding`): every evaluation consumes exactly one, and an
evaluator draws all its randomness from it, so the same
``(genotype, u, fidelity)`` gives the same outcome (up to the metrics named
in :attr:`Evaluator.measured`, timings measured on the machine).

Evaluators are found by name in :data:`EVALUATORS` (lazy ``"module:attr"``
targets, so the runner imports neither :mod:`archscape.train` nor
:mod:`archscape.opdist`); :func:`evaluator_name` says which one a study uses
and :meth:`Evaluator.from_config` builds it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from archscape.benchmarks.registry import load_benchmark
from archscape.benchmarks.table import TableBenchmark
from archscape.registry import Registry
from archscape.spaces.base import Genotype, SearchSpace

if TYPE_CHECKING:  # annotations only
    from archscape.run.config import RunConfig


class Outcome(NamedTuple):
    """What one evaluation produced (the runner adds times and numbering)."""

    row: int | None
    objective: float  # nan when failed
    report: float | None
    metrics: dict[str, Any]
    cost: float
    noise_seed: int | None
    fidelity: int | None
    status: str = "ok"
    error: str | None = None

    @classmethod
    def failure(cls, error: str, fidelity: int | None, *, cost: float = 0.0, metrics: dict[str, Any] | None = None,
                noise_seed: int | None = None) -> Outcome:
        """A failed evaluation: no objective, the reason in one line."""
        return cls(None, math.nan, None, dict(metrics or {}), float(cost), noise_seed, fidelity, "failed", error)


class Evaluator(ABC):
    """Values architectures for one study (see the module docstring).

    Subclasses set :attr:`objective`, :attr:`report_metric`, :attr:`fidelity`
    and :attr:`noise` and implement :attr:`space` and :meth:`evaluate`; the
    other members are optional capabilities with defaults.
    """

    #: the metric the optimizer maximises
    objective: str
    #: the (denoised) metric a report reads for the incumbent
    report_metric: str
    #: the study's fidelity (epochs), ``None`` where the benchmark has none
    fidelity: int | None
    #: the noise mode: ``"seed"``, ``"mean"`` or a seed number
    noise: Any
    #: what the study ran on, stored as its benchmark label (``None``: the config's benchmark)
    label: str | None = None
    #: metrics (and ``"cost"``) measured on the machine, e.g. wall times: they differ between identical runs
    measured: frozenset[str] = frozenset()

    @property
    @abstractmethod
    def space(self) -> SearchSpace:
        """The space the optimizers search."""

    @abstractmethod
    def evaluate(self, genotype: Genotype, u: float, fidelity: int | None = None) -> Outcome:
        """Value ``genotype`` with noise number ``u``; ``fidelity`` (an optimizer's request) overrides the study's.

        Never raises for an architecture that cannot be valued: returns a failed :class:`Outcome`.
        """

    def optimum(self) -> tuple[str | None, float]:
        """The best architecture (text form) and its report value, the reference of regret.

        Default: unknown, no architecture and 100 % (regret measured from 100 %).
        """
        return None, 100.0

    def attach_progress(self, progress: Any) -> None:
        """Show the evaluator's own progress (e.g. training epochs) on the runner's rich bar; default: nothing."""

    @classmethod
    def from_config(cls, config: RunConfig) -> Evaluator:
        """The evaluator of a study's settings."""
        raise NotImplementedError(f"{cls.__name__} cannot be built from a study's settings")

    @classmethod
    def example(cls, workdir: Path) -> Evaluator:
        """A small, fast instance (files, if any, under ``workdir``): the subject of the conformance suite."""
        raise NotImplementedError(f"{cls.__name__} declares no example")


#: evaluator name -> class (a subclass of :class:`Evaluator`)
EVALUATORS: Registry[Evaluator] = Registry("evaluator")
EVALUATORS.register("table", "archscape.run.evaluators:TableEvaluator")
EVALUATORS.register("query", "archscape.run.evaluators:QueryEvaluator")
EVALUATORS.register("train", "archscape.train.evaluator:TrainEvaluator")
EVALUATORS.register("opdist", "archscape.opdist.evaluator:OpDistEvaluator")

#: the suffix of distribution spaces (``<base>-opdist``), evaluated by sampling cells
OPDIST_SUFFIX = "-opdist"


def evaluator_name(config: RunConfig) -> str:
    """The registered evaluator a study uses.

    ``train`` (``evaluator: train``), ``opdist`` (a distribution space), else
    the benchmark's: ``table`` for a table, ``query`` for a benchmark that
    answers any architecture by a model (a surrogate such as ``nb301``).
    """
    if config.evaluator == "train":
        return "train"
    if config.space is not None and config.space.endswith(OPDIST_SUFFIX):
        return "opdist"
    return "table" if isinstance(load_benchmark(config.benchmark), TableBenchmark) else "query"


def build_evaluator(config: RunConfig) -> Evaluator:
    """The evaluator of ``config`` (looked up by :func:`evaluator_name`)."""
    return EVALUATORS.get(evaluator_name(config)).from_config(config)


__all__ = ["EVALUATORS", "OPDIST_SUFFIX", "Evaluator", "Outcome", "build_evaluator", "evaluator_name"]
