"""Benchmark registry: names -> loaders.

``load_benchmark(name)`` returns a fresh benchmark object over tables that are loaded once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archscape.benchmarks.base import Benchmark
from archscape.data import registry as data_registry
from archscape.errors import ArchscapeError
from archscape.registry import Registry


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    loader: Callable[[], Benchmark]
    summary: str
    #: registry entries (data files) it reads; empty when shipped by a dependency
    data: tuple[str, ...] = ()
    #: pip extra needed, if any
    extra: str | None = None
    #: the noise a study uses when none is given (a deterministic surrogate has only "mean")
    default_noise: str = "seed"


#: name -> :class:`BenchmarkSpec` (what the benchmark is, what it needs, and its loader)
BENCHMARKS: Registry[BenchmarkSpec] = Registry("benchmark")


def register(spec: BenchmarkSpec, *, replace: bool = False) -> None:
    BENCHMARKS.register(spec.name, spec, replace=replace)


def load_benchmark(name: str) -> Benchmark:
    return BENCHMARKS.get(name).loader()


def benchmark_status() -> list[dict]:
    """Every registered benchmark: name, summary, its ``info()`` where it loads, and a ``status``
    (``ready``, the ``archscape data fetch`` line that makes it so, or why it does not load)."""
    rows = []
    for name, spec in BENCHMARKS.items():
        missing = [d for d in spec.data if not data_registry.is_available(d)]
        info = {"name": name, "summary": spec.summary}
        status = "ready"
        if missing:
            status = "needs: archscape data fetch " + " ".join(missing)
        else:
            try:
                info.update(load_benchmark(name).info())
            except ArchscapeError as exc:
                status = str(exc)
        info["status"] = status
        rows.append(info)
    return rows


def _nb201(dataset: str) -> Callable[[], Benchmark]:
    def loader() -> Benchmark:
        from archscape.benchmarks import nb201

        return nb201.load(dataset)

    return loader


for _ds, _label in (("cifar10", "CIFAR-10"), ("cifar100", "CIFAR-100"), ("imagenet16", "ImageNet16-120")):
    register(BenchmarkSpec(f"nb201-{_ds}", _nb201(_ds), f"NAS-Bench-201 {_label}, 200 and 12 epochs", ()))


def _nb101_official() -> Benchmark:
    from archscape.benchmarks import nb101

    return nb101.load()


def _nb101_subset() -> Benchmark:
    from archscape.benchmarks import nb101

    return nb101.load_subset()


register(BenchmarkSpec("nb101", _nb101_official, "NAS-Bench-101 CIFAR-10, 423,624 cells, 3 seeds (official tfrecord)", data=("nb101-tfrecord",)))
register(BenchmarkSpec("nb101-subset", _nb101_subset, "NAS-Bench-101, 292 cells of NASLib's zero-cost subset, val acc and zc proxies", data=("nb101-subset",)))


def _macro() -> Benchmark:
    from archscape.benchmarks import macro

    return macro.load()


register(BenchmarkSpec("nas-bench-macro", _macro, "NAS-Bench-Macro CIFAR-10, 6,561 chains, 50 epochs", data=("nas-bench-macro",)))


def _nb301() -> Benchmark:
    from archscape.benchmarks import nb301

    return nb301.load()


register(
    BenchmarkSpec(
        "nb301",
        _nb301,
        "NAS-Bench-301 CIFAR-10 (DARTS space) via the YAHPO Gym v2 surrogate: a surrogate of NB301's data, "
        "not the original NB301 ensemble; epochs 1-98, deterministic",
        data=("nb301-yahpo-model-v2", "nb301-yahpo-encoding", "nb301-yahpo-config-space"),
        extra="onnx",
        default_noise="mean",
    )
)


def _graph(dataset: str) -> Callable[[], Benchmark]:
    def loader() -> Benchmark:
        from archscape.benchmarks import graph

        return graph.load(dataset)

    return loader


for _ds, _label in (
    ("cora", "Cora"),
    ("citeseer", "CiteSeer"),
    ("pubmed", "PubMed"),
    ("cs", "Coauthor-CS"),
    ("physics", "Coauthor-Physics"),
    ("photo", "Amazon-Photo"),
    ("computers", "Amazon-Computers"),
    ("arxiv", "ogbn-arxiv"),
    ("proteins", "ogbn-proteins"),
):
    _n = "2,021" if _ds == "proteins" else "26,206"
    register(BenchmarkSpec(f"nas-bench-graph-{_ds}", _graph(_ds), f"NAS-Bench-Graph {_label}, {_n} GNNs", (), extra="graph"))
