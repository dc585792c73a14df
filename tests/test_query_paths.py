"""The fast query paths answer exactly what the general paths answer (issue 17, speed of queries).

* ``TableBenchmark.query`` on a known genotype is inlined (per-row metric dicts, copied): the same
  Evaluation and the same seed draws as ``query_row``; an answer is the caller's own dict.
* ``query_rows`` gathers only the metrics asked for and refuses rows out of range in one line.
* ``nb301`` reads nested genotype tuples without ``np.asarray``: the same array, and anything
  irregular still goes through the space and its one-line errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import needs

from archscape.benchmarks import load_benchmark
from archscape.errors import ArchscapeError, InvalidArchitecture
from archscape.spaces import get_space

pytestmark = needs("nb201-cifar10")


@pytest.fixture(scope="module")
def nb201():
    return load_benchmark("nb201-cifar10")


def _genotypes(bench, n: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [bench.space.sample(rng) for _ in range(n)]


@pytest.mark.parametrize("noise", ["mean", "seed"])
def test_single_query_equals_query_row_with_the_same_draws(nb201, noise):
    gs = _genotypes(nb201, 3000)
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    nb201.query(gs[0])  # the first query builds the genotype -> row table
    fast = [nb201.query(g, noise=noise, rng=r1) for g in gs]
    slow = [nb201.query_row(nb201.space.index(g), noise=noise, rng=r2, genotype=g) for g in gs]
    assert fast == slow
    assert all(type(e).__name__ == "Evaluation" and e.extra == {} for e in fast)
    assert r1.random() == r2.random()  # one draw per query in both paths
    if noise == "seed":
        assert {e.seed for e in fast} == {0, 1, 2}
        assert all(e.metrics["val_acc"] == nb201.tables[200].values["val_acc"][e.index, e.seed] for e in fast[:200])
    else:
        assert all(e.metrics["val_acc"] == nb201.tables[200].means["val_acc"][e.index] for e in fast[:200])


def test_an_answer_is_the_callers_own_dict(nb201):
    g = _genotypes(nb201, 1)[0]
    first = nb201.query(g)
    first.metrics["val_acc"] = -1.0
    first.metrics["extra"] = 1.0
    again = nb201.query(g)
    assert again.metrics["val_acc"] == nb201.tables[200].means["val_acc"][again.index]
    assert "extra" not in again.metrics
    seeded = nb201.query(g, noise=0)
    seeded.metrics.clear()
    assert nb201.query(g, noise=0).metrics["val_acc"] == nb201.tables[200].values["val_acc"][again.index, 0]


def test_other_fidelities_seeds_and_text_take_the_general_path(nb201):
    g = _genotypes(nb201, 1)[0]
    row = nb201.space.index(g)
    assert nb201.query(g, noise=1) == nb201.query_row(row, noise=1)
    assert nb201.query(nb201.space.format(g)) == nb201.query(g)
    with pytest.raises(ArchscapeError, match="seed 7"):
        nb201.query(g, noise=7)


def test_query_rows_gathers_only_the_metrics_asked_for(nb201):
    rows = np.random.default_rng(1).integers(0, nb201.size, 5000)
    one = nb201.query_rows(rows, metrics=["val_acc"])
    assert list(one) == ["val_acc"]
    np.testing.assert_array_equal(one["val_acc"], nb201.tables[200].means["val_acc"][rows])
    both = nb201.query_rows(rows, noise="seed", rng=np.random.default_rng(2), metrics=["val_acc", "params"])
    assert list(both) == ["val_acc", "params", "seed"]
    np.testing.assert_array_equal(both["val_acc"], nb201.tables[200].values["val_acc"][rows, both["seed"]])
    np.testing.assert_array_equal(both["params"], nb201.tables[200].values["params"][rows, 0])


@pytest.mark.parametrize("bad", [[0, -1], [15625], [3, 2**40]])
@pytest.mark.parametrize("noise", ["mean", "seed", 0])
def test_query_rows_refuses_rows_out_of_range_in_one_line(nb201, bad, noise):
    rng = np.random.default_rng(0)
    with pytest.raises(ArchscapeError) as err:
        nb201.query_rows(bad, noise=noise, rng=rng, metrics=["val_acc"])
    assert str(err.value) == "row out of range for nb201-cifar10; accepted: 0..15624"
    assert rng.random() == np.random.default_rng(0).random()  # refused before any draw


# ------------------------------------------------------------------ nb301
@pytest.fixture(scope="module")
def nb301():
    pytest.importorskip("onnxruntime")
    data = needs("nb301")
    if data.args[0]:
        pytest.skip(data.kwargs["reason"])
    return load_benchmark("nb301")


def test_nb301_nested_tuples_read_as_numpy_reads_them(nb301):
    gs = _genotypes(nb301, 500, seed=3)
    arr = nb301.genotype_array(gs)
    assert arr.dtype == np.int64 and arr.shape == (500, 2, 8, 2)
    np.testing.assert_array_equal(arr, np.asarray(gs))
    lists = [[list(map(list, cell)) for cell in g] for g in gs[:20]]  # lists go through the space
    np.testing.assert_array_equal(nb301.genotype_array(lists), arr[:20])
    batched = nb301.query_batch(gs[:50])
    assert batched["val_acc"].tolist() == [nb301.query(g).metrics["val_acc"] for g in gs[:50]]


def test_nb301_irregular_tuples_get_the_spaces_one_line_errors(nb301):
    g = _genotypes(nb301, 1, seed=4)[0]
    normal, reduce = g
    three_cells = (normal, reduce, reduce)
    ragged = ((normal[0] + (1,), normal[1][:1]) + normal[2:], reduce)  # lengths still sum to 32 values
    float_op = (((1.5, 0),) + normal[1:], reduce)
    text_op = ((("sep_conv_3x3", 0),) + normal[1:], reduce)
    node_3_twice = (normal[:2] + ((normal[2][0], 1), (normal[3][0], 1)) + normal[4:], reduce)
    for bad in (three_cells, ragged, float_op, text_op, node_3_twice):
        with pytest.raises(InvalidArchitecture) as err:
            nb301.genotype_array([g, bad])
        assert "\n" not in str(err.value)
    space = get_space("darts")
    for bad in (three_cells, ragged, float_op, text_op):
        with pytest.raises(InvalidArchitecture) as direct:
            space.as_genotype(bad)
        with pytest.raises(InvalidArchitecture) as batched:
            nb301.genotype_array([g, bad])
        assert str(batched.value) == str(direct.value)  # the space's own message
