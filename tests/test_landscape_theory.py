"""The local-search theory: closed forms, a hand-made cube, random graphs, the real tables, the ``theory`` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import cube_bench, needs
from optimizer_conformance import CubeSpace
from scipy.integrate import quad

import archscape
import archscape.benchmarks
from archscape.errors import ArchscapeError
from archscape.cli.landscape import theory_cmd
from archscape.landscape.theory import (
    NeighbourModel,
    descend,
    local_minima,
    loss_rank,
    theory_analysis,
    theory_table,
)


# ---------------------------------------------------------------------- the model without structure
# With pdf_n(v, u) = pdf(u) (uniform losses on the rank scale): S(u, v) = 1 - v, p(v) = (1 - v)^s,
# E|LS^-1(v)| = s (1 - v)^s, and B(v) = 1 + s (1-v)^(s-1) W(1-v) with W(z) = e^(z^s) int_0^z e^(-w^s) dw.


@pytest.mark.parametrize("s", [3, 5, 24])
def test_independent_model_closed_forms(s):
    model = NeighbourModel.independent(128, s)
    x = model.points
    np.testing.assert_allclose(model.better_free(), 1 - x, atol=1e-12)
    np.testing.assert_allclose(model.minimum_probability(), (1 - x) ** s, atol=1e-12)
    np.testing.assert_allclose(model.preimage(), s * (1 - x) ** s, atol=1e-10)
    # expected number of local minima per architecture: integral (1-v)^s dv = 1/(s+1)
    assert model.minimum_probability().mean() == pytest.approx(1 / (s + 1), rel=1e-4)

    def basin(v):
        z = 1 - v
        return 1 + s * z ** (s - 1) * math.exp(z**s) * quad(lambda w: math.exp(-(w**s)), 0, z)[0]

    b = model.basin()
    for k in range(0, len(x), 97):
        assert b[k] == pytest.approx(basin(x[k]), rel=1e-3)
    # every start ends somewhere: both recursions account for all of them
    deg = np.full(len(x), float(s))
    assert model.ends(x, deg, "paper").mean() == pytest.approx(1, abs=1e-3)
    assert model.ends(x, deg, "conditioned").mean() == pytest.approx(1, abs=1e-3)


def test_conditioned_recursion_is_exact_on_a_random_regular_graph():
    """On a locally tree-like graph with independent losses the conditioned recursion matches simulation."""
    rng = np.random.default_rng(0)
    n, s = 60_000, 3
    stubs = rng.permutation(np.repeat(np.arange(n), s)).reshape(-1, 2)
    src = np.concatenate([stubs[:, 0], stubs[:, 1]])
    dst = np.concatenate([stubs[:, 1], stubs[:, 0]])
    nbrs = dst[np.argsort(src, kind="stable")].reshape(n, s)
    nbrs[nbrs == np.arange(n)[:, None]] = -1  # the rare self-loop
    loss = rng.random(n)
    _, end = descend(-loss, nbrs)
    model = NeighbourModel.independent(256, s)
    x = model.points
    deg = np.full(len(x), float(s))
    for eps in (0.01, 0.05):
        simulated = np.mean(loss[end] < eps)
        conditioned = model.ends(x, deg, "conditioned")[x < eps].sum() / len(x)
        paper = model.ends(x, deg, "paper")[x < eps].sum() / len(x)
        se = math.sqrt(simulated * (1 - simulated) / n)
        assert abs(conditioned - simulated) < 4 * se + 0.002
        assert paper - simulated > 4 * se  # the paper's recursion overcounts near the optimum


# ---------------------------------------------------------------------- exhaustive local search
def test_descend_by_hand():
    # a path 0 - 1 - 2 - 3 - 4 with a plateau (2, 3) and a missing value
    values = np.array([1.0, 3.0, 3.0, 2.0, np.nan])
    nbrs = np.array([[1, -1], [0, 2], [1, 3], [2, 4], [3, -1]])
    step, end = descend(values, nbrs)
    assert step.tolist() == [1, 1, 2, 2, 4]  # a tie is no move; NaN neither moves nor is moved to
    assert end.tolist() == [1, 1, 2, 2, 4]
    assert local_minima(values, nbrs).tolist() == [False, True, True, False, False]
    # equally good best neighbours: the lowest row wins, whatever the neighbour order
    step, _ = descend(np.array([1.0, 5.0, 5.0]), np.array([[2, 1], [0, -1], [0, -1]]))
    assert step.tolist() == [1, 1, 2]


def test_truth_is_the_exhaustive_analysis():
    from archscape.landscape.exhaustive import exhaustive_analysis
    from archscape.landscape.table import finite_landscape

    bench = archscape.load_benchmark("nb201-cifar10")
    for noise in ("mean", 2):
        a = theory_analysis(bench, noise, runs=0)
        e = exhaustive_analysis(finite_landscape(bench, noise=noise), eps=a.epsilons).summary()
        assert int(a.is_min.sum()) == e["n_local_optima"]
        assert a.exhaustive_within(a.epsilons).tolist() == pytest.approx(list(e["within_eps"].values()))
        assert a.optimum[1] == e["optimum_value"]


def test_loss_rank():
    np.testing.assert_allclose(loss_rank(np.array([0.3, 0.1, 0.2, 0.2])), [3.5 / 4, 0.5 / 4, 2 / 4, 2 / 4])


# ---------------------------------------------------------------------- a cube by hand
# The cube {0,1}^3 (s = 3) with distinct accuracies; a local minimum of the loss is a local
# maximum of the accuracy.  With no smoothing and one grid cell per architecture, pdf_n is the
# empirical neighbour distribution, so p(v) = (share of neighbours worse than v)^3.
CUBE = {"000": 1, "001": 5, "010": 3, "011": 8, "100": 6, "101": 2, "110": 7, "111": 4}
#: worse neighbours out of three, by hand
WORSE = {"000": 0, "001": 2, "010": 1, "011": 3, "100": 2, "101": 0, "110": 3, "111": 1}


@pytest.fixture(scope="module")
def cube():
    space = CubeSpace(3)
    values = np.zeros(8)
    for text, v in CUBE.items():
        values[space.index(space.parse(text))] = v
    bench = cube_bench(values, 3)
    return bench, theory_analysis(bench, epsilons=(0.5, 1.0), grid=8, bandwidth=0.0, runs=40)


def test_cube_local_minimum_probability_by_hand(cube):
    bench, a = cube
    space = bench.space
    for text, worse in WORSE.items():
        assert a.p_min[space.index(space.parse(text))] == pytest.approx((worse / 3) ** 3)
    assert a.predicted_minima() == pytest.approx(2 + 2 / 3)
    assert a.random_minima() == pytest.approx(8 / 4)


def test_cube_exhaustive_and_simulated(cube):
    bench, a = cube
    space = bench.space
    # 011 (8) and 110 (7) are the local optima; best improvement sends 001, 010, 111 to 011
    # and 000 (via 100), 100, 101 (via 100) to 110
    assert sorted(space.format(space.from_index(r)) for r in np.flatnonzero(a.is_min)) == ["011", "110"]
    ends = {space.format(space.from_index(r)): space.format(space.from_index(a.end[r])) for r in range(8)}
    assert ends == {"000": "110", "001": "011", "010": "011", "011": "011",
                    "100": "110", "101": "110", "110": "110", "111": "011"}
    np.testing.assert_allclose(a.exhaustive_within([0.5, 1.0]), [0.5, 1.0])
    # the real LocalSearch ends where the exhaustive search does
    assert {space.format(space.from_index(r)) for r in a.sim_end} == {"011", "110"}
    assert a.simulated_within(1.0)[0] == 1.0
    assert 0.25 < a.simulated_within(0.5)[0] < 0.75


def test_cube_table_is_json_ready(cube):
    bench, _ = cube
    table = theory_table(bench, epsilons=(0.5,), grid=8, bandwidth=0.0, runs=5)
    json.dumps(table, allow_nan=False)
    assert table["local_minima"]["exhaustive"] == 2
    assert table["local_minima"]["predicted"] == pytest.approx(8 / 3)
    assert table["within_epsilon"][0]["exhaustive"] == 0.5
    assert table["optimum"] == {"arch": "011", "accuracy": 8.0, "loss": pytest.approx(0.92)}


def test_simulation_is_seeded(cube):
    bench, a = cube
    again = theory_analysis(bench, epsilons=(0.5, 1.0), grid=8, bandwidth=0.0, runs=40)
    assert again.sim_end.tolist() == a.sim_end.tolist()
    other = theory_analysis(bench, epsilons=(0.5, 1.0), grid=8, bandwidth=0.0, runs=40, seed=1)
    assert other.sim_end.tolist() != a.sim_end.tolist()


@pytest.mark.parametrize(
    "options, message",
    [
        ({"noise": "seed"}, "not 'seed'"),
        ({"noise": 3}, "seed 3 does not exist"),
        ({"bandwidth": -1.0}, "bandwidth must be >= 0"),
        ({"grid": 1}, "grid must be"),
        ({"epsilons": (-0.1,)}, "epsilons must be >= 0"),
        ({"improvement": "steepest"}, "unknown improvement"),
    ],
)
def test_bad_options_are_one_line(cube, options, message):
    bench, _ = cube
    with pytest.raises(ArchscapeError) as info:
        theory_analysis(bench, runs=0, **options)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_random_values_give_the_random_count():
    """Independent values on a regular graph: about n / (s + 1) local minima, predicted and true."""
    rng = np.random.default_rng(3)
    bench = cube_bench(rng.random(2**12), 12)  # 4096 architectures, 12 neighbours each
    a = theory_analysis(bench, runs=0, epsilons=(5.0,))
    expected = 4096 / 13
    assert a.predicted_minima() == pytest.approx(expected, rel=0.05)
    assert a.is_min.sum() == pytest.approx(expected, rel=0.15)
    assert a.total_mass() == pytest.approx(1, abs=0.01)
    assert a.total_mass("conditioned") == pytest.approx(1, abs=0.01)


# ---------------------------------------------------------------------- real tables
def test_nb201_cifar10_theory():
    bench = archscape.load_benchmark("nb201-cifar10")
    a = theory_analysis(bench, runs=30)
    s = a.summary()
    json.dumps(s, allow_nan=False)
    assert s["n_architectures"] == 15625 and s["neighbourhood_size"] == 24
    minima = s["local_minima"]
    # structure: far fewer local minima than a random landscape, and the theory sees it
    assert minima["exhaustive"] < minima["predicted"] < minima["random_landscape"] / 4
    assert minima["random_landscape"] == pytest.approx(15625 / 25)
    # the numerics account for every starting point
    assert s["total_mass"]["paper"] == pytest.approx(1, abs=0.01)
    # the truth is a share, rising with epsilon, far above what a random landscape gives
    within = s["within_epsilon"]
    assert [w["epsilon"] for w in within] == [0.1, 0.5, 1.0]
    truth = [w["exhaustive"] for w in within]
    assert truth == sorted(truth) and truth[-1] > 0.95
    assert all(w["exhaustive"] > w["random_landscape"] for w in within)
    assert s["simulation"]["runs"] == 30 and s["simulation"]["mean_queries"] > 24


@pytest.mark.slow
@pytest.mark.parametrize("name", ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"])
@pytest.mark.parametrize("noise", ["mean", 0, 1])
def test_nb201_simulation_matches_the_exhaustive_truth(name, noise):
    a = theory_analysis(archscape.load_benchmark(name), noise, epsilons=(0.1, 0.5, 1.0, 2.0), runs=300)
    for truth, sim in zip(a.exhaustive_within(a.epsilons), a.simulated_within(a.epsilons)):
        se = math.sqrt(max(truth * (1 - truth), 0.01) / 300)
        assert abs(sim - truth) < 4 * se
    assert a.is_min.sum() < a.random_minima() / 5


@needs("nas-bench-macro")
def test_macro_theory():
    a = theory_analysis(archscape.load_benchmark("nas-bench-macro"), runs=0)
    assert a.s == 16 and a.n == 6561
    assert a.is_min.sum() < a.predicted_minima() < a.random_minima()


# ---------------------------------------------------------------------- the command
@pytest.fixture
def fake_cube(monkeypatch, cube):
    bench, _ = cube
    real = archscape.benchmarks.load_benchmark
    monkeypatch.setattr(archscape.benchmarks, "load_benchmark", lambda name: bench if name == "cube" else real(name))
    return bench


def test_theory_command(fake_cube, tmp_path):
    runner = CliRunner()
    result = runner.invoke(theory_cmd, ["cube", "--runs", "10", "--bandwidth", "0", "--epsilon", "0.5", "--epsilon", "1"])
    assert result.exit_code == 0, result.output
    assert "local minima: predicted" in result.output and "exhaustive 2," in result.output
    assert "simulated: 10 LocalSearch descents" in result.output

    result = runner.invoke(theory_cmd, ["cube", "--runs", "10", "--noise", "0", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["noise"] == 0 and data["local_minima"]["exhaustive"] == 2
    assert [w["epsilon"] for w in data["within_epsilon"]] == [0.1, 0.5, 1.0]
    assert json.loads((tmp_path / f"{fake_cube.name}-theory-seed0.json").read_text()) == data
    assert (tmp_path / f"{fake_cube.name}-theory-seed0.png").stat().st_size > 0
    assert (tmp_path / f"{fake_cube.name}-theory-seed0.pdf").stat().st_size > 0


@pytest.mark.parametrize("args, message", [(["cube", "--noise", "seed"], "not 'seed'"),
                                           (["cube", "--noise", "often"], "unknown noise mode"),
                                           (["cube", "--noise", "2"], "seed 2 does not exist"),
                                           (["no-such-bench"], "unknown benchmark")])
def test_theory_command_errors(fake_cube, args, message):
    result = CliRunner().invoke(theory_cmd, args)
    assert isinstance(result.exception, ArchscapeError), result.output
    assert message in str(result.exception) and "\n" not in str(result.exception)
