"""Benchmarks: values (metrics and cost) of architectures."""

from archscape.benchmarks.base import Benchmark, Evaluation, check_noise
from archscape.benchmarks.registry import BENCHMARKS, load_benchmark
from archscape.benchmarks.table import Table, TableBenchmark

__all__ = ["BENCHMARKS", "Benchmark", "Evaluation", "Table", "TableBenchmark", "check_noise", "load_benchmark"]
