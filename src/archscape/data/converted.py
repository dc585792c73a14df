"""Cache of tables converted from raw files into flat numpy arrays.

The first load of a benchmark parses its raw file (JSON, CSV, pickle,
tfrecord) and saves the arrays as one ``.npz`` under
``<cache>/converted/``; later loads memory-map nothing and parse nothing, they
read that file.  The key contains the raw file's checksum (or size and mtime
when unpinned) and a format version, so a changed file or a changed converter
never reads stale arrays.  Writes go to a temporary file renamed into place.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from archscape.data import registry


def _stamp(name: str) -> str:
    e = registry.entry(name)
    if e.sha256:
        return e.sha256[:16]
    st = registry.path(name).stat()
    return f"{st.st_size}-{int(st.st_mtime)}"


def load_or_build(key: str, sources: list[str], build: Callable[[], dict[str, np.ndarray]], version: int = 1) -> dict[str, np.ndarray]:
    """Arrays for ``key``: read from the converted cache, or ``build()`` and store them.

    ``build`` is called when no valid converted file exists; before it runs,
    each pinned source file is checked against its SHA-256 (a corrupt file
    raises :class:`~archscape.errors.DataError` and nothing is cached).
    """
    stamp = "-".join(_stamp(s) for s in sources)
    target = registry.cache_dir() / "converted" / f"{key}-v{version}-{stamp}.npz"
    if target.is_file():
        try:
            with np.load(target, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except (OSError, ValueError, zipfile.BadZipFile):
            target.unlink(missing_ok=True)  # a damaged cache entry is rebuilt
    for s in sources:
        status = registry.verify(s)
        if status.state in ("missing", "corrupt"):
            raise registry.DataError(status.detail)
    arrays = build()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".npz", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache only costs speed
    return arrays
