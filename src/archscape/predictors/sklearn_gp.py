"""A scikit-learn Gaussian process: the library-backed surrogate of NAGO's BO and of the ``gp`` predictor's ``backend="sklearn"``.

Constant x Matern 5/2 (one length scale, or one per input dimension with
``ard``) plus white noise; hyper-parameters by marginal likelihood with
``GP_RESTARTS`` random restarts seeded by the caller, targets normalised.
BLAS runs single-threaded during fit and predict: the matrices are small, and
threads only contend with the runner's worker processes.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from archscape.util import single_threaded_blas

#: random restarts of the marginal-likelihood optimisation, besides the start from the given kernel
GP_RESTARTS = 1


def fit_gp(x: np.ndarray, y: np.ndarray, *, ard: bool, seed: int, kernel: Any = None) -> Any:
    """A fitted ``GaussianProcessRegressor``, optimised from ``kernel`` if given (e.g. the last fit's)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    if kernel is None:
        length = np.full(x.shape[1], 0.5) if ard else 1.0
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=length, length_scale_bounds=(1e-2, 1e2), nu=2.5
        ) + WhiteKernel(1e-2, (1e-6, 1.0))
    gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=GP_RESTARTS, random_state=seed)
    with warnings.catch_warnings(), single_threaded_blas():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x, y)
    return gp


def predict(gp: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation at ``x``."""
    with single_threaded_blas():
        mean, std = gp.predict(x, return_std=True)
    return np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)


__all__ = ["GP_RESTARTS", "fit_gp", "predict"]
