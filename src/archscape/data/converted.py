"""Cache of tables converted from raw files into flat numpy arrays.

The first load of a benchmark parses its raw file (JSON, CSV, pickle,
tfrecord) and saves the arrays as one ``.npz`` under
``<cache>/converted/``; later loads memory-map nothing and parse nothing, they
read that file.  The key contains the raw file's checksum (or size and mtime
when unpinned) and a format version, so a changed file or a changed converter
never reads stale arrays.  Writes go to a temporary file renamed into place.

Each converted file is tied to the files it was converted from: a sidecar
``<key>-v<version>-<stamp>.sources.json`` records each source's SHA-256, size
and modification time at conversion.  Every load compares the sources' size
and mtime with the record (a ``stat`` each); only when they differ is the
source hashed again.  A source that still passes its checksum has its new
mtime recorded; one that fails (or is missing) is refused with one line naming
the repair command, and the converted arrays are not served.  A converted file
without a record (written by an older version) gets one full check, then a
record.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from archscape.data import registry

#: name of the sidecar beside ``<stem>.npz``
RECORD_SUFFIX = ".sources.json"
#: the temporary files a conversion writes (the arrays and the record)
_TEMP_SUFFIXES = (".npz", ".json")


def _stamp(name: str) -> str:
    e = registry.entry(name)
    if e.sha256:
        return e.sha256[:16]
    st = registry.path(name).stat()
    return f"{st.st_size}-{int(st.st_mtime)}"


def record_path(target: Path) -> Path:
    """The sidecar that records the sources of the converted file ``target``."""
    return target.with_name(target.name.removesuffix(".npz") + RECORD_SUFFIX)


def read_record(file: Path) -> dict[str, registry.Fingerprint] | None:
    """The source fingerprints recorded in ``file``; None when absent or unreadable."""
    try:
        with open(file, encoding="utf-8") as f:
            raw = json.load(f)
        return {
            name: registry.Fingerprint(str(rec["sha256"]), int(rec["size"]), int(rec["mtime_ns"]))
            for name, rec in raw["sources"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_record(file: Path, prints: dict[str, registry.Fingerprint]) -> None:
    body = {"sources": {n: {"sha256": p.sha256, "size": p.size, "mtime_ns": p.mtime_ns} for n, p in prints.items()}}
    try:
        fd, tmp = registry.partial_file(file.parent, f".{file.name.removesuffix('.json')}.", ".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f, indent=1)
            os.replace(tmp, file)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache: the next load checks the sources in full again


def checked_sources(sources: list[str], record: dict[str, registry.Fingerprint] | None) -> dict[str, registry.Fingerprint] | None:
    """The sources' fingerprints when arrays converted from ``record`` may be served.

    A source whose size and mtime match the record costs one ``stat``; any
    other is hashed.  Returns None when an unpinned source now holds other
    bytes (the arrays must be rebuilt); raises
    :class:`~archscape.errors.DataError` when a source is missing or fails its
    checksum.
    """
    current: dict[str, registry.Fingerprint] = {}
    for name in sources:
        known = record.get(name) if record else None
        try:
            st = os.stat(registry.local_path(name))
        except OSError:
            st = None
        if known is not None and st is not None and known.size == st.st_size and known.mtime_ns == st.st_mtime_ns:
            current[name] = known
            continue
        now = registry.fingerprint(name)  # missing or damaged: one line with the repair command
        if known is not None and now.sha256 != known.sha256:
            return None
        current[name] = now
    return current


def _read(target: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(target, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile):
        return None


def _sweep(folder: Path) -> None:
    for suffix in _TEMP_SUFFIXES:
        registry.sweep_partials(folder, ".", suffix)


def load_or_build(key: str, sources: list[str], build: Callable[[], dict[str, np.ndarray]], version: int = 1) -> dict[str, np.ndarray]:
    """Arrays for ``key``: read from the converted cache, or ``build()`` and store them.

    Either way each source is checked first (see the module docstring): a
    missing or damaged source raises :class:`~archscape.errors.DataError`
    naming the repair, and neither the cached arrays nor ``build`` are used.
    """
    stamp = "-".join(_stamp(s) for s in sources)
    folder = registry.cache_dir() / "converted"
    target = folder / f"{key}-v{version}-{stamp}.npz"
    sidecar = record_path(target)
    registry.sweep_once(folder, _TEMP_SUFFIXES)
    if target.is_file():
        recorded = read_record(sidecar)
        current = checked_sources(sources, recorded)
        if current is not None:
            arrays = _read(target)
            if arrays is not None:
                if current != recorded:
                    _write_record(sidecar, current)
                return arrays
        target.unlink(missing_ok=True)  # a damaged cache entry, or one of other bytes, is rebuilt
        sidecar.unlink(missing_ok=True)
        prints = current if current is not None else checked_sources(sources, None)
    else:
        prints = checked_sources(sources, None)
    arrays = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _sweep(folder)
        fd, tmp = registry.partial_file(folder, f".{key}.", ".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _write_record(sidecar, prints)
    except OSError:
        pass  # a read-only cache only costs speed
    return arrays
