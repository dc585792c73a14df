"""The result store: SQLite in WAL mode, one writer.

Three tables: ``study`` (the settings of one comparison), ``trial`` (one run
of one optimizer) and ``evaluation`` (every query, in order, with metrics,
cost, simulated and wall-clock time).  The primitives below are keyed by
integer ids and return frozen values; derived queries (frames, counts) are
written once on top of them.

One writer: ``Store(path)`` first takes an OS advisory lock on
``<store>.lock`` (:class:`WriterLock`; it names the holder's pid, host and
start time), so a second writer, in this process or another, is refused in
one line before anything is written; the OS drops the lock of a process that
dies, so a crashed run never blocks ``--resume``.  The study is created by a
check-then-insert in one ``BEGIN IMMEDIATE`` transaction as well.

Readers: ``Store(path, read_only=True)`` takes no lock and never writes
(SQLite ``mode=ro``, or ``immutable=1`` where the folder cannot be written,
e.g. read-only media); it reads beside a running writer (WAL).  A reader in a
writable folder leaves SQLite's ``-wal``/``-shm`` companions, which the next
writer removes.  Every opening first refuses what is not an archscape store
(:func:`check_store_file`): a folder, a non-SQLite file, another program's
SQLite database (left byte for byte unchanged).

Durability: evaluations are written in transactions; a process killed at any
moment leaves every committed evaluation intact and nothing half-written
(SQLite's journal rolls an interrupted transaction back).  The runner commits
at least every ``commit_every`` seconds, and a resumed run recomputes the few
uncommitted evaluations identically, so the final result does not change.
A write the storage refuses (a full disk, an I/O error, read-only storage)
rolls back and raises one :class:`StoreError` line; the store keeps every
committed evaluation and the run resumes once the storage works.

Thread-safety: a :class:`Store` object belongs to one thread of one process
(the runner's single writer).  Readers in other processes may open the same
file concurrently (WAL).
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

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
    """A SQLite result store (see the module docstring).

    ``Store(path)`` opens the store for writing, creating it when ``create``
    (the default): it first takes the writer lock (:class:`WriterLock`), so a
    second writer is refused in one line before anything is written.
    ``Store(path, read_only=True)`` opens an existing store for reading only
    (no lock, no write, works on read-only storage and beside a running writer).
    """

    def __init__(self, path: str | Path, *, create: bool = True, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._lock: WriterLock | None = None
        if read_only or not create:
            check_store_file(self.path)
        else:
            check_store_file(self.path, missing_ok=True)
        if read_only:
            self._open_read_only()
            return
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder of {self.path}: {exc.strerror}") from None
        self._lock = WriterLock(self.path)
        try:
            self._open_for_writing()
        except BaseException:
            self._lock.release()
            raise

    def _open_for_writing(self) -> None:
        try:
            self._con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open {self.path} for writing ({exc}){_folder_hint(self.path)}") from None
        try:
            with self._writing("open for writing the store"):
                self._con.execute("PRAGMA journal_mode=WAL")
                self._con.execute("PRAGMA synchronous=NORMAL")
                self._con.execute("PRAGMA foreign_keys=ON")
                try:  # the whole schema or nothing
                    self._con.executescript(f"BEGIN IMMEDIATE; {_SCHEMA}; INSERT OR IGNORE INTO meta VALUES "
                                            f"('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
                finally:
                    if self._con.in_transaction:
                        self._con.execute("ROLLBACK")
            self._check_version()
        except sqlite3.DatabaseError as exc:
            self._con.close()
            raise StoreError(f"{self.path} is not an archscape store ({exc})") from None
        except BaseException:
            self._con.close()
            raise

    def _open_read_only(self) -> None:
        try:
            self._con = sqlite3.connect(read_only_uri(self.path), uri=True, isolation_level=None, check_same_thread=True)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read the store {self.path} ({exc})") from None
        try:
            self._check_version()
        except BaseException:
            self._con.close()
            raise

    def _check_version(self) -> None:
        try:
            version = int(self._con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not an archscape store ({exc})") from None
        if version != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has store schema {version}; this archscape reads schema {SCHEMA_VERSION}")

    def close(self) -> None:
        try:
            self._con.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ studies
    def create_study(self, name: str, benchmark: str, config: dict, fingerprint: str, info: dict, version: str) -> int:
        """Insert a study; returns its id."""
        with self._writing("create the study in"):
            cur = self._con.execute(
                "INSERT INTO study (name, benchmark, config, fingerprint, info, created, version) VALUES (?,?,?,?,?,?,?)",
                (name, benchmark, json.dumps(config, sort_keys=True), fingerprint, json.dumps(info), time.time(), version),
            )
        return int(cur.lastrowid)

    def first_study(self, name: str, benchmark: str, config: dict, fingerprint: str, info: dict, version: str) -> StudyRecord:
        """The store's first study, created from these settings when there is none.

        The check and the insert are one ``BEGIN IMMEDIATE`` transaction, so
        two writers (were the writer lock bypassed) cannot both create one.
        """
        with self._writing("create the study in"), self._transaction():
            studies = self.studies()
            if not studies:
                self._con.execute(
                    "INSERT INTO study (name, benchmark, config, fingerprint, info, created, version) VALUES (?,?,?,?,?,?,?)",
                    (name, benchmark, json.dumps(config, sort_keys=True), fingerprint, json.dumps(info), time.time(), version),
                )
                studies = self.studies()
        return studies[0]

    def studies(self) -> list[StudyRecord]:
        rows = self._con.execute("SELECT id, name, benchmark, config, fingerprint, info, created, version FROM study ORDER BY id")
        return [StudyRecord(r[0], r[1], r[2], json.loads(r[3]), r[4], json.loads(r[5]), r[6], r[7]) for r in rows]

    # ------------------------------------------------------------ trials
    def ensure_trial(self, study_id: int, label: str, optimizer: str, params: dict, trial_index: int) -> int:
        """The id of (study, label, trial_index), inserting a 'running' trial when new."""
        with self._writing("add a trial to"):
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
        with self._writing("update a trial in"):
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

        try:
            frame = pd.read_sql_query(
                """SELECT t.label, t.optimizer, t.trial_index, t.state AS trial_state, e.k, e.arch, e.row, e.objective,
                          e.report, e.cost, e.sim_time, e.wall_time, e.noise_seed, e.fidelity, e.status, e.error, e.metrics
                   FROM evaluation e JOIN trial t ON t.id = e.trial_id
                   WHERE t.study_id = ? ORDER BY t.label, t.trial_index, e.k""",
                self._con,
                params=(study_id,),
            )
        except Exception as exc:  # pandas wraps SQLite's error; a full disk (sorting spills to temporary files) is one line
            cause = exc if isinstance(exc, sqlite3.Error) else exc.__cause__ or exc.__context__
            if isinstance(cause, sqlite3.Error) and _is_storage_error(cause):
                raise StoreError(f"cannot read the store {self.path}: {cause} (SQLite's temporary files need space "
                                 "too: free some, or set SQLITE_TMPDIR to a folder with space)") from None
            raise
        return frame

    # ------------------------------------------------------------ internals
    def _transaction(self):
        return _Transaction(self._con, self.path)

    def _writing(self, what: str):
        return _Writing(self.path, what)


def _rows(trial_id: int, records: Sequence[EvaluationRecord | tuple]) -> list[tuple]:
    """Rows of the evaluation table; a plain tuple is a record :func:`encode_evaluations` already encoded."""
    return [(trial_id, *r) for r in (records if _encoded(records) else encode_evaluations(records))]


def _encoded(records: Sequence[EvaluationRecord | tuple]) -> bool:
    kinds = {type(r) is tuple for r in records}
    if len(kinds) > 1:
        raise TypeError("a batch of evaluations mixes records and encoded rows")
    return kinds == {True}


#: the metrics as JSON text, exactly as ``json.dumps`` writes them (its default encoder, without the keyword handling)
_metrics_text = json.JSONEncoder().encode


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
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an error); a full disk becomes a :class:`StoreError`."""

    def __init__(self, con: sqlite3.Connection, path: Path) -> None:
        self.con = con
        self.path = path

    def __enter__(self) -> None:
        try:
            self.con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise write_error(self.path, exc, "write to") from None

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.con.execute("COMMIT")
                return
            except sqlite3.OperationalError as failed:
                exc = failed
        if self.con.in_transaction:  # SQLite may already have rolled back (e.g. on SQLITE_FULL)
            try:
                self.con.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        if isinstance(exc, (sqlite3.OperationalError, OSError)) and _is_storage_error(exc):
            raise write_error(self.path, exc, "write to") from None
        if exc_type is None:
            raise exc


class _Writing:
    """Turns a full disk or an I/O error of a write into one :class:`StoreError` line."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None and isinstance(exc, (sqlite3.OperationalError, OSError)) and _is_storage_error(exc):
            raise write_error(self.path, exc, self.what) from None


#: writes after which a run can be resumed (the study exists)
_RESUMABLE = ("write to", "add a trial to", "update a trial in")
_STORAGE_MESSAGES = ("database or disk is full", "disk i/o error", "no space left", "readonly database",
                     "attempt to write a readonly", "unable to open database file", "disk quota")


def _is_storage_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO)
    return any(m in str(exc).lower() for m in _STORAGE_MESSAGES)


def write_error(path: Path, exc: BaseException, what: str = "write to") -> StoreError:
    """One line for a write that the storage refused (full disk, I/O error, read-only)."""
    text = str(exc) if not isinstance(exc, OSError) or isinstance(exc, sqlite3.Error) else (exc.strerror or str(exc))
    lower = text.lower()
    then = (f"every committed evaluation is kept: continue with --resume {path}" if what in _RESUMABLE
            else "nothing was stored: run again")
    if "full" in lower or "no space" in lower or "quota" in lower:
        why = f"the disk is full ({text}); {then} once space is freed"
    elif "readonly" in lower or "read-only" in lower:
        why = f"the store or its folder is read-only ({text})"
    else:
        why = f"{text}; {then} once the storage works"
    return StoreError(f"cannot {what} {path}: {why}")


# ------------------------------------------------------------------ files
_HEADER = b"SQLite format 3\x00"
#: the tables of an archscape store
STORE_TABLES = frozenset({"meta", "study", "trial", "evaluation"})


def check_store_file(path: str | Path, *, missing_ok: bool = False) -> None:
    """Refuse, before anything opens it, a path that is not an archscape store.

    Accepted: an archscape store; with ``missing_ok`` also no file, an empty
    file or an SQLite database without tables (where a store is created).
    Refused in one line: a folder, a file that is not SQLite, and an SQLite
    database of another program (it is read read-only and never changed).
    """
    path = Path(path)
    if not path.exists():
        if missing_ok:
            return
        raise StoreError(f"no store at {path}")
    if not path.is_file():
        raise StoreError(f"{path} is not a file; expected a store such as runs/NAME.sqlite")
    try:
        with open(path, "rb") as f:
            header = f.read(16)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if not header and missing_ok:
        return
    if header != _HEADER:
        raise StoreError(f"{path} is not an archscape store (not an SQLite file)")
    try:
        con = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not an archscape store ({exc})") from None
    if STORE_TABLES <= names or (missing_ok and not names):
        return
    shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
    raise StoreError(f"{path} is an SQLite database of another program (tables: {shown or 'none'}), not an archscape "
                     "store; archscape leaves it unchanged: give a new file or an archscape store")


def read_only_uri(path: str | Path) -> str:
    """The SQLite URI that reads ``path`` without writing anything.

    ``mode=ro`` where SQLite can keep its WAL index beside the file (the folder
    is writable, or the ``-wal`` and ``-shm`` files are there already);
    otherwise ``immutable=1`` (read-only media: there is no writer, and no WAL
    file holds anything the file lacks).
    """
    path = Path(path).resolve()
    folder_writable = os.access(path.parent, os.W_OK)
    wal_ready = Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
    query = "mode=ro" if folder_writable or wal_ready else "mode=ro&immutable=1"
    return f"file:{quote(str(path))}?{query}"


def _folder_hint(path: Path) -> str:
    folder = path.parent.resolve()
    return f"; the folder {folder} is not writable" if not os.access(folder, os.W_OK) else ""


# ------------------------------------------------------------------ the writer lock
class WriterLock:
    """The one-writer lock of a store: an OS advisory lock (``flock``) on ``<store>.lock``.

    Taken before the store is created or opened for writing.  The file holds
    the holder's pid, host and start time, for the message a second writer
    gets.  The OS drops the lock when its process dies however it dies, so a
    crashed run never blocks a later ``--resume``; a clean release removes the
    file.  Without ``fcntl`` (Windows) no lock is taken.
    """

    def __init__(self, store: str | Path) -> None:
        self.store = Path(store)
        self.path = Path(f"{os.path.realpath(self.store)}.lock")  # one lock whatever the link or relative path
        self._fd: int | None = None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError(f"cannot write the store {self.store}: {exc.strerror}{_folder_hint(self.store)}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_holder(fd)
                os.close(fd)
                raise StoreError(f"{self.store} is being written by another archscape run ({holder}); a study has one "
                                 "writer: wait for it to finish, or use another --store") from None
            try:  # the file may have been removed by a holder that released it just now: lock the one in place
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": started})
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode(), 0)
        self._fd = fd

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return f"pid {info['pid']} on {info['host']} since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that is starting"
