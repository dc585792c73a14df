"""ELA features against pflacco 1.2.2, seeding and bad input.

``tests/fixtures/pflacco_reference.json`` is written by
``scripts/make_pflacco_fixture.sh`` (pflacco in a throwaway virtual
environment): BBOB samples with their X and y, and Learning-from-NAS samples
that are mapped again here through ``archscape.landscape.lfnas``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from archscape.errors import ArchscapeError, UnknownName
from archscape.landscape.ela import (
    FEATURE_NAMES,
    FEATURE_SETS,
    RANDOM_FEATURES,
    calculate_features,
    feature_names,
)
from archscape.landscape.ela.ic import nn_tour

FIXTURE = Path(__file__).parent / "fixtures" / "pflacco_reference.json"
REF = json.loads(FIXTURE.read_text())
SAMPLES = {s["name"]: s for s in REF["samples"]}

#: Features compared more loosely than to rounding, with the reason.  Empty:
#: every deterministic feature agrees to rtol 1e-9, and the random ones (ic)
#: agree exactly too because archscape draws the tour start from the same seed
#: in the same way as pflacco (``np.random.seed(0)``; ``choice(n, 1)``).
LOOSE: dict[str, str] = {}
RTOL = 1e-9
ATOL = 1e-12


def _checksum(a: np.ndarray) -> float:
    return float(np.sum(a * np.arange(1, a.size + 1).reshape(a.shape)))


def _sample(s: dict) -> tuple[np.ndarray, np.ndarray]:
    if s["kind"] == "bbob":
        return np.array(s["X"]), np.array(s["y"])
    from archscape.data import registry
    from archscape.landscape import lfnas

    if not registry.is_available(s["dataset"]):
        pytest.skip(f"{s['dataset']} is not in the data cache")
    dataset = s["dataset"].split("-")[1]
    p = lfnas.load_problem(dataset=dataset, space=s["space"], rows=s["rows"])
    assert list(p.columns) == s["columns"]
    # the script maps the rows on its own; the same X and y prove the mapping
    assert _checksum(p.X) == pytest.approx(s["X_checksum"], rel=1e-12)
    assert _checksum(p.y) == pytest.approx(s["y_checksum"], rel=1e-12)
    return p.X, p.y


def _box(X):
    return min(-5.0, float(X.min())), max(5.0, float(X.max()))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_agrees_with_pflacco(name):
    s = SAMPLES[name]
    X, y = _sample(s)
    lb, ub = _box(X)
    sets = [k for k in FEATURE_SETS if k not in s["errors"]]
    ours = calculate_features(X, y, sets=sets, lower_bound=lb, upper_bound=ub, seed=0)
    ref = s["features"]
    assert set(ours) == set(ref), "feature names differ from pflacco's"
    bad = []
    for key, want in ref.items():
        got = ours[key]
        if want is None:
            if not math.isnan(got):
                bad.append((key, want, got))
            continue
        rtol = 1e-3 if key in LOOSE else RTOL
        if not math.isclose(got, want, rel_tol=rtol, abs_tol=ATOL):
            bad.append((key, want, got))
    assert not bad, f"{name}: {len(bad)} features differ from pflacco: {bad[:5]}"
    # a set that pflacco refuses, archscape refuses with one line
    for failed in s["errors"]:
        with pytest.raises(ArchscapeError, match="ela_level"):
            calculate_features(X, y, sets=[failed], lower_bound=lb, upper_bound=ub)


def test_fixture_covers_functions_and_dimensions():
    bbob = [s for s in REF["samples"] if s["kind"] == "bbob"]
    assert {s["fid"] for s in bbob} == {1, 3, 7, 15, 21}
    assert {s["dim"] for s in bbob} == {2, 5, 10}
    assert REF["versions"]["pflacco"] == "1.2.2"
    n_features = sum(len(v) for v in FEATURE_NAMES.values())
    assert all(len(s["features"]) == n_features for s in bbob)


def test_names_match_defaults():
    s = SAMPLES["bbob-f1-d2"]
    assert feature_names() == list(calculate_features(np.array(s["X"]), np.array(s["y"])))
    assert set(feature_names()) == set(s["features"])


def _sphere(n=120, d=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-5, 5, size=(n, d))
    return X, np.sum(X**2, axis=1) + 0.1 * rng.standard_normal(n)


def test_same_seed_same_random_features():
    X, y = _sphere()
    a = calculate_features(X, y, sets=["ic"], seed=3)
    b = calculate_features(X, y, sets=["ic"], seed=3)
    assert a == b
    assert set(RANDOM_FEATURES) == set(a)
    starts = {calculate_features(X, y, sets=["ic"], seed=s)["ic.m0"] for s in range(8)}
    assert len(starts) > 1, "the tour start should depend on the seed"


def test_shuffled_level_folds_are_seeded():
    X, y = _sphere(200)
    a = calculate_features(X, y, sets=["ela_level"], level_shuffle=True, seed=5)
    b = calculate_features(X, y, sets=["ela_level"], level_shuffle=True, seed=5)
    assert a == b
    fixed = calculate_features(X, y, sets=["ela_level"], seed=5)
    assert fixed == calculate_features(X, y, sets=["ela_level"], seed=6), "unshuffled folds ignore the seed"


def test_nbc_sample_tie_breaker_is_seeded():
    X = np.array([[0.0, 0.0], [1, 0], [-1, 0], [0, 1], [0, -1], [2, 2], [3, 3], [-2, 2], [4, -4], [-3, -3]])
    y = np.array([5.0, 1, 1, 1, 1, 6, 7, 8, 9, 10])
    a = calculate_features(X, y, sets=["nbc"], nbc_tie_breaker="sample", seed=1)
    assert a == calculate_features(X, y, sets=["nbc"], nbc_tie_breaker="sample", seed=1)


def test_nn_tour_visits_every_point_once():
    X, _ = _sphere(60)
    perm, steps = nn_tour(X, 7, neighborhood=3)
    assert perm[0] == 7 and sorted(perm) == list(range(60))
    assert np.allclose(steps, np.linalg.norm(np.diff(X[perm], axis=0), axis=1))


def test_duplicated_rows_are_merged_for_ic():
    X, y = _sphere(80)
    Xd = np.vstack([X, X[:5]])
    yd = np.concatenate([y, y[:5]])  # complete duplicates are dropped
    assert calculate_features(Xd, yd, sets=["ic"], options={"ic": {"nn_start": 0}}) == calculate_features(
        X, y, sets=["ic"], options={"ic": {"nn_start": 0}}
    )


def test_minimize_false_negates_y_for_nbc_and_disp():
    X, y = _sphere()
    a = calculate_features(X, y, sets=["nbc", "disp"], minimize=False)
    b = calculate_features(X, -y, sets=["nbc", "disp"])
    assert a == b


def test_quadratic_is_fitted_exactly():
    X, _ = _sphere(100, 4)
    y = np.sum((X - 1) ** 2, axis=1)
    f = calculate_features(X, y, sets=["ela_meta"])
    assert f["ela_meta.quad_simple.adj_r2"] == pytest.approx(1.0, abs=1e-12)
    assert f["ela_meta.quad_simple.cond"] == pytest.approx(1.0, rel=1e-8)


def test_more_columns_than_rows_gives_r2_one():
    rng = np.random.default_rng(0)
    X = rng.uniform(-5, 5, size=(60, 12))  # 12 + 66 interaction columns > 60 rows
    f = calculate_features(X, rng.standard_normal(60), sets=["ela_meta"])
    assert f["ela_meta.lin_w_interact.adj_r2"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "X, y, kwargs, match",
    [
        (np.zeros((10, 2)), np.zeros(9), {}, "10 rows but y has 9"),
        (np.zeros((10, 2)), np.r_[np.zeros(9), np.nan], {}, "NaN"),
        (np.zeros((10, 2)), np.zeros(10), {"lower_bound": 1, "upper_bound": 0}, "below upper_bound"),
        (np.full((10, 2), 7.0), np.zeros(10), {}, "outside the bounds"),
        (np.zeros((10, 2)), np.zeros(10), {"lower_bound": [-5, -5, -5]}, "lower_bound and upper_bound"),
        (np.zeros((10, 2)), np.zeros(10), {"blocks": [2, 0]}, "blocks"),
        (np.zeros((10, 2)), np.zeros(10), {"sets": ["ela_bogus"]}, "unknown ELA feature set"),
        (np.zeros((2, 2)), np.zeros(2), {}, "at least 4"),
        (np.zeros((10, 2, 1)), np.zeros(10), {}, "2-D"),
        (np.zeros((10, 2)), np.zeros(10), {"options": {"ic": {"bogus": 1}}}, "bad option"),
    ],
)
def test_bad_input_is_one_line(X, y, kwargs, match):
    with pytest.raises(ArchscapeError, match=match) as info:
        calculate_features(X, y, **kwargs)
    assert "\n" not in str(info.value)


def test_unknown_set_is_unknown_name():
    with pytest.raises(UnknownName):
        calculate_features(np.zeros((10, 2)), np.zeros(10), sets="nope")


def test_ties_in_y_make_level_fail_clearly():
    X, _ = _sphere(100)
    y = np.r_[np.zeros(40), np.arange(60.0)]
    with pytest.raises(ArchscapeError, match="quantile 0.1"):
        calculate_features(X, y, sets=["ela_level"])


def test_constant_y_gives_nan_not_an_error():
    X, _ = _sphere(50)
    f = calculate_features(X, np.ones(50), sets=["ela_meta", "ela_distr", "nbc", "disp", "ic", "pca"])
    assert math.isnan(f["ela_distr.skewness"]) and math.isnan(f["nbc.nb_fitness.cor"])
    assert f["disp.ratio_mean_02"] == 1.0 and f["ic.h_max"] == 0.0
