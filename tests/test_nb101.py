"""NAS-Bench-101: the space (validity, pruning, isomorphism, official hash, moves, text,
encodings), NASLib's subset table, and the tfrecord reader on files written here."""

from __future__ import annotations

import base64
import itertools
import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archscape.benchmarks import load_benchmark
from archscape.benchmarks import nb101 as nb101_bench
from archscape.benchmarks.tfrecord import (
    TFRecordFile,
    WireFormatError,
    as_double,
    crc32c,
    crc32c_spans,
    decode_message,
    masked_crc32c,
)
from archscape.data import registry
from archscape.errors import ArchscapeError, DataError, InvalidArchitecture, NotInTable
from archscape.spaces import get_space
from archscape.spaces.nb101 import (
    N_PATH_FEATURES,
    NB101Cell,
    NB101Space,
    iter_interior_permutations,
    module_hash,
)
from conformance import check_benchmark

SPACE = NB101Space()
C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"

# A published (cell, hash) pair of the official tfrecord: the NNI NAS-Bench-101
# benchmark example (also in hyperbox's nasbench101 network and CTNAS's data
# reader), hash "00005c142e6f48ac74fdcf73e3439874", 8,555,530 parameters.
PUBLISHED = {
    "matrix": [
        [0, 1, 0, 0, 1, 1, 0],
        [0, 0, 1, 0, 0, 0, 0],
        [0, 0, 0, 1, 0, 0, 1],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    "ops": ["input", C3, MP, C3, C3, C1, "output"],
}
PUBLISHED_HASH = "00005c142e6f48ac74fdcf73e3439874"
# The Inception-like cell of the official README.
README_CELL = {
    "matrix": [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    "ops": ["input", C1, C3, C3, C3, MP, "output"],
}
# First entry of NASLib's zc_nasbench101.json (an unpruned 7x7 spec; vertex 5 dangles).
SUBSET_KEY = (
    "(0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, "
    "0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 4, 4, 4, 1)"
)
TRIVIAL = NB101Cell(((0, 1), (0, 0)), (0, 4))


def cell(matrix, ops) -> NB101Cell:
    return SPACE.validate({"matrix": matrix, "ops": ops})


def chain(*ops: str) -> NB101Cell:
    n = len(ops) + 2
    m = [[int(j == i + 1) for j in range(n)] for i in range(n)]
    return cell(m, ["input", *ops, "output"])


# ---------------------------------------------------------------- validity
def test_official_hash_of_published_cell():
    assert module_hash(PUBLISHED["matrix"], PUBLISHED["ops"]) == PUBLISHED_HASH
    assert SPACE.key(PUBLISHED) == PUBLISHED_HASH


def test_readme_cell_is_valid_with_nine_edges():
    g = SPACE.validate(README_CELL)
    assert g.n_vertices == 7 and g.n_edges == 9
    assert SPACE.canonical(g).n_vertices == 7


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv5x5", "output"]}, "unknown operation 'conv5x5'"),
        ({"matrix": [[0, 1, 0], [0, 0, 1], [1, 0, 0]], "ops": ["input", C3, "output"]}, "upper triangular"),
        ({"matrix": [[0, 1, 0], [0, 0, 0], [0, 0, 0]], "ops": ["input", C3, "output"]}, "not connected"),
        ({"matrix": [[0, 1], [0, 0]], "ops": ["input", C3, "output"]}, "must match the matrix size"),
        ({"matrix": [[0, 1, 1], [0, 0]], "ops": ["input", C3, "output"]}, "square"),
        ({"matrix": [[0, 2], [0, 0]], "ops": ["input", "output"]}, "0/1"),
        ({"matrix": [[0, 1], [0, 0]], "ops": [C3, "output"]}, "starts with 'input'"),
        ({"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"], "hash": "x"}, "keys"),
        # 10 edges that all stay after pruning
        ({"matrix": [[0, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
                     [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0] * 7], "ops": ["input", C3, C3, C3, C1, MP, "output"]},
         "10 edges after pruning"),
    ],
)
def test_invalid_cells_raise_one_clear_line(spec, words):
    with pytest.raises(InvalidArchitecture) as err:
        SPACE.validate(spec)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_pruning_follows_the_official_model_spec():
    # Vertex 2 has no way to the output; vertex 3 no way from the input: both are pruned.
    spec = cell(
        [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
        ["input", C3, MP, C1, "output"],
    )
    assert SPACE.canonical(spec) == chain(C3)
    assert SPACE.key(spec) == SPACE.key(chain(C3))
    # Edges counted after pruning: 12 raw edges, 9 after pruning, so valid (as the official API says).
    naslib = SPACE.parse(SUBSET_KEY)
    assert naslib.n_edges == 12 and SPACE.canonical(naslib).n_edges == 9


def test_eight_vertices_are_accepted_when_pruning_leaves_seven():
    m = np.zeros((8, 8), dtype=int)
    m[:7, :7] = np.array(PUBLISHED["matrix"])
    m[:, 7], m[:, 6] = m[:, 6].copy(), 0  # the output moves to vertex 7; vertex 6 dangles
    m[5, 6] = 1
    ops = PUBLISHED["ops"][:6] + [MP, "output"]
    assert SPACE.key({"matrix": m, "ops": ops}) == PUBLISHED_HASH
    m[6, 7] = 1  # now vertex 6 is used: 8 vertices
    with pytest.raises(InvalidArchitecture, match="8 vertices"):
        SPACE.validate({"matrix": m, "ops": ops})


def test_model_spec_like_objects_are_accepted():
    class Spec:  # what nasbench.api.ModelSpec keeps
        original_matrix = np.array(PUBLISHED["matrix"])
        original_ops = PUBLISHED["ops"]

    assert SPACE.key(Spec()) == PUBLISHED_HASH
    as_array = {"matrix": np.array(PUBLISHED["matrix"], dtype=bool), "ops": tuple(PUBLISHED["ops"])}
    assert SPACE.validate(as_array) == SPACE.validate(Spec()) == SPACE.validate(PUBLISHED)


# ---------------------------------------------------------------- isomorphism
def _subset_cells() -> list[NB101Cell]:
    with open(registry.path("nb101-subset"), encoding="utf-8") as f:
        keys = list(json.load(f)["nasbench101"]["cifar10"])
    return [SPACE.parse(k) for k in keys[:60]]


def test_isomorphic_cells_share_hash_canonical_form_and_table_row():
    bench = load_benchmark("nb101-subset")
    tried = 0
    for g in _subset_cells():
        c = SPACE.canonical(g)
        row = bench.query(g).index
        # relabel the raw (unpruned) spec and its pruned form
        for p in [*iter_interior_permutations(g), *iter_interior_permutations(c)]:
            assert SPACE.key(p) == SPACE.key(g)
            assert SPACE.canonical(p) == c
            assert bench.query(p).index == row
            tried += 1
    assert tried > 300


def test_different_cells_have_different_hashes():
    assert len({SPACE.key(chain(a, b)) for a in (C3, C1, MP) for b in (C3, C1, MP)}) == 9
    # Same op multiset, different wiring.
    assert SPACE.key(chain(C3, C1)) != SPACE.key(chain(C1, C3))


def test_canonical_order_is_topological_and_fast_to_repeat():
    g = SPACE.validate(README_CELL)
    c = SPACE.canonical(g)
    assert all(c.matrix[i][j] == 0 for i in range(7) for j in range(i + 1))
    assert c.ops[0] == 0 and c.ops[-1] == 4
    assert SPACE.canonical(c) is c


def _all_labelled_graphs(max_vertices: int):
    """What the official generate_graphs.py enumerates: full DAGs of <= 9 edges, every labelling."""
    for n in range(2, max_vertices + 1):
        pairs = [(i, j) for j in range(n) for i in range(j)]
        for bits in range(2 ** len(pairs)):
            if bits.bit_count() > 9:
                continue
            m = [[0] * n for _ in range(n)]
            for b, (i, j) in enumerate(pairs):
                m[i][j] = bits >> b & 1
            if not all(any(m[i]) for i in range(n - 1)) or not all(any(r[j] for r in m) for j in range(1, n)):
                continue
            rows = tuple(map(tuple, m))
            for labels in itertools.product((1, 2, 3), repeat=n - 2):
                yield NB101Cell(rows, (0, *labels, 4))


@pytest.mark.parametrize(
    "max_vertices, graphs, unique",
    [(5, 3_364, 2_532), pytest.param(6, 128_509, 64_542, marks=pytest.mark.slow)],
)
def test_canonical_forms_and_hashes_agree_on_every_small_cell(max_vertices, graphs, unique):
    # (The same run over 7 vertices gives 1,293,208 graphs and the official 423,624 cells.)
    by_key: dict[str, NB101Cell] = {}
    count = 0
    for g in _all_labelled_graphs(max_vertices):
        count += 1
        assert by_key.setdefault(SPACE.key(g), SPACE.canonical(g)) == SPACE.canonical(g)
    assert count == graphs
    assert len(by_key) == len(set(by_key.values())) == unique


# ---------------------------------------------------------------- neighbourhood
def test_neighbours_of_the_smallest_cell():
    # No op to change, no edge to add or remove: insert one vertex beside or on the edge.
    nbrs = SPACE.neighbours(TRIVIAL)
    assert len(nbrs) == 6
    assert {n.n_vertices for n in nbrs} == {3}
    assert sorted(n.n_edges for n in nbrs) == [2, 2, 2, 3, 3, 3]


def test_neighbours_change_one_thing():
    c = SPACE.canonical(README_CELL)
    for n in SPACE.neighbours(c):
        dv = n.n_vertices - c.n_vertices
        de = n.n_edges - c.n_edges
        assert (dv, de) in {(0, 0), (0, 1), (0, -1), (1, 1), (1, 2), (-1, -1), (-1, -2)}
        if dv == 0 and de == 0:  # an op change: the op multiset differs by one
            assert np.abs(SPACE.encode(n, "opcount") - SPACE.encode(c, "opcount")).sum() == 2


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_neighbourhood_is_symmetric_valid_and_canonical(seed):
    g = SPACE.sample(np.random.default_rng(seed))
    own = SPACE.key(g)
    nbrs = SPACE.neighbours(g)
    keys = [SPACE.key(n) for n in nbrs]
    assert nbrs and own not in keys and len(set(keys)) == len(keys)
    for n in nbrs:
        assert SPACE.canonical(n) == n and SPACE.is_valid(n)
    for n in nbrs[::3]:  # every move kind appears among every third neighbour
        assert own in {SPACE.key(m) for m in SPACE.neighbours(n)}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_every_cell_has_a_smaller_neighbour_so_the_space_is_connected(seed):
    g = SPACE.sample(np.random.default_rng(seed))
    while g != TRIVIAL:
        smaller = min(SPACE.neighbours(g), key=lambda n: (n.n_vertices, n.n_edges))
        assert (smaller.n_vertices, smaller.n_edges) < (g.n_vertices, g.n_edges)
        g = smaller
    assert SPACE.key(g) == SPACE.key(TRIVIAL)


def test_sampling_follows_the_official_random_spec():
    rng = np.random.default_rng(0)
    cells = [SPACE.sample(rng) for _ in range(300)]
    assert all(SPACE.canonical(c) == c for c in cells)
    sizes = np.bincount([c.n_vertices for c in cells], minlength=8)
    # Pruning makes small cells common; all sizes from 2 to 6 occur.
    assert (sizes[2:7] > 0).all() and max(c.n_edges for c in cells) <= 9


# ---------------------------------------------------------------- text
def test_naslib_key_parses_to_the_pruned_cell():
    g = SPACE.canonical(SPACE.parse(SUBSET_KEY))
    assert g.n_vertices == 6
    assert sorted(SPACE.ops[o] for o in g.ops[1:-1]) == [C3, C3, MP, MP]
    assert SPACE.canonical(SPACE.parse(SPACE.format_naslib(g))) == g


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_text_forms_round_trip(seed):
    g = SPACE.sample(np.random.default_rng(seed))
    assert SPACE.parse(SPACE.format(g)) == g
    assert SPACE.canonical(SPACE.parse(SPACE.format_naslib(g))) == g
    assert json.loads(SPACE.format(g))["ops"][0] == "input"


@pytest.mark.parametrize(
    "text, words",
    [
        ("(0, 1, 0, 0, 0, 7)", "unknown NASLib op code"),
        ("(0, 1, 0)", "3 numbers"),
        ("(0, 1, 'a')", "tuple of ints"),
        ('{"matrix": [[0,1],[0,0]], "ops": ["input", "out"]}', "unknown operation 'out'"),
        ('{"matrix": [[0,1],[0,0]], ', "not valid JSON"),
        ("|conv~0|", "accepted: JSON"),
    ],
)
def test_parse_errors_name_the_problem(text, words):
    with pytest.raises(InvalidArchitecture, match=words):
        SPACE.parse(text)


# ---------------------------------------------------------------- encodings
def test_encodings_of_a_hand_checked_cell():
    # input -> conv1x1 -> maxpool -> output, plus input -> output
    g = cell([[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C1, MP, "output"])
    onehot = SPACE.encode(g, "onehot")
    assert onehot.shape == (36,)
    # padded to 7 vertices with the output last: edges (0,1), (0,6), (1,2), (2,6) of the upper triangle
    assert np.flatnonzero(onehot[:21]).tolist() == [0, 5, 6, 14]
    # vertex 1 conv1x1 (slot 1 of 3), vertex 2 maxpool (slot 2 of 3)
    assert np.flatnonzero(onehot[21:]).tolist() == [1, 5]
    path = SPACE.encode(g, "path")
    assert path.shape == (N_PATH_FEATURES,) == (364,)
    # () -> 0; (conv1x1, maxpool) -> 3**0 * 2 + 3**1 * 3 = 11 (BANANAS indexing)
    assert np.flatnonzero(path).tolist() == [0, 11]
    assert SPACE.encode(g, "path", cutoff=5).tolist() == [1, 0, 0, 0, 0]
    assert SPACE.encode(g, "opcount").tolist() == [0, 1, 1]
    assert SPACE.encoding_size("onehot") == 36 and SPACE.encoding_size("path", cutoff=40) == 40


def test_encodings_are_isomorphism_invariant():
    c = SPACE.canonical(README_CELL)
    for p in iter_interior_permutations(c):
        for enc in SPACE.encodings:
            np.testing.assert_array_equal(SPACE.encode(p, enc), SPACE.encode(c, enc))


def test_registered_space_is_nb101():
    assert isinstance(get_space("nb101"), NB101Space)


# ---------------------------------------------------------------- subset table
def test_subset_values_of_a_known_cell():
    bench = load_benchmark("nb101-subset")
    e = bench.query(SUBSET_KEY)
    assert e.metrics["val_acc"] == pytest.approx(92.578125)
    assert e.metrics["flops"] == pytest.approx(624.55808)
    assert e.metrics["params"] == pytest.approx(4.095778)
    assert e.metrics["zc_synflow"] == pytest.approx(88.08498394991342)
    assert e.cost == 0 and e.fidelity == 108
    assert bench.size == 292 and "zc_snip" in bench.metrics


def test_subset_seeds_are_the_distinct_accuracies_of_repeated_specs():
    bench = load_benchmark("nb101-subset")
    e = bench.query(TRIVIAL)  # 55 specs of the file prune to input -> output
    seeds = [bench.query(TRIVIAL, noise=s).metrics["val_acc"] for s in range(3)]
    assert seeds == pytest.approx([83.58373641967773, 83.16305875778198, 83.46354365348816])
    assert e.metrics["val_acc"] == pytest.approx(np.mean(seeds))
    with pytest.raises(ArchscapeError):
        bench.query(TRIVIAL, noise=3)


def test_subset_rejects_cells_it_does_not_hold():
    bench = load_benchmark("nb101-subset")
    with pytest.raises(NotInTable, match="holds 292 of the 423,624 cells"):
        bench.query(PUBLISHED)


# ---------------------------------------------------------------- tfrecord format
def test_crc32c_matches_the_standard_check_values():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720 family)
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4: 32 bytes of zeros
    buffer = np.frombuffer(b"xx123456789" + bytes(32), dtype=np.uint8)
    assert crc32c_spans(buffer, [2, 11, 0], [9, 32, 0]).tolist() == [0xE3069283, 0x8A9136AA, 0]


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        low, v = v & 0x7F, v >> 7
        out.append(low | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire) + payload


def _double(number: int, x: float) -> bytes:
    return _field(number, 1, struct.pack("<d", x))


def _evaluation(epoch: float, train_time: float, train: float, val: float, test: float) -> bytes:
    return b"".join(_double(f, x) for f, x in enumerate((epoch, train_time, train, val, test), start=1)) + _field(
        6, 2, _varint(len(b"/ckpt/model.ckpt-1")) + b"/ckpt/model.ckpt-1"
    )


def model_metrics(params: int, runs: list[tuple[float, float, float, float, float]]) -> bytes:
    """A ModelMetrics message (nasbench/lib/model_metrics.proto), written field by field."""
    body = b"".join(_field(1, 2, _varint(len(e)) + e) for e in (_evaluation(*r) for r in runs))
    return body + _field(2, 0, _varint(params)) + _double(3, 1234.5)


def write_tfrecord(path, records: list[bytes]) -> None:
    with open(path, "wb") as f:
        for data in records:
            header = struct.pack("<Q", len(data))
            f.write(header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data)))


def nb101_record(g: NB101Cell, epochs: int, seed: int, *, stored: NB101Cell | None = None) -> bytes:
    """One row of the official file for cell ``g`` (its adjacency stored as ``stored``, default ``g``)."""
    stored = stored or g
    val, test, train, t = _run_values(SPACE.key(g), epochs, seed)
    metrics = model_metrics(
        _params(SPACE.key(g)),
        [(0.0, 0.0, 0.1, 0.1, 0.1), (epochs / 2, t / 2, train - 0.1, val - 0.1, test - 0.1), (float(epochs), t, train, val, test)],
    )
    adjacency = "".join(str(b) for row in stored.matrix for b in row)
    ops = ",".join(SPACE.ops[o] for o in stored.ops)
    return json.dumps([SPACE.key(g), epochs, adjacency, ops, base64.b64encode(metrics).decode()]).encode()


def _run_values(key: str, epochs: int, seed: int) -> tuple[float, float, float, float]:
    x = int(key[:6], 16) % 1000 / 1e4
    return 0.85 + x + seed / 100, 0.84 + x + seed / 100, 0.99, 10.0 * epochs + seed


def _params(key: str) -> int:
    return 1_000_000 + int(key[:5], 16)


@pytest.fixture(scope="module")
def small_cells() -> list[NB101Cell]:
    rng = np.random.default_rng(42)
    cells = {}
    while len(cells) < 24:  # the conformance checks draw up to 20 rows
        g = SPACE.sample(rng)
        if g != TRIVIAL:  # kept out, to test a cell the file lacks
            cells[SPACE.key(g)] = g
    return [SPACE.canonical(README_CELL), *cells.values()]


def _stored_form(g: NB101Cell) -> NB101Cell:
    # Store a non-canonical relabelling, as the official file stores whichever one it met first.
    return list(iter_interior_permutations(g))[-1]


@pytest.fixture(scope="module")
def only108(tmp_path_factory, small_cells):
    path = tmp_path_factory.mktemp("nb101") / "nasbench_only108.tfrecord"
    write_tfrecord(path, [nb101_record(g, 108, s, stored=_stored_form(g)) for g in small_cells for s in range(3)])
    return path


def test_protobuf_reader_reads_model_metrics():
    raw = model_metrics(8555530, [(0.0, 0.0, 0.1, 0.1, 0.1), (108.0, 1768.78, 1.0, 0.9264, 0.9206)])
    message = decode_message(raw)
    assert message[2] == [8555530] and as_double(message[3][0]) == 1234.5
    final = decode_message(message[1][-1])
    assert [as_double(final[f][0]) for f in (1, 2, 3, 4, 5)] == [108.0, 1768.78, 1.0, 0.9264, 0.9206]
    assert final[6] == [b"/ckpt/model.ckpt-1"]
    with pytest.raises(WireFormatError):
        decode_message(raw[:-3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2**20), st.sampled_from([0, 1, 2, 5]), st.integers(0, 2**64 - 1), st.binary(max_size=40)), max_size=12))
def test_protobuf_reader_round_trips_fields(fields):
    raw, expected = b"", {}
    for number, wire, n, blob in fields:
        if wire == 0:
            raw += _field(number, 0, _varint(n))
            value = n
        elif wire == 1:
            value = struct.pack("<Q", n)
            raw += _field(number, 1, value)
        elif wire == 5:
            value = struct.pack("<I", n & 0xFFFFFFFF)
            raw += _field(number, 5, value)
        else:
            raw += _field(number, 2, _varint(len(blob)) + blob)
            value = blob
        expected.setdefault(number, []).append(value)
    assert decode_message(raw) == expected


def test_tfrecord_reader_yields_records(tmp_path):
    path = tmp_path / "x.tfrecord"
    write_tfrecord(path, [b"", b"a", b"hello" * 100])
    with TFRecordFile(path) as records:
        assert list(records) == [b"", b"a", b"hello" * 100]


def test_tfrecord_benchmark_values(only108, small_cells):
    bench = nb101_bench.load_tfrecord(only108)
    assert bench.fidelities == (108,) and bench.size == len(small_cells)
    for g in small_cells:
        key = SPACE.key(g)
        seeds = [bench.query(g, noise=s) for s in range(3)]
        for s, e in enumerate(seeds):
            val, test, train, t = _run_values(key, 108, s)
            assert e.metrics["val_acc"] == pytest.approx(100 * val)
            assert e.metrics["test_acc"] == pytest.approx(100 * test)
            assert e.metrics["train_acc"] == pytest.approx(100 * train)
            assert e.metrics["train_time"] == pytest.approx(t) == e.cost
            assert e.metrics["params"] == pytest.approx(_params(key) / 1e6)
        assert bench.query(g).metrics["val_acc"] == pytest.approx(np.mean([e.metrics["val_acc"] for e in seeds]))
        assert bench.query(g).genotype == g


def test_tfrecord_isomorphic_cells_hit_one_row(only108, small_cells):
    bench = nb101_bench.load_tfrecord(only108)
    for g in small_cells:
        rows = {bench.query(p).index for p in iter_interior_permutations(g)}
        assert rows == {bench.query(g).index}
    with pytest.raises(NotInTable, match="holds 25 of the 423,624"):
        bench.query(TRIVIAL)


def test_tfrecord_benchmark_passes_conformance(only108):
    check_benchmark(nb101_bench.load_tfrecord(only108))


def test_full_file_epoch_budgets_become_fidelities(tmp_path, small_cells):
    path = tmp_path / "nasbench_full.tfrecord"
    write_tfrecord(path, [nb101_record(g, ep, s) for ep in (4, 12, 36, 108) for g in small_cells[:12] for s in range(3)])
    bench = nb101_bench.load_tfrecord(path)
    assert bench.fidelities == (4, 12, 36, 108) and bench.default_fidelity == 108
    g = small_cells[1]
    for ep in bench.fidelities:
        assert bench.query(g, fidelity=ep, noise=2).metrics["train_time"] == pytest.approx(10.0 * ep + 2)
    check_benchmark(bench)


def _damaged(only108, tmp_path, how: str):
    data = bytearray(only108.read_bytes())
    first_length = struct.unpack_from("<Q", data, 0)[0]
    second = 12 + first_length + 4  # offset of record 1
    if how == "truncated":
        data = data[: len(data) - 7]
    elif how == "data":
        data[second + 12 + 20] ^= 0x01
    elif how == "header":
        data[second] ^= 0x01
    path = tmp_path / f"{how}.tfrecord"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "how, words",
    [
        ("truncated", r"record 74 of the TFRecord file is truncated"),  # 25 cells x 3 runs: the last
        ("data", r"record 1 of the TFRecord file is corrupt data \(CRC-32C mismatch\)"),
        ("header", r"record 1 of the TFRecord file is corrupt length header"),
    ],
)
def test_damaged_files_are_rejected_with_file_and_record(only108, tmp_path, how, words):
    path = _damaged(only108, tmp_path, how)
    with pytest.raises(DataError, match=words) as err:
        nb101_bench.load_tfrecord(path)
    assert str(path) in str(err.value)


def test_foreign_rows_are_rejected(tmp_path):
    g = SPACE.canonical(README_CELL)
    good = nb101_record(g, 108, 0)
    wrong_hash = good.replace(SPACE.key(g).encode(), b"0" * 32)
    for records, words in (
        ([good, b"not json"], "record 1 is not a NAS-Bench-101 row"),
        ([wrong_hash], "hashes to " + SPACE.key(g)),
        ([good.replace(b"maxpool3x3", b"avgpool3x3")], "unknown operation 'avgpool3x3'"),
    ):
        path = tmp_path / "foreign.tfrecord"
        write_tfrecord(path, records)
        with pytest.raises(DataError, match=words):
            nb101_bench.load_tfrecord(path)


def test_registered_nb101_converts_once_and_caches_nothing_from_a_bad_file(only108, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path / "cache"))
    nb101_bench._official.cache_clear()
    try:
        registry.fetch("nb101-tfrecord", _damaged(only108, tmp_path, "data"))
        with pytest.raises(DataError, match="corrupt data"):
            load_benchmark("nb101")
        assert not list((tmp_path / "cache").rglob("*.npz"))

        registry.fetch("nb101-tfrecord", only108, force=True)
        bench = load_benchmark("nb101")
        assert len(list((tmp_path / "cache" / "converted").glob("nb101-tfrecord-*.npz"))) == 1
        direct = nb101_bench.load_tfrecord(only108)
        g = SPACE.canonical(README_CELL)
        assert bench.query(g).metrics == direct.query(g).metrics
        nb101_bench._official.cache_clear()
        again = load_benchmark("nb101")  # read back from the .npz
        assert again.query(g).metrics == direct.query(g).metrics
    finally:
        nb101_bench._official.cache_clear()
