"""Predictor-based search with a candidate-pool strategy (Mauch et al. 2020): the one surrogate-model search.

``num_init`` random architectures; then, round after round: a predictor
(:mod:`archscape.predictors`) is fit on every told value, a candidate pool
(:mod:`archscape.search.pools`: the full space, a random subset, or a smart
subset) is scored by the acquisition (:mod:`archscape.search.acquisition`),
and the ``batch_size`` best go into a queue that :meth:`~PredictorSearch.ask`
hands out one at a time.  A new round starts when the queue is empty, so in
a serial run the model is refit exactly when the previous batch has been
fully told; asks that run ahead of tells simply start the round with what
has been told so far.  The predictor is fit when the round first needs a
score (while building a scored pool, or when choosing the batch); a round
whose pool holds no more than ``batch_size`` candidates takes them all,
filled up at random, and fits nothing.

Failed evaluations (nan) are left out of the training data.  While fewer
than two real values (or the predictor's ``min_points``) are known there is
nothing to learn from, and asks are random.

Acquisitions: ``mean`` (the predicted value), ``ucb`` (``mean + ucb_kappa *
std``), ``ei`` (expected improvement over the best told value) and ``its``
(independent Thompson sampling: one draw from ``N(mean, std)`` per
candidate).  The last three need a predictor with a standard deviation; with
one that has none they are refused at setup, in one line.

The predictor's generator is spawned from the optimizer's, so a trial is
reproducible and replays exactly on resume.  BANANAS (``bananas``) and GP-BO
(``gp``) are this search with a fixed predictor and pool:
:class:`PredictorPreset` subclasses that map their own hyper-parameters onto
them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from archscape.params import Interval, InvalidParameter, Is, Options, Param
from archscape.predictors import make_predictor
from archscape.predictors.base import Predictor
from archscape.search.acquisition import ACQUISITIONS, acquisition_values
from archscape.search.base import Optimizer
from archscape.search.candidates import random_candidates, ranked
from archscape.search.pools import PoolBuilder, check_pool, parse_pool
from archscape.spaces.base import Genotype
from archscape.util import single_threaded_blas

#: told values needed before a model is fit
MIN_POINTS = 2


class PredictorSearch(Optimizer):
    """Fit a predictor, score a candidate pool, evaluate the best; repeat."""

    name = "predictor"
    requires = ("neighbours", "mutate", "sample")
    #: whether the predictor draws from the optimizer's own generator instead of a stream spawned from it
    shares_generator: ClassVar[bool] = False
    params = {
        "predictor": Param("mlp", Is(str)),
        # None stores {} (see __post_init__)
        "predictor_params": Param(None, Is(dict)),
        "num_init": Param(10, Interval(int, 1, None)),
        "batch_size": Param(10, Interval(int, 1, None)),
        "acquisition": Param("mean", Options(ACQUISITIONS)),
        "ucb_kappa": Param(2.0, Interval(float, 0, None)),
        "pool": Param("mutation", Is(str)),
        "pool_size": Param(1000, Interval(int, 1, None)),
        "pool_fixed": Param(False, Is(bool)),
        "parents": Param(10, Interval(int, 1, None)),
        "pool_steps": Param(100, Interval(int, 1, None)),
    }
    # declared by the presets too
    num_init: int
    batch_size: int
    acquisition: str
    ucb_kappa: float

    def __post_init__(self) -> None:
        if self.predictor_params is None:
            self.predictor_params = {}

    # ------------------------------------------------------------ setup
    def _start(self) -> None:
        self.pools_ = self._pools()
        if self.shares_generator:
            rng = self.rng_
        else:
            # Its own stream, spawned from the trial's: the predictor's draws never shift the optimizer's.
            rng = np.random.default_rng(int(self.rng_.integers(2**63)))
        self.model_ = self._model().setup(self.space_, rng)
        if self.acquisition != "mean" and not self.model_.has_std:
            raise InvalidParameter(
                f"The 'acquisition' parameter of PredictorSearch can be {self.acquisition!r} only with a predictor that "
                f"gives a standard deviation; {self.predictor!r} gives none. Use 'mean' or another predictor."
            )
        #: architectures chosen in the current round, not yet asked
        self.queue_: deque[Genotype] = deque()
        #: rounds in which the surrogate chose a batch
        self.rounds_ = 0
        #: the pool size the predictor scored in each round
        self.pool_sizes_: list[int] = []
        # told results the model has not been fit on yet (see _fitted)
        self._unfitted: list[tuple[Genotype, float]] | None = None

    def _pools(self) -> PoolBuilder:
        """The candidate pools of every round (checked against the space)."""
        parts = parse_pool(self.pool)
        check_pool(parts, self.space_)
        return PoolBuilder(self, parts, self.pool_size, self.parents, self.pool_steps, self.pool_fixed)

    def _model(self) -> Predictor:
        """The predictor, not yet set up."""
        return make_predictor(self.predictor, **self.predictor_params)

    # ------------------------------------------------------------ ask
    def _ask(self) -> Genotype:
        while self.queue_:
            genotype = self.queue_.popleft()
            if self.is_new(genotype):
                return genotype
        if len(self.asked_) < self.num_init:
            return self.sample_new()
        told = [(g, v) for g, v in self.history_ if not math.isnan(v)]
        if len(told) < max(MIN_POINTS, self.model_.min_points):
            return self.sample_new()
        batch = self._next_batch(told)
        if not batch:
            return self.sample_new()  # raises SearchExhausted on an exhausted space
        self.rounds_ += 1
        self.queue_.extend(batch[1:])
        return batch[0]

    # ------------------------------------------------------------ batches
    def _next_batch(self, told: list[tuple[Genotype, float]]) -> list[Genotype]:
        """The next batch, best first, given the told (non-NaN) values."""
        self._unfitted = told
        with single_threaded_blas():
            ranking = [g for g, _ in ranked(told)]
            pool = self.pools_.build(ranking, lambda gs: self._fitted().predict(gs).mean)
            self.pool_sizes_.append(len(pool))
            return self._best_batch(pool, self._acquire)

    def _fitted(self) -> Predictor:
        """The model, fit on this round's told values on first use."""
        if self._unfitted is not None:
            told, self._unfitted = self._unfitted, None
            self.model_.fit([g for g, _ in told], [v for _, v in told])
        return self.model_

    def _best_batch(self, candidates: list[Genotype], score: Callable[[list[Genotype]], np.ndarray]) -> list[Genotype]:
        """The ``batch_size`` best candidates by ``score`` (called only when there are more), filled up at random."""
        if len(candidates) > self.batch_size:
            # Stable order: among equal scores the earlier candidate (closer to the best parent) wins.
            order = np.argsort(-score(candidates), kind="stable")[: self.batch_size]
            batch = [candidates[i] for i in order.tolist()]
        else:
            batch = list(candidates)
        if len(batch) < self.batch_size:
            # Too few unseen candidates: fill the batch with random architectures.
            taken = {self.space_.key(g) for g in batch}
            batch += random_candidates(self, self.batch_size - len(batch), exclude=taken)
        return batch

    def _acquire(self, pool: list[Genotype]) -> np.ndarray:
        # In the model's training units (normal scores for the GP), where its uncertainty is
        # Gaussian: mapped back to accuracies a std is stretched wherever the told values are
        # sparse, and EI then chased NB201's 10% tail (full-pool EI was no better than random).
        model = self._fitted()
        pred = model.predict_latent(pool)
        return acquisition_values(
            self.acquisition, pred.mean, pred.std, incumbent=model.latent_best(), kappa=self.ucb_kappa, rng=self.rng_
        )


class PredictorPreset(PredictorSearch):
    """Predictor search with a predictor and pool fixed by the subclass's own hyper-parameters (``bananas``, ``gp``).

    A subclass declares its parameters (which include an ``encoding`` and its
    path ``cutoff``, checked here under the subclass's name), checks the rest
    against the space (:meth:`_check`) and builds its predictor
    (:meth:`_model`) and pool (:meth:`_pools`) from them.  Its
    predictor draws from the optimizer's own generator, as these strategies
    did before they were predictor searches, so their stored trials replay
    unchanged.
    """

    shares_generator = True
    # declared by subclasses
    encoding: str
    cutoff: int | None

    def __post_init__(self) -> None:
        """Nothing to fill in: a preset has no ``predictor_params``."""

    def requirements(self) -> tuple[str, ...]:
        return (*PredictorSearch.requires, f"encoding:{self.encoding}")

    def _start(self) -> None:
        if self.cutoff is not None and self.encoding != "path":
            raise InvalidParameter(
                f"The 'cutoff' parameter of {type(self).__name__} applies to encoding='path' only. "
                f"Got cutoff={self.cutoff!r} with encoding={self.encoding!r} instead."
            )
        self._check()
        super()._start()

    def _check(self) -> None:
        """Hook: refuse, in one line, parameters the bound space (``space_``) cannot serve."""


__all__ = ["ACQUISITIONS", "MIN_POINTS", "PredictorPreset", "PredictorSearch"]
