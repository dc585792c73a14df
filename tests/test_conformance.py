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
