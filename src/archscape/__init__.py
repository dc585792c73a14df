"""archscape: neural architecture search spaces, benchmarks, search and landscape analysis.

The entry points a researcher needs, importable from ``archscape`` itself
(each is loaded the first time it is used, so ``import archscape`` stays light)::

    import archscape

    space = archscape.get_space("nb201")
    bench = archscape.load_benchmark("nb201-cifar10")
    result = archscape.run_study(benchmark="nb201-cifar10", optimizers=["random", "local"],
                                 budget=100, trials=5, store_path="runs/quick.sqlite")
    frame = archscape.store_frame("runs/quick.sqlite")
    archscape.write_report("runs/quick.sqlite", "runs/quick-report")

See ``docs/architecture.md`` for where each lives.
"""

from __future__ import annotations

from typing import Any

from archscape.errors import ArchscapeError
from archscape.registry import load_target

__version__ = "0.1.0"

#: public name -> where it lives
_API = {
    # spaces
    "SearchSpace": "archscape.spaces:SearchSpace",
    "get_space": "archscape.spaces:get_space",
    "space_names": "archscape.spaces:space_names",
    "register_space": "archscape.spaces:register_space",
    # benchmarks
    "Benchmark": "archscape.benchmarks:Benchmark",
    "Evaluation": "archscape.benchmarks:Evaluation",
    "load_benchmark": "archscape.benchmarks:load_benchmark",
    "BENCHMARKS": "archscape.benchmarks:BENCHMARKS",
    # search and predictors
    "make_optimizer": "archscape.search:make_optimizer",
    "optimizer_names": "archscape.search:optimizer_names",
    "register_optimizer": "archscape.search:register_optimizer",
    "make_predictor": "archscape.predictors:make_predictor",
    "predictor_names": "archscape.predictors:predictor_names",
    # studies
    "RunConfig": "archscape.run.config:RunConfig",
    "StudyFile": "archscape.run.study:StudyFile",
    "run_study": "archscape.run.runner:run_study",
    # reading results
    "store_frame": "archscape.report.collect:store_frame",
    "write_report": "archscape.report:write_report",
    "gain_table": "archscape.report.gain:gain_table",
    # landscapes
    "landscape_analysis": "archscape.landscape.analyze:landscape_analysis",
    "analyze_landscape": "archscape.landscape.analyze:analyze_landscape",
    "noise_analysis": "archscape.landscape.noise:noise_analysis",
}


def __getattr__(name: str) -> Any:
    try:
        target = _API[name]
    except KeyError:
        raise AttributeError(f"module 'archscape' has no attribute {name!r}") from None
    value = load_target(target)
    globals()[name] = value  # loaded once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


__all__ = ["ArchscapeError", "__version__", *_API]
