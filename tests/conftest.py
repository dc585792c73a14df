"""Shared test setup.

The tests reach the public data in ``../shared/data`` exactly as a user with a
downloaded file would: ``archscape.data.fetch(NAME, DIR)`` copies each file
into a fresh cache directory for this test session, checking its checksum.
That happens before collection, so tests can be parametrised over what is
available.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
_CACHE: list[str] = []


def pytest_configure(config) -> None:
    from archscape.data import registry

    root = tempfile.mkdtemp(prefix="archscape-test-data-")
    _CACHE.append(root)
    os.environ["ARCHSCAPE_DATA"] = root
    if SHARED_DATA.is_dir():
        for name, entry in registry.ENTRIES.items():
            if entry.package is None and any(SHARED_DATA.rglob(entry.filename)):
                registry.fetch(name, SHARED_DATA)


def pytest_unconfigure(config) -> None:
    for root in _CACHE:
        shutil.rmtree(root, ignore_errors=True)
