"""Local search (hill climbing) with the variants of White et al., UAI 2021.

"Exploring the Loss Landscape in Neural Architecture Search" (White, Nolen,
Savani) studies local search in NAS.  A run starts from the best of
``num_init`` random architectures and explores the neighbourhood of the
current architecture in a random order:

* ``improvement="first"``: move to the first neighbour that is better;
* ``improvement="best"``: evaluate the whole neighbourhood, then move to the
  best neighbour if it is better.

When no neighbour is better (a local optimum):

* ``at_minimum="restart"``: start a new run from the best of ``num_init``
  new random architectures;
* ``at_minimum="continue"``: explore the neighbourhood of the best evaluated
  architecture that has not been explored yet.

The defaults (first improvement, restart, ``num_init=10``) are those of the
authors' code (``local_search`` in naszilla's ``nas_algorithms.py``:
``query_full_nbhd=False``, ``stop_at_minimum=True``, 10 initial
architectures).

Architectures already evaluated are never evaluated again.  Where the
authors' code simply skips a neighbour that was evaluated before, this one
uses its known value: a known neighbour that is better is a move that costs no
query (known neighbours are looked at before new ones are queried), and "best
improvement" compares the whole neighbourhood, known and new.  A neighbour
whose own neighbourhood was already explored is not moved to: within one run
values rise strictly, so such a neighbour comes from an earlier run (or, with
``continue``, is the optimum the search just left), and returning there would
only retrace explored ground.  Another difference: the authors' ``continue``
variant jumps to the best unexplored architecture after every step, while
here it does so only at a local optimum, as archscape specifies the variant.

The search is a generator (:meth:`LocalSearch._walk`) that yields the next
architecture and reads the told value when resumed, so every decision waits
for the value it depends on: each :meth:`ask` must be followed by its
:meth:`tell` before the next ask.
"""

from __future__ import annotations

from collections.abc import Generator, Hashable
from typing import ClassVar

from archscape.params import Interval, Options, Param
from archscape.search.base import Optimizer, SearchExhausted
from archscape.search.candidates import rank_value
from archscape.spaces.base import Genotype


class LocalSearch(Optimizer):
    """Hill climbing over the space's neighbourhood relation (see the module docstring)."""

    name = "local"
    requires: ClassVar[tuple[str, ...]] = ("neighbours", "sample")
    params = {
        "num_init": Param(10, Interval(int, 1, None)),
        "improvement": Param("first", Options(("first", "best"))),
        "at_minimum": Param("restart", Options(("restart", "continue"))),
    }

    def _start(self) -> None:
        #: key -> told value (nan as -inf), for comparisons
        self.values_: dict[Hashable, float] = {}
        #: keys of the architectures whose neighbourhood was explored
        self.expanded_: set[Hashable] = set()
        #: the explored architectures, in order (the path of the search)
        self.centres_: list[Genotype] = []
        #: the local optima found, in order
        self.minima_: list[Genotype] = []
        self._waiting: Hashable | None = None
        self._exhausted: SearchExhausted | None = None
        self._steps = self._walk()

    # ------------------------------------------------------------ ask / tell
    def _ask(self) -> Genotype:
        if self._waiting is not None:
            raise RuntimeError("LocalSearch chooses each architecture from the previous value: tell() the last asked architecture before asking again")
        if self._exhausted is not None:
            raise SearchExhausted(str(self._exhausted))
        try:
            genotype = next(self._steps)
        except SearchExhausted as exc:
            self._exhausted = exc
            raise
        except StopIteration:  # the walk never ends by itself: an earlier ask raised
            raise RuntimeError("LocalSearch cannot continue after an error in an earlier ask") from None
        self._waiting = self.space_.key(genotype)
        return genotype

    def _tell(self, genotype: Genotype, value: float) -> None:
        key = self.space_.key(genotype)
        self.values_[key] = rank_value(value)
        if key == self._waiting:
            self._waiting = None

    # ------------------------------------------------------------ the search
    def _walk(self) -> Generator[Genotype, None, None]:
        """Yield architectures to evaluate; each value is in :attr:`values_` when the generator resumes."""
        key = self.space_.key
        while True:
            starts = []
            for _ in range(self.num_init):
                g = self.sample_new()
                yield g
                starts.append(g)
            current = max(starts, key=lambda g: self.values_[key(g)])
            while True:
                moved = yield from self._explore(current)
                if moved is not None:
                    current = moved
                    continue
                self.minima_.append(current)
                if self.at_minimum == "restart":
                    break
                current = self._best_unexplored()
                if current is None:  # everything evaluated was explored: start afresh
                    break

    def _explore(self, current: Genotype) -> Generator[Genotype, None, Genotype | None]:
        """Explore ``current``'s neighbourhood; return the neighbour to move to, or ``None`` at a local optimum."""
        space = self.space_
        self.expanded_.add(space.key(current))
        self.centres_.append(current)
        first = self.improvement == "first"
        best, best_value = None, self.values_[space.key(current)]
        neighbours = space.neighbours(current)
        unknown = []
        for i in self.rng_.permutation(len(neighbours)).tolist():
            n = neighbours[i]
            k = space.key(n)
            if k in self.expanded_:
                continue
            if k not in self.asked_:
                unknown.append(n)
                continue
            value = self.values_.get(k)
            if value is not None and value > best_value:
                best, best_value = n, value
                if first:
                    return n
        for n in unknown:
            yield n
            value = self.values_[space.key(n)]
            if value > best_value:
                best, best_value = n, value
                if first:
                    return n
        return best

    def _best_unexplored(self) -> Genotype | None:
        """The best evaluated architecture (real value) whose neighbourhood is unexplored; earliest on ties."""
        key = self.space_.key
        best, best_value = None, -float("inf")
        for g, value in self.history_:
            if value > best_value and key(g) not in self.expanded_:
                best, best_value = g, value
        return best
