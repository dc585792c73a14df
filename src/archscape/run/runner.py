"""The runner: trials, seeds, budgets, the executor and the single store writer.

``run_study(config, store)`` validates everything first (benchmark, noise,
fidelity, metrics, optimizer names, parameters and what each needs from the
space), then opens the store, creates or re-opens the study, and hands every
trial that is not complete to an executor (:mod:`archscape.run.executors`:
this process, worker processes or a Ray cluster).  A trial with evaluations
in the store resumes by replaying them (:mod:`archscape.run.trial`), so a run
killed at any moment and resumed ends with exactly the numbers of an
uninterrupted run.  Whatever the executor, this process alone writes the
store.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archscape.errors import ArchscapeError
from archscape.run.config import RunConfig
from archscape.run.evaluator import Evaluator
from archscape.run.executors import ExecutorSettings, executor_settings, run_tasks
from archscape.run.store import EvaluationRecord, Store, StoreError
from archscape.run.study import StudyFile, stored_config
from archscape.run.trial import TrialTask, evaluator_for
from archscape.search import make_optimizer

__all__ = ["COMMIT_EVERY", "StudyResult", "evaluator_for", "open_study", "run_study", "stored_config", "validate"]

#: default seconds between commits of streamed evaluations
COMMIT_EVERY = 0.1


@dataclass
class StudyResult:
    store: Path
    study_id: int
    n_trials: int
    n_evaluations: int
    wall_seconds: float


# ------------------------------------------------------------------ validation
def validate(config: RunConfig) -> Evaluator:
    """Check everything a run needs before anything is written; returns the evaluator."""
    evaluator = evaluator_for(config)
    size = evaluator.space.size
    if size is not None and config.budget > size:  # a trial never evaluates an architecture twice: refuse, never cap
        raise ArchscapeError(f"budget {config.budget:,} is more than the {size:,} architectures of {evaluator.space.name}; "
                             f"a trial evaluates each architecture at most once: give a budget of at most {size:,}")
    for spec in config.labelled():
        make_optimizer(spec.name, **spec.params).setup(evaluator.space, np.random.default_rng(0))
    return evaluator


# ------------------------------------------------------------------ study
def open_study(config: RunConfig, store_path: str | Path, evaluator: Evaluator) -> tuple[Store, int]:
    """Create the study in the store, or re-open it if its settings are the same."""
    from archscape import __version__

    store = Store(store_path)  # takes the writer lock first: a second writer is refused before anything is written
    try:
        fingerprint = config.fingerprint()
        studies = store.studies()
        if studies:
            study = studies[0]
        else:
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
            label = evaluator.label or config.benchmark
            study = store.first_study(name, label, config.identity(), fingerprint, info, __version__)
        if study.fingerprint != fingerprint:
            raise StoreError(f"{store_path} holds a study with different settings ({_difference(study.config, config.identity())}); "
                             "use another --store, or --resume to continue the stored one")
    except BaseException:
        store.close()
        raise
    return store, study.id


def _difference(old: dict, new: dict) -> str:
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            return f"{key}: stored {old.get(key)!r}, asked {new.get(key)!r}"
    return "fingerprint differs"


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
    config: RunConfig | StudyFile | str | Path | None = None,
    store_path: str | Path | None = None,
    *,
    workers: int | None = None,
    executor: ExecutorSettings | str | None = None,
    commit_every: float = COMMIT_EVERY,
    progress: bool = False,
    **settings: Any,
) -> StudyResult:
    """Run every unfinished trial of ``config`` into the store at ``store_path``.

    ``executor``: ``"serial"``, ``"process"`` (``workers`` processes),
    ``"ray"`` (``workers``: the most trials in flight, default all), or :class:`~archscape.run.executors.ExecutorSettings` for Ray's
    address and per-evaluation resources; by default serial for one worker and
    processes for more.  It changes where evaluations run, never their numbers.

    ``config`` may be a :class:`~archscape.run.study.StudyFile` (``StudyFile.load("study.yaml")``):
    its store and executor are used unless ``store_path`` / ``executor`` / ``workers`` are given.  A path
    is read as a study file; with no config, the keyword ``settings`` are the study's
    (``run_study(benchmark="nb201-cifar10", optimizers=["random", "local"], budget=100, trials=10,
    store_path="runs/a.sqlite")``); with a study file they override its keys.
    """
    if isinstance(config, (str, Path)):
        config = StudyFile.load(config, settings=settings)
    elif config is None:
        config = StudyFile.from_mapping({}, settings=settings)
    elif settings:
        raise ArchscapeError(f"run_study takes settings ({', '.join(settings)}) with a study file or none, not with a "
                             f"{type(config).__name__}")
    if isinstance(config, StudyFile):
        store_path = config.store_path() if store_path is None else store_path
        if executor is None and workers is None:
            executor = config.executor
        config = config.config
    if store_path is None:
        raise ArchscapeError("run_study needs a store path (or a StudyFile)")
    if not isinstance(executor, ExecutorSettings):
        executor = executor_settings(executor, workers)
    if executor.kind == "ray":
        from archscape.run.executors import require_ray

        require_ray()  # before anything is written
    evaluator = validate(config)
    start = time.perf_counter()
    store, study_id = open_study(config, store_path, evaluator)
    try:
        tasks = pending_tasks(store, study_id, config)
        total = sum(config.budget - len(t.done) for t in tasks)
        with _Progress(progress, total, len(tasks), config) as bar:
            in_process = executor.kind == "serial" or (executor.kind == "process" and (executor.workers == 1 or len(tasks) <= 1))
            # e.g. epoch bars of in-process training under the study's bar
            evaluator.attach_progress(bar.rich if in_process else None)
            run_tasks(config, tasks, _Writer(store, commit_every, bar), executor)
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
