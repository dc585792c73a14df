"""Anytime metrics, final tables and the written report."""

from __future__ import annotations

import json
import math
import re
import sqlite3
import time

import numpy as np
import pandas as pd
import pytest

from archscape.errors import ArchscapeError
from archscape.report import anytime, final_table_text, write_report
from archscape.report.tables import final_table, format_table, table_html
from archscape.run.config import config_from_mapping
from archscape.run.runner import run_study
from archscape.run.store import Store
from archscape.search import register_optimizer
from archscape.search.base import Optimizer

NAN = math.nan


# ------------------------------------------------------------------ test optimizers
class _RandomForReports(Optimizer):
    name = "rs_report_test"

    def _ask(self):
        return self.sample_new()


class _GreedyForReports(Optimizer):
    """Mutates the best so far after 5 random queries: curves that differ from random search."""

    name = "greedy_report_test"

    def _ask(self):
        if self.best_ is not None and len(self.history_) >= 5:
            for _ in range(50):
                g = self.space_.canonical(self.space_.mutate(self.best_[0], self.rng_))
                if self.is_new(g):
                    return g
        return self.sample_new()


register_optimizer("rs_report_test", _RandomForReports)
register_optimizer("greedy_report_test", _GreedyForReports)


def _run(path, optimizers, *, noise="seed", budget=20, trials=4, seed=1):
    cfg = config_from_mapping(
        {"benchmark": "nb201-cifar10", "optimizers": optimizers, "budget": budget, "trials": trials, "seed": seed, "noise": noise}
    )
    run_study(cfg, path)
    return path


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("stores")
    return {
        "a": _run(root / "a.sqlite", ["rs_report_test", "greedy_report_test"]),
        # same problem, another optimizer label and another seed: shares a's plots
        "b": _run(root / "b.sqlite", [{"name": "greedy_report_test", "label": "greedy_b"}], seed=2, trials=3),
        # same label as in a: shown once per study
        "c": _run(root / "c.sqlite", ["rs_report_test"], seed=3, trials=2),
        # another noise mode: a section of its own
        "mean": _run(root / "mean.sqlite", ["rs_report_test"], noise="mean", trials=3),
    }


# ------------------------------------------------------------------ hand-built frame
def _frame() -> pd.DataFrame:
    rows = [
        # label, trial, state, k, arch, objective, report, sim_time, status
        # Trial 0 of "opt": a failed query with a huge objective, a tie at k=3, a later worse one.
        ("opt", 0, "complete", 0, "a0", 80.0, 81.0, 10.0, "ok"),
        ("opt", 0, "complete", 1, "a1", 99.0, None, 10.0, "failed"),
        ("opt", 0, "complete", 2, "a2", 85.0, 84.0, 30.0, "ok"),
        ("opt", 0, "complete", 3, "a3", 85.0, 90.0, 40.0, "ok"),
        ("opt", 0, "complete", 4, "a4", 84.0, 95.0, 50.0, "ok"),
        # Trial 1: starts with a failure (no incumbent), ends early at the optimum (finite space ran out).
        ("opt", 1, "complete", 0, "b0", NAN, None, 5.0, "failed"),
        ("opt", 1, "complete", 1, "b1", 70.0, 70.0, 25.0, "ok"),
        ("opt", 1, "complete", 2, "best", 90.0, 96.0, 45.0, "ok"),
        # An unfinished trial of another optimizer.
        ("other", 0, "running", 0, "c0", 88.0, 88.0, 20.0, "ok"),
        ("other", 0, "running", 1, "c1", 89.0, 89.0, 60.0, "ok"),
    ]
    cols = ["label", "trial_index", "trial_state", "k", "arch", "objective", "report", "sim_time", "status"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["optimizer"] = frame["label"]
    # Shuffled on purpose: order must not matter.
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


def _row(curves, label, trial):
    t = curves.trials
    return int(np.flatnonzero((t["label"] == label).to_numpy() & (t["trial_index"] == trial).to_numpy())[0])


def test_incumbent_and_regret_on_queries():
    curves = anytime.by_queries(_frame(), optimum_report=96.0, n_queries=5)
    np.testing.assert_array_equal(curves.x, [1, 2, 3, 4, 5])
    a, b, c = _row(curves, "opt", 0), _row(curves, "opt", 1), _row(curves, "other", 0)
    # failed query never incumbent; the tie at k=3 keeps k=2; the worse k=4 changes nothing
    np.testing.assert_array_equal(curves.incumbent_k[a], [0, 0, 2, 2, 2])
    np.testing.assert_array_equal(curves.incumbent_report[a], [81, 81, 84, 84, 84])
    np.testing.assert_array_equal(curves.incumbent_objective[a], [80, 80, 85, 85, 85])
    np.testing.assert_array_equal(curves.regret[a], [15, 15, 12, 12, 12])
    # no incumbent before the first success; a complete short trial keeps its incumbent
    np.testing.assert_array_equal(curves.regret[b], [NAN, 26, 0, 0, 0])
    assert list(curves.incumbent_arch()[b]) == [None, "b1", "best", "best", "best"]
    # an unfinished trial says nothing after its last query
    np.testing.assert_array_equal(curves.regret[c], [8, 7, NAN, NAN, NAN])
    assert curves.trials.loc[a, "n_failed"] == 1 and curves.trials.loc[b, "n_failed"] == 1
    assert list(curves.trials["complete"].iloc[[a, b, c]]) == [True, True, False]


def test_incumbent_on_sim_time_is_a_step_function():
    grid = np.array([5, 10, 29.9, 30, 45, 50, 60, 100])
    curves = anytime.by_time(_frame(), optimum_report=96.0, grid=grid)
    a, b, c = _row(curves, "opt", 0), _row(curves, "opt", 1), _row(curves, "other", 0)
    # value at t = incumbent after the last query finished by t (sim_time <= t), NaN before the first
    np.testing.assert_array_equal(curves.regret[a], [NAN, 15, 15, 12, 12, 12, 12, 12])
    np.testing.assert_array_equal(curves.regret[b], [NAN, NAN, 26, 26, 0, 0, 0, 0])
    np.testing.assert_array_equal(curves.regret[c], [NAN, NAN, 8, 8, 8, 8, 7, NAN])


def test_long_format_and_bad_frames():
    curves = anytime.by_queries(_frame(), 96.0, 5)
    long = curves.to_frame()
    assert len(long) == 3 * 5
    assert set(long.columns) >= {"label", "trial_index", "axis", "x", "incumbent_k", "incumbent_arch", "regret"}
    assert "incumbent_arch" not in curves.to_frame(archs=False)
    with pytest.raises(ArchscapeError, match="lacks column"):
        anytime.by_queries(_frame().drop(columns="sim_time"), 96.0)
    with pytest.raises(ArchscapeError, match="gaps or repeats"):
        anytime.by_queries(_frame().query("not (label == 'opt' and trial_index == 0 and k == 2)"), 96.0)
    backwards = _frame()
    backwards.loc[(backwards.label == "opt") & (backwards.trial_index == 0) & (backwards.k == 4), "sim_time"] = 1.0
    with pytest.raises(ArchscapeError, match="sim_time decreases"):
        anytime.by_time(backwards, 96.0)
    with pytest.raises(ArchscapeError, match="less than the longest"):
        anytime.by_queries(_frame(), 96.0, n_queries=3)


def test_final_table_on_hand_built_frame():
    curves = anytime.by_queries(_frame(), 96.0, 5)
    table = final_table(curves, optimum_arch="best", at_queries=[2]).set_index(["label", "queries"])
    opt = table.loc[("opt", 5)]
    assert opt["trials"] == 2 and opt["complete"] == 2 and opt["failed_evaluations"] == 2
    assert opt["report_mean"] == pytest.approx(90.0)
    assert opt["report_se"] == pytest.approx(np.std([84, 96], ddof=1) / np.sqrt(2))
    assert opt["report_median"] == pytest.approx(90.0)
    assert opt["regret_mean"] == pytest.approx(6.0)
    assert opt["optimum_rate"] == "1/2"
    assert table.loc[("opt", 2), "report_mean"] == pytest.approx((81 + 70) / 2)
    assert table.loc[("opt", 2), "optimum_rate"] == "0/2"
    other = table.loc[("other", 5)]
    assert other["trials"] == 0 and other["incomplete"] == 1 and math.isnan(other["report_mean"])
    text = format_table(table.reset_index())
    assert "1/2" in text and "other: 1 incomplete" in text
    assert "| opt |" in format_table(table.reset_index(), "markdown")
    assert "<table" in table_html(table.reset_index())
    with pytest.raises(ArchscapeError, match="outside the budget"):
        final_table(curves, "best", at_queries=[6])


def test_anytime_is_fast_on_a_large_frame():
    # 5 optimizers x 100 trials x 300 queries, as a store would hand it over
    rng = np.random.default_rng(0)
    n_opt, n_trials, n_q = 5, 100, 300
    n = n_opt * n_trials * n_q
    frame = pd.DataFrame({
        "label": np.repeat([f"opt{i}" for i in range(n_opt)], n_trials * n_q),
        "trial_index": np.tile(np.repeat(np.arange(n_trials), n_q), n_opt),
        "trial_state": "complete",
        "k": np.tile(np.arange(n_q), n_opt * n_trials),
        "arch": np.char.add("arch", rng.integers(0, 15625, n).astype(str)).astype(object),
        "objective": rng.normal(90, 2, n),
        "report": rng.normal(90, 2, n),
        "sim_time": np.cumsum(rng.uniform(1000, 3000, (n_opt * n_trials, n_q)), axis=1).ravel(),
        "status": "ok",
    })
    start = time.perf_counter()
    q = anytime.by_queries(frame, 100.0, n_q)
    t = anytime.by_time(frame, 100.0)
    elapsed = time.perf_counter() - start
    assert q.incumbent_report.shape == (n_opt * n_trials, n_q) and t.x.size == 200
    assert elapsed < 1.0, f"anytime metrics took {elapsed:.2f} s"


# ------------------------------------------------------------------ real stores
def _naive_final(frame: pd.DataFrame, optimum: float) -> dict:
    """Incumbent per trial by a plain loop: the reference the vectorised code must match."""
    out = {}
    for (label, trial), g in frame.groupby(["label", "trial_index"]):
        best, rep = -math.inf, NAN
        for r in g.sort_values("k").itertuples():
            if r.status == "ok" and r.objective is not None and r.objective > best:
                best, rep = r.objective, r.report
        out[(label, trial)] = (rep, optimum - rep)
    return out


def test_final_table_on_a_real_store(stores):
    with Store(stores["a"], create=False) as store:
        study = store.studies()[0]
        frame = store.evaluation_frame(study.id)
    info = study.info
    curves = anytime.by_queries(frame, info["optimum_report"], study.config["budget"])
    table = final_table(curves, info["optimum_arch"]).set_index("label")
    naive = _naive_final(frame, info["optimum_report"])
    assert list(table.index) == ["greedy_report_test", "rs_report_test"]
    for label in table.index:
        reports = np.array([v[0] for (lab, _), v in naive.items() if lab == label])
        row = table.loc[label]
        assert row["trials"] == 4 and row["queries"] == 20
        assert row["report_mean"] == pytest.approx(reports.mean())
        assert row["report_se"] == pytest.approx(reports.std(ddof=1) / 2)
        assert row["report_median"] == pytest.approx(np.median(reports))
        assert row["regret_mean"] == pytest.approx(info["optimum_report"] - reports.mean())
        assert (curves.regret[~np.isnan(curves.regret)] >= 0).all()
    # the time axis agrees with a direct reading at each trial's last query
    t = anytime.by_time(frame, info["optimum_report"])
    last = frame.groupby(["label", "trial_index"])["sim_time"].max().max()
    assert t.x[-1] == pytest.approx(last)
    final_by_time = dict(zip(zip(t.trials["label"], t.trials["trial_index"]), t.regret[:, -1]))
    for key, (_, regret) in naive.items():
        assert final_by_time[key] == pytest.approx(regret)


def test_trials_without_evaluations_are_counted(stores, tmp_path):
    copy = tmp_path / "a.sqlite"
    copy.write_bytes(stores["a"].read_bytes())
    with Store(copy) as store:
        study = store.studies()[0]
        store.ensure_trial(study.id, "rs_report_test", "rs_report_test", {}, 99)  # started, nothing stored yet
    text = final_table_text(copy)
    assert "rs_report_test: 1 incomplete (still running or interrupted) trial(s) left out" in text
    rs_line = next(line for line in text.splitlines() if line.startswith("rs_report_test "))
    assert rs_line.rstrip().endswith("/4")


@pytest.fixture(scope="module")
def report(stores, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    index = write_report([stores["a"], stores["b"], stores["c"], stores["mean"]], out, at_queries=[10])
    return index


def test_report_writes_every_file(report):
    out = report.parent
    assert report.name == "index.html"
    for name in ("results.csv", "studies.csv", "evaluations.csv", "evaluations.parquet", "anytime.csv", "anytime.parquet"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    pdfs = sorted(p.name for p in (out / "plots").glob("*.pdf"))
    # two comparisons x {regret, report} x {queries, sim_time}
    assert len(pngs) == 8 and len(pdfs) == 8
    page = report.read_text(encoding="utf-8")
    linked = set(re.findall(r'src="(plots/[^"]+\.png)"', page))
    assert linked == {f"plots/{p}" for p in pngs}
    for p in pdfs:
        assert f'href="plots/{p}"' in page
    for p in linked:
        assert (out / p).is_file()
    assert "archscape" in page and "nb201-cifar10" in page and "greedy_b" in page
    assert not list(out.parent.glob(".out.*"))  # no temporary folder left behind


def test_report_combines_stores(report, stores):
    out = report.parent
    results = pd.read_csv(out / "results.csv")
    by_comp = results.groupby("comparison")["label"].apply(lambda s: sorted(set(s))).to_dict()
    assert len(by_comp) == 2
    seed_comp = next(k for k in by_comp if "noise-seed" in k)
    # a, b and c ran the same problem: one comparison; rs_report_test is in a and c, so it is shown per study
    assert by_comp[seed_comp] == ["greedy_b", "greedy_report_test", "rs_report_test [a]", "rs_report_test [c]"]
    full = results[(results.comparison == seed_comp) & (results.queries == 20)].set_index("label")
    assert full.loc["greedy_b", "trials"] == 3 and full.loc["rs_report_test [c]", "trials"] == 2
    assert set(results["queries"]) == {10, 20}
    evaluations = pd.read_parquet(out / "evaluations.parquet")
    assert len(evaluations) == 20 * (4 + 4 + 3 + 2 + 3)
    assert set(evaluations["study"]) == {"a", "b", "c", "mean"}
    assert (pd.read_csv(out / "evaluations.csv")["objective"].to_numpy() == pytest.approx(evaluations["objective"].to_numpy(), nan_ok=True))
    anytime_frame = pd.read_parquet(out / "anytime.parquet")
    assert set(anytime_frame["axis"]) == {"queries", "sim_time"}
    queries = anytime_frame[anytime_frame.axis == "queries"]
    assert len(queries) == 20 * (4 + 4 + 3 + 2 + 3)
    studies = pd.read_csv(out / "studies.csv")
    assert list(studies["study"]) == ["a", "b", "c", "mean"]
    assert json.loads(studies.loc[1, "optimizers"])[0]["label"] == "greedy_b"


def test_report_replaces_an_earlier_one(stores, tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "index.html").write_text("old")
    (out / "notes.txt").write_text("mine")
    write_report(stores["mean"], out, formats=("png",))
    assert "archscape" in (out / "index.html").read_text() and (out / "notes.txt").read_text() == "mine"
    assert not list((out / "plots").glob("*.pdf"))
    with pytest.raises(ArchscapeError, match="unknown figure format"):
        write_report(stores["mean"], out, formats=("png", "jpeg"))


def test_final_table_text(stores):
    text = final_table_text([stores["a"], stores["b"]])
    assert text.count("noise=seed") == 1  # one comparison
    lines = text.splitlines()
    assert any(line.startswith("greedy_b ") and line.rstrip().endswith("/3") for line in lines)
    assert "## nb201-cifar10" in final_table_text(stores["a"], style="markdown")


def test_report_failure_leaves_no_half_written_page(stores, tmp_path, monkeypatch):
    from archscape.report import figures

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(figures, "save_figure", broken)
    with pytest.raises(RuntimeError):
        write_report([stores["mean"]], tmp_path / "rep")
    assert list(tmp_path.iterdir()) == []


def test_bad_store_paths(tmp_path, stores):
    with pytest.raises(ArchscapeError, match="no store at"):
        write_report([tmp_path / "missing.sqlite"], tmp_path / "out")
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database")
    with pytest.raises(ArchscapeError, match="not an archscape store"):
        write_report([text], tmp_path / "out")
    with pytest.raises(ArchscapeError, match="not a file"):
        write_report([tmp_path], tmp_path / "out")
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(ArchscapeError, match="not an archscape store"):
        write_report([other], tmp_path / "out")
    con = sqlite3.connect(other)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["t"]  # left untouched
    con.close()
    empty = tmp_path / "empty.sqlite"
    Store(empty).close()
    with pytest.raises(ArchscapeError, match="holds no study"):
        write_report([empty], tmp_path / "out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchscapeError, match="not a folder"):
        write_report([stores["mean"]], tmp_path / "file")
    for err in (ArchscapeError,):
        with pytest.raises(err) as info:
            write_report([tmp_path / "missing.sqlite"], tmp_path / "out")
        assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_pareto_front_of_a_hand_made_frame():
    from archscape.report.pareto import pareto_front

    points = [  # (label, objective, params, status)
        ("a", 90.0, 1.0, "ok"), ("a", 85.0, 0.5, "ok"), ("a", 80.0, 0.6, "ok"), ("a", 95.0, 2.0, "ok"),
        ("a", 99.0, 0.1, "failed"), ("a", 85.0, 0.5, "ok"), ("b", 70.0, 0.2, "ok"),
    ]
    frame = pd.DataFrame({
        "label": [p[0] for p in points], "trial_index": 0, "k": range(len(points)), "arch": [f"x{i}" for i in range(len(points))],
        "objective": [p[1] if p[3] == "ok" else None for p in points], "report": 0.0,
        "metrics": [json.dumps({"params": p[2]}) for p in points], "status": [p[3] for p in points],
    })
    front = pareto_front(frame)
    # (80, 0.6) is dominated by (85, 0.5); the failed one never counts; equal points do not dominate each other
    assert front[front.label == "a"][["objective", "size"]].values.tolist() == [[85, 0.5], [85, 0.5], [90, 1.0], [95, 2.0]]
    assert front[front.label == "b"].k.tolist() == [6]
