"""The result store: SQLite in WAL mode, one writer.

Three tables: ``study`` (the settings of one comparison), ``trial`` (one run
of one optimizer) and ``evaluation`` (every query, in order, with metrics,
cost, simulated and wall-clock time).  The primitives below are keyed by
integer ids and return frozen values; derived queries (frames, counts) are
written once on top of them.

Durability: evaluations are written in transactions; a process killed at any
moment leaves every committed evaluation intact and nothing half-written
(SQLite's journal rolls an interrupted transaction back).  The runner commits
at least every ``commit_every`` seconds, and a resumed run recomputes the few
uncommitted evaluations identically, so the final result does not change.

Thread-safety: a :class:`Store` object belongs to one thread of one process
(the runner's single writer).  Readers in other processes may open the same
file concurrently (WAL).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from archscape.errors import ArchscapeError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS study (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    config TEXT NOT NULL,          -- JSON of the settings that define the results
    fingerprint TEXT NOT NULL,     -- hash of config: a different run is refused
    info TEXT NOT NULL,            -- JSON: optimum, objective, report metric, ...
    created REAL NOT NULL,
    version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trial (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES study(id),
    label TEXT NOT NULL,           -- optimizer label, unique in the study
    optimizer TEXT NOT NULL,       -- registry name
    params TEXT NOT NULL,          -- JSON hyper-parameters
    trial_index INTEGER NOT NULL,
    state TEXT NOT NULL,           -- running | complete | failed
    error TEXT,
    started REAL,
    finished REAL,
    UNIQUE (study_id, label, trial_index)
);
CREATE TABLE IF NOT EXISTS evaluation (
    trial_id INTEGER NOT NULL REFERENCES trial(id),
    k INTEGER NOT NULL,            -- 0-based query number within the trial
    arch TEXT NOT NULL,            -- canonical text form
    row INTEGER,                   -- table row / official index where there is one
    objective REAL,                -- the value the optimizer was told (noisy); NULL if failed
    report REAL,                   -- the value a report reads (e.g. denoised mean)
    metrics TEXT NOT NULL,         -- JSON of every metric
    cost REAL NOT NULL,            -- simulated training seconds of this query
    sim_time REAL NOT NULL,        -- cumulative simulated seconds in the trial
    wall_time REAL NOT NULL,       -- seconds since the trial started (real clock)
    noise_seed INTEGER,            -- recorded training seed used (NULL = mean)
    fidelity INTEGER,
    status TEXT NOT NULL,          -- ok | failed
    error TEXT,
    PRIMARY KEY (trial_id, k)
) WITHOUT ROWID;
"""


class EvaluationRecord(NamedTuple):
    """One stored query; the fields of the ``evaluation`` table."""

    k: int
    arch: str
    row: int | None
    objective: float | None
    report: float | None
    metrics: dict[str, Any]
    cost: float
    sim_time: float
    wall_time: float
    noise_seed: int | None
    fidelity: int | None
    status: str = "ok"
    error: str | None = None


class StudyRecord(NamedTuple):
    id: int
    name: str
    benchmark: str
    config: dict[str, Any]
    fingerprint: str
    info: dict[str, Any]
    created: float
    version: str


class TrialRecord(NamedTuple):
    id: int
    study_id: int
    label: str
    optimizer: str
    params: dict[str, Any]
    trial_index: int
    state: str
    error: str | None
    n_evaluations: int


class StoreError(ArchscapeError):
    """A store that cannot be used as asked (wrong file, different settings)."""


class Store:
    """A SQLite result store (see the module docstring)."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreError(f"no store at {self.path}")
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder of {self.path}: {exc.strerror}") from None
        try:
            self._con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute("PRAGMA foreign_keys=ON")
            self._con.executescript(_SCHEMA)
            self._con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            version = int(self._con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not an archscape store ({exc})") from None
        if version != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has store schema {version}; this archscape reads schema {SCHEMA_VERSION}")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ studies
    def create_study(self, name: str, benchmark: str, config: dict, fingerprint: str, info: dict, version: str) -> int:
        """Insert a study; returns its id."""
        cur = self._con.execute(
            "INSERT INTO study (name, benchmark, config, fingerprint, info, created, version) VALUES (?,?,?,?,?,?,?)",
            (name, benchmark, json.dumps(config, sort_keys=True), fingerprint, json.dumps(info), time.time(), version),
        )
        return int(cur.lastrowid)

    def studies(self) -> list[StudyRecord]:
        rows = self._con.execute("SELECT id, name, benchmark, config, fingerprint, info, created, version FROM study ORDER BY id")
        return [StudyRecord(r[0], r[1], r[2], json.loads(r[3]), r[4], json.loads(r[5]), r[6], r[7]) for r in rows]

    # ------------------------------------------------------------ trials
    def ensure_trial(self, study_id: int, label: str, optimizer: str, params: dict, trial_index: int) -> int:
        """The id of (study, label, trial_index), inserting a 'running' trial when new."""
        self._con.execute(
            "INSERT OR IGNORE INTO trial (study_id, label, optimizer, params, trial_index, state, started) VALUES (?,?,?,?,?, 'running', ?)",
            (study_id, label, optimizer, json.dumps(params, sort_keys=True), trial_index, time.time()),
        )
        row = self._con.execute(
            "SELECT id FROM trial WHERE study_id=? AND label=? AND trial_index=?", (study_id, label, trial_index)
        ).fetchone()
        return int(row[0])

    def set_trial_state(self, trial_id: int, state: str, error: str | None = None) -> None:
        if state not in ("running", "complete", "failed"):
            raise ValueError(f"unknown trial state {state!r}")
        self._con.execute("UPDATE trial SET state=?, error=?, finished=? WHERE id=?", (state, error, time.time(), trial_id))

    def trials(self, study_id: int) -> list[TrialRecord]:
        rows = self._con.execute(
            """SELECT t.id, t.study_id, t.label, t.optimizer, t.params, t.trial_index, t.state, t.error,
                      (SELECT COUNT(*) FROM evaluation e WHERE e.trial_id = t.id)
               FROM trial t WHERE t.study_id=? ORDER BY t.label, t.trial_index""",
            (study_id,),
        )
        return [TrialRecord(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], r[8]) for r in rows]

    # ------------------------------------------------------------ evaluations
    def add_evaluations(self, trial_id: int, records: Sequence[EvaluationRecord], state: str | None = None) -> None:
        """Append evaluations of one trial (and optionally set its state) in one transaction."""
        self.add_batch([(trial_id, records, state)])

    def add_batch(self, batch: Iterable[tuple[int, Sequence[EvaluationRecord], str | None]]) -> None:
        """Several trials' evaluations and state changes in one transaction (all or nothing).

        Each item is ``(trial_id, records, new_state)``; ``new_state`` may be ``None``.
        """
        with self._transaction():
            for trial_id, records, state in batch:
                if records:
                    self._con.executemany("INSERT INTO evaluation VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", _rows(trial_id, records))
                if state is not None:
                    self._con.execute("UPDATE trial SET state=?, finished=? WHERE id=?", (state, time.time(), trial_id))

    def evaluations(self, trial_id: int) -> list[EvaluationRecord]:
        rows = self._con.execute(
            """SELECT k, arch, row, objective, report, metrics, cost, sim_time, wall_time, noise_seed, fidelity, status, error
               FROM evaluation WHERE trial_id=? ORDER BY k""",
            (trial_id,),
        )
        return [EvaluationRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), *r[6:]) for r in rows]

    def evaluation_frame(self, study_id: int):
        """Every evaluation of a study as a pandas DataFrame (one row per query)."""
        import pandas as pd

        frame = pd.read_sql_query(
            """SELECT t.label, t.optimizer, t.trial_index, t.state AS trial_state, e.k, e.arch, e.row, e.objective,
                      e.report, e.cost, e.sim_time, e.wall_time, e.noise_seed, e.fidelity, e.status, e.error, e.metrics
               FROM evaluation e JOIN trial t ON t.id = e.trial_id
               WHERE t.study_id = ? ORDER BY t.label, t.trial_index, e.k""",
            self._con,
            params=(study_id,),
        )
        return frame

    # ------------------------------------------------------------ internals
    def _transaction(self):
        return _Transaction(self._con)


def _rows(trial_id: int, records: Sequence[EvaluationRecord | tuple]) -> list[tuple]:
    """Rows of the evaluation table; a plain tuple is a record :func:`encode_evaluations` already encoded."""
    return [(trial_id, *r) for r in (records if _encoded(records) else encode_evaluations(records))]


def _encoded(records: Sequence[EvaluationRecord | tuple]) -> bool:
    kinds = {type(r) is tuple for r in records}
    if len(kinds) > 1:
        raise TypeError("a batch of evaluations mixes records and encoded rows")
    return kinds == {True}


def _json_text():
    """``json.dumps`` with its default settings, built once: the C encoder where there is one (a third less time per call)."""
    from json import encoder

    plain = json.JSONEncoder()
    if encoder.c_make_encoder is None:  # pragma: no cover - CPython always has it
        return plain.encode
    # The arguments json.JSONEncoder.iterencode passes for its defaults; no circular check (metrics are flat)
    make = encoder.c_make_encoder(None, plain.default, encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)

    def text(value) -> str:
        if isinstance(value, str):  # the C encoder writes a bare string as a list of one chunk
            return plain.encode(value)
        return "".join(make(value, 0))

    return text


#: the metrics as JSON text, exactly as ``json.dumps`` writes them
_metrics_text = _json_text()


def encode_evaluations(records: Iterable[EvaluationRecord]) -> list[tuple]:
    """Records as plain rows of the evaluation table, without the trial id (metrics as JSON text).

    What a worker process sends the single writer: a plain tuple of numbers
    and text pickles several times faster than a record with a dict, and the
    writer then only inserts it.
    """
    return [
        (r.k, r.arch, r.row, r.objective, r.report, _metrics_text(r.metrics), r.cost, r.sim_time, r.wall_time,
         r.noise_seed, r.fidelity, r.status, r.error)
        for r in records
    ]


class _Transaction:
    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def __enter__(self) -> None:
        self.con.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")
