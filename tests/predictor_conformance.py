"""The shared conformance checks for predictors.

:func:`check_predictor` runs every check on one predictor factory and one
search space; ``test_predictors.py`` parametrises it over the predictor
registry and the spaces.  A factory is called with keyword overrides of the
predictor's hyper-parameters (``factory(epochs=-3)``) and returns a fresh,
un-setup predictor.

Values for the mechanical checks come from :func:`synthetic_values`, a fixed
smooth function of the architecture; whether a predictor *learns* is checked
on a :class:`LearningTask`: held-out architectures of a real table where the
space has one, the synthetic function elsewhere.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from optimizer_conformance import check_get_params, check_parameters_validated, supports
from scipy.stats import spearmanr

from archscape.errors import ArchscapeError
from archscape.predictors.base import Predictor
from archscape.spaces.base import SearchSpace

Factory = Callable[..., Predictor]

#: architectures of the mechanical checks
N_POINTS = 60
#: the rank correlation on held-out architectures a predictor must reach
MIN_SPEARMAN = 0.3


def synthetic_values(space: SearchSpace, genotypes: Sequence) -> np.ndarray:
    """A fixed function per space: a saturating sum of per-operation weights plus a smaller per-position term.

    Learnable from any encoding (op counts are linear in the one-hot and path
    features) and from graphs, yet not constant: an accuracy-like value in (85, 95).
    """
    rng = np.random.default_rng(zlib.crc32(space.name.encode()))
    onehot = space.encode_many(genotypes, "onehot")
    if "opcount" in space.encodings:
        counts = space.encode_many(genotypes, "opcount")
        score = counts @ rng.normal(size=counts.shape[1]) + 0.3 * (onehot @ rng.normal(size=onehot.shape[1]))
    else:  # a space of mixed variables (cnn, nago): the one-hot features alone
        score = onehot @ rng.normal(size=onehot.shape[1])
    score = (score - score.mean()) / (score.std() or 1.0)
    return 90.0 + 5.0 * np.tanh(score)


def distinct_sample(space: SearchSpace, n: int, seed: int) -> list:
    """``n`` distinct architectures (every one, in random order, of a finite space with fewer)."""
    rng = np.random.default_rng(seed)
    if space.size is not None and space.size <= n:
        return [space.from_index(int(i)) for i in rng.permutation(space.size)]
    seen: dict = {}
    while len(seen) < n:
        g = space.canonical(space.sample(rng))
        seen.setdefault(space.key(g), g)
    return list(seen.values())


@dataclass
class LearningTask:
    """Training and held-out architectures with their values."""

    train: list
    train_values: np.ndarray
    test: list
    test_values: np.ndarray
    source: str


def synthetic_task(space: SearchSpace, n_train: int = 200, n_test: int = 300) -> LearningTask:
    """Synthetic values of distinct architectures; a space smaller than ``n_train + n_test`` is split 40/60."""
    if space.size is not None and space.size < n_train + n_test:
        n_train = round(space.size * n_train / (n_train + n_test))
    genotypes = distinct_sample(space, n_train + n_test, seed=5)
    values = synthetic_values(space, genotypes)
    return LearningTask(genotypes[:n_train], values[:n_train], genotypes[n_train:], values[n_train:], "synthetic")


def table_task(bench, n_train: int = 200, n_test: int = 1000, seed: int = 3) -> LearningTask:
    """Random disjoint training and test rows (with a finite value) of an enumerable table."""
    space = bench.search_space()
    values = bench.values()
    rows = np.random.default_rng(seed).permutation(np.flatnonzero(np.isfinite(values)))
    train, test = rows[:n_train], rows[n_train : n_train + n_test]
    return LearningTask([space.from_index(int(r)) for r in train], values[train],
                        [space.from_index(int(r)) for r in test], values[test], bench.name)


# ---------------------------------------------------------------------- the suite
def check_predictor(factory: Factory, space: SearchSpace, task: LearningTask | None = None) -> bool:
    """Every check; returns False (checking only the refusal) when the space lacks what the predictor reads."""
    if not supports(factory(), space):
        return False
    check_parameters_validated(factory, space)
    check_get_params(factory)
    check_refuses_before_fit(factory, space)
    genotypes = distinct_sample(space, N_POINTS, seed=1)
    values = synthetic_values(space, genotypes)
    check_shapes_and_order(factory, space, genotypes, values)
    check_latent_agrees_with_values(factory, space, genotypes, values)
    check_nan_values_left_out(factory, space, genotypes, values)
    check_refit_replaces(factory, space, genotypes, values)
    check_deterministic(factory, space, genotypes, values)
    check_learns(factory, space, task or synthetic_task(space))
    return True


def check_refuses_before_fit(factory: Factory, space: SearchSpace) -> None:
    """fit/predict before setup, predict before fit, and too few finite values are refused in one line."""
    name = type(factory()).__name__
    g = distinct_sample(space, 3, seed=2)
    for call in (lambda p: p.fit(g, [1.0, 2.0, 3.0]), lambda p: p.predict(g)):
        with pytest.raises(ArchscapeError, match="set up") as info:
            call(factory())
        assert "\n" not in str(info.value)
    fresh = factory().setup(space, np.random.default_rng(0))
    with pytest.raises(ArchscapeError, match=f"{name} predicts after fit") as info:
        fresh.predict(g)
    assert "\n" not in str(info.value)
    with pytest.raises(ArchscapeError, match="finite values to fit"):
        fresh.fit(g, [math.nan] * 3)
    with pytest.raises(ArchscapeError, match="3 architectures but 2 values"):
        fresh.fit(g, [1.0, 2.0])


def _fitted(factory: Factory, space: SearchSpace, genotypes, values, seed: int = 7) -> Predictor:
    return factory().setup(space, np.random.default_rng(seed)).fit(genotypes, values)


def check_shapes_and_order(factory: Factory, space: SearchSpace, genotypes, values) -> None:
    """One finite mean (and std >= 0, or None) per architecture, in order; cached rows give the same answer."""
    p = _fitted(factory, space, genotypes, values)
    others = distinct_sample(space, 25, seed=4)
    first = p.predict(others)
    assert first.mean.shape == (25,) and np.isfinite(first.mean).all()
    if p.has_std:
        assert first.std is not None and first.std.shape == (25,)
        assert np.isfinite(first.std).all() and (first.std >= 0).all()
        assert first.std.max() > 0, "a std that is zero everywhere says nothing"
    else:
        assert first.std is None
    # reversed order (from the cache now) mixed with new architectures, which a twin predictor scores alone
    new = distinct_sample(space, 5, seed=9)
    expected = _fitted(factory, space, genotypes, values).predict(new).mean
    again = p.predict(others[::-1] + new)
    np.testing.assert_allclose(again.mean[:25], first.mean[::-1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(again.mean[25:], expected, rtol=1e-6, atol=1e-9)
    empty = p.predict([])
    assert empty.mean.shape == (0,) and (empty.std is None) == (not p.has_std)


def check_latent_agrees_with_values(factory: Factory, space: SearchSpace, genotypes, values) -> None:
    """predict_latent ranks like predict (its units are an increasing map of the values); latent_best tops the fit."""
    p = _fitted(factory, space, genotypes, values)
    others = distinct_sample(space, 40, seed=4)
    latent, plain = p.predict_latent(others), p.predict(others)
    assert latent.mean.shape == (40,) and (latent.std is None) == (not p.has_std)
    # increasing map: wherever the latent means are ordered, so are the values (ties allowed after the map)
    order = np.argsort(latent.mean, kind="stable")
    assert (np.diff(plain.mean[order]) >= -1e-9 * max(1.0, float(np.abs(plain.mean).max()))).all()
    fitted = p.predict_latent(genotypes).mean
    assert p.latent_best() >= float(np.min(fitted))
    if p.has_std:
        assert np.isfinite(latent.std).all() and (latent.std >= 0).all()


def check_nan_values_left_out(factory: Factory, space: SearchSpace, genotypes, values) -> None:
    """Failed evaluations (NaN) are dropped: the fit equals one on the finite values alone."""
    k = len(genotypes) // 2
    extra = distinct_sample(space, 10, seed=6)
    with_failures = _fitted(factory, space, genotypes[:k] + extra, np.concatenate([values[:k], np.full(10, np.nan)]))
    clean = _fitted(factory, space, genotypes[:k], values[:k])
    probe = genotypes[k:]
    np.testing.assert_array_equal(with_failures.predict(probe).mean, clean.predict(probe).mean)


def check_refit_replaces(factory: Factory, space: SearchSpace, genotypes, values) -> None:
    """After fitting the values and then their negation, the predictions follow the negation."""
    p = _fitted(factory, space, genotypes, values)
    assert spearmanr(p.predict(genotypes).mean, values).statistic > 0.5
    p.fit(genotypes, -values)
    after = p.predict(genotypes).mean
    assert spearmanr(after, -values).statistic > 0.5
    assert np.mean(after) < 0, "predictions in the units of the new values"


def check_deterministic(factory: Factory, space: SearchSpace, genotypes, values) -> None:
    """The same seed gives the same predictions (and std)."""
    probe = distinct_sample(space, 30, seed=8)
    a = _fitted(factory, space, genotypes, values, seed=3).predict(probe)
    b = _fitted(factory, space, genotypes, values, seed=3).predict(probe)
    np.testing.assert_array_equal(a.mean, b.mean)
    if a.std is not None:
        np.testing.assert_array_equal(a.std, b.std)


def check_learns(factory: Factory, space: SearchSpace, task: LearningTask) -> float:
    """Spearman above :data:`MIN_SPEARMAN` on held-out architectures; returns it."""
    p = _fitted(factory, space, task.train, task.train_values)
    rho = spearmanr(p.predict(task.test).mean, task.test_values).statistic
    assert rho > MIN_SPEARMAN, f"{type(p).__name__} on {task.source}: Spearman {rho:.3f} <= {MIN_SPEARMAN}"
    return float(rho)
