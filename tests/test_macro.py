"""The NAS-Bench-Macro space and benchmark."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archscape.benchmarks import load_benchmark
from archscape.data import registry
from archscape.errors import ArchscapeError, InvalidArchitecture, UnsupportedOperation
from archscape.spaces import get_space
from archscape.spaces.macro import SIZE, MacroSpace, trained_as

SPACE = MacroSpace()
chains = st.tuples(*[st.integers(0, 2)] * 8)


# ------------------------------------------------------------------ space
def test_index_round_trip_over_the_whole_space():
    texts = []
    for i in range(SIZE):
        g = SPACE.from_index(i)
        assert SPACE.index(g) == i
        texts.append(SPACE.format(g))
        assert int(texts[-1], 3) == i  # the base-3 number of the key
    assert texts == sorted(texts) and len(set(texts)) == SIZE == 3**8
    assert list(SPACE.enumerate())[:3] == [(0,) * 8, (0,) * 7 + (1,), (0,) * 7 + (2,)]
    with pytest.raises(InvalidArchitecture):
        SPACE.from_index(SIZE)
    assert get_space("macro").as_genotype(int("02012100", 3)) == (0, 2, 0, 1, 2, 1, 0, 0)


@given(chains)
def test_parse_format_round_trip(g):
    text = SPACE.format(g)
    assert len(text) == 8 and SPACE.parse(text) == g and SPACE.parse(f"  {text}\n") == g
    assert SPACE.canonical(g) == g  # every string is its own entry


@pytest.mark.parametrize("bad", ["", "0201210", "020121000", "02012103", "0201210a", "0 2 0 1 2 1 0 0", "mb3_k3"])
def test_bad_strings_are_rejected_with_one_line(bad):
    with pytest.raises(InvalidArchitecture) as info:
        SPACE.parse(bad)
    assert "\n" not in str(info.value) and "8 digits" in str(info.value)


def test_bad_genotypes_are_rejected():
    for bad in [(0,) * 7, (0,) * 7 + (3,), (0,) * 7 + (-1,), (True,) * 8, "02012100"]:
        with pytest.raises(InvalidArchitecture):
            SPACE.validate(bad)
    assert SPACE.validate(np.array([0, 2, 0, 1, 2, 1, 0, 0])) == (0, 2, 0, 1, 2, 1, 0, 0)


@given(chains)
def test_neighbours_change_one_layer_and_are_symmetric(g):
    nbrs = SPACE.neighbours(g)
    assert len(nbrs) == len(set(nbrs)) == 8 * 2 and g not in nbrs
    for n in nbrs:
        assert sum(a != b for a, b in zip(n, g)) == 1
        assert g in SPACE.neighbours(n)


def test_mutate_is_a_uniform_neighbour_pick():
    g = (0, 2, 0, 1, 2, 1, 0, 0)
    nbrs = SPACE.neighbours(g)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    picks = [SPACE.mutate(g, a) for _ in range(400)]
    assert picks[:50] == [nbrs[int(b.integers(len(nbrs)))] for _ in range(50)]
    assert set(picks) == set(nbrs)


def test_encodings():
    g = SPACE.parse("02012100")
    np.testing.assert_array_equal(SPACE.encode(g, "opcount"), [4, 2, 2])
    onehot = SPACE.encode(g, "onehot").reshape(8, 3)
    assert onehot.argmax(axis=1).tolist() == list(g) and onehot.sum() == 8
    gs = [SPACE.from_index(i) for i in range(0, SIZE, 97)]
    for enc in ("onehot", "opcount"):
        np.testing.assert_array_equal(SPACE.encode_many(gs, enc), np.stack([SPACE.encode(x, enc) for x in gs]))
    with pytest.raises(UnsupportedOperation, match="no 'path' encoding"):
        SPACE.encode(g, "path")


def test_trained_as_moves_identities_to_the_end_of_their_stage():
    assert trained_as((0, 0, 0, 1, 2, 0, 0, 1)) == (0, 0, 0, 1, 2, 0, 1, 0)
    assert trained_as((1, 0, 2, 0, 1, 1, 0, 2)) == (1, 0, 2, 1, 0, 1, 2, 0)
    reps = {trained_as(g) for g in SPACE.enumerate()}
    # stage 1: 3 x 3; stages 2 and 3: 3 heads x (1 + 2 + 4) block sequences
    assert len(reps) == 9 * 21 * 21 == 3969
    assert all(trained_as(r) == r for r in reps)


# -------------------------------------------------------------- benchmark
@pytest.fixture(scope="module")
def bench():
    if not registry.is_available("nas-bench-macro"):
        pytest.skip("data not available: nas-bench-macro")
    return load_benchmark("nas-bench-macro")


@pytest.fixture(scope="module")
def raw():
    if not registry.is_available("nas-bench-macro"):
        pytest.skip("data not available: nas-bench-macro")
    with open(registry.path("nas-bench-macro")) as f:
        return json.load(f)


def test_known_entry(bench):
    e = bench.query("02012100")
    assert e.index == int("02012100", 3) and e.fidelity == 50 and e.cost == 0
    assert e.metrics["test_acc"] == pytest.approx(89.1967, abs=1e-4)
    assert e.metrics["params"] == pytest.approx(0.890666) and e.metrics["flops"] == pytest.approx(47.327744)
    seeds = [bench.query("02012100", noise=s).metrics["test_acc"] for s in range(3)]
    assert seeds == pytest.approx([89.47, 88.95, 89.17], abs=1e-4)
    with pytest.raises(ArchscapeError):
        bench.query("02012100", noise=3)
    assert bench.objective == "test_acc" and "no validation accuracy" in bench.description
    assert bench.fidelities == (50,) and bench.metrics == ("test_acc", "params", "flops")


def test_file_means_are_the_means_of_the_seeds(bench, raw):
    # mean_acc in the file is np.mean over the 3 runs and std the population std (ddof=0)
    tests = np.array([raw[SPACE.format(SPACE.from_index(i))]["test_acc"] for i in range(SIZE)])
    means = np.array([raw[SPACE.format(SPACE.from_index(i))]["mean_acc"] for i in range(SIZE)])
    stds = np.array([raw[SPACE.format(SPACE.from_index(i))]["std"] for i in range(SIZE)])
    np.testing.assert_allclose(bench.values("test_acc"), means, atol=1e-9)
    np.testing.assert_allclose(tests.mean(axis=1), means, atol=1e-9)
    np.testing.assert_allclose(tests.std(axis=1), stds, atol=1e-9)
    for s in range(3):
        np.testing.assert_array_equal(bench.values("test_acc", noise=s), tests[:, s])


def test_equivalent_strings_share_results(bench):
    rows = np.array([SPACE.index(trained_as(g)) for g in SPACE.enumerate()])
    for metric in bench.metrics:
        for noise in ("mean", 0, 1, 2):
            col = bench.values(metric, noise=noise)
            np.testing.assert_array_equal(col, col[rows])
    # and the 3,969 trained networks are all different
    assert len({tuple(bench.values("test_acc", noise=s)[r] for s in range(3)) for r in set(rows.tolist())}) == 3969


def test_best_architecture(bench):
    g, value = bench.optimum()
    assert value == pytest.approx(93.1267, abs=1e-4)
    # two strings share the best network (an identity at the end of stage 3); the optimum is the first in index order
    assert SPACE.format(g) == "22212202" and trained_as(g) == SPACE.parse("22212220")
    assert bench.query("22212220").metrics == bench.query(g).metrics
    assert bench.values().min() == pytest.approx(45.3633, abs=1e-4)
