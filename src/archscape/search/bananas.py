"""BANANAS: Bayesian optimisation with an ensemble of neural predictors (White et al., AAAI 2021).

Each round fits ``num_ensemble`` MLPs (``num_layers`` x ``layer_width``,
ReLU, mean absolute error, Adam) on the path encoding of every told
architecture, scores a pool of unseen mutations of the best architectures
with independent Thompson sampling, and queries the ``batch_size`` best.

Settings taken from the authors' code (naszilla ``nas_algorithms.bananas``,
``params.meta_neuralnet_params('standard')``, ``acquisition_functions``):
5 members of 10 layers x 20 units, MAE loss, Adam with learning rate 0.01
and betas (0.9, 0.99), 150 epochs, 10 initial architectures, 10 queries per
round, 100 candidates made by mutating the best architecture (the next best
ones, up to 5, only while the pool is short), ITS draws one normal sample
per candidate from the ensemble's mean and standard deviation, UCB is
``mean + 0.5 std``.

Differences, each for speed or robustness: training is full-batch by
default (``fit_batch_size=None``; the authors use minibatches of 32, which
is 10x more steps at 300 points for a predictor of about the same rank
correlation on NAS-Bench-201), targets are standardised, and the ensemble is
trained as one batched numpy computation (:mod:`archscape.predictors.mlp`).
``cutoff=None`` keeps the whole path encoding; the authors truncate it (to
the 30 most frequent paths on NAS-Bench-201, 40 on NAS-Bench-101), which
``cutoff`` does here with the space's short-paths-first order.

BANANAS is predictor search (:class:`~archscape.search.predictor_search.PredictorSearch`)
with the ``mlp`` predictor (``target="values"``), a ``mutation`` pool of
``num_candidates`` around the ``num_parents`` best, and acquisition ``its``,
``ucb`` (``ucb_kappa`` 0.5) or ``mean``.
"""

from __future__ import annotations

from typing import ClassVar

from archscape.params import Interval, Is, Options
from archscape.predictors.mlp import ENSEMBLE_CONSTRAINTS, MLPPredictor
from archscape.search.pools import PoolBuilder
from archscape.search.predictor_search import PredictorPreset
from archscape.spaces.base import ENCODINGS

#: UCB's weight on the ensemble's standard deviation (naszilla's explore_factor)
UCB_FACTOR = 0.5


class BANANAS(PredictorPreset):
    """Neural-ensemble Bayesian optimisation with mutation-based acquisition optimisation."""

    name = "bananas"
    ucb_kappa = UCB_FACTOR
    _parameter_constraints: ClassVar[dict[str, list]] = {
        "num_init": [Interval(int, 1, None)],
        "batch_size": [Interval(int, 1, None)],
        "num_candidates": [Interval(int, 1, None)],
        "num_parents": [Interval(int, 1, None)],
        "encoding": [Options(ENCODINGS)],
        "cutoff": [Interval(int, 1, None), Is(type(None))],
        "acquisition": [Options(("its", "ucb", "mean"))],
        **ENSEMBLE_CONSTRAINTS,
    }

    def __init__(
        self,
        num_init: int = 10,
        batch_size: int = 10,
        num_candidates: int = 100,
        num_parents: int = 5,
        encoding: str = "path",
        cutoff: int | None = None,
        acquisition: str = "its",
        num_ensemble: int = 5,
        num_layers: int = 10,
        layer_width: int = 20,
        epochs: int = 150,
        learning_rate: float = 0.01,
        fit_batch_size: int | None = None,
    ) -> None:
        self.num_init = num_init
        self.batch_size = batch_size
        self.num_candidates = num_candidates
        self.num_parents = num_parents
        self.encoding = encoding
        self.cutoff = cutoff
        self.acquisition = acquisition
        self.num_ensemble = num_ensemble
        self.num_layers = num_layers
        self.layer_width = layer_width
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.fit_batch_size = fit_batch_size

    def _model(self) -> MLPPredictor:
        ensemble = {k: getattr(self, k) for k in ENSEMBLE_CONSTRAINTS}
        return MLPPredictor(encoding=self.encoding, cutoff=self.cutoff, target="values", **ensemble)

    def _pools(self) -> PoolBuilder:
        return PoolBuilder(self, ("mutation",), self.num_candidates, self.num_parents, steps=1, fixed=False)


__all__ = ["BANANAS", "UCB_FACTOR"]
