"""Sample-efficiency gain: targets, the exact random-search expectation, censoring, the CLI."""

from __future__ import annotations

import itertools
import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import archscape.report.gain as gain_module
from archscape.cli import main
from archscape.errors import ArchscapeError
from archscape.report.gain import (
    Target, bootstrap_ci, gain_table, hitting_queries, parse_target, random_search_expectation,
    simulate_random_search, simulated_queries, target_threshold,
)
from archscape.run.config import config_from_mapping
from archscape.run.runner import run_study


def test_targets_parse_and_bad_ones_are_one_line():
    assert parse_target("top-k:1") == Target("top-k", 1)
    assert parse_target("top:0.1%") == Target("top", 0.001) == parse_target("top:0.001")
    assert parse_target("value:94.5").amount == 94.5 and parse_target("top:1%").label == "top:1%"
    for bad, message in [("best", "unknown target"), ("top-k:0", "whole number >= 1"), ("top-k:1.5", "whole number"),
                         ("top:150%", r"fraction must be in \(0, 1\]"), ("value:3%", "only top:F takes a percentage")]:
        with pytest.raises(ArchscapeError, match=message):
            parse_target(bad)


def test_thresholds_count_ties_and_missing_rows():
    values = np.array([5.0, 9.0, 7.0, 9.0, np.nan, 1.0])
    assert target_threshold(Target("top-k", 1), values) == (9.0, 2)  # two architectures tie for best
    assert target_threshold(Target("top-k", 3), values) == (7.0, 3)
    assert target_threshold(Target("top", 0.5), values) == (7.0, 3)  # ceil(0.5 x 5) = 3 of the 5 known
    assert target_threshold(Target("value", 6.0), values) == (6.0, 3)
    with pytest.raises(ArchscapeError, match="asks for the top 6 of 5"):
        target_threshold(Target("top-k", 6), values)


@given(n=st.integers(1, 7), data=st.data())
def test_random_search_expectation_is_exact(n, data):
    k = data.draw(st.integers(1, n))
    # every order of n architectures, k of them marked: the mean position of the first marked one
    firsts = [next(i + 1 for i, x in enumerate(order) if x < k) for order in itertools.permutations(range(n))]
    assert random_search_expectation(n, k) == pytest.approx(np.mean(firsts))
    assert random_search_expectation(n, 0) == math.inf


def test_simulated_random_search_matches_the_formula_on_a_finite_population():
    values = np.arange(200.0)  # top 4 meet 196
    rng_values = lambda rng, n: rng.permutation(values)[:n]  # noqa: E731 - a fresh random order per block
    mean, censored = simulate_random_search(rng_values, 196.0, trials=3000, block=200, seed=1)
    assert censored == 0 and mean == pytest.approx(random_search_expectation(200, 4), rel=0.05)
    _, censored = simulate_random_search(lambda rng, n: np.zeros(n), 1.0, trials=5, max_queries=50)
    assert censored == 5


def _trial(objectives, reports, label="a", trial=0):
    return pd.DataFrame({"label": label, "trial_index": trial, "k": range(len(reports)),
                         "objective": objectives, "report": reports})


def test_hitting_queries_incumbent_against_evaluated_and_censoring():
    # query 2 evaluates the best architecture (report 10) but looks worse than query 1 (objective 4 < 5)
    f = pd.concat([_trial([1, 5, 4, 9], [1, 6, 10, 8]), _trial([1, 2, 3], [1, 2, 3], trial=1)])
    inc = hitting_queries(f, 10.0, "incumbent")
    ev = hitting_queries(f, 10.0, "evaluated")
    assert inc.queries.tolist() == [4, 3] and inc.reached.tolist() == [False, False]  # censored at their lengths
    assert ev.queries.tolist() == [3, 3] and ev.reached.tolist() == [True, False]
    assert hitting_queries(f, 8.0, "incumbent").queries.tolist() == [4, 3]
    assert hitting_queries(f, 6.0, "incumbent").queries.tolist() == [2, 3]
    failed = _trial([np.nan, 3, np.nan], [np.nan, 7, np.nan])
    assert hitting_queries(failed, 7.0).queries.tolist() == [2]
    with pytest.raises(ArchscapeError, match="accepted: incumbent, evaluated"):
        hitting_queries(f, 1.0, "first")


def test_bootstrap_interval_brackets_the_estimate():
    q = np.random.default_rng(0).geometric(0.05, size=100).astype(float)
    low, high = bootstrap_ci(q, 20.0, 2000, seed=0)
    assert low < 20.0 / q.mean() < high
    assert bootstrap_ci(q, 20.0, 2000, seed=0) == (low, high)  # seeded
    assert all(math.isnan(x) for x in bootstrap_ci(q[:1], 20.0, 100, 0))
    # a simulated random-search expectation brings its own error: the interval widens
    sim = np.random.default_rng(1).geometric(1 / 20.0, size=50).astype(float)
    wide = bootstrap_ci(q, float(sim.mean()), 2000, seed=0, expected_trials=sim)
    narrow = bootstrap_ci(q, float(sim.mean()), 2000, seed=0)
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


def test_simulated_trials_are_reported_one_by_one():
    values = np.arange(100.0)
    counts, reached = simulated_queries(lambda rng, n: rng.permutation(values)[:n], 99.0, trials=40, block=100, seed=2)
    assert counts.shape == (40,) and reached.all() and counts.min() >= 1 and counts.max() <= 100
    assert simulate_random_search(lambda rng, n: rng.permutation(values)[:n], 99.0, trials=40, block=100, seed=2) == (
        counts.mean(), 0)
    counts, reached = simulated_queries(lambda rng, n: np.zeros(n), 1.0, trials=3, max_queries=30, block=7)
    assert (counts == 30).all() and not reached.any()


@pytest.mark.slow
def test_random_search_gain_is_one_and_local_search_gains(tmp_path):
    config = config_from_mapping({"benchmark": "nb201-cifar100", "optimizers": ["random", "local"], "budget": 700,
                                  "trials": 300, "seed": 4, "noise": "mean"})
    run_study(config, tmp_path / "s.sqlite", workers=2)
    table = gain_table([tmp_path / "s.sqlite"], ["top:1%", "top-k:1"], n_boot=1000)
    rs = table[(table.optimizer == "random") & (table.target == "top:1%")].iloc[0]
    assert rs.n_architectures == 15625 and rs.k >= 157
    assert rs.random_search_expected_queries == pytest.approx(15626 / (rs.k + 1))
    assert rs.censored <= 3 and rs.ci_low < 1.0 < rs.ci_high and 0.9 < rs.gain < 1.1
    local = table[(table.optimizer == "local") & (table.target == "top-k:1")].iloc[0]
    assert local.gain > 20 and local.ci_low > 10  # local search finds the CIFAR-100 optimum fast (White et al.)


def test_cli_gain_from_a_config_and_bad_input(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("benchmark: nas-bench-macro\noptimizers: [random, evolution]\nbudget: 60\ntrials: 8\nnoise: mean\n")
    store = tmp_path / "g.sqlite"
    assert main(["gain", str(config), "--store", str(store), "--target", "top:1%", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["optimizer"] for r in rows} == {"random", "evolution"} and store.exists()
    for key in ("random_search_expected_queries", "mean_queries", "gain", "ci_low", "ci_high", "censored"):
        assert all(key in r for r in rows)
    assert main(["gain", str(store), "--target", "top:1%"]) == 0
    assert "E[RS]" in capsys.readouterr().out
    assert main(["gain", str(store), "--target", "best"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: unknown target 'best'; accepted: top-k:K")
    assert main(["gain", str(tmp_path / "none.sqlite")]) == 2


def test_gain_on_a_space_that_cannot_be_enumerated_simulates_random_search(tmp_path, capsys, monkeypatch):
    pytest.importorskip("onnxruntime")
    from helpers import needs

    if needs("nb301").args[0]:
        pytest.skip("nb301 data not available")
    run_study(config_from_mapping({"benchmark": "nb301", "optimizers": ["random", "evolution"], "budget": 20, "trials": 3}),
              tmp_path / "n.sqlite")
    shutil.copy(tmp_path / "n.sqlite", tmp_path / "m.sqlite")
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[1])
        return simulated_queries(*args, **kwargs)

    monkeypatch.setattr(gain_module, "simulated_queries", counted)
    table = gain_table([tmp_path / "n.sqlite", tmp_path / "m.sqlite"], ["value:92.5"], n_boot=100, sim_trials=20)
    assert calls == [92.5], "two stores of one benchmark share one simulation"
    assert len(table) == 4 and table.random_search_expected_queries.nunique() == 1
    assert table.random_search_simulated.all() and table.n_architectures.isna().all()
    assert (table.random_search_expected_queries > 1).all() and set(table.optimizer) == {"random", "evolution"}
    with pytest.raises(ArchscapeError, match="cannot be enumerated: use value:V targets"):
        gain_table([tmp_path / "n.sqlite"], ["top-k:1"], sim_trials=5)
