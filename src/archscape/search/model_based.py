"""The skeleton shared by the surrogate-model strategies (BANANAS, GP-BO, predictor search).

``num_init`` random architectures first; then, round after round, a
surrogate is fit on every told value, a pool of unseen candidates is scored
by an acquisition function, and the ``batch_size`` best go into a queue that
:meth:`ask` hands out one at a time.  A new round starts when the queue is
empty, so in a serial run the model is refit exactly when the previous batch
has been fully told; asks that run ahead of tells simply start the round
with what has been told so far.

Failed evaluations (nan) are left out of the training data.  While fewer
than two real values are known there is nothing to learn from, and asks are
random.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from archscape.params import InvalidParameter
from archscape.search.base import Optimizer
from archscape.search.candidates import random_candidates, ranked, single_threaded_blas
from archscape.spaces.base import Genotype

#: told values needed before a model is fit
MIN_POINTS = 2


class QueuedBatches(Optimizer):
    """Random initial design, then a batch from :meth:`_next_batch` whenever the queue of chosen architectures runs dry.

    The shared ask/queue of :class:`BatchedModelSearch` and
    :class:`~archscape.search.predictor_search.PredictorSearch`.
    """

    # set by subclasses' constructors
    num_init: int
    batch_size: int

    def _start_queue(self) -> None:
        #: architectures chosen in the current round, not yet asked
        self.queue_: deque[Genotype] = deque()
        #: rounds in which the surrogate chose a batch
        self.rounds_ = 0

    def _min_told(self) -> int:
        """Told (non-NaN) values needed before the surrogate is fit."""
        return MIN_POINTS

    def _ask(self) -> Genotype:
        while self.queue_:
            genotype = self.queue_.popleft()
            if self.is_new(genotype):
                return genotype
        if len(self.asked_) < self.num_init:
            return self.sample_new()
        told = [(g, v) for g, v in self.history_ if not math.isnan(v)]
        if len(told) < self._min_told():
            return self.sample_new()
        batch = self._next_batch(told)
        if not batch:
            return self.sample_new()  # raises SearchExhausted on an exhausted space
        self.rounds_ += 1
        self.queue_.extend(batch[1:])
        return batch[0]

    def _best_batch(self, candidates: list[Genotype], score: Callable[[list[Genotype]], np.ndarray]) -> list[Genotype]:
        """The ``batch_size`` best candidates by ``score`` (called only when there are more), filled up at random."""
        if len(candidates) > self.batch_size:
            # Stable order: among equal scores the earlier candidate (closer to the best parent) wins.
            order = np.argsort(-score(candidates), kind="stable")[: self.batch_size]
            batch = [candidates[i] for i in order.tolist()]
        else:
            batch = list(candidates)
        if len(batch) < self.batch_size:
            # Too few unseen candidates: fill the batch with random architectures.
            taken = {self.space_.key(g) for g in batch}
            batch += random_candidates(self, self.batch_size - len(batch), exclude=taken)
        return batch

    @abstractmethod
    def _next_batch(self, told: list[tuple[Genotype, float]]) -> list[Genotype]:
        """The next batch, best first, given the told (non-NaN) values."""


class BatchedModelSearch(QueuedBatches):
    """Random initial design, then batches chosen by a surrogate (subclasses: :meth:`_candidates`, :meth:`_scores`)."""

    # set by subclasses' constructors
    encoding: str
    cutoff: int | None

    def requirements(self) -> tuple[str, ...]:
        return ("neighbours", "mutate", "sample", f"encoding:{self.encoding}")

    def _start(self) -> None:
        if self.cutoff is not None and self.encoding != "path":
            raise InvalidParameter(
                f"The 'cutoff' parameter of {type(self).__name__} applies to encoding='path' only. "
                f"Got cutoff={self.cutoff!r} with encoding={self.encoding!r} instead."
            )
        self._start_queue()
        # encodings of told architectures (candidates are encoded afresh: most are never asked)
        self._encoded: dict[Hashable, np.ndarray] = {}

    def _next_batch(self, told: list[tuple[Genotype, float]]) -> list[Genotype]:
        candidates = self._candidates([g for g, _ in ranked(told)])

        def score(cands: list[Genotype]) -> np.ndarray:
            x_train = self._encode_told([g for g, _ in told])
            y_train = np.array([v for _, v in told], dtype=np.float64)
            x_cand = self.encode_many(cands)
            with single_threaded_blas():
                return self._scores(x_train, y_train, x_cand)

        return self._best_batch(candidates, score)

    # ------------------------------------------------------------ encodings
    def _encoding_options(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff} if self.encoding == "path" else {}

    def encode_many(self, genotypes: list[Genotype]) -> np.ndarray:
        """The configured encoding of several architectures, one row each."""
        return np.asarray(self.space_.encode_many(genotypes, self.encoding, **self._encoding_options()), dtype=np.float64)

    def _encode_told(self, genotypes: list[Genotype]) -> np.ndarray:
        key = self.space_.key
        missing = [g for g in genotypes if key(g) not in self._encoded]
        if missing:
            for g, row in zip(missing, self.encode_many(missing)):
                self._encoded[key(g)] = row
        return np.stack([self._encoded[key(g)] for g in genotypes])

    # ------------------------------------------------------------ for subclasses
    @abstractmethod
    def _candidates(self, ranking: list[Genotype]) -> list[Genotype]:
        """Distinct unseen architectures to score, given the told ones best first."""

    @abstractmethod
    def _scores(self, x_train: np.ndarray, y_train: np.ndarray, x_candidates: np.ndarray) -> np.ndarray:
        """Acquisition value of each candidate (higher is better)."""
