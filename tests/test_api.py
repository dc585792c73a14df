"""The top-level API as the README shows it: its example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import archscape

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_api_example_runs_as_written(tmp_path):
    block = re.search(r"<!-- api-example -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert block is not None, "README.md has no api-example block"
    done = subprocess.run([sys.executable, "-c", block.group(1)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("91.55")  # the cell's mean validation accuracy
    assert (tmp_path / "runs" / "api-report" / "index.html").is_file()
    assert (tmp_path / "runs" / "evolution.sqlite").is_file()


def test_the_top_level_names_resolve_and_import_archscape_stays_light():
    for name in archscape.__all__:
        assert getattr(archscape, name) is not None, name
    code = "import sys, archscape; print(sorted(m for m in ('pandas', 'torch', 'archscape.run.runner') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]"
