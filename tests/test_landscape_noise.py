"""Noise analysis: hand-made tables with known answers, the real tables, the ``noise`` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import cube_bench, needs

import archscape
import archscape.benchmarks
from archscape.cli.landscape import noise_cmd
from archscape.landscape.noise import (
    NoiseUnavailable,
    flip_probability,
    neighbour_pairs,
    noise_analysis,
    noise_summary,
    seed_correlations,
)


# Four architectures on the square 00-01, 00-10, 01-11, 10-11 (rows 0, 1, 2, 3).
NAN = math.nan
SQUARE = [
    [90.0, 92.0, NAN],  # 00: mean 91, sd sqrt(2)
    [91.0, 89.0, 90.0],  # 01: mean 90, sd 1
    [80.0, 80.0, 80.0],  # 10: mean 80, sd 0
    [80.5, 79.5, NAN],  # 11: mean 80, sd sqrt(1/2)
]


@pytest.fixture(scope="module")
def square():
    return noise_analysis(cube_bench(SQUARE, 2))


def _pair(analysis, a, b) -> int:
    (k,) = np.flatnonzero((analysis.pairs[:, 0] == a) & (analysis.pairs[:, 1] == b))
    return int(k)


def test_square_pairs_gaps_and_spread(square):
    assert sorted(map(tuple, square.pairs.tolist())) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    np.testing.assert_allclose(square.mean, [91, 90, 80, 80])
    np.testing.assert_allclose(square.sd, [math.sqrt(2), 1, 0, math.sqrt(0.5)])
    expected = {(0, 1): (1, math.sqrt(1.5)), (0, 2): (11, 1), (1, 3): (10, math.sqrt(0.75)), (2, 3): (0, 0.5)}
    for (a, b), (gap, sd) in expected.items():
        k = _pair(square, a, b)
        assert square.gap[k] == pytest.approx(gap)
        assert square.pair_sd[k] == pytest.approx(sd)
    s = square.summary()
    assert s["share_gap_below_sd"] == pytest.approx(0.5)  # (0,1) and (2,3)
    assert s["architectures_per_seed"] == {"0": 4, "1": 4, "2": 2}
    assert s["architectures_by_number_of_seeds"] == {"2": 2, "3": 2}


def test_square_flips_by_hand(square):
    # 00 (90, 92) against 01 (91, 89, 90), means 91 > 90: of the six seed pairs, 90 < 91 flips
    # and 90 = 90 is a tie (one half): (1 + 0.5) / 6
    assert square.flip[_pair(square, 0, 1)] == pytest.approx(0.25)
    assert square.flip[_pair(square, 0, 2)] == 0.0
    assert square.flip[_pair(square, 1, 3)] == 0.0
    assert np.isnan(square.flip[_pair(square, 2, 3)])  # equal means: no order to flip
    assert square.summary()["flip_probability"]["mean"] == pytest.approx(0.25 / 3)


def test_flip_probability_is_symmetric_and_exact():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 3))
    b = rng.normal(size=(50, 2))
    b = np.concatenate([b, np.full((50, 1), np.nan)], axis=1)
    f = flip_probability(a, b)
    np.testing.assert_allclose(f, flip_probability(b, a))
    # brute force over the seed pairs
    for k in range(50):
        order = np.sign(a[k].mean() - b[k, :2].mean())
        against = [np.sign(x - y) == -order for x in a[k] for y in b[k, :2]]
        assert f[k] == pytest.approx(np.mean(against))


def test_square_rank_correlations_by_hand(square):
    c = square.correlations.set_index(["seed_a", "seed_b", "subset"])
    # seed 0 (90, 91, 80, 80.5) against seed 1 (92, 89, 80, 79.5): 4 concordant, 2 discordant pairs
    assert c.loc[(0, 1, "all"), "kendall_tau"] == pytest.approx(1 / 3)
    # ranks (3, 4, 1, 2) and (4, 3, 2, 1): sum d^2 = 4, rho = 1 - 6 * 4 / (4 * 15)
    assert c.loc[(0, 1, "all"), "spearman_rho"] == pytest.approx(0.6)
    assert c.loc[(0, 2, "all"), "n"] == 2 and np.isnan(c.loc[(0, 2, "all"), "kendall_tau"])  # too few
    assert c.loc[(0, 1, "top1%"), "n"] == 1  # the best architecture only


def test_seed_correlations_of_reversed_seeds():
    x = np.arange(100.0)
    c = seed_correlations(np.stack([x, 100 - x / 2], axis=1)).set_index("subset")  # mean rises with x
    assert c.loc["all", "kendall_tau"] == pytest.approx(-1)
    assert c.loc["all", "spearman_rho"] == pytest.approx(-1)
    assert c.loc["top5%", "n"] == 5


def test_neighbour_pairs_once_each():
    nbrs = np.array([[1, 2, -1], [0, -1, -1], [0, -1, -1]])
    assert neighbour_pairs(nbrs).tolist() == [[0, 1], [0, 2]]


def test_float_noise_is_no_order():
    # equal in the data, unequal by 1e-9 after averaging: no sd, no gap, no flip
    bench = cube_bench([[80.0, 80.0 + 1e-9], [80.0 + 1e-9, 80.0], [70.0, 71.0], [70.5, 70.5]], 2)
    analysis = noise_analysis(bench)
    assert analysis.sd[0] == 0.0 and analysis.gap[_pair(analysis, 0, 1)] == 0.0
    assert np.isnan(analysis.flip[_pair(analysis, 0, 1)])


def test_summary_is_json_ready(square):
    text = json.dumps(square.summary(), allow_nan=False)
    assert json.loads(text)["benchmark"].startswith("cube2")


def test_one_seed_has_no_noise_analysis():
    bench = cube_bench(np.arange(8.0), 3)
    with pytest.raises(NoiseUnavailable) as info:
        noise_analysis(bench)
    assert "one seed" in str(info.value) and "\n" not in str(info.value)


# ---------------------------------------------------------------------- real tables
@pytest.mark.parametrize("name", ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16"])
def test_nb201_noise(name):
    s = noise_summary(archscape.load_benchmark(name))
    assert s["architectures_per_seed"] == {"0": 15625, "1": 15625, "2": 8169}
    assert s["neighbour_gap"]["n_pairs"] == 15625 * 24 // 2
    assert 0 < s["seed_sd"]["median"] < 1 and s["neighbour_gap"]["median"] > s["seed_sd"]["median"]
    assert 0.1 < s["share_gap_below_sd"] < 0.4
    assert 0 < s["flip_probability"]["mean"] < 0.2
    # flips are common among the best architectures, where neighbours are close
    assert s["flip_probability"]["among_top5%"]["flip_probability"] > s["flip_probability"]["mean"]
    by_gap = s["flip_by_gap"]
    assert by_gap[0]["flip_probability"] > 0.4 and by_gap[-1]["flip_probability"] < 0.01
    corr = {(r["seed_a"], r["seed_b"], r["subset"]): r for r in s["rank_correlation"]}
    assert len(corr) == 9
    for a, b in ((0, 1), (0, 2), (1, 2)):
        overall = corr[(a, b, "all")]
        assert 0.8 < overall["kendall_tau"] < 1 and overall["kendall_tau"] < overall["spearman_rho"] < 1
        assert overall["n"] == (15625 if b == 1 else 8169)
        # among the top architectures the seeds agree much less
        assert corr[(a, b, "top5%")]["kendall_tau"] < overall["kendall_tau"] - 0.2
    json.dumps(s, allow_nan=False)


@needs("nas-bench-macro")
def test_macro_noise():
    s = noise_summary(archscape.load_benchmark("nas-bench-macro"))
    assert s["architectures_by_number_of_seeds"] == {"3": 6561}
    assert s["neighbour_gap"]["n_pairs"] == 6561 * 16 // 2
    assert all(0.8 < r["kendall_tau"] < 1 for r in s["rank_correlation"] if r["subset"] == "all")


# ---------------------------------------------------------------------- the command
@pytest.fixture
def fake_tables(monkeypatch):
    tables = {"square": cube_bench(SQUARE, 2), "single": cube_bench(np.arange(8.0), 3)}
    real = archscape.benchmarks.load_benchmark
    monkeypatch.setattr(archscape.benchmarks, "load_benchmark", lambda name: tables[name] if name in tables else real(name))
    return tables


def test_noise_command(fake_tables, tmp_path):
    runner = CliRunner()
    result = runner.invoke(noise_cmd, ["square"])
    assert result.exit_code == 0, result.output
    assert "flips a neighbour comparison: 0.083" in result.output
    assert "share of neighbour pairs whose gap is below their noise sd: 0.500" in result.output

    result = runner.invoke(noise_cmd, ["square", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["flip_probability"]["mean"] == pytest.approx(1 / 12)
    name = fake_tables["square"].name
    assert json.loads((tmp_path / f"{name}-noise.json").read_text()) == data
    for stem in ("noise", "seeds-0-1", "seeds-0-2", "seeds-1-2"):
        assert (tmp_path / f"{name}-{stem}.png").stat().st_size > 0


def test_noise_command_errors(fake_tables):
    runner = CliRunner()
    result = runner.invoke(noise_cmd, ["single"])
    assert isinstance(result.exception, NoiseUnavailable)
    assert "needs at least two" in str(result.exception) and "\n" not in str(result.exception)
    result = runner.invoke(noise_cmd, ["no-such-bench"])
    assert isinstance(result.exception, archscape.errors.ArchscapeError)


# ------------------------------------------------------------------ rank correlations without scipy
def test_kendall_and_spearman_equal_scipys_statistics_bit_for_bit():
    from scipy.stats import kendalltau, spearmanr

    from archscape.landscape.noise import count_inversions, kendall_tau_b, spearman_rho

    rng = np.random.default_rng(0)
    checked = 0
    for trial in range(300):
        n = int(rng.integers(3, 400))
        x = rng.integers(0, int(rng.integers(2, 40)), n).astype(float) if trial % 2 else rng.random(n)
        y = (x + rng.normal(0, 1, n)).round(int(rng.integers(0, 3))) if trial % 3 else rng.integers(0, 9, n) * 1.0
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        assert kendall_tau_b(x, y) == float(kendalltau(x, y).statistic)
        assert spearman_rho(x, y) == float(spearmanr(x, y).statistic)
        checked += 1
    assert checked > 200
    assert math.isnan(kendall_tau_b(np.ones(5), np.arange(5.0)))
    v = rng.integers(0, 50, 300)
    assert count_inversions(v) == sum(int(v[i] > v[j]) for i in range(300) for j in range(i + 1, 300))
    assert count_inversions(np.arange(10)[::-1]) == 45 and count_inversions([3]) == 0


def test_landscape_json_runs_without_matplotlib_scipy_stats_or_pandas():
    """`archscape landscape BENCH --json` draws nothing and builds no table: no matplotlib, no pandas, and the
    rank correlations need no scipy."""
    import subprocess
    import sys
    from pathlib import Path

    mark = needs("nb201-cifar10")
    if mark.args[0]:
        pytest.skip(mark.kwargs["reason"])
    code = (
        "import sys, io, contextlib\n"
        "from archscape.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main(['landscape', 'nb201-cifar10', '--noise', 'mean', '--json'])\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        "assert '\"noise\"' in out.getvalue()\n"
        "print(sorted(m for m in ('matplotlib', 'scipy.stats', 'pandas') if m in sys.modules))\n"
    )
    src = str(Path(archscape.__file__).resolve().parents[1])
    env = {**__import__("os").environ, "PYTHONPATH": src}
    for run in ("first", "warm"):  # the first run may convert the tables (the 12-epoch CSV is read with pandas)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
