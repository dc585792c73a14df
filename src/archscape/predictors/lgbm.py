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

import numpy as np

from archscape.errors import MissingExtra
from archscape.params import Interval, Param
from archscape.predictors.vector import VECTOR_PARAMS, VectorPredictor, seed_from


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
    params = {
        **VECTOR_PARAMS,
        "n_estimators": Param(200, Interval(int, 1, None)),
        "learning_rate": Param(0.05, Interval(float, 0, None, closed="neither")),
        "num_leaves": Param(15, Interval(int, 2, None)),
        "min_child_samples": Param(3, Interval(int, 1, None)),
        "subsample": Param(0.8, Interval(float, 0, 1, closed="right")),
        "colsample_bytree": Param(0.9, Interval(float, 0, 1, closed="right")),
    }

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
