"""The landscape page as a reader sees it: words for row names, no empty values, plots that read right."""

from __future__ import annotations

import html
import re

import matplotlib.patches
import pytest

from archscape.landscape.analyze import landscape_analyses
from archscape.landscape.plots import (
    SUMMARY_ROWS,
    basin_size_figure,
    fitness_distance_figure,
    row_label,
    write_landscape_report,
)


@pytest.fixture(scope="module")
def analyses():
    return landscape_analyses("nb201-cifar10", ["mean", 0])


def test_the_page_names_rows_in_words_and_shows_no_empty_values(analyses, tmp_path):
    write_landscape_report(tmp_path, analyses, title="nb201-cifar10")
    page = (tmp_path / "index.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", " ", page[page.index("<body"):]))
    assert "None" not in text and "nan" not in text.split()
    assert ".." not in text
    assert "e+0" not in text and "15625" in text  # counts in full, not 1.562e+04
    for key in (*SUMMARY_ROWS, "within_eps.0.1", "n_plateau_local_optima", "lon.n_samples", "lon.escape_probability"):
        assert f" {key} " not in text  # raw keys stay in landscape.csv / landscape.json
    assert "plateau optima (equal neighbours counted once)" in text
    assert row_label("within_eps.0.5") in text and "0.5 of the optimum" in row_label("within_eps.0.5")
    assert "every row within D steps" in text  # how LON edges were counted, instead of "n_samples None"
    assert "seed 0" in text and "mean over seeds" in text
    # the CSV keeps the keys, for scripts
    assert "within_eps.0.1" in (tmp_path / "landscape.csv").read_text().splitlines()[0]


def test_basin_sizes_are_a_step_histogram_with_whole_counts(analyses):
    fig = basin_size_figure(analyses)
    ax = fig.axes[0]
    steps = [p for p in ax.patches if isinstance(p, matplotlib.patches.StepPatch)]
    assert len(steps) == len(analyses)
    assert not [line for line in ax.get_lines() if line.get_marker() not in (None, "None", "")]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"[0-9]+", s.replace("\u2212", "-")) for s in labels), labels
    total = sum(int(p.get_data().values.sum()) for p in steps)
    assert total == sum(a.summary["n_local_optima"] for a in analyses.values())


def test_fitness_distance_legend_sits_outside_the_panels(analyses):
    fig = fitness_distance_figure(analyses, metric="val_acc")
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert fig.legends and "mean per distance" in [t.get_text() for t in fig.legends[0].get_texts()]
