"""The shared conformance checks: one suite per interface.

Every search space runs :func:`check_space` and every benchmark runs
:func:`check_benchmark` (see ``test_conformance.py``, which parametrises them
over the registries).  A new space or benchmark gets these checks for free;
tests of one implementation may also call them on objects built by hand (for
example a benchmark loaded from a small file the test wrote).
"""

from __future__ import annotations

import numpy as np
import pytest

from archscape.benchmarks.base import Benchmark
from archscape.benchmarks.table import TableBenchmark
from archscape.errors import ArchscapeError, InvalidArchitecture
from archscape.spaces.base import ENCODINGS, SearchSpace

N_SAMPLES = 40


def _samples(space: SearchSpace, n: int = N_SAMPLES, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


# ---------------------------------------------------------------------- spaces
def check_space(space: SearchSpace) -> None:
    check_sampling_is_seeded(space)
    check_text_round_trip(space)
    check_canonical_is_idempotent(space)
    check_neighbourhood(space)
    check_neighbour_indices(space)
    check_mutation(space)
    check_index_round_trip(space)
    check_encodings(space)
    check_rejects_garbage(space)
    check_read(space)


def check_sampling_is_seeded(space: SearchSpace) -> None:
    a, b = _samples(space, 10, seed=3), _samples(space, 10, seed=3)
    assert a == b, "same seed must give the same samples"
    c = _samples(space, 10, seed=4)
    assert a != c, "different seeds should give different samples"
    for g in a:
        hash(g)  # genotypes are hashable
        assert space.validate(g) == g


def check_text_round_trip(space: SearchSpace) -> None:
    for g in _samples(space):
        text = space.format(g)
        assert isinstance(text, str) and text
        assert space.parse(text) == space.canonical(g) or space.canonical(space.parse(text)) == space.canonical(g)
        assert space.format(space.canonical(space.parse(text))) == space.format(space.canonical(g))
        assert space.as_genotype(text) == space.canonical(g)


def check_canonical_is_idempotent(space: SearchSpace) -> None:
    for g in _samples(space):
        c = space.canonical(g)
        assert space.canonical(c) == c
        assert space.key(g) == space.key(c)


def check_neighbourhood(space: SearchSpace) -> None:
    for g in _samples(space, 12):
        c = space.canonical(g)
        nbrs = space.neighbours(c)
        assert nbrs, "every architecture has at least one neighbour"
        keys = [space.key(n) for n in nbrs]
        assert len(set(keys)) == len(keys), "neighbours are distinct"
        assert space.key(c) not in keys, "an architecture is not its own neighbour"
        assert space.neighbours(c) == nbrs, "the neighbourhood order is deterministic"
        for n in nbrs[:: max(1, len(nbrs) // 6)]:
            assert space.canonical(n) == n, "neighbours are canonical"
            back = {space.key(m) for m in space.neighbours(n)}
            assert space.key(c) in back, "the neighbourhood relation is symmetric"


def check_neighbour_indices(space: SearchSpace) -> None:
    """A space offering the vectorised neighbour matrix lists what neighbours() lists, in its order."""
    matrix = space.neighbour_indices()
    assert (matrix is not None) == space.capabilities()["neighbour_matrix"]
    if matrix is None:
        return
    assert space.size is not None and matrix.shape[0] == space.size and matrix.dtype == np.int64
    for g in _samples(space, 12):
        i = space.index(g)
        row = matrix[i]
        assert row[row >= 0].tolist() == [space.index(n) for n in space.neighbours(space.from_index(i))]
        assert (row[row < 0] == -1).all() and (row[: (row >= 0).sum()] >= 0).all(), "padding only at the end"


def check_mutation(space: SearchSpace) -> None:
    rng = np.random.default_rng(7)
    for g in _samples(space, 20):
        c = space.canonical(g)
        m = space.mutate(c, rng)
        assert space.key(m) != space.key(c)
        assert space.key(m) in {space.key(n) for n in space.neighbours(c)}, "a mutation is one neighbourhood move"


def check_index_round_trip(space: SearchSpace) -> None:
    if space.size is None:
        with pytest.raises(ArchscapeError):
            space.index(_samples(space, 1)[0])
        return
    for g in _samples(space):
        i = space.index(g)
        assert 0 <= i < space.size
        assert space.from_index(i) == space.canonical(g)
    with pytest.raises(ArchscapeError):
        space.from_index(space.size)
    if space.size <= 100_000:
        seen = set()
        for i, g in enumerate(space.enumerate()):
            assert space.index(g) == i
            seen.add(space.key(g))
        assert len(seen) == space.size


def check_encodings(space: SearchSpace) -> None:
    assert space.encodings and set(space.encodings) <= set(ENCODINGS)
    gs = _samples(space, 10)
    for enc in space.encodings:
        size = space.encoding_size(enc)
        vecs = [space.encode(g, enc) for g in gs]
        for v in vecs:
            assert v.ndim == 1 and v.shape[0] == size and np.all(np.isfinite(v))
        batch = space.encode_many(gs, enc)
        assert batch.shape == (len(gs), size)
        np.testing.assert_array_equal(batch, np.stack(vecs))
        if enc == "opcount":
            for v in vecs:
                assert np.all(v >= 0) and np.all(v == np.round(v))
                assert v.shape[0] % len(space.ops) == 0 or v.shape[0] >= 1
    for enc in ENCODINGS:
        if enc not in space.encodings:
            with pytest.raises(ArchscapeError):
                space.encode(gs[0], enc)
    with pytest.raises(ArchscapeError):
        space.encode(gs[0], "no-such-encoding")


def check_read(space: SearchSpace) -> None:
    """The command line's reading: text is an architecture, ``#N`` an index (finite spaces)."""
    for g in _samples(space, 10, seed=11):
        c = space.canonical(g)
        assert space.key(space.read(space.format(c))) == space.key(c)
        if space.size is not None:
            assert space.key(space.read(f"#{space.index(c)}")) == space.key(c)
    if space.size is None:
        with pytest.raises(ArchscapeError, match="not enumerable"):
            space.read("#0")
    else:
        with pytest.raises(InvalidArchitecture, match="out of range"):
            space.read(f"#{space.size}")


def check_rejects_garbage(space: SearchSpace) -> None:
    for bad in ("", "nonsense", "|conv~0|", "Genotype(normal=[])", "0" * 300):
        with pytest.raises(InvalidArchitecture):
            space.parse(bad)
    for bad in (None, 3.5, "x", (), ("a",)):
        with pytest.raises(ArchscapeError):
            space.validate(bad)


# ------------------------------------------------------------------ benchmarks
def check_benchmark(bench: Benchmark) -> None:
    check_query_forms(bench)
    check_metrics_and_costs(bench)
    check_noise_modes(bench)
    check_fidelities(bench)
    if isinstance(bench, TableBenchmark):
        check_batched_matches_single(bench)
        check_export(bench)
    else:  # no rows to batch or export: the batched query path of a benchmark answered by a model
        check_query_many_matches_single(bench)


def _bench_samples(bench: Benchmark, n: int = 20) -> list:
    if isinstance(bench, TableBenchmark):
        rows = np.random.default_rng(1).choice(bench.size, size=min(n, bench.size), replace=False)
        return [bench.genotype_of(int(r)) for r in rows]
    return _samples(bench.space, n)


def check_query_forms(bench: Benchmark) -> None:
    for g in _bench_samples(bench, 5):
        a = bench.query(g)
        b = bench.query(bench.space.format(g))
        assert a.metrics == b.metrics and a.index == b.index
        assert bench.space.key(a.genotype) == bench.space.key(g)
        if bench.space.size is not None and isinstance(bench, TableBenchmark) and bench.size == bench.space.size:
            c = bench.query(bench.space.index(g))
            assert c.metrics == a.metrics
        j = bench.evaluation_json(a)
        assert j["arch"] == bench.space.format(g) and isinstance(j["metrics"], dict)


def check_metrics_and_costs(bench: Benchmark) -> None:
    assert bench.objective in bench.metrics
    for g in _bench_samples(bench, 10):
        e = bench.query(g)
        assert set(e.metrics) <= set(bench.metrics)
        assert bench.objective in e.metrics
        assert np.isfinite(e.metrics[bench.objective])
        # the simulated cost: finite, >= 0, the same for the same (denoised) query
        assert np.isfinite(e.cost) and e.cost >= 0
        assert bench.query(g).cost == e.cost


def check_noise_modes(bench: Benchmark) -> None:
    if not isinstance(bench, TableBenchmark) and _refuses_seeds(bench):
        check_deterministic(bench)
        return
    for g in _bench_samples(bench, 8):
        mean = bench.query(g, noise="mean")
        assert mean.seed is None
        seeds = []
        s = 0
        while True:
            try:
                seeds.append(bench.query(g, noise=s).metrics[bench.objective])
            except ArchscapeError:
                break
            s += 1
        assert seeds, "seed 0 always exists"
        assert mean.metrics[bench.objective] == pytest.approx(float(np.mean(seeds)))
        r1 = [bench.query(g, noise="seed", rng=np.random.default_rng(5)).metrics[bench.objective] for _ in range(3)]
        r2 = [bench.query(g, noise="seed", rng=np.random.default_rng(5)).metrics[bench.objective] for _ in range(3)]
        assert r1 == r2, "noise='seed' is reproducible from the caller's generator"
        assert all(v in seeds for v in r1)
    with pytest.raises(ArchscapeError):
        bench.query(_bench_samples(bench, 1)[0], noise="loud")


def _refuses_seeds(bench: Benchmark) -> bool:
    """Whether a (non-table) benchmark has no recorded seeds at all, like a deterministic surrogate."""
    try:
        bench.query(_bench_samples(bench, 1)[0], noise=0)
    except ArchscapeError:
        return True
    return False


def check_deterministic(bench: Benchmark) -> None:
    """A benchmark without seeds: 'mean' is its answer, always the same; seed modes are refused in one line."""
    for g in _bench_samples(bench, 8):
        a, b = bench.query(g, noise="mean"), bench.query(g, noise="mean")
        assert a.seed is None and a.metrics == b.metrics and a.cost == b.cost
    g = _bench_samples(bench, 1)[0]
    for noise in ("seed", 0, 1, "loud"):
        with pytest.raises(ArchscapeError) as err:
            bench.query(g, noise=noise, rng=np.random.default_rng(5))
        assert "\n" not in str(err.value)


def check_fidelities(bench: Benchmark) -> None:
    assert bench.default_fidelity in bench.fidelities
    g = _bench_samples(bench, 1)[0]
    for f in bench.fidelities:
        assert bench.query(g, fidelity=f).fidelity == f
    with pytest.raises(ArchscapeError):
        bench.query(g, fidelity=max(bench.fidelities) + 1000)


def check_batched_matches_single(bench: TableBenchmark) -> None:
    gs = _bench_samples(bench, 30)
    rows = bench.rows(gs)
    batch = bench.query_rows(rows, noise="mean")
    for k, g in enumerate(gs):
        single = bench.query(g)
        for m, v in single.metrics.items():
            assert batch[m][k] == pytest.approx(v, nan_ok=True)
    batch = bench.query_rows(rows, noise="seed", rng=np.random.default_rng(11))
    rng = np.random.default_rng(11)
    for k, g in enumerate(gs):
        single = bench.query(g, noise="seed", rng=rng)
        assert batch["seed"][k] == single.seed
        assert batch[bench.objective][k] == pytest.approx(single.metrics[bench.objective])


def check_query_many_matches_single(bench: Benchmark) -> None:
    gs = _bench_samples(bench, 30)
    for fidelity in (None, min(bench.fidelities)):
        batch = bench.query_many(gs, noise="mean", fidelity=fidelity)
        assert len(batch) == len(gs)
        for e, g in zip(batch, gs):
            single = bench.query(g, noise="mean", fidelity=fidelity)
            assert bench.space.key(e.genotype) == bench.space.key(g)
            assert e.metrics == single.metrics and e.cost == single.cost and e.fidelity == single.fidelity


def check_export(bench: TableBenchmark) -> None:
    frame = bench.to_frame(noise="mean")
    assert len(frame) == bench.size
    assert {"index", "arch", bench.objective} <= set(frame.columns)
    row = int(np.random.default_rng(0).integers(bench.size))
    assert frame[bench.objective].iloc[row] == pytest.approx(bench.query_row(row).metrics[bench.objective])
