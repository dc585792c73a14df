"""Bayesian optimisation of NAGO generators: multi-fidelity (BOHB-style) and multi-objective.

NAGO (Ru et al., NeurIPS 2020) searches the 8 parameters of a network
generator (:mod:`archscape.spaces.nago`) by Bayesian optimisation: BOHB for
one objective, a multi-objective BO for accuracy against model size.
:class:`NagoBO` does both through the ask/tell interface.

Surrogate
---------
A scikit-learn ``GaussianProcessRegressor``: constant x Matern 5/2 kernel
plus white noise, hyper-parameters by marginal likelihood (two restarts,
seeded from the optimizer's generator), ``normalize_y``.  Its inputs are the
parameters scaled to [0, 1] by their bounds (:meth:`NagoSpace.unit_vector`),
with one length scale per parameter.  On another space it reads the
``onehot`` encoding with a single length scale, so the strategy runs on
every space (and passes the shared conformance suite), but it is meant for
NAGO.  For one objective the GP models the normal scores of the values
(ranks through the inverse normal distribution function, as
the ``gp`` optimizer does, so that failed networks' long tail does not
dominate), and proposals maximise expected improvement (``ei``) or
``mean + ucb_kappa * std`` (``ucb``) over ``num_candidates`` unseen
neighbours/mutations of the best ``num_parents`` told generators plus
``num_random`` unseen random ones.

Multi-fidelity schedule (successive halving over epochs)
--------------------------------------------------------
The asks follow Hyperband's brackets between ``min_epochs`` and
``max_epochs`` with ratio ``eta`` (:func:`brackets`); with 1, 9 and 3 a cycle
is: 9 generators at 1 epoch, 3 at 3, 1 at 9; then 5 at 3, 1 at 9; then 3 at
9 (22 evaluations).  :meth:`NagoBO.requested_fidelity` tells the runner how
many epochs each asked generator gets.  As in BOHB, the GP is fit on the
observations of the highest fidelity that has at least ``min_points`` of
them (fewer: random proposals).

An architecture is never asked twice (the ask/tell contract), so a promotion
cannot re-train the same generator for longer as BOHB does.  Instead, the
``n`` slots of rung ``i + 1`` of a bracket go to the best unseen
*neighbours* (by the acquisition; at random before a model exists) of the
best ``n`` generators of rung ``i``, once they are told: the larger budget
is spent where the smaller one found good generators, and a generator being
a distribution over networks, a neighbour (one parameter one step away)
samples from nearly the same distribution.  A slot whose parent is not told
yet (asks that run ahead of tells) or whose parent's neighbourhood is used
up gets an ordinary BO proposal.  ``min_epochs == max_epochs`` gives plain
sequential BO.

Multi-objective mode
--------------------
``multi_objective=True``: accuracy (told values, maximised) against model
size (minimised).  The size is known without training: ``size_fn(genotype)``
if given, else the exact parameter count of the NAGO network at the fixed
base width ``size_channels`` with ``graph_seed``
(:func:`archscape.spaces.nago.count_parameters`; the runner must then
train networks with ``channels=size_channels``, not a parameter budget,
which would give every network the same size), on a log10 scale.  As the
size of a candidate is exact and only its accuracy is uncertain, the
expected hypervolume improvement has a closed form: the improvement is a
piecewise-linear function of the accuracy over the size segments of the
current front, so EHVI is a sum of expected improvements, one per segment,
weighted by the segment's length (:func:`expected_hypervolume_improvement`).
With ``ucb`` the optimistic accuracy ``mean + ucb_kappa * std`` replaces the
expectation.  Promotions rank a rung by non-dominated sorting, then accuracy.
:meth:`NagoBO.pareto_front` returns the non-dominated told generators.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import numpy as np

from archscape.errors import ArchscapeError, UnsupportedOperation
from archscape.params import Interval, InvalidParameter, Is, Options, Param
from archscape.pareto import nondominated_ranks, pareto_mask
from archscape.predictors.sklearn_gp import fit_gp, predict
from archscape.predictors.targets import normal_scores
from archscape.search.acquisition import expected_improvement
from archscape.search.base import Optimizer
from archscape.search.candidates import mutation_candidates, random_candidates
from archscape.spaces.base import Genotype


# ====================================================================== schedule
def brackets(min_epochs: int, max_epochs: int, eta: int) -> list[list[tuple[int, int]]]:
    """Hyperband's brackets, most aggressive first: per bracket, its rungs as ``(count, epochs)``.

    ``s_max = floor(log_eta(max_epochs / min_epochs))``; bracket ``s`` starts
    ``ceil((s_max + 1) / (s + 1) * eta**s)`` configurations at
    ``max_epochs / eta**s`` epochs and keeps a ``1 / eta`` of them per rung.
    Epochs are rounded to ints, at least ``min_epochs``.
    """
    s_max = math.floor(math.log(max_epochs / min_epochs) / math.log(eta) + 1e-9)
    out = []
    for s in range(s_max, -1, -1):
        n0 = -(-((s_max + 1) * eta**s) // (s + 1))
        rungs = []
        for i in range(s + 1):
            epochs = max(min_epochs, round(max_epochs * float(eta) ** (i - s)))
            rungs.append((max(1, n0 // eta**i), epochs))
        out.append(rungs)
    return out


def expected_hypervolume_improvement(
    mean: np.ndarray,
    std: np.ndarray,
    sizes: np.ndarray,
    front_values: np.ndarray,
    front_sizes: np.ndarray,
    ref_value: float,
    ref_size: float,
    kappa: float | None = None,
) -> np.ndarray:
    """EHVI of candidates with known ``sizes`` and accuracies ~ N(mean, std^2).

    For a front sorted by size (values then increase), the best value among
    front points no larger than ``y`` is a step function ``A(y)``
    (``ref_value`` left of the front).  A point ``(a, s)`` adds the area
    ``integral_s^ref_size max(0, a - A(y)) dy``, a sum over the steps of
    ``length * max(0, a - A)``; its expectation is the same sum of expected
    improvements.  With ``kappa``, ``max(0, mean + kappa * std - A)`` instead.
    """
    order = np.argsort(front_sizes, kind="stable")
    fs = np.asarray(front_sizes, dtype=np.float64)[order]
    fv = np.asarray(front_values, dtype=np.float64)[order]
    lows = np.concatenate([[-np.inf], fs])
    highs = np.minimum(np.concatenate([fs, [ref_size]]), ref_size)
    levels = np.concatenate([[ref_value], np.maximum.accumulate(fv) if fv.size else fv])
    sizes = np.asarray(sizes, dtype=np.float64)
    total = np.zeros(len(sizes))
    for low, high, level in zip(lows, highs, levels):
        length = np.clip(high - np.maximum(low, sizes), 0.0, None)
        if not np.any(length > 0):
            continue
        if kappa is None:
            gain = expected_improvement(mean, std, float(level))
        else:
            gain = np.maximum(mean + kappa * std - level, 0.0)
        total += length * gain
    return total


class ParetoPoint(NamedTuple):
    genotype: Genotype
    value: float
    size: float
    fidelity: int


# ====================================================================== optimizer
class NagoBO(Optimizer):
    """GP Bayesian optimisation of generators with a successive-halving fidelity schedule (see the module docstring)."""

    name = "nago-bo"
    requires = ("sample", "neighbours", "mutate")
    params = {
        "num_init": Param(10, Interval(int, 1, None)),
        "min_epochs": Param(1, Interval(int, 1, None)),
        "max_epochs": Param(9, Interval(int, 1, None)),
        "eta": Param(3, Interval(int, 2, None)),
        "min_points": Param(9, Interval(int, 2, None)),
        "num_candidates": Param(100, Interval(int, 0, None)),
        "num_random": Param(100, Interval(int, 0, None)),
        "num_parents": Param(5, Interval(int, 1, None)),
        "acquisition": Param("ei", Options(("ei", "ucb"))),
        "ucb_kappa": Param(2.0, Interval(float, 0, None)),
        "multi_objective": Param(False, Is(bool)),
        # genotype -> model size (multi-objective mode off the nago space)
        "size_fn": Param(None, Is(Callable, type(None))),
        "size_channels": Param(16, Interval(int, 1, None)),
        "graph_seed": Param(0, Interval(int, 0, None)),
    }

    # ------------------------------------------------------------ setup
    def _start(self) -> None:
        who = type(self).__name__
        if self.max_epochs < self.min_epochs:
            raise InvalidParameter(
                f"The 'max_epochs' parameter of {who} must be at least min_epochs={self.min_epochs}. Got {self.max_epochs!r} instead."
            )
        space = self.space_
        offers = space.capabilities()
        #: continuous parameters (the nago space): a GP with one length scale each on their unit vectors
        self._continuous = offers["continuous"]
        if not self._continuous and "onehot" not in space.encodings:
            raise UnsupportedOperation(
                f"{who} needs a nago space or the 'onehot' encoding, which search space {space.name!r} does not offer "
                f"(it offers: {', '.join(space.encodings)})"
            )
        if self.multi_objective and self.size_fn is None and not offers["model_size"]:
            raise UnsupportedOperation(
                f"{who}'s multi-objective mode needs size_fn (genotype -> model size) on search space {space.name!r}; "
                "only the nago space has a built-in parameter count"
            )
        #: the brackets of one cycle of the schedule, see :func:`brackets`
        self.brackets_ = brackets(self.min_epochs, self.max_epochs, self.eta)
        self._slots = [
            (b, rung, j, epochs) for b, rungs in enumerate(self.brackets_) for rung, (n, epochs) in enumerate(rungs) for j in range(n)
        ]
        #: asks so far (the position in the schedule)
        self.slot_ = 0
        #: epochs requested for each asked architecture (by key)
        self.fidelity_: dict[Hashable, int] = {}
        #: genotypes asked in each (cycle, bracket, rung), in ask order
        self.rungs_: dict[tuple[int, int, int], list[Genotype]] = defaultdict(list)
        #: the fidelity the surrogate was last fit on (None while proposals are random)
        self.model_fidelity_: int | None = None
        self._told: dict[Hashable, float] = {}
        self._vectors: dict[Hashable, np.ndarray] = {}
        self._sizes: dict[Hashable, float] = {}
        self._kernel = None
        self._model_data: tuple[list[tuple[Genotype, float]], int] = ([], self.max_epochs)

    # ------------------------------------------------------------ public
    def requested_fidelity(self, genotype: Genotype) -> int:
        """Epochs to train an asked architecture for (the runner calls this after :meth:`ask`)."""
        key = self.space_.key(genotype)
        try:
            return self.fidelity_[key]
        except KeyError:
            raise ArchscapeError(f"{self.space_.format(genotype)} was not asked by this {type(self).__name__}") from None

    def size_of(self, genotype: Genotype) -> float:
        """The model size of the multi-objective mode: ``size_fn`` or the NAGO parameter count at ``size_channels``."""
        key = self.space_.key(genotype)
        size = self._sizes.get(key)
        if size is None:
            if self.size_fn is not None:
                size = float(self.size_fn(genotype))
            elif self.space_.capabilities()["model_size"]:
                size = self.space_.model_size(genotype, channels=self.size_channels, graph_seed=self.graph_seed)
            else:
                raise UnsupportedOperation(
                    f"{type(self).__name__} has no model size for search space {self.space_.name!r}; pass size_fn"
                )
            self._sizes[key] = size
        return size

    def told_at(self, fidelity: int | None = None) -> list[tuple[Genotype, float]]:
        """Successful told results at ``fidelity`` (default: the highest one told), in tell order."""
        ok = [(g, v, self._fidelity_of(g)) for g, v in self.history_ if not math.isnan(v)]
        if not ok:
            return []
        if fidelity is None:
            fidelity = max(f for _, _, f in ok)
        return [(g, v) for g, v, f in ok if f == fidelity]

    def pareto_front(self, fidelity: int | None = None) -> list[ParetoPoint]:
        """The non-dominated told results (value up, size down) at ``fidelity`` (default: the highest told), by size.

        Results at different fidelities are not compared: accuracies after 1
        and after 9 epochs are different objectives.
        """
        told = self.told_at(fidelity)
        if not told:
            return []
        values = np.array([v for _, v in told])
        sizes = np.array([self.size_of(g) for g, _ in told])
        mask = pareto_mask(values, sizes)
        f = self._fidelity_of(told[0][0])
        points = [ParetoPoint(g, float(v), float(s), f) for (g, v), s, m in zip(told, sizes, mask) if m]
        return sorted(points, key=lambda p: (p.size, -p.value))

    def incumbent(self) -> tuple[Genotype, float] | None:
        """The best told result at the highest fidelity told (``best`` compares across fidelities)."""
        told = self.told_at()
        return max(told, key=lambda item: item[1]) if told else None

    # ------------------------------------------------------------ ask / tell
    def _ask(self) -> Genotype:
        cycle, pos = divmod(self.slot_, len(self._slots))
        bracket, rung, j, epochs = self._slots[pos]
        genotype = self._propose((cycle, bracket), rung, j)
        self.slot_ += 1
        self.fidelity_[self.space_.key(genotype)] = epochs
        self.rungs_[(cycle, bracket, rung)].append(genotype)
        return genotype

    def _tell(self, genotype: Genotype, value: float) -> None:
        self._told[self.space_.key(genotype)] = value

    def _fidelity_of(self, genotype: Genotype) -> int:
        return self.fidelity_.get(self.space_.key(genotype), self.max_epochs)

    # ------------------------------------------------------------ proposals
    def _propose(self, bracket: tuple[int, int], rung: int, j: int) -> Genotype:
        model = self._surrogate()
        if rung > 0:
            parents = self._promoted(bracket, rung)
            if j < len(parents):
                options = [n for n in self.space_.neighbours(parents[j]) if self.is_new(n)]
                if options:
                    if model is None:
                        return options[int(self.rng_.integers(len(options)))]
                    return options[int(np.argmax(model(options)))]
        if model is None:
            return self.sample_new()
        candidates = self._candidates()
        if not candidates:
            return self.sample_new()  # raises SearchExhausted on an exhausted space
        return candidates[int(np.argmax(model(candidates)))]

    def _promoted(self, bracket: tuple[int, int], rung: int) -> list[Genotype]:
        """The best told members of the rung below, as many as this rung has slots."""
        cycle, b = bracket
        members = self.rungs_.get((cycle, b, rung - 1), [])
        told = [(g, self._told[k]) for g in members if (k := self.space_.key(g)) in self._told]
        told = [(g, v) for g, v in told if not math.isnan(v)]
        count = self.brackets_[b][rung][0]
        return [g for g, _ in self._rank(told)][:count]

    def _rank(self, told: list[tuple[Genotype, float]]) -> list[tuple[Genotype, float]]:
        """Best first: by value, or (multi-objective) by non-dominated rank then value; ties in tell order."""
        if not told:
            return []
        values = np.array([v for _, v in told])
        if self.multi_objective:
            ranks = nondominated_ranks(values, np.array([self.size_of(g) for g, _ in told]))
            order = np.lexsort((-values, ranks))
        else:
            order = np.argsort(-values, kind="stable")
        return [told[i] for i in order.tolist()]

    def _candidates(self) -> list[Genotype]:
        parents = [g for g, _ in self._rank(self._model_data[0])][: self.num_parents]
        near = mutation_candidates(self, parents, self.num_candidates) if self.num_candidates and parents else []
        taken = {self.space_.key(g) for g in near}
        return near + random_candidates(self, self.num_random, exclude=taken)

    # ------------------------------------------------------------ surrogate
    def _surrogate(self) -> Callable[[list[Genotype]], np.ndarray] | None:
        """Fit the GP on the highest fidelity with ``min_points`` results; the acquisition, or None."""
        self.model_fidelity_ = None
        if len(self.asked_) < self.num_init:
            return None
        by_fidelity: dict[int, list[tuple[Genotype, float]]] = defaultdict(list)
        for g, v in self.history_:
            if not math.isnan(v):
                by_fidelity[self._fidelity_of(g)].append((g, v))
        eligible = [f for f, told in by_fidelity.items() if len(told) >= self.min_points]
        if not eligible:
            return None
        fidelity = max(eligible)
        told = by_fidelity[fidelity]
        self.model_fidelity_ = fidelity
        self._model_data = (told, fidelity)
        x = self._vectors_of([g for g, _ in told])
        values = np.array([v for _, v in told], dtype=np.float64)
        seed = int(self.rng_.integers(2**31 - 1))
        if not self.multi_objective:
            y = normal_scores(values)
            gp = self._fit(x, y, seed)
            best = float(np.max(y))

            def single(candidates: list[Genotype]) -> np.ndarray:
                mean, std = predict(gp, self._vectors_of(candidates, cache=False))
                if self.acquisition == "ucb":
                    return mean + self.ucb_kappa * std
                return expected_improvement(mean, std, best)

            return single

        gp = self._fit(x, values, seed)
        sizes = np.array([self._scaled_size(g) for g, _ in told])
        front = pareto_mask(values, sizes)
        spread = float(values.max() - values.min()) or 1.0
        ref_value = float(values.min()) - 0.1 * spread
        kappa = self.ucb_kappa if self.acquisition == "ucb" else None

        def multi(candidates: list[Genotype]) -> np.ndarray:
            mean, std = predict(gp, self._vectors_of(candidates, cache=False))
            cand_sizes = np.array([self._scaled_size(g) for g in candidates])
            all_sizes = np.concatenate([sizes, cand_sizes])
            size_spread = float(all_sizes.max() - all_sizes.min()) or 1.0
            ref_size = float(all_sizes.max()) + 0.1 * size_spread
            return expected_hypervolume_improvement(
                mean, std, cand_sizes, values[front], sizes[front], ref_value, ref_size, kappa
            )

        return multi

    def _fit(self, x: np.ndarray, y: np.ndarray, seed: int) -> Any:
        # Warm start: the marginal likelihood changes little from one ask to the next.
        gp = fit_gp(x, y, ard=self._continuous, seed=seed, kernel=self._kernel)
        self._kernel = gp.kernel_
        return gp

    def _scaled_size(self, genotype: Genotype) -> float:
        size = self.size_of(genotype)
        return math.log10(max(size, 1.0)) if self.size_fn is None else size

    def _vectors_of(self, genotypes: list[Genotype], cache: bool = True) -> np.ndarray:
        space, key = self.space_, self.space_.key
        if not cache:
            if self._continuous:
                return space.unit_vectors(genotypes)
            return np.asarray(space.encode_many(genotypes, "onehot"), dtype=np.float64)
        missing = [g for g in genotypes if key(g) not in self._vectors]
        if missing:
            for g, row in zip(missing, self._vectors_of(missing, cache=False)):
                self._vectors[key(g)] = row
        return np.stack([self._vectors[key(g)] for g in genotypes])


__all__ = [
    "NagoBO",
    "ParetoPoint",
    "brackets",
    "expected_hypervolume_improvement",
    "nondominated_ranks",
    "pareto_mask",
]
