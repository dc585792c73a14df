"""Executors: where a study's evaluations run.  The runner's writer stores them all.

* ``serial``: every trial in this process, one after another.
* ``process``: trials in worker processes (fork) that stream their
  evaluations back, in chunks, to this process, the only writer.
* ``ray``: the trials' optimizers stay in this process and every evaluation
  is a Ray task with its own resources (CPUs, a GPU fraction), so a cluster
  trains many networks at once while each trial stays sequential.  A task
  whose worker dies (killed, out of memory, a lost node) is retried by Ray;
  an evaluation depends only on ``(genotype, u, fidelity)`` and the study's
  settings, so a retry gives the same numbers.  When the retries run out, the
  evaluation is stored as failed with the reason and the search goes on.

Every executor stores the same numbers as ``serial``: the seeds come from the
trial (see :mod:`archscape.run.seeding`), never from where it runs.
"""

from __future__ import annotations

import gc
import math
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import numbers
import reprlib
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from archscape.errors import ArchscapeError
from archscape.run import EXECUTORS, MAX_WORKERS
from archscape.run.config import RunConfig
from archscape.run.evaluator import Outcome
from archscape.run.store import EvaluationRecord, encode_evaluations
from archscape.run.trial import Request, TrialDriver, TrialTask, evaluate_request, evaluator_for, run_trial


@dataclass(frozen=True)
class ExecutorSettings:
    """How a study runs (not what it computes: none of this is in the fingerprint).

    ``workers``: processes of the ``process`` executor, or the most trials a
    ``ray`` run keeps in flight (0: all).  ``address``: the Ray cluster
    (``None`` starts a local Ray, or uses the one this process already
    joined).  ``cpus`` and ``gpus``: resources of one evaluation on Ray (a
    fraction of a GPU shares it).  ``retries``: how often Ray reruns an
    evaluation whose worker died.
    """

    kind: Literal["serial", "process", "ray"] = "serial"
    workers: int = 1
    address: str | None = None
    cpus: float | None = None
    gpus: float = 0.0
    retries: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in EXECUTORS:
            raise ArchscapeError(f"unknown executor {reprlib.repr(self.kind)}; accepted: {', '.join(EXECUTORS)}")
        _check_number("workers", self.workers, int, f"a whole number from 1 to {MAX_WORKERS} (ray: 0 runs every trial at once)")
        _check_number("cpus", self.cpus, float, "a number > 0", optional=True)
        _check_number("gpus", self.gpus, float, "a number >= 0")
        _check_number("retries", self.retries, int, "a whole number >= 0")
        if self.address is not None and not isinstance(self.address, str):
            raise ArchscapeError(f"address must be a Ray address such as 10.0.0.5:6379 or ray://host:10001; got {reprlib.repr(self.address)}")
        if self.workers < 0 or self.workers > MAX_WORKERS or (self.kind != "ray" and self.workers < 1):
            raise ArchscapeError(f"workers must be >= 1 and <= {MAX_WORKERS}; got {self.workers}")
        if self.cpus is not None and self.cpus <= 0:
            raise ArchscapeError(f"CPUs per evaluation must be > 0; got {self.cpus}")
        if self.gpus < 0:
            raise ArchscapeError(f"GPUs per evaluation must be >= 0 (a fraction shares a GPU); got {self.gpus}")
        if self.retries < 0:
            raise ArchscapeError(f"retries must be >= 0; got {self.retries}")
        if self.kind != "ray" and (self.address is not None or self.gpus):
            raise ArchscapeError("--address and GPUs per evaluation apply to the ray executor; add --executor ray")


def _check_number(name: str, value: Any, kind: type, accepted: str, optional: bool = False) -> None:
    """Refuse a value of ``name`` that is not a number of ``kind`` (a bool, text, NaN or infinity are not)."""
    if optional and value is None:
        return
    ok = isinstance(value, numbers.Integral if kind is int else numbers.Real) and not isinstance(value, bool)
    if not ok or not (isinstance(value, numbers.Integral) or math.isfinite(value)):
        raise ArchscapeError(f"{name} must be {accepted}; got {reprlib.repr(value)}")


def executor_settings(kind: str | None = None, workers: int | None = None, **ray_options: Any) -> ExecutorSettings:
    """Settings from CLI-style arguments.

    No kind: Ray when an address is given, else processes for more than one
    worker and this process for one.  No ``workers``: one (serial, process),
    every trial at once (ray).
    """
    _check_number("workers", workers, int, f"a whole number from 1 to {MAX_WORKERS} (ray: 0 runs every trial at once)", optional=True)
    if kind is None:
        kind = "ray" if ray_options.get("address") else ("process" if (workers or 1) > 1 else "serial")
    if workers is None:
        workers = 0 if kind == "ray" else 1
    return ExecutorSettings(kind=kind, workers=workers, **{k: v for k, v in ray_options.items() if v is not None})


class Writer(Protocol):
    """The runner's single writer, as the executors see it."""

    commit_every: float

    def add(self, trial_id: int, records: list[EvaluationRecord] | list[tuple], state: str | None = None) -> None:
        """Records, or rows from :func:`~archscape.run.store.encode_evaluations` (a worker's)."""

    def flush(self) -> None: ...


def run_tasks(config: RunConfig, tasks: list[TrialTask], writer: Writer, settings: ExecutorSettings) -> None:
    """Run every task with the executor ``settings`` names, streaming evaluations to ``writer``."""
    if settings.kind == "ray":
        run_ray(config, tasks, writer, settings)
    elif settings.kind == "process" and settings.workers > 1 and len(tasks) > 1:
        run_processes(config, tasks, writer, settings.workers)
    else:
        run_serial(config, tasks, writer)


# ------------------------------------------------------------------ serial
def _chunking_emit(commit_every: float, send):
    """An ``emit`` that passes records on in chunks, at most every ``commit_every`` seconds; and the rest."""
    buffer: list[EvaluationRecord] = []
    clock = [time.monotonic()]

    def emit(rec: EvaluationRecord) -> None:
        buffer.append(rec)
        if time.monotonic() - clock[0] >= commit_every:
            send(buffer.copy())
            buffer.clear()
            clock[0] = time.monotonic()

    return emit, buffer


def run_serial(config: RunConfig, tasks: list[TrialTask], writer: Writer) -> None:
    evaluator = evaluator_for(config)
    for task in tasks:
        emit, rest = _chunking_emit(writer.commit_every, lambda chunk, t=task: writer.add(t.trial_id, chunk))
        run_trial(config, task, emit, evaluator)
        writer.add(task.trial_id, rest.copy(), "complete")


# ------------------------------------------------------------------ processes
# Each worker takes the next trial from a shared counter (the task list came with the fork), runs it,
# and sends its evaluations back on its own pipe as encoded rows (plain tuples: cheap to pickle, and
# the writer only inserts them), in chunks at most every ``commit_every`` seconds and when the trial
# ends.  No queue feeder threads, no pickled tasks; the parent only reads and writes.
def _worker(config_json: str, tasks: list[TrialTask], next_task, conn, commit_every: float) -> None:
    config = RunConfig.model_validate_json(config_json)
    evaluator = evaluator_for(config)
    while True:
        with next_task.get_lock():
            i = next_task.value
            next_task.value = i + 1
        if i >= len(tasks):
            break
        task = tasks[i]
        emit, rest = _chunking_emit(
            commit_every, lambda chunk, t=task: conn.send(("records", t.trial_id, encode_evaluations(chunk), None))
        )
        try:
            run_trial(config, task, emit, evaluator)
            conn.send(("done", task.trial_id, encode_evaluations(rest), None))
        except Exception as exc:  # reported to the writer, which stops the run
            conn.send(("error", task.trial_id, encode_evaluations(rest), f"{type(exc).__name__}: {exc}"))
            break
    conn.close()


def run_processes(config: RunConfig, tasks: list[TrialTask], writer: Writer, workers: int) -> None:
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    n_workers = min(workers, len(tasks))
    next_task = ctx.Value("q", 0)
    pipes = [ctx.Pipe(duplex=False) for _ in range(n_workers)]
    config_json = config.model_dump_json()
    procs = [ctx.Process(target=_worker, args=(config_json, tasks, next_task, send, writer.commit_every), daemon=True)
             for _, send in pipes]
    # The workers inherit the parent's tables and space; frozen, the collector in a worker never walks
    # those objects (which would also copy their pages).  Built here, the space's lookups are shared too.
    space = evaluator_for(config).space
    space.validate(space.sample(np.random.default_rng(0)))
    gc.freeze()
    try:
        for p in procs:
            p.start()
    finally:
        gc.unfreeze()
    for _, send in pipes:
        send.close()  # the workers hold the write ends
    readers = [receive for receive, _ in pipes]
    remaining = len(tasks)
    try:
        while remaining:
            ready = mp_connection.wait(readers, timeout=0.5) if readers else []
            if not ready:
                writer.flush()
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise ArchscapeError(
                        f"a worker process died (exit code {dead[0].exitcode}); completed evaluations are stored: run again with --resume"
                    ) from None
                if not readers:
                    raise ArchscapeError(f"the worker processes ended with {remaining} trial(s) not run; run again with --resume")
                continue
            for receive in ready:
                try:
                    kind, trial_id, rows, error = receive.recv()
                except EOFError:  # that worker has finished (or died: seen above when nothing is left to read)
                    readers.remove(receive)
                    continue
                if kind == "records":
                    writer.add(trial_id, rows)
                elif kind == "done":
                    writer.add(trial_id, rows, "complete")
                    remaining -= 1
                else:
                    writer.add(trial_id, rows)
                    writer.flush()
                    raise ArchscapeError(f"a trial failed in a worker: {error}")
        writer.flush()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(timeout=5)
        for receive in readers:
            receive.close()


# ------------------------------------------------------------------ ray
def require_ray():
    """The ``ray`` module, or one line naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise ArchscapeError("the ray executor needs Ray: pip install 'archscape[ray]'") from None
    return ray


def archscape_evaluate(config_json: str, request: Request) -> Outcome:
    """A Ray task: one evaluation on a worker (its process title is ``ray::archscape_evaluate``)."""
    return evaluate_request(evaluator_for(RunConfig.model_validate_json(config_json)), request)


def run_ray(config: RunConfig, tasks: list[TrialTask], writer: Writer, settings: ExecutorSettings) -> None:
    """Drive every trial here and send each evaluation to Ray (see the module docstring)."""
    ray = require_ray()
    started = False
    if not ray.is_initialized():
        try:
            ray.init(address=settings.address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            where = settings.address or "a local Ray"
            raise ArchscapeError(f"cannot start or reach {where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        started = True
    try:
        _drive_on_ray(ray, config, tasks, writer, settings)
    finally:
        if started:
            ray.shutdown()


def _drive_on_ray(ray, config: RunConfig, tasks: list[TrialTask], writer: Writer, settings: ExecutorSettings) -> None:
    space = evaluator_for(config).space
    # A training uses the study's CPU threads (they change its numbers): ask Ray for as many CPUs.
    cpus = settings.cpus if settings.cpus is not None else (config.train.threads if config.train is not None else 1)
    remote = ray.remote(archscape_evaluate).options(
        num_cpus=cpus, num_gpus=settings.gpus, max_retries=settings.retries, retry_exceptions=False,
    )
    config_ref = ray.put(config.model_dump_json())
    waiting = deque(tasks)
    in_flight: dict[Any, tuple[TrialDriver, Request]] = {}
    limit = settings.workers if settings.workers > 0 else len(tasks)

    def submit(driver: TrialDriver) -> None:
        request = driver.next_request()
        if request is None:
            writer.add(driver.task.trial_id, [], "complete")
        else:
            in_flight[remote.remote(config_ref, request)] = (driver, request)

    def start_trials() -> None:
        while waiting and len(in_flight) < limit:
            task = waiting.popleft()
            submit(TrialDriver(config, task, space))

    start_trials()
    while in_flight:
        ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=writer.commit_every or None)
        if not ready:
            writer.flush()
            continue
        for ref in ready:
            driver, request = in_flight.pop(ref)
            outcome = _ray_outcome(ray, ref, request, settings.retries)
            writer.add(driver.task.trial_id, [driver.record(request, outcome)])
            submit(driver)
        start_trials()
    writer.flush()


def _ray_outcome(ray, ref, request: Request, retries: int) -> Outcome:
    """The outcome of a finished task; a worker that died ``retries + 1`` times gives a failed evaluation."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:  # a bug, not a lost worker: stop like the other executors
        cause = exc.cause if getattr(exc, "cause", None) is not None else exc
        raise ArchscapeError(f"an evaluation failed on Ray: {type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}") from None
    except ray.exceptions.RayError as exc:
        reason = f"the Ray worker died {retries + 1} times ({type(exc).__name__})"
        return Outcome.failure(reason, request.fidelity)
