"""The runner: trials, seeds, budgets, executors and the single store writer.

``run_study(config, store)`` validates everything first (benchmark, noise,
fidelity, metrics, optimizer names, parameters and what each needs from the
space), then opens the store, creates or re-opens the study, and runs every
trial that is not complete.  A trial that has evaluations in the store is
resumed by replaying them: the optimizer is asked again and told the stored
values (the architectures must match, or the store came from other code), and
the noise stream is advanced by one number per replayed evaluation.  So a run
killed at any moment and resumed ends with exactly the numbers of an
uninterrupted run.

Trials are independent units of work.  The serial executor runs them in this
process; the process executor runs them in worker processes that stream
their evaluations back, in chunks, to this process, the only writer.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from archscape.benchmarks import load_benchmark
from archscape.errors import ArchscapeError
from archscape.run.config import RunConfig
from archscape.run.evaluators import TableEvaluator, make_evaluator
from archscape.run.seeding import trial_generators
from archscape.run.store import EvaluationRecord, Store, StoreError
from archscape.search import SearchExhausted, make_optimizer

#: default seconds between commits of streamed evaluations
COMMIT_EVERY = 0.1


@dataclass(frozen=True)
class TrialTask:
    """One trial to run, with what the store already holds of it."""

    trial_id: int
    label: str
    optimizer: str
    params: dict[str, Any]
    trial_index: int
    done: tuple[EvaluationRecord, ...] = ()


@dataclass
class StudyResult:
    store: Path
    study_id: int
    n_trials: int
    n_evaluations: int
    wall_seconds: float


# ------------------------------------------------------------------ validation
@lru_cache(maxsize=8)
def _evaluator(config_json: str) -> TableEvaluator:
    # One evaluator per process and study: workers rebuild it from the config.
    config = RunConfig.model_validate_json(config_json)
    if config.evaluator == "train":
        space = config.space or load_benchmark(config.benchmark).space.name
        return make_evaluator(kind="train", space=space, settings=config.train, noise=config.noise,
                              report_metric=config.report_metric)
    bench = load_benchmark(config.benchmark)
    if config.space is not None and config.space != bench.space.name:
        raise ArchscapeError(f"{config.benchmark} is a benchmark of the {bench.space.name} space, not {config.space}; "
                             "drop --space, or train with --evaluator train")
    return make_evaluator(bench, noise=config.noise, fidelity=config.fidelity, report_metric=config.report_metric)


def evaluator_for(config: RunConfig) -> TableEvaluator:
    return _evaluator(config.model_dump_json())


def validate(config: RunConfig) -> TableEvaluator:
    """Check everything a run needs before anything is written; returns the evaluator."""
    evaluator = evaluator_for(config)
    import numpy as np

    for spec in config.labelled():
        make_optimizer(spec.name, **spec.params).setup(evaluator.space, np.random.default_rng(0))
    return evaluator


# ------------------------------------------------------------------ one trial
def run_trial(config: RunConfig, task: TrialTask, emit: Callable[[EvaluationRecord], None]) -> None:
    """Run (or resume) one trial, passing each new evaluation to ``emit`` in order."""
    evaluator = evaluator_for(config)
    space = evaluator.space
    opt_rng, noise_rng = trial_generators(config.seed, task.label, task.trial_index)
    optimizer = make_optimizer(task.optimizer, **task.params).setup(space, opt_rng)
    sim_time = 0.0
    wall_offset = 0.0
    # Multi-fidelity optimizers name the fidelity (epochs) of each evaluation they ask for.
    requested = getattr(optimizer, "requested_fidelity", None)
    for rec in task.done:
        genotype = optimizer.ask()
        noise_rng.random()
        if space.format(genotype) != rec.arch:
            raise StoreError(
                f"cannot resume trial {task.trial_index} of {task.label}: query {rec.k} replays as "
                f"{space.format(genotype)}, but the store holds {rec.arch} (was it written by other code?)"
            )
        if requested is not None:
            fidelity = requested(genotype)
            if fidelity is not None and rec.fidelity is not None and int(fidelity) != rec.fidelity:
                raise StoreError(
                    f"cannot resume trial {task.trial_index} of {task.label}: query {rec.k} replays at fidelity "
                    f"{fidelity}, but the store holds fidelity {rec.fidelity}"
                )
        optimizer.tell(genotype, math.nan if rec.objective is None else rec.objective)
        sim_time, wall_offset = rec.sim_time, rec.wall_time
    start = time.perf_counter() - wall_offset
    for k in range(len(task.done), config.budget):
        try:
            genotype = optimizer.ask()
        except SearchExhausted:
            return
        fidelity = requested(genotype) if requested is not None else None
        u = noise_rng.random()
        out = evaluator.evaluate(genotype, u) if fidelity is None else evaluator.evaluate(genotype, u, fidelity=fidelity)
        sim_time += out.cost
        failed = out.status != "ok" or math.isnan(out.objective)
        emit(
            EvaluationRecord(
                k, space.format(genotype), out.row, None if failed else out.objective, out.report, out.metrics,
                out.cost, sim_time, time.perf_counter() - start, out.noise_seed, out.fidelity, out.status, out.error,
            )
        )
        optimizer.tell(genotype, out.objective)


# ------------------------------------------------------------------ study
def open_study(config: RunConfig, store_path: str | Path, evaluator: TableEvaluator) -> tuple[Store, int]:
    """Create the study in the store, or re-open it if its settings are the same."""
    from archscape import __version__

    store = Store(store_path)
    studies = store.studies()
    fingerprint = config.fingerprint()
    if not studies:
        arch, value = evaluator.optimum()
        info = {
            "objective": evaluator.objective,
            "report_metric": evaluator.report_metric,
            "optimum_arch": arch,
            "optimum_report": value,
            "space": evaluator.space.name,
            "space_size": evaluator.space.size,
            "fidelity": evaluator.fidelity,
        }
        name = config.name or Path(store_path).stem
        # what the study ran on: the benchmark, or e.g. "train:nago/fashion-mnist"
        label = getattr(evaluator, "name", None) if config.evaluator == "train" else None
        return store, store.create_study(name, label or config.benchmark, config.identity(), fingerprint, info, __version__)
    study = studies[0]
    if study.fingerprint != fingerprint:
        store.close()
        raise StoreError(f"{store_path} holds a study with different settings ({_difference(study.config, config.identity())}); "
                         "use another --store, or --resume to continue the stored one")
    return store, study.id


def _difference(old: dict, new: dict) -> str:
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            return f"{key}: stored {old.get(key)!r}, asked {new.get(key)!r}"
    return "fingerprint differs"


def stored_config(store_path: str | Path) -> RunConfig:
    """The settings of the study in a store (for --resume)."""
    with Store(store_path, create=False) as store:
        studies = store.studies()
        if not studies:
            raise StoreError(f"{store_path} holds no study to resume")
        data = dict(studies[0].config)
        data["name"] = studies[0].name
    return RunConfig.model_validate(data)


def pending_tasks(store: Store, study_id: int, config: RunConfig) -> list[TrialTask]:
    tasks = []
    known = {(t.label, t.trial_index): t for t in store.trials(study_id)}
    for spec in config.labelled():
        for i in range(config.trials):
            t = known.get((spec.label, i))
            if t is not None and t.state == "complete":
                continue
            trial_id = t.id if t is not None else store.ensure_trial(study_id, spec.label, spec.name, spec.params, i)
            done = tuple(store.evaluations(trial_id)) if t is not None and t.n_evaluations else ()
            tasks.append(TrialTask(trial_id, spec.label, spec.name, spec.params, i, done))
    return tasks


def run_study(
    config: RunConfig,
    store_path: str | Path,
    *,
    workers: int = 1,
    commit_every: float = COMMIT_EVERY,
    progress: bool = False,
) -> StudyResult:
    """Run every unfinished trial of ``config`` into the store at ``store_path``."""
    if workers < 1:
        raise ArchscapeError(f"workers must be >= 1; got {workers}")
    evaluator = validate(config)
    start = time.perf_counter()
    store, study_id = open_study(config, store_path, evaluator)
    try:
        tasks = pending_tasks(store, study_id, config)
        total = sum(config.budget - len(t.done) for t in tasks)
        with _Progress(progress, total, len(tasks), config) as bar:
            if hasattr(evaluator, "attach_progress"):  # epoch bars of in-process training under the study's bar
                evaluator.attach_progress(bar.rich if workers == 1 or len(tasks) <= 1 else None)
            writer = _Writer(store, commit_every, bar)
            if workers == 1 or len(tasks) <= 1:
                _run_serial(config, tasks, writer)
            else:
                _run_processes(config, tasks, writer, workers, commit_every)
        n_eval = sum(t.n_evaluations for t in store.trials(study_id))
        n_trials = len(store.trials(study_id))
    finally:
        store.close()
    return StudyResult(Path(store_path), study_id, n_trials, n_eval, time.perf_counter() - start)


# ------------------------------------------------------------------ writing
class _Writer:
    """The single writer: buffers evaluations and commits them at least every ``commit_every`` s."""

    def __init__(self, store: Store, commit_every: float, bar: _Progress) -> None:
        self.store = store
        self.commit_every = commit_every
        self.bar = bar
        self.pending: list[tuple[int, list[EvaluationRecord], str | None]] = []
        self.last = time.monotonic()

    def add(self, trial_id: int, records: list[EvaluationRecord], state: str | None = None) -> None:
        self.pending.append((trial_id, records, state))
        self.bar.advance(len(records), trial_done=state is not None)
        if state is not None or time.monotonic() - self.last >= self.commit_every:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.store.add_batch(self.pending)
            self.pending = []
        self.last = time.monotonic()


def _run_serial(config: RunConfig, tasks: list[TrialTask], writer: _Writer) -> None:
    for task in tasks:
        buffer: list[EvaluationRecord] = []
        clock = [time.monotonic()]

        def emit(rec: EvaluationRecord, task=task, buffer=buffer, clock=clock) -> None:
            buffer.append(rec)
            if time.monotonic() - clock[0] >= writer.commit_every:
                writer.add(task.trial_id, buffer.copy())
                buffer.clear()
                clock[0] = time.monotonic()

        run_trial(config, task, emit)
        writer.add(task.trial_id, buffer.copy(), "complete")


def _worker(config_json: str, tasks: mp.Queue, results: mp.Queue, commit_every: float, threads: int = 1) -> None:
    config = RunConfig.model_validate_json(config_json)
    if config.evaluator == "train":  # share the cores between the workers' trainings
        from archscape.train import require_torch

        require_torch().set_num_threads(threads)
    while True:
        task = tasks.get()
        if task is None:
            return
        buffer: list[EvaluationRecord] = []
        clock = [time.monotonic()]

        def emit(rec: EvaluationRecord, task=task, buffer=buffer, clock=clock) -> None:
            buffer.append(rec)
            if time.monotonic() - clock[0] >= commit_every:
                results.put(("records", task.trial_id, buffer.copy(), None))
                buffer.clear()
                clock[0] = time.monotonic()

        try:
            run_trial(config, task, emit)
            results.put(("done", task.trial_id, buffer, None))
        except Exception as exc:  # reported to the writer, which stops the run
            results.put(("error", task.trial_id, buffer, f"{type(exc).__name__}: {exc}"))


def _run_processes(config: RunConfig, tasks: list[TrialTask], writer: _Writer, workers: int, commit_every: float) -> None:
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    task_q: mp.Queue = ctx.Queue()
    result_q: mp.Queue = ctx.Queue()
    for t in tasks:
        task_q.put(t)
    n_workers = min(workers, len(tasks))
    for _ in range(n_workers):
        task_q.put(None)
    config_json = config.model_dump_json()
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    procs = [ctx.Process(target=_worker, args=(config_json, task_q, result_q, commit_every, threads), daemon=True)
             for _ in range(n_workers)]
    for p in procs:
        p.start()
    remaining = len(tasks)
    try:
        while remaining:
            try:
                kind, trial_id, records, error = result_q.get(timeout=0.5)
            except queue.Empty:
                writer.flush()
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise ArchscapeError(
                        f"a worker process died (exit code {dead[0].exitcode}); completed evaluations are stored: run again with --resume"
                    ) from None
                continue
            if kind == "records":
                writer.add(trial_id, records)
            elif kind == "done":
                writer.add(trial_id, records, "complete")
                remaining -= 1
            else:
                writer.add(trial_id, records)
                writer.flush()
                raise ArchscapeError(f"a trial failed in a worker: {error}")
        writer.flush()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(timeout=5)


# ------------------------------------------------------------------ progress
class _Progress:
    """A rich progress bar over queries and trials (or nothing)."""

    def __init__(self, enabled: bool, total: int, n_trials: int, config: RunConfig) -> None:
        self.enabled = enabled
        self.total = total
        self.n_trials = n_trials
        self.config = config
        #: the running rich Progress (None when disabled)
        self.rich = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False
            )
            self._bar.start()
            self.rich = self._bar
            c = self.config
            what = f"trainings on {c.train.dataset}" if c.evaluator == "train" else f"queries on {c.benchmark}"
            self._queries = self._bar.add_task(what, total=self.total)
            self._trials = self._bar.add_task("trials", total=self.n_trials)
        return self

    def advance(self, n_queries: int, trial_done: bool = False) -> None:
        if self.enabled:
            self._bar.advance(self._queries, n_queries)
            if trial_done:
                self._bar.advance(self._trials, 1)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self._bar.stop()
            self.rich = None
