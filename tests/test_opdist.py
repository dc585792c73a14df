"""Operation distributions: counts, sampling, the <base>-opdist spaces, their evaluator, runs and the speed-up table."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archscape.benchmarks import load_benchmark
from archscape.cli import main
from archscape.errors import ArchscapeError, InvalidArchitecture
from archscape.spaces.distribution import (
    cell_count_vectors, counts_from_ratio, counts_of, layout_of, sample_architecture,
)
from archscape.opdist.speedup import hitting_times, speedup_table
from archscape.run.config import config_from_mapping
from archscape.run.runner import run_study
from archscape.run.store import Store
from archscape.spaces import get_space
from helpers import needs


def _counts(space_name: str):
    """A strategy of valid count vectors of a space (one composition of the cell size per cell)."""
    lay = layout_of(get_space(space_name))
    vectors = cell_count_vectors(lay.slots, lay.n_ops)
    return st.lists(st.sampled_from(vectors), min_size=len(lay.cells), max_size=len(lay.cells)).map(
        lambda parts: tuple(c for p in parts for c in p))


# ------------------------------------------------------------------ counts and sampling
def test_layouts_and_numbers_of_distributions():
    assert [get_space(f"{b}-opdist").size for b in ("nb201", "macro", "nb101")] == [210, 45, 21]
    assert get_space("darts-opdist").size == math.comb(14, 6) ** 2 == 3003**2
    lay = layout_of(get_space("darts"))
    assert lay.cells == ("normal", "reduce") and lay.slots == 8 and lay.length == 14
    with pytest.raises(ArchscapeError, match="has no operation distribution; accepted: nb201, macro, nb101, darts"):
        layout_of(get_space("nago"))


@pytest.mark.parametrize("space_name", ["nb201", "macro", "darts"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_sampled_architectures_have_exactly_the_counts(space_name, data):
    space = get_space(space_name)
    counts = data.draw(_counts(space_name))
    seed = data.draw(st.integers(0, 2**32 - 1))
    g = sample_architecture(space, counts, np.random.default_rng(seed))
    assert space.validate(g) == g and space.canonical(g) == g
    assert counts_of(space, g) == counts
    assert sample_architecture(space, counts, np.random.default_rng(seed)) == g  # seeded


@settings(max_examples=25, deadline=None)
@given(counts=_counts("nb101"), seed=st.integers(0, 2**32 - 1))
def test_sampled_nb101_cells_are_valid_full_cells_with_the_counts(counts, seed):
    space = get_space("nb101")
    cell = sample_architecture(space, counts, np.random.default_rng(seed))
    assert space.is_valid(cell) and space.canonical(cell) == cell
    assert cell.n_vertices == 7 and cell.n_edges <= 9
    assert counts_of(space, cell) == counts


def test_placements_are_uniform_over_the_cells_with_those_counts():
    space = get_space("nb201")
    counts = (0, 0, 2, 2, 2)  # 6! / (2! 2! 2!) = 90 cells
    rng = np.random.default_rng(1)
    seen = [sample_architecture(space, counts, rng) for _ in range(9000)]
    freq = np.array(list({g: seen.count(g) for g in set(seen)}.values()))
    assert len(freq) == 90 and freq.min() > 60 and freq.max() < 145  # expected 100 each


@given(ratio=st.lists(st.floats(0, 10, allow_nan=False), min_size=2, max_size=7).filter(lambda r: sum(r) > 0.01),
       size=st.integers(0, 40), seed=st.integers(0, 1000))
def test_counts_from_ratio_sum_to_the_size_and_are_exact_when_whole(ratio, size, seed):
    for method in ("round", "multinomial"):
        counts = counts_from_ratio(ratio, size, method=method, rng=np.random.default_rng(seed))
        assert sum(counts) == size and len(counts) == len(ratio) and min(counts) >= 0
    rounded = np.asarray(counts_from_ratio(ratio, size))
    assert np.all(np.abs(rounded - np.asarray(ratio) / sum(ratio) * size) < 1 + 1e-9)
    whole = counts_from_ratio([1, 0, 3], 8, method="multinomial", rng=np.random.default_rng(seed))
    assert whole == (2, 0, 6)  # ratio x size whole: exact, no draw


def test_counts_from_ratio_round_is_largest_remainder_and_bad_input_is_refused():
    assert counts_from_ratio([1, 1, 1], 8) == (3, 3, 2)  # 2.67 each: the two earliest ties get the slots
    assert counts_from_ratio([0.5, 0.3, 0.2], 6) == (3, 2, 1)  # 3, 1.8, 1.2
    for bad in ([], [-1, 2], [0, 0], [float("nan"), 1]):
        with pytest.raises(ArchscapeError, match="ratio vector"):
            counts_from_ratio(bad, 6)
    with pytest.raises(ArchscapeError, match="accepted: round, multinomial"):
        counts_from_ratio([1, 1], 3, method="floor")
    with pytest.raises(ArchscapeError, match="needs a random generator"):
        counts_from_ratio([1, 1], 3, method="multinomial")


# ------------------------------------------------------------------ the distribution spaces
def test_opdist_text_forms_and_one_line_errors():
    space = get_space("nb201-opdist")
    g = space.parse("none=1, skip_connect=2, nor_conv_1x1=0, nor_conv_3x3=3, avg_pool_3x3=0")
    assert g == (1, 2, 0, 3, 0) == space.parse("1,2,0,3,0")
    assert space.format(g) == "none=1,skip_connect=2,nor_conv_1x1=0,nor_conv_3x3=3,avg_pool_3x3=0"
    np.testing.assert_allclose(space.encode(g, "onehot"), np.array(g) / 6)
    for text, message in [
        ("none=1,skip=2,nor_conv_1x1=0,nor_conv_3x3=3,avg_pool_3x3=0", "unknown operation 'skip' in nb201-opdist; accepted: none, skip_connect"),
        ("none=1,skip_connect=2,nor_conv_1x1=0,nor_conv_3x3=2,avg_pool_3x3=0", "must sum to the cell size 6; got 5"),
        ("none=1,skip_connect=2,nor_conv_3x3=3", "lack nor_conv_1x1, avg_pool_3x3"),
        ("1,2,3", "must be 5 integers"),
    ]:
        with pytest.raises(InvalidArchitecture, match=message):
            space.parse(text)
    darts = get_space("darts-opdist")
    g = darts.sample(np.random.default_rng(0))
    assert darts.parse(darts.format(g)) == g and darts.format(g).startswith("normal: max_pool_3x3=")
    with pytest.raises(InvalidArchitecture, match="of the reduce cell must sum to the cell size 8"):
        darts.validate(g[:7] + (g[7] + 1,) + g[8:])


def test_neighbours_move_one_unit_of_count():
    space = get_space("macro-opdist")
    g = (8, 0, 0)
    assert sorted(space.neighbours(g)) == [(7, 0, 1), (7, 1, 0)]
    for n in space.neighbours((3, 3, 2)):
        assert sum(n) == 8 and np.abs(np.subtract(n, (3, 3, 2))).sum() == 2


def test_cli_space_commands_take_distributions(capsys):
    assert main(["space", "neighbours", "macro-opdist", "identity=8,mb3_k3=0,mb6_k5=0"]) == 0
    out = capsys.readouterr().out
    assert "identity=7,mb3_k3=1,mb6_k5=0" in out and "identity=7,mb3_k3=0,mb6_k5=1" in out
    assert main(["space", "encode", "nb201-opdist", "none=3,skip_connect=0,nor_conv_1x1=0,nor_conv_3x3=3,avg_pool_3x3=0"]) == 0
    assert main(["space", "sample", "nb201-opdist", "--seed", "1", "-n", "2"]) == 0
    assert main(["space", "encode", "nb201-opdist", "none=6,conv=0"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: unknown operation 'conv'")


# ------------------------------------------------------------------ runs on distributions
def _frame(path):
    with Store(path, create=False) as store:
        return store.evaluation_frame(store.studies()[0].id)


def _config(**over):
    data = {"benchmark": "nb201-cifar10", "space": "nb201-opdist", "optimizers": ["random", "local", "evolution"],
            "budget": 30, "trials": 3, "seed": 2, "noise": "seed"}
    data.update(over)
    return config_from_mapping(data)


def test_a_distribution_study_samples_cells_with_its_counts_and_reports_their_table_values(tmp_path):
    run_study(_config(), tmp_path / "d.sqlite")
    f = _frame(tmp_path / "d.sqlite")
    assert len(f) == 3 * 3 * 30 and (f.status == "ok").all()
    bench, space = load_benchmark("nb201-cifar10"), get_space("nb201-opdist")
    for arch, metrics, report, objective, row in zip(f.arch, f.metrics, f.report, f.objective, f.row):
        m = json.loads(metrics)
        (cell,) = m["architectures"]
        assert space.of_architecture(cell) == space.parse(arch)  # the sampled cell has the distribution's counts
        assert bench.row_of(bench.space.as_genotype(cell)) == row
        assert report == pytest.approx(bench.query(cell, noise="mean").metrics["val_acc"])
        seeds = [bench.query(cell, noise=s).metrics["val_acc"] for s in range(int(bench.tables[200].n_seeds[row]))]
        assert any(objective == pytest.approx(v) for v in seeds)  # one recorded training seed
    # optimizers never propose a distribution twice in a trial
    assert not f.duplicated(["label", "trial_index", "arch"]).any()
    with Store(tmp_path / "d.sqlite", create=False) as store:
        info = store.studies()[0].info
    assert info["space"] == "nb201-opdist" and info["space_size"] == 210
    assert info["optimum_report"] == pytest.approx(bench.optimum("val_acc")[1])


def test_distribution_studies_are_reproducible_in_parallel_and_resumed(tmp_path):
    config = _config(optimizers=["local", "gp"], budget=25, trials=2, opdist_samples=2)
    run_study(config, tmp_path / "a.sqlite")
    run_study(config, tmp_path / "b.sqlite", workers=2)
    cols = ["label", "trial_index", "k", "arch", "objective", "report", "metrics"]
    a = _frame(tmp_path / "a.sqlite")[cols]
    assert a.equals(_frame(tmp_path / "b.sqlite")[cols])
    two = json.loads(a.metrics.iloc[0])
    assert len(two["architectures"]) == 2 and a.objective.iloc[0] == pytest.approx(np.mean(two["objectives"]))
    import sqlite3

    con = sqlite3.connect(tmp_path / "b.sqlite")
    con.execute("DELETE FROM evaluation WHERE k >= 9")
    con.execute("UPDATE trial SET state='running'")
    con.commit()
    con.close()
    run_study(config, tmp_path / "b.sqlite")
    assert _frame(tmp_path / "b.sqlite")[cols].equals(a)


def test_small_distribution_spaces_are_exhausted_not_requeried(tmp_path):
    run_study(_config(benchmark="nas-bench-macro", space="macro-opdist", optimizers=["random"], budget=45, trials=1),
              tmp_path / "m.sqlite")
    f = _frame(tmp_path / "m.sqlite")
    assert len(f) == 45 and f.arch.nunique() == 45  # every distribution once
    # a budget over the space's size is refused (never silently capped), before anything is written
    with pytest.raises(ArchscapeError, match="budget 60 is more than the 45 architectures of macro-opdist"):
        run_study(_config(benchmark="nas-bench-macro", space="macro-opdist", optimizers=["random"], budget=60, trials=1),
                  tmp_path / "n.sqlite")
    assert not (tmp_path / "n.sqlite").exists()


def test_bad_distribution_settings_are_one_line(tmp_path, capsys):
    with pytest.raises(ArchscapeError, match="'opdist_samples' applies to distribution spaces"):
        config_from_mapping({"benchmark": "nb201-cifar10", "optimizers": ["random"], "budget": 2, "trials": 1, "opdist_samples": 2})
    store = tmp_path / "x.sqlite"
    assert main(["run", "-b", "nb201-cifar10", "--space", "macro-opdist", "-o", "random", "--budget", "2", "--trials", "1",
                 "--no-progress", "--store", str(store)]) == 2
    assert "macro-opdist searches macro cells; nb201-cifar10 is a benchmark of nb201" in capsys.readouterr().err
    assert not store.exists()


@needs("nb101-subset")
def test_partial_tables_are_refused_for_distributions(tmp_path):
    with pytest.raises(ArchscapeError, match="holds only part of the nb101 space"):
        run_study(config_from_mapping({"benchmark": "nb101-subset", "space": "nb101-opdist", "optimizers": ["random"],
                                       "budget": 2, "trials": 1}), tmp_path / "s.sqlite")


# ------------------------------------------------------------------ the speed-up table
def test_hitting_times_with_censoring():
    regret = np.array([[1.0, 0.4, 0.2, 0.0], [0.6, 0.6, 0.6, 0.6], [0.3, 0.1, 0.1, 0.1]])
    assert hitting_times(regret, 0.5).tolist() == [2, math.inf, 1]
    assert hitting_times(regret, 0.1).tolist() == [4, math.inf, 2]
    assert hitting_times(regret, 0.0).tolist() == [4, math.inf, math.inf]


def test_speedup_table_pairs_the_same_optimizer_on_cells_and_distributions(tmp_path, capsys):
    run_study(_config(optimizers=["random", "local"], budget=40, trials=6, noise="mean"), tmp_path / "d.sqlite")
    run_study(_config(space=None, optimizers=["random", "local"], budget=40, trials=6, noise="mean"), tmp_path / "c.sqlite")
    table = speedup_table([tmp_path / "d.sqlite", tmp_path / "c.sqlite"], [0.3, 1.0])
    assert set(table.space) == {"nb201", "nb201-opdist"} and len(table) == 2 * 2 * 2 and (table.trials == 6).all()
    # the numbers from the stores themselves
    f = _frame(tmp_path / "c.sqlite")
    optimum = load_benchmark("nb201-cifar10").optimum("val_acc")[1]
    local = f[f.label == "local"]
    times = sorted(
        next((k + 1 for k, best in enumerate(np.maximum.accumulate(g.sort_values("k").report.to_numpy()))
              if optimum - best <= 1.0 + 1e-9), math.inf)
        for _, g in local.groupby("trial_index"))
    row = table[(table.space == "nb201") & (table.optimizer == "local") & (table.threshold == 1.0)].iloc[0]
    assert row["median"] == times[2] and row.censored == sum(math.isinf(t) for t in times)
    dist = table[(table.space == "nb201-opdist") & (table.optimizer == "local") & (table.threshold == 1.0)].iloc[0]
    assert dist.cells_median == row["median"] and dist.speedup == pytest.approx(row["median"] / dist["median"])
    assert main(["opdist", "speedup", str(tmp_path / "d.sqlite"), str(tmp_path / "c.sqlite"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["threshold"] for r in rows} == {0.1, 0.3, 0.5} and all("speedup" in r for r in rows)


@settings(max_examples=30, deadline=None)
@given(counts=_counts("macro"), seed=st.integers(0, 2**32 - 1))
def test_batched_cells_have_the_counts_and_cover_the_placements(counts, seed):
    from archscape.spaces.distribution import sample_cells

    space = get_space("macro")
    cells = sample_cells(space, counts, 500, np.random.default_rng(seed))
    assert cells.shape == (500, 8)
    assert all(counts_of(space, tuple(c)) == counts for c in cells.tolist())
    n_placements = math.factorial(8) // math.prod(math.factorial(c) for c in counts)
    if n_placements <= 20:  # 500 uniform draws miss one of at most 20 placements with probability < 1e-9
        assert len({tuple(c) for c in cells.tolist()}) == n_placements
