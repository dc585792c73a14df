"""Acquisition functions: how a predictor search turns a prediction into a score to maximise.

``mean`` (the predicted value), ``ucb`` (``mean + kappa * std``), ``ei``
(expected improvement over the incumbent) and ``its`` (independent Thompson
sampling: one draw from ``N(mean, std)`` per candidate).  Predictor search
computes them in the predictor's training units
(:meth:`archscape.predictors.base.Predictor.predict_latent`), where its
Gaussian uncertainty holds.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

ACQUISITIONS = ("mean", "ucb", "ei", "its")


def expected_improvement(mean: np.ndarray, std: np.ndarray, incumbent: float) -> np.ndarray:
    """E[max(f - incumbent, 0)] for f ~ N(mean, std^2) (maximisation)."""
    gap = mean - incumbent
    safe = np.where(std > 0, std, 1.0)
    z = gap / safe
    ei = gap * ndtr(z) + safe * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return np.where(std > 0, ei, np.maximum(gap, 0.0))


def acquisition_values(
    kind: str,
    mean: np.ndarray,
    std: np.ndarray | None,
    *,
    incumbent: float,
    kappa: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """The acquisition ``kind`` (one of :data:`ACQUISITIONS`) of each candidate; higher is better.

    ``std`` may be ``None`` for ``mean``; ``its`` draws one normal number per candidate from ``rng``.
    """
    mean = np.asarray(mean, dtype=np.float64)
    if kind == "mean":
        return mean
    std = np.maximum(np.asarray(std, dtype=np.float64), 0.0)
    if kind == "ucb":
        return mean + kappa * std
    if kind == "ei":
        return expected_improvement(mean, std, incumbent)
    if kind == "its":
        return mean + std * rng.standard_normal(len(mean))
    raise ValueError(f"unknown acquisition {kind!r}")


__all__ = ["ACQUISITIONS", "acquisition_values", "expected_improvement"]
