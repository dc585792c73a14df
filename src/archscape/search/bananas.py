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
trained as one batched numpy computation (:mod:`archscape.search.mlp`).
``cutoff=None`` keeps the whole path encoding; the authors truncate it (to
the 30 most frequent paths on NAS-Bench-201, 40 on NAS-Bench-101), which
``cutoff`` does here with the space's short-paths-first order.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from archscape.params import Interval, Is, Options
from archscape.search.candidates import mutation_candidates
from archscape.search.mlp import ENSEMBLE_CONSTRAINTS, EnsembleMLP
from archscape.search.model_based import BatchedModelSearch
from archscape.spaces.base import ENCODINGS, Genotype

#: UCB's weight on the ensemble's standard deviation (naszilla's explore_factor)
UCB_FACTOR = 0.5


class BANANAS(BatchedModelSearch):
    """Neural-ensemble Bayesian optimisation with mutation-based acquisition optimisation."""

    name = "bananas"
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

    def _candidates(self, ranking: list[Genotype]) -> list[Genotype]:
        return mutation_candidates(self, ranking[: self.num_parents], self.num_candidates)

    def predict(self, x_train: np.ndarray, y_train: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Fit a fresh ensemble on ``(x_train, y_train)``; its predictions for ``x``, shape ``(num_ensemble, len(x))``."""
        centre, scale = float(np.mean(y_train)), float(np.std(y_train))
        scale = scale if scale > 0 else 1.0
        net = EnsembleMLP(self.num_ensemble, x_train.shape[1], self.num_layers, self.layer_width, self.rng_)
        net.fit(
            x_train,
            (y_train - centre) / scale,
            self.rng_,
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            batch_size=self.fit_batch_size,
        )
        return net.predict(x) * scale + centre

    def _scores(self, x_train: np.ndarray, y_train: np.ndarray, x_candidates: np.ndarray) -> np.ndarray:
        predictions = self.predict(x_train, y_train, x_candidates)
        mean = predictions.mean(axis=0)
        if self.acquisition == "mean":
            return mean
        std = predictions.std(axis=0)
        if self.acquisition == "ucb":
            return mean + UCB_FACTOR * std
        return mean + std * self.rng_.standard_normal(len(mean))
