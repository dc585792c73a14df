"""The predictor interface: fit on architectures and values, predict a mean (and an uncertainty).

A predictor (a surrogate model of a search space) is used by predictor-based
search and by ``archscape predictors eval``.  Like an optimizer it is
configured by hyper-parameters declared once in ``params``
(:class:`~archscape.params.Configurable`), which the constructor only stores
and :meth:`Predictor.setup` validates when it binds the predictor to a space
and a random generator; it never touches a benchmark.

* :meth:`Predictor.fit` ``(genotypes, values)``: failed evaluations (NaN) are
  left out; refitting replaces the previous model;
* :meth:`Predictor.predict` ``(genotypes)`` -> :class:`Prediction`: the mean
  and, where the model has one, a standard deviation (``None`` otherwise);
* :meth:`Predictor.predict_latent` and :meth:`Predictor.latent_best`: the same
  in the units the model was trained in (a monotone map of the values, e.g.
  their normal scores), where its Gaussian uncertainty holds: acquisitions
  (EI, UCB, Thompson) are computed there;
* :meth:`Predictor.encode` gives the feature rows of genotypes in the
  predictor's ``encoding`` (vector predictors), cached per genotype,
  so scoring the same candidate pool again costs nothing.

Every random number comes from the generator given to :meth:`setup`, so a
fit is reproducible.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from archscape.errors import ArchscapeError
from archscape.params import Configurable
from archscape.spaces.base import Genotype, SearchSpace, check_space_offers

#: bytes of encoding rows kept per predictor (NB201's 15,625 one-hot rows are 3.8 MB; a DARTS
#: path row alone is 90 kB, so the limit is on memory, not rows); more are encoded afresh
ENCODING_CACHE_BYTES = 512 * 2**20


class Prediction(NamedTuple):
    """Predicted mean per architecture and, where the model has one, its standard deviation."""

    mean: np.ndarray
    std: np.ndarray | None = None


class Predictor(Configurable, ABC):
    """Abstract predictor; subclasses set :attr:`name`, their ``params`` and ``_fit``/``_predict``."""

    #: registry name, e.g. ``"rf"``
    name: ClassVar[str] = ""
    #: whether :meth:`predict` gives a standard deviation
    has_std: ClassVar[bool] = False
    #: the fewest (non-NaN) points a fit accepts
    min_points: ClassVar[int] = 2
    #: set by constructors: the encoding read (vector predictors); see :meth:`choose_encoding`
    encoding: str

    def requirements(self) -> tuple[str, ...]:
        """What the space must offer (default: the configured encoding)."""
        return (f"encoding:{self.encoding}",)

    # ------------------------------------------------------------ life cycle
    def setup(self, space: SearchSpace, rng: np.random.Generator) -> Predictor:
        """Validate parameters, check the space, bind the generator; returns ``self``."""
        self.validate_params()
        self.encoding_ = self.choose_encoding(space)
        check_space_offers(space, self.requirements(), type(self).__name__)
        self.space_ = space
        self.rng_ = rng
        self._rows: dict[Hashable, np.ndarray] = {}
        self.fitted_ = False
        self._start()
        return self

    def _start(self) -> None:
        """Hook: check parameters against the space."""

    def choose_encoding(self, space: SearchSpace) -> str | None:
        """The encoding :meth:`encode` reads on ``space`` (kept as ``encoding_``): default ``encoding``.

        A subclass may choose by space, e.g. for ``encoding="auto"``; the
        constructor argument itself stays as given, so ``get_params`` round-trips.
        """
        return getattr(self, "encoding", None)

    def fit(self, genotypes: Sequence[Genotype], values: Sequence[float]) -> Predictor:
        """Fit on ``genotypes`` and their ``values`` (NaN ones are left out)."""
        self._check_setup()
        y = np.asarray(values, dtype=np.float64)
        if len(genotypes) != y.shape[0]:
            raise ArchscapeError(f"{len(genotypes)} architectures but {y.shape[0]} values to fit {type(self).__name__}")
        keep = np.isfinite(y)
        if int(keep.sum()) < self.min_points:
            raise ArchscapeError(f"{type(self).__name__} needs at least {self.min_points} finite values to fit; "
                                 f"got {int(keep.sum())}")
        kept = [g for g, k in zip(genotypes, keep.tolist()) if k]
        self._fit(kept, y[keep])
        self.best_value_ = float(y[keep].max())
        self.fitted_ = True
        return self

    def predict(self, genotypes: Sequence[Genotype]) -> Prediction:
        """The prediction for each architecture (in order)."""
        self._check_fitted()
        if len(genotypes) == 0:
            return self._empty()
        return self._predict(list(genotypes))

    def predict_latent(self, genotypes: Sequence[Genotype]) -> Prediction:
        """The prediction in the model's training units (increasing in the values).

        A model trained on transformed values (normal scores, say) has its
        Gaussian uncertainty in those units; mapped back to values a standard
        deviation is stretched wherever the values are sparse (NB201's tail of
        10% cells), and an expected improvement computed there chases that
        tail.  Default: the values themselves.
        """
        self._check_fitted()
        if len(genotypes) == 0:
            return self._empty()
        return self._predict_latent(list(genotypes))

    def latent_best(self) -> float:
        """The best fitted value in the units of :meth:`predict_latent`."""
        self._check_fitted()
        return self._latent_best()

    # ------------------------------------------------------------ encodings
    def encode(self, genotypes: Sequence[Genotype]) -> np.ndarray:
        """Feature rows (float64, read-only) of ``genotypes`` in the predictor's encoding, cached per genotype.

        The cache is keyed by the genotype itself (its hash), not by
        ``space.key``: on DARTS computing the key validates the genotype, which
        for a pool of 10^5 fresh candidates cost more than the model's
        prediction.  Equivalent genotypes written differently just take two
        rows.  When none is cached (a fresh pool), the encoded block is
        returned as it is instead of being restacked row by row.
        """
        keys = [_cache_key(self.space_, g) for g in genotypes]
        cache = self._rows
        missing = [i for i, k in enumerate(keys) if k not in cache]
        if not missing:
            return np.stack([cache[k] for k in keys]) if keys else np.zeros((0, 0))
        fresh = np.asarray(self.space_.encode_many([genotypes[i] for i in missing], self.encoding_, **self._encoding_options()),
                           dtype=np.float64)
        fresh.flags.writeable = False  # the cache holds views of it
        fresh_keys = [keys[i] for i in missing]
        if (len(cache) + len(missing)) * fresh.shape[1] * fresh.itemsize <= ENCODING_CACHE_BYTES:
            cache.update(zip(fresh_keys, fresh))
        if len(missing) == len(keys):
            return fresh
        new = dict(zip(fresh_keys, fresh))
        return np.stack([cache[k] if k in cache else new[k] for k in keys])

    def _encoding_options(self) -> dict[str, Any]:
        cutoff = getattr(self, "cutoff", None)
        return {"cutoff": cutoff} if self.encoding_ == "path" and cutoff is not None else {}

    # ------------------------------------------------------------ for subclasses
    @abstractmethod
    def _fit(self, genotypes: list[Genotype], y: np.ndarray) -> None:
        """Fit on finite values."""

    @abstractmethod
    def _predict(self, genotypes: list[Genotype]) -> Prediction:
        """Predict for a non-empty list."""

    def _predict_latent(self, genotypes: list[Genotype]) -> Prediction:
        """Hook: the prediction in training units (default: in values)."""
        return self._predict(genotypes)

    def _latent_best(self) -> float:
        """Hook: the best fitted value in training units (default: in values)."""
        return self.best_value_

    def _empty(self) -> Prediction:
        return Prediction(np.zeros(0), np.zeros(0) if self.has_std else None)

    def _check_fitted(self) -> None:
        self._check_setup()
        if not self.fitted_:
            raise ArchscapeError(f"{type(self).__name__} predicts after fit(); it has not been fitted")

    def _check_setup(self) -> None:
        if not hasattr(self, "space_"):
            raise ArchscapeError(f"{type(self).__name__} must be set up with a space first: predictor.setup(space, rng)")


def _cache_key(space: SearchSpace, genotype: Genotype) -> Hashable:
    try:
        hash(genotype)
    except TypeError:  # e.g. a list: the space's key of the architecture
        return space.key(genotype)
    return genotype


def standardise(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(y - mean) / sd`` and the two numbers (sd 1 for constant targets)."""
    mean = float(np.mean(y))
    sd = float(np.std(y))
    sd = sd if sd > 0 and math.isfinite(sd) else 1.0
    return (y - mean) / sd, mean, sd


__all__ = ["ENCODING_CACHE_BYTES", "Prediction", "Predictor", "standardise"]
