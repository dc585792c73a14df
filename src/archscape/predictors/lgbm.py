"""``lgbm``: LightGBM gradient-boosted trees on an encoding (extra ``predictors``).

No standard deviation: boosting gives one model, not a sample of them, and
quantile objectives would need two more models per fit for a band whose
coverage nothing here checks.  LightGBM's default of 20 points per leaf
would leave a tree of one leaf on the small training sets of a search (10 to
50 points), so leaves here may hold ``min_child_samples`` (default 3).  One
thread (``n_jobs=1``) and ``deterministic=True``: the same seed gives the same model.
LightGBM is imported at :meth:`setup`, so the registry lists ``lgbm`` without it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from archscape.errors import MissingExtra
from archscape.params import Interval
from archscape.predictors.vector import VECTOR_CONSTRAINTS, VectorPredictor, seed_from


def require_lightgbm():
    """Import and return lightgbm, or raise one line naming the extra to install."""
    try:
        import lightgbm
    except ImportError:
        raise MissingExtra("the lgbm predictor needs LightGBM: pip install 'archscape[predictors]'") from None
    return lightgbm


class LGBMPredictor(VectorPredictor):
    """Gradient-boosted trees (LightGBM) on an encoding; no std."""

    name = "lgbm"
    has_std = False
    _parameter_constraints: ClassVar[dict[str, list]] = {
        **VECTOR_CONSTRAINTS,
        "n_estimators": [Interval(int, 1, None)],
        "learning_rate": [Interval(float, 0, None, closed="neither")],
        "num_leaves": [Interval(int, 2, None)],
        "min_child_samples": [Interval(int, 1, None)],
        "subsample": [Interval(float, 0, 1, closed="right")],
        "colsample_bytree": [Interval(float, 0, 1, closed="right")],
    }

    def __init__(
        self,
        encoding: str = "auto",
        cutoff: int | None = None,
        target: str = "normal_scores",
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 3,
        subsample: float = 0.8,
        colsample_bytree: float = 0.9,
    ) -> None:
        self.encoding = encoding
        self.cutoff = cutoff
        self.target = target
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree

    def _start(self) -> None:
        super()._start()
        require_lightgbm()

    def _fit_rows(self, x: np.ndarray, z: np.ndarray) -> None:
        lightgbm = require_lightgbm()
        self.model_ = lightgbm.LGBMRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0,
            colsample_bytree=self.colsample_bytree,
            random_state=seed_from(self.rng_),
            n_jobs=1,
            deterministic=True,
            verbose=-1,
        ).fit(x, z)

    def _predict_rows(self, x: np.ndarray) -> tuple[np.ndarray, None]:
        return np.asarray(self.model_.predict(x), dtype=np.float64), None


__all__ = ["LGBMPredictor", "require_lightgbm"]
