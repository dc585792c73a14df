"""Small helpers shared by the test modules."""

from __future__ import annotations

import pytest

from archscape.benchmarks import BENCHMARKS
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
