"""What a predictor is trained on: the values standardised, or their normal scores.

NAS tables have a long tail of broken networks (NB201 CIFAR-10: most cells
near 85-91 %, some at 10 %).  A squared-error model spends itself on that
tail; the normal scores (ranks mapped through the inverse normal
distribution function, :func:`normal_scores`) keep the
order and drop the tail.  A predictor must still answer in the units of the
values (a search compares the predicted mean with its best told value), so
:class:`TargetMap` maps predictions back: the mean through the increasing
piecewise-linear map from the training points' scores to their values
(extended linearly past the ends), the standard deviation as half the width
of the image of ``mean +- std``.  The map is strictly increasing, so the
ranking of the predicted means is exactly that of the scores.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

from archscape.predictors.base import standardise

#: the ``target`` options of the predictors
TARGETS = ("values", "normal_scores")


def normal_scores(values: np.ndarray) -> np.ndarray:
    """Ranks of ``values`` (ties averaged) mapped to standard normal quantiles."""
    n = len(values)
    return ndtri((rankdata(values) - 0.5) / n)


class TargetMap:
    """Forward (values -> training targets) and back (predictions -> values) for one fit."""

    def __init__(self, kind: str, y: np.ndarray) -> None:
        y = np.asarray(y, dtype=np.float64)
        self.kind = kind
        if kind == "values":
            self.z, self._centre, self._scale = standardise(y)
            return
        z = normal_scores(y)
        self.z = z
        # Equal values share a score (ties are averaged), so unique values give the knots.
        values, first = np.unique(y, return_index=True)
        self._knots = z[first]
        self._values = values

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Values for training-target predictions ``z``."""
        z = np.asarray(z, dtype=np.float64)
        if self.kind == "values":
            return z * self._scale + self._centre
        s, v = self._knots, self._values
        if s.size == 1:
            return np.full(z.shape, v[0])
        out = np.interp(z, s, v)
        # Linear beyond the ends, so a candidate predicted above every training point stays above them.
        low, high = z < s[0], z > s[-1]
        out[low] = v[0] + (z[low] - s[0]) * (v[1] - v[0]) / (s[1] - s[0])
        out[high] = v[-1] + (z[high] - s[-1]) * (v[-1] - v[-2]) / (s[-1] - s[-2])
        return out

    def inverse_std(self, z_mean: np.ndarray, z_std: np.ndarray) -> np.ndarray:
        """Standard deviations in value units for ``z_mean +- z_std``."""
        z_std = np.maximum(np.asarray(z_std, dtype=np.float64), 0.0)
        if self.kind == "values":
            return z_std * self._scale
        return 0.5 * (self.inverse(z_mean + z_std) - self.inverse(z_mean - z_std))


__all__ = ["TARGETS", "TargetMap", "normal_scores"]
