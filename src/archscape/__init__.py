"""archscape: neural architecture search spaces, benchmarks, search and landscape analysis."""

from archscape.benchmarks import Benchmark, Evaluation, load_benchmark
from archscape.errors import ArchscapeError
from archscape.spaces import SearchSpace, get_space

__version__ = "0.1.0"

__all__ = ["ArchscapeError", "Benchmark", "Evaluation", "SearchSpace", "get_space", "load_benchmark", "__version__"]
