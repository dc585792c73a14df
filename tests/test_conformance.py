"""Run the shared conformance suites over every registered space and benchmark."""

from __future__ import annotations

import pytest

from archscape.benchmarks import load_benchmark
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
