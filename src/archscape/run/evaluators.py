"""Evaluators: turn an architecture into one stored result.

An evaluator wraps a benchmark for one study: the noise mode, the fidelity,
the metric the optimizer maximises (``objective``) and the metric a report
reads for the incumbent (``report``, always denoised).  Each evaluation
consumes exactly one uniform number ``u`` from the trial's noise generator,
whatever the noise mode, so a resumed trial re-aligns its noise stream by
drawing one number per replayed evaluation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from archscape.benchmarks.base import Benchmark, check_noise
from archscape.benchmarks.registry import load_benchmark
from archscape.benchmarks.table import TableBenchmark
from archscape.errors import ArchscapeError
from archscape.run.config import RunConfig
from archscape.run.evaluator import EVALUATORS, Evaluator, Outcome
from archscape.spaces.base import Genotype, SearchSpace


def benchmark_of(config: RunConfig) -> Benchmark:
    """The benchmark of a study that queries one, checked against the study's space."""
    bench = load_benchmark(config.benchmark)
    if config.space is not None and config.space != bench.space.name:
        raise ArchscapeError(f"{config.benchmark} is a benchmark of the {bench.space.name} space, not {config.space}; "
                             "drop --space, or train with --evaluator train")
    return bench


class BenchmarkEvaluator(Evaluator):
    """What the table and query evaluators share: a benchmark, its noise mode, fidelity and metrics."""

    #: whether the metrics must exist at the study's fidelity (tables) or at any of the benchmark's
    metrics_at_fidelity = True

    def __init__(self, bench: Benchmark, *, noise: Any, fidelity: int | None = None, objective: str | None = None,
                 report_metric: str | None = None) -> None:
        self.bench = bench
        self.noise = check_noise(noise)
        self.fidelity = bench.check_fidelity(fidelity)
        at = (self.fidelity,) if self.metrics_at_fidelity else ()
        self.objective = bench.check_metric(objective or bench.objective, *at)
        self.report_metric = bench.check_metric(report_metric or bench.report_metric or self.objective, *at)


class TableEvaluator(BenchmarkEvaluator):
    """Evaluates architectures on a tabular benchmark."""

    def __init__(self, bench: TableBenchmark, *, noise: Any = "seed", fidelity: int | None = None,
                 objective: str | None = None, report_metric: str | None = None) -> None:
        super().__init__(bench, noise=noise, fidelity=fidelity, objective=objective, report_metric=report_metric)
        table = bench.tables[self.fidelity]
        # The report column is read once; a report never pays for a query.
        self.report_values = bench.values(self.report_metric, noise="mean", fidelity=self.fidelity)
        self._n_seeds = table.n_seeds.tolist()
        self._reports = self.report_values.tolist()  # Python floats, read once per evaluation
        self._default_fidelity = bench.check_fidelity(None)
        if isinstance(self.noise, int):
            lacking = int((table.n_seeds <= self.noise).sum())
            if lacking:
                raise ArchscapeError(
                    f"noise seed {self.noise} was not recorded for {lacking:,} architectures of {bench.name}; "
                    f"accepted: 0..{int(table.n_seeds.min()) - 1}, mean or seed"
                )

    @classmethod
    def from_config(cls, config: RunConfig) -> TableEvaluator:
        bench = benchmark_of(config)
        if not isinstance(bench, TableBenchmark):
            raise ArchscapeError(f"{bench.name} is not a table; it is answered by the query evaluator")
        return cls(bench, noise=config.noise, fidelity=config.fidelity, report_metric=config.report_metric)

    @classmethod
    def example(cls, workdir: Path) -> TableEvaluator:
        return cls(load_benchmark("nb201-cifar10"), noise="seed", fidelity=12)

    @property
    def space(self) -> SearchSpace:
        return self.bench.search_space()

    def optimum(self) -> tuple[str, float]:
        """Best architecture by the report metric and its value (for regret)."""
        row = int(np.nanargmax(self.report_values))
        return self.bench.space.format(self.bench.genotype_of(row)), float(self.report_values[row])

    def evaluate(self, genotype: Genotype, u: float, fidelity: int | None = None) -> Outcome:
        """Query ``genotype``; ``fidelity`` (an optimizer's request) overrides the study's."""
        fidelity = self.fidelity if fidelity is None else self.bench.check_fidelity(fidelity)
        try:
            row = self.bench.row_of(genotype)
        except ArchscapeError as exc:
            return Outcome.failure(str(exc), fidelity)
        if self.noise == "seed":
            n_seeds = self._n_seeds[row] if fidelity == self.fidelity else int(self.bench.tables[fidelity].n_seeds[row])
            seed: Any = int(u * n_seeds)
        elif self.noise == "mean":
            seed = "mean"
        else:
            seed = self.noise
        # The table's own fidelity is passed as None: it was checked when the study was built (hot path).
        ev = self.bench.query_row(row, noise=seed, fidelity=None if fidelity == self._default_fidelity else fidelity)
        return Outcome(row, ev.metrics[self.objective], self._reports[row], ev.metrics, ev.cost, ev.seed, ev.fidelity)


class QueryEvaluator(BenchmarkEvaluator):
    """Evaluates architectures on a benchmark that is not a table (e.g. the ``nb301`` surrogate).

    Such a benchmark answers any architecture of its space by ``query``; it
    has no rows and no known optimum, so :meth:`optimum` gives no architecture
    and 100 %: regret is measured from 100 %, as for trained networks.  The
    noise mode and fidelity are checked by one probe query when the study is
    built, with the benchmark's own refusal (``nb301`` accepts noise ``mean``
    only).  ``u`` keeps the evaluators' contract: one number per evaluation,
    used only by ``noise="seed"`` (it seeds the query's generator), so a
    resumed trial draws exactly what the uninterrupted one did.
    """

    metrics_at_fidelity = False  # checked below, on a probe query at the study's fidelity

    def __init__(self, bench: Benchmark, *, noise: Any = "mean", fidelity: int | None = None,
                 objective: str | None = None, report_metric: str | None = None) -> None:
        super().__init__(bench, noise=noise, fidelity=fidelity, objective=objective, report_metric=report_metric)
        # Refuse an unsupported noise mode before anything is stored, in the benchmark's words.
        probe = bench.query(bench.space.sample(np.random.default_rng(0)), noise=self.noise, fidelity=self.fidelity,
                            rng=np.random.default_rng(0))
        for metric in {self.objective, self.report_metric}:
            if metric not in probe.metrics:
                raise ArchscapeError(f"{bench.name} does not report {metric!r} at fidelity {self.fidelity}; "
                                     f"it reports {', '.join(probe.metrics)}")

    @classmethod
    def from_config(cls, config: RunConfig) -> QueryEvaluator:
        return cls(benchmark_of(config), noise=config.noise, fidelity=config.fidelity, report_metric=config.report_metric)

    @classmethod
    def example(cls, workdir: Path) -> QueryEvaluator:
        return cls(load_benchmark("nb301"), noise="mean", fidelity=12)

    @property
    def space(self) -> SearchSpace:
        return self.bench.space

    def evaluate(self, genotype: Genotype, u: float, fidelity: int | None = None) -> Outcome:
        """Query ``genotype``; ``fidelity`` (an optimizer's request) overrides the study's."""
        fidelity = self.fidelity if fidelity is None else self.bench.check_fidelity(fidelity)
        rng = np.random.default_rng(int(u * 2**53)) if self.noise == "seed" else None
        try:
            ev = self.bench.query(genotype, noise=self.noise, fidelity=fidelity, rng=rng)
        except ArchscapeError as exc:
            return Outcome.failure(str(exc), fidelity)
        if self.noise == "mean" and fidelity == self.fidelity:
            report = ev.metrics[self.report_metric]
        else:  # the report value is denoised and at the study's fidelity; its cost is not charged
            report = self.bench.query(genotype, noise="mean", fidelity=self.fidelity).metrics[self.report_metric]
        return Outcome(ev.index, ev.metrics[self.objective], float(report), dict(ev.metrics), ev.cost, ev.seed,
                       ev.fidelity)


def make_evaluator(bench: Benchmark | None = None, *, kind: str = "table", **settings: Any) -> Evaluator:
    """An evaluator by hand (a study's own is built from its config by :func:`~archscape.run.evaluator.build_evaluator`).

    ``kind="table"``: queries the benchmark ``bench`` (a table:
    :class:`TableEvaluator`; any other benchmark, such as a surrogate:
    :class:`QueryEvaluator`); any other ``kind`` is a registered evaluator
    (:data:`~archscape.run.evaluator.EVALUATORS`) called with ``settings``,
    e.g. ``kind="train"`` with ``space``, ``settings`` (the ``train``
    mapping), ``noise``, ``report_metric`` (needs the ``train`` extra).
    """
    if kind != "table":
        return EVALUATORS.make(kind, **settings)
    if isinstance(bench, TableBenchmark):
        return TableEvaluator(bench, **settings)
    if isinstance(bench, Benchmark):  # answered by query (a surrogate), not looked up in a table
        return QueryEvaluator(bench, **settings)
    raise ArchscapeError(f"{getattr(bench, 'name', bench)} has no table evaluator; use evaluator: train")
