"""Small shared utilities."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path

from archscape.errors import ArchscapeError


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    A failure inside the block leaves neither a partial ``target`` nor the
    temporary file behind.  The finished file gets the usual permissions
    (``0o666`` less the umask), not the temporary file's private ones.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchscapeError(f"cannot create the folder of {target}: {exc.strerror}") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        if tmp_path.exists():
            tmp_path.chmod(0o666 & ~umask)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def process_running(pid: int, since: float | None = None) -> bool:
    """Whether process ``pid`` of this machine may still be the one that wrote a file at ``since``.

    The check behind every sweep of temporary files that carry their maker's
    pid: this process counts as running; so does any process on Windows
    (``os.kill`` would end it there) and another user's (it exists).  With
    ``since`` (epoch seconds of the file's last change), a process that started
    after it holds a reused pid, not the maker's (where ``/proc`` tells).
    """
    if pid == os.getpid() or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except PermissionError:
        pass
    except (OSError, OverflowError):  # ProcessLookupError, or no such pid at all
        return False
    started = process_start(pid) if since is not None else None
    return started is None or started <= since + 1.0


def process_start(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), where /proc tells (Linux); else None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of stat: start time in clock ticks after boot
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


@lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager:
    """A context in which BLAS uses one thread.

    The surrogate models solve problems of a few hundred points, where BLAS
    threads cost more than they save (a 300x300 Cholesky is 5x slower with
    two threads on two busy cores), and parallel trials must not
    oversubscribe the machine.
    """
    return _blas_controller().limit(limits=1, user_api="blas")
