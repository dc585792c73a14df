"""``archscape opdist analyze``: does the operation distribution explain the metric?"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import needs
from optimizer_conformance import CubeSpace
from scipy import stats

from archscape.benchmarks import load_benchmark
from archscape.benchmarks.base import Benchmark, Evaluation
from archscape.benchmarks.table import Table, TableBenchmark
from archscape.cli import main
from archscape.errors import ArchscapeError, UnsupportedOperation
from archscape.opdist.analysis import (
    _table_pairs,
    _vector_pairs,
    analyze_opdist,
    swaps_and_changes,
)
from archscape.spaces import get_space

NB201 = ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"]
KEYS = {
    "benchmark", "metric", "noise", "n_architectures", "n_distributions", "eta_squared", "spearman_group_mean",
    "within_group_sd", "total_sd", "best_distribution", "optimum_distribution_rank", "swap_vs_change",
}


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def table_bench(space, columns, name: str = "toy") -> TableBenchmark:
    """A one-fidelity table over ``space`` (rows in the space's index order); ``columns``: (rows, seeds) values."""
    v = np.asarray(columns, dtype=np.float64).reshape(space.size, -1)
    table = Table({"val_acc": v}, n_seeds=np.isfinite(v).sum(axis=1), cost=None)
    return TableBenchmark(name, space, {1: table})


def macro_counts_bench() -> TableBenchmark:
    """Macro cells whose value depends only on the counts: 1 per mb3_k3, 3 per mb6_k5."""
    space = get_space("macro")
    counts = space.encode_many(list(space.enumerate()), "opcount")
    return table_bench(space, counts[:, 1] + 3 * counts[:, 2], "macro-counts")


# ---------------------------------------------------------------- known answers
def test_values_fixed_by_the_counts_are_fully_explained():
    a = analyze_opdist(macro_counts_bench())
    s = a.summary
    assert s["mode"] == "exhaustive" and s["n_architectures"] == 6561 and s["n_distributions"] == 45
    assert s["eta_squared"] == pytest.approx(1.0)
    assert s["within_group_sd"] == pytest.approx(0.0, abs=1e-9)
    assert s["spearman_group_mean"] == pytest.approx(1.0)
    assert s["best_distribution"]["counts"] == {"identity": 0, "mb3_k3": 0, "mb6_k5": 8}
    assert s["best_distribution"]["text"] == "identity=0,mb3_k3=0,mb6_k5=8"
    assert (s["best_distribution"]["mean"], s["best_distribution"]["size"]) == (24.0, 1)
    assert s["optimum_distribution_rank"] == 1
    sv = s["swap_vs_change"]
    # a swap keeps the counts: no change at all; a change moves identity<->mb3 (1), identity<->mb6 (3),
    # mb3<->mb6 (2), equally often
    assert sv["swap"] == {"n_pairs": 6561 * 28 * 2 // 3 // 2, "median": 0.0, "mean": 0.0}
    assert sv["change"]["n_pairs"] == 6561 * 16 // 2
    assert (sv["change"]["median"], sv["change"]["mean"]) == (2.0, pytest.approx(2.0))
    assert sv["mann_whitney"]["prob_swap_greater"] == 0.0 and sv["mann_whitney"]["p_value"] < 1e-100
    assert sv["ks"]["statistic"] == 1.0


def test_group_figures_match_a_direct_groupby_and_nan_rows_are_left_out():
    space = get_space("nb201")
    rng = np.random.default_rng(5)
    values = rng.normal(80, 5, size=(space.size, 2))
    values[rng.random(space.size) < 0.3, 1] = np.nan  # seed 1 missing for some cells
    bench = table_bench(space, values)
    a = analyze_opdist(bench, noise=1)
    s = a.summary
    genotypes = [space.from_index(r) for r in range(space.size)]
    frame = pd.DataFrame(space.encode_many(genotypes, "opcount").astype(int), columns=list(space.ops))
    frame["v"] = values[:, 1]
    frame["arch"] = [space.format(g) for g in genotypes]
    frame = frame.dropna()
    key = list(space.ops)
    grouped = frame.groupby(key)["v"]
    means = grouped.transform("mean")
    ss_total = ((frame.v - frame.v.mean()) ** 2).sum()
    ss_within = ((frame.v - means) ** 2).sum()
    g = grouped.ngroups
    assert s["n_excluded"] == int(np.isnan(values[:, 1]).sum()) and s["n_architectures"] == len(frame)
    assert s["n_distributions"] == g  # singleton groups whose cell lacks the seed are gone
    assert s["eta_squared"] == pytest.approx(1 - ss_within / ss_total)
    assert s["within_group_sd"] == pytest.approx(np.sqrt(ss_within / (len(frame) - g)))
    assert s["total_sd"] == pytest.approx(frame.v.std(ddof=1))
    assert s["spearman_group_mean"] == pytest.approx(stats.spearmanr(frame.v, means).statistic)
    agg = grouped.agg(["mean", "min", "max", "size", lambda x: x.quantile(0.25), lambda x: x.quantile(0.75)])
    agg.columns = ["mean", "min", "max", "size", "q25", "q75"]
    mine = pd.DataFrame({"mean": a.group_mean, "min": a.group_min, "max": a.group_max, "size": a.group_size,
                         "q25": a.group_q25, "q75": a.group_q75},
                        index=pd.MultiIndex.from_arrays(a.group_counts.T, names=key))
    pd.testing.assert_frame_equal(mine.sort_index(), agg.sort_index(), check_dtype=False)
    best = agg["mean"].idxmax()
    assert tuple(s["best_distribution"]["counts"].values()) == best
    opt = frame.loc[frame.v.idxmax()]
    assert s["global_optimum"]["arch"] == opt.arch
    assert s["optimum_distribution_rank"] == 1 + int((agg["mean"] > agg["mean"][tuple(opt[key])]).sum())
    # pairs with a missing end are dropped
    assert s["swap_vs_change"]["swap"]["n_pairs"] < 93750 and s["swap_vs_change"]["change"]["n_pairs"] < 187500


def test_whole_array_pairs_equal_the_enumerated_swaps_and_changes():
    bench = macro_counts_bench()
    genotypes = [bench.genotype_of(r) for r in range(bench.size)]
    fast = _vector_pairs(np.asarray(genotypes), 3)
    slow = _table_pairs(bench, genotypes)
    for k in (0, 2):  # swaps, changes
        assert sorted(zip(*np.sort(np.stack(fast[k:k + 2]), axis=0).tolist())) == sorted(zip(*slow[k:k + 2]))
    counts = bench.space.encode_many(genotypes, "opcount")
    assert (counts[fast[0]] == counts[fast[1]]).all()
    assert (np.abs(counts[fast[2]] - counts[fast[3]]).sum(axis=1) == 2).all()


@pytest.mark.parametrize("space_name", ["nb201", "macro", "darts", "nb101"])
def test_a_swap_keeps_the_counts_and_a_change_moves_one(space_name):
    space = get_space(space_name)
    rng = np.random.default_rng(1)
    for _ in range(5):
        g = space.sample(rng)
        swaps, changes = swaps_and_changes(space, g)
        c = space.op_counts(g)
        for p in swaps:
            assert (space.op_counts(p) == c).all()
            if space_name != "nb101":  # in NB101 swapping the ops of two equivalent vertices gives the same cell
                assert space.key(p) != space.key(g)
        assert changes and all(np.abs(space.op_counts(p) - c).sum() == 2 for p in changes)
        if space_name in ("nb201", "macro"):
            assert len(swaps) == sum(a != b for i, a in enumerate(g) for b in g[i + 1:])
            assert len(changes) == len(g) * (len(space.ops) - 1)


# ---------------------------------------------------------------- sampled mode
class CountsBenchmark(Benchmark):
    """A stand-in surrogate over any space: the value is the dot product of the op counts with ``weights``."""

    metrics = ("val_acc",)

    def __init__(self, space, weights):
        super().__init__()
        self.name, self.space, self.weights = f"counts-{space.name}", space, np.asarray(weights, dtype=np.float64)

    def query(self, arch, *, noise="mean", fidelity=None, rng=None):
        g = self.space.as_genotype(arch)
        value = float(self.space.op_counts(g) @ self.weights)
        return Evaluation(g, None, {"val_acc": value}, 0.0, None)


def test_sampling_works_on_a_space_too_large_to_enumerate():
    space = get_space("darts")
    a = analyze_opdist(CountsBenchmark(space, np.arange(14.0)), samples=30, per_distribution=4, seed=2)
    s = a.summary
    assert s["mode"] == "sampled" and s["n_architectures"] == 120 and s["n_distributions"] == 30
    assert s["eta_squared"] == pytest.approx(1.0) and s["within_group_sd"] == pytest.approx(0.0, abs=1e-9)
    assert s["swap_vs_change"]["swap"]["median"] == 0.0 and s["swap_vs_change"]["change"]["median"] > 0
    assert isinstance(s["best_distribution"]["counts"]["normal"], dict)


def test_forced_sampling_on_a_table_estimates_the_exhaustive_group_means():
    bench = load_benchmark("nas-bench-macro") if _has("nas-bench-macro") else macro_counts_bench()
    exact = analyze_opdist(bench)
    est = analyze_opdist(bench, samples=45, per_distribution=150, seed=4)
    assert est.summary["mode"] == "sampled" and est.summary["n_architectures"] == 45 * 150
    exact_groups = {tuple(c): (m, sd) for c, m, sd in zip(exact.group_counts.tolist(), exact.group_mean, exact.group_sd)}
    for counts, mean, size in zip(est.group_counts.tolist(), est.group_mean, est.group_size):
        exact_mean, sd = exact_groups[tuple(counts)]
        assert size >= 150 and abs(mean - exact_mean) <= 5 * sd / np.sqrt(size) + 1e-9
    assert est.summary["swap_vs_change"]["swap"]["n_pairs"] > 0.9 * 45 * 150
    again = analyze_opdist(bench, samples=45, per_distribution=150, seed=4)
    assert _numbers(again.summary) == _numbers(est.summary)
    other = analyze_opdist(bench, samples=45, per_distribution=150, seed=5)
    assert other.summary["eta_squared"] != est.summary["eta_squared"]


def _has(name: str) -> bool:
    return not needs(name).args[0]


def _numbers(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "seconds"}


# ---------------------------------------------------------------- the real tables
@needs("nb201-cifar10")
@pytest.mark.parametrize("name", NB201)
def test_nb201_tables(name):
    a = analyze_opdist(name)
    s = a.summary
    assert KEYS <= set(s) and s["n_architectures"] == 15625 and s["n_distributions"] == 210
    assert 0 <= s["eta_squared"] <= 1 and -1 <= s["spearman_group_mean"] <= 1
    assert 0 < s["within_group_sd"] < s["total_sd"]
    assert sum(s["best_distribution"]["counts"].values()) == 6 and 1 <= s["optimum_distribution_rank"] <= 210
    sv = s["swap_vs_change"]
    assert (sv["swap"]["n_pairs"], sv["change"]["n_pairs"]) == (15625 * 12 // 2, 15625 * 24 // 2)
    assert 0 <= sv["mann_whitney"]["p_value"] <= 1 and 0 < sv["ks"]["statistic"] <= 1
    assert s["seconds"] > 0  # timed (benchmarks/bench_opdist.py measures it against the 1 s target)


@needs("nas-bench-macro")
def test_macro_table():
    s = analyze_opdist("nas-bench-macro").summary
    assert KEYS <= set(s) and s["n_architectures"] == 6561 and s["n_distributions"] == 45
    assert 0 <= s["eta_squared"] <= 1 and s["metric"] == "test_acc"
    assert sum(s["best_distribution"]["counts"].values()) == 8


@needs("nb101-subset")
def test_nb101_subset_is_grouped_as_far_as_it_goes():
    bench = load_benchmark("nb101-subset")
    s = analyze_opdist(bench).summary
    genotypes = [bench.genotype_of(r) for r in range(bench.size)]
    counts = bench.space.encode_many(genotypes, "opcount")
    groups, sizes = np.unique(counts, axis=0, return_counts=True)
    assert s["n_architectures"] == bench.size and s["n_distributions"] == len(groups)
    assert s["n_singleton_groups"] == int((sizes == 1).sum())
    assert s["pairs"].startswith("pairs whose both") and 0 <= s["eta_squared"] <= 1
    swap_a, swap_b, change_a, change_b = _table_pairs(bench, genotypes)
    assert (counts[swap_a] == counts[swap_b]).all()
    assert (np.abs(counts[change_a] - counts[change_b]).sum(axis=1) == 2).all()
    assert s["swap_vs_change"]["swap"]["n_pairs"] == len(swap_a)


@needs("nb201-cifar10")
def test_seed_noise_draws_one_recorded_seed_per_cell_reproducibly():
    bench = load_benchmark("nb201-cifar10")
    a, b = (analyze_opdist(bench, noise="seed", seed=3).summary for _ in range(2))
    c = analyze_opdist(bench, noise="seed", seed=4).summary
    assert _numbers(a) == _numbers(b) and a["eta_squared"] != c["eta_squared"]
    seeds = [analyze_opdist(bench, noise=k).summary["eta_squared"] for k in (0, 1)]
    assert min(seeds) - 0.05 < a["eta_squared"] < max(seeds) + 0.05
    s2 = analyze_opdist(bench, noise=2).summary  # the third seed: only some cells have it
    assert s2["n_excluded"] > 0 and s2["n_architectures"] + s2["n_excluded"] == 15625


# ---------------------------------------------------------------- command line
@needs("nb201-cifar10")
def test_cli_json_is_one_object_and_seeded(capsys):
    code, out, err = run(capsys, "opdist", "analyze", "nb201-cifar10", "--json")
    assert code == 0 and err == "" and out.count("\n") == 1
    obj = json.loads(out)
    assert KEYS <= set(obj) and obj["noise"] == "mean" and obj["n_distributions"] == 210
    runs = []
    for seed in ("7", "7", "8"):
        code, out, _ = run(capsys, "opdist", "analyze", "nb201-cifar10", "--noise", "seed", "--seed", seed, "--json")
        assert code == 0
        runs.append(_numbers(json.loads(out)))
    assert runs[0] == runs[1] and runs[0] != runs[2]


@needs("nas-bench-macro")
def test_cli_summary_and_sampling(capsys):
    code, out, err = run(capsys, "opdist", "analyze", "nas-bench-macro")
    assert code == 0 and err == "" and "45 op distributions" in out and "eta^2" in out
    code, out, _ = run(capsys, "opdist", "analyze", "nas-bench-macro", "--samples", "20", "--per-distribution", "3",
                       "--json")
    obj = json.loads(out)
    assert code == 0 and obj["mode"] == "sampled" and obj["n_architectures"] == 60


@pytest.mark.slow
@needs("nas-bench-macro")
def test_cli_out_writes_plots_summary_and_page(capsys, tmp_path):
    out_dir = tmp_path / "od"
    code, out, err = run(capsys, "opdist", "analyze", "nas-bench-macro", "--out", str(out_dir), "--json")
    assert code == 0, err
    written = json.loads((out_dir / "summary.json").read_text())
    assert _numbers(written) == _numbers(json.loads(out))
    page = (out_dir / "index.html").read_text()
    for name in ("group_means.png", "swap_vs_change.png", "summary.json", "distributions.csv"):
        assert (out_dir / name).stat().st_size > 0 and name in page
    assert len(pd.read_csv(out_dir / "distributions.csv")) == 45


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["nb999"], "unknown benchmark 'nb999'"),
        (["nb201-cifar10", "--noise", "loud"], "accepted: mean (average of the recorded seeds), seed"),
        (["nb201-cifar10", "--noise", "3"], "accepted: mean, seed, or a seed number 0..2"),
        (["nb201-cifar10", "--metric", "loss"], "unknown metric of nb201-cifar10 'loss'; accepted: val_acc"),
        (["nb201-cifar10", "--samples", "0"], "samples must be an integer >= 1"),
        (["nb101-subset", "--samples", "5"], "nb101-subset is a partial table"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, args, fragment):
    code, out, err = run(capsys, "opdist", "analyze", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and fragment in err and err.count("\n") == 1


def test_cli_refuses_a_benchmark_without_an_op_distribution(capsys):
    pytest.importorskip("nas_bench_graph")
    code, out, err = run(capsys, "opdist", "analyze", "nas-bench-graph-cora")
    assert code == 2 and err.count("\n") == 1
    assert "search space 'graph') has no operation distribution; accepted: benchmarks over the spaces nb201" in err


def test_a_space_without_an_op_distribution_is_refused():
    bench = TableBenchmark("cube", CubeSpace(4), {0: Table({"val_acc": np.arange(16.0)}, n_seeds=np.ones(16), cost=None)})
    with pytest.raises(UnsupportedOperation, match="has no operation distribution; accepted: .*nb201, macro, nb101, darts"):
        analyze_opdist(bench)


@needs("nb201-cifar10")
def test_seed_and_sizes_must_be_valid():
    with pytest.raises(ArchscapeError, match="per_distribution must be an integer >= 1"):
        analyze_opdist("nb201-cifar10", per_distribution=-1)
    with pytest.raises(ArchscapeError, match="seed must be an integer >= 0"):
        analyze_opdist("nb201-cifar10", seed=-1)
