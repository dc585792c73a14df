"""NAS-Bench-Graph: the space against the package's own hashing, and the tables' values."""

from __future__ import annotations

import importlib.util
import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archscape.benchmarks import graph as graph_bench
from archscape.data import registry
from archscape.errors import DataError, InvalidArchitecture, UnknownName
from archscape.spaces import get_space
from archscape.spaces.graph import LINKS, OPS, PATTERNS, GraphProteinsSpace, GraphSpace

SPACE = GraphSpace()
PROTEINS = GraphProteinsSpace()
HAS_PACKAGE = importlib.util.find_spec("nas_bench_graph") is not None
needs_package = pytest.mark.skipif(not HAS_PACKAGE, reason="needs the 'graph' extra (nas-bench-graph)")


def raw_genotypes(space):
    """Hypothesis strategy: any valid genotype, canonical or not."""
    n = len(space.ops)
    links = st.sampled_from(LINKS)
    ops = st.tuples(*[st.integers(0, n - 1)] * 4).filter(lambda o: o != (n - 1,) * 4)
    return st.builds(lambda link, o: link + o, links, ops)


# ------------------------------------------------------------------ space
def test_registered_spaces_and_sizes():
    assert isinstance(get_space("graph"), GraphSpace) and get_space("graph").size == 26_206
    assert get_space("graph-proteins").size == 2_021
    for space in (SPACE, PROTEINS):
        order = list(space.enumerate())
        assert len(order) == len(set(order)) == space.size
        assert all(space.canonical(g) == g for g in order[::97])


def test_order_is_op_tuples_then_shapes():
    order = list(SPACE.enumerate())
    assert order[:9] == [p + (0, 0, 0, 0) for p in PATTERNS]  # four gat layers, every shape
    assert order[-1] == SPACE.parse("link=0,1,2,3;ops=skip,skip,skip,fc")


def test_text_form():
    g = SPACE.parse(" link=0,0,1,2 ; ops=gcn,gat,skip,fc ")
    assert g == (0, 0, 1, 2, 1, 0, 8, 7)
    assert SPACE.format(g) == "link=0,0,1,2;ops=gcn,gat,skip,fc"
    assert SPACE.as_genotype("link=0,0,1,2;ops=gcn,gat,skip,fc") == SPACE.canonical(g)


def test_unknown_operation_is_one_clear_line():
    with pytest.raises(InvalidArchitecture) as err:
        SPACE.parse("link=0,1,2,3;ops=gcn,conv3x3,gcn,gcn")
    msg = str(err.value)
    assert "\n" not in msg and "'conv3x3'" in msg and "accepted: gat, gcn, gin, cheb, sage, arma, graph, fc, skip" in msg
    with pytest.raises(InvalidArchitecture, match="unknown operation 'gat' in graph-proteins; accepted: gcn, sage, arma, fc, skip"):
        PROTEINS.parse("link=0,1,2,3;ops=gat,gcn,gcn,gcn")


@pytest.mark.parametrize(
    "bad, words",
    [
        ("link=0,2,1,1;ops=gcn,gcn,gcn,gcn", "node 2 reads '2'; accepted: 0..1"),
        ("link=0,1,2;ops=gcn,gcn,gcn,gcn", "4 entries each"),
        ("ops=gcn,gcn,gcn,gcn", "expected like link="),
        ("link=0,0,0,0;ops=skip,skip,skip,skip", "are skip; at least one must be a GNN layer"),
    ],
)
def test_malformed_text(bad, words):
    with pytest.raises(InvalidArchitecture, match=words.replace("(", r"\(").replace(")", r"\)")):
        SPACE.parse(bad)


def test_validate_rejects_bad_tuples():
    for bad in [(0, 1, 2, 4, 0, 0, 0, 0), (0, 0, 0, 0, 9, 0, 0, 0), (1, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 8, 8, 8, 8), (0,) * 7]:
        with pytest.raises(InvalidArchitecture):
            SPACE.validate(bad)
    assert SPACE.validate(np.array([0, 0, 1, 2, 1, 0, 8, 7])) == (0, 0, 1, 2, 1, 0, 8, 7)
    with pytest.raises(InvalidArchitecture):
        PROTEINS.validate((0, 0, 0, 0, 5, 0, 0, 0))


def test_renumbered_trees_are_one_architecture():
    # The package README's tree, gcn -> {gin -> fc, cheb}, numbered two ways.  (The README's
    # second spelling, ops=gcn,cheb,gin,fc, hangs fc under cheb: another network, as the
    # package's own valid_hash agrees.)
    a = SPACE.parse("link=0,1,2,1;ops=gcn,gin,fc,cheb")
    b = SPACE.parse("link=0,1,1,2;ops=gcn,gin,cheb,fc")
    assert a != b and SPACE.canonical(a) == SPACE.canonical(b) == b
    assert SPACE.index(a) == SPACE.index(b)
    assert SPACE.canonical(SPACE.parse("link=0,1,1,2;ops=gcn,cheb,gin,fc")) != b


def test_interchangeable_nodes_are_sorted():
    star = [SPACE.canonical((0, 0, 0, 0) + ops) for ops in itertools.permutations((4, 1, 7, 0))]
    assert set(star) == {(0, 0, 0, 0, 0, 1, 4, 7)}
    # Two equal branches 0->1->3 and 0->2->4 swap as wholes, not node by node.
    assert SPACE.canonical((0, 0, 1, 2, 3, 1, 0, 5)) == (0, 0, 1, 2, 1, 3, 5, 0)


def test_identity_layers_gather_at_the_front():
    # gcn -> skip -> gcn -> gcn computes what skip -> gcn -> gcn -> gcn does.
    assert SPACE.canonical(SPACE.parse("link=0,1,2,3;ops=gcn,skip,gcn,gcn")) == SPACE.parse("link=0,1,2,3;ops=skip,gcn,gcn,gcn")
    # A skip leaf with a sibling carries a hidden state to the output: it stays.
    kept = SPACE.parse("link=0,1,1,2;ops=gcn,gat,skip,fc")
    assert SPACE.canonical(kept) == kept


def test_neighbours_include_every_single_op_change():
    g = SPACE.parse("link=0,1,1,2;ops=gcn,gat,skip,fc")
    nbrs = set(SPACE.neighbours(g))
    for k in range(4):
        for op in range(len(OPS)):
            if op != g[4 + k]:
                assert SPACE.canonical(g[: 4 + k] + (op,) + g[5 + k :]) in nbrs
    for k in range(1, 4):  # and every rewiring of one node
        for src in range(k + 1):
            if src != g[k]:
                assert SPACE.canonical(g[:k] + (src,) + g[k + 1 :]) in nbrs
    assert g not in nbrs and all(SPACE.canonical(n) == n for n in nbrs)


@settings(max_examples=15, deadline=None)
@given(raw_genotypes(PROTEINS))
def test_neighbourhood_is_symmetric(g):
    c = PROTEINS.canonical(g)
    for n in PROTEINS.neighbours(c):
        assert c in PROTEINS.neighbours(n)


@settings(max_examples=300, deadline=None)
@given(raw_genotypes(SPACE))
def test_canonical_form_properties(g):
    c = SPACE.canonical(g)
    assert SPACE.canonical(c) == c
    assert sorted(c[4:]) == sorted(g[4:])  # only renumbering: the same layers
    assert SPACE.from_index(SPACE.index(g)) == c
    assert np.array_equal(SPACE.encode(g), SPACE.encode(c))


def test_encodings():
    g = SPACE.parse("link=0,1,1,2;ops=gcn,gat,skip,fc")
    onehot = SPACE.encode(g)
    assert onehot.shape == (10 + 4 * 9,) and onehot.sum() == 8
    assert onehot[[0, 2, 4, 8]].tolist() == [1, 1, 1, 1]  # inputs 0, 1, 1, 2 of nodes 1..4
    assert PROTEINS.encoding_size("onehot") == 10 + 4 * 5
    assert SPACE.encode(g, "opcount").tolist() == [1, 1, 0, 0, 0, 0, 0, 1, 1]


# ------------------------------------------------------- against the package
@pytest.fixture(scope="module")
def package():
    return pytest.importorskip("nas_bench_graph")


def _names(space, g):
    return [space.ops[o] for o in g[4:]]


def test_every_cora_entry_has_the_package_hash(package):
    keys = list(package.light_read("cora"))
    order = list(SPACE.enumerate())
    assert len(keys) == len(order) == 26_206
    for key, g in zip(keys, order):  # the file lists the space in index order
        assert package.Arch(list(g[:4]), _names(SPACE, g)).hash_arch() == key
        assert graph_bench.file_key(SPACE, g) == key
        assert graph_bench.genotype_of_key(SPACE, key) == g


def test_every_proteins_entry_has_the_package_hash(package):
    keys = list(package.light_read("proteins"))
    order = list(PROTEINS.enumerate())
    # The proteins file is keyed by the nine-op hash, not hash_arch(use_proteins=True).
    assert keys == [package.Arch(list(g[:4]), _names(PROTEINS, g)).hash_arch() for g in order]


def test_canonical_form_is_the_packages_valid_hash(package):
    # Every genotype of the proteins space, and a sample of the nine-op space.
    for link in LINKS:
        for ops in itertools.product(range(5), repeat=4):
            if ops != (4, 4, 4, 4):
                g = link + ops
                assert graph_bench.file_key(PROTEINS, g) == package.Arch(list(link), _names(PROTEINS, g)).valid_hash()
    rng = np.random.default_rng(0)
    for _ in range(3000):
        g = LINKS[rng.integers(24)] + tuple(rng.integers(0, 9, size=4).tolist())
        if g[4:] != (8, 8, 8, 8):
            assert graph_bench.file_key(SPACE, g) == package.Arch(list(g[:4]), _names(SPACE, g)).valid_hash()


# ------------------------------------------------------------------ tables
@needs_package
def test_known_entry_a_two_layer_gcn_on_cora():
    bench = graph_bench.load("cora")
    e = bench.query("link=0,1,2,3;ops=skip,skip,gcn,gcn")
    assert e.index == 26_116 and e.cost == 0.0 and e.fidelity == 1
    assert e.metrics == pytest.approx({"val_acc": 79.13333333333334, "test_acc": 80.16666666666667, "latency": 0.002379337946573893, "params": 0.502535})
    # Written in another node order, it is the same entry.
    assert bench.query("link=0,1,2,3;ops=gcn,skip,skip,gcn").metrics == e.metrics


@needs_package
@pytest.mark.parametrize("dataset", ["citeseer", "proteins"])
def test_tables_hold_the_file_values(dataset):
    with open(registry.path(f"nas-bench-graph-{dataset}"), "rb") as f:
        raw = pickle.load(f)
    bench = graph_bench.load(dataset)
    recs = list(raw.values())
    np.testing.assert_allclose(bench.values("val_acc"), [r["valid_perf"] * 100 for r in recs])
    np.testing.assert_allclose(bench.values("test_acc"), [r["perf"] * 100 for r in recs])
    np.testing.assert_allclose(bench.values("latency"), [r["latency"] for r in recs])
    np.testing.assert_allclose(bench.values("params"), [r["para"] for r in recs])
    assert bench.size == len(raw) and bench.space is graph_bench.space(dataset)


def test_unknown_dataset():
    with pytest.raises(UnknownName, match="unknown NAS-Bench-Graph data set 'mnist'; accepted: cora"):
        graph_bench.load("mnist")


def test_missing_extra_names_the_pip_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nas_bench_graph" else real(name, *a))
    with pytest.raises(DataError, match=r"not installed; pip install 'archscape\[graph\]'$"):
        registry.path("nas-bench-graph-cora")
    assert not registry.is_available("nas-bench-graph-cora")


def test_bad_keys_are_data_errors():
    for key in (-1, 90_000, "00000", 88_888, 1_000):  # out of range, text, all skip, not canonical
        with pytest.raises(DataError):
            graph_bench.genotype_of_key(SPACE, key)
    with pytest.raises(DataError, match="operation outside graph-proteins"):
        graph_bench.genotype_of_key(PROTEINS, 0)
