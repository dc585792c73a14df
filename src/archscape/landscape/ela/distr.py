"""``ela_distr``: the distribution of the objective values alone.

* ``skewness`` and ``kurtosis`` of type 3 by default (e1071's types: 1 the
  moment ratios ``g1``/``g2``, 2 the SAS/SPSS corrections, 3 ``b1``/``b2`` of
  MINITAB), as flacco and pflacco default to;
* ``number_of_peaks``: pflacco's rule on a Gaussian kernel density estimate
  with Scott's bandwidth, evaluated on 512 equally spaced points from
  ``min(y) - 3 h sd(y)`` to ``max(y) + 3 h sd(y)`` (``h`` the bandwidth factor):
  the curve is split at its strict local minima and a segment counts as a peak
  when ``mean(density over the segment) + segment width > 0.1``.  (That sum is
  pflacco's; flacco multiplies density by width and uses a 0.01 threshold on a
  Sheather-Jones density, so this one feature is pflacco's, not flacco's.)

Deterministic.
"""

from __future__ import annotations

import itertools

import numpy as np

from archscape.errors import ArchscapeError

NAMES = ("ela_distr.skewness", "ela_distr.kurtosis", "ela_distr.number_of_peaks")


def _kde(y: np.ndarray, points: np.ndarray, factor: float) -> np.ndarray:
    var = float(np.var(y, ddof=1)) * factor**2
    z = (points[:, None] - y[None, :]) ** 2 / var
    return np.exp(-0.5 * z).sum(axis=1) / (len(y) * np.sqrt(2 * np.pi * var))


def number_of_peaks(y: np.ndarray) -> int:
    n = len(y)
    factor = n ** (-1.0 / 5.0)
    sd = float(np.std(y, ddof=1))
    if sd == 0.0:
        return 1
    low = y.min() - 3 * factor * sd
    upp = y.max() + 3 * factor * sd
    pos = np.linspace(low, upp, 512)
    dens = _kde(y, pos, factor)
    m = len(dens)
    inner = np.arange(1, m - 2)
    minima = inner[(dens[inner] < dens[inner - 1]) & (dens[inner] < dens[inner + 1])]
    cuts = np.concatenate([[0], minima, [m]])
    peaks = 0
    for a, b_next in itertools.pairwise(cuts):
        b = int(b_next) - 1
        seg = dens[int(a) : b]
        if seg.size == 0:
            continue  # pflacco: the mean of an empty segment is NaN, never a peak
        if seg.mean() + abs(pos[int(a)] - pos[b]) > 0.1:
            peaks += 1
    return peaks


def ela_distr(X: np.ndarray, y: np.ndarray, skewness_type: int = 3, kurtosis_type: int = 3) -> dict[str, float]:
    """Skewness, kurtosis and number of peaks of ``y`` (see the module docstring)."""
    if skewness_type not in (1, 2, 3) or kurtosis_type not in (1, 2, 3):
        raise ArchscapeError(f"skewness_type and kurtosis_type must be 1, 2 or 3; got {skewness_type}, {kurtosis_type}")
    n = len(y)
    c = y - y.mean()
    m2 = np.sum(c**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        g1 = np.sqrt(n) * np.sum(c**3) / m2**1.5
        if skewness_type == 2:
            g1 = g1 * np.sqrt(n * (n - 1)) / (n - 2)
        elif skewness_type == 3:
            g1 = g1 * (1 - 1 / n) ** 1.5
        r = n * np.sum(c**4) / m2**2
    if kurtosis_type == 1:
        g2 = r - 3
    elif kurtosis_type == 2:
        g2 = ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    else:
        g2 = r * (1 - 1 / n) ** 2 - 3
    return {
        "ela_distr.skewness": float(g1),
        "ela_distr.kurtosis": float(g2),
        "ela_distr.number_of_peaks": float(number_of_peaks(y)),
    }
