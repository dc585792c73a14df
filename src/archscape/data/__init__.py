"""External data: the registry of files and the cache of converted tables."""

from archscape.data.registry import ENTRIES, DataEntry, cache_dir, fetch, is_available, path, verify

__all__ = ["ENTRIES", "DataEntry", "cache_dir", "fetch", "is_available", "path", "verify"]
