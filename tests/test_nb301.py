"""NAS-Bench-301 through the YAHPO Gym v2 surrogate: encoding, reference value, batching, refusals, runner."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from helpers import needs

from archscape.benchmarks import Benchmark, Evaluation, load_benchmark
from archscape.data import registry
from archscape.errors import ArchscapeError, DataError, InvalidArchitecture, MissingExtra
from archscape.run.evaluators import QueryEvaluator, make_evaluator
from archscape.spaces import get_space

DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
SPACE = get_space("darts")
PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"



@pytest.fixture(scope="module")
def bench():
    pytest.importorskip("onnxruntime")
    data = needs("nb301")  # a skipif mark: its condition says whether a data file is missing
    if data.args[0]:
        pytest.skip(data.kwargs["reason"])
    return load_benchmark("nb301")


def _samples(n: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [SPACE.sample(rng) for _ in range(n)]


# ------------------------------------------------------------------ encoding
def test_darts_v2_codes_by_hand(bench):
    # Worked out by hand from the genotype (edges numbered per node: 2 -> 0-1, 3 -> 2-4, 4 -> 5-8, 5 -> 9-13).
    normal = {0: "sep_conv_3x3", 1: "sep_conv_3x3",            # node 2 <- 0, 1
              2: "sep_conv_3x3", 3: "sep_conv_3x3",            # node 3 <- 0, 1
              5: "skip_connect", 6: "sep_conv_3x3",            # node 4 <- 0 (skip), 1 (sep)
              9: "skip_connect", 11: "dil_conv_3x3"}           # node 5 <- 0 (skip), 2 (dil)
    reduce = {0: "max_pool_3x3", 1: "max_pool_3x3",            # node 2 <- 0, 1
              3: "max_pool_3x3", 4: "skip_connect",            # node 3 <- 1 (max), 2 (skip)
              5: "max_pool_3x3", 7: "skip_connect",            # node 4 <- 0 (max), 2 (skip)
              10: "max_pool_3x3", 11: "skip_connect"}          # node 5 <- 1 (max), 2 (skip)
    inputs = {"normal": {3: "0_1", 4: "0_1", 5: "0_2"}, "reduce": {3: "1_2", 4: "0_2", 5: "1_2"}}
    values = [normal.get(e, "#na#") for e in range(14)] + [reduce.get(e, "#na#") for e in range(14)]
    values += [inputs[c][k] for c in ("normal", "reduce") for k in (3, 4, 5)]
    columns = ([f"edge_normal_{e}" for e in range(14)] + [f"edge_reduce_{e}" for e in range(14)]
               + [f"inputs_node_{c}_{k}" for c in ("normal", "reduce") for k in (3, 4, 5)])
    with open(registry.path("nb301-yahpo-encoding"), encoding="utf-8") as f:
        table = json.load(f)
    expected = [table[PREFIX + col][v] for col, v in zip(columns, values)]
    # the same codes written out, so a change of encoding.json's reading shows too
    assert expected == [5, 5, 5, 5, 0, 7, 5, 0, 0, 7, 0, 2, 0, 0,
                        4, 4, 0, 4, 7, 4, 0, 7, 0, 0, 4, 7, 0, 0,
                        1, 1, 2, 3, 2, 5]
    g = SPACE.parse(DARTS_V2)
    assert bench.surrogate_inputs([g]).tolist() == [expected]
    assert bench._codes(g) == expected  # the single-query path
    # pairs of a node swapped (not canonical): same network, same codes
    swapped = tuple(tuple(cell[s ^ 1] for s in range(8)) for cell in g)
    assert bench.surrogate_inputs(np.array([swapped])).tolist() == [expected]
    assert bench._codes(swapped) == expected


def test_codes_mark_exactly_the_used_edges(bench):
    gs = _samples(300, seed=4)
    x = bench.surrogate_inputs(gs)
    assert x.shape == (300, 34) and x.dtype == np.int32
    inactive = bench.encoding.inactive
    for g, row in zip(gs, x):
        for c, cell in enumerate(g):
            used = {{2: 0, 3: 2, 4: 5, 5: 9}[2 + s // 2] + inp for s, (_, inp) in enumerate(cell)}
            active = {e for e in range(14) if row[14 * c + e] != inactive[14 * c + e]}
            assert active == used and len(used) == 8


# ------------------------------------------------------------------ values
def test_darts_v2_reference_value(bench):
    e = bench.query(DARTS_V2)
    assert e.metrics["val_acc"] == pytest.approx(92.91, abs=0.005)  # the shared data README's reference
    assert e.fidelity == 98 and e.seed is None and e.index is None
    assert e.cost == e.metrics["train_time"] > 0
    assert set(e.metrics) == {"val_acc", "val_loss", "train_time"}
    early, mid = bench.query(DARTS_V2, fidelity=1), bench.query(DARTS_V2, fidelity="50")
    assert early.fidelity == 1 and mid.fidelity == 50
    assert early.metrics["val_acc"] < mid.metrics["val_acc"] < e.metrics["val_acc"]
    assert early.cost < mid.cost < e.cost  # the runtime of 1, 50, 98 epochs


def test_same_input_same_output(bench):
    gs = _samples(20, seed=8)
    first = [bench.query(g).metrics for g in gs]
    again = [load_benchmark("nb301").query(SPACE.format(g)).metrics for g in gs]
    assert first == again
    assert len({m["val_acc"] for m in first}) == 20  # the answers do depend on the architecture


@pytest.mark.parametrize("fidelity", [98, 7])
def test_batched_equals_single(bench, fidelity):
    gs = _samples(400, seed=fidelity)
    batch = bench.query_batch(gs, fidelity=fidelity)
    single = [bench.query(g, fidelity=fidelity) for g in gs]
    assert [e.cost for e in single] == pytest.approx(batch["train_time"])  # a query's simulated cost: its training time
    for m in ("val_acc", "val_loss", "train_time"):
        np.testing.assert_array_equal(batch[m], [e.metrics[m] for e in single])
    # as an int array, and as text forms: the same numbers
    again = bench.query_batch(np.array(gs), fidelity=fidelity, metrics=["val_acc"])
    np.testing.assert_array_equal(again["val_acc"], batch["val_acc"])
    texts = bench.query_batch([SPACE.format(g) for g in gs[:20]], fidelity=fidelity)
    np.testing.assert_array_equal(texts["train_time"], batch["train_time"][:20])
    many = bench.query_many(gs[:50], fidelity=fidelity)
    assert [e.metrics for e in many] == [e.metrics for e in single[:50]]
    assert [e.genotype for e in many] == [e.genotype for e in single[:50]]


def test_large_batches_are_chunked_without_changing_numbers(bench, monkeypatch):
    from archscape.benchmarks import nb301

    gs = np.array(_samples(50, seed=2))
    whole = bench.query_batch(gs)["val_acc"]
    monkeypatch.setattr(nb301, "CHUNK", 7)
    np.testing.assert_array_equal(bench.query_batch(gs)["val_acc"], whole)


def test_batch_validates_arrays(bench):
    g = np.array(SPACE.parse(DARTS_V2))  # [2 cells, 8 pairs, (op, input)]
    op_7, input_3_into_node_3, node_3_takes_2_twice = (np.stack([g, g]) for _ in range(3))
    op_7[1, 0, 0, 0] = 7
    input_3_into_node_3[1, 0, 3, 1] = 3
    node_3_takes_2_twice[1, 1, 2:4, 1] = 2
    for arr, fragment in ((op_7, "op 7"), (input_3_into_node_3, "node 3 takes input 3"),
                          (node_3_takes_2_twice, "takes input 2 twice")):
        with pytest.raises(InvalidArchitecture) as err:
            bench.query_batch(arr)
        assert fragment in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InvalidArchitecture):
        bench.query_batch([SPACE.parse(DARTS_V2), "Genotype(normal=[])"])


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("noise", ["seed", 0, 3, "2"])
def test_seed_noise_is_refused_in_one_line(bench, noise):
    for call in (lambda: bench.query(DARTS_V2, noise=noise), lambda: bench.query_batch([DARTS_V2], noise=noise)):
        with pytest.raises(ArchscapeError) as err:
            call()
        msg = str(err.value)
        assert "deterministic surrogate (YAHPO Gym v2): noise must be 'mean'" in msg and "\n" not in msg


@pytest.mark.parametrize("fidelity", [0, 99, -1, 50.5, "fifty", "98.5"])
def test_fidelity_out_of_bounds_is_refused(bench, fidelity):
    with pytest.raises(ArchscapeError) as err:
        bench.query(DARTS_V2, fidelity=fidelity)
    assert "accepted: epochs 1..98" in str(err.value) and "\n" not in str(err.value)


def test_not_enumerable_and_optimum_unknown(bench):
    assert bench.size is None and bench.space.name == "darts"
    with pytest.raises(ArchscapeError, match="optimum of nb301 is unknown"):
        bench.optimum()
    assert "surrogate" in bench.description and "not the original nb301 ensemble" in bench.description.lower()
    assert "surrogate" in bench.info()["noise_seeds"]


def test_missing_onnxruntime_names_the_extra(bench, monkeypatch):
    import sys

    from archscape.benchmarks import nb301

    monkeypatch.setattr(nb301, "_SESSIONS", {})
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    with pytest.raises(MissingExtra, match=r"pip install 'archscape\[onnx\]'"):
        nb301.load()


def test_missing_data_names_the_fetch_command(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path))
    with pytest.raises(DataError, match="archscape data fetch nb301-yahpo-model-v2"):
        load_benchmark("nb301")


# ------------------------------------------------------------------ CLI
def test_cli_query_prints_json(bench, capsys):
    from archscape.cli import main

    assert main(["bench", "query", "nb301", DARTS_V2, "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["benchmark"] == "nb301" and obj["fidelity"] == 98 and obj["training_seed"] is None
    assert obj["metrics"]["val_acc"] == pytest.approx(92.91, abs=0.005)
    assert SPACE.parse(obj["arch"]) == SPACE.parse(DARTS_V2)
    assert "not the original NB301 ensemble" in obj["surrogate"]
    assert main(["bench", "query", "nb301", DARTS_V2, "--fidelity", "50", "--json"]) == 0
    obj50 = json.loads(capsys.readouterr().out)
    assert obj50["fidelity"] == 50 and obj50["metrics"] == bench.query(DARTS_V2, fidelity=50).metrics
    assert main(["bench", "query", "nb301", DARTS_V2, "--noise", "seed"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nb301 is a deterministic surrogate") and err.count("\n") == 1


def test_cli_bench_list_says_surrogate(bench, capsys):
    from archscape.cli import main

    assert main(["bench", "list", "--json"]) == 0
    (row,) = [r for r in json.loads(capsys.readouterr().out) if r["name"] == "nb301"]
    assert row["status"] == "ready" and row["size"] is None and row["fidelities"] == list(range(1, 99))
    assert "surrogate" in row["summary"] and "surrogate" in row["description"]


# ------------------------------------------------------------------ runner
COLUMNS = ["label", "trial_index", "k", "arch", "row", "objective", "report", "cost", "sim_time", "noise_seed", "status"]


def _frame(path: Path):
    from archscape.run.store import Store

    with Store(path, create=False) as store:
        return store.evaluation_frame(store.studies()[0].id)[COLUMNS].reset_index(drop=True)


def _config(**over):
    from archscape.run.config import config_from_mapping

    data = {"benchmark": "nb301", "optimizers": ["random", "evolution"], "budget": 40, "trials": 3, "seed": 1,
            "noise": "mean"}
    data.update(over)
    return config_from_mapping(data)


def test_study_runs_stores_and_resumes_identically(bench, tmp_path):
    from archscape.run.runner import run_study, stored_config
    from archscape.run.store import Store

    ref = tmp_path / "ref.sqlite"
    run_study(_config(), ref)
    f = _frame(ref)
    assert len(f) == 2 * 3 * 40 and (f.status == "ok").all()
    assert f.row.isna().all() and f.noise_seed.isna().all() and (f.objective == f.report).all()
    assert not f.duplicated(["label", "trial_index", "arch"]).any()
    # the stored values are the benchmark's
    for r in f.sample(10, random_state=0).itertuples():
        e = bench.query(r.arch)
        assert r.objective == e.metrics["val_acc"] and r.cost == e.cost
    with Store(ref, create=False) as store:
        info = store.studies()[0].info
    assert info["optimum_arch"] is None and info["optimum_report"] == 100.0 and info["space_size"] is None
    # parallel workers store the same numbers
    par = tmp_path / "par.sqlite"
    run_study(_config(), par, workers=2)
    assert _frame(par).equals(f)
    # a crash: one trial lost its last evaluations, another never started; resume completes it identically
    crashed = tmp_path / "crashed.sqlite"
    crashed.write_bytes(ref.read_bytes())
    with sqlite3.connect(crashed) as con:
        ids = dict(con.execute("SELECT label || '/' || trial_index, id FROM trial").fetchall())
        con.execute("DELETE FROM evaluation WHERE trial_id=? AND k >= 17", (ids["evolution/1"],))
        con.execute("UPDATE trial SET state='running' WHERE id=?", (ids["evolution/1"],))
        con.execute("DELETE FROM evaluation WHERE trial_id=?", (ids["random/2"],))
        con.execute("DELETE FROM trial WHERE id=?", (ids["random/2"],))
    assert len(_frame(crashed)) < len(f)
    run_study(stored_config(crashed), crashed)
    assert _frame(crashed).equals(f)


def test_study_with_seed_noise_is_refused_before_anything_is_written(bench, tmp_path):
    from archscape.run.runner import run_study

    path = tmp_path / "s.sqlite"
    with pytest.raises(ArchscapeError, match="deterministic surrogate .*noise must be 'mean'"):
        run_study(_config(noise="seed"), path)
    assert not path.exists()
    with pytest.raises(ArchscapeError, match="accepted: epochs 1..98"):
        run_study(_config(fidelity=120), path)
    assert not path.exists()


def test_study_at_a_lower_fidelity(bench, tmp_path):
    from archscape.run.runner import run_study

    run_study(_config(fidelity=12, optimizers=["random"], trials=1, budget=5), tmp_path / "s.sqlite")
    f = _frame(tmp_path / "s.sqlite")
    assert [bench.query(a, fidelity=12).metrics["val_acc"] for a in f.arch] == f.objective.tolist()


def test_make_evaluator_picks_the_query_evaluator(bench):
    ev = make_evaluator(bench, noise="mean")
    assert isinstance(ev, QueryEvaluator)
    assert ev.optimum() == (None, 100.0) and ev.fidelity == 98 and ev.space.name == "darts"
    g = SPACE.parse(DARTS_V2)
    out = ev.evaluate(g, 0.25)
    assert out.status == "ok" and out.objective == out.report == pytest.approx(92.91, abs=0.005)
    assert out.cost == out.metrics["train_time"] and out.fidelity == 98 and out.row is None
    # an optimizer's fidelity request: objective at that epoch, report at the study's, not charged twice
    low = ev.evaluate(g, 0.25, fidelity=5)
    assert low.fidelity == 5 and low.objective < low.report == out.report
    assert low.cost == low.metrics["train_time"] < out.cost  # charged for the 5-epoch query only
    failed = ev.evaluate("not a genotype", 0.5)
    assert failed.status == "failed" and math.isnan(failed.objective) and "malformed darts genotype" in failed.error


# ------------------------------------------------------------------ evaluator contract (no surrogate needed)
class _NoisyDarts(Benchmark):
    """A stochastic stand-in over the darts space: the value is the generator's draw, the mean 50."""

    name = "noisy-darts"
    metrics = ("val_acc", "train_time")
    fidelities = (1,)
    default_fidelity = 1

    def __init__(self) -> None:
        super().__init__()
        self.space = SPACE

    def query(self, arch, *, noise="mean", fidelity=None, rng=None):
        g = self.space.as_genotype(arch)
        self.check_fidelity(fidelity)
        value = 50.0 if noise == "mean" else float(rng.random() * 100)
        return Evaluation(g, None, {"val_acc": value, "train_time": 1.0}, 1.0, 1, None if noise == "mean" else 0)


def test_query_evaluator_seeds_each_evaluation_from_u():
    ev = QueryEvaluator(_NoisyDarts(), noise="seed")
    g = _samples(1)[0]
    a, b, c = ev.evaluate(g, 0.125), ev.evaluate(g, 0.125), ev.evaluate(g, 0.875)
    assert a.objective == b.objective != c.objective  # the same u, the same draw: what resume relies on
    assert a.report == c.report == 50.0  # the report is denoised
    assert ev.optimum() == (None, 100.0)
    with pytest.raises(ArchscapeError, match="unknown metric"):
        QueryEvaluator(_NoisyDarts(), noise="mean", report_metric="test_acc")
