"""Executors: settings, and the Ray executor on a local Ray started by the tests (including killed workers)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from archscape.cli import main
from archscape.data import registry
from archscape.errors import ArchscapeError
from archscape.run.config import config_from_mapping
from archscape.run.executors import ExecutorSettings, executor_settings
from archscape.run.runner import run_study
from archscape.run.store import Store

COLUMNS = ["label", "trial_index", "k", "arch", "row", "objective", "report", "cost", "sim_time", "noise_seed",
           "fidelity", "status", "error"]


def frame(path):
    with Store(path, create=False) as store:
        return store.evaluation_frame(store.studies()[0].id)


# ------------------------------------------------------------------ settings (no Ray needed)
def test_executor_settings_defaults_and_bad_values():
    assert executor_settings() == ExecutorSettings("serial", 1)
    assert executor_settings(workers=3) == ExecutorSettings("process", 3)
    ray = executor_settings("ray")
    assert ray.kind == "ray" and ray.workers == 0 and ray.cpus is None and ray.retries == 3
    assert executor_settings(address="10.0.0.1:6379").kind == "ray"
    for kwargs, message in [
        ({"kind": "spark"}, "unknown executor 'spark'; accepted: serial, process, ray"),
        ({"kind": "process", "workers": 0}, "workers must be >= 1"),
        ({"kind": "ray", "cpus": 0}, "CPUs per evaluation must be > 0"),
        ({"kind": "ray", "gpus": -1}, "GPUs per evaluation must be >= 0"),
        ({"kind": "ray", "retries": -1}, "retries must be >= 0"),
        ({"kind": "serial", "gpus": 0.5}, "add --executor ray"),
    ]:
        with pytest.raises(ArchscapeError, match=message):
            ExecutorSettings(**kwargs)


def test_cli_executor_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    base = ["run", "-b", "nb201-cifar10", "-o", "random", "--budget", "2", "--trials", "1", "--no-progress", "--store", str(store)]
    assert main(base + ["--gpus-per-eval", "0.5"]) == 2
    assert "apply to the ray executor" in capsys.readouterr().err
    config = tmp_path / "c.yaml"
    config.write_text("executor: {kind: ray, cpu: 2}\n")
    assert main(base + ["--config", str(config)]) == 2
    assert "unknown key 'executor.cpu'" in capsys.readouterr().err
    assert not store.exists()


# ------------------------------------------------------------------ a local Ray
@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of two CPUs, started by this process (its workers are our descendants)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.mark.slow
def test_ray_stores_what_serial_stores_and_resumes(tmp_path, local_ray):
    config = config_from_mapping({"benchmark": "nb201-cifar10", "optimizers": ["random", "local", "evolution"],
                                  "budget": 25, "trials": 3, "seed": 5})
    run_study(config, tmp_path / "serial.sqlite")
    run_study(config, tmp_path / "ray.sqlite", executor=executor_settings("ray", workers=4))
    serial, on_ray = frame(tmp_path / "serial.sqlite")[COLUMNS], frame(tmp_path / "ray.sqlite")[COLUMNS]
    assert len(serial) == 3 * 3 * 25 and serial.equals(on_ray)
    # resume on Ray after losing part of every trial
    con = sqlite3.connect(tmp_path / "ray.sqlite")
    con.execute("DELETE FROM evaluation WHERE k >= 11")
    con.execute("UPDATE trial SET state='running'")
    con.commit()
    con.close()
    run_study(config, tmp_path / "ray.sqlite", executor="ray")
    assert frame(tmp_path / "ray.sqlite")[COLUMNS].equals(serial)


@pytest.mark.slow
def test_cli_runs_on_a_ray_cluster_at_an_address(tmp_path, local_ray):
    store = tmp_path / "cli.sqlite"
    cmd = [sys.executable, "-m", "archscape.cli", "run", "-b", "nas-bench-macro", "-o", "random", "-o", "local",
           "--budget", "12", "--trials", "2", "--executor", "ray", "--address", local_ray, "--cpus-per-eval", "0.5",
           "--no-progress", "--store", str(store)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "48 evaluations in 4 trials" in done.stdout
    config = config_from_mapping({"benchmark": "nas-bench-macro", "optimizers": ["random", "local"], "budget": 12, "trials": 2})
    run_study(config, tmp_path / "serial.sqlite")
    assert frame(store)[COLUMNS].equals(frame(tmp_path / "serial.sqlite")[COLUMNS])


# ------------------------------------------------------------------ killed workers
HAVE_MNIST = all(registry.is_available(f"mnist-{p}") for p in ("train-images", "train-labels", "test-images", "test-labels"))


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _evaluating(pid: int) -> bool:
    try:
        return b"archscape_evaluate" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class Killer(threading.Thread):
    """Kills (SIGKILL) ``times`` Ray workers of this process while they run an evaluation."""

    def __init__(self, times: int) -> None:
        super().__init__(daemon=True)
        self.times = times
        self.killed: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while len(self.killed) < self.times and not self.stop.is_set():
            busy = [p for p in _descendants(os.getpid()) if _evaluating(p) and p not in self.killed]
            if busy:
                time.sleep(0.2)  # well inside a training of a second or more
                if _evaluating(busy[0]):
                    os.kill(busy[0], signal.SIGKILL)
                    self.killed.append(busy[0])
            time.sleep(0.01)


def _train_config(budget: int, trials: int):
    return config_from_mapping({
        "evaluator": "train", "space": "nb201", "optimizers": ["random"], "budget": budget, "trials": trials, "seed": 1,
        "train": {"dataset": "mnist", "epochs": 1, "batch_size": 64, "train_subset": 1500, "val_subset": 200,
                  "test_subset": 100, "network": {"C": 4, "N": 1}},
    })


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or not HAVE_MNIST, reason="needs /proc and MNIST")
def test_a_worker_killed_mid_training_is_retried_to_the_same_numbers(tmp_path, local_ray):
    config = _train_config(budget=2, trials=2)
    killer = Killer(times=1)
    killer.start()
    try:
        run_study(config, tmp_path / "ray.sqlite", executor=executor_settings("ray", retries=2))
    finally:
        killer.stop.set()
    assert len(killer.killed) == 1, "no evaluation was caught running"
    run_study(config, tmp_path / "serial.sqlite")
    on_ray, serial = frame(tmp_path / "ray.sqlite"), frame(tmp_path / "serial.sqlite")
    assert len(on_ray) == 4 and (on_ray.status == "ok").all()
    # one thread per training in every executor: the same numbers, to the last bit
    assert on_ray[COLUMNS].drop(columns=["cost", "sim_time"]).equals(serial[COLUMNS].drop(columns=["cost", "sim_time"]))
    assert on_ray.metrics.str.extract(r'"train_loss": ([^,]+)').equals(serial.metrics.str.extract(r'"train_loss": ([^,]+)'))


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or not HAVE_MNIST, reason="needs /proc and MNIST")
def test_when_the_retries_run_out_the_evaluation_is_failed_and_the_search_goes_on(tmp_path, local_ray):
    config = _train_config(budget=3, trials=1)
    killer = Killer(times=1)
    killer.start()
    try:
        run_study(config, tmp_path / "ray.sqlite", executor=executor_settings("ray", retries=0))
    finally:
        killer.stop.set()
    assert len(killer.killed) == 1
    f = frame(tmp_path / "ray.sqlite")
    assert len(f) == 3 and f.status.tolist().count("failed") == 1 and f.status.tolist().count("ok") == 2
    failed = f[f.status == "failed"].iloc[0]
    assert failed.objective is None or failed.objective != failed.objective  # NULL in the store
    assert "the Ray worker died 1 times" in failed.error
    with Store(tmp_path / "ray.sqlite", create=False) as store:
        assert [t.state for t in store.trials(store.studies()[0].id)] == ["complete"]
