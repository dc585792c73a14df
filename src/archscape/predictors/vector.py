"""The shared part of the predictors that read a vector encoding (mlp, gp, rf, lgbm).

Each takes ``encoding`` (one of the space's encodings, or ``"auto"``),
``cutoff`` (the path encoding's truncation) and ``target`` (train on the
standardised values or on their normal scores, :mod:`archscape.predictors.targets`).

Defaults measured on NB201 CIFAR-10 (Spearman's rho on 1,000 held-out
cells): normal scores helped the GP (+0.15 at 100-500 points), the forest
(+0.08 at 100) and LightGBM (+0.17 at 100), so they train on them; the MLP
gained 0.01 and keeps BANANAS' standardised values.

``encoding="auto"`` picks the first of the class's :attr:`VectorPredictor.auto_encodings`
that the space offers.  The path encoding counts only where its whole length
is at most :data:`AUTO_MAX_PATH_FEATURES` (NB201: 84, NB101: 364) or a
``cutoff`` is given: DARTS' 11,200 path features would make 10^5 candidates a
9 GB matrix, so there ``auto`` reads the one-hot encoding (224 features) and
``encoding="path", cutoff=224`` (its paths of length <= 2) is the compact path alternative.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from archscape.errors import UnsupportedOperation
from archscape.params import Interval, InvalidParameter, Is, Options, Param
from archscape.predictors.base import Prediction, Predictor
from archscape.predictors.targets import TARGETS, TargetMap
from archscape.spaces.base import ENCODINGS, Genotype, SearchSpace
from archscape.util import single_threaded_blas

#: rows scored per call of the model when predicting
PREDICT_CHUNK = 4096
#: the longest path encoding that ``encoding="auto"`` reads whole
AUTO_MAX_PATH_FEATURES = 1_000

#: the parameters every vector predictor has (a class merges them first, changing a default with ``with_default``)
VECTOR_PARAMS: dict[str, Param] = {
    "encoding": Param("auto", Options(("auto", *ENCODINGS))),
    "cutoff": Param(None, Interval(int, 1, None), Is(type(None))),
    "target": Param("normal_scores", Options(TARGETS)),
}


class VectorPredictor(Predictor):
    """A predictor on the rows of :meth:`Predictor.encode`; subclasses fill ``_fit_rows``/``_predict_rows``."""

    #: what ``encoding="auto"`` tries, in order (the path encoding ranked best on NB201 for every predictor here)
    auto_encodings: ClassVar[tuple[str, ...]] = ("path", "onehot")
    # declared by subclasses (from VECTOR_PARAMS)
    cutoff: int | None
    target: str

    def requirements(self) -> tuple[str, ...]:
        # "auto" needs one of several encodings; choose_encoding says which are missing.
        return () if self.encoding == "auto" else super().requirements()

    def choose_encoding(self, space: SearchSpace) -> str:
        if self.encoding != "auto":
            return self.encoding
        for enc in self.auto_encodings:
            if enc not in space.encodings:
                continue
            if enc == "path" and self.cutoff is None and space.encoding_size("path") > AUTO_MAX_PATH_FEATURES:
                continue
            return enc
        raise UnsupportedOperation(
            f"{type(self).__name__} with encoding='auto' needs one of the encodings {', '.join(self.auto_encodings)}, "
            f"which search space {space.name!r} does not offer (it offers: {', '.join(space.encodings)})"
        )

    def _start(self) -> None:
        if self.cutoff is not None and self.encoding not in ("path", "auto"):
            raise InvalidParameter(
                f"The 'cutoff' parameter of {type(self).__name__} applies to encoding='path' only. "
                f"Got cutoff={self.cutoff!r} with encoding={self.encoding!r} instead."
            )

    # ------------------------------------------------------------ fit / predict
    def _fit(self, genotypes: list[Genotype], y: np.ndarray) -> None:
        self.targets_ = TargetMap(self.target, y)
        x = self.encode(genotypes)
        with single_threaded_blas():
            self._fit_rows(x, self.targets_.z)

    def _predict_latent(self, genotypes: list[Genotype]) -> Prediction:
        x = self.encode(genotypes)
        means, stds = [], []
        with single_threaded_blas():
            # In blocks: a GP's 10^5 x n cross-covariances or an MLP's activations stay in cache
            # (a GP scoring 10^5 DARTS candidates was 2.6x faster so).
            for start in range(0, len(x), PREDICT_CHUNK):
                mean, std = self._predict_rows(x[start : start + PREDICT_CHUNK])
                means.append(mean)
                stds.append(std)
        return Prediction(np.concatenate(means), None if stds[0] is None else np.concatenate(stds))

    def _latent_best(self) -> float:
        return float(self.targets_.z.max())

    def _predict(self, genotypes: list[Genotype]) -> Prediction:
        mean, std = self._predict_latent(genotypes)
        values = self.targets_.inverse(mean)
        if std is None:
            return Prediction(values, None)
        return Prediction(values, self.targets_.inverse_std(mean, std))

    @abstractmethod
    def _fit_rows(self, x: np.ndarray, z: np.ndarray) -> None:
        """Fit on feature rows ``x`` and training targets ``z``."""

    @abstractmethod
    def _predict_rows(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Mean and (``has_std``) standard deviation of the training targets at rows ``x``."""


def seed_from(rng: np.random.Generator) -> int:
    """A seed for a library that takes an int (scikit-learn, LightGBM, torch), drawn from ``rng``."""
    return int(rng.integers(2**31 - 1))


__all__ = ["AUTO_MAX_PATH_FEATURES", "PREDICT_CHUNK", "VECTOR_PARAMS", "VectorPredictor", "seed_from"]
