"""The evaluation hot path: what it skips must not change what it accepts or stores.

Vector spaces (NAS-Bench-201, NAS-Bench-Macro) hand out one shared tuple per
architecture, so validating a genotype the space produced is one dict lookup.
Input that merely compares equal to a valid genotype (bools, floats) is still
refused, and clean input is accepted as before.
"""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

from archscape.errors import ArchscapeError, InvalidArchitecture
from archscape.params import InvalidParameter
from archscape.predictors.gp import GaussianProcess, GPPredictor, correlation, squared_distances
from archscape.run.config import config_from_mapping
from archscape.run.runner import run_study
from archscape.run.store import EvaluationRecord, Store, encode_evaluations
from archscape.search import OPTIMIZERS
from archscape.search.random import RandomSearch
from archscape.spaces import get_space


@pytest.mark.parametrize("name", ["nb201", "macro"])
def test_vector_spaces_hand_out_their_shared_genotypes(name):
    space = get_space(name)
    rng = np.random.default_rng(3)
    g = space.sample(rng)
    shared = space.from_index(space.index(g))
    assert g is shared
    assert all(n is space.from_index(space.index(n)) for n in space.neighbours(g))
    m = space.mutate(g, rng)
    assert m is space.from_index(space.index(m)) and m in space.neighbours(g)
    # validated input becomes the shared tuple, so the next validation is the fast path
    assert space.validate(list(g)) is shared
    assert space.validate(tuple(np.asarray(g, dtype=np.int64))) is shared
    assert space.canonical(tuple(int(o) for o in g)) is shared


@pytest.mark.parametrize("name", ["nb201", "macro"])
def test_lookalikes_of_valid_genotypes_are_still_refused(name):
    space = get_space(name)
    g = space.from_index(5)  # (0, ..., 0, 1, ...) holds a 1 somewhere
    position = next(i for i, o in enumerate(g) if o == 1)
    as_bool = g[:position] + (True,) + g[position + 1 :]
    as_float = tuple(float(o) for o in g)
    assert as_bool == g and as_float == g and hash(as_float) == hash(g)  # equal, and found by a dict lookup
    for bad in (as_bool, as_float, g + (0,), g[:-1], (len(space.ops),) + g[1:], (-1,) + g[1:], ([0],) + g[1:]):
        with pytest.raises(InvalidArchitecture):
            space.validate(bad)
        with pytest.raises(InvalidArchitecture):
            space.format(bad)


def test_formatting_is_remembered_but_unchanged():
    space = get_space("nb201")
    g = space.from_index(123)
    text = space.format(g)
    assert text == space.format(list(g)) == space.format(g)
    assert space.parse(text) is g  # parsing, too, gives the shared tuple
    assert text == "|" + "|+|".join(
        "|".join(f"{space.ops[g[e]]}~{src}" for e, src in zip(edges, range(3)))
        for edges in ((0,), (1, 2), (3, 4, 5))
    ) + "|"


# ---------------------------------------------------------------- the writer and the worker processes



def _evaluations(path):
    with sqlite3.connect(path) as con:
        return con.execute("SELECT * FROM evaluation ORDER BY trial_id, k").fetchall()


def test_encoded_rows_store_exactly_what_records_store(tmp_path):
    metrics = {"val_acc": 91.25, "odd": float("nan"), "big": float("inf"), "text": "été", "n": None, "flag": True, "tiny": 1e-300}
    records = [
        EvaluationRecord(0, "a", 3, 91.25, 90.0, metrics, 1.5, 1.5, 0.01, 1, 200),
        EvaluationRecord(1, "b", None, None, None, {}, 0.0, 1.5, 0.02, None, None, "failed", "it broke"),
    ]
    stored = []
    for name, batch in (("records", records), ("rows", encode_evaluations(records))):
        with Store(tmp_path / f"{name}.sqlite") as store:
            study = store.create_study("s", "b", {}, "f", {}, "0")
            trial = store.ensure_trial(study, "random", "random", {}, 0)
            store.add_evaluations(trial, batch, "complete")
            assert store.evaluations(trial)[0].metrics.keys() == metrics.keys()
        stored.append(_evaluations(tmp_path / f"{name}.sqlite"))
    assert stored[0] == stored[1]
    assert stored[0][0][6] == json.dumps(metrics)  # the metrics column is json.dumps' text
    with Store(tmp_path / "mixed.sqlite") as store, pytest.raises(TypeError):
        store.add_batch([(1, [records[0], *encode_evaluations(records[1:])], None)])


class _DiesAtTen(RandomSearch):
    """Random search that, at its tenth ask, kills its process (``how="exit"``) or raises (``how="raise"``)."""

    name = "dies-at-ten"
    how = "exit"

    def _ask(self):
        if len(self.asked_) == 10:
            if self.how == "exit":
                os._exit(7)  # only ever asked in a worker process: both tests run two workers
            raise RuntimeError("the tenth ask fails")
        return super()._ask()


@pytest.fixture()
def dying_optimizer():
    OPTIMIZERS.register("dies-at-ten", _DiesAtTen)
    yield "dies-at-ten"
    OPTIMIZERS.unregister("dies-at-ten")
    _DiesAtTen.how = "exit"


def test_a_killed_worker_stops_the_run_in_one_line_with_finished_trials_stored(tmp_path, dying_optimizer):
    config = config_from_mapping({"benchmark": "nb201-cifar10", "optimizers": ["random", dying_optimizer],
                                  "budget": 30, "trials": 3, "seed": 1})
    with pytest.raises(ArchscapeError, match=r"a worker process died \(exit code 7\).*--resume"):
        run_study(config, tmp_path / "s.sqlite", workers=2, commit_every=0.0)
    with Store(tmp_path / "s.sqlite", create=False) as store:
        trials = store.trials(store.studies()[0].id)
    complete = [t for t in trials if t.state == "complete"]
    assert complete and all(t.label == "random" and t.n_evaluations == 30 for t in complete)
    assert all(t.n_evaluations <= 10 for t in trials if t.label == dying_optimizer)


def test_a_trial_failing_in_a_worker_stops_the_run_naming_the_error(tmp_path, dying_optimizer):
    _DiesAtTen.how = "raise"
    config = config_from_mapping({"benchmark": "nb201-cifar10", "optimizers": [dying_optimizer], "budget": 30,
                                  "trials": 2, "seed": 1})
    with pytest.raises(ArchscapeError, match="a trial failed in a worker: RuntimeError: the tenth ask fails"):
        run_study(config, tmp_path / "s.sqlite", workers=2, commit_every=0.0)
    with Store(tmp_path / "s.sqlite", create=False) as store:
        trials = store.trials(store.studies()[0].id)
    # the failed trial's ten evaluations are stored; the other trial stopped wherever it was
    assert max(t.n_evaluations for t in trials) == 10 and all(t.state == "running" for t in trials)


def test_many_short_trials_on_two_workers_store_what_one_process_stores(tmp_path):
    config = config_from_mapping({"benchmark": "nb201-cifar10", "optimizers": ["random", "local", "evolution"],
                                  "budget": 20, "trials": 30, "seed": 5})
    run_study(config, tmp_path / "one.sqlite")
    run_study(config, tmp_path / "two.sqlite", workers=2)
    strip = lambda rows: [r[:9] + r[10:] for r in rows]  # all but wall_time  # noqa: E731
    one, two = strip(_evaluations(tmp_path / "one.sqlite")), strip(_evaluations(tmp_path / "two.sqlite"))
    assert len(one) == 3 * 30 * 20 and sorted(one) == sorted(two)


# ---------------------------------------------------------------- GP-BO: hyper-parameters on a schedule


def _exact_posterior(x, y, train, length_scale, ratio, kernel="matern52"):
    """Mean and std at ``x`` of the GP on ``train`` rows with fixed hyper-parameters, solved directly."""
    xt, yt = x[train], y[train]
    mean, scale = yt.mean(), yt.std()
    z = (yt - mean) / scale
    k = correlation(squared_distances(xt, xt), length_scale, kernel) + ratio * np.eye(len(xt))
    alpha = np.linalg.solve(k, z)
    signal = z @ alpha / len(z)
    cross = correlation(squared_distances(x, xt), length_scale, kernel)
    var = signal * (1.0 - np.einsum("ij,ji->i", cross, np.linalg.solve(k, cross.T)))
    return cross @ alpha * scale + mean, np.sqrt(np.maximum(var, 0.0)) * scale


def _nb201_rows(n, seed=0):
    space = get_space("nb201")
    rng = np.random.default_rng(seed)
    rows = np.unique(rng.integers(0, space.size, size=3 * n))[:n]
    rng.shuffle(rows)
    x = space.encode_many([space.from_index(int(r)) for r in rows], "onehot").astype(np.float64)
    y = x @ rng.normal(size=x.shape[1]) + 0.1 * rng.normal(size=n)
    return x, y


def test_a_growing_training_set_keeps_the_hyper_parameters_and_extends_the_factor_exactly():
    x, y = _nb201_rows(60)
    gp = GaussianProcess(reselect_growth=1.5).fit(x[:20], y[:20])
    chosen = (gp.length_scale_, gp.noise_ratio_)
    assert (gp.n_selections_, gp.n_extensions_) == (1, 0)
    for n in (21, 24, 29):  # below 1.5 x 20 rows: the factor grows by the new rows; the targets all change
        gp.fit(x[:n], y[:n] ** 2)
        assert (gp.length_scale_, gp.noise_ratio_) == chosen and gp.n_selections_ == 1
        mean, std = gp.predict(x)
        exact_mean, exact_std = _exact_posterior(x, y**2, slice(0, n), *chosen)
        np.testing.assert_allclose(mean, exact_mean, rtol=1e-7, atol=1e-7 * np.ptp(y**2))
        np.testing.assert_allclose(std, exact_std, rtol=1e-6, atol=1e-7 * np.ptp(y**2))
    assert gp.n_extensions_ == 3
    gp.fit(x[:30], y[:30])  # 1.5 x 20: chosen again on the grid, as a fresh fit would
    fresh = GaussianProcess().fit(x[:30], y[:30])
    assert gp.n_selections_ == 2 and (gp.length_scale_, gp.noise_ratio_) == (fresh.length_scale_, fresh.noise_ratio_)
    np.testing.assert_allclose(gp.predict(x)[0], fresh.predict(x)[0], rtol=1e-9, atol=1e-9)
    # earlier rows changed (not the previous fit's rows first): chosen afresh
    gp.fit(x[1:35], y[1:35])
    assert gp.n_selections_ == 3


def test_without_a_growth_factor_a_fit_depends_on_its_data_alone():
    x, y = _nb201_rows(40, seed=1)
    gp = GaussianProcess().fit(x[:20], y[:20]).fit(x[:25], y[:25])
    fresh = GaussianProcess().fit(x[:25], y[:25])
    assert gp.n_extensions_ == 0 and gp.n_selections_ == 2
    np.testing.assert_array_equal(gp.predict(x)[0], fresh.predict(x)[0])


def test_the_gp_predictor_refuses_a_growth_factor_it_cannot_use():
    space = get_space("nb201")
    with pytest.raises(InvalidParameter, match="reselect_growth"):
        GPPredictor(backend="sklearn", reselect_growth=1.25).setup(space, np.random.default_rng(0))
    with pytest.raises(InvalidParameter, match="reselect_growth"):
        GPPredictor(reselect_growth=0.5).setup(space, np.random.default_rng(0))


def test_gp_bo_chooses_hyper_parameters_on_the_schedule():
    from archscape import load_benchmark
    from archscape.search import make_optimizer
    from archscape.search.gp import RESELECT_GROWTH

    bench = load_benchmark("nb201-cifar10")
    opt = make_optimizer("gp").setup(bench.space, np.random.default_rng(0))
    for _ in range(60):
        g = opt.ask()
        opt.tell(g, bench.query(g, noise="mean").metrics[bench.objective])
    gp = opt.model_.gp_
    fits = 60 - 10  # one fit per ask after the 10 random ones, on 10..59 told values
    selections = 1 + int(np.floor(np.log(59 / 10) / np.log(RESELECT_GROWTH)))  # each time 25% more points
    assert gp.n_selections_ + gp.n_extensions_ == fits and abs(gp.n_selections_ - selections) <= 1
