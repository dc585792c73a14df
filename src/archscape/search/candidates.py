"""Shared pieces of the search strategies: ranking told results, unseen mutations, random candidates.

Every function takes the optimizer whose generator (``opt.rng_``) and
'asked' set (``opt.asked_``) it uses, so the strategies stay deterministic
given their generator and never propose an architecture twice.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING

from archscape.spaces.base import Genotype

if TYPE_CHECKING:
    from archscape.search.base import Optimizer

#: mutations tried from one parent before walking one step further away from it
TRIES_PER_STEP = 30
#: steps a walk away from a parent goes before giving up and sampling at random
MAX_STEPS = 4


def rank_value(value: float) -> float:
    """A value for sorting where a failed evaluation (nan) is worse than any real one."""
    return -math.inf if math.isnan(value) else value


def ranked(history: Iterable[tuple[Genotype, float]]) -> list[tuple[Genotype, float]]:
    """Told results best first; ties keep the order they were told in; failures last."""
    return sorted(history, key=lambda item: -rank_value(item[1]))


def unseen_mutation(opt: Optimizer, parent: Genotype) -> Genotype:
    """A mutation of ``parent`` not asked before.

    Tries single mutations first; when the parent's neighbourhood looks used
    up, walks one more random step away from it (two mutations, then three,
    up to :data:`MAX_STEPS`), so the child stays as close to the parent as the seen set allows.  Only
    when that fails too does it fall back to a uniformly random unseen
    architecture (which raises :class:`SearchExhausted` on an exhausted space).
    """
    space, rng = opt.space_, opt.rng_
    for steps in range(1, MAX_STEPS + 1):
        for _ in range(TRIES_PER_STEP):
            child = parent
            for _ in range(steps):
                child = space.mutate(child, rng)
            child = space.canonical(child)
            if space.key(child) not in opt.asked_:
                return child
    return opt.sample_new()


def mutation_candidates(opt: Optimizer, parents: list[Genotype], count: int, exclude: set[Hashable] = frozenset()) -> list[Genotype]:
    """Up to ``count`` distinct unseen mutations of ``parents``, the best parent's first.

    As in BANANAS, the best parent is mutated first and the next parents are
    used only while the pool is short.  A mutation here is one neighbourhood
    move, so the single mutations of a parent are its unseen neighbours, taken
    in a random order.  If the parents' neighbourhoods leave the pool short,
    random two- and then three-step mutations fill it: closest first.  (The
    authors' NAS-Bench-201 mutation changes each of the 6 edges with
    probability 1/4, so their 100 draws from the best cell mix distances 1, 2
    and more; nearest-first keeps the pool as local as the seen set allows.)
    """
    space, rng = opt.space_, opt.rng_
    seen = opt.asked_
    pool: dict[Hashable, Genotype] = {}

    def add(child: Genotype) -> bool:
        key = space.key(child)
        if key not in seen and key not in exclude and key not in pool:
            pool[key] = child
        return len(pool) >= count

    for parent in parents:
        neighbours = space.neighbours(parent)
        for i in rng.permutation(len(neighbours)).tolist():
            if add(neighbours[i]):
                return list(pool.values())
    for steps in (2, 3):
        for parent in parents:
            # about twice as many draws as places left, shared by the parents
            for _ in range(2 * (count - len(pool)) // len(parents) + 1):
                child = parent
                for _ in range(steps):
                    child = space.mutate(child, rng)
                if add(space.canonical(child)):
                    return list(pool.values())
    return list(pool.values())


def random_candidates(opt: Optimizer, count: int, exclude: set[Hashable] = frozenset()) -> list[Genotype]:
    """Up to ``count`` distinct unseen uniformly random architectures, none in ``exclude``."""
    space, rng = opt.space_, opt.rng_
    pool: dict[Hashable, Genotype] = {}
    for _ in range(count * 3):
        g = space.canonical(space.sample(rng))
        key = space.key(g)
        if key not in opt.asked_ and key not in exclude and key not in pool:
            pool[key] = g
            if len(pool) >= count:
                break
    return list(pool.values())

