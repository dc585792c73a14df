"""``mlp``: the BANANAS ensemble of MLPs as a predictor (White et al., AAAI 2021).

The same network and training as the ``bananas`` optimizer
(:class:`archscape.search.mlp.EnsembleMLP`: ``num_ensemble`` members of
``num_layers`` x ``layer_width`` ReLU units, mean absolute error, Adam,
full-batch by default; targets standardised); the mean and standard
deviation are over the members.  ``encoding="auto"`` reads the path
encoding where the space has a compact one (BANANAS' choice), else one-hot.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from archscape.predictors.vector import VECTOR_CONSTRAINTS, VectorPredictor
from archscape.search.mlp import ENSEMBLE_CONSTRAINTS, EnsembleMLP


class MLPPredictor(VectorPredictor):
    """An ensemble of MLPs on an encoding; std over the members."""

    name = "mlp"
    has_std = True
    _parameter_constraints: ClassVar[dict[str, list]] = {
        **VECTOR_CONSTRAINTS,
        **ENSEMBLE_CONSTRAINTS,
    }

    def __init__(
        self,
        encoding: str = "auto",
        cutoff: int | None = None,
        target: str = "values",
        num_ensemble: int = 5,
        num_layers: int = 10,
        layer_width: int = 20,
        epochs: int = 150,
        learning_rate: float = 0.01,
        fit_batch_size: int | None = None,
    ) -> None:
        self.encoding = encoding
        self.cutoff = cutoff
        self.target = target
        self.num_ensemble = num_ensemble
        self.num_layers = num_layers
        self.layer_width = layer_width
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.fit_batch_size = fit_batch_size

    def _fit_rows(self, x: np.ndarray, z: np.ndarray) -> None:
        self.net_ = EnsembleMLP(self.num_ensemble, x.shape[1], self.num_layers, self.layer_width, self.rng_)
        self.net_.fit(x, z, self.rng_, epochs=self.epochs, learning_rate=self.learning_rate, batch_size=self.fit_batch_size)

    def _predict_rows(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        members = self.net_.predict(x).astype(np.float64)
        return members.mean(axis=0), members.std(axis=0)


__all__ = ["MLPPredictor"]
