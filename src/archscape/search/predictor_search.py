"""Predictor-based search with a candidate-pool strategy (Mauch et al. 2020).

``num_init`` random architectures; then, round after round: fit a predictor
(:mod:`archscape.predictors`) on every told value, build a candidate pool
(:mod:`archscape.search.pools`: the full space, a random subset, or a smart
subset), score it by the acquisition and queue the ``batch_size`` best.

Acquisitions: ``mean`` (the predicted value), ``ucb`` (``mean + ucb_kappa *
std``), ``ei`` (expected improvement over the best told value) and ``its``
(independent Thompson sampling: one draw from ``N(mean, std)`` per
candidate).  The last three need a predictor with a standard deviation; with
one that has none they are refused at setup, in one line.

The predictor's generator is spawned from the optimizer's, so a trial is
reproducible and replays exactly on resume.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from archscape.params import Interval, InvalidParameter, Is, Options
from archscape.search.candidates import ranked, single_threaded_blas
from archscape.search.gp import expected_improvement
from archscape.search.model_based import MIN_POINTS, QueuedBatches
from archscape.search.pools import PoolBuilder, check_pool, parse_pool
from archscape.spaces.base import Genotype

ACQUISITIONS = ("mean", "ucb", "ei", "its")


class PredictorSearch(QueuedBatches):
    """Fit a predictor, score a candidate pool, evaluate the best; repeat."""

    name = "predictor"
    requires = ("neighbours", "mutate", "sample")
    _parameter_constraints: ClassVar[dict[str, list]] = {
        "predictor": [Is(str)],
        "predictor_params": [Is(dict)],
        "num_init": [Interval(int, 1, None)],
        "batch_size": [Interval(int, 1, None)],
        "acquisition": [Options(ACQUISITIONS)],
        "ucb_kappa": [Interval(float, 0, None)],
        "pool": [Is(str)],
        "pool_size": [Interval(int, 1, None)],
        "pool_fixed": [Is(bool)],
        "parents": [Interval(int, 1, None)],
        "pool_steps": [Interval(int, 1, None)],
    }

    def __init__(
        self,
        predictor: str = "mlp",
        predictor_params: dict[str, Any] | None = None,
        num_init: int = 10,
        batch_size: int = 10,
        acquisition: str = "mean",
        ucb_kappa: float = 2.0,
        pool: str = "mutation",
        pool_size: int = 1000,
        pool_fixed: bool = False,
        parents: int = 10,
        pool_steps: int = 100,
    ) -> None:
        self.predictor = predictor
        self.predictor_params = {} if predictor_params is None else predictor_params
        self.num_init = num_init
        self.batch_size = batch_size
        self.acquisition = acquisition
        self.ucb_kappa = ucb_kappa
        self.pool = pool
        self.pool_size = pool_size
        self.pool_fixed = pool_fixed
        self.parents = parents
        self.pool_steps = pool_steps

    # ------------------------------------------------------------ setup
    def _start(self) -> None:
        from archscape.predictors import make_predictor

        parts = parse_pool(self.pool)
        check_pool(parts, self.space_)
        # Its own stream, spawned from the trial's: the predictor's draws never shift the optimizer's.
        seed = int(self.rng_.integers(2**63))
        self.model_ = make_predictor(self.predictor, **self.predictor_params).setup(self.space_, np.random.default_rng(seed))
        if self.acquisition != "mean" and not self.model_.has_std:
            raise InvalidParameter(
                f"The 'acquisition' parameter of PredictorSearch can be {self.acquisition!r} only with a predictor that "
                f"gives a standard deviation; {self.predictor!r} gives none. Use 'mean' or another predictor."
            )
        self.pools_ = PoolBuilder(self, parts, self.pool_size, self.parents, self.pool_steps, self.pool_fixed)
        self._start_queue()
        #: the pool size the predictor scored in each round
        self.pool_sizes_: list[int] = []

    # ------------------------------------------------------------ batches
    def _min_told(self) -> int:
        return max(MIN_POINTS, self.model_.min_points)

    def _next_batch(self, told: list[tuple[Genotype, float]]) -> list[Genotype]:
        with single_threaded_blas():
            self.model_.fit([g for g, _ in told], [v for _, v in told])
            ranking = [g for g, _ in ranked(told)]
            pool = self.pools_.build(ranking, lambda gs: self.model_.predict(gs).mean)
            self.pool_sizes_.append(len(pool))
            return self._best_batch(pool, self._acquire)

    def _acquire(self, pool: list[Genotype]) -> np.ndarray:
        # In the model's training units (normal scores for the GP), where its uncertainty is
        # Gaussian: mapped back to accuracies a std is stretched wherever the told values are
        # sparse, and EI then chased NB201's 10% tail (full-pool EI was no better than random).
        pred = self.model_.predict_latent(pool)
        mean = np.asarray(pred.mean, dtype=np.float64)
        if self.acquisition == "mean":
            return mean
        std = np.maximum(np.asarray(pred.std, dtype=np.float64), 0.0)
        if self.acquisition == "ucb":
            return mean + self.ucb_kappa * std
        if self.acquisition == "ei":
            return expected_improvement(mean, std, self.model_.latent_best())
        return mean + std * self.rng_.standard_normal(len(pool))


__all__ = ["ACQUISITIONS", "PredictorSearch"]
