"""Optimizers: the shared conformance suite over the registry, and strategy-specific behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

import archscape
from archscape.errors import ArchscapeError, InvalidArchitecture, UnsupportedOperation
from archscape.params import InvalidParameter
from archscape.predictors.gp import GaussianProcess
from archscape.predictors.mlp import EnsembleMLP
from archscape.predictors.targets import normal_scores
from archscape.search import make_optimizer, optimizer_names
from archscape.search.acquisition import expected_improvement
from archscape.search.bananas import BANANAS
from archscape.search.base import SearchExhausted
from archscape.search.evolution import RegularizedEvolution
from archscape.search.local import LocalSearch
from archscape.search.random import RandomSearch
from archscape.spaces import get_space, space_names
from archscape.spaces.base import SearchSpace
from conformance import check_space
from optimizer_conformance import CubeSpace, check_exhaustion, check_optimizer, drive, hashed_value

#: cheaper settings of the model-based optimizers, so the suite stays fast; defaults run in the slow tests
FAST = {
    "bananas": {"epochs": 25, "num_ensemble": 3, "num_candidates": 40, "batch_size": 5},
    "gp": {"num_candidates": 40, "num_random": 20, "batch_size": 3},
}
#: cheaper still, for runs of 300 queries
FAST_300 = {"bananas": {"epochs": 15, "num_ensemble": 2, "batch_size": 20}, "gp": {"batch_size": 20}}
#: the DARTS path encoding has 11,200 features; its paths of length <= 2 (224) keep the suite fast
FAST_ON_SPACE = {("bananas", "darts"): {"cutoff": 224}}


def conformance_params():
    """Every registered optimizer on every registered space (an optimizer a space cannot serve must refuse it)."""
    return [pytest.param(o, s, id=f"{o}-{s}") for s in space_names() for o in optimizer_names()]


def factory(name: str, **fixed):
    def make(**overrides):
        return make_optimizer(name, **{**FAST.get(name, {}), **fixed, **overrides})

    return make


@pytest.fixture(scope="module")
def nb201_table():
    bench = archscape.load_benchmark("nb201-cifar10")
    rows = {g: r for r, g in enumerate(bench.space.enumerate())}
    values = bench.values()
    return bench, lambda space, g: float(values[rows[g]])


# ---------------------------------------------------------------------- registry
def test_registry_names():
    assert {"random", "local", "evolution", "bananas", "gp"} <= set(optimizer_names())
    assert isinstance(make_optimizer("local", improvement="best"), LocalSearch)
    with pytest.raises(ArchscapeError, match="unknown optimizer 'annealing'"):
        make_optimizer("annealing")
    with pytest.raises(ArchscapeError, match="bad parameter for optimizer 'evolution'.*population_size"):
        make_optimizer("evolution", populaton_size=3)


# ---------------------------------------------------------------------- conformance
@pytest.mark.parametrize("name, space_name", conformance_params())
def test_optimizer_conformance(name, space_name):
    check_optimizer(factory(name, **FAST_ON_SPACE.get((name, space_name), {})), get_space(space_name))


@pytest.mark.parametrize("space_name", ["nb201-opdist", "macro-opdist"])
@pytest.mark.parametrize("options", [{"candidates": "all"}, {"candidates": "all", "backend": "sklearn"}])
def test_gp_over_every_unseen_distribution_and_with_scikit_learn(space_name, options):
    check_optimizer(factory("gp", num_init=4, **options), get_space(space_name), budget=20)


def test_gp_candidates_all_needs_a_small_enumerable_space():
    with pytest.raises(InvalidParameter, match="can be 'all' only on spaces of at most 100,000 architectures; darts has an unknown number"):
        make_optimizer("gp", candidates="all").setup(get_space("darts"), np.random.default_rng(0))
    with pytest.raises(InvalidParameter, match="must be 'matern52' with backend='sklearn'"):
        make_optimizer("gp", backend="sklearn", kernel="rbf").setup(get_space("nb201-opdist"), np.random.default_rng(0))
    # every unseen architecture is scored: the GP's pick is the acquisition's best over the whole space
    opt = make_optimizer("gp", candidates="all", num_init=3).setup(get_space("macro-opdist"), np.random.default_rng(0))
    for g in [opt.ask() for _ in range(3)]:
        opt.tell(g, float(sum(g[1:])))
    assert len(opt.pools_.build([], None)) == 45 - 3


@pytest.mark.parametrize("name", optimizer_names())
def test_optimizer_conformance_on_tiny_space(name):
    check_optimizer(factory(name, num_init=3) if name in ("bananas", "gp", "local", "evolution") else factory(name), CubeSpace(), budget=20)


@pytest.mark.parametrize("name", optimizer_names())
def test_exhaustion_with_defaults(name):
    check_exhaustion(lambda: make_optimizer(name))


@pytest.mark.parametrize("name", optimizer_names())
def test_exhaustion_in_the_model_phase(name):
    # num_init=3 on 32 architectures: model rounds (or local moves) are what run out of architectures
    overrides = {"num_init": 3} if name != "random" else {}
    check_exhaustion(factory(name, **overrides))


def test_cube_space_is_a_conforming_space():
    check_space(CubeSpace())


@pytest.mark.parametrize("name", optimizer_names())
def test_never_reasks_in_300_queries_on_nb201_table(name, nb201_table):
    bench, value = nb201_table
    opt = factory(name, **FAST_300.get(name, {}))().setup(bench.space, np.random.default_rng(0))
    run = drive(opt, value, 300)
    assert len({g for g, _ in run}) == 300
    assert opt.best[1] == max(v for _, v in run)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bananas", "gp"])
def test_never_reasks_in_300_queries_with_default_settings(name, nb201_table):
    bench, value = nb201_table
    run = drive(make_optimizer(name).setup(bench.space, np.random.default_rng(1)), value, 300)
    assert len({g for g, _ in run}) == 300


# ---------------------------------------------------------------------- requirements
def test_path_encoding_needs_a_space_with_paths():
    macro = get_space("macro")
    with pytest.raises(UnsupportedOperation) as info:
        BANANAS().setup(macro, np.random.default_rng(0))
    message = str(info.value)
    assert "\n" not in message and "BANANAS needs the 'path' encoding" in message and "'macro'" in message
    drive(BANANAS(encoding="onehot", **FAST["bananas"]).setup(macro, np.random.default_rng(0)), hashed_value, 20)


def test_cutoff_applies_to_path_only():
    with pytest.raises(InvalidParameter, match="'cutoff' parameter of BANANAS applies to encoding='path' only"):
        BANANAS(encoding="onehot", cutoff=10).setup(get_space("nb201"), np.random.default_rng(0))
    opt = BANANAS(cutoff=20, **FAST["bananas"]).setup(get_space("nb201"), np.random.default_rng(0))
    drive(opt, hashed_value, 12)
    assert opt.model_.encode([opt.history_[0][0]]).shape == (1, 20)


# ---------------------------------------------------------------------- local search
class ScriptedSpace(SearchSpace):
    """A tiny graph landscape whose ``sample`` returns scripted starts (then repeats the last).

    Scripted starts make the restarts of local search deterministic, so a
    test can check the exact path; the neighbourhood is the given graph.
    """

    name = "scripted"
    ops = ("node",)
    encodings = ("onehot",)

    def __init__(self, edges: list[tuple[int, int]], starts: list[int]) -> None:
        nodes = sorted({v for e in edges for v in e})
        self.size = len(nodes)
        self.adjacent = {v: sorted({b for a, b in edges if a == v} | {a for a, b in edges if b == v}) for v in nodes}
        self.starts = list(starts)
        self.drawn = 0

    def sample(self, rng):
        start = self.starts[min(self.drawn, len(self.starts) - 1)]
        self.drawn += 1
        return (start,)

    def validate(self, genotype):
        if isinstance(genotype, tuple) and len(genotype) == 1 and genotype[0] in self.adjacent:
            return genotype
        raise InvalidArchitecture(f"not a node: {genotype!r}")

    def neighbours(self, genotype):
        return [(v,) for v in self.adjacent[self.validate(genotype)[0]]]

    def parse(self, text):
        return self.validate((int(text),))

    def format(self, genotype):
        return str(self.validate(genotype)[0])

    def index(self, genotype):
        return self.validate(genotype)[0]

    def from_index(self, index):
        return (self._check_index(index),)

    def _encode_onehot(self, g):
        v = np.zeros(self.size, dtype=np.float32)
        v[g[0]] = 1.0
        return v


def run_landscape(opt, space, values, budget=100):
    """Drive ``opt`` until the space is exhausted; the asked nodes in order."""
    opt.setup(space, np.random.default_rng(0))
    asked = []
    with pytest.raises(SearchExhausted):
        for _ in range(budget):
            g = opt.ask()
            asked.append(g[0])
            opt.tell(g, values[g[0]])
    return asked


LINE = [(i, i + 1) for i in range(5)]  # 0 - 1 - 2 - 3 - 4 - 5
LINE_VALUES = [0, 5, 1, 2, 3, 4]  # local optima at 1 and 5


def nodes(genotypes):
    return [g[0] for g in genotypes]


@pytest.mark.parametrize("improvement", ["first", "best"])
def test_local_search_restart_path(improvement):
    # 0 -> 1 (optimum: 2 is worse); restart at 5 (optimum: 4 is worse); restart at 3,
    # whose neighbour 4 is known and better: a move that costs no query; 4's neighbours
    # are both explored, so 4 is an optimum; then nothing is left.
    opt = LocalSearch(num_init=1, improvement=improvement, at_minimum="restart")
    asked = run_landscape(opt, ScriptedSpace(LINE, starts=[0, 5, 3]), LINE_VALUES)
    assert asked == [0, 1, 2, 5, 4, 3]
    assert nodes(opt.centres_) == [0, 1, 5, 3, 4]
    assert nodes(opt.minima_) == [1, 5, 4]


@pytest.mark.parametrize("improvement", ["first", "best"])
def test_local_search_continue_path(improvement):
    # After the optimum at 1, the best evaluated unexplored architecture is 2 (value 1):
    # the search continues from there and climbs 2 -> 3 -> 4 -> 5.
    opt = LocalSearch(num_init=1, improvement=improvement, at_minimum="continue")
    asked = run_landscape(opt, ScriptedSpace(LINE, starts=[0]), LINE_VALUES)
    assert asked == [0, 1, 2, 3, 4, 5]
    assert nodes(opt.centres_) == [0, 1, 2, 3, 4, 5]
    assert nodes(opt.minima_) == [1, 5]


# A star around 0 (value 0): 1 (1), 2 (5) -> 4 (4), 3 (3) -> 5 (10).
STAR = [(0, 1), (0, 2), (0, 3), (2, 4), (3, 5)]
STAR_VALUES = [0, 1, 5, 3, 4, 10]


def test_best_improvement_queries_the_whole_neighbourhood_and_takes_the_best():
    for seed in range(5):
        opt = LocalSearch(num_init=1, improvement="best").setup(ScriptedSpace(STAR, starts=[0]), np.random.default_rng(seed))
        asked = [g[0] for g, _ in drive(opt, lambda s, g: STAR_VALUES[g[0]], 5)]
        assert asked[0] == 0 and sorted(asked[1:4]) == [1, 2, 3] and asked[4] == 4
        assert opt.ask() == (5,)  # the restart: the only architecture left
        assert nodes(opt.centres_) == [0, 2] and nodes(opt.minima_) == [2]


def test_first_improvement_moves_at_the_first_better_neighbour_in_a_shuffled_order():
    first_moves = set()
    for seed in range(12):
        opt = LocalSearch(num_init=1, improvement="first").setup(ScriptedSpace(STAR, starts=[0]), np.random.default_rng(seed))
        asked = [g[0] for g, _ in drive(opt, lambda s, g: STAR_VALUES[g[0]], 2)]
        assert asked[0] == 0
        opt.ask()  # the step after asked[1] starts from it
        assert nodes(opt.centres_) == [0, asked[1]]
        first_moves.add(asked[1])
    assert first_moves == {1, 2, 3}, "the neighbourhood order is shuffled"


def test_local_search_starts_from_the_best_initial_architecture():
    space = get_space("nb201")
    opt = LocalSearch(num_init=10).setup(space, np.random.default_rng(4))
    run = drive(opt, hashed_value, 11)
    best_start = max(run[:10], key=lambda item: item[1])[0]
    assert opt.centres_[0] == best_start
    assert run[10][0] in space.neighbours(best_start)


def test_local_search_needs_each_value_before_the_next_ask():
    opt = LocalSearch().setup(get_space("nb201"), np.random.default_rng(0))
    opt.ask()
    with pytest.raises(RuntimeError, match="tell"):
        opt.ask()


# ---------------------------------------------------------------------- evolution
def test_evolution_population_ages_and_children_are_mutations():
    space = get_space("nb201")
    opt = RegularizedEvolution(population_size=8, sample_size=3, num_init=4).setup(space, np.random.default_rng(2))
    told = []
    for _ in range(40):
        members = [g for g, _ in opt.population_]
        g = opt.ask()
        if len(told) >= 4:
            assert any(g in space.neighbours(m) for m in members), "a child is one mutation of a member"
        v = hashed_value(space, g)
        opt.tell(g, v)
        told.append((g, v))
        assert list(opt.population_) == told[-8:], "the oldest member dies, whatever its value"


def test_evolution_tournament_picks_the_best_of_its_sample():
    # A sample much larger than the population contains the population's best almost surely.
    space = get_space("nb201")
    opt = RegularizedEvolution(population_size=5, sample_size=200, num_init=5).setup(space, np.random.default_rng(0))
    for _ in range(30):
        members = list(opt.population_)
        g = opt.ask()
        if len(members) == 5:
            best = max(members, key=lambda m: m[1])[0]
            assert g in space.neighbours(best)
        opt.tell(g, hashed_value(space, g))


def test_evolution_asks_may_run_ahead_of_tells():
    opt = RegularizedEvolution().setup(get_space("nb201"), np.random.default_rng(0))
    asked = [opt.ask() for _ in range(15)]
    assert len(set(asked)) == 15


# ---------------------------------------------------------------------- model-based
def test_bananas_refits_once_per_batch():
    opt = BANANAS(**FAST["bananas"]).setup(get_space("nb201"), np.random.default_rng(0))
    for n in range(1, 31):
        g = opt.ask()
        opt.tell(g, hashed_value(opt.space_, g))
        assert opt.rounds_ == math.ceil(max(0, n - 10) / 5)


def test_model_based_search_random_until_two_real_values():
    opt = BANANAS(**FAST["bananas"]).setup(get_space("nb201"), np.random.default_rng(0))
    for _ in range(14):
        g = opt.ask()
        opt.tell(g, math.nan)
    assert opt.rounds_ == 0
    for _ in range(3):
        g = opt.ask()
        opt.tell(g, hashed_value(opt.space_, g))
    assert opt.rounds_ == 1


def test_bananas_candidates_are_mutations_of_the_best():
    space = get_space("nb201")
    opt = BANANAS(**FAST["bananas"]).setup(space, np.random.default_rng(0))
    run = drive(opt, hashed_value, 10)
    top = sorted(run, key=lambda item: -item[1])[:5]
    near = {n for g, _ in top for n in space.neighbours(g)}
    batch = [opt.ask()] + list(opt.queue_)
    assert len(batch) == 5 and set(batch) <= near


def test_its_acquisition_is_seeded_and_differs_from_the_mean():
    space = get_space("nb201")

    def first_batch(acquisition, seed):
        opt = BANANAS(acquisition=acquisition, **FAST["bananas"]).setup(space, np.random.default_rng(seed))
        drive(opt, hashed_value, 10)
        return [opt.ask()] + list(opt.queue_)

    assert first_batch("its", 1) == first_batch("its", 1)
    assert any(first_batch("its", seed) != first_batch("mean", seed) for seed in range(3))


def test_mlp_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.random((7, 4)).astype(np.float32)
    y = rng.standard_normal(7).astype(np.float32)
    net = EnsembleMLP(2, 4, 3, 5, rng)
    xs = np.broadcast_to(x, (2, 7, 4))
    ys = np.broadcast_to(y, (2, 7))

    def loss():
        return np.abs(net.predict(x) - y).mean(axis=1).sum()

    net._gradient(xs, ys)
    analytic = net.grads.copy()
    h = 1e-3
    for i in rng.choice(len(net.params), 40, replace=False):
        old = net.params[i]
        net.params[i] = old + h
        up = loss()
        net.params[i] = old - h
        down = loss()
        net.params[i] = old
        assert (up - down) / (2 * h) == pytest.approx(analytic[i], abs=2e-3)


def test_mlp_learns_and_is_reproducible():
    rng = np.random.default_rng(0)
    x = (rng.random((120, 12)) < 0.5).astype(np.float32)
    y = x[:, :4].sum(axis=1) - x[:, 4:6].sum(axis=1)
    nets = [EnsembleMLP(3, 12, 4, 16, np.random.default_rng(1)) for _ in range(2)]
    for net in nets:
        net.fit(x, y, np.random.default_rng(2), epochs=300, learning_rate=0.01)
    np.testing.assert_array_equal(nets[0].predict(x), nets[1].predict(x))
    assert np.abs(nets[0].predict(x) - y).mean() < 0.2 * np.abs(y - y.mean()).mean()
    minibatch = EnsembleMLP(3, 12, 4, 16, np.random.default_rng(1)).fit(x, y, np.random.default_rng(2), epochs=40, learning_rate=0.01, batch_size=32)
    assert np.abs(minibatch.predict(x) - y).mean() < 0.3 * np.abs(y - y.mean()).mean()


def test_gp_interpolates_and_is_uncertain_far_away():
    rng = np.random.default_rng(0)
    x = (rng.random((60, 10)) < 0.5).astype(float)
    y = x @ np.linspace(-1, 1, 10)
    gp = GaussianProcess().fit(x, y)
    mean, std = gp.predict(x)
    assert np.abs(mean - y).max() < 0.1 * np.ptp(y)
    fresh = (rng.random((200, 10)) < 0.5).astype(float)
    unseen = ~(fresh[:, None, :] == x[None]).all(axis=2).any(axis=1)
    mean_new, std_new = gp.predict(fresh[unseen])
    assert np.corrcoef(mean_new, fresh[unseen] @ np.linspace(-1, 1, 10))[0, 1] > 0.9
    assert std.mean() < std_new.mean()


def test_expected_improvement_and_normal_scores():
    mean, std = np.array([0.0, 1.0, 2.0, 1.0]), np.array([1.0, 0.5, 0.0, 0.0])
    ei = expected_improvement(mean, std, 1.5)
    z = (mean[:2] - 1.5) / std[:2]
    np.testing.assert_allclose(ei[:2], (mean[:2] - 1.5) * norm.cdf(z) + std[:2] * norm.pdf(z))
    np.testing.assert_allclose(ei[2:], [0.5, 0.0])
    scores = normal_scores(np.array([3.0, 1.0, 2.0, 2.0]))
    assert scores[1] < scores[2] == scores[3] < scores[0] and abs(scores.sum()) < 1e-12


# ---------------------------------------------------------------------- do they search?
def _final_bests(make, bench, trials, budget, noise="mean"):
    rows = {g: r for r, g in enumerate(bench.space.enumerate())}
    out = []
    for trial in range(trials):
        opt = make().setup(bench.space, np.random.default_rng(1000 + trial))
        noise_rng = np.random.default_rng(trial)
        best = -math.inf
        for _ in range(budget):
            g = opt.ask()
            v = bench.query_row(rows[g], noise=noise, rng=noise_rng).metrics[bench.objective]
            opt.tell(g, v)
            best = max(best, bench.query_row(rows[g]).metrics[bench.objective])
        out.append(best)
    return np.mean(out)


def test_search_strategies_beat_random_search(nb201_table):
    bench, _ = nb201_table
    # 8 trials x 60 queries: enough for each strategy to separate from random search
    # (4 x 40 left evolution within noise of it); the slow tests below use more.
    random_best = _final_bests(RandomSearch, bench, 8, 60)
    for name in ("bananas", "gp", "local", "evolution"):
        assert _final_bests(lambda: make_optimizer(name), bench, 8, 60) > random_best, name


@pytest.mark.slow
@pytest.mark.parametrize("noise", ["mean", "seed"])
def test_bananas_and_gp_beat_random_search_in_100_queries(nb201_table, noise):
    bench, _ = nb201_table
    random_best = _final_bests(RandomSearch, bench, 10, 100, noise)
    for name in ("bananas", "gp"):
        assert _final_bests(lambda: make_optimizer(name), bench, 10, 100, noise) > random_best, name
