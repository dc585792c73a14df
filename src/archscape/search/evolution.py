"""Regularized (aging) evolution, Real et al., AAAI 2019.

The population starts as ``num_init`` random architectures.  Each child comes
from a tournament: ``sample_size`` members are drawn uniformly *with
replacement* (as in the paper's Algorithm 1 and naszilla's
``evolution_search``), the best of them is mutated once, and the child joins
the population; when the population exceeds ``population_size`` its oldest
member dies, whatever its value.  A mutation that gives an architecture
asked before is redrawn (see :func:`~archscape.search.candidates.unseen_mutation`).

Only told architectures enter the population, so asks may run ahead of tells
(a parallel runner); the sequence of asks is then a function of the order of
asks and tells, as for every optimizer.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from archscape.params import Interval, Param
from archscape.search.base import Optimizer
from archscape.search.candidates import rank_value, unseen_mutation
from archscape.spaces.base import Genotype


class RegularizedEvolution(Optimizer):
    """Aging evolution with tournament selection and one mutation per child."""

    name = "evolution"
    requires: ClassVar[tuple[str, ...]] = ("mutate", "sample")
    params = {
        "population_size": Param(30, Interval(int, 1, None)),
        "sample_size": Param(10, Interval(int, 1, None)),
        "num_init": Param(10, Interval(int, 1, None)),
    }

    def _start(self) -> None:
        #: (genotype, value) of the living members, oldest first
        self.population_: deque[tuple[object, float]] = deque()
        # their values for ranking (a failure lowest), in the same order
        self._ranks: deque[float] = deque()

    def _ask(self) -> Genotype:
        if len(self.asked_) < self.num_init or not self.population_:
            return self.sample_new()
        picks = self.rng_.integers(len(self.population_), size=self.sample_size).tolist()
        # The first drawn among equals wins, so ties are broken by the draw.
        parent = self.population_[max(picks, key=self._ranks.__getitem__)][0]
        return unseen_mutation(self, parent)

    def _tell(self, genotype: Genotype, value: float) -> None:
        self.population_.append((genotype, value))
        self._ranks.append(rank_value(value))
        if len(self.population_) > self.population_size:
            self.population_.popleft()
            self._ranks.popleft()
