"""The store under stress: two writers, a full disk, read-only storage, foreign SQLite files, killed reports.

Each test runs real studies on NAS-Bench-201 (an installed table) and checks
the command line's answer (one ``error:`` line, exit status 2) and what is
left on disk.  Tests marked ``mounts`` build a real read-only folder or a
real tiny filesystem in a private mount namespace (``unshare -m``) and are
skipped where that is not allowed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from archscape.cli import main
from archscape.errors import ArchscapeError
from archscape.report import remove_stale_parts, write_report
from archscape.run.config import config_from_mapping
from archscape.run.runner import run_study, stored_config
from archscape.run.store import Store, StoreError, WriterLock, read_only_uri

SRC = Path(__file__).resolve().parents[1] / "src"
SETTINGS = {"benchmark": "nb201-cifar10", "optimizers": ["random", "local"], "budget": 60, "trials": 3, "seed": 5}
RUN_FLAGS = ["-b", "nb201-cifar10", "-o", "random", "-o", "local", "--budget", "60", "--trials", "3", "--seed", "5",
             "--no-progress"]
COLUMNS = ["label", "trial_index", "k", "arch", "row", "objective", "report", "cost", "sim_time", "noise_seed", "status"]


def frame(path):
    with Store(path, read_only=True) as store:
        return store.evaluation_frame(store.studies()[0].id)[COLUMNS]


def n_studies(path) -> int:
    with sqlite3.connect(read_only_uri(path), uri=True) as con:
        return con.execute("SELECT COUNT(*) FROM study").fetchone()[0]


def n_evaluations(path) -> int:
    try:
        with sqlite3.connect(read_only_uri(path), uri=True) as con:
            return con.execute("SELECT COUNT(*) FROM evaluation").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run every interrupted one must end identical to."""
    path = tmp_path_factory.mktemp("ref") / "reference.sqlite"
    run_study(config_from_mapping(SETTINGS), path)
    return frame(path)


def cli(argv, capsys) -> tuple[int, str]:
    """Exit status and stderr of the command line, run in this process."""
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    return rc, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(SRC)}


def spawn_run(store: Path, *extra: str, slow: bool = False) -> subprocess.Popen:
    """``archscape run`` in another process (a second, real writer); ``slow``: it pauses at each commit."""
    argv = ["--resume", str(store), "--no-progress"] if "--resume" in extra else [*RUN_FLAGS, "--store", str(store),
                                                                                  "--commit-every", "0"]
    script = "import sys; from archscape.cli import main\n"
    if slow:  # a writer that stays busy long enough for the others to meet it, storing the same numbers
        script += textwrap.dedent("""
            import time
            from archscape.run.store import Store
            add = Store.add_batch
            def slow_add(self, batch):
                time.sleep(0.03)
                add(self, batch)
            Store.add_batch = slow_add
        """)
    script += "sys.exit(main(sys.argv[1:]))\n"
    return subprocess.Popen([sys.executable, "-c", script, "run", *argv], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_evaluations(proc: subprocess.Popen, store: Path, at_least: int) -> int:
    deadline = time.monotonic() + 120
    n = 0
    while time.monotonic() < deadline and proc.poll() is None:
        n = n_evaluations(store) if store.exists() else 0
        if n >= at_least:
            break
        time.sleep(0.02)
    return n


# ------------------------------------------------------------------ defect 2: one writer
def test_a_second_writer_is_refused_naming_the_holder_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "s.sqlite"
    run_study(config_from_mapping({**SETTINGS, "budget": 10}), path)
    before = frame(path)
    with Store(path):  # this process writes the store
        with pytest.raises(StoreError, match=rf"being written by another archscape run \(pid {os.getpid()} on "
                                             rf"{socket.gethostname()} since \d{{4}}-\d\d-\d\dT"):
            run_study(config_from_mapping({**SETTINGS, "budget": 10}), path)
        link = tmp_path / "link.sqlite"
        link.symlink_to(path)
        for store in (path, link):  # one lock, whatever the path that names the store
            rc, err = cli(["run", "--resume", store, "--no-progress"], capsys)
            assert rc == 2 and f"pid {os.getpid()}" in one_error_line(err)
        new = tmp_path / "new.sqlite"
        with WriterLock(new):  # a run about to create a store holds it before the file exists
            rc, err = cli(["run", *RUN_FLAGS, "--store", new], capsys)
            assert rc == 2 and "being written by another archscape run" in one_error_line(err)
            assert not new.exists()
    assert frame(path).equals(before) and n_studies(path) == 1
    assert not Path(f"{path}.lock").exists()  # released on close


def test_a_run_started_while_another_writes_the_store_is_refused(tmp_path, reference):
    path = tmp_path / "s.sqlite"
    first = spawn_run(path, slow=True)
    assert wait_for_evaluations(first, path, 20) >= 20, first.communicate()
    for argv in ([], ["--resume"]):  # the same run again, and a resume of it
        second = spawn_run(path, *argv)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 2, err
        line = one_error_line(err)
        assert f"pid {first.pid} on {socket.gethostname()}" in line and "wait for it to finish" in line
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert n_studies(path) == 1
    assert frame(path).equals(reference)


def test_two_runs_started_together_make_one_study(tmp_path, reference):
    path = tmp_path / "s.sqlite"
    procs = [spawn_run(path) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert any(rc == 0 for rc, _ in results), results
    for rc, err in results:
        if rc != 0:  # refused (or, had the first already finished, a rerun with nothing left to do)
            assert rc == 2 and "being written by another archscape run" in one_error_line(err)
    assert n_studies(path) == 1
    assert frame(path).equals(reference)


def test_a_killed_writer_does_not_block_a_resume(tmp_path, reference):
    path = tmp_path / "s.sqlite"
    proc = spawn_run(path, slow=True)  # a fast run can finish its 360 queries before the kill lands
    n = wait_for_evaluations(proc, path, 100)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < n < len(reference), "the run should be killed part-way"
    lock = Path(f"{path}.lock")
    assert json.loads(lock.read_text())["pid"] == proc.pid  # the dead writer's lock file is still there
    result = run_study(stored_config(path), path)
    assert result.n_evaluations == len(reference)
    assert frame(path).equals(reference) and n_studies(path) == 1


def test_the_study_is_created_once_in_one_transaction(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        first = store.first_study("a", "nb201-cifar10", {"x": 1}, "f1", {}, "0")
        again = store.first_study("b", "nb201-cifar10", {"x": 2}, "f2", {}, "0")
        assert again == first and [s.fingerprint for s in store.studies()] == ["f1"]


# ------------------------------------------------------------------ defect 5: a full disk
def _limit_pages(monkeypatch, extra_pages: int) -> None:
    """Let every store opened for writing grow by ``extra_pages`` pages only: SQLite then reports a full disk."""
    opened = Store._open_for_writing

    def limited(self):
        opened(self)
        pages = self._con.execute("PRAGMA page_count").fetchone()[0]
        self._con.execute(f"PRAGMA max_page_count = {pages + extra_pages}")

    monkeypatch.setattr(Store, "_open_for_writing", limited)


def test_a_full_disk_during_a_run_is_one_line_and_the_run_resumes_to_the_same_store(tmp_path, capsys, monkeypatch,
                                                                                  reference):
    path = tmp_path / "s.sqlite"
    with monkeypatch.context() as m:
        _limit_pages(m, 12)
        rc, err = cli(["run", *RUN_FLAGS, "--store", path, "--commit-every", "0"], capsys)
    line = one_error_line(err)
    assert rc == 2 and "the disk is full (database or disk is full)" in line and f"--resume {path}" in line
    with sqlite3.connect(read_only_uri(path), uri=True) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    partial = frame(path)
    assert 0 < len(partial) < len(reference)
    for _, trial in partial.groupby(["label", "trial_index"]):  # only whole commits: every trial a prefix
        assert list(trial.k) == list(range(len(trial)))
    merged = partial.merge(reference, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()  # what was stored is what the uninterrupted run stores
    assert not Path(f"{path}.lock").exists()
    rc, err = cli(["run", "--resume", path, "--no-progress"], capsys)
    assert rc == 0, err
    assert frame(path).equals(reference)


def test_a_full_disk_while_writing_a_report_is_one_line_and_keeps_the_earlier_report(tmp_path, capsys, monkeypatch):
    store, out = tmp_path / "s.sqlite", tmp_path / "report"
    run_study(config_from_mapping({**SETTINGS, "budget": 10}), store)
    assert cli(["report", store, "--out", out], capsys)[0] == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    import pyarrow.parquet

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pyarrow.parquet, "write_table", full)
    rc, err = cli(["report", store, "--out", out], capsys)
    line = one_error_line(err)
    assert rc == 2 and "the disk is full (No space left on device)" in line and "was not changed" in line
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_full_disk_while_reading_a_store_is_one_line(tmp_path, capsys, monkeypatch):
    store = tmp_path / "s.sqlite"
    run_study(config_from_mapping({**SETTINGS, "budget": 10}), store)
    import pandas as pd

    def full(*args, **kwargs):  # what pandas raises when SQLite cannot write its temporary sort files
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError as exc:
            raise pd.errors.DatabaseError("Execution failed on sql 'SELECT ...': database or disk is full") from exc

    monkeypatch.setattr(pd, "read_sql_query", full)
    rc, err = cli(["report", store, "--out", tmp_path / "r"], capsys)
    line = one_error_line(err)
    assert rc == 2 and f"cannot read the store {store}: database or disk is full" in line
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------ defect 6: read-only storage
def test_read_only_opening_uses_mode_ro_or_immutable_and_writes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    run_study(config_from_mapping({**SETTINGS, "budget": 10}), path)
    data = path.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.sqlite"]
    with monkeypatch.context() as m:
        m.setattr(os, "access", lambda p, mode: False)  # as on read-only media
        assert read_only_uri(path).endswith("?mode=ro&immutable=1")
        expected = frame(path)
        assert len(expected) == 2 * 3 * 10 and stored_config(path).budget == 10
        assert sorted(p.name for p in tmp_path.iterdir()) == ["s.sqlite"]  # not even a -shm file
    assert read_only_uri(path).endswith("?mode=ro")  # a writable folder: WAL readers beside a writer
    assert frame(path).equals(expected)
    with Store(path, read_only=True) as store, pytest.raises(StoreError, match="read-only"):
        store.set_trial_state(1, "failed")
    assert path.read_bytes() == data


def test_a_report_reads_a_store_while_a_run_writes_it(tmp_path):
    path = tmp_path / "s.sqlite"
    proc = spawn_run(path, slow=True)
    assert wait_for_evaluations(proc, path, 60) >= 60
    index = write_report([path], tmp_path / "live")
    assert proc.poll() is None, "the report should have been written while the run was going"
    assert index.is_file()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def _private_mounts(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run a shell script in a private mount namespace (read-only binds and tmpfs stay there); skip if not allowed."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare")
    probe = tmp_path / "probe"
    probe.mkdir()
    ok = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=16k tmpfs {probe}"], capture_output=True)
    probe.rmdir()
    if ok.returncode != 0:
        pytest.skip("mount namespaces are not available here")
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env(),
                          timeout=300)


def test_a_store_on_a_read_only_filesystem_is_reported_and_a_new_store_there_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    run_study(config_from_mapping(SETTINGS), folder / "s.sqlite")
    data = (folder / "s.sqlite").read_bytes()
    cmd = f"{sys.executable} -m archscape.cli"
    script = textwrap.dedent(f"""
        mount --bind ro ro && mount -o remount,bind,ro ro || exit 99
        {cmd} report ro/s.sqlite --out out --table > report.txt 2>&1; echo "report $?" >> status
        {cmd} run {' '.join(RUN_FLAGS)} --store ro/new.sqlite 2> new.err; echo "new $?" >> status
        {cmd} run --resume ro/s.sqlite --no-progress 2> resume.err; echo "resume $?" >> status
    """)
    done = _private_mounts(script, tmp_path)
    assert done.returncode == 0, done.stderr
    status = dict(line.split() for line in (tmp_path / "status").read_text().splitlines())
    assert status["report"] == "0", (tmp_path / "report.txt").read_text()
    assert (tmp_path / "out" / "index.html").is_file()
    line = one_error_line((tmp_path / "new.err").read_text())
    assert status["new"] == "2" and "Read-only file system" in line and "is not writable" in line
    line = one_error_line((tmp_path / "resume.err").read_text())
    assert status["resume"] == "2" and "Read-only file system" in line
    assert (folder / "s.sqlite").read_bytes() == data and sorted(p.name for p in folder.iterdir()) == ["s.sqlite"]


def test_a_real_full_filesystem_stops_the_run_in_one_line_and_it_resumes_when_space_is_freed(tmp_path, reference):
    cmd = f"{sys.executable} -m archscape.cli"
    script = textwrap.dedent(f"""
        mkdir small && mount -t tmpfs -o size=256k tmpfs small || exit 99
        {cmd} run {' '.join(RUN_FLAGS)} --store small/s.sqlite --commit-every 0 2> full.err; echo "full $?" >> status
        cp small/s.sqlite partial.sqlite; cp small/s.sqlite-wal partial.sqlite-wal
        {cmd} report small/s.sqlite --out small/report 2> report.err; echo "report $?" >> status
        ls -a small > listing
        mount -o remount,size=8m small
        {cmd} run --resume small/s.sqlite --no-progress 2> resume.err; echo "resume $?" >> status
        cp small/s.sqlite final.sqlite
    """)
    done = _private_mounts(script, tmp_path)
    assert done.returncode == 0, done.stderr
    status = dict(line.split() for line in (tmp_path / "status").read_text().splitlines())
    line = one_error_line((tmp_path / "full.err").read_text())
    assert status["full"] == "2" and "the disk is full" in line and "--resume small/s.sqlite" in line
    assert 0 < n_evaluations(tmp_path / "partial.sqlite") < len(reference)
    line = one_error_line((tmp_path / "report.err").read_text())  # a report onto the full disk
    assert status["report"] == "2" and "the disk is full" in line
    assert not [name for name in (tmp_path / "listing").read_text().split() if name.endswith(".part")]
    assert status["resume"] == "0", (tmp_path / "resume.err").read_text()
    assert frame(tmp_path / "final.sqlite").equals(reference)


# ------------------------------------------------------------------ defect 8: another program's SQLite file
def test_another_programs_sqlite_file_is_refused_and_left_unchanged(tmp_path, capsys):
    foreign = tmp_path / "notes.db"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        con.execute("INSERT INTO notes (text) VALUES ('keep me')")
    con.close()
    data = foreign.read_bytes()
    rc, err = cli(["run", *RUN_FLAGS, "--store", foreign], capsys)
    line = one_error_line(err)
    assert rc == 2 and "SQLite database of another program (tables: notes)" in line
    for argv in (["report", foreign, "--out", tmp_path / "r"], ["run", "--resume", foreign, "--no-progress"]):
        rc, err = cli(argv, capsys)
        assert rc == 2 and "another program" in one_error_line(err)
    assert foreign.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]
    # an SQLite file without any table (e.g. just created) becomes a store
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    rc, err = cli(["run", *RUN_FLAGS, "--budget", "5", "--store", empty], capsys)
    assert rc == 0, err


# ------------------------------------------------------------------ defect 7: temporary folders of killed reports
def test_a_killed_reports_temporary_folder_is_removed_by_the_next_report(tmp_path):
    store, out = tmp_path / "s.sqlite", tmp_path / "reports" / "r"
    run_study(config_from_mapping({**SETTINGS, "budget": 10}), store)
    script = textwrap.dedent(f"""
        import os, signal
        import archscape.report as report
        report._publish = lambda tmp, out: os.kill(os.getpid(), signal.SIGKILL)  # killed just before publishing
        report.write_report([{str(store)!r}], {str(out)!r})
    """)
    killed = subprocess.run([sys.executable, "-c", script], env=env(), capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = list(out.parent.iterdir())
    assert len(left) == 1 and left[0].name.startswith(".r.") and left[0].name.endswith(".part")
    assert (left[0] / "index.html").is_file()
    write_report([store], out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["r"]


def test_only_folders_of_reports_that_are_gone_are_removed(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        gone = _exited_pid()
        live = tmp_path / f".a.{sleeper.pid}.k3j_x.part"  # a report being written by a running process
        dead = tmp_path / f".b.{gone}.q9w2e.part"
        reused = tmp_path / f".c.{sleeper.pid}.z81mn.part"  # older than the process now holding its pid
        other = tmp_path / ".notes.part"  # not a report's
        for folder in (live, dead, reused, other):
            folder.mkdir()
        earlier = time.time() - 3600
        os.utime(reused, (earlier, earlier))
        assert sorted(remove_stale_parts(tmp_path)) == sorted([dead, reused])
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
    finally:
        sleeper.kill()
        sleeper.wait()


def _exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_store_refusals_are_one_line(tmp_path, capsys):
    folder = tmp_path / "folder.sqlite"
    folder.mkdir()
    text = tmp_path / "notes.sqlite"
    text.write_text("hello")
    for path, fragment in ((tmp_path / "missing.sqlite", "no store at"), (text, "not an SQLite file")):
        rc, err = cli(["run", "--resume", path, "--no-progress"], capsys)
        assert rc == 2 and fragment in one_error_line(err)
    rc, err = cli(["report", text, "--out", tmp_path / "r"], capsys)
    assert rc == 2 and "not an SQLite file" in one_error_line(err)
    with pytest.raises(ArchscapeError, match="is not a file"):
        Store(folder)
