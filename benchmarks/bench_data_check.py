"""What checking a converted table's sources costs per load.

Every load of a converted table compares each source's size and mtime with
the record written at conversion (one ``stat``, plus reading the small JSON
record); only a changed stat costs a full SHA-256.  Prints, measured in one
process on a fresh cache filled from ``--from``:

* the check with an up-to-date record (``checked_sources``), the record read,
  and a bare ``os.stat`` of the source for comparison;
* the full hash the check avoids (``registry.fingerprint``);
* a warm load of the converted table (``load_or_build``, check included)
  against reading the same ``.npz`` alone (``np.load``): the ratio is what the
  check adds to a load.

Usage: python benchmarks/bench_data_check.py [--from ../shared/data] [--name nas-bench-macro]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = (HERE / ".." / ".." / "shared" / "data").resolve()


def per_call(fn, n: int, repeats: int = 5) -> float:
    """Best of ``repeats`` mean seconds per call over ``n`` calls."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="source", default=str(DEFAULT_SOURCE))
    ap.add_argument("--name", default="nas-bench-macro", help="a registry entry with a converted table (default: nas-bench-macro)")
    ap.add_argument("--quick", action="store_true", help="accepted for the smoke test (the script is quick already)")
    args = ap.parse_args()
    os.environ["ARCHSCAPE_DATA"] = tempfile.mkdtemp(prefix="archscape-bench-data-")

    from archscape.benchmarks import macro
    from archscape.data import converted, registry

    if args.name != "nas-bench-macro":
        raise SystemExit("only nas-bench-macro is wired here (its loader is the converted table's build)")
    registry.fetch(args.name, args.source)
    macro.load()  # converts and records
    folder = registry.cache_dir() / "converted"
    target = next(folder.glob("nas-bench-macro-v1-*.npz"))
    sidecar = converted.record_path(target)
    record = converted.read_record(sidecar)
    source = registry.local_path(args.name)
    assert converted.checked_sources([args.name], record) == record

    def warm_load():
        return converted.load_or_build("nas-bench-macro", [args.name], lambda: (_ for _ in ()).throw(AssertionError("rebuilt")))

    def npz_only():
        with np.load(target, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}

    stat = per_call(lambda: os.stat(source), 20000)
    check = per_call(lambda: converted.checked_sources([args.name], record), 20000)
    read = per_call(lambda: converted.read_record(sidecar), 5000)
    full = per_call(lambda: registry.fingerprint(args.name), 20, repeats=3)
    load = per_call(warm_load, 300)
    bare = per_call(npz_only, 300)
    size = source.stat().st_size
    print(f"source {args.name}: {size / 1e6:.2f} MB; converted {target.stat().st_size / 1e6:.2f} MB")
    print(f"os.stat of the source              {stat * 1e6:9.2f} us")
    print(f"check, record up to date (stat)    {check * 1e6:9.2f} us   ({check / stat:.1f}x a bare stat)")
    print(f"read the JSON record               {read * 1e6:9.2f} us")
    print(f"full check (SHA-256), avoided      {full * 1e6:9.0f} us   ({full / (check + read):,.0f}x the per-load check)")
    print(f"warm load, check included          {load * 1e6:9.0f} us")
    print(f"np.load of the .npz alone          {bare * 1e6:9.0f} us   (load / npz alone: {load / bare:.3f})")


if __name__ == "__main__":
    main()
