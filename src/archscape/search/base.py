"""The optimizer interface: ask/tell, no I/O.

An optimizer knows strategy only.  It never sees the benchmark, the store or
the clock: the runner asks it for the next architecture, evaluates it, and
tells it the value.  So the runner decides budgets, parallelism and
persistence, and an optimizer is resumed by *replaying* its told results: a
fresh optimizer with the same generator, asked and told the same values,
reaches the same state (every optimizer must be deterministic given its
generator and what it was told).

Conventions
-----------
* Values are maximised (accuracies).  A failed evaluation is told as
  ``float('nan')``; optimizers treat it as worse than anything else.
* ``ask()`` never returns an architecture already asked (compared by
  ``space.key``); when a finite space is exhausted it raises
  :class:`SearchExhausted`.
* Hyper-parameters are declared once, in ``params``
  (:class:`~archscape.params.Configurable`); the generated constructor only
  stores them, and :meth:`Optimizer.setup` validates them, checks
  that the space offers what the strategy needs, and binds the generator.
  State learned during the search ends in ``_``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Hashable
from typing import ClassVar

import numpy as np

from archscape.errors import ArchscapeError
from archscape.params import Configurable
from archscape.spaces.base import Genotype, SearchSpace, check_space_offers


class SearchExhausted(ArchscapeError):
    """Every architecture of a finite space has been asked."""


class Optimizer(Configurable, ABC):
    """Abstract ask/tell search strategy."""

    #: registry name, e.g. ``"local"``
    name: ClassVar[str] = ""
    #: what the space must offer: "neighbours", "mutate", "encoding:<name>"
    requires: ClassVar[tuple[str, ...]] = ()

    def requested_fidelity(self, genotype: Genotype) -> int | None:
        """The fidelity (epochs) a multi-fidelity optimizer asks ``genotype`` to be evaluated at (``None``: the study's)."""
        return None

    # ------------------------------------------------------------ lifecycle
    def setup(self, space: SearchSpace, rng: np.random.Generator) -> Optimizer:
        """Validate parameters, check the space, bind the generator; returns ``self``."""
        self.validate_params()
        check_space_offers(space, self.requirements(), type(self).__name__)
        self.space_ = space
        self.rng_ = rng
        self.asked_: set[Hashable] = set()
        self.history_: list[tuple[Genotype, float]] = []
        self.best_: tuple[Genotype, float] | None = None
        self._start()
        return self

    def requirements(self) -> tuple[str, ...]:
        """What this configured optimizer needs from the space (default: :attr:`requires`)."""
        return self.requires

    def _start(self) -> None:
        """Hook: initialise strategy state after :meth:`setup`."""

    # ------------------------------------------------------------ ask / tell
    def ask(self) -> Genotype:
        """The next architecture to evaluate: canonical, never asked before."""
        genotype = self._ask()
        key = self.space_.key(genotype)
        if key in self.asked_:
            raise RuntimeError(f"{type(self).__name__} proposed an architecture twice: {self.space_.format(genotype)}")
        self.asked_.add(key)
        return genotype

    @abstractmethod
    def _ask(self) -> Genotype:
        """Propose an unseen canonical architecture (use :meth:`is_new`)."""

    def tell(self, genotype: Genotype, value: float) -> None:
        """Report the value of an asked architecture (``nan`` for a failed evaluation)."""
        value = float(value)
        self.history_.append((genotype, value))
        if not math.isnan(value) and (self.best_ is None or value > self.best_[1]):
            self.best_ = (genotype, value)
        self._tell(genotype, value)

    def _tell(self, genotype: Genotype, value: float) -> None:
        """Hook: update strategy state."""

    # ------------------------------------------------------------ helpers
    def is_new(self, genotype: Genotype) -> bool:
        return self.space_.key(genotype) not in self.asked_

    def sample_new(self, max_tries: int = 10_000) -> Genotype:
        """A uniformly random architecture not asked before."""
        space = self.space_
        for _ in range(max_tries):
            g = space.canonical(space.sample(self.rng_))
            if space.key(g) not in self.asked_:
                return g
        if space.size is not None and len(self.asked_) >= space.size:
            raise SearchExhausted(f"all {space.size:,} architectures of {space.name} have been evaluated")
        if space.size is not None:
            # Nearly exhausted: pick among what is left.
            left = [g for g in space.enumerate() if space.key(g) not in self.asked_]
            if left:
                return left[int(self.rng_.integers(len(left)))]
            raise SearchExhausted(f"all {space.size:,} architectures of {space.name} have been evaluated")
        raise SearchExhausted(f"no unseen architecture found in {max_tries} samples of {space.name}")

    @property
    def best(self) -> tuple[Genotype, float] | None:
        """The best told architecture and value so far."""
        return self.best_

