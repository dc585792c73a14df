#!/usr/bin/env bash
# Build a throwaway virtual environment with pflacco 1.2.2 (it pins numpy < 2,
# so it is never installed beside archscape) and write the reference fixture
# tests/fixtures/pflacco_reference.json from scripts/pflacco_reference.py.
#
#   scripts/make_pflacco_fixture.sh [VENV_DIR]     (default /tmp/pflacco-venv)
#
# LFNAS_DIR (default ../shared/data/learning-from-nas) is the folder with the
# published Learning-from-NAS CSV files; without it only BBOB samples are made.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-/tmp/pflacco-venv}"
lfnas="${LFNAS_DIR:-$root/../shared/data/learning-from-nas}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import pflacco, ioh" 2>/dev/null; then
    "$venv/bin/pip" install --quiet "pflacco==1.2.2" ioh
fi
args=(--out "$root/tests/fixtures/pflacco_reference.json")
if [ -d "$lfnas" ]; then
    args+=(--lfnas "$lfnas")
fi
mkdir -p "$root/tests/fixtures"
"$venv/bin/python" "$root/scripts/pflacco_reference.py" "${args[@]}"
echo "wrote $root/tests/fixtures/pflacco_reference.json" >&2
