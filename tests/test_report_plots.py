"""What a reader sees on the anytime plots: bands that mean something, and a zoom that says what it cuts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from archscape.report import anytime, plots


def _frame(curves: dict[int, list[float]], label: str = "opt", growth: float = 0.0) -> pd.DataFrame:
    """A frame of complete trials whose k-th query reports ``curves[trial][k]``; it finishes on day k + 1,
    or with ``growth`` on day (1 + growth)^k (evenly spread on a log time axis)."""
    rows = [(label, t, "complete", k, f"a{t}-{k}", v, v, 86400.0 * ((1 + growth) ** k if growth else k + 1), "ok")
            for t, values in curves.items() for k, v in enumerate(values)]
    frame = pd.DataFrame(rows, columns=["label", "trial_index", "trial_state", "k", "arch", "objective", "report",
                                        "sim_time", "status"])
    frame["optimizer"] = frame["label"]
    return frame


def _bands(ax) -> list[np.ndarray]:
    """The finite vertices of each band (fill_between) drawn on ``ax``."""
    out = []
    for coll in ax.collections:
        verts = np.concatenate([p.vertices for p in coll.get_paths()]) if coll.get_paths() else np.empty((0, 2))
        out.append(verts[np.isfinite(verts).all(axis=1)])
    return out


def test_the_mean_band_is_a_t_interval_clipped_to_the_trials_range():
    rng = np.random.default_rng(3)
    values = rng.normal(90.0, 0.3, size=(20, 5))
    values[0, 0] = 9.7  # one broken network among twenty: a t-interval would reach past the best trial
    mean, lo, hi = plots.summarise(values, "mean")
    half = stats.t.ppf(0.975, 19) * values.std(axis=0, ddof=1) / np.sqrt(20)
    assert np.allclose(mean, values.mean(axis=0))
    assert hi[0] == pytest.approx(values[:, 0].max()) and mean[0] + half[0] > values[:, 0].max()
    assert np.allclose(lo[1:], mean[1:] - half[1:]) and np.allclose(hi[1:], mean[1:] + half[1:])
    assert (lo >= values.min(axis=0) - 1e-12).all() and (hi <= values.max(axis=0) + 1e-12).all()


def test_no_band_from_fewer_than_three_trials():
    two = anytime.by_queries(_frame({0: [1.0, 2.0, 3.0], 1: [2.0, 2.5, 3.5]}), 4.0)
    fig = plots.anytime_figure(two, value="regret", title="t", metric="m")
    assert all(b.size == 0 for ax in fig.axes for b in _bands(ax))
    three = anytime.by_queries(_frame({0: [1.0, 2.0, 3.0], 1: [2.0, 2.5, 3.5], 2: [1.5, 2.2, 3.1]}), 4.0)
    fig = plots.anytime_figure(three, value="regret", title="t", metric="m")
    assert all(b.size > 0 for ax in fig.axes for b in _bands(ax))


def test_a_zoomed_report_axis_says_what_it_cuts_and_draws_no_band_without_its_line():
    rng = np.random.default_rng(0)
    # 10 trials, 40 queries: a slow start (below 60 for 3 queries), then convergence towards 95
    trials = {}
    for t in range(10):
        start = [10.0 + t, 30.0, 50.0 + t]
        tail = [93.0] * 7 + list(np.maximum.accumulate(93.0 + rng.uniform(0, 1.5, 30)))
        trials[t] = start + tail
    curves = anytime.by_queries(_frame(trials), 95.0)
    fig = plots.anytime_figure(curves, value="report", title="t", metric="val_acc", unit="%")
    low = fig.axes[0].get_ylim()[0]
    assert 92.0 < low < 93.0  # the zoom starts where the incumbents converge
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    notes = [t for t in texts if t.startswith("y axis cut at")]
    assert len(notes) == 2  # one per panel
    assert notes[0].endswith("up to query 3")  # the mean and median are below the axis for 3 queries
    for ax in fig.axes:
        for band in _bands(ax):  # no band reaching up from below the visible axis
            assert band.size and (band[:, 0] >= 4).all()


def test_sim_time_zoom_note_names_the_unit():
    trials = {t: [20.0 + t, 50.0, 60.0] + [93.0] * 37 for t in range(4)}
    curves = anytime.by_time(_frame(trials, growth=0.2), 95.0)
    fig = plots.anytime_figure(curves, value="report", title="t", metric="val_acc")
    notes = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("y axis cut")]
    assert notes and notes[0].endswith("days")
