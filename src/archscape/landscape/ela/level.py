"""``ela_level``: how well level sets of ``y`` can be told apart by LDA and QDA.

For each quantile ``q`` in ``quantiles`` (default 0.10, 0.25, 0.50), the
sample is split into ``y < quantile(y, q)`` and the rest; linear and quadratic
discriminant analysis are cross-validated with ``resample_iterations``
(default 10) stratified folds, and the mean misclassification error over the
folds (``mmce_lda_10``, ``mmce_qda_10``, ...) and their ratio (``lda_qda_10``)
are reported.  flacco's third classifier, mixture discriminant analysis, is
left out, as pflacco leaves it out.

**Folds.**  pflacco uses unshuffled stratified folds (scikit-learn's
``StratifiedKFold`` without shuffling), so its features are deterministic; that
is the default here too (``shuffle=False``).  flacco draws random CV folds; with
``shuffle=True`` the folds are shuffled within each class from ``seed``, and
the features become random (the same seed gives the same value).

The classifiers are written here with numpy and follow scikit-learn's
definitions (which pflacco calls): LDA with the pooled within-class covariance
``sum (x - mu_k)(x - mu_k)^T / (n - K)``, whitened through an SVD of the
per-feature-scaled centred data and cut at relative singular value ``1e-4``;
QDA with each class's covariance ``/(n_k - 1)`` from an SVD of its centred
rows (singular values below ``1e-4`` only warn there, and so they are kept
here), priors from the training class frequencies, ties to the first class.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold

from archscape.errors import ArchscapeError

DEFAULT_QUANTILES = (0.10, 0.25, 0.50)


def names(quantiles=DEFAULT_QUANTILES) -> tuple[str, ...]:
    out = []
    for q in quantiles:
        tag = f"{q * 100:.0f}"
        out += [f"ela_level.mmce_lda_{tag}", f"ela_level.mmce_qda_{tag}", f"ela_level.lda_qda_{tag}"]
    return tuple(out)


NAMES = names()


def _lda_predict(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    n = len(ytr)
    cls = [ytr == 0, ytr == 1]
    means = np.stack([Xtr[c].mean(axis=0) for c in cls])
    priors = np.array([c.sum() for c in cls], dtype=float) / n
    centred = Xtr - means[ytr.astype(int)]
    std = centred.std(axis=0)
    std[std == 0] = 1.0
    _, s, vt = np.linalg.svd(np.sqrt(1.0 / (n - 2)) * (centred / std), full_matrices=False)
    rank = int(np.sum(s > tol * s[0]))
    scal = (vt[:rank] / std).T / s[:rank]  # whitening map
    zm = means @ scal
    zt = Xte @ scal
    # scores -0.5 |z - m_k|^2 + log prior_k; the |z|^2 term is common to both classes
    score = zt @ zm.T - 0.5 * np.sum(zm**2, axis=1) + np.log(priors)
    return (score[:, 1] - score[:, 0] > 0).astype(int)


def _qda_predict(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray) -> np.ndarray:
    n = len(ytr)
    scores = []
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for k in (0, 1):
            Xk = Xtr[ytr == k]
            if len(Xk) < 2:
                raise ArchscapeError("ela_level: a level set has fewer than 2 training points in a fold; use fewer resample_iterations")
            mu = Xk.mean(axis=0)
            _, s, vt = np.linalg.svd(Xk - mu, full_matrices=False)
            s2 = s**2 / (len(Xk) - 1)
            z = (Xte - mu) @ (vt.T * s2**-0.5)
            scores.append(-0.5 * (np.sum(z**2, axis=1) + np.sum(np.log(s2))) + np.log(len(Xk) / n))
    return (scores[1] > scores[0]).astype(int)


def ela_level(
    X: np.ndarray,
    y: np.ndarray,
    quantiles=DEFAULT_QUANTILES,
    resample_iterations: int = 10,
    shuffle: bool = False,
    seed: int | None = 0,
) -> dict[str, float]:
    """mmce of LDA and QDA per quantile and their ratio (see the module docstring)."""
    if resample_iterations < 2:
        raise ArchscapeError(f"ela_level resample_iterations must be an integer >= 2; got {resample_iterations}")
    out: dict[str, float] = {}
    for q in quantiles:
        if not 0 < q < 1:
            raise ArchscapeError(f"ela_level quantiles must lie in (0, 1); got {q}")
        cls = (y < np.quantile(y, q)).astype(int)
        small = min(int(cls.sum()), int(len(cls) - cls.sum()))
        if small < resample_iterations:
            raise ArchscapeError(
                f"ela_level: quantile {q} leaves {small} observations in one level set, fewer than the "
                f"{resample_iterations} folds (ties in y?); lower resample_iterations or drop ela_level"
            )
        folds = StratifiedKFold(
            n_splits=resample_iterations, shuffle=shuffle, random_state=seed if shuffle else None
        ).split(X, cls)
        lda_err, qda_err = [], []
        for tr, te in folds:
            lda_err.append(np.mean(_lda_predict(X[tr], cls[tr], X[te]) != cls[te]))
            qda_err.append(np.mean(_qda_predict(X[tr], cls[tr], X[te]) != cls[te]))
        tag = f"{q * 100:.0f}"
        lda, qda = float(np.mean(lda_err)), float(np.mean(qda_err))
        out[f"ela_level.mmce_lda_{tag}"] = lda
        out[f"ela_level.mmce_qda_{tag}"] = qda
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"ela_level.lda_qda_{tag}"] = float(np.float64(lda) / np.float64(qda))
    return out
