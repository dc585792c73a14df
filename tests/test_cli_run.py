"""`archscape run`, `report` and `demo` from the command line."""

from __future__ import annotations

from archscape.cli import main
from archscape.run.store import Store


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_with_flags_then_report_and_resume(capsys, tmp_path):
    store = tmp_path / "s.sqlite"
    code, out, err = run(capsys, "run", "-b", "nb201-cifar100", "-o", "random", "-o", "local:improvement=best",
                         "--budget", 25, "--trials", 3, "--store", store, "--no-progress", "--report", tmp_path / "rep")
    assert code == 0, err
    assert "150 evaluations in 6 trials" in out
    assert (tmp_path / "rep" / "index.html").is_file()
    with Store(store, create=False) as s:
        study = s.studies()[0]
        assert study.config["optimizers"][1] == {"name": "local", "label": "local", "params": {"improvement": "best"}}
    code, out, _ = run(capsys, "run", "--resume", store, "--no-progress")
    assert code == 0 and "150 evaluations" in out
    code, _, err = run(capsys, "run", "--resume", store, "--budget", 30)
    assert code == 2 and err.strip() == "error: --resume continues the stored settings; drop --budget"
    code, _, err = run(capsys, "run", "-b", "nb201-cifar100", "-o", "random", "--budget", 30, "--trials", 3, "--store", store)
    assert code == 2 and "different settings (budget: stored 25, asked 30)" in err


def test_run_from_a_yaml_config(capsys, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("benchmark: nas-bench-macro\noptimizers: [random, evolution]\nbudget: 20\ntrials: 2\nnoise: mean\n")
    code, out, err = run(capsys, "run", "--config", config, "--store", tmp_path / "m.sqlite", "--no-progress")
    assert code == 0, err
    assert "80 evaluations" in out
    config.write_text("benchmark: nas-bench-macro\noptimizers: [random]\nbudget: 20\ntrails: 2\n")
    code, _, err = run(capsys, "run", "--config", config, "--store", tmp_path / "x.sqlite")
    assert code == 2 and "unknown key 'trails'" in err and err.count("\n") == 1
    assert not (tmp_path / "x.sqlite").exists()


def test_report_on_a_missing_store(capsys, tmp_path):
    code, _, err = run(capsys, "report", tmp_path / "nope.sqlite", "--out", tmp_path / "r")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_demo_small(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "--out", tmp_path, "--trials", 2, "--budget", 30, "--workers", 1, "--no-progress")
    assert code == 0, err
    for name in ("random", "local", "evolution", "bananas"):
        assert name in out
    assert (tmp_path / "demo-report" / "index.html").is_file()


def _evaluations(path) -> list:
    """Every stored evaluation but its wall-clock fields, in trial and query order."""
    with Store(path, create=False) as s:
        frame = s.evaluation_frame(s.studies()[0].id)
    timed = [c for c in frame.columns if "wall" in c or c in ("started", "finished", "elapsed")]
    return frame.drop(columns=timed).to_dict("records")


def test_the_cli_and_run_study_read_a_study_file_alike(capsys, tmp_path):
    from archscape.run.runner import run_study
    from archscape.run.study import StudyFile

    config = tmp_path / "study.yaml"
    config.write_text(f"benchmark: nb201-cifar10\noptimizers: [random, 'local:improvement=best', evolution]\n"
                      f"budget: 30\ntrials: 2\nseed: 7\nworkers: 2\nstore: {tmp_path / 'from-file.sqlite'}\n")
    study = StudyFile.load(config)
    assert study.store == tmp_path / "from-file.sqlite" and study.executor.kind == "process" and study.executor.workers == 2
    code, out, err = run(capsys, "run", "--config", config, "--no-progress")
    assert code == 0, err
    assert "180 evaluations" in out
    result = run_study(study.with_store(tmp_path / "api.sqlite"))
    assert result.n_evaluations == 180
    stored = _evaluations(tmp_path / "from-file.sqlite")
    assert len(stored) == 180 and {"objective", "arch"} <= set(stored[0])
    assert stored == _evaluations(tmp_path / "api.sqlite")
    # a flag overrides the file's key, as the API's settings do
    flagged = StudyFile.load(config, settings={"budget": 10}, executor={"kind": "serial"})
    assert flagged.config.budget == 10 and flagged.executor.kind == "serial" and flagged.config.trials == 2
    code, _, err = run(capsys, "run", "--config", config, "--dataset", "mnist")
    assert code == 2 and err.strip() == "error: --dataset sets how networks are trained; add --evaluator train"
