"""The data registry: verified fetches that never leave a partial file in the cache."""

from __future__ import annotations

import gzip
import shutil

import pytest

from archscape.data import registry
from archscape.errors import DataError, UnknownName
from conftest import SHARED_DATA

NAME = "nb201-12epoch"
FILE = "nb201_12epoch_accuracies.csv.gz"


@pytest.fixture()
def empty_cache(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("ARCHSCAPE_DATA", str(cache))
    return cache


def _leftovers(cache):
    return sorted(p.name for p in cache.rglob("*")) if cache.exists() else []


def test_fetch_from_a_directory_file_and_file_url(empty_cache):
    path = registry.fetch(NAME, SHARED_DATA)
    assert path == empty_cache / NAME / FILE
    assert registry.sha256_of(path) == registry.ENTRIES[NAME].sha256
    assert registry.verify(NAME).state == "ok"
    # forced re-fetch through a file:// URL
    url = (SHARED_DATA / "nasbench201-12epoch" / FILE).as_uri()
    assert registry.fetch(NAME, url, force=True) == path


def test_checksum_mismatch_leaves_nothing(empty_cache, tmp_path):
    bad = tmp_path / "download" / FILE
    bad.parent.mkdir()
    data = bytearray((SHARED_DATA / "nasbench201-12epoch" / FILE).read_bytes())
    data[1000] ^= 0xFF  # same size, one flipped byte
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match="checksum mismatch") as err:
        registry.fetch(NAME, bad)
    assert "nothing was written" in str(err.value) and "\n" not in str(err.value)
    assert _leftovers(empty_cache) == []
    assert not registry.is_available(NAME)


def test_truncated_file_leaves_nothing(empty_cache, tmp_path):
    short = tmp_path / FILE
    short.write_bytes((SHARED_DATA / "nasbench201-12epoch" / FILE).read_bytes()[:5000])
    with pytest.raises(DataError, match="5000 bytes, expected 569603"):
        registry.fetch(NAME, short)
    assert _leftovers(empty_cache) == []


def test_missing_source_and_unknown_names(empty_cache, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        registry.fetch(NAME, tmp_path / "nope.csv.gz")
    with pytest.raises(DataError, match="no file named"):
        registry.fetch(NAME, tmp_path)
    with pytest.raises(UnknownName, match="unknown data set 'nb999'"):
        registry.fetch("nb999")
    with pytest.raises(DataError, match="archscape data fetch nb201-12epoch --from PATH"):
        registry.path(NAME)
    with pytest.raises(DataError, match="no direct download address"):
        registry.fetch(NAME)


def test_verify_detects_a_file_damaged_in_the_cache(empty_cache):
    path = registry.fetch(NAME, SHARED_DATA)
    path.chmod(0o644)
    with open(path, "r+b") as f:
        f.seek(10)
        f.write(b"\x00\x00")
    status = registry.verify(NAME)
    assert status.state == "corrupt" and "checksum mismatch" in status.detail


def test_damaged_file_is_refused_before_conversion(empty_cache):
    from archscape.benchmarks import nb201

    path = registry.fetch(NAME, SHARED_DATA)
    path.chmod(0o644)
    raw = gzip.decompress(path.read_bytes()).replace(b"69.55", b"99.55")
    path.write_bytes(gzip.compress(raw))
    nb201._tables.cache_clear()
    try:
        with pytest.raises(DataError):
            nb201.load("cifar10")
        assert not any((empty_cache / "converted").glob("nb201-cifar10-12*"))
    finally:
        nb201._tables.cache_clear()


def test_package_files_are_verified():
    for ds in ("cifar10", "cifar100", "imagenet"):
        assert registry.verify(f"nb201-{ds}-200epoch").state == "ok"


def test_converted_cache_is_rebuilt_when_damaged(empty_cache):
    from archscape.benchmarks import nb201

    shutil.rmtree(empty_cache, ignore_errors=True)
    codes = nb201.official_codes()
    npz = next((empty_cache / "converted").glob("nb201-order-*.npz"))
    npz.write_bytes(b"not a zip file")
    assert (nb201.official_codes() == codes).all()
