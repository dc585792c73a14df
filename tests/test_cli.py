"""The command line: JSON output, exports, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from archscape.cli import main
from helpers import needs

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_query_json_reports_the_mean_validation_accuracy(capsys):
    code, out, err = run(capsys, "bench", "query", "nb201-cifar10", CELL, "--noise", "mean", "--json")
    assert code == 0 and err == ""
    obj = json.loads(out)
    assert obj["arch"] == CELL and obj["index"] == 6111
    assert obj["metrics"]["val_acc"] == pytest.approx(91.60666665039064)
    assert {"train_time", "params", "latency"} <= set(obj["metrics"])


def test_query_by_index_and_seed(capsys):
    code, out, _ = run(capsys, "bench", "query", "nb201-cifar10", "#6111", "--noise", "1", "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["training_seed"] == 1 and obj["metrics"]["val_acc"] == pytest.approx(91.71999999023437)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["bench", "query", "nb201-cifar10", CELL.replace("nor_conv_1x1", "conv7x7")], "unknown operation 'conv7x7'"),
        (["bench", "query", "nb201-cifar10", "|none~0|"], "malformed nb201 arch string"),
        (["bench", "query", "nb999", CELL], "unknown benchmark 'nb999'"),
        (["bench", "query", "nb201-cifar10", CELL, "--noise", "loud"], "unknown noise mode 'loud'"),
        (["bench", "query", "nb201-cifar10", CELL, "--fidelity", "7"], "unknown fidelity"),
        (["bench", "query", "nb201-cifar10", "#99999"], "out of range"),
        (["bench", "query", "nb201-cifar10", "99999"], "for index 99999 write #99999"),
        (["bench", "query", "nb201-cifar10", "\u00b2"], "malformed nb201 arch string"),
        (["bench", "query", "nb201-cifar10", "#x"], "an index is written #N"),
        (["bench", "query", "nb201-cifar10", CELL, "--draw-seed", "-1"], "-1 is not in the range x>=0"),
        (["bench", "query", "nb201-cifar10", CELL, "--seed", "1"], "No such option '--seed'"),
        (["space", "neighbours", "darts", "#3"], "not enumerable"),
        (["space", "encode", "nb101", '{"matrix":' + "[" * 1500 + "]" * 1500 + "}"], "not valid JSON"),
        (["space", "encode", "nb101", "[" * 5000], "at most 4,096 characters"),
        (["bench", "export", "nb201-cifar10", "--out", "x.xlsx"], "unknown export format '.xlsx'"),
        (["data", "fetch", "nb999"], "unknown data set 'nb999'"),
        (["bench", "frobnicate"], "No such command"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(capsys, args, fragment):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert err.startswith("error: ") and fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_console_script_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from archscape.cli import main; sys.exit(main())", "bench", "query", "nb201-cifar10", "|x|"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: malformed nb201 arch string") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_whole_table(capsys, tmp_path, suffix):
    out = tmp_path / f"nb201{suffix}"
    code, _, err = run(capsys, "bench", "export", "nb201-cifar100", "--noise", "mean", "--out", str(out))
    assert code == 0, err
    frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(frame) == 15625
    assert frame.loc[6111, "arch"] == CELL
    assert frame["val_acc"].max() == pytest.approx(73.49333332519531)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left


def test_export_all_seeds(capsys, tmp_path):
    out = tmp_path / "seeds.csv"
    assert run(capsys, "bench", "export", "nb201-cifar10", "--noise", "all", "--out", str(out))[0] == 0
    frame = pd.read_csv(out)
    assert {"val_acc_seed0", "val_acc_seed1", "val_acc_seed2"} <= set(frame.columns)
    assert frame["val_acc_seed2"].isna().sum() == 7456  # cells with two recorded seeds


def test_bench_list_json(capsys):
    code, out, _ = run(capsys, "bench", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["nb201-cifar10"]["size"] == 15625 and rows["nb201-cifar10"]["status"] == "ready"
    assert set(rows["nb201-cifar10"]["fidelities"]) == {12, 200}


def test_space_commands(capsys):
    code, out, _ = run(capsys, "space", "neighbours", "nb201", CELL)
    assert code == 0 and len(out.splitlines()) == 24
    code, out, _ = run(capsys, "space", "sample", "nb201", "-n", "3", "--seed", "1")
    assert code == 0 and len(out.splitlines()) == 3
    code, out, _ = run(capsys, "space", "encode", "nb201", CELL, "--encoding", "opcount")
    assert json.loads(out) == [0.0, 1.0, 1.0, 4.0, 0.0]


def test_data_list_and_verify(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path))  # an empty cache: only the package's tables are there
    code, out, _ = run(capsys, "data", "list")
    assert code == 0 and out.splitlines()[0] == f"cache: {tmp_path}"
    assert any(line.split()[:2] == ["nb201-cifar10-200epoch", "package"] for line in out.splitlines())
    assert any(line.split()[:2] == ["nas-bench-macro", "-"] for line in out.splitlines())
    code, out, _ = run(capsys, "data", "verify", "nb201-cifar10-200epoch")
    assert code == 0 and out.split()[:2] == ["nb201-cifar10-200epoch", "ok"]
    with pytest.raises(SystemExit) as exit_:  # named and missing: status 1
        main(["data", "verify", "nas-bench-macro"])
    assert exit_.value.code == 1 and capsys.readouterr().out.split()[:2] == ["nas-bench-macro", "missing"]
    code, out, err = run(capsys, "data", "verify", "nb999")
    assert code == 2 and err.startswith("error: unknown data set 'nb999'") and err.count("\n") == 1


def test_python_m_archscape_cli_is_the_console_script():
    proc = subprocess.run([sys.executable, "-m", "archscape.cli", "space", "list"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("nb201") or "nb201 " in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "archscape.cli", "landscape", "nb999"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "theory" in proc.stderr  # the hint names the landscape subcommands


def test_data_fetch_all_from_a_folder_without_data_fetches_nothing(capsys, tmp_path, monkeypatch):
    from archscape.data import registry

    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path / "cache"))
    (tmp_path / "empty").mkdir()
    assert registry.fetchable(tmp_path / "empty") == ()
    assert "nb201-cifar10-200epoch" not in registry.fetchable()  # shipped in a package: never fetched
    code, out, err = run(capsys, "data", "fetch", "--all", "--from", str(tmp_path / "empty"))
    assert code == 0 and out == "" and err == ""


@needs("nas-bench-macro")
def test_an_architecture_is_read_as_one_and_an_index_needs_its_hash(capsys):
    """NAS-Bench-Macro chains are digit strings: '00000012' is the chain, '#12' the index (issue 17, defect 1)."""
    code, out, err = run(capsys, "bench", "query", "nas-bench-macro", "00000012", "--json")
    assert code == 0, err
    assert json.loads(out)["arch"] == "00000012"
    code, out, _ = run(capsys, "bench", "query", "nas-bench-macro", "#12", "--json")
    assert code == 0 and json.loads(out)["arch"] == "00000110"  # the space's index 12
    code, out, _ = run(capsys, "bench", "query", "nas-bench-macro", "02012100", "--json")  # the parser's own example
    assert code == 0 and json.loads(out)["arch"] == "02012100"
    code, _, err = run(capsys, "bench", "query", "nas-bench-macro", "12")
    assert code == 2 and "'12' is not a macro architecture" in err and "for index 12 write #12" in err
    code, out, _ = run(capsys, "space", "neighbours", "macro", "00000012")
    assert code == 0 and "10000012" in out.split()


def test_the_command_line_imports_no_heavy_library_to_start():
    code = ("import sys, archscape.cli; heavy = ('scipy', 'sklearn', 'torch', 'ray', 'onnxruntime', 'lightgbm', "
            "'matplotlib', 'pandas'); print([m for m in heavy if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
