"""Small helpers shared by the test modules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from optimizer_conformance import CubeSpace

from archscape.benchmarks import BENCHMARKS
from archscape.benchmarks.table import Table, TableBenchmark
from archscape.data import registry


def available_benchmarks() -> list:
    """One pytest param per registered benchmark; skipped (with the reason) when its data or extra is missing."""
    params = []
    for name, spec in BENCHMARKS.items():
        missing = [d for d in spec.data if not registry.is_available(d)]
        reason = None
        if missing:
            reason = f"data not available: {', '.join(missing)}"
        elif spec.extra:
            import importlib.util

            module = {"graph": "nas_bench_graph", "onnx": "onnxruntime"}.get(spec.extra, spec.extra)
            if importlib.util.find_spec(module) is None:
                reason = f"needs the {spec.extra!r} extra"
        params.append(pytest.param(name, id=name, marks=pytest.mark.skipif(reason is not None, reason=reason or "")))
    return params


_CUBE_NAMES = itertools.count()


def cube_bench(values, bits: int):
    """A table over the cube {0,1}^bits; ``values`` by row (index = the bits read as a binary number)."""
    v = np.asarray(values, dtype=np.float64).reshape(2**bits, -1)
    table = Table({"val_acc": v}, n_seeds=np.isfinite(v).sum(axis=1), cost=None)
    # a fresh name each time: the neighbour cache is keyed by name and table identity
    return TableBenchmark(f"cube{bits}-{next(_CUBE_NAMES)}", CubeSpace(bits), {0: table})


def needs(name: str):
    """Skip unless the data of benchmark ``name`` is available."""
    spec = BENCHMARKS[name]
    missing = [d for d in spec.data if not registry.is_available(d)]
    return pytest.mark.skipif(bool(missing), reason=f"data not available: {', '.join(missing)}")
