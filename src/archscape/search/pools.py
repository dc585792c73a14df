"""Candidate pools of predictor-based search: which unseen architectures the predictor scores.

"Efficient Sampling for Predictor-Based NAS" (Mauch et al. 2020): scoring
the whole space is impossible in real spaces, a random subset loses much of
the sample efficiency, and a *smart* subset wins it back.  A pool is one of
these strategies, or several joined by ``+`` (their union):

``full``
    every unseen architecture (enumerable spaces only);
``random``
    ``size`` unseen architectures drawn uniformly: fresh every round, or
    drawn once per trial with ``fixed`` (then the pool shrinks as its
    architectures are evaluated);
``mutation``
    ``size`` unseen mutations of the ``parents`` best told architectures,
    nearest first (one move, then two, ...), as BANANAS does;
``neighbours``
    every unseen neighbour of the ``parents`` best (at most ``size``);
``opdist``
    ``size`` architectures sampled from the operation distribution of the
    ``parents`` best: their mean op ratio, turned into counts by a
    multinomial draw per architecture and placed uniformly at random
    (:mod:`archscape.spaces.distribution`; NB201, Macro, NB101, DARTS);
``evolution``
    regularized evolution run on the predictor: a population of the
    ``parents`` best told architectures, generations of ``steps``
    tournament-selected mutants scored by the predictor, the oldest removed;
    every child of the run (``size`` in all) is a candidate;
``local``
    best-improvement local search on the predictor from each of the
    ``parents`` best, moving to the best-predicted unseen neighbour while it
    improves the prediction; every neighbour scored on the way is a
    candidate (at most ``size``).

Every pool returns only unseen, valid, canonical architectures, without
repeats, and draws every random number from the optimizer's generator.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from archscape.errors import ArchscapeError, UnsupportedOperation
from archscape.search.candidates import mutation_candidates, random_candidates
from archscape.spaces.base import Genotype
from archscape.spaces.distribution import counts_of, counts_from_ratio, layout_of, sample_architecture

if TYPE_CHECKING:
    from archscape.search.base import Optimizer

POOLS = ("full", "random", "mutation", "neighbours", "opdist", "evolution", "local")
#: the most architectures a ``full`` pool enumerates
MAX_FULL = 1_000_000
#: tournament size of the ``evolution`` pool (capped by the population)
TOURNAMENT = 10

Score = Callable[[list[Genotype]], np.ndarray]


def parse_pool(spec: str) -> tuple[str, ...]:
    """``"mutation+random"`` -> ``("mutation", "random")``; one clear line for an unknown part."""
    parts = tuple(p.strip() for p in str(spec).split("+") if p.strip())
    bad = [p for p in parts if p not in POOLS]
    if not parts or bad:
        raise ArchscapeError(f"unknown candidate pool {bad[0] if bad else spec!r}; accepted: {', '.join(POOLS)} "
                             "or several joined by '+', e.g. mutation+random")
    return tuple(dict.fromkeys(parts))


def check_pool(parts: tuple[str, ...], space) -> None:
    """Refuse, in one line, a pool the space cannot provide."""
    if "full" in parts and (space.size is None or space.size > MAX_FULL):
        size = "is not enumerable" if space.size is None else f"has {space.size:,} architectures"
        raise UnsupportedOperation(f"the 'full' candidate pool scores every architecture, but {space.name} {size}; "
                                   "use random, mutation, neighbours, opdist, evolution or local")
    if "opdist" in parts:
        layout_of(space)  # raises for spaces without an op distribution


class PoolBuilder:
    """Builds one round's pool for an optimizer (its space, generator and asked set).

    ``size`` is every part's size, or a mapping from part to size.  With
    ``disjoint``, the parts that draw candidates (``random``, ``mutation``)
    skip those of the parts before them, so each adds its full size (GP-BO's
    pool: mutations of the best, then as many further random architectures);
    otherwise repeats are dropped from the union, and a part may add fewer.
    """

    def __init__(
        self,
        opt: Optimizer,
        parts: tuple[str, ...],
        size: int | Mapping[str, int],
        parents: int,
        steps: int,
        fixed: bool,
        *,
        disjoint: bool = False,
    ) -> None:
        self.opt = opt
        self.parts = parts
        self.sizes = dict(size) if isinstance(size, Mapping) else dict.fromkeys(parts, size)
        self.parents = parents
        self.steps = steps
        self.fixed = fixed
        self.disjoint = disjoint
        self._fixed_pool: list[Genotype] | None = None

    def build(self, ranking: list[Genotype], score: Score | None) -> list[Genotype]:
        """The union of the parts' candidates (unseen, distinct), for told architectures ``ranking`` (best first)."""
        space, opt = self.opt.space_, self.opt
        pool: dict[Hashable, Genotype] = {}
        top = ranking[: self.parents]
        for part in self.parts:
            taken = set(pool) if self.disjoint else frozenset()
            for g in getattr(self, f"_{part}")(top, score, self.sizes[part], taken):
                key = space.key(g)
                if key not in opt.asked_ and key not in pool:
                    pool[key] = g
        return list(pool.values())

    # ------------------------------------------------------------ parts
    # Each part: (the best told architectures, the predictor's score, its size, keys to skip).
    def _full(self, top, score, size, taken) -> list[Genotype]:
        opt = self.opt
        return [g for g in opt.space_.enumerate() if opt.is_new(g)]

    def _random(self, top, score, size, taken) -> list[Genotype]:
        if not self.fixed:
            return random_candidates(self.opt, size, exclude=taken)
        if self._fixed_pool is None:  # drawn once per trial, then used up as it is evaluated
            self._fixed_pool = random_candidates(self.opt, size, exclude=taken)
        return [g for g in self._fixed_pool if self.opt.is_new(g)]

    def _mutation(self, top, score, size, taken) -> list[Genotype]:
        return mutation_candidates(self.opt, top, size, exclude=taken) if top else []

    def _neighbours(self, top, score, size, taken) -> list[Genotype]:
        out: list[Genotype] = []
        for parent in top:
            out += [n for n in self.opt.space_.neighbours(parent) if self.opt.is_new(n)]
            if len(out) >= size:
                break
        return out[:size]

    def _opdist(self, top, score, size, taken) -> list[Genotype]:
        if not top:
            return []
        space, rng = self.opt.space_, self.opt.rng_
        lay = layout_of(space)
        counts = np.array([counts_of(space, g) for g in top], dtype=np.float64)
        ratio = counts.mean(axis=0).reshape(len(lay.cells), lay.n_ops)
        out = []
        for _ in range(size):
            drawn = [c for cell in ratio for c in counts_from_ratio(cell, lay.slots, method="multinomial", rng=rng)]
            out.append(sample_architecture(space, drawn, rng))
        return out

    def _evolution(self, top, score, size, taken) -> list[Genotype]:
        if not top or score is None:
            return []
        space, rng, opt = self.opt.space_, self.opt.rng_, self.opt
        population = list(top)
        fitness = list(score(population))
        children: dict[Hashable, Genotype] = {}
        per_generation = max(1, self.steps)
        while len(children) < size:
            batch = []
            for _ in range(min(per_generation, size - len(children))):
                picks = rng.choice(len(population), size=min(TOURNAMENT, len(population)), replace=False)
                parent = population[max(picks.tolist(), key=lambda i: fitness[i])]
                child = space.canonical(space.mutate(parent, rng))
                key = space.key(child)
                if key not in opt.asked_ and key not in children:
                    children[key] = child
                    batch.append(child)
            if not batch:
                break  # the neighbourhoods around the population are used up
            population += batch
            fitness += list(score(batch))
            drop = max(0, len(population) - len(top))  # regularized: the oldest leave
            population, fitness = population[drop:], fitness[drop:]
        return list(children.values())

    def _local(self, top, score, size, taken) -> list[Genotype]:
        if not top or score is None:
            return []
        space, opt = self.opt.space_, self.opt
        scored: dict[Hashable, Genotype] = {}
        for start in top:
            current, value = start, float(score([start])[0])
            while len(scored) < size:
                moves = [n for n in space.neighbours(current) if opt.is_new(n) and space.key(n) not in scored]
                if not moves:
                    break
                values = score(moves)
                scored.update((space.key(n), n) for n in moves)
                best = int(np.argmax(values))
                if values[best] <= value:
                    break
                current, value = moves[best], float(values[best])
            if len(scored) >= size:
                break
        return list(scored.values())[: size]


__all__ = ["MAX_FULL", "POOLS", "PoolBuilder", "check_pool", "parse_pool"]
