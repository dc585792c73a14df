"""Evaluating a distribution: sample architectures from it and query the base benchmark.

A study on ``--space nb201-opdist -b nb201-cifar10`` runs its optimizers on
count vectors; each evaluation samples ``samples`` architectures (default 1)
with exactly those counts, placed uniformly at random, and queries the
table for each, with the study's noise.  The optimizer is told the mean
objective of the samples; the report value is the mean denoised value of the
same samples, so regret is measured from the table's global optimum exactly
as for an optimizer on the full cells, and both share one plot.

Seeding: an evaluation gets one uniform number ``u`` from the trial's noise
stream, like every evaluation (see :mod:`archscape.run.evaluator`); it
seeds a generator that places the ops and draws each sample's training seed.
So a distribution study is reproducible and resumes to the same numbers.

The store keeps both: the ``arch`` column holds the distribution, the
metrics hold ``architectures`` (the sampled cells' text forms), their
``objectives`` and ``reports``, and the mean of every numeric metric.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from archscape.benchmarks.registry import load_benchmark
from archscape.errors import ArchscapeError
from archscape.run.config import RunConfig
from archscape.run.evaluator import Evaluator, Outcome
from archscape.run.evaluators import TableEvaluator, make_evaluator
from archscape.spaces import get_space
from archscape.spaces.opdist import OpDistSpace


class OpDistEvaluator(Evaluator):
    """Evaluates count vectors of ``space`` by sampling cells and querying ``table``'s benchmark."""

    def __init__(self, table: TableEvaluator, space: OpDistSpace, samples: int = 1) -> None:
        if table.bench.space.name != space.base.name:
            raise ArchscapeError(f"{space.name} searches {space.base.name} cells; {table.bench.name} is a benchmark of "
                                 f"{table.bench.space.name}")
        if not table.bench.covers_space:
            raise ArchscapeError(f"{table.bench.name} holds only part of the {space.base.name} space; distributions "
                                 "sample cells that it lacks: use a complete table")
        if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
            raise ArchscapeError(f"samples per evaluation must be an integer >= 1; got {samples!r}")
        self.table = table
        self._space = space
        self.samples = samples
        self.objective = table.objective
        self.report_metric = table.report_metric
        self.fidelity = table.fidelity
        self.noise = table.noise

    @classmethod
    def from_config(cls, config: RunConfig) -> OpDistEvaluator:
        table = make_evaluator(load_benchmark(config.benchmark), noise=config.noise, fidelity=config.fidelity,
                               report_metric=config.report_metric)
        return cls(table, get_space(config.space), config.opdist_samples or 1)

    @classmethod
    def example(cls, workdir: Path) -> OpDistEvaluator:
        """Op-count vectors of the NB201 cell, two sampled cells an evaluation, on NB201 CIFAR-10."""
        return cls(TableEvaluator(load_benchmark("nb201-cifar10"), noise="seed"), get_space("nb201-opdist"), 2)

    @property
    def space(self) -> OpDistSpace:
        return self._space

    def optimum(self) -> tuple[str, float]:
        """The table's global optimum (a cell), the reference for regret."""
        return self.table.optimum()

    def evaluate(self, genotype: Any, u: float, fidelity: int | None = None) -> Outcome:
        try:
            counts = self._space.validate(genotype)
        except ArchscapeError as exc:
            return Outcome.failure(str(exc), self.fidelity if fidelity is None else fidelity)
        rng = np.random.default_rng(int(u * 2**53))
        base = self._space.base
        outs, archs = [], []
        for _ in range(self.samples):
            arch = self._space.architecture(counts, rng)
            archs.append(base.format(arch))
            outs.append(self.table.evaluate(arch, float(rng.random()), fidelity=fidelity))
        failed = [o for o in outs if o.status != "ok" or math.isnan(o.objective)]
        if failed:
            return Outcome.failure(failed[0].error, outs[0].fidelity, cost=sum(o.cost for o in outs),
                                   metrics={"architectures": archs})
        metrics: dict[str, Any] = {}
        for key in outs[0].metrics:
            values = [o.metrics.get(key) for o in outs]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                metrics[key] = float(np.mean(values))
        metrics["architectures"] = archs
        metrics["objectives"] = [o.objective for o in outs]
        metrics["reports"] = [o.report for o in outs]
        one = outs[0] if self.samples == 1 else None
        return Outcome(
            one.row if one else None,
            float(np.mean([o.objective for o in outs])),
            float(np.mean([o.report for o in outs])),
            metrics,
            float(sum(o.cost for o in outs)),
            one.noise_seed if one else None,
            outs[0].fidelity,
        )


__all__ = ["OpDistEvaluator"]
