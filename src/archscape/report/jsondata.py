"""JSON for reports: numpy values to plain types, and atomic JSON files."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from archscape.util import atomic_path


def jsonable(obj: Any) -> Any:
    """Plain JSON types: numpy scalars and arrays to Python, NaN and infinities to None."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def write_json(path: str | Path, obj: Any, *, indent: int = 1) -> Path:
    """Write :func:`jsonable` of ``obj`` to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(jsonable(obj), indent=indent), encoding="utf-8")
    return path


__all__ = ["jsonable", "write_json"]
