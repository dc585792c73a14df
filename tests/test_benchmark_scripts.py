"""Every script in benchmarks/ runs to the end on a tiny size and prints its figures (issue 17).

Each script is run in a fresh process with ``--quick`` (its smoke-run size),
against this checkout's package and the test session's data cache.  A script
that needs data or an extra that is missing here prints a note for that line
instead of its figures; the test accepts either, by the patterns below.
Speed is not asserted: the scripts print figures, the tests only check they
are printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import archscape

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS_DIR = ROOT / "benchmarks"
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"

#: script -> patterns (regular expressions) its output must contain, one per figure or skip note
SCRIPTS = {
    "bench_core.py": [
        rf"query\(genotype, noise='seed'\) +{NUMBER} /s +ratio vs baseline +{NUMBER}x",
        rf"query_rows\(noise='mean', val_acc\) +{NUMBER} /s +ratio vs baseline +{NUMBER}x",
        rf"nb201 +neighbourhoods +{NUMBER} /s",
        rf"nb201-cifar10 +15,625 +{NUMBER} +{NUMBER} +{NUMBER}",
        rf"nb301 +(- +{NUMBER} +{NUMBER} +{NUMBER}|\(data not available: skipped\))",
    ],
    "bench_landscape.py": [
        rf"nas-bench-macro +6,561 +\d+ +{NUMBER}s",
        rf"ratio loop / vectorised +{NUMBER}x",
        rf"exhaustive analysis \(mean\), cold neighbours +{NUMBER} s",
        rf"whole process: archscape landscape nb201-cifar10 --noise mean --json +{NUMBER} s",
    ],
    "bench_nb301.py": [
        rf"(query_batch\(genotype tuples\) vs raw onnxruntime: {NUMBER}x|nb301 skipped \()",
    ],
    "bench_ela.py": [rf"total: archscape {NUMBER} s"],
    "bench_opdist.py": [rf"nb201 +{NUMBER} +{NUMBER} +{NUMBER}", rf"nas-bench-macro +6,561 +\d+ +{NUMBER}"],
    "bench_predictors.py": [rf"nb201 +gp +100 +15,625 +{NUMBER}", rf"darts +gp +100 +2,000 +{NUMBER}"],
    "bench_report.py": [rf"anytime by queries +{NUMBER} s", rf"write_report \(PNG only\) +{NUMBER} s"],
    "bench_training.py": [rf"trainer +{NUMBER} img/s", rf"peak resident memory {NUMBER} MB"],
    "bench_data_check.py": [rf"check, record up to date \(stat\) +{NUMBER} us", rf"full check \(SHA-256\), avoided +{NUMBER} us"],
    "bench_refusal.py": [rf"10\^6-element key +exit 2 +{NUMBER} ms", rf"file nesting 400,000 deep +exit 2 +{NUMBER} ms"],
    "bench_runner.py": [rf"random +study +{NUMBER} s", rf"bananas +{NUMBER} s/trial"],
    "bench_optimizers.py": [rf"random +\d+ +{NUMBER}", r"optimizer overhead per ask \+ tell"],
}


def test_every_benchmark_script_is_smoke_tested():
    assert sorted(p.name for p in SCRIPTS_DIR.glob("bench_*.py")) == sorted(SCRIPTS)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_script_runs_to_the_end_and_prints_its_figures(script):
    env = dict(os.environ, PYTHONPATH=str(Path(archscape.__file__).resolve().parents[1]), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(SCRIPTS_DIR / script), "--quick"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{output[-3000:]}"
    assert "Traceback" not in output, output[-3000:]
    for pattern in SCRIPTS[script]:
        assert re.search(pattern, output), f"{script} did not print /{pattern}/:\n{output[-3000:]}"
