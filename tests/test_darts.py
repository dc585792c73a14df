"""The DARTS / NAS-Bench-301 cell space."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archscape.errors import ArchscapeError, InvalidArchitecture, UnsupportedOperation
from archscape.spaces import get_space
from archscape.spaces.darts import (
    EDGE_OFFSET,
    N_CELLS,
    N_PATH_FEATURES,
    NODE_OF_SLOT,
    OPS,
    DartsSpace,
    edge_index,
)

SPACE = DartsSpace()

# DARTS_V2 from DARTS' cnn/genotypes.py (Liu et al., ICLR 2019), verbatim.
DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
MAX, AVG, SKIP, SEP3, SEP5, DIL3, DIL5 = range(7)
DARTS_V2_GENOTYPE = (
    ((SEP3, 0), (SEP3, 1), (SEP3, 0), (SEP3, 1), (SKIP, 0), (SEP3, 1), (SKIP, 0), (DIL3, 2)),
    ((MAX, 0), (MAX, 1), (MAX, 1), (SKIP, 2), (MAX, 0), (SKIP, 2), (MAX, 1), (SKIP, 2)),
)


@st.composite
def cells(draw):
    """A valid cell, its pairs in either order within a node (not always canonical)."""
    pairs = []
    for k in (2, 3, 4, 5):
        a, b = draw(st.lists(st.integers(0, k - 1), min_size=2, max_size=2, unique=True))
        pairs += [(draw(st.integers(0, 6)), a), (draw(st.integers(0, 6)), b)]
    return tuple(pairs)


genotypes = st.tuples(cells(), cells())


def test_ops_are_darts_primitives_without_none():
    assert OPS == ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
    assert get_space("darts").name == "darts" and SPACE.size is None


def test_darts_v2_parses_to_its_canonical_genotype():
    g = SPACE.parse(DARTS_V2)
    assert g == DARTS_V2_GENOTYPE
    assert SPACE.parse(SPACE.format(g)) == g
    np.testing.assert_array_equal(SPACE.encode(g, "opcount"), [0, 0, 2, 5, 0, 1, 0, 5, 0, 3, 0, 0, 0, 0])


def test_text_variants_are_accepted():
    variants = [
        DARTS_V2.replace("'", '"'),
        DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)"),
        DARTS_V2.replace(", ", ",\n    ").replace("(", "( ").replace("=", " = "),
        "genotypes." + DARTS_V2,
        DARTS_V2.replace("normal=", "").replace("normal_concat=", "").replace("reduce=", "").replace("reduce_concat=", ""),
        DARTS_V2.replace("('", "['").replace("),", "],").replace(")]", "]]"),
        "  " + DARTS_V2 + "\n",
    ]
    for text in variants:
        assert SPACE.parse(text) == DARTS_V2_GENOTYPE, text


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "expected Genotype("),
        ("Genotype", "expected Genotype("),
        ("__import__('os').system('true')", "expected Genotype("),
        (DARTS_V2.replace("'dil_conv_3x3'", "'none'"), "unknown operation 'none'"),
        (DARTS_V2.replace("'dil_conv_3x3'", "'conv_7x1_1x7'"), "accepted: max_pool_3x3"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "node 5 takes input 5; accepted: 0..4"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', -1)"), "input -1"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 0)"), "takes input 0 twice"),
        (DARTS_V2.replace("('sep_conv_3x3', 0), ", "", 1), "normal cell has 7 (op, input) pairs"),
        (DARTS_V2.replace("('max_pool_3x3', 0), ", "('max_pool_3x3', 0), " * 2, 1), "reduce cell has 9 (op, input) pairs"),
        (DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3, 4, 5, 6]"), "normal_concat"),
        (DARTS_V2.replace("reduce_concat=[2, 3, 4, 5]", "reduce_concat=range(2, 5)"), "reduce_concat"),
        (DARTS_V2.replace(", reduce_concat=[2, 3, 4, 5]", ""), "lacks field(s) reduce_concat"),
        (DARTS_V2.replace("reduce_concat", "reduction_concat"), "unknown darts Genotype field 'reduction_concat'"),
        (DARTS_V2.replace("('skip_connect', 0)", "('skip_connect', 0.0)", 1), "is not an ('op', input) pair"),
        (DARTS_V2.replace("('skip_connect', 0)", "('skip_connect', True)", 1), "is not an ('op', input) pair"),
        ("Genotype(" + "[" * 1000 + "]" * 1000 + ")", "malformed darts genotype"),
        ("Genotype(" + "x" * 20_000 + ")", "characters long"),
    ],
)
def test_bad_text_is_rejected_with_one_line(text, words):
    with pytest.raises(InvalidArchitecture) as info:
        SPACE.parse(text)
    message = str(info.value)
    assert "\n" not in message and words in message


@given(genotypes)
def test_parse_format_round_trip(g):
    c = SPACE.canonical(g)
    assert SPACE.parse(SPACE.format(g)) == c
    assert SPACE.format(SPACE.parse(SPACE.format(c))) == SPACE.format(c)
    assert SPACE.canonical(c) == c and hash(c) == hash(SPACE.canonical(g))


def test_canonical_sorts_the_two_inputs_of_a_node():
    swapped = list(DARTS_V2_GENOTYPE[0])
    swapped[0], swapped[1] = swapped[1], swapped[0]
    g = (tuple(swapped), DARTS_V2_GENOTYPE[1])
    assert g != DARTS_V2_GENOTYPE
    assert SPACE.canonical(g) == DARTS_V2_GENOTYPE and SPACE.key(g) == SPACE.key(DARTS_V2_GENOTYPE)
    # lists and numpy arrays are accepted and turned into the tuple form
    assert SPACE.canonical(np.array(DARTS_V2_GENOTYPE)) == DARTS_V2_GENOTYPE
    assert SPACE.validate([list(map(list, c)) for c in DARTS_V2_GENOTYPE]) == DARTS_V2_GENOTYPE


@pytest.mark.parametrize(
    "bad, words",
    [
        ((DARTS_V2_GENOTYPE[0],), "(normal, reduce)"),
        ((DARTS_V2_GENOTYPE[0][:7], DARTS_V2_GENOTYPE[1]), "normal cell has 7 (op, input) pairs"),
        ((DARTS_V2_GENOTYPE[0], DARTS_V2_GENOTYPE[1][:6] + ((7, 0), (0, 1))), "reduce cell pair 6 has op 7"),
        ((DARTS_V2_GENOTYPE[0][:2] + ((0, 2), (0, 2)) + DARTS_V2_GENOTYPE[0][4:], DARTS_V2_GENOTYPE[1]), "input 2 twice"),
        ((((0, 0), (0, 2)) + DARTS_V2_GENOTYPE[0][2:], DARTS_V2_GENOTYPE[1]), "node 2 takes input 2; accepted: 0..1"),
        ((DARTS_V2_GENOTYPE[0], DARTS_V2_GENOTYPE[1][:7] + ((True, 1),)), "has op True"),
    ],
)
def test_bad_genotypes_are_rejected(bad, words):
    with pytest.raises(InvalidArchitecture) as info:
        SPACE.validate(bad)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_neighbour_count_is_op_changes_plus_input_changes():
    g = DARTS_V2_GENOTYPE
    nbrs = SPACE.neighbours(g)
    op_changes = [n for n in nbrs if all(p[1] == q[1] for a, b in zip(n, g) for p, q in zip(a, b))]
    # 2 cells x 8 edges x 6 other ops
    assert len(op_changes) == 2 * 8 * 6
    # an edge into node k can move to any of the k earlier nodes but its own and its sibling's: k - 2
    input_changes = [n for n in nbrs if n not in op_changes]
    assert len(input_changes) == 2 * sum(2 * (k - 2) for k in (2, 3, 4, 5)) == 24
    per_node = Counter(
        NODE_OF_SLOT[s] for n in input_changes for a, b in zip(n, g) for s in range(0, 8, 2) if a[s : s + 2] != b[s : s + 2]
    )
    assert per_node == {3: 2 * 2, 4: 2 * 4, 5: 2 * 6}
    assert len(nbrs) == len(set(nbrs)) == 120 and g not in nbrs
    # an input change keeps the moved edge's op
    for n in input_changes:
        assert sorted(SPACE.encode(n, "opcount")) == sorted(SPACE.encode(g, "opcount"))


@settings(max_examples=20, deadline=None)
@given(genotypes)
def test_neighbourhood_is_symmetric_and_canonical(g):
    c = SPACE.canonical(g)
    nbrs = SPACE.neighbours(g)
    assert nbrs == SPACE.neighbours(c) and len(set(nbrs)) == 120 and c not in nbrs
    for n in nbrs:
        assert SPACE.canonical(n) == n
        assert c in SPACE.neighbours(n)


def test_mutate_is_a_uniform_neighbour_pick():
    g = DARTS_V2_GENOTYPE
    nbrs = SPACE.neighbours(g)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(50):
        assert SPACE.mutate(g, a) == nbrs[int(b.integers(len(nbrs)))]


def test_sampling_is_uniform_over_inputs_and_ops():
    rng = np.random.default_rng(0)
    gs = [SPACE.sample(rng) for _ in range(3000)]
    assert all(SPACE.canonical(g) == g for g in gs)
    pairs5 = Counter((g[1][6][1], g[1][7][1]) for g in gs)  # node 5 of the reduction cell: C(5, 2) = 10 input pairs
    assert len(pairs5) == 10 and min(pairs5.values()) > 3000 / 10 * 0.8
    ops = Counter(op for g in gs for cell in g for op, _ in cell)
    assert len(ops) == 7 and min(ops.values()) > 3000 * 16 / 7 * 0.9
    assert N_CELLS == 1 * 3 * 6 * 10 * 49**4


def test_edge_numbering_matches_nb301():
    # NB301 numbers a cell's 14 edges per intermediate node: node 2 -> 0-1, 3 -> 2-4, 4 -> 5-8, 5 -> 9-13.
    numbers = [edge_index(k, i) for k in (2, 3, 4, 5) for i in range(k)]
    assert numbers == list(range(14))
    assert EDGE_OFFSET == {2: 0, 3: 2, 4: 5, 5: 9}
    with pytest.raises(InvalidArchitecture):
        edge_index(3, 3)


def test_onehot_encoding():
    g = DARTS_V2_GENOTYPE
    v = SPACE.encode(g, "onehot")
    assert v.shape == (2 * (14 + 14 * 7),)
    normal = v[:112]
    used = np.flatnonzero(normal[:14])
    assert used.tolist() == sorted(edge_index(NODE_OF_SLOT[s], i) for s, (_, i) in enumerate(g[0]))
    ops = normal[14:].reshape(14, 7)
    assert ops.sum() == 8 and ops[edge_index(5, 2), DIL3] == 1 and ops[edge_index(4, 0), SKIP] == 1
    # an op change flips 2 bits, an input change 4 (the edge bit and its op bit move)
    for n in SPACE.neighbours(g):
        d = int(np.sum(SPACE.encode(n, "onehot") != v))
        same_inputs = all(p[1] == q[1] for a, b in zip(n, g) for p, q in zip(a, b))
        assert d == (2 if same_inputs else 4)


def test_path_encoding():
    # every edge skip_connect; node k takes (0, k-1) (node 2: (0, 1)): a chain from each input
    chain = tuple(pair for k in (2, 3, 4, 5) for pair in ((SKIP, 0), (SKIP, k - 1)))
    g = (chain, SPACE.parse(DARTS_V2)[1])
    v = SPACE.encode(g, "path")
    assert v.shape == (N_PATH_FEATURES,) == (4 * (7 + 49 + 343 + 2401),)
    short = SPACE.encode(g, "path", cutoff=28)  # the length-1 paths of both cells and both inputs
    # normal: c_{k-2} and c_{k-1} through a skip; reduce (DARTS-V2): max_pool from each input, skip from none
    assert np.flatnonzero(short).tolist() == [0 * 7 + SKIP, 1 * 7 + SKIP, 2 * 7 + MAX, 3 * 7 + MAX]
    np.testing.assert_array_equal(short, v[:28])
    # the normal chain: skip^1..skip^4 from c_{k-2} (via 0->2, 0->3 ... ) and from c_{k-1}
    seq = lambda n: sum(SKIP * 7**j for j in range(n))  # noqa: E731 - base-7 code of skip repeated n times
    offsets = {1: 0, 2: 28, 3: 28 + 196, 4: 28 + 196 + 1372}
    normal_features = [offsets[n] + src * 7**n + seq(n) for n in (1, 2, 3, 4) for src in (0, 1)]

    def block(feature):  # (cell type, input) block of a feature: 0, 1 normal; 2, 3 reduce
        n = max(m for m in offsets if offsets[m] <= feature)
        return (feature - offsets[n]) // 7**n

    assert {f for f in np.flatnonzero(v).tolist() if block(f) < 2} == set(normal_features)
    with pytest.raises(ArchscapeError):
        SPACE.encode(g, "path", cutoff=0)


def test_encodings_in_batches_match_single():
    gs = [SPACE.sample(np.random.default_rng(s)) for s in range(20)]
    for enc in ("onehot", "opcount", "path"):
        np.testing.assert_array_equal(SPACE.encode_many(gs, enc), np.stack([SPACE.encode(g, enc) for g in gs]))
    counts = SPACE.encode_many(gs, "opcount")
    assert counts.shape == (20, 14) and np.all(counts[:, :7].sum(1) == 8) and np.all(counts[:, 7:].sum(1) == 8)


def test_not_enumerable():
    with pytest.raises(UnsupportedOperation):
        SPACE.index(DARTS_V2_GENOTYPE)
    with pytest.raises(UnsupportedOperation):
        next(SPACE.enumerate())


def test_batched_encoding_validates_every_genotype_and_matches_one_by_one():
    rng = np.random.default_rng(3)
    batch = [SPACE.sample(rng) for _ in range(50)]
    for enc in ("onehot", "opcount"):
        assert np.array_equal(SPACE.encode_many(batch, enc), np.stack([SPACE.encode(g, enc) for g in batch]))
    normal, reduce = batch[1]
    bad_op = ((normal[0][0] + 7, 0),) + normal[1:]
    twice = ((0, 0), (1, 0)) + normal[2:]
    late = ((0, 0), (1, 2)) + normal[2:]
    for cell, message in [(bad_op, "accepted: op index 0..6"), (twice, "takes input 0 twice"), (late, "node 2 takes input 2")]:
        with pytest.raises(InvalidArchitecture, match=message):
            SPACE.encode_many([batch[2], (cell, reduce)], "onehot")
