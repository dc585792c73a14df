"""Evaluators: turn an architecture into one stored result.

An evaluator wraps a benchmark for one study: the noise mode, the fidelity,
the metric the optimizer maximises (``objective``) and the metric a report
reads for the incumbent (``report``, always denoised).  Each evaluation
consumes exactly one uniform number ``u`` from the trial's noise generator,
whatever the noise mode, so a resumed trial re-aligns its noise stream by
drawing one number per replayed evaluation.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from archscape.benchmarks.base import Benchmark, check_noise
from archscape.benchmarks.table import TableBenchmark
from archscape.errors import ArchscapeError
from archscape.spaces.base import Genotype, SearchSpace


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


class TableEvaluator:
    """Evaluates architectures on a tabular benchmark."""

    def __init__(
        self,
        bench: TableBenchmark,
        *,
        noise: Any = "seed",
        fidelity: int | None = None,
        objective: str | None = None,
        report_metric: str | None = None,
    ) -> None:
        self.bench = bench
        self.noise = check_noise(noise)
        self.fidelity = bench.check_fidelity(fidelity)
        table = bench.tables[self.fidelity]
        self.objective = bench._metric_in(table, objective or bench.objective)
        self.report_metric = bench._metric_in(table, report_metric or bench.report_metric or self.objective)
        # The report column is read once; a report never pays for a query.
        self.report_values = bench.values(self.report_metric, noise="mean", fidelity=self.fidelity)
        self._n_seeds = table.n_seeds.tolist()
        if isinstance(self.noise, int):
            lacking = int((table.n_seeds <= self.noise).sum())
            if lacking:
                raise ArchscapeError(
                    f"noise seed {self.noise} was not recorded for {lacking:,} architectures of {bench.name}; "
                    f"accepted: 0..{int(table.n_seeds.min()) - 1}, mean or seed"
                )

    @property
    def space(self) -> SearchSpace:
        return self.bench.search_space()

    def optimum(self) -> tuple[str, float]:
        """Best architecture by the report metric and its value (for regret)."""
        row = int(np.nanargmax(self.report_values))
        return self.bench.space.format(self.bench._genotype_of(row)), float(self.report_values[row])

    def evaluate(self, genotype: Genotype, u: float, fidelity: int | None = None) -> Outcome:
        """Query ``genotype``; ``fidelity`` (an optimizer's request) overrides the study's."""
        fidelity = self.fidelity if fidelity is None else self.bench.check_fidelity(fidelity)
        try:
            row = self.bench.row_of(genotype)
        except ArchscapeError as exc:
            return Outcome(None, math.nan, None, {}, 0.0, None, fidelity, "failed", str(exc))
        if self.noise == "seed":
            n_seeds = self._n_seeds[row] if fidelity == self.fidelity else int(self.bench.tables[fidelity].n_seeds[row])
            seed: Any = int(u * n_seeds)
        elif self.noise == "mean":
            seed = "mean"
        else:
            seed = self.noise
        ev = self.bench.query_row(row, noise=seed, fidelity=fidelity)
        return Outcome(
            row, ev.metrics[self.objective], float(self.report_values[row]), ev.metrics, ev.cost, ev.seed, ev.fidelity
        )


def make_evaluator(bench: Benchmark | None = None, *, kind: str = "table", **settings: Any):
    """The evaluator of a study.

    ``kind="table"``: queries the tabular benchmark ``bench``;
    ``kind="train"``: trains every architecture
    (:class:`archscape.train.evaluator.TrainEvaluator`; settings ``space``,
    ``settings`` (the ``train`` mapping), ``noise``, ``report_metric``;
    needs the ``train`` extra).
    """
    if kind == "train":
        from archscape.train.evaluator import TrainEvaluator

        return TrainEvaluator(**settings)
    if kind != "table":
        raise ArchscapeError(f"unknown evaluator {kind!r}; accepted: table, train")
    if isinstance(bench, TableBenchmark):
        return TableEvaluator(bench, **settings)
    raise ArchscapeError(f"{getattr(bench, 'name', bench)} has no table evaluator; use evaluator: train")
