"""Exhaustive landscape analysis: hand-made landscapes with known answers, then the real tables and the CLI."""

from __future__ import annotations

import json
import math

import click
import numpy as np
import pytest
from click.testing import CliRunner
from helpers import available_benchmarks

from archscape.cli import main
from archscape.errors import ArchscapeError
from archscape.landscape.analyze import (
    analyze_all_noise,
    analyze_finite,
    analyze_landscape,
    landscape_analysis,
    noise_modes,
    parse_noise,
)
from archscape.cli.landscape import DefaultCommandGroup
from archscape.landscape.exhaustive import (
    average_ranks,
    clean,
    distances_to,
    exhaustive_analysis,
    follow_pointers,
    from_adjacency,
    snap,
)
from archscape.landscape.lon import local_optima_network
from archscape.report.html import render_page, write_index
from archscape.landscape.walks import (
    autocorrelation,
    correlation_length,
    exact_autocorrelation,
)

BENCH_NAMES = {p.values[0]: p for p in available_benchmarks()}


def need(name: str):
    """The benchmark's pytest param marks (skip when its data is missing)."""
    return pytest.param(name, marks=BENCH_NAMES[name].marks, id=name)


def missing(name: str) -> bool:
    """Whether the benchmark's data (or extra) is missing here."""
    return any(m.args and m.args[0] for m in BENCH_NAMES[name].marks)


# ------------------------------------------------------------------ hand-made landscapes
def path_graph(values):
    n = len(values)
    return from_adjacency(values, [[j for j in (i - 1, i + 1) if 0 <= j < n] for i in range(n)], name="path")


def grid(values, side=3):
    nbrs = []
    for r in range(side):
        for c in range(side):
            nbrs.append([rr * side + cc for rr, cc in ((r - 1, c), (r, c - 1), (r, c + 1), (r + 1, c))
                         if 0 <= rr < side and 0 <= cc < side])
    return from_adjacency(values, nbrs, name="grid")


#   1 2 3
#   8 5 4        two optima: 8 (row 3) and 9 (row 8, the global one)
#   7 6 9
GRID = [1, 2, 3, 8, 5, 4, 7, 6, 9]


def test_path_local_optima_basins_and_neutrality():
    ex = exhaustive_analysis(path_graph([1, 3, 2, 2, 5, 4, 6]))
    f = ex.summary()
    assert ex.optima.tolist() == [1, 4, 6]
    assert f["n_local_optima"] == f["n_strict_local_optima"] == f["n_plateau_local_optima"] == 3
    assert ex.pointers.tolist() == [1, 1, 1, 4, 4, 6, 6]
    assert ex.attractor.tolist() == [1, 1, 1, 4, 4, 6, 6]
    assert ex.basin_sizes.tolist() == [3, 2, 2]
    assert (ex.optimum_row, ex.optimum_value) == (6, 6.0)
    assert f["basin_of_optimum_fraction"] == pytest.approx(2 / 7)
    assert f["within_eps"] == pytest.approx({"0.1": 2 / 7, "0.5": 2 / 7, "1": 4 / 7})
    assert ex.distance.tolist() == [6, 5, 4, 3, 2, 1, 0]
    values = np.array([1, 3, 2, 2, 5, 4, 6.0])
    assert f["fdc"] == pytest.approx(np.corrcoef(values, ex.distance)[0, 1])
    assert f["fdc"] < 0  # values rise towards the optimum
    # 12 directed links, of which 2->3 and 3->2 are equal; {2, 3} is a plateau with a better neighbour
    assert f["n_links"] == 12
    assert f["neutrality"]["equal"] == pytest.approx(2 / 12)
    assert f["neutrality"]["n_plateaus"] == 1 and f["neutrality"]["largest_plateau"] == 2


def test_grid_basins_fdc_and_climb_lengths():
    ex = exhaustive_analysis(grid(GRID))
    f = ex.summary()
    assert ex.optima.tolist() == [3, 8]
    assert ex.pointers.tolist() == [3, 4, 5, 3, 3, 8, 3, 8, 8]
    assert ex.attractor.tolist() == [3, 3, 8, 3, 3, 8, 3, 8, 8]
    assert ex.basin_sizes.tolist() == [5, 4]
    assert ex.climb_steps.tolist() == [1, 2, 2, 0, 1, 1, 1, 1, 0]
    assert f["basin_of_optimum_fraction"] == pytest.approx(4 / 9)
    assert f["basin_of_optimum_size"] == 4
    # the other optimum (8) is 1 point below the global one (9): within eps 1, not within 0.5
    assert f["within_eps"] == pytest.approx({"0.1": 4 / 9, "0.5": 4 / 9, "1": 1.0})
    assert ex.distance.tolist() == [4, 3, 2, 3, 2, 1, 2, 1, 0]  # Manhattan distance to the corner
    assert f["fdc"] == pytest.approx(np.corrcoef(GRID, ex.distance)[0, 1])
    assert f["neutrality"]["equal"] == 0.0 and f["neutrality"]["within_tol"] == 0.0
    assert f["basins"]["mean_climb_steps"] == pytest.approx(1.0) and f["basins"]["max_climb_steps"] == 2


def test_within_eps_counts_searches_ending_near_the_optimum():
    ex = exhaustive_analysis(grid(GRID), eps=(0.5, 1.0, 1.5))
    # the basin of the 8 (5 rows) ends 1 point below the optimum: inside eps 1 and 1.5, outside 0.5
    assert ex.summary()["within_eps"] == pytest.approx({"0.5": 4 / 9, "1": 1.0, "1.5": 1.0})


def test_ties_plateau_optimum_and_lowest_row_rule():
    # path 0-1-2-3-4 with a two-row plateau on top
    ex = exhaustive_analysis(path_graph([1, 5, 5, 1, 0]))
    f = ex.summary()
    assert f["n_local_optima"] == 2  # rows 1 and 2: no strictly better neighbour
    assert f["n_strict_local_optima"] == 0
    assert f["n_plateau_local_optima"] == 1
    assert f["n_global_optima"] == 2 and ex.optimum_row == 1  # lowest row on ties
    assert ex.attractor.tolist() == [1, 1, 2, 2, 2]
    assert f["basin_of_optimum_fraction"] == 1.0  # both rows hold the highest value
    assert ex.distance.tolist() == [1, 0, 0, 1, 2]  # to the nearest global optimum
    # best neighbour tie: row 0 sees rows 3 and 1 (both 5) and moves to the lower row
    star = from_adjacency([0, 5, 1, 5], [[3, 1, 2], [0], [0], [0]])
    ex = exhaustive_analysis(star)
    assert ex.pointers.tolist() == [1, 1, 2, 3]
    assert ex.optima.tolist() == [1, 2, 3]


def test_float_artefacts_are_ties_unless_tie_tol_is_zero():
    # 91.684 stored once as float32 and once as a float64 mean: equal in the data, 2e-6 apart as numbers
    a, b = 91.684, float(np.float32(91.684))
    land = path_graph([a, b, 50.0])
    f = exhaustive_analysis(land).summary()
    assert f["tie_tol"] == pytest.approx(91.684e-6)
    assert (f["n_local_optima"], f["n_strict_local_optima"], f["n_plateau_local_optima"]) == (2, 0, 1)
    assert f["n_global_optima"] == 2 and f["neutrality"]["equal"] == pytest.approx(2 / 4)
    exact = exhaustive_analysis(land, tie_tol=0).summary()
    assert (exact["n_local_optima"], exact["n_strict_local_optima"], exact["neutrality"]["equal"]) == (1, 1, 0.0)
    assert snap(np.array([1.0, 3.0, 1.0 + 1e-9, np.nan, 3.0 - 1e-9]), 1e-6)[[0, 2, 1, 4]].tolist() == [1, 1, 3 - 1e-9, 3 - 1e-9]


def test_isolated_rows_and_plateaus_counted_once():
    land = from_adjacency([2, 2, 2, 3, 0], [[1], [0, 2], [1, 3], [2], []])
    ex = exhaustive_analysis(land)
    f = ex.summary()
    # rows 0 and 1 have no strictly better neighbour; row 2 sees 3; row 3 and isolated row 4 are strict optima
    assert ex.optima.tolist() == [0, 1, 3, 4]
    assert f["n_strict_local_optima"] == 2
    # the plateau {0, 1, 2} contains row 2, which has a better neighbour: it is not a plateau optimum
    assert f["n_plateau_local_optima"] == 2
    assert f["distance"]["n_unreachable"] == 1  # row 4 cannot reach the optimum
    assert ex.distance[4] == -1


def test_nan_rows_are_excluded_like_a_smaller_table():
    values = np.array(GRID, dtype=float)
    values[4] = np.nan
    ex = exhaustive_analysis(grid(values))
    f = ex.summary()
    assert f["n_excluded"] == 1 and f["n_rows_analysed"] == 8
    assert ex.attractor[4] == -1 and 4 not in ex.attractor and ex.distance[4] == -1
    assert ex.basin_sizes.sum() == 8
    # the same landscape built without row 4 (rows renumbered) gives the same figures
    keep = [0, 1, 2, 3, 5, 6, 7, 8]
    new = {old: i for i, old in enumerate(keep)}
    small = from_adjacency([GRID[r] for r in keep],
                           [[new[c] for c in grid(GRID).neighbours[r] if c >= 0 and c != 4] for r in keep])
    g = exhaustive_analysis(small).summary()
    for key in ("n_local_optima", "basin_of_optimum_fraction", "fdc", "n_links", "within_eps"):
        assert f[key] == pytest.approx(g[key]), key
    assert ex.attractor[keep].tolist() == [keep[a] for a in exhaustive_analysis(small).attractor]


def test_clean_left_packs_and_drops_links_to_nan_rows():
    land = from_adjacency([1.0, np.nan, 2.0], [[1, 2], [0, 2], [1, 0]])
    c = clean(land)
    assert c.neighbours.tolist() == [[2], [-1], [0]]
    assert c.degree.tolist() == [1, 0, 1]
    with pytest.raises(ArchscapeError):
        clean(from_adjacency([1.0, 2.0], [[5], [0]]))


def test_pointer_jumping_and_bfs_primitives():
    root, steps = follow_pointers(np.array([1, 2, 3, 3, 3, 4]))
    assert root.tolist() == [3, 3, 3, 3, 3, 3] and steps.tolist() == [3, 2, 1, 0, 1, 2]
    land = path_graph(np.arange(6.0))
    assert distances_to(land, np.array([0, 5])).tolist() == [0, 1, 2, 2, 1, 0]
    assert average_ranks(np.array([3, 1, 3, 2])).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_all_nan_landscape_is_a_clear_error():
    with pytest.raises(ArchscapeError, match="no row with a value"):
        exhaustive_analysis(path_graph([np.nan, np.nan]))


# ------------------------------------------------------------------ walks
def test_exact_autocorrelation_of_the_complete_graph():
    # on K_n a step goes to one of the others: rho(1) = -1/(n-1) for any values
    n = 6
    land = from_adjacency([3.0, 1.0, 4.0, 1.0, 5.0, 9.0], [[j for j in range(n) if j != i] for i in range(n)])
    rho = exact_autocorrelation(land, 3)
    assert rho[0] == pytest.approx(-1 / (n - 1))
    assert rho[1] == pytest.approx(1 / (n - 1) ** 2)
    assert correlation_length(rho[0]) == pytest.approx(1 / math.log(n - 1))


def test_exact_autocorrelation_matches_a_dense_markov_chain():
    land = grid([1, 2, 3, 8, 5, 4, 7, 6, 9])
    nb = land.neighbours
    n = 9
    P = np.zeros((n, n))
    for r in range(n):
        real = nb[r][nb[r] >= 0]
        P[r, real] = 1 / len(real)
    deg = (nb >= 0).sum(axis=1)
    pi = deg / deg.sum()
    f = np.asarray(GRID, dtype=float)
    g = f - pi @ f
    want = [(pi * g) @ np.linalg.matrix_power(P, k) @ g / ((pi * g) @ g) for k in (1, 2, 3, 4)]
    assert exact_autocorrelation(land, 4) == pytest.approx(want)


def test_walks_are_seeded_and_agree_with_the_exact_curve():
    land = grid(GRID, side=3)
    a = autocorrelation(land, max_lag=5, n_walks=400, length=400, seed=7)
    b = autocorrelation(land, max_lag=5, n_walks=400, length=400, seed=7)
    c = autocorrelation(land, max_lag=5, n_walks=400, length=400, seed=8)
    assert np.array_equal(a.rho, b.rho) and not np.array_equal(a.rho, c.rho)
    assert a.rho == pytest.approx(a.rho_exact, abs=0.02)


def test_correlation_length_edges():
    assert correlation_length(0.0) == 0.0
    assert correlation_length(1.0) == math.inf
    assert math.isnan(correlation_length(float("nan")))
    assert correlation_length(-math.exp(-1)) == pytest.approx(1.0)


# ------------------------------------------------------------------ local-optima network
def test_lon_of_the_grid_exhaustive_escape_edges():
    lon = local_optima_network(grid(GRID), distance=2, method="exhaustive")
    assert lon.nodes.tolist() == [3, 8]
    edges = {(int(lon.nodes[s]), int(lon.nodes[d])): int(w) for s, d, w in zip(lon.src, lon.dst, lon.weight)}
    # ball of 3: {0, 4, 6} and {1, 5, 7}; 5 and 7 climb to 8.  Ball of 8: {5, 7} and {2, 4, 6}; 4 and 6 climb to 3
    assert edges == {(3, 3): 4, (3, 8): 2, (8, 3): 2, (8, 8): 3}
    s = lon.summary()
    assert s["n_nodes"] == 2 and s["n_edges"] == 2 and s["mean_out_degree"] == 1.0
    assert s["escape_probability"] == pytest.approx((2 / 6 + 2 / 5) / 2)
    assert s["escape_probability_optimum"] == pytest.approx(2 / 5)
    assert s["improving_edge_fraction"] == 0.5
    assert s["n_sinks"] == 1 and s["global_optimum_is_sink"] and s["single_funnel"]
    assert s["global_funnel_fraction"] == 1.0 and s["global_funnel_space_fraction"] == 1.0


def test_lon_two_funnels_and_sampling_is_seeded():
    # two peaks 5 and 9 far apart on a path: 2-move kicks cannot cross the valley, so two sinks
    land = path_graph([5, 4, 3, 2, 1, 0, 1, 2, 3, 9])
    s = local_optima_network(land, method="exhaustive").summary()
    assert s["n_nodes"] == 2 and s["n_edges"] == 0 and s["n_sinks"] == 2
    assert not s["single_funnel"] and s["global_funnel_fraction"] == 0.5
    a = local_optima_network(grid(GRID), method="sampled", n_samples=50, seed=3)
    b = local_optima_network(grid(GRID), method="sampled", n_samples=50, seed=3)
    assert a.method == "sampled" and np.array_equal(a.weight, b.weight) and a.weight.sum() == 100
    with pytest.raises(ArchscapeError):
        local_optima_network(land, method="bogus")


# ------------------------------------------------------------------ html
def test_index_html_sections(tmp_path):
    page = render_page([("Basins", "basin_sizes.png", "<table><tr><td>1</td></tr></table>"),
                         ("Notes <b>", None, None, "a caption")], title="T & co")
    assert "basin_sizes.png" in page and "<td>1</td>" in page and "Notes &lt;b&gt;" in page and "T &amp; co" in page
    path = write_index(tmp_path, [("One", ["a.png", "b.png"], None)], title="x")
    text = path.read_text()
    assert text.count("<figure>") == 2 and not list(tmp_path.glob("*.part"))


def test_analyze_finite_accepts_a_hand_made_landscape():
    s = analyze_landscape(grid(GRID), seed=1)
    assert s["n_local_optima"] == 2 and s["global_optimum"] == {"arch": "8", "index": 8, "value": 9.0}
    assert s["lon"]["n_nodes"] == 2 and len(s["autocorrelation"]) == 20
    assert analyze_finite(grid(GRID), seed=1).summary["fdc"] == s["fdc"]


# ------------------------------------------------------------------ real tables
NB201 = [need("nb201-cifar10"), need("nb201-cifar100"), need("nb201-imagenet16")]


@pytest.mark.parametrize("name", NB201)
def test_nb201_optimum_basins_and_stability(name):
    from archscape import load_benchmark

    bench = load_benchmark(name)
    a = landscape_analysis(bench, "mean", seed=0)
    s = a.summary
    genotype, value = bench.optimum()
    assert s["global_optimum"]["arch"] == bench.space.format(genotype)
    assert s["global_optimum"]["value"] == value
    assert s["n_rows_analysed"] == 15625 and s["n_excluded"] == 0
    ex = a.exhaustive
    assert ex.basin_sizes.sum() == 15625  # every architecture in exactly one basin
    assert s["n_strict_local_optima"] <= s["n_plateau_local_optima"] <= s["n_local_optima"]
    assert s["basin_of_optimum_fraction"] <= s["within_eps"]["0.1"] <= s["within_eps"]["0.5"] <= s["within_eps"]["1"] <= 1
    assert s["distance"]["max"] == 6 and s["mean_degree"] == 24  # the Hamming graph of 6 edges x 5 ops
    assert s["fdc"] < 0
    assert abs(s["autocorrelation"][0] - s["autocorrelation_exact"][0]) < 0.02
    again = analyze_landscape(name, "mean", seed=0)
    drop = {"seconds"}
    assert {k: v for k, v in again.items() if k not in drop} == {k: v for k, v in s.items() if k not in drop}


@pytest.mark.parametrize("name", [need("nb201-cifar10")])
def test_nb201_cifar10_figures_against_a_plain_python_local_search(name):
    from archscape import load_benchmark

    bench = load_benchmark(name)
    space = bench.space
    a = landscape_analysis(bench, "mean")
    values = bench.values()
    ex = a.exhaustive
    assert a.summary["n_local_optima"] == 13  # fixed data: the denoised CIFAR-10 landscape has 13 local optima

    def climb(row):
        while True:
            nbrs = sorted(bench.row_of(n) for n in space.neighbours(bench.genotype_of(row)))
            best = max(nbrs, key=lambda r: (values[r], -r))
            if values[best] <= values[row]:
                return row
            row = best

    for row in ex.optima:
        assert climb(int(row)) == row
    rng = np.random.default_rng(0)
    for row in rng.choice(bench.size, 60, replace=False):
        assert climb(int(row)) == ex.attractor[row]


@pytest.mark.parametrize("name", [need("nb201-cifar10"), need("nas-bench-macro"), need("nb101-subset")])
def test_every_noise_mode_in_one_table(name):
    from archscape import load_benchmark

    bench = load_benchmark(name)
    frame = analyze_all_noise(bench)
    assert list(frame.index) == ["mean"] + [f"seed{i}" for i in range(len(noise_modes(bench)) - 1)]
    for col in ("n_local_optima", "fdc", "autocorrelation_length", "basin_of_optimum_fraction", "n_excluded",
                "global_optimum.arch", "lon.n_edges", "neutrality.equal"):
        assert col in frame.columns
    assert (frame["n_rows_analysed"] + frame["n_excluded"] == bench.size).all()
    table = bench.tables[bench.default_fidelity]
    for i in range(table.max_seeds):
        recorded = int((table.n_seeds > i).sum())
        assert frame.loc[f"seed{i}", "n_rows_analysed"] == recorded
    assert (frame["n_strict_local_optima"] <= frame["n_plateau_local_optima"]).all()
    assert (frame["n_plateau_local_optima"] <= frame["n_local_optima"]).all()


@pytest.mark.parametrize("name", [need("nas-bench-macro")])
def test_macro_ties_make_plateau_counts_differ(name):
    s = analyze_landscape(name, 0)
    # identity layers copy results between strings: exact ties between neighbours
    assert s["neutrality"]["equal"] > 0
    assert s["n_strict_local_optima"] < s["n_local_optima"]


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ArchscapeError, match="no fixed landscape"):
        parse_noise("seed")
    with pytest.raises(ArchscapeError, match="accepted"):
        parse_noise("loud")
    assert parse_noise("2") == 2 and parse_noise("all") == "all"
    with pytest.raises(ArchscapeError, match="not a tabular benchmark"):
        analyze_landscape(object())


# ------------------------------------------------------------------ command line
def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", [need("nb201-cifar10")])
def test_cli_json_keys(capsys, name):
    code, out, err = run(capsys, "landscape", name, "--json")
    assert code == 0, err
    obj = json.loads(out)
    for key in ("n_local_optima", "fdc", "autocorrelation_length", "global_optimum", "basin_of_optimum_fraction",
                "n_excluded", "tie_rule", "lon", "neutrality", "within_eps"):
        assert key in obj
    assert set(obj["global_optimum"]) == {"arch", "index", "value"}
    # options before BENCH go to the default command too; --noise all gives one entry per mode
    code, out, err = run(capsys, "landscape", "--noise", "all", name, "--json")
    assert code == 0, err
    obj = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert list(obj) == ["mean", "seed0", "seed1", "seed2", "noise"]  # + the seed-to-seed noise analysis
    assert obj["noise"]["flip_probability"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["landscape", "nb201-cifar10", "--noise", "seed"], "no fixed landscape"),
        (["landscape", "nb201-cifar10", "--noise", "7"], "seed 7 does not exist"),
        (["landscape", "nb201-cifar10", "--metric", "nope"], "unknown metric"),
        (["landscape", "no-such-bench"], "unknown benchmark 'no-such-bench'"),
    ],
)
def test_cli_errors_are_one_line(capsys, args, fragment):
    if missing("nb201-cifar10"):
        pytest.skip("nb201 data not available")
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and fragment in err and err.count("\n") == 1


def test_default_command_group_keeps_subcommands():
    @click.group(cls=DefaultCommandGroup)
    def group():
        """G."""

    @group.command("analyze")
    @click.argument("bench")
    @click.option("--flag", is_flag=True)
    def analyze(bench, flag):
        click.echo(f"analyze {bench} {flag}")

    @group.command("theory")
    @click.argument("bench")
    def theory(bench):
        click.echo(f"theory {bench}")

    runner = CliRunner()
    assert runner.invoke(group, ["x"]).output == "analyze x False\n"
    assert runner.invoke(group, ["--flag", "x"]).output == "analyze x True\n"
    assert runner.invoke(group, ["x", "--flag"]).output == "analyze x True\n"
    assert runner.invoke(group, ["theory", "y"]).output == "theory y\n"
    assert "COMMAND" in runner.invoke(group, ["--help"]).output


@pytest.mark.slow
@pytest.mark.parametrize("name", [need("nas-bench-macro")])
def test_cli_out_writes_plots_csv_and_index(capsys, tmp_path, name):
    import pandas as pd

    code, _, err = run(capsys, "landscape", name, "--noise", "all", "--out", str(tmp_path / "ls"))
    assert code == 0, err
    files = {p.name for p in (tmp_path / "ls").iterdir()}
    assert {"basin_sizes.png", "fitness_distance.png", "autocorrelation.png", "landscape.csv", "landscape.json",
            "index.html", f"{name}-noise.png", f"{name}-seeds-0-1.png"} <= files
    frame = pd.read_csv(tmp_path / "ls" / "landscape.csv", index_col=0)
    assert list(frame.index) == ["mean", "seed0", "seed1", "seed2"]
    html = (tmp_path / "ls" / "index.html").read_text()
    assert "basin_sizes.png" in html and "Local-optima network" in html
    assert set(json.loads((tmp_path / "ls" / "landscape.json").read_text())) == {"mean", "seed0", "seed1", "seed2", "noise"}
    assert f"{name}-noise.png" in html


# ------------------------------------------------------------------ neighbour matrix
@pytest.mark.parametrize("space_name", ["nb201", "macro"])
def test_vectorised_neighbour_indices_equal_the_spaces_own_neighbours_for_every_index(space_name):
    from archscape.spaces import get_space

    space = get_space(space_name)
    matrix = space.neighbour_indices()
    assert matrix.shape == (space.size, space.n_positions * (len(space.ops) - 1))
    expected = [[space.index(n) for n in space.neighbours(g)] for g in space.enumerate()]
    assert matrix.tolist() == expected


@pytest.mark.parametrize("name", [need("nb201-cifar10"), need("nas-bench-macro"), need("nb101-subset")])
def test_neighbour_rows_of_a_table_equal_the_row_by_row_loop(name):
    from archscape import load_benchmark
    from archscape.landscape.table import neighbour_rows, neighbour_rows_by_loop

    bench = load_benchmark(name)
    fast = neighbour_rows(bench)
    assert fast.dtype == np.int64
    np.testing.assert_array_equal(fast, neighbour_rows_by_loop(bench))
    # the fast path is taken only where rows are the space's own indices (nb101-subset: a sample of cells)
    assert bench.rows_are_space_indices() == (name != "nb101-subset")


def test_a_table_with_its_own_row_order_does_not_take_the_space_index_matrix():
    from archscape.benchmarks.table import Table, TableBenchmark
    from archscape.landscape.table import neighbour_rows
    from archscape.spaces import get_space

    space = get_space("macro")
    order = np.random.default_rng(0).permutation(space.size)  # row r holds space index order[r]
    where = np.argsort(order)
    table = Table({"val_acc": np.arange(space.size, dtype=float)}, n_seeds=np.ones(space.size, dtype=np.int64), cost=None)
    bench = TableBenchmark("macro-shuffled", space, {0: table}, locate=lambda g: int(where[space.index(g)]),
                           genotype_of=lambda r: space.from_index(int(order[r])))
    assert not bench.rows_are_space_indices()
    rows = neighbour_rows(bench)
    for r in (0, 17, 6560):
        g = bench.genotype_of(r)
        assert rows[r].tolist() == [bench.row_of(n) for n in space.neighbours(g)]


def test_a_vector_space_with_its_own_neighbourhood_or_order_offers_no_neighbour_matrix():
    from archscape.spaces.macro import MacroSpace

    class Wider(MacroSpace):  # its own neighbourhood: the vectorised one would not be its order
        def neighbours(self, genotype):
            return super().neighbours(genotype)[::-1]

    class Shuffled(MacroSpace):  # its own index order, not declared through the codes
        def index(self, genotype):
            return self.size - 1 - super().index(genotype)

    for space in (Wider(), Shuffled()):
        assert space.neighbour_indices() is None and not space.capabilities()["neighbour_matrix"]
    assert MacroSpace().capabilities()["neighbour_matrix"]
