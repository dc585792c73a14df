"""Anytime metrics: the incumbent of every trial after each query and at each moment.

The *incumbent* of a trial after query ``k`` is the best evaluation so far by
``objective`` (the possibly noisy value the optimizer was told); ties go to the
earliest, and a failed evaluation (status not ``ok`` or no objective) is never
an incumbent.  What a report shows is the incumbent's ``report`` value (the
denoised metric of that architecture) and its *regret*, ``optimum_report -
incumbent report``, which is >= 0 because the optimum is the best report value
of the whole space.

Two axes:

* **queries**: the value after query ``q = k + 1`` for ``q = 1 .. n_queries``.
* **simulated time**: a step function; the value at time ``t`` is the
  incumbent after the last query finished by ``t`` (``sim_time <= t``), NaN
  before the first query finished.  Curves are sampled on a log-spaced grid
  (:func:`time_grid`) shared by all trials that are compared.

A trial that stopped early but is ``complete`` (a finite space ran out) keeps
its final incumbent to the end of both axes; a trial that is not complete
(still running, killed, failed) is NaN after its last stored query, so an
unfinished trial never pretends to have run longer than it did.

Everything is computed on dense ``(trials, queries)`` matrices with numpy, so
100 trials x 300 queries x 5 optimizers take a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from archscape.errors import ArchscapeError

#: columns that identify one trial in an evaluation frame (``study`` when several are combined)
TRIAL_KEYS = ("study", "label", "trial_index")

_NEEDED = ("label", "trial_index", "trial_state", "k", "arch", "objective", "report", "sim_time", "status")


@dataclass(frozen=True)
class AnytimeCurves:
    """Incumbent curves of a set of trials on one axis.

    ``trials`` has one row per trial (its keys, ``optimizer``, ``trial_state``,
    ``complete``, ``n_evaluations``, ``n_failed``, ``optimum_report``).  The
    matrices have one row per trial and one column per point of ``x``.
    ``incumbent_pos`` indexes ``archs`` (the evaluated architectures), -1
    where there is no incumbent yet.
    """

    axis: str  # "queries" or "sim_time"
    x: np.ndarray
    trials: pd.DataFrame
    incumbent_pos: np.ndarray
    incumbent_k: np.ndarray
    incumbent_objective: np.ndarray
    incumbent_report: np.ndarray
    archs: np.ndarray

    @property
    def regret(self) -> np.ndarray:
        return self.trials["optimum_report"].to_numpy(float)[:, None] - self.incumbent_report

    @property
    def labels(self) -> list[str]:
        """The optimizer labels in order of first appearance."""
        return list(dict.fromkeys(self.trials["label"]))

    def incumbent_arch(self) -> np.ndarray:
        """The incumbent architecture per trial and point (None where there is none)."""
        out = np.empty(self.incumbent_pos.shape, dtype=object)
        has = self.incumbent_pos >= 0
        out[has] = self.archs[self.incumbent_pos[has]]
        return out

    def rows(self, label: str, complete_only: bool = True) -> np.ndarray:
        """Row numbers of one optimizer's trials (complete ones unless asked otherwise)."""
        mask = self.trials["label"].to_numpy() == label
        if complete_only:
            mask &= self.trials["complete"].to_numpy()
        return np.flatnonzero(mask)

    def to_frame(self, archs: bool = True) -> pd.DataFrame:
        """Long format: one row per trial and point of the axis.

        ``archs=False`` leaves out ``incumbent_arch`` (long strings repeated on
        every row); ``incumbent_k`` still joins the evaluation frame.
        """
        n, m = self.incumbent_report.shape
        keys = [c for c in (*TRIAL_KEYS, "optimizer", "trial_state") if c in self.trials]
        out = {c: np.repeat(self.trials[c].to_numpy(), m) for c in keys}
        out["axis"] = np.full(n * m, self.axis)
        out["x"] = np.tile(self.x, n)
        out["incumbent_k"] = self.incumbent_k.ravel()
        if archs:
            out["incumbent_arch"] = self.incumbent_arch().ravel()
        out["incumbent_objective"] = self.incumbent_objective.ravel()
        out["incumbent_report"] = self.incumbent_report.ravel()
        out["regret"] = self.regret.ravel()
        return pd.DataFrame(out)


def by_queries(
    frame: pd.DataFrame, optimum_report: float | Mapping[str, float], n_queries: int | None = None
) -> AnytimeCurves:
    """Incumbent curves after each query ``1 .. n_queries`` (default: the longest trial).

    ``optimum_report`` is a number, or a mapping from ``study`` to number when
    the frame combines studies.
    """
    prep = _Prepared(frame, optimum_report)
    n_q = prep.width if n_queries is None else int(n_queries)
    if n_q < prep.width:
        raise ArchscapeError(f"n_queries={n_q} is less than the longest trial ({prep.width} queries)")
    pos = prep.incumbent_pos(n_q)
    return prep.curves("queries", np.arange(1, n_q + 1, dtype=float), pos)


def by_time(
    frame: pd.DataFrame, optimum_report: float | Mapping[str, float], grid: np.ndarray | None = None
) -> AnytimeCurves:
    """Incumbent curves at the simulated times of ``grid`` (default: :func:`time_grid` of the frame)."""
    prep = _Prepared(frame, optimum_report)
    grid = time_grid(frame) if grid is None else np.asarray(grid, dtype=float)
    pos_q = prep.incumbent_pos(prep.width)
    sim = prep.sim_time  # (trials, width), +inf beyond a trial's last query
    if np.any(sim[:, 1:] < sim[:, :-1]):
        # Queries finish in order of k (sim_time is cumulative), so "the last query finished by t"
        # is a prefix of the trial; anything else is not a store's frame.
        raise ArchscapeError("sim_time decreases within a trial; expected cumulative simulated seconds")
    # Column of the last query finished by each grid time, per trial (-1: none yet).
    cols = np.empty((sim.shape[0], grid.size), dtype=np.int64)
    for i in range(sim.shape[0]):  # searchsorted per trial: a few microseconds each
        cols[i] = np.searchsorted(sim[i], grid, side="right") - 1
    pos = np.where(cols >= 0, np.take_along_axis(pos_q, np.maximum(cols, 0), axis=1), -1)
    # An unfinished trial says nothing about times after its last query.
    last = np.where(prep.length > 0, sim[np.arange(sim.shape[0]), np.maximum(prep.length - 1, 0)], 0.0)
    beyond = (~prep.complete)[:, None] & (grid[None, :] > last[:, None])
    pos = np.where(beyond, -2, pos)
    return prep.curves("sim_time", grid, pos)


def time_grid(frame: pd.DataFrame, n_points: int = 200) -> np.ndarray:
    """A log-spaced grid from the earliest first query to the latest last query of the frame.

    Empty when no query took simulated time (a benchmark without costs).
    """
    ok = frame["sim_time"].to_numpy(float)
    ok = ok[np.isfinite(ok) & (ok > 0)]
    if ok.size == 0:
        return np.empty(0)
    lo, hi = float(ok.min()), float(ok.max())
    if hi <= lo:
        return np.array([lo])
    return np.geomspace(lo, hi, n_points)


class _Prepared:
    """An evaluation frame laid out as dense (trials, queries) matrices."""

    def __init__(self, frame: pd.DataFrame, optimum_report: float | Mapping[str, float]) -> None:
        missing = [c for c in _NEEDED if c not in frame]
        if missing:
            raise ArchscapeError(f"evaluation frame lacks column(s) {', '.join(missing)}")
        keys = [c for c in TRIAL_KEYS if c in frame]
        # Only the columns used, so that reordering does not copy metrics and error texts.
        frame = frame[[*keys, *(c for c in _NEEDED if c not in keys), *(c for c in ("optimizer",) if c in frame)]]
        order = np.lexsort([frame["k"].to_numpy()] + [pd.factorize(frame[c], sort=True)[0] for c in reversed(keys)])
        if np.any(order != np.arange(len(order))):
            frame = frame.take(order)
        frame = frame.reset_index(drop=True)
        first = np.ones(len(frame), dtype=bool)
        if len(frame):
            same = np.ones(len(frame) - 1, dtype=bool)
            for c in keys:
                v = frame[c].to_numpy()
                same &= v[1:] == v[:-1]
            first[1:] = ~same
        trial_of = np.cumsum(first) - 1
        n_trials = int(first.sum())
        k = frame["k"].to_numpy(np.int64)
        self.width = int(k.max()) + 1 if len(frame) else 0

        described = [*keys, *(c for c in ("optimizer", "trial_state") if c in frame)]
        trials = frame.loc[first, described].reset_index(drop=True)
        self.length = np.bincount(trial_of, minlength=n_trials).astype(np.int64)
        if np.any(k != np.arange(len(frame)) - np.repeat(np.flatnonzero(first), self.length)):
            raise ArchscapeError("evaluation frame has gaps or repeats in a trial's query numbers k")
        status_ok = frame["status"].to_numpy() == "ok"
        objective = pd.to_numeric(frame["objective"], errors="coerce").to_numpy(float)
        usable = status_ok & np.isfinite(objective)
        trials["complete"] = trials["trial_state"].to_numpy() == "complete"
        trials["n_evaluations"] = self.length
        trials["n_failed"] = np.bincount(trial_of, weights=~usable, minlength=n_trials).astype(np.int64)
        if isinstance(optimum_report, Mapping):
            if "study" not in trials:
                raise ArchscapeError("a per-study optimum_report needs a 'study' column in the frame")
            try:
                trials["optimum_report"] = [float(optimum_report[s]) for s in trials["study"]]
            except KeyError as exc:
                raise ArchscapeError(f"no optimum_report for study {exc.args[0]!r}") from None
        else:
            trials["optimum_report"] = float(optimum_report)
        self.trials = trials
        self.complete = trials["complete"].to_numpy(bool)

        shape = (n_trials, self.width)
        self.objective = np.full(shape, -np.inf)
        self.objective[trial_of, k] = np.where(usable, objective, -np.inf)
        self.sim_time = np.full(shape, np.inf)
        self.sim_time[trial_of, k] = frame["sim_time"].to_numpy(float)
        self.flat = np.full(shape, -1, dtype=np.int64)  # row of the frame at (trial, k)
        self.flat[trial_of, k] = np.arange(len(frame))
        self.report = pd.to_numeric(frame["report"], errors="coerce").to_numpy(float)
        self.told = np.where(usable, objective, np.nan)
        self.k = k
        self.archs = frame["arch"].to_numpy(object)

    def incumbent_pos(self, n_queries: int) -> np.ndarray:
        """Frame row of each trial's incumbent after each query (-1 none yet, -2 unknown)."""
        obj = self.objective
        if n_queries > self.width:
            obj = np.pad(obj, ((0, 0), (0, n_queries - self.width)), constant_values=-np.inf)
        best = np.maximum.accumulate(obj, axis=1)
        previous = np.concatenate([np.full((obj.shape[0], 1), -np.inf), best[:, :-1]], axis=1)
        # Strictly better than everything before: ties keep the earliest, -inf never wins.
        improved = obj > previous
        cols = np.arange(obj.shape[1])
        col = np.maximum.accumulate(np.where(improved, cols, -1), axis=1)
        flat = np.pad(self.flat, ((0, 0), (0, obj.shape[1] - self.width)), constant_values=-1)
        pos = np.where(col >= 0, np.take_along_axis(flat, np.maximum(col, 0), axis=1), -1)
        unknown = (~self.complete)[:, None] & (cols[None, :] >= self.length[:, None])
        return np.where(unknown, -2, pos)

    def curves(self, axis: str, x: np.ndarray, pos: np.ndarray) -> AnytimeCurves:
        has = pos >= 0
        safe = np.maximum(pos, 0)

        def pick(values: np.ndarray) -> np.ndarray:
            return np.where(has, values[safe], np.nan) if values.size else np.full(pos.shape, np.nan)

        k = np.where(has, self.k[safe] if self.k.size else -1, -1)
        return AnytimeCurves(
            axis, x, self.trials, np.where(has, pos, -1), k, pick(self.told), pick(self.report), self.archs
        )


__all__ = ["AnytimeCurves", "TRIAL_KEYS", "by_queries", "by_time", "time_grid"]
