"""NAS-Bench-201: the space's text form, index order and encodings; the tables' values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archscape.benchmarks import load_benchmark
from archscape.errors import ArchscapeError, DataError, InvalidArchitecture
from archscape.spaces import get_space
from archscape.spaces.nb201 import OPS, PATH_FEATURES

SPACE = get_space("nb201")
CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
genotypes = st.tuples(*[st.integers(0, 4)] * 6)


@given(genotypes)
def test_text_and_index_round_trip(g):
    assert SPACE.parse(SPACE.format(g)) == g
    assert SPACE.from_index(SPACE.index(g)) == g


@given(genotypes)
def test_neighbourhood_is_24_one_edge_changes(g):
    nbrs = SPACE.neighbours(g)
    assert len(nbrs) == 24 and len(set(nbrs)) == 24
    for n in nbrs:
        assert sum(a != b for a, b in zip(n, g)) == 1
        assert g in SPACE.neighbours(n)


@given(genotypes)
def test_encodings(g):
    onehot = SPACE.encode(g, "onehot")
    assert onehot.shape == (30,) and onehot.sum() == 6
    assert [int(np.argmax(onehot[5 * e : 5 * e + 5])) for e in range(6)] == list(g)
    counts = SPACE.encode(g, "opcount")
    assert counts.sum() == 6 and all(counts[o] == list(g).count(o) for o in range(5))
    path = SPACE.encode(g, "path")
    assert path.shape == (84,)
    # the route 0->3 is a path exactly when edge 0->3 is not 'none'
    assert path[PATH_FEATURES[(g[3],)]] == 1 if g[3] else True
    assert SPACE.encode(g, "path", cutoff=4).shape == (4,)


def test_path_encoding_of_a_known_cell():
    g = SPACE.parse(CELL)  # conv3, conv3, conv3, skip, conv3, conv1
    path = SPACE.encode(g, "path")
    c3, c1, skip = OPS.index("nor_conv_3x3"), OPS.index("nor_conv_1x1"), OPS.index("skip_connect")
    expected = {(skip,), (c3, c3), (c3, c1), (c3, c3, c1)}
    assert {s for s, i in PATH_FEATURES.items() if path[i]} == expected


def test_official_index_order_matches_the_released_benchmark():
    # Index 0 and 1 of the official NAS-Bench-201 release.
    assert SPACE.format(SPACE.from_index(0)) == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert SPACE.format(SPACE.from_index(1)) == (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    )
    assert SPACE.index(SPACE.parse(CELL)) == 6111


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'nor_conv_5x5'"),
        ("|none~0|+|none~0|none~1|", "expected 3 nodes"),
        ("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "expected 'none~1'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "needs 2 input"),
        ("none~0+|none~0|none~1|+|none~0|none~1|none~2|", "must look like"),
    ],
)
def test_malformed_strings_are_rejected_with_one_line(text, fragment):
    with pytest.raises(InvalidArchitecture) as err:
        SPACE.parse(text)
    assert fragment in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "dataset, best_mean_val",
    [("cifar10", 91.60666665), ("cifar100", 73.49333332), ("imagenet16", 46.73333322)],
)
def test_best_mean_validation_accuracy_per_data_set(dataset, best_mean_val):
    bench = load_benchmark(f"nb201-{dataset}")
    _, value = bench.optimum("val_acc", noise="mean")
    assert value == pytest.approx(best_mean_val, abs=1e-6)


def test_known_cell_values_and_noise_modes():
    bench = load_benchmark("nb201-cifar10")
    mean = bench.query(CELL, noise="mean")
    seeds = [bench.query(CELL, noise=s).metrics["val_acc"] for s in range(3)]
    assert seeds == pytest.approx([91.68399998291015, 91.71999999023437, 91.41599997802734])
    assert mean.metrics["val_acc"] == pytest.approx(np.mean(seeds))
    assert mean.metrics["params"] == pytest.approx(1.073466)
    assert mean.cost == mean.metrics["train_time"] > 0
    # 7,456 cells recorded only 2 seeds: asking for a third is an error, not a NaN
    two_seed_row = int(np.flatnonzero(bench.tables[200].n_seeds == 2)[0])
    with pytest.raises(ArchscapeError, match="seed 2 does not exist"):
        bench.query(two_seed_row, noise=2)
    # noise='seed' draws among the recorded seeds, all of them over many draws
    rng = np.random.default_rng(0)
    drawn = {bench.query(CELL, noise="seed", rng=rng).seed for _ in range(60)}
    assert drawn == {0, 1, 2}


def test_twelve_epoch_fidelity_matches_the_csv():
    bench = load_benchmark("nb201-cifar100")
    e = bench.query(1, fidelity=12)
    assert e.metrics["val_acc"] == pytest.approx(57.79999996948242)
    assert e.metrics["test_acc"] == pytest.approx(58.25999995727539)
    assert e.cost == pytest.approx(bench.query(1).metrics["train_time"] * 12 / 200)


def test_batched_query_and_costs():
    bench = load_benchmark("nb201-imagenet16")
    rows = np.arange(bench.size)
    out = bench.query_rows(rows, noise="mean")
    assert out["val_acc"].shape == (15625,)
    # each row's simulated cost is its training time, in the batch as in single queries
    sample = rows[::997]
    assert [bench.query_row(int(r)).cost for r in sample] == pytest.approx(out["train_time"][sample])
    assert np.nanmax(out["val_acc"]) == pytest.approx(bench.optimum()[1])


def test_missing_twelve_epoch_data_names_the_fetch_command(monkeypatch, tmp_path):
    from archscape.benchmarks import nb201

    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path))
    nb201._tables.cache_clear()
    try:
        bench = nb201.load("cifar10")
        assert bench.fidelities == (200,)
        with pytest.raises(DataError, match="archscape data fetch nb201-12epoch"):
            bench.query(0, fidelity=12)
    finally:
        nb201._tables.cache_clear()
