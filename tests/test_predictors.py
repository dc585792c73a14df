"""Predictors: the shared conformance suite over the registry, and what each one adds; ``predictors eval``."""

from __future__ import annotations

import json
import math
import re
import sys
from functools import lru_cache

import numpy as np
import pytest
from helpers import needs
from predictor_conformance import N_POINTS, LearningTask, check_learns, check_predictor, distinct_sample, synthetic_task, synthetic_values, table_task

import archscape
from archscape.benchmarks import BENCHMARKS
from archscape.benchmarks.base import Benchmark, Evaluation
from archscape.cli import main
from archscape.data import registry
from archscape.errors import ArchscapeError, MissingExtra, UnsupportedOperation
from archscape.params import InvalidParameter
from archscape.predictors import make_predictor, predictor_names
from archscape.predictor_eval.evaluate import evaluate_predictors, rank_measures, top_precision
from archscape.predictors.targets import TargetMap
from archscape.spaces import get_space, space_names, spaces_with

PREDICTORS = ("mlp", "gp", "rf", "lgbm", "gnn")
#: the real table that judges learning on each space (DARTS has none: its values are synthetic)
TABLES = {"nb201": "nb201-cifar10", "macro": "nas-bench-macro", "nb101": "nb101-subset"}
#: (predictor, space) pairs whose conformance run takes more than a few seconds on 2 cores: the GNN wherever it trains
SLOW = {("gnn", s) for s in spaces_with("graph")}


def has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


EXTRA = {"lgbm": "lightgbm", "gnn": "torch"}


@lru_cache(maxsize=None)
def learning_task(space_name: str) -> LearningTask:
    table = TABLES.get(space_name)
    if table is None:
        return synthetic_task(get_space(space_name))
    missing = [d for d in BENCHMARKS[table].data if not registry.is_available(d)]
    if missing:
        pytest.skip(f"data not available: {', '.join(missing)}")
    return table_task(archscape.load_benchmark(table))


def factory(name: str, **fixed):
    def make(**overrides):
        return make_predictor(name, **{**fixed, **overrides})

    return make


def conformance_params():
    """Every registered predictor on every registered space big enough for the suite's samples."""
    out = []
    for name in predictor_names():
        for space in space_names():
            marks = [pytest.mark.slow] if (name, space) in SLOW else []
            if name in EXTRA and not has_module(EXTRA[name]):
                marks.append(pytest.mark.skip(reason=f"needs {EXTRA[name]}"))
            size = get_space(space).size
            if size is not None and size < N_POINTS:
                marks.append(pytest.mark.skip(reason=f"{space} has {size} architectures; the suite fits {N_POINTS}"))
            out.append(pytest.param(name, space, id=f"{name}-{space}", marks=marks))
    return out


# ---------------------------------------------------------------------- registry
def test_registry_has_the_zoo_and_names_bad_input():
    assert set(PREDICTORS) <= set(predictor_names())
    with pytest.raises(ArchscapeError, match="unknown predictor 'xgb'; accepted: mlp, gp, rf, lgbm, gnn"):
        make_predictor("xgb")
    with pytest.raises(ArchscapeError, match="bad parameter for predictor 'rf'.*n_estimators"):
        make_predictor("rf", n_trees=10)


# ---------------------------------------------------------------------- conformance
@pytest.mark.parametrize("name, space_name", conformance_params())
def test_predictor_conformance(name, space_name):
    space = get_space(space_name)
    ran = check_predictor(factory(name), space, learning_task(space_name))
    # Only the graph predictor may refuse a space (one without an operation graph); the rest read encodings.
    assert ran == (name != "gnn" or space.graph_view() is not None)


def test_gp_with_scikit_learn_conforms_and_learns():
    assert check_predictor(factory("gp", backend="sklearn"), get_space("nb201"), learning_task("nb201"))


@pytest.mark.parametrize("encoding", ["onehot", "path", "opcount"])
@pytest.mark.parametrize("name", ["gp", "rf"])
def test_every_nb201_encoding_learns_the_table(name, encoding):
    check_learns(factory(name, encoding=encoding), get_space("nb201"), learning_task("nb201"))


def test_predictors_rank_the_nb201_table_well_at_200_points():
    # Measured over 5 draws of 200 training and 1000 test cells: gp 0.88-0.91 (path encoding), rf 0.84-0.87.
    task = learning_task("nb201")
    space = get_space("nb201")
    assert check_learns(factory("gp"), space, task) > 0.8
    assert check_learns(factory("rf"), space, task) > 0.75


# ---------------------------------------------------------------------- encodings
@pytest.mark.parametrize("space_name, expected", [("nb201", "path"), ("nb101", "path"), ("macro", "onehot"), ("darts", "onehot")])
def test_auto_reads_a_compact_path_encoding_else_onehot(space_name, expected):
    p = make_predictor("mlp").setup(get_space(space_name), np.random.default_rng(0))
    assert p.get_params()["encoding"] == "auto" and p.encoding_ == expected


def test_a_cutoff_makes_auto_read_the_darts_paths_and_applies_to_path_only():
    space = get_space("darts")
    p = make_predictor("rf", cutoff=224).setup(space, np.random.default_rng(0))
    assert p.encoding_ == "path"
    assert p.encode(distinct_sample(space, 3, seed=0)).shape == (3, 224)
    with pytest.raises(InvalidParameter, match="'cutoff' parameter of RandomForestPredictor applies to encoding='path' only"):
        make_predictor("rf", encoding="onehot", cutoff=10).setup(space, np.random.default_rng(0))
    with pytest.raises(UnsupportedOperation, match="GPPredictor needs the 'path' encoding, which search space 'macro' does not offer"):
        make_predictor("gp", encoding="path").setup(get_space("macro"), np.random.default_rng(0))


def test_gp_backend_options_are_checked():
    space = get_space("nb201")
    with pytest.raises(InvalidParameter, match="'kernel' parameter of GPPredictor must be 'matern52' with backend='sklearn'"):
        make_predictor("gp", backend="sklearn", kernel="rbf").setup(space, np.random.default_rng(0))
    with pytest.raises(InvalidParameter, match="'ard' parameter of GPPredictor applies to backend='sklearn' only"):
        make_predictor("gp", ard=True).setup(space, np.random.default_rng(0))


def test_encodings_are_cached_and_read_only():
    space = get_space("nb201")
    p = make_predictor("rf").setup(space, np.random.default_rng(0))
    cells = distinct_sample(space, 10, seed=1)
    block = p.encode(cells)
    np.testing.assert_array_equal(block, space.encode_many(cells, "path"))
    assert not block.flags.writeable
    np.testing.assert_array_equal(p.encode(cells[::-1] + [list(cells[0])]), np.vstack([block[::-1], block[:1]]))


# ---------------------------------------------------------------------- targets
def test_normal_scores_map_back_to_values_monotonically():
    y = np.array([10.0, 85.0, 85.0, 90.0, 91.0, 93.5])
    t = TargetMap("normal_scores", y)
    np.testing.assert_allclose(t.inverse(t.z), y)
    z = np.linspace(-4, 4, 201)
    back = t.inverse(z)
    assert np.all(np.diff(back) > 0), "strictly increasing, beyond the ends too"
    assert back[-1] > 93.5 and back[0] < 10.0
    std = t.inverse_std(np.zeros(5), np.array([0.0, 0.1, 0.5, 1.0, 2.0]))
    assert std[0] == 0 and np.all(np.diff(std) > 0)
    plain = TargetMap("values", y)
    np.testing.assert_allclose(plain.inverse(plain.z), y)
    np.testing.assert_allclose(plain.inverse_std(plain.z, np.ones(6)), np.full(6, y.std()))
    assert TargetMap("normal_scores", np.full(3, 7.0)).inverse(np.array([-1.0, 2.0])).tolist() == [7.0, 7.0]


# ---------------------------------------------------------------------- graphs
def test_nb201_graph_has_the_operations_as_nodes_and_none_cuts_its_edge():
    space = get_space("nb201")
    g = space.parse("|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|")
    batch = space.graph_view().graphs(space, [g])
    # nodes: 0 input, 1..6 the edges 0->1, 0->2, 1->2, 0->3, 1->3, 2->3, 7 output
    edges = {(int(i), int(j)) for i, j in zip(*np.nonzero(batch.adjacency[0]))}
    assert edges == {(0, 1), (0, 4), (1, 3), (3, 6), (4, 7), (6, 7)}
    # features: input, output, then the five ops
    assert batch.features[0].argmax(axis=1).tolist() == [0, 2 + 3, 2 + 0, 2 + 4, 2 + 1, 2 + 0, 2 + 2, 1]
    assert batch.mask[0].tolist() == [1.0] * 8


def test_darts_graph_wires_pairs_through_intermediate_nodes():
    space = get_space("darts")
    g = space.canonical(space.sample(np.random.default_rng(1)))
    batch = space.graph_view().graphs(space, [g])
    a = batch.adjacency[0]
    for c, cell in enumerate(g):
        base = 11 * c
        for s, (op, inp) in enumerate(cell):
            node = base + 2 + s
            sources = {base + inp} if inp < 2 else {base + 2 + 2 * (inp - 2), base + 3 + 2 * (inp - 2)}
            assert set(np.flatnonzero(a[:, node]).tolist()) == sources
            assert a[node, base + 10] == 1
            assert batch.features[0, node, 3 + op] == 1 and batch.features[0, node, 10 + c] == 1
    assert a[:11, 11:].sum() == 0 and a[11:, :11].sum() == 0, "the two cells are separate graphs"


def test_nb101_graph_is_the_canonical_cell_and_macro_a_chain():
    space = get_space("nb101")
    cells = distinct_sample(space, 5, seed=2)
    batch = space.graph_view().graphs(space, cells)
    for b, cell in enumerate(cells):
        n = cell.n_vertices
        np.testing.assert_array_equal(batch.adjacency[b, :n, :n], np.asarray(cell.matrix))
        assert batch.mask[b].sum() == n and batch.features[b, :n].argmax(axis=1).tolist() == list(cell.ops)
    macro = get_space("macro")
    chain = macro.graph_view().graphs(macro, [macro.parse("02012100")])
    np.testing.assert_array_equal(chain.adjacency[0], np.eye(10, k=1))
    assert chain.features[0, 1:9, 2:5].argmax(axis=1).tolist() == [0, 2, 0, 1, 2, 1, 0, 0]


def test_subset_spaces_use_their_parents_graphs_and_opdist_spaces_have_none():
    bench = _nb101_subset_or_skip()
    assert bench.search_space().graph_view() is not None
    assert get_space("nb201-opdist").graph_view() is None
    pytest.importorskip("torch")
    with pytest.raises(UnsupportedOperation, match="GNNPredictor needs a graph view .* 'nb201-opdist'"):
        make_predictor("gnn").setup(get_space("nb201-opdist"), np.random.default_rng(0))


def _nb101_subset_or_skip():
    if not registry.is_available("nb101-subset"):
        pytest.skip("data not available: nb101-subset")
    return archscape.load_benchmark("nb101-subset")


def test_gnn_leaves_torch_threads_and_random_state_as_they_were():
    torch = pytest.importorskip("torch")
    space = get_space("nb201")
    cells = distinct_sample(space, 30, seed=3)
    before_threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_predictor("gnn", epochs=3).setup(space, np.random.default_rng(0)).fit(cells, synthetic_values(space, cells))
    assert torch.get_num_threads() == before_threads
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("name, module, extra", [("lgbm", "lightgbm", "archscape[predictors]"), ("gnn", "torch", "archscape[train]")])
def test_a_missing_extra_is_named_in_one_line_at_setup(monkeypatch, name, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    p = make_predictor(name)  # the registry and constructors work without it
    with pytest.raises(MissingExtra, match=extra.replace("[", r"\[").replace("]", r"\]")) as info:
        p.setup(get_space("nb201"), np.random.default_rng(0))
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------- evaluation
def test_top_precision_counts_the_true_top_among_the_predicted_top():
    truth = np.arange(100.0)
    assert top_precision(truth, truth, 0.1) == 1.0
    assert top_precision(-truth, truth, 0.1) == 0.0
    pred = truth.copy()
    pred[95] = -1  # one of the true top 10 predicted worst: 9 of the predicted top 10 are right
    assert top_precision(pred, truth, 0.1) == 0.9
    assert top_precision(pred, truth, 0.01) == 1.0  # k = 1: the best (99) is still predicted best
    tied = np.array([5.0, 5.0, 5.0, 1.0])
    assert top_precision(np.array([0.0, 1.0, 2.0, 3.0]), tied, 0.25) == 0.0
    assert top_precision(np.array([3.0, 1.0, 2.0, 0.0]), tied, 0.5) == 1.0  # ties with the k-th truth count as top
    m = rank_measures(truth[::-1].copy(), truth)
    assert m["kendall_tau"] == pytest.approx(-1.0) and m["spearman"] == pytest.approx(-1.0)
    assert math.isnan(rank_measures(np.zeros(100), truth)["spearman"])


def _small_eval(**kw):
    args = dict(predictors=["rf", "gp"], encodings=["onehot"], train_sizes="10,40", repeats=2, test_size=200, seed=4)
    return evaluate_predictors("nb201-cifar10", **{**args, **kw})


def _measures(result, label):
    return [(r["n_train"], r["repeat"], r["kendall_tau"], r["spearman"], r["top_10pct"]) for r in result.records if r["label"] == label]


def test_evaluation_records_every_fit_reproducibly_and_each_predictor_alone():
    a = _small_eval()
    assert a.settings["source"] == "table" and a.settings["test_size"] == 200
    assert len(a.records) == 2 * 2 * 2 and {r["label"] for r in a.records} == {"rf/onehot", "gp/onehot"}
    b = _small_eval()
    assert _measures(a, "gp/onehot") == _measures(b, "gp/onehot")
    alone = _small_eval(predictors=["gp"])
    assert _measures(alone, "gp/onehot") == _measures(a, "gp/onehot"), "adding a predictor changes no other result"
    other = _small_eval(seed=5)
    assert _measures(other, "gp/onehot") != _measures(a, "gp/onehot")
    summary = a.summary()
    assert [(s["predictor"], s["n_train"]) for s in summary] == [("rf", 10), ("rf", 40), ("gp", 10), ("gp", 40)]
    gp40 = summary[3]
    assert gp40["spearman"]["n"] == 2 and gp40["spearman"]["mean"] > 0.5
    assert gp40["spearman"]["mean"] > summary[2]["spearman"]["mean"], "more data, better ranking"


def test_evaluation_on_a_small_table_leaves_out_sizes_and_shrinks_the_test_set():
    _nb101_subset_or_skip()
    result = evaluate_predictors("nb101-subset", predictors=["rf"], encodings=["opcount"], train_sizes="20,200,280",
                                 repeats=1)
    assert result.settings["train_sizes"] == [20, 200] and result.settings["test_size"] == 292 - 200
    assert any("280 left out" in n for n in result.notes) and any("test set of 92" in n for n in result.notes)
    with pytest.raises(ArchscapeError, match="every training-set size leaves fewer than 20"):
        evaluate_predictors("nb101-subset", predictors=["rf"], train_sizes="290", repeats=1)


class SyntheticDarts(Benchmark):
    """A benchmark that cannot be listed (like NAS-Bench-301): DARTS genotypes valued by a fixed function."""

    name = "synthetic-darts"
    metrics = ("val_acc",)

    def __init__(self) -> None:
        super().__init__()
        self.space = get_space("darts")
        self.n_queries = 0  # this stand-in counts its own queries

    def query(self, arch, *, noise="mean", fidelity=None, rng=None) -> Evaluation:
        g = self.space.as_genotype(arch)
        value = _darts_value(self.space, g)
        if noise == "seed":
            value += float(rng.normal(0, 0.1))
        self.n_queries += 1
        return Evaluation(g, None, {"val_acc": value}, 0.0, None, None)


def _darts_value(space, g) -> float:
    counts = space.encode(g, "opcount")
    return 90.0 + float(np.tanh(counts @ np.linspace(-1, 1, counts.size) / 3))


def test_evaluation_samples_and_queries_a_benchmark_that_cannot_be_listed():
    bench = SyntheticDarts()
    result = evaluate_predictors(bench, predictors=["rf"], encodings=["opcount"], train_sizes="10,50", repeats=2,
                                 test_size=100, noise="seed")
    assert result.settings["source"] == "sampled" and result.settings["test_size"] == 100
    # per repeat: 100 test architectures queried for the mean, 50 training ones with seed noise
    assert bench.n_queries == 2 * (100 + 50)
    rho = [r["spearman"] for r in result.records if r["n_train"] == 50]
    assert min(rho) > 0.6, rho


@needs("nb301")
def test_evaluation_on_the_nb301_surrogate_samples_the_darts_space():
    pytest.importorskip("onnxruntime")
    result = evaluate_predictors("nb301", predictors=["gp"], encodings=["onehot"], train_sizes="20,100", repeats=1,
                                 test_size=200)
    assert result.settings["source"] == "sampled" and result.settings["space"] == "darts"
    (at100,) = [r for r in result.records if r["n_train"] == 100]
    # measured: 0.42-0.51 (a random DARTS cell's accuracy varies little); chance is 0
    assert at100["n_test"] == 200 and at100["spearman"] > 0.25


# ---------------------------------------------------------------------- command line
def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_eval_prints_one_json_object(capsys):
    code, out, err = run(capsys, "predictors", "eval", "nb201-cifar10", "--predictor", "gp", "--predictor", "rf:n_estimators=20",
                         "--encoding", "onehot,opcount", "--train-sizes", "20,50", "--repeats", "2", "--test-size", "100", "--json")
    assert code == 0 and err == ""
    obj = json.loads(out)
    assert obj["benchmark"] == "nb201-cifar10" and obj["metric"] == "val_acc" and obj["train_sizes"] == [20, 50]
    labels = {(r["predictor"], r["encoding"]) for r in obj["results"]}
    assert labels == {("gp", "onehot"), ("gp", "opcount"), ("rf:n_estimators=20", "onehot"), ("rf:n_estimators=20", "opcount")}
    for r in obj["results"]:
        assert set(r) >= {"kendall_tau", "spearman", "top_1pct", "top_10pct", "fit_s", "predict_s"}
        assert -1 <= r["kendall_tau"]["mean"] <= 1 and r["spearman"]["n"] == 2


@needs("nas-bench-macro")
def test_cli_eval_writes_csv_plots_and_a_page(capsys, tmp_path):
    import pandas as pd

    code, out, err = run(capsys, "predictors", "eval", "nas-bench-macro", "--predictor", "rf", "--predictor", "gp",
                         "--train-sizes", "10,30", "--repeats", "2", "--test-size", "50", "--out", tmp_path)
    assert code == 0, err
    assert "path" not in out, "macro has no path encoding"
    assert re.search(r"^\s+gp\s+onehot\s+30\s+0\.\d{3} ± 0\.\d{3}", out, re.M), out
    assert f"wrote {tmp_path / 'index.html'}" in out
    records = pd.read_csv(tmp_path / "records.csv")
    assert len(records) == 2 * 2 * 2 * 2  # predictors x encodings x sizes x repeats
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert {"spearman_mean", "spearman_sd", "top_1pct_mean"} <= set(summary.columns)
    for png in ("rank_correlation.png", "top_precision.png", "time.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
        assert png in (tmp_path / "index.html").read_text()
    assert json.loads((tmp_path / "summary.json").read_text())["benchmark"] == "nas-bench-macro"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["nb201-cifar10", "--predictor", "xgb"], "unknown predictor 'xgb'"),
        (["nb201-cifar10", "--predictor", "rf:trees"], "bad predictor option in 'rf:trees'"),
        (["nb201-cifar10", "--predictor", "rf:n_estimators=-1"], "The 'n_estimators' parameter of RandomForestPredictor"),
        (["nb201-cifar10", "--encoding", "adjacency"], "unknown encoding 'adjacency'"),
        (["nas-bench-macro", "--encoding", "path"], "no predictor to evaluate on nas-bench-macro"),
        (["nb999"], "unknown benchmark 'nb999'"),
        (["nb201-cifar10", "--train-sizes", "10,x"], "bad training-set size 'x'"),
        (["nb201-cifar10", "--train-sizes", "1,10"], "training-set sizes must be at least 2"),
        (["nb201-cifar10", "--train-sizes", "15610"], "every training-set size leaves fewer than 20"),
        (["nb201-cifar10", "--repeats", "0"], "repeats must be at least 1"),
        (["nb201-cifar10", "--test-size", "5"], "test size must be at least 20"),
        (["nb201-cifar10", "--noise", "loud"], "unknown noise mode 'loud'"),
        (["nb201-cifar10", "--metric", "speed"], "unknown metric of nb201-cifar10 'speed'"),
    ],
)
def test_cli_eval_bad_input_gives_one_line_and_status_2(capsys, args, fragment):
    code, out, err = run(capsys, "predictors", "eval", *args)
    assert code == 2, (out, err)
    assert err.startswith("error: ") and fragment in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
