"""The runner and the store: determinism, resume after SIGKILL, refusals, bad configs."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from archscape.errors import ArchscapeError
from archscape.run.config import config_from_mapping
from archscape.run.runner import run_study, stored_config
from archscape.run.store import Store, StoreError

COLUMNS = ["label", "trial_index", "k", "arch", "row", "objective", "report", "cost", "sim_time", "noise_seed", "status"]


def small_config(**over):
    data = {
        "benchmark": "nb201-cifar10",
        "optimizers": ["random", "local", "evolution"],
        "budget": 60,
        "trials": 4,
        "seed": 3,
        "noise": "seed",
    }
    data.update(over)
    return config_from_mapping(data)


def frame(path):
    with Store(path, create=False) as store:
        return store.evaluation_frame(store.studies()[0].id)[COLUMNS]


def test_serial_parallel_and_single_trial_agree(tmp_path):
    config = small_config()
    run_study(config, tmp_path / "serial.sqlite")
    run_study(config, tmp_path / "parallel.sqlite", workers=2)
    serial, parallel = frame(tmp_path / "serial.sqlite"), frame(tmp_path / "parallel.sqlite")
    assert len(serial) == 3 * 4 * 60
    assert serial.equals(parallel)
    # trial i is the same trajectory in a smaller study with fewer trials and optimizers
    alone = small_config(optimizers=["local"], trials=2)
    run_study(alone, tmp_path / "alone.sqlite")
    mine = frame(tmp_path / "alone.sqlite").reset_index(drop=True)
    theirs = serial[(serial.label == "local") & (serial.trial_index < 2)].reset_index(drop=True)
    assert mine.equals(theirs)


def test_no_trial_requeries_an_architecture(tmp_path):
    run_study(small_config(budget=200, trials=2), tmp_path / "s.sqlite")
    f = frame(tmp_path / "s.sqlite")
    assert not f.duplicated(["label", "trial_index", "arch"]).any()


def test_different_seeds_and_noise_modes_differ(tmp_path):
    run_study(small_config(seed=3), tmp_path / "a.sqlite")
    run_study(small_config(seed=4), tmp_path / "b.sqlite")
    assert not frame(tmp_path / "a.sqlite").equals(frame(tmp_path / "b.sqlite"))
    run_study(small_config(noise="mean"), tmp_path / "m.sqlite")
    m = frame(tmp_path / "m.sqlite")
    assert m.noise_seed.isna().all() and (m.objective == m.report).all()


def test_resume_after_sigkill_gives_the_uninterrupted_result(tmp_path):
    config = small_config(budget=150, trials=6)
    reference = tmp_path / "reference.sqlite"
    run_study(config, reference)
    killed = tmp_path / "killed.sqlite"
    script = textwrap.dedent(
        f"""
        from archscape.run.config import config_from_mapping
        from archscape.run.runner import run_study
        config = config_from_mapping({config.model_dump(exclude_none=True)!r})
        run_study(config, {str(killed)!r}, commit_every=0)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
        try:
            with sqlite3.connect(killed) as con:
                n = con.execute("SELECT COUNT(*) FROM evaluation").fetchone()[0]
        except sqlite3.Error:
            continue
        if n >= 700:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < n < 3 * 6 * 150, "the run should be killed part-way"
    assert frame(killed).shape[0] >= n  # nothing committed was lost
    run_study(stored_config(killed), killed)
    assert frame(killed).equals(frame(reference))


def test_rerun_with_same_settings_completes_and_different_settings_are_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    run_study(small_config(), path)
    before = frame(path)
    result = run_study(small_config(), path)  # nothing left to do
    assert result.n_evaluations == len(before) and frame(path).equals(before)
    with pytest.raises(StoreError, match="different settings .*budget: stored 60, asked 61"):
        run_study(small_config(budget=61), path)


@pytest.mark.parametrize(
    "override, fragment",
    [
        ({"budgte": 3}, "unknown key 'budgte'"),
        ({"budget": 0}, "bad value for 'budget'"),
        ({"noise": "loud"}, "unknown noise mode 'loud'"),
        ({"optimizers": [{"name": "random", "parms": {}}]}, "unknown key 'optimizers.0.parms'"),
        ({"optimizers": ["annealing"]}, "unknown optimizer 'annealing'"),
        ({"optimizers": ["local:num_init=-3"]}, "The 'num_init' parameter of LocalSearch must be an int in [1, inf). Got -3 instead."),
        ({"optimizers": ["local:improvment=best"]}, "bad parameter for optimizer 'local'"),
        ({"benchmark": "nb999"}, "unknown benchmark 'nb999'"),
        ({"fidelity": 13}, "unknown fidelity"),
        ({"noise": 2}, "noise seed 2 was not recorded"),
        ({"report_metric": "test_accuracy"}, "unknown metric"),
        ({"optimizers": ["random", "random"]}, "labels must be unique"),
    ],
)
def test_bad_configs_are_rejected_naming_the_key_and_nothing_is_written(tmp_path, override, fragment):
    path = tmp_path / "s.sqlite"
    with pytest.raises(ArchscapeError) as err:
        run_study(small_config(**override), path)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)
    assert not path.exists()


def test_store_refuses_a_file_that_is_not_a_store(tmp_path):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("hello")
    with pytest.raises(StoreError, match="not an archscape store"):
        run_study(small_config(), bogus)
