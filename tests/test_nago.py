"""NAGO: the generator space, its graphs, its network and its Bayesian optimisation."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
from conformance import check_space
from optimizer_conformance import CubeSpace, check_optimizer, drive, hashed_value

from archscape.errors import (
    ArchscapeError,
    InvalidArchitecture,
    UnknownName,
    UnsupportedOperation,
)
from archscape.params import InvalidParameter
from archscape.search import make_optimizer
from archscape.search.nago_bo import (
    NagoBO,
    brackets,
    expected_hypervolume_improvement,
    nondominated_ranks,
    pareto_mask,
)
from archscape.search.random import RandomSearch
from archscape.spaces import get_space
from archscape.spaces.nago import (
    NagoGraphs,
    NagoSpace,
    count_parameters,
    node_stages,
    sample_graphs,
    stage_widths,
    width_for_budget,
)

EXAMPLE = "top=ws(N=6,K=4,P=0.75);mid=er(N=5,P=0.5);bottom=ws(N=4,K=2,P=0.3)"


def samples(space: NagoSpace, n: int, seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


# ====================================================================== space
@pytest.mark.parametrize(
    "space",
    [NagoSpace(), NagoSpace(top="ba"), NagoSpace("er", "ba", "ws", p_step=0.01)],
    ids=["default", "ba-top", "er-ba-ws"],
)
def test_space_conformance(space):
    check_space(space)


def test_registry():
    space = get_space("nago")
    assert isinstance(space, NagoSpace) and space.generators == ("ws", "er", "ws")
    assert isinstance(make_optimizer("nago-bo"), NagoBO)


def test_genotype_shape_and_sampling():
    space = NagoSpace()
    assert space.dimension == 8
    assert space.parameter_names == ("top.N", "top.K", "top.P", "mid.N", "mid.P", "bottom.N", "bottom.K", "bottom.P")
    a, b, c = samples(space, 50, 1), samples(space, 50, 1), samples(space, 50, 2)
    assert a == b and a != c
    for g in a:
        assert space.canonical(g) == g
        assert all(type(v) is int for v in (g[0], g[1], g[3], g[5], g[6]))
        assert all(type(v) is float and v in space.p_grid for v in (g[2], g[4], g[7]))
        assert 3 <= g[0] <= 10 and g[1] in (2, 4) and g[1] <= g[0] - 1
    # every canonical value of N and P shows up
    many = samples(space, 2000, 3)
    assert {g[0] for g in many} == set(range(3, 11))
    assert {g[4] for g in many} == set(space.p_grid)
    assert space.p_grid[0] == 0.1 and space.p_grid[-1] == 1.0 and len(space.p_grid) == 19


def test_text_forms():
    space = NagoSpace()
    g = space.parse(EXAMPLE)
    assert g == (6, 4, 0.75, 5, 0.5, 4, 2, 0.3)
    assert space.format(g) == EXAMPLE
    assert space.parse("6,4,0.75,5,0.5,4,2,0.3") == g
    assert space.parse(" top = ws(n=6, k=4, p=0.75); mid=er(N=5,P=0.50) ; bottom=WS(N=4,K=2,P=.3) ") == g
    assert space.format_values(g) == "6,4,0.75,5,0.5,4,2,0.3"
    assert space.format(space.parse("3,5,1,3,1,10,2,0.1")) == "top=ws(N=3,K=5,P=1.0);mid=er(N=3,P=1.0);bottom=ws(N=10,K=2,P=0.1)"
    assert space.as_genotype("3,5,1,3,1,10,2,0.1") == (3, 2, 0.1, 3, 1.0, 10, 2, 0.1)
    ba = NagoSpace(top="ba")
    assert ba.format(ba.parse("6,2,5,0.5,4,2,0.3")) == "top=ba(N=6,M=2);mid=er(N=5,P=0.5);bottom=ws(N=4,K=2,P=0.3)"


@pytest.mark.parametrize(
    "text, match",
    [
        ("6,4,0.75,5,0.5,4,2", "8 comma-separated values"),
        ("6,4,0.73,5,0.5,4,2,0.3", "top.P must be a probability on the grid 0.1, 0.15"),
        ("6,4,0.75,5,0.5,4,2,1.05", "bottom.P"),
        ("11,4,0.75,5,0.5,4,2,0.3", r"top.N must be an int in \[3, 10\]"),
        ("6,1,0.75,5,0.5,4,2,0.3", r"top.K must be an int in \[2, 5\]"),
        ("6.0,4,0.75,5,0.5,4,2,0.3", "expected an integer"),
        ("top=ba(N=6,M=2);mid=er(N=5,P=0.5);bottom=ws(N=4,K=2,P=0.3)", "top level of this nago space uses ws"),
        ("top=ws(N=6,K=4,P=0.75);mid=er(N=5,P=0.5)", "lacks level"),
        ("top=ws(N=6,K=4);mid=er(N=5,P=0.5);bottom=ws(N=4,K=2,P=0.3)", "takes parameters N, K, P"),
        ("top=ws(N=6,K=4,P=0.75);top=ws(N=6,K=4,P=0.75);bottom=ws(N=4,K=2,P=0.3)", "given twice"),
        ("side=ws(N=6,K=4,P=0.75);mid=er(N=5,P=0.5);bottom=ws(N=4,K=2,P=0.3)", "unknown nago level 'side'"),
    ],
)
def test_parse_errors_are_one_line(text, match):
    with pytest.raises(InvalidArchitecture, match=match) as info:
        NagoSpace().parse(text)
    assert "\n" not in str(info.value)


def test_constructor_errors():
    with pytest.raises(UnknownName, match="unknown top-level graph generator 'xx'; accepted: ws, er, ba"):
        NagoSpace(top="xx")
    with pytest.raises(ArchscapeError, match="p_step must divide 0.9"):
        NagoSpace(p_step=0.07)


def test_odd_k_gives_the_graphs_of_k_minus_one():
    # networkx joins K // 2 ring neighbours per side and draws per such neighbour
    for n in (6, 9):
        for seed in range(20):
            assert sorted(nx.watts_strogatz_graph(n, 3, 0.4, seed=seed).edges()) == sorted(
                nx.watts_strogatz_graph(n, 2, 0.4, seed=seed).edges()
            )
            assert sorted(nx.watts_strogatz_graph(n, 5, 0.7, seed=seed).edges()) == sorted(
                nx.watts_strogatz_graph(n, 4, 0.7, seed=seed).edges()
            )
    # a complete ring lattice (K = N - 1) is not rewired
    for seed in range(20):
        assert nx.watts_strogatz_graph(5, 4, 0.9, seed=seed).number_of_edges() == 10


def test_canonical_form():
    space = NagoSpace()
    assert space.canonical((6, 3, 0.5, 5, 0.5, 6, 5, 0.5)) == (6, 2, 0.5, 5, 0.5, 6, 4, 0.5)
    assert space.canonical((4, 5, 0.5, 5, 0.5, 3, 4, 0.7)) == (4, 2, 0.5, 5, 0.5, 3, 2, 0.1)  # K clipped to N-1
    assert space.canonical((5, 5, 0.9, 5, 0.5, 5, 4, 0.3)) == (5, 4, 0.1, 5, 0.5, 5, 4, 0.1)  # complete lattice
    ba = NagoSpace("ba", "ba", "ba")
    assert ba.canonical((3, 5, 4, 1, 10, 5)) == (3, 2, 4, 1, 10, 5)
    # equal canonical forms draw equal graphs, for every seed
    for seed in range(5):
        assert space.sample_graphs((6, 3, 0.5, 5, 0.5, 5, 5, 0.9), seed) == space.sample_graphs((6, 2, 0.5, 5, 0.5, 5, 4, 0.1), seed)


def test_neighbourhood_is_one_step_and_symmetric():
    space = NagoSpace()
    for g in samples(space, 60, 5):
        nbrs = space.neighbours(g)
        assert nbrs and len(set(nbrs)) == len(nbrs) and g not in nbrs
        for h in nbrs:
            assert space.canonical(h) == h
            assert g in space.neighbours(h)
            diff = [i for i in range(8) if g[i] != h[i]]
            assert len(diff) == 1
            i = diff[0]
            step = {1: 2, 6: 2}.get(i, 1)
            if i in (2, 4, 7):
                assert abs(space.p_grid.index(g[i]) - space.p_grid.index(h[i])) == 1
            else:
                assert abs(g[i] - h[i]) == step
    # N=5, K=4 cannot lose a node without changing K, so that move is not a neighbour
    assert (4, 4, 0.1, 5, 0.5, 4, 2, 0.3) not in space.neighbours((5, 4, 0.1, 5, 0.5, 4, 2, 0.3))


def test_index_and_size():
    space = NagoSpace()
    # per WS level: N=3 (K=2, P fixed), N=4 (K=2), N=5 (K=2; K=4 with P fixed), N=6..10 (K=2, 4): 230; ER: 8 * 19
    assert space.size == 230 * 152 * 230
    for g in samples(space, 100, 7):
        assert space.from_index(space.index(g)) == g
    assert space.from_index(0) == (3, 2, 0.1, 3, 0.1, 3, 2, 0.1)
    assert space.from_index(space.size - 1) == (10, 4, 1.0, 10, 1.0, 10, 4, 1.0)


def test_encodings():
    space = NagoSpace()
    g = space.parse(EXAMPLE)
    v = space.encode(g, "onehot")
    assert v.shape == (8 + 2 + 19 + 8 + 19 + 8 + 2 + 19,) and v.sum() == 8
    u = space.unit_vector(g)
    np.testing.assert_allclose(u, [3 / 7, 2 / 3, 0.65 / 0.9, 2 / 7, 0.4 / 0.9, 1 / 7, 0, 0.2 / 0.9])
    for h in samples(space, 50, 8):
        assert space.from_unit(space.unit_vector(h)) == h
    assert space.from_unit(np.full(8, 2.0)) == (10, 4, 1.0, 10, 1.0, 10, 4, 1.0)
    assert space.unit_vectors(samples(space, 4)).shape == (4, 8)


def test_levels():
    assert NagoSpace().levels(NagoSpace().parse(EXAMPLE)) == (
        ("ws", {"N": 6, "K": 4, "P": 0.75}),
        ("er", {"N": 5, "P": 0.5}),
        ("ws", {"N": 4, "K": 2, "P": 0.3}),
    )


# ====================================================================== graphs
def test_graphs_are_seeded_and_hierarchical():
    space = NagoSpace()
    for g in samples(space, 8, 9):
        a, b = space.sample_graphs(g, 3), sample_graphs(g, 3)
        assert isinstance(a, NagoGraphs) and a == b
        assert a != space.sample_graphs(g, 4), "another seed draws other graphs"
        n_top, n_mid, n_bottom = g[0], g[3], g[5]
        assert a.top.n == n_top and len(a.mid) == n_top and len(a.bottom) == n_top
        assert all(m.n == n_mid for m in a.mid)
        assert all(len(cell) == n_mid and all(b.n == n_bottom for b in cell) for cell in a.bottom)
        assert a.n_operations == n_top * n_mid * n_bottom
        for dag in [a.top, *a.mid, *(b for cell in a.bottom for b in cell)]:
            assert all(u < v for u, v in dag.edges) and list(dag.edges) == sorted(set(dag.edges))
            assert 0 in dag.inputs and dag.n - 1 in dag.outputs
            for v in range(dag.n):
                assert (v in dag.inputs) == (not dag.preds[v])
                assert (v in dag.outputs) == all(u != v for u, _ in dag.edges)
    # the levels are drawn independently: cells differ
    g = space.parse("6,2,0.5,6,0.5,6,2,0.5")
    graphs = space.sample_graphs(g, 0)
    assert len(set(graphs.mid)) > 1 and len({b for cell in graphs.bottom for b in cell}) > 1


def test_graphs_do_not_touch_global_random_state():
    import random

    random.seed(1)
    np.random.seed(1)
    before = (random.random(), np.random.random())
    random.seed(1)
    np.random.seed(1)
    NagoSpace().sample_graphs(NagoSpace().parse(EXAMPLE), 0)
    assert (random.random(), np.random.random()) == before


def test_graph_seed_validation():
    with pytest.raises(ArchscapeError, match="non-negative int"):
        NagoSpace().sample_graphs(NagoSpace().parse(EXAMPLE), -1)


def test_stages_and_widths():
    assert node_stages(3) == (0, 1, 2)
    assert node_stages(4) == (0, 0, 1, 2)
    assert node_stages(10) == (0, 0, 0, 0, 1, 1, 1, 2, 2, 2)
    assert node_stages(4, (2, 1, 1)) == (0, 0, 1, 2)
    assert node_stages(5, (1,)) == (0,) * 5
    assert stage_widths(16) == (16, 32, 64)
    assert stage_widths(3, (1, 1.5, 2)) == (3, 4, 6)
    with pytest.raises(ArchscapeError, match="positive numbers"):
        node_stages(3, (1, 0, 1))


def test_width_for_budget_is_the_largest_within():
    space = NagoSpace()
    for g in samples(space, 5, 10):
        graphs = space.sample_graphs(g, 0)
        for budget in (2e4, 3e5, 1e6):
            w = width_for_budget(graphs, budget)
            if w > 1:
                assert count_parameters(graphs, w) <= budget
            assert count_parameters(graphs, w + 1) > budget


# ====================================================================== network
@pytest.fixture
def torch():
    """torch on one thread: these networks are hundreds of tiny convolutions, which threads only slow down."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def _net(genotype, **options):
    from archscape.train.models import build_network

    options.setdefault("param_budget", 0.02)
    return build_network("nago", genotype, num_classes=5, in_channels=3, input_size=8, **options)


def test_network_forward_backward_on_sampled_genotypes(torch):
    space = NagoSpace()
    for g in samples(space, 4, 11) + [space.parse("3,2,0.1,3,1.0,3,2,0.1")]:
        torch.manual_seed(0)
        net = _net(g)
        x = torch.randn(2, 3, 8, 8)
        y = net(x)
        assert y.shape == (2, 5)
        y.square().sum().backward()
        grads = [p.grad for p in net.parameters()]
        assert all(gr is not None and torch.isfinite(gr).all() for gr in grads)
        n = sum(p.numel() for p in net.parameters())
        assert n == net.expected_parameters == count_parameters(net.graphs, net.width, num_classes=5)
        assert net.width == 1 or n <= 0.02e6


def test_same_parameters_and_seed_give_the_same_network(torch):
    space = NagoSpace()
    x = torch.randn(3, 3, 8, 8)
    for g in samples(space, 3, 12):
        nets = []
        for _ in range(2):
            torch.manual_seed(5)
            nets.append(_net(space.format(g), graph_seed=7).eval())
        a, b = nets
        assert a.graphs == b.graphs and a.width == b.width
        assert sum(p.numel() for p in a.parameters()) == sum(p.numel() for p in b.parameters())
        with torch.no_grad():
            assert torch.equal(a(x), b(x))
        other = _net(g, graph_seed=8)
        assert other.graphs != a.graphs, "another graph seed samples another network"


def test_network_options_and_errors(torch):
    g = NagoSpace().parse(EXAMPLE)
    net = _net(g, channels=4)
    assert net.width == 4 and net.stem[0].out_channels == 4
    assert net(torch.randn(1, 3, 7, 7)).shape == (1, 5)  # odd sizes: ceil halving per stage
    wide = _net(g, param_budget=0.2)
    assert sum(p.numel() for p in wide.parameters()) <= 0.2e6 < count_parameters(wide.graphs, wide.width + 1, num_classes=5)
    flat = _net(g, channels=3, stage_ratios=(1,), channel_ratios=(1,))
    assert flat(torch.randn(1, 3, 8, 8)).shape == (1, 5)
    net = _net("top=ba(N=5,M=2);mid=er(N=3,P=0.5);bottom=ws(N=3,K=2,P=0.5)", generators=("ba", "er", "ws"), channels=2)
    assert net(torch.randn(1, 3, 8, 8)).shape == (1, 5)
    with pytest.raises(ArchscapeError, match="channels must be a positive int"):
        _net(g, channels=0)
    with pytest.raises(ArchscapeError, match="param_budget"):
        _net(g, param_budget=-1)
    with pytest.raises(ArchscapeError, match="same length"):
        _net(g, stage_ratios=(1, 1))
    with pytest.raises(InvalidArchitecture):
        _net("top=ws(N=6,K=4,P=0.73);mid=er(N=5,P=0.5);bottom=ws(N=4,K=2,P=0.3)")


@pytest.mark.slow
def test_the_largest_generator_trains_a_step(torch):
    g = NagoSpace().parse("10,4,0.5,10,0.5,10,4,0.5")
    torch.manual_seed(0)
    net = _net(g, param_budget=0.1)
    assert net.graphs.n_operations == 1000
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 3])
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    assert math.isfinite(loss.item())


def test_space_and_optimizer_do_not_import_torch():
    code = (
        "import sys, numpy as np; import archscape.spaces.nago as s, archscape.search.nago_bo as b;"
        "sp = s.NagoSpace(); g = sp.sample(np.random.default_rng(0)); sp.parameter_count(g, 8);"
        "o = b.NagoBO(num_init=2, min_points=2, multi_objective=True, num_candidates=5, num_random=5)"
        ".setup(sp, np.random.default_rng(0));"
        "[o.tell(x, float(i)) for i, x in enumerate(o.ask() for _ in range(4))];"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ====================================================================== schedule
def test_brackets():
    assert brackets(1, 9, 3) == [[(9, 1), (3, 3), (1, 9)], [(5, 3), (1, 9)], [(3, 9)]]
    assert brackets(4, 4, 3) == [[(1, 4)]]
    assert brackets(1, 27, 3)[0] == [(27, 1), (9, 3), (3, 9), (1, 27)]
    assert brackets(2, 20, 3) == [[(9, 2), (3, 7), (1, 20)], [(5, 7), (1, 20)], [(3, 20)]]


def _smooth(space: NagoSpace):
    centre = np.array([0.7, 0.3, 0.6, 0.4, 0.55, 0.6, 0.5, 0.35])
    weights = np.array([3, 1, 2, 2, 2, 2, 1, 1.5])
    return lambda g: float(100 - 50 * np.sum(weights * (space.unit_vector(g) - centre) ** 2))


FAST = {"num_candidates": 30, "num_random": 30}


def test_fidelity_schedule_and_promotions():
    space = NagoSpace()
    f = _smooth(space)
    opt = NagoBO(**FAST).setup(space, np.random.default_rng(0))
    run = []
    for _ in range(44):
        g = opt.ask()
        opt.tell(g, f(g))
        run.append((g, opt.requested_fidelity(g)))
    cycle = [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] + [9] * 3
    assert [e for _, e in run] == cycle * 2
    for start in (0, 22):
        rung0 = sorted(run[start : start + 9], key=lambda item: -f(item[0]))
        for j, (g, _) in enumerate(run[start + 9 : start + 12]):
            assert g in space.neighbours(rung0[j][0]), "rung 1 promotes to a neighbour of the j-th best of rung 0"
        best3 = max(run[start + 9 : start + 12], key=lambda item: f(item[0]))[0]
        assert run[start + 12][0] in space.neighbours(best3)
        best_bracket2 = max(run[start + 13 : start + 18], key=lambda item: f(item[0]))[0]
        assert run[start + 18][0] in space.neighbours(best_bracket2)
    # the model is fit on the highest fidelity with min_points (9) results: 9 epochs has 10 by now
    assert opt.model_fidelity_ == 9
    assert opt.incumbent()[1] == max(f(g) for g, e in run if e == 9)
    unasked = next(g for g in samples(space, 100, 99) if g not in dict(run))
    with pytest.raises(ArchscapeError, match="was not asked"):
        opt.requested_fidelity(unasked)


def test_single_fidelity_is_plain_bo():
    opt = NagoBO(min_epochs=5, max_epochs=5, **FAST).setup(NagoSpace(), np.random.default_rng(0))
    run = drive(opt, lambda space, g: hashed_value(space, g), 12)
    assert {opt.requested_fidelity(g) for g, _ in run} == {5}
    assert opt.model_fidelity_ == 5


def test_parameter_checks():
    with pytest.raises(InvalidParameter, match="'max_epochs' parameter of NagoBO must be at least min_epochs=3. Got 2 instead."):
        NagoBO(min_epochs=3, max_epochs=2).setup(NagoSpace(), np.random.default_rng(0))
    with pytest.raises(UnsupportedOperation, match="multi-objective mode needs size_fn"):
        NagoBO(multi_objective=True).setup(CubeSpace(), np.random.default_rng(0))
    NagoBO(multi_objective=True, size_fn=lambda g: sum(g)).setup(CubeSpace(), np.random.default_rng(0))


def test_conformance_on_the_nago_space():
    check_optimizer(lambda **kw: NagoBO(**{**FAST, "num_init": 4, "min_points": 4, **kw}), NagoSpace(), budget=20)


@pytest.mark.slow
def test_conformance_on_the_nago_space_with_defaults():
    check_optimizer(NagoBO, NagoSpace(), budget=40)


@pytest.mark.slow
def test_beats_random_search_on_a_smooth_function():
    space = NagoSpace()
    f = _smooth(space)

    def best_of(opt, seed, budget=40):
        opt.setup(space, np.random.default_rng(seed))
        return max(v for _, v in drive(opt, lambda s, g: f(g), budget))

    seeds = range(5)
    bo = [best_of(NagoBO(min_epochs=1, max_epochs=1), s) for s in seeds]
    rs = [best_of(RandomSearch(), s) for s in seeds]
    assert np.mean(bo) > np.mean(rs) + 5, (bo, rs)
    assert sum(b > r for b, r in zip(bo, rs)) >= 4


@pytest.mark.slow
def test_multi_fidelity_beats_random_search_at_equal_epochs():
    # low fidelities are biased and noisy versions of the full-fidelity value
    space = NagoSpace()
    f = _smooth(space)

    def observed(g, epochs):
        noise = np.random.default_rng(space.index(g)).normal()
        return f(g) - 10 / epochs + 3 * noise / epochs

    epochs_per_cycle = 9 * 1 + 8 * 3 + 5 * 9  # 78 epochs in 22 evaluations
    bo_best, rs_best = [], []
    for seed in range(4):
        opt = NagoBO().setup(space, np.random.default_rng(seed))
        for _ in range(44):
            g = opt.ask()
            opt.tell(g, observed(g, opt.requested_fidelity(g)))
        bo_best.append(f(opt.incumbent()[0]))
        rs = RandomSearch().setup(space, np.random.default_rng(seed))
        rs_best.append(max(f(g) for g, _ in drive(rs, lambda s, g: 0.0, 2 * epochs_per_cycle // 9)))
    assert np.mean(bo_best) > np.mean(rs_best), (bo_best, rs_best)


# ====================================================================== Pareto
def test_pareto_mask_is_exact():
    values = np.array([1.0, 2.0, 2.0, 3.0, 3.0, 0.5, 2.0])
    sizes = np.array([1.0, 2.0, 1.5, 3.0, 3.0, 0.5, 1.5])
    # 1 is dominated by 2 (same value, smaller); 3 and 4 are equal (both kept); 6 equals 2 (both kept)
    assert pareto_mask(values, sizes).tolist() == [True, False, True, True, True, True, True]
    assert nondominated_ranks(values, sizes).tolist() == [0, 1, 0, 0, 0, 0, 0]
    assert nondominated_ranks([1, 2, 3], [3, 2, 1]).tolist() == [2, 1, 0]
    with pytest.raises(ArchscapeError):
        pareto_mask([1, 2], [1])


def _hypervolume(points, ref_value, ref_size):
    """Area dominated by (value up, size down) points within the reference box, by sweeping sizes."""
    pts = [(s, v) for v, s in points if v > ref_value and s < ref_size]
    cuts = sorted({s for s, _ in pts} | {ref_size})
    area = 0.0
    for lo, hi in itertools.pairwise(cuts):
        best = max([v for s, v in pts if s <= lo], default=ref_value)
        area += (hi - lo) * (best - ref_value)
    return area


def test_expected_hypervolume_improvement_matches_monte_carlo():
    front = [(0.6, 1.0), (0.7, 2.0), (0.9, 4.0)]  # (value, size)
    ref_value, ref_size = 0.5, 5.0
    base = _hypervolume(front, ref_value, ref_size)
    mean, std, sizes = np.array([0.8, 0.65, 0.95, 0.7]), np.array([0.1, 0.05, 0.02, 0.0]), np.array([1.5, 0.5, 4.5, 3.0])
    exact = expected_hypervolume_improvement(
        mean, std, sizes, np.array([v for v, _ in front]), np.array([s for _, s in front]), ref_value, ref_size
    )
    rng = np.random.default_rng(0)
    for k in range(len(mean)):
        draws = mean[k] + std[k] * rng.standard_normal(4000)
        mc = np.mean([_hypervolume(front + [(a, sizes[k])], ref_value, ref_size) - base for a in draws])
        assert exact[k] == pytest.approx(mc, rel=0.05, abs=1e-3)
    # a point inside the dominated region adds nothing
    assert expected_hypervolume_improvement(
        np.array([0.6]), np.array([0.0]), np.array([3.0]), np.array([0.7]), np.array([2.0]), 0.5, 5.0
    )[0] == 0.0


def _two_objective_run(seed, budget=40, **params):
    space = NagoSpace()
    f = _smooth(space)

    def size(g):  # a cheap size: total nodes of a generator's levels
        return float(g[0] * g[3] * g[5])

    opt = NagoBO(multi_objective=True, size_fn=size, min_epochs=1, max_epochs=1, **{**FAST, **params})
    opt.setup(space, np.random.default_rng(seed))
    run = drive(opt, lambda s, g: f(g) + (math.nan if hashed_value(s, g) < 5 else 0.0), budget)
    return opt, run, size


def test_multi_objective_pareto_front_is_exact():
    opt, run, size = _two_objective_run(0)
    front = opt.pareto_front()
    told = [(g, v, size(g)) for g, v in run if not math.isnan(v)]
    on_front = {g for g, _, _ in (p[:3] for p in front)}
    assert front and all(p.fidelity == 1 for p in front)
    assert [p.size for p in front] == sorted(p.size for p in front)
    for g, v, s in told:
        dominated = any(v2 >= v and s2 <= s and (v2 > v or s2 < s) for _, v2, s2 in told)
        assert (g in on_front) == (not dominated)
    for p in front:
        assert p.value == {g: v for g, v in run}[p.genotype] and p.size == size(p.genotype)
    # failed evaluations are never on the front
    assert all(not math.isnan(p.value) for p in front)


def test_multi_objective_spreads_along_the_front():
    # EHVI rewards small models too: the front of a BO run spans more sizes than accuracy-only BO's best
    opt, run, size = _two_objective_run(1, budget=30)
    front = opt.pareto_front()
    assert len(front) >= 3
    assert min(p.size for p in front) < np.median([size(g) for g, _ in run])


def test_multi_objective_with_the_builtin_parameter_count():
    space = NagoSpace()
    opt = NagoBO(multi_objective=True, num_init=3, min_points=3, num_candidates=8, num_random=8, size_channels=4)
    opt.setup(space, np.random.default_rng(0))
    run = drive(opt, hashed_value, 8)
    for g, _ in run:
        assert opt.size_of(g) == space.parameter_count(g, 4)
    assert opt.pareto_front()
    with pytest.raises(UnsupportedOperation, match="pass size_fn"):
        NagoBO().setup(CubeSpace(), np.random.default_rng(0)).size_of((0, 0, 0, 0, 0))


def test_ucb_and_replay_in_multi_objective_mode():
    a, run, _ = _two_objective_run(3, budget=16, acquisition="ucb")
    b, again, _ = _two_objective_run(3, budget=16, acquisition="ucb")
    assert [g for g, _ in run] == [g for g, _ in again]
    assert a.pareto_front() == b.pareto_front()
