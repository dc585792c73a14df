"""One trial as a sequence of requests: what every executor drives.

A :class:`TrialDriver` owns one trial's optimizer and noise generator.  It
hands out one :class:`Request` at a time (the architecture, the uniform
number ``u`` of the noise stream and the fidelity the optimizer asks for),
and turns the evaluator's :class:`~archscape.run.evaluator.Outcome` of that
request into the stored record, telling the optimizer.  Where the evaluation
runs (this process, a worker process, a Ray cluster) is the executor's
business; an evaluation depends on ``(genotype, u, fidelity)`` and the
study's settings only, so every executor stores the same numbers.

A trial that has evaluations in the store is resumed by replaying them: the
optimizer is asked again and told the stored values (the architectures must
match, or the store came from other code), and the noise stream is advanced
by one number per replayed evaluation.  So a run killed at any moment and
resumed ends with exactly the numbers of an uninterrupted run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from archscape.errors import ArchscapeError
from archscape.run.config import RunConfig
from archscape.run.evaluator import Evaluator, Outcome, build_evaluator
from archscape.run.seeding import trial_generators
from archscape.run.store import EvaluationRecord, StoreError
from archscape.search import SearchExhausted, make_optimizer
from archscape.spaces.base import Genotype, SearchSpace


@dataclass(frozen=True)
class TrialTask:
    """One trial to run, with what the store already holds of it."""

    trial_id: int
    label: str
    optimizer: str
    params: dict[str, Any]
    trial_index: int
    done: tuple[EvaluationRecord, ...] = ()


class Request(NamedTuple):
    """One evaluation a trial asks for (a named tuple: built and pickled once per evaluation)."""

    k: int
    genotype: Genotype
    u: float
    fidelity: int | None


# ------------------------------------------------------------------ evaluators
@lru_cache(maxsize=8)
def _evaluator(config_json: str) -> Evaluator:
    # One evaluator per process and study: workers rebuild it from the config.
    return build_evaluator(RunConfig.model_validate_json(config_json))


def evaluator_for(config: RunConfig) -> Evaluator:
    """The study's evaluator (found in the evaluator registry), built once per process."""
    return _evaluator(config.model_dump_json())


def evaluate_request(evaluator: Evaluator, request: Request) -> Outcome:
    """Run one request on an evaluator (the same call in every executor)."""
    if request.fidelity is None:
        return evaluator.evaluate(request.genotype, request.u)
    return evaluator.evaluate(request.genotype, request.u, fidelity=request.fidelity)


# ------------------------------------------------------------------ one trial
class TrialDriver:
    """Asks one trial's optimizer for requests and records their outcomes, in order."""

    def __init__(self, config: RunConfig, task: TrialTask, space: SearchSpace) -> None:
        self.config = config
        self.task = task
        self.space = space
        opt_rng, self._noise_rng = trial_generators(config.seed, task.label, task.trial_index)
        self.optimizer = make_optimizer(task.optimizer, **task.params).setup(space, opt_rng)
        self._sim_time = 0.0
        wall_offset = self._replay(task.done)
        self._start = time.perf_counter() - wall_offset
        self._k = len(task.done)
        self._exhausted = False

    def _replay(self, done: tuple[EvaluationRecord, ...]) -> float:
        wall_offset = 0.0
        for rec in done:
            genotype = self.optimizer.ask()
            self._noise_rng.random()
            if self.space.format(genotype) != rec.arch:
                raise StoreError(
                    f"cannot resume trial {self.task.trial_index} of {self.task.label}: query {rec.k} replays as "
                    f"{self.space.format(genotype)}, but the store holds {rec.arch} (was it written by other code?)"
                )
            fidelity = self.optimizer.requested_fidelity(genotype)  # multi-fidelity optimizers name one
            if fidelity is not None and rec.fidelity is not None and int(fidelity) != rec.fidelity:
                raise StoreError(
                    f"cannot resume trial {self.task.trial_index} of {self.task.label}: query {rec.k} replays at "
                    f"fidelity {fidelity}, but the store holds fidelity {rec.fidelity}"
                )
            self.optimizer.tell(genotype, math.nan if rec.objective is None else rec.objective)
            self._sim_time, wall_offset = rec.sim_time, rec.wall_time
        return wall_offset

    def next_request(self) -> Request | None:
        """The next evaluation to run, or ``None`` when the budget is spent or the space exhausted."""
        if self._exhausted or self._k >= self.config.budget:
            return None
        try:
            genotype = self.optimizer.ask()
        except SearchExhausted:
            self._exhausted = True
            return None
        fidelity = self.optimizer.requested_fidelity(genotype)
        return Request(self._k, genotype, self._noise_rng.random(), fidelity)

    def record(self, request: Request, out: Outcome) -> EvaluationRecord:
        """The stored record of ``request``'s outcome; tells the optimizer."""
        k = request.k
        if k != self._k:
            raise ArchscapeError(f"trial {self.task.label}/{self.task.trial_index}: outcome of query {k} "
                                 f"arrived while query {self._k} was expected")
        self._sim_time += out.cost
        objective = out.objective
        failed = out.status != "ok" or math.isnan(objective)
        rec = EvaluationRecord(
            k, self.space.format(request.genotype), out.row, None if failed else objective, out.report,
            out.metrics, out.cost, self._sim_time, time.perf_counter() - self._start, out.noise_seed, out.fidelity,
            out.status, out.error,
        )
        self.optimizer.tell(request.genotype, objective)
        self._k = k + 1
        return rec


def run_trial(config: RunConfig, task: TrialTask, emit: Callable[[EvaluationRecord], None],
              evaluator: Evaluator | None = None) -> None:
    """Run (or resume) one trial in this process, passing each new evaluation to ``emit`` in order.

    ``evaluator``: the study's (:func:`evaluator_for`), when the caller has it at hand.
    """
    if evaluator is None:
        evaluator = evaluator_for(config)
    driver = TrialDriver(config, task, evaluator.space)
    evaluate, record = evaluator.evaluate, driver.record
    while (request := driver.next_request()) is not None:
        if request.fidelity is None:  # as evaluate_request, without its call on the hot path
            emit(record(request, evaluate(request.genotype, request.u)))
        else:
            emit(record(request, evaluate(request.genotype, request.u, fidelity=request.fidelity)))
