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

from archscape.params import Interval, Options, Param
from archscape.predictors.mlp import ENSEMBLE_PARAMS, MLPPredictor
from archscape.predictors.vector import VECTOR_PARAMS
from archscape.search.pools import PoolBuilder
from archscape.search.predictor_search import PredictorPreset
from archscape.spaces.base import ENCODINGS

#: UCB's weight on the ensemble's standard deviation (naszilla's explore_factor)
UCB_FACTOR = 0.5


class BANANAS(PredictorPreset):
    """Neural-ensemble Bayesian optimisation with mutation-based acquisition optimisation."""

    name = "bananas"
    ucb_kappa = UCB_FACTOR
    params = {
        "num_init": Param(10, Interval(int, 1, None)),
        "batch_size": Param(10, Interval(int, 1, None)),
        "num_candidates": Param(100, Interval(int, 1, None)),
        "num_parents": Param(5, Interval(int, 1, None)),
        "encoding": Param("path", Options(ENCODINGS)),
        "cutoff": VECTOR_PARAMS["cutoff"],
        "acquisition": Param("its", Options(("its", "ucb", "mean"))),
        **ENSEMBLE_PARAMS,
    }

    def _model(self) -> MLPPredictor:
        ensemble = {k: getattr(self, k) for k in ENSEMBLE_PARAMS}
        return MLPPredictor(encoding=self.encoding, cutoff=self.cutoff, target="values", **ensemble)

    def _pools(self) -> PoolBuilder:
        return PoolBuilder(self, ("mutation",), self.num_candidates, self.num_parents, steps=1, fixed=False)


__all__ = ["BANANAS", "UCB_FACTOR"]
