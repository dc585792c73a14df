"""Speed of archscape's ELA features against pflacco 1.2.2 on the same samples.

The samples are those of ``tests/fixtures/pflacco_reference.json`` (BBOB f1,
f3, f7, f15, f21 in 2, 5 and 10 dimensions with 50 d points; two
Learning-from-NAS samples of 200 and 400 rows in 23 dimensions) plus the first
800 rows of the MNIST table (the size of one Learning-from-NAS bootstrap
sample).  archscape is timed here (best of ``--repeat``); pflacco in a
subprocess of the throwaway virtual environment that
``scripts/make_pflacco_fixture.sh`` builds (``--venv``, default
/tmp/pflacco-venv), with ``scripts/pflacco_reference.py --time``.  Without that
environment only archscape's times are printed.

A set that pflacco refuses on a sample (ela_level on tied MNIST accuracies) is
left out of both sides for that sample.  The ratio is total pflacco time over
total archscape time (target: at least 5x).

Usage: python benchmarks/bench_ela.py [--repeat 3] [--venv DIR] [--from ../shared/data] [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURE = ROOT / "tests" / "fixtures" / "pflacco_reference.json"
DEFAULT_SOURCE = (ROOT / ".." / "shared" / "data").resolve()
SETS = ("ela_meta", "ela_distr", "ela_level", "nbc", "disp", "ic", "pca")


def load_samples(source: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    from archscape.data import registry
    from archscape.landscape import lfnas

    ref = json.loads(FIXTURE.read_text())
    out = []
    have_data = source.is_dir()
    if have_data:
        os.environ.setdefault("ARCHSCAPE_DATA", tempfile.mkdtemp(prefix="archscape-bench-ela-"))
    for s in ref["samples"]:
        if s["kind"] == "bbob":
            out.append((s["name"], np.array(s["X"]), np.array(s["y"])))
        elif have_data:
            registry.fetch(s["dataset"], source)
            p = lfnas.load_problem(dataset=s["dataset"].split("-")[1], space=s["space"], rows=s["rows"])
            out.append((s["name"], p.X, p.y))
    if have_data:
        registry.fetch("lfnas-mnist", source)
        p = lfnas.load_problem(dataset="mnist", space="cnn-broad", rows=800)
        out.append(("lfnas-mnist-first800", p.X, p.y))
    return out


def time_archscape(X: np.ndarray, y: np.ndarray, repeat: int) -> tuple[dict[str, float], list[str]]:
    from archscape.errors import ArchscapeError
    from archscape.landscape.ela import calculate_features

    lb, ub = min(-5.0, X.min()), max(5.0, X.max())
    best: dict[str, float] = {}
    errors = []
    for s in SETS:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            try:
                calculate_features(X, y, sets=[s], lower_bound=lb, upper_bound=ub)
            except ArchscapeError:
                errors.append(s)
                break
            times.append(time.perf_counter() - t0)
        if times:
            best[s] = min(times)
    return best, errors


def time_pflacco(venv: Path, source: Path, repeat: int) -> dict | None:
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    cmd = [str(python), str(ROOT / "scripts" / "pflacco_reference.py"), "--time", str(FIXTURE), "--repeat", str(repeat)]
    lf = source / "learning-from-nas"
    if lf.is_dir():
        cmd += ["--lfnas", str(lf)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"pflacco timing failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description="ELA speed: archscape vs pflacco")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--venv", type=Path, default=Path("/tmp/pflacco-venv"))
    ap.add_argument("--from", dest="source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="a smoke run: one repeat, the BBOB samples and one NAS sample")
    args = ap.parse_args()
    if args.quick:
        args.repeat = 1

    samples = load_samples(args.source)
    if args.quick:
        samples = [s for s in samples if s[1].shape[1] <= 5][:4] + [s for s in samples if s[0].startswith("lfnas")][:1]
    ours = {name: time_archscape(X, y, args.repeat) for name, X, y in samples}
    theirs = time_pflacco(args.venv, args.source, args.repeat)

    rows = []
    per_set_a = dict.fromkeys(SETS, 0.0)
    per_set_p = dict.fromkeys(SETS, 0.0)
    for name, X, _ in samples:
        a, a_err = ours[name]
        p = (theirs or {}).get(name)
        skip = set(a_err) | set(p["errors"] if p else [])
        used = [s for s in SETS if s not in skip]
        ta = sum(a[s] for s in used)
        tp = sum(p["seconds"][s] for s in used) if p else float("nan")
        for s in used:
            per_set_a[s] += a[s]
            per_set_p[s] += p["seconds"][s] if p else float("nan")
        rows.append({"sample": name, "n": X.shape[0], "d": X.shape[1], "archscape_s": ta, "pflacco_s": tp,
                     "ratio": tp / ta, "skipped": sorted(skip)})
    total_a = sum(r["archscape_s"] for r in rows)
    total_p = sum(r["pflacco_s"] for r in rows)
    summary = {
        "samples": rows,
        "per_set": {s: {"archscape_s": per_set_a[s], "pflacco_s": per_set_p[s], "ratio": per_set_p[s] / per_set_a[s]} for s in SETS},
        "total": {"archscape_s": total_a, "pflacco_s": total_p, "ratio": total_p / total_a},
        "pflacco_available": theirs is not None,
    }
    if args.json:
        print(json.dumps(summary, indent=1))
        return
    print(f"{'sample':<28}{'n':>5}{'d':>4}{'archscape s':>13}{'pflacco s':>11}{'ratio':>8}")
    for r in rows:
        print(f"{r['sample']:<28}{r['n']:>5}{r['d']:>4}{r['archscape_s']:>13.4f}{r['pflacco_s']:>11.4f}{r['ratio']:>8.1f}"
              + (f"  (without {', '.join(r['skipped'])})" if r["skipped"] else ""))
    print()
    print(f"{'feature set':<28}{'archscape s':>22}{'pflacco s':>11}{'ratio':>8}")
    for s, v in summary["per_set"].items():
        print(f"{s:<28}{v['archscape_s']:>22.4f}{v['pflacco_s']:>11.4f}{v['ratio']:>8.1f}")
    t = summary["total"]
    print(f"\ntotal: archscape {t['archscape_s']:.3f} s, pflacco {t['pflacco_s']:.3f} s, ratio {t['ratio']:.1f}x (target >= 5x)")
    if theirs is None:
        print("pflacco is not available: run scripts/make_pflacco_fixture.sh to build its environment")


if __name__ == "__main__":
    main()
