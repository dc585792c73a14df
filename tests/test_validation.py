"""Issue 17, defect 8: study settings and command-line input are validated strictly, bounded, never adjusted.

Every refusal is one line ``error: ...`` naming what was wrong and what is accepted, exit status 2, and
nothing is written (the store does not exist afterwards).
"""

from __future__ import annotations

import pytest

from archscape.cli import main
from archscape.errors import ArchscapeError
from archscape.run.config import MAX_CONFIG_BYTES, config_from_mapping, load_config_file, parse_optimizer
from archscape.run.executors import ExecutorSettings, executor_settings
from archscape.run.study import StudyFile

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
BASE = "benchmark: nb201-cifar10\noptimizers: [random]\n"


def refused(capsys, args: list) -> str:
    """Run the CLI; assert exit 2 with one line ``error: ...``; return that line."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def run_file(capsys, tmp_path, text: str) -> tuple[str, object]:
    config = tmp_path / "study.yaml"
    config.write_text(text)
    store = tmp_path / "s.sqlite"
    line = refused(capsys, ["run", "--config", config, "--store", store, "--no-progress"])
    assert not store.exists()
    return line, store


# ------------------------------------------------------------------ bool / float / text where an int is expected
@pytest.mark.parametrize(
    "text, key",
    [
        (BASE + "budget: true\ntrials: 1\n", "'budget'"),  # ran as budget 1 before
        (BASE + "budget: 2\ntrials: true\n", "'trials'"),
        (BASE + "budget: 2\ntrials: 1\nseed: true\n", "'seed'"),
        (BASE + "budget: 2\ntrials: 1\nfidelity: true\n", "'fidelity'"),
        ("benchmark: nas-bench-macro\nspace: macro-opdist\noptimizers: [random]\nbudget: 2\ntrials: 1\nopdist_samples: true\n",
         "'opdist_samples'"),
        (BASE + "budget: 3.0\ntrials: 1\n", "'budget'"),  # a float is not an int
        (BASE + "budget: 1.0e+23\ntrials: 1\n", "'budget'"),  # 1e23 as a YAML float
        (BASE + "budget: 2\ntrials: '2'\n", "'trials'"),  # text is not an int
        ("evaluator: train\nbudget: 1\ntrain: {epochs: true}\n", "'train.epochs'"),
        ("evaluator: train\nbudget: 1\ntrain: {val_fraction: true}\n", "'train.val_fraction'"),
    ],
)
def test_a_bool_float_or_text_is_not_an_int(capsys, tmp_path, text, key):
    line, _ = run_file(capsys, tmp_path, text)
    assert f"bad value for {key}: expected " in line


def test_noise_true_is_not_seed_1(capsys, tmp_path):
    line, _ = run_file(capsys, tmp_path, BASE + "budget: 2\ntrials: 1\nnoise: true\n")  # ran with training seed 1 before
    assert "unknown noise mode True; accepted: mean, seed, or a seed number" in line


def test_optimizer_parameters_from_a_yaml_mapping_refuse_bools(capsys, tmp_path):
    line, _ = run_file(capsys, tmp_path, "optimizers: [{name: local, params: {num_init: true}}]\nbudget: 2\ntrials: 1\n")
    assert "'num_init' parameter of LocalSearch must be an int" in line and "Got True" in line


def test_python_callers_are_strict_too():
    with pytest.raises(ArchscapeError, match="bad value for 'budget'"):
        config_from_mapping({"optimizers": ["random"], "budget": True, "trials": 1})
    assert config_from_mapping({"optimizers": ["random"], "budget": 2, "trials": 1, "noise": "3"}).noise == 3
    # a numpy integer is a whole number; a numpy bool is still not one
    import numpy as np

    cfg = config_from_mapping({"optimizers": [{"name": "local", "params": {"num_init": np.int64(3)}}], "budget": np.int32(5),
                               "trials": np.uint8(2), "seed": np.int64(7)})
    assert (cfg.budget, cfg.trials, cfg.seed) == (5, 2, 7) and type(cfg.budget) is int
    assert cfg.optimizers[0].params["num_init"] == 3
    with pytest.raises(ArchscapeError, match="bad value for 'budget'"):
        config_from_mapping({"optimizers": ["random"], "budget": np.bool_(True), "trials": 1})
    with pytest.raises(ArchscapeError, match="budget"):
        config_from_mapping({"optimizers": ["random"], "budget": np.float64(5.0), "trials": 1})


# ------------------------------------------------------------------ budgets: bounded, never capped
def test_a_budget_larger_than_the_space_is_refused_naming_its_size(capsys, tmp_path):
    store = tmp_path / "s.sqlite"
    line = refused(capsys, ["run", "-o", "random", "--budget", 15626, "--trials", 1, "--store", store, "--no-progress"])
    assert "budget 15,626 is more than the 15,625 architectures of nb201" in line and "at most 15,625" in line
    assert not store.exists()


def test_a_huge_budget_flag_is_refused_naming_the_range(capsys, tmp_path):
    store = tmp_path / "s.sqlite"
    line = refused(capsys, ["run", "-o", "random", "--budget", "99999999999999999999", "--trials", 1, "--store", store])
    assert "'--budget': 99999999999999999999 is not in the range 1<=x<=10000000" in line
    assert not store.exists()
    line, _ = run_file(capsys, tmp_path, BASE + "budget: 99999999999999999999\ntrials: 1\n")
    assert "bad value for 'budget': Input should be less than or equal to 10000000" in line


# ------------------------------------------------------------------ -o NAME:key=value,...
@pytest.mark.parametrize(
    "option, fragment",
    [
        ("local:improvement=best,improvement=first", "gives 'improvement' twice"),  # kept the last before
        ("local:label=a,label=b", "gives 'label' twice"),
        ("local:", "has no parameters after ':'; expected NAME or NAME:key=value,..."),  # ran as plain local before
        ("local: , ", "has no parameters after ':'"),
        ("local:num_init=2,,improvement=best", "bad optimizer option '' in"),
        (":num_init=2", "names no optimizer"),
        ("local:num_init=[", "bad value '[' for 'num_init'"),  # a YAML error was a traceback before
        ("local:num_init=&a [*a]", "nests lists or mappings more than 32 deep"),  # a list holding itself: a traceback before
        pytest.param("local:num_init=" + "[" * 3000, "bad value", id="3000-brackets"),
    ],
)
def test_bad_optimizer_options_are_one_line(capsys, tmp_path, option, fragment):
    store = tmp_path / "s.sqlite"
    line = refused(capsys, ["run", "-o", option, "--budget", 2, "--trials", 1, "--store", store, "--no-progress"])
    assert fragment in line
    assert not store.exists()


def test_optimizer_options_still_parse():
    assert parse_optimizer("local:improvement=best, num_init=20,label=x") == {
        "name": "local", "params": {"improvement": "best", "num_init": 20}, "label": "x"}
    assert parse_optimizer("random") == {"name": "random", "params": {}}


# ------------------------------------------------------------------ executor settings
@pytest.mark.parametrize(
    "text, fragment",
    [
        ("workers: many\n", "workers must be a whole number from 1 to 4096"),  # Python internals before
        ("workers: true\n", "workers must be a whole number"),
        ("workers: 2.5\n", "workers must be a whole number"),
        ("executor: {kind: process, workers: [1, 2]}\n", "workers must be a whole number"),
        ("executor: {kind: [ray]}\n", "unknown executor ['ray']; accepted: serial, process, ray"),
        ("executor: {kind: ray, cpus: true}\n", "cpus must be a number > 0"),
        ("executor: {kind: ray, gpus: .nan}\n", "gpus must be a number >= 0"),
        ("executor: {kind: ray, retries: 1.5}\n", "retries must be a whole number >= 0"),
        ("executor: {kind: ray, address: 5}\n", "address must be a Ray address"),
    ],
)
def test_bad_executor_settings_in_a_study_file_name_the_key(capsys, tmp_path, text, fragment):
    line, _ = run_file(capsys, tmp_path, BASE + "budget: 2\ntrials: 1\n" + text)
    assert fragment in line


@pytest.mark.parametrize("store", ["5", "[a.sqlite]", "''"])
def test_a_store_that_is_not_a_path_is_one_line(capsys, tmp_path, monkeypatch, store):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.yaml").write_text(BASE + f"budget: 2\ntrials: 1\nstore: {store}\n")
    line = refused(capsys, ["run", "--config", "study.yaml", "--no-progress"])  # a TypeError traceback before
    assert "'store' in study.yaml must be the path of a SQLite file" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.yaml"]


def test_executor_settings_from_python():
    with pytest.raises(ArchscapeError, match="workers must be a whole number"):
        executor_settings(None, "many")
    with pytest.raises(ArchscapeError, match="workers must be >= 1 and <= 4096"):
        ExecutorSettings(kind="process", workers=5000)
    assert executor_settings("ray").workers == 0  # ray: 0 means every trial at once
    assert executor_settings(None, 3).kind == "process"


def test_workers_help_and_range_agree(capsys, tmp_path):
    assert main(["run", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "[1<=x<=4096]" in help_text and "[0<=x" not in help_text.split("--workers")[1].split("--executor")[0]
    store = tmp_path / "s.sqlite"
    line = refused(capsys, ["run", "-o", "random", "--budget", 2, "--trials", 1, "--workers", 0, "--store", store])
    assert "'--workers': 0 is not in the range 1<=x<=4096" in line


# ------------------------------------------------------------------ sizes bounded before parsing
@pytest.mark.parametrize("command", [["bench", "query", "nb201-cifar10"], ["space", "neighbours", "nb201"],
                                     ["space", "encode", "nb201"]])
def test_a_huge_architecture_is_refused_before_parsing(capsys, command):
    huge = "|" + "nor_conv_3x3~0|" * 10**6
    assert "an architecture text is at most 10,000 characters; got 15,000,001" in refused(capsys, command + [huge])


def test_a_huge_index_is_out_of_range_not_a_traceback(capsys):
    line = refused(capsys, ["bench", "query", "nb201-cifar10", "#" + "1" * 5000])  # int() refuses 4,300+ digits
    assert "is out of range for nb201; accepted: #0..#15624" in line
    assert len(line) < 200


def test_a_huge_optimizer_option_is_refused_before_parsing(capsys, tmp_path):
    option = "local:" + ",".join(f"k{i}=1" for i in range(10**5))
    line = refused(capsys, ["run", "-o", option, "--budget", 2, "--trials", 1, "--store", tmp_path / "s.sqlite"])
    assert "an optimizer option is at most 4,096 characters; got 888,895" in line


def test_a_huge_study_file_is_refused_before_parsing(capsys, tmp_path):
    line, _ = run_file(capsys, tmp_path, "budget: 2\ntrials: 1\noptimizers: [" + ",".join(["random"] * 200_000) + "]\n")
    assert f"is larger than {MAX_CONFIG_BYTES:,} bytes" in line


def test_yaml_aliases_cannot_stand_for_billions_of_values(capsys, tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]  # 10^10 values expanded
    line, _ = run_file(capsys, tmp_path, BASE + "budget: 2\ntrials: 1\n" + "\n".join(lines) + "\nbudget2: *a9\n")
    assert "holds more than 10,000 values (aliases expanded)" in line


def test_deep_nesting_in_a_study_file_is_refused(capsys, tmp_path):
    line, _ = run_file(capsys, tmp_path, BASE + "budget: 2\ntrials: 1\nname: " + "[" * 40 + "]" * 40 + "\n")
    assert "nests lists or mappings more than 32 deep" in line
    line, _ = run_file(capsys, tmp_path, BASE + "budget: 2\ntrials: 1\nname: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "config file" in line


def test_many_optimizers_are_refused_before_each_is_parsed():
    with pytest.raises(ArchscapeError, match="at most 1,000 optimizers; got 5,000"):
        config_from_mapping({"optimizers": ["random"] * 5000, "budget": 2, "trials": 1})


def test_a_bounded_study_file_still_loads(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("defaults: &d {num_init: 5}\n" + BASE.replace("[random]", "[{name: local, params: *d}]") +
                    "budget: 2\ntrials: 1\nworkers: 1\n")
    data = load_config_file(path)
    assert data["optimizers"][0]["params"] == {"num_init": 5}
    data.pop("defaults")
    study = StudyFile.from_mapping(data, str(path))
    assert study.config.optimizers[0].params == {"num_init": 5} and study.executor.kind == "serial"


# ------------------------------------------------------------------ noise text
@pytest.mark.parametrize("noise, fragment", [("--5", "unknown noise mode '--5'"), ("\u0661", "unknown noise mode"),
                                              pytest.param("9" * 5000, "unknown noise mode", id="5000-digits")])
def test_bad_noise_text_is_one_line(capsys, noise, fragment):
    assert fragment in refused(capsys, ["bench", "query", "nb201-cifar10", CELL, f"--noise={noise}"])


# ------------------------------------------------------------------ found by tests/test_cli_fuzz.py
def test_space_sample_refuses_a_negative_seed(capsys):
    assert "'--seed': -1 is not in the range x>=0" in refused(capsys, ["space", "sample", "nb201", "--seed", "-1"])


def test_a_cutoff_without_the_path_encoding_is_one_line(capsys):
    line = refused(capsys, ["space", "encode", "nb201", "#1", "--cutoff", "3"])  # a TypeError traceback before
    assert "--cutoff applies to --encoding path; got --encoding onehot" in line
