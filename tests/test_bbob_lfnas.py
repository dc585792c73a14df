"""The BBOB comparison, the Learning-from-NAS reproduction and their commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from archscape.data import registry
from archscape.errors import ArchscapeError, DataError, UnknownName
from archscape.landscape import bbob, lfnas
from archscape.cli.landscape import bbob_cmd, ela_cmd

ioh = pytest.importorskip("ioh")
needs_lfnas = pytest.mark.skipif(
    not all(registry.is_available(n) for n in ("lfnas-mnist", "lfnas-fashion", "lfnas-cifar", "lfnas-cifar-narrow")),
    reason="Learning-from-NAS tables are not in the data cache",
)


# ------------------------------------------------------------------ LfNAS
@needs_lfnas
def test_mapping_of_a_known_row():
    p = lfnas.load_problem(dataset="mnist", space="cnn-broad", rows=3)
    assert len(p.columns) == 23
    assert p.columns[:6] == ("s_0", "s_1", "s_2", "filters_0", "filters_2", "filters_4")
    assert p.columns[-4:] == ("lr", "l2", "dense_size_0", "dense_size_1")
    row = dict(zip(p.columns, p.X[0]))
    # first row of mnist-results.csv: s_0=4, filters_0=91, k_0=2, dropout_0=0.52751..., lr=0.0071761..., dense_size_0=458
    assert row["s_0"] == pytest.approx(10 * (4 - 1) / 4 - 5)
    assert row["filters_0"] == pytest.approx(10 * (91 - 10) / 590 - 5)
    assert row["k_0"] == pytest.approx(10 * (2 - 1) / 7 - 5)
    assert row["dropout_0"] == pytest.approx(10 * (0.5275124527214592 - 1e-5) / (0.9 - 1e-5) - 5)
    assert row["lr"] == pytest.approx(10 * (0.007176104592538287 - 1e-5) / (1e-2 - 1e-5) - 5)
    assert row["dense_size_0"] == pytest.approx(10 * 458 / 2000 - 5)
    assert p.y[0] == pytest.approx(0.11349999904632568)  # perf as given, minimised
    assert lfnas.load_problem(dataset="mnist", rows=3, objective="error").y[0] == pytest.approx(1 - 0.11349999904632568)


@needs_lfnas
def test_narrow_mapping_uses_narrow_bounds():
    p = lfnas.load_problem(dataset="cifar", space="cnn-narrow", rows=1)
    raw = dict(zip(p.columns, p.raw[0]))
    row = dict(zip(p.columns, p.X[0]))
    assert row["filters_0"] == pytest.approx(10 * (raw["filters_0"] - 250) / 150 - 5)
    assert row["l2"] == pytest.approx(10 * (raw["l2"] - 5e-4) / (3e-3 - 5e-4) - 5)


def test_bootstrap_indices_are_seeded_subsets():
    a = lfnas.bootstrap_indices(1000, 800, 30, seed=4)
    assert a.shape == (30, 800)
    assert all(len(set(r)) == 800 for r in a)
    assert np.array_equal(a, lfnas.bootstrap_indices(1000, 800, 30, seed=4))
    assert not np.array_equal(a, lfnas.bootstrap_indices(1000, 800, 30, seed=5))
    with pytest.raises(ArchscapeError, match="bootstrap size"):
        lfnas.bootstrap_indices(100, 800)


@needs_lfnas
def test_bootstrap_table_shape():
    res = lfnas.ela_study(("mnist", "cifar"), size=120, reps=3)
    names, values = res["mnist"]
    assert values.shape == (3, len(names))
    assert set(lfnas.PAPER_FEATURES) <= set(names)
    table = lfnas.summary_table(res, lfnas.PAPER_FEATURES)
    assert [r["feature"] for r in table] == list(lfnas.PAPER_FEATURES)
    assert all(np.isfinite(r[ds][0]) and r[ds][1] >= 0 for r in table for ds in ("mnist", "cifar"))
    text = lfnas.format_table(table, ["mnist", "cifar"], paper=True)
    assert text.count("\n") == len(table) + 1 and "MNIST (paper)" in text


@needs_lfnas
def test_parameter_correlations_agree_across_data_sets():
    c = lfnas.parameter_correlations()
    assert c["correlation"].shape == (23, 3)
    assert np.allclose(np.diag(c["agreement"]), 1.0)
    # l2 regularisation hurts on all three data sets
    assert np.all(c["correlation"][c["columns"].index("l2")] < 0)


def test_bad_tables(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="perf"):
        lfnas.load_problem(bad)
    with pytest.raises(DataError, match="does not exist"):
        lfnas.load_problem(tmp_path / "missing.csv")
    with pytest.raises(UnknownName, match="CNN space"):
        lfnas.load_problem(bad, space="cnn-huge")


# ------------------------------------------------------------------- BBOB
@pytest.fixture(scope="module")
def small_reference():
    return bbob.bbob_reference(dim=2, n=100, instances=5)


def test_sphere_is_classified_as_itself(small_reference):
    fresh = bbob.bbob_reference(dim=2, n=100, instances=[6, 7, 8], functions=[1], seed=1)
    calls = bbob.knn_classify(small_reference, fresh.names, fresh.values, features=lfnas.PAPER_FEATURES, k=5)
    assert [c["fid"] for c in calls] == [1, 1, 1]
    near = bbob.nearest_functions(small_reference, fresh.names, fresh.values, features=lfnas.PAPER_FEATURES)
    assert near[0]["fid"] == 1 and near[0]["name"] == "Sphere"
    loo = bbob.knn_loo(small_reference, features=lfnas.PAPER_FEATURES, k=1)
    assert loo["per_function"][1] >= 0.6
    assert loo["accuracy"] > 1 / 24 * 4


def test_reference_shape_and_seed(small_reference):
    assert small_reference.values.shape == (24 * 5, len(small_reference.names))
    assert sorted(set(small_reference.fids)) == list(range(1, 25))
    X1, y1 = bbob.bbob_sample(3, 2, 4, 40, seed=9)
    X2, y2 = bbob.bbob_sample(3, 2, 4, 40, seed=9)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    with pytest.raises(ArchscapeError, match="1..24"):
        bbob.bbob_sample(25, 1, 2, 20)


def test_cluster_and_pictures(small_reference, tmp_path):
    fresh = bbob.bbob_reference(dim=2, n=100, instances=[9], functions=[1, 21], seed=2)
    nas = {"probe": (fresh.names, fresh.values)}
    cl = bbob.cluster(small_reference, nas, features=lfnas.PAPER_FEATURES)
    assert cl["labels"][-1] == "probe" and cl["linkage"].shape == (24, 4)
    for method in ("mds", "pca"):
        png = bbob.plot_map(small_reference, nas, tmp_path / f"map-{method}.png", method=method)
        assert png.read_bytes()[:4] == b"\x89PNG"
    assert bbob.plot_dendrogram(cl, tmp_path / "tree.png").stat().st_size > 1000
    with pytest.raises(ArchscapeError, match="map method"):
        bbob.embed(np.zeros((3, 2)), "tsne")


# ---------------------------------------------------------------- commands
@needs_lfnas
def test_ela_command_json():
    r = CliRunner().invoke(ela_cmd, ["--dataset", "mnist", "--dataset", "fashion", "--bootstrap", "2",
                                     "--size", "100", "--no-bbob", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert set(out["features"]) == {"mnist", "fashion"}
    assert set(out["features"]["mnist"]) == set(lfnas.PAPER_FEATURES)
    assert out["correlations"]["agreement"]["mnist"]["mnist"] == pytest.approx(1.0)


@needs_lfnas
def test_ela_command_csv_with_bbob_and_out(tmp_path):
    src = registry.path("lfnas-cifar-narrow")
    small = tmp_path / "narrow.csv"
    small.write_text("".join(src.read_text().splitlines(keepends=True)[:151]))
    out = tmp_path / "out"
    r = CliRunner().invoke(ela_cmd, ["--csv", str(small), "--space", "cnn-narrow", "--bootstrap", "2", "--size", "100",
                                     "--instances", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Nearest BBOB functions" in r.output
    for name in ("ela_features.csv", "ela_table.md", "ela_violins.png", "bbob_map.png", "bbob_dendrogram.png",
                 "ela_summary.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "ela_summary.json").read_text())
    assert len(summary["bbob"]["narrow"]["nearest"]) == 5


@pytest.mark.parametrize(
    "args, match",
    [
        (["--csv", "nope.csv"], "does not exist"),
        (["--csv", "nope.csv", "--dataset", "mnist"], "not both"),
    ],
)
def test_ela_command_bad_input(args, match):
    r = CliRunner().invoke(ela_cmd, args)
    assert isinstance(r.exception, ArchscapeError)
    assert match in str(r.exception)


def test_bbob_command(tmp_path):
    r = CliRunner().invoke(bbob_cmd, ["--dim", "2", "--n", "30", "--instances", "2", "--json", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert set(out["per_function"]) == {str(f) for f in range(1, 25)}
    assert (tmp_path / "bbob_features.csv").read_text().count("\n") == 49
    assert (tmp_path / "bbob_map.png").is_file()
    r = CliRunner().invoke(bbob_cmd, ["--instances", "1"])
    assert isinstance(r.exception, ArchscapeError)
