"""``pca``: principal components of the decision space and of the whole design.

For the covariance (``cov``) and correlation (``cor``) matrix of ``X`` (``_x``)
and of ``[X, y]`` (``_init``):

* ``expl_var.*``: the smallest number of components that explain at least
  ``prop`` (0.9) of the variance, divided by the number of columns;
* ``expl_var_PC1.*``: the share of the variance that the first component explains.

Sample covariances (``ddof=1``); eigenvalues from ``numpy.linalg.eigvalsh``.
Deterministic.  (pflacco takes ``expl_var_PC1`` from scikit-learn's
``PCA(n_components=2)``, whose automatic solver is an unseeded *randomized*
SVD when the sample has more than 500 rows and at least 3 columns; there its
values are approximations of the exact ones computed here.)
"""

from __future__ import annotations

import numpy as np

NAMES = (
    "pca.expl_var.cov_x",
    "pca.expl_var.cor_x",
    "pca.expl_var.cov_init",
    "pca.expl_var.cor_init",
    "pca.expl_var_PC1.cov_x",
    "pca.expl_var_PC1.cor_x",
    "pca.expl_var_PC1.cov_init",
    "pca.expl_var_PC1.cor_init",
)


def _pc(M: np.ndarray, prop: float) -> tuple[float, float]:
    C = np.atleast_2d(np.cov(M, rowvar=False, ddof=1))
    ev = np.sort(np.linalg.eigvalsh(C))[::-1]
    share = np.cumsum(ev) / ev.sum()
    k = int(np.argmax(share >= prop)) + 1 if np.any(share >= prop) else len(ev)
    return k / M.shape[1], float(ev[0] / np.trace(C))


def _standardise(M: np.ndarray) -> np.ndarray:
    sd = M.std(axis=0, ddof=1)
    sd = np.where(sd == 0, 1.0, sd)
    return (M - M.mean(axis=0)) / sd


def pca(
    X: np.ndarray,
    y: np.ndarray,
    prop_cov_x: float = 0.9,
    prop_cor_x: float = 0.9,
    prop_cov_init: float = 0.9,
    prop_cor_init: float = 0.9,
) -> dict[str, float]:
    """The eight PCA features (see the module docstring)."""
    init = np.column_stack([X, y])
    cov_x, pc1_cov_x = _pc(X, prop_cov_x)
    cor_x, pc1_cor_x = _pc(_standardise(X), prop_cor_x)
    cov_init, pc1_cov_init = _pc(init, prop_cov_init)
    cor_init, pc1_cor_init = _pc(_standardise(init), prop_cor_init)
    return {
        "pca.expl_var.cov_x": cov_x,
        "pca.expl_var.cor_x": cor_x,
        "pca.expl_var.cov_init": cov_init,
        "pca.expl_var.cor_init": cor_init,
        "pca.expl_var_PC1.cov_x": pc1_cov_x,
        "pca.expl_var_PC1.cor_x": pc1_cor_x,
        "pca.expl_var_PC1.cov_init": pc1_cov_init,
        "pca.expl_var_PC1.cor_init": pc1_cor_init,
    }
