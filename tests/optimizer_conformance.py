"""The shared conformance checks for optimizers.

:func:`check_optimizer` runs every check on one optimizer factory and one
search space; ``test_optimizers.py`` parametrises it over the optimizer
registry and the spaces.  A factory is called with keyword overrides of the
optimizer's hyper-parameters (``factory(num_init=-3)``) and returns a fresh,
un-setup optimizer.

Values come from a *value function* ``value(space, genotype) -> float``; the
default, :func:`hashed_value`, is a fixed pseudo-random number per
architecture, so runs are reproducible without a benchmark.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import numpy as np
import pytest

from archscape.errors import InvalidArchitecture, UnsupportedOperation
from archscape.params import InvalidParameter
from archscape.search.base import Optimizer, SearchExhausted
from archscape.spaces.base import SearchSpace, truncate

Factory = Callable[..., Optimizer]
ValueFn = Callable[[SearchSpace, object], float]

#: values tried as bad hyper-parameters, the first one a parameter's constraints reject is used
BAD_VALUES = (-3, -0.5, "no-such-option", None, 3.5, True)


def hashed_value(space: SearchSpace, genotype) -> float:
    """A fixed pseudo-random value in [0, 100) per architecture (by its key)."""
    digest = hashlib.md5(repr(space.key(genotype)).encode()).hexdigest()
    return int(digest[:8], 16) % 100_000 / 1000.0


def drive(opt: Optimizer, value: ValueFn, budget: int) -> list[tuple[object, float]]:
    """Ask and tell ``budget`` times; the (genotype, value) sequence."""
    out = []
    for _ in range(budget):
        g = opt.ask()
        v = value(opt.space_, g)
        opt.tell(g, v)
        out.append((g, v))
    return out


def supports(opt: Optimizer, space: SearchSpace) -> bool:
    """Whether ``space`` offers what ``opt`` needs; if not, ``setup`` must say so in one line."""
    try:
        opt.setup(space, np.random.default_rng(0))
    except UnsupportedOperation as exc:
        assert "\n" not in str(exc) and type(opt).__name__ in str(exc)
        return False
    return True


# ---------------------------------------------------------------------- the suite
def check_optimizer(factory: Factory, space: SearchSpace, value: ValueFn = hashed_value, budget: int = 40) -> None:
    if not supports(factory(), space):
        return
    if space.size is not None:
        budget = min(budget, space.size)  # a tiny space (nb101-opdist: 21) is exhausted sooner
    check_parameters_validated(factory, space)
    check_get_params(factory)
    run = check_deterministic(factory, space, value, budget)
    check_never_reasks(space, run)
    check_replay(factory, space, run)
    check_failed_evaluations(factory, space, budget)


def check_parameters_validated(factory: Factory, space: SearchSpace) -> None:
    """Constructors only store; ``setup`` rejects each bad value with the standard message."""
    cls = type(factory())
    for name, constraints in cls._parameter_constraints.items():
        bad = next(v for v in BAD_VALUES if not any(c.accepts(v) for c in constraints))
        opt = factory(**{name: bad})  # must not raise: constructors only store arguments
        assert getattr(opt, name) is bad
        with pytest.raises(InvalidParameter) as info:
            opt.setup(space, np.random.default_rng(0))
        message = str(info.value)
        assert message.startswith(f"The {name!r} parameter of {cls.__name__} must be "), message
        assert message.endswith(f"Got {bad!r} instead."), message


def check_get_params(factory: Factory) -> None:
    opt = factory()
    params = opt.get_params()
    assert set(params) == set(type(opt)._parameter_constraints)
    assert type(opt)(**params).get_params() == params
    assert repr(opt).startswith(type(opt).__name__ + "(")


#: the seed of the runs that :func:`check_deterministic` returns and :func:`check_replay` replays
SEED = 11


def check_deterministic(factory: Factory, space: SearchSpace, value: ValueFn, budget: int) -> list[tuple[object, float]]:
    """Same seed and values give the same asks, another seed other asks; returns the run (seed :data:`SEED`)."""
    opt = factory().setup(space, np.random.default_rng(SEED))
    a = drive(opt, value, budget)
    best = max(a, key=lambda item: item[1])
    assert opt.best is not None and opt.best[1] == best[1]
    b = drive(factory().setup(space, np.random.default_rng(SEED)), value, budget)
    assert [space.key(g) for g, _ in a] == [space.key(g) for g, _ in b], "same seed and values must give the same asks"
    c = drive(factory().setup(space, np.random.default_rng(SEED + 1)), value, budget)
    assert [space.key(g) for g, _ in a] != [space.key(g) for g, _ in c], "another seed should give other asks"
    return a


def check_never_reasks(space: SearchSpace, run: list[tuple[object, float]]) -> None:
    keys = [space.key(g) for g, _ in run]
    assert len(set(keys)) == len(keys), "an architecture was asked twice"
    for g, _ in run:
        assert space.canonical(g) == g, "asks are canonical"


def check_replay(factory: Factory, space: SearchSpace, original: list[tuple[object, float]]) -> None:
    """A fresh optimizer told the first k results of ``original`` (seed :data:`SEED`) asks the same (k+1)-th architecture."""
    budget = len(original)
    for k in sorted({0, 1, budget // 3, budget // 2 + 1, budget - 1}):
        fresh = factory().setup(space, np.random.default_rng(SEED))
        for g, v in original[:k]:
            assert space.key(fresh.ask()) == space.key(g)
            fresh.tell(g, v)
        assert space.key(fresh.ask()) == space.key(original[k][0]), f"replay of {k} results diverged"


def check_failed_evaluations(factory: Factory, space: SearchSpace, budget: int) -> None:
    """Failed evaluations (nan), even a whole initial phase of them, do not break the search."""

    def flaky(space: SearchSpace, g) -> float:
        return math.nan if len(opt.history_) < 12 or len(opt.history_) % 3 == 0 else hashed_value(space, g)

    opt = factory().setup(space, np.random.default_rng(9))
    run = drive(opt, flaky, budget)
    keys = [space.key(g) for g, _ in run]
    assert len(set(keys)) == len(keys)
    finite = [v for _, v in run if not math.isnan(v)]
    assert opt.best is not None and opt.best[1] == max(finite)


def check_exhaustion(factory: Factory, space: SearchSpace | None = None) -> None:
    """On a small finite space every architecture is asked once, then ask() raises SearchExhausted."""
    space = space or CubeSpace()
    opt = factory().setup(space, np.random.default_rng(0))
    run = drive(opt, hashed_value, space.size)
    assert {space.key(g) for g, _ in run} == {space.key(g) for g in space.enumerate()}
    for _ in range(2):
        with pytest.raises(SearchExhausted):
            opt.ask()


# ---------------------------------------------------------------------- a tiny space
class CubeSpace(SearchSpace):
    """The hypercube {0,1}^bits: a tiny finite space whose neighbours differ in one bit.

    Small enough to exhaust; it offers every encoding, so every optimizer runs on it.
    """

    name = "cube"
    ops = ("zero", "one")
    encodings = ("onehot", "path", "opcount")

    def __init__(self, bits: int = 5) -> None:
        self.bits = bits
        self.size = 2**bits

    def validate(self, genotype):
        if isinstance(genotype, tuple) and len(genotype) == self.bits and all(type(b) is int and b in (0, 1) for b in genotype):
            return genotype
        raise InvalidArchitecture(f"a cube genotype is a tuple of {self.bits} bits; got {genotype!r:.40}")

    def sample(self, rng):
        return tuple(rng.integers(0, 2, size=self.bits).tolist())

    def neighbours(self, genotype):
        g = self.validate(genotype)
        return [g[:i] + (1 - g[i],) + g[i + 1 :] for i in range(self.bits)]

    def parse(self, text):
        if not isinstance(text, str) or len(text) != self.bits or set(text) - {"0", "1"}:
            raise InvalidArchitecture(f"a cube architecture is {self.bits} binary digits; got {text!r:.40}")
        return tuple(int(c) for c in text)

    def format(self, genotype):
        return "".join(map(str, self.validate(genotype)))

    def index(self, genotype):
        return int(self.format(genotype), 2)

    def from_index(self, index):
        return self.parse(format(self._check_index(index), f"0{self.bits}b"))

    def _encode_onehot(self, g):
        v = np.zeros(2 * self.bits, dtype=np.float32)
        v[2 * np.arange(self.bits) + np.asarray(g)] = 1.0
        return v

    def _encode_opcount(self, g):
        return np.array([self.bits - sum(g), sum(g)], dtype=np.float32)

    def _encode_path(self, g, cutoff=None):
        # "paths": runs of ones, by start and length, short runs first
        v = np.zeros(self.bits * self.bits, dtype=np.float32)
        for length in range(1, self.bits + 1):
            for start in range(self.bits - length + 1):
                if all(g[start : start + length]):
                    v[(length - 1) * self.bits + start] = 1.0
        return truncate(v, cutoff)
