"""Run the shared conformance suites over every registered space and benchmark."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archscape.benchmarks import load_benchmark
from archscape.errors import ArchscapeError
from archscape.spaces import get_space, space_names
from conformance import check_benchmark, check_space
from helpers import available_benchmarks


@pytest.mark.parametrize("name", space_names())
def test_space_conformance(name):
    check_space(get_space(name))


@pytest.mark.parametrize("name", available_benchmarks())
def test_benchmark_conformance(name):
    check_benchmark(load_benchmark(name))



def _partial_tables() -> list[str]:
    names = []
    for param in available_benchmarks():
        if not any(m.args and m.args[0] for m in param.marks):  # not skipped
            bench = load_benchmark(param.values[0])
            if not getattr(bench, "covers_space", True):
                names.append(bench.name)
    return names


@pytest.mark.parametrize("name", _partial_tables())
def test_search_space_of_partial_tables_conforms(name):
    # Optimizers search a partial table's own cells (SubsetSpace); it is a space like any other.
    check_space(load_benchmark(name).search_space())


@pytest.mark.parametrize("name", ["nb201", "macro", "nb101", "darts"])
@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=40) | st.from_regex(r"#?[0-9]{1,9}", fullmatch=True))
def test_reading_any_text_gives_an_architecture_or_one_line(name, text):
    space = get_space(name)
    try:
        g = space.read(text)
    except ArchscapeError as exc:
        assert "\n" not in str(exc)
    else:
        assert space.canonical(g) == g
