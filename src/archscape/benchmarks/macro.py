"""NAS-Bench-Macro on CIFAR-10 (registry entry ``nas-bench-macro``).

The file maps each 8-digit chain to ``test_acc`` (3 training runs), their
``mean_acc`` and ``std``, ``params`` and ``flops`` (plain counts; stored here
in millions).  Each run trained 50 epochs (SGD, cosine schedule) and recorded
the *best* CIFAR-10 test accuracy over those epochs; there is no validation
split, so the objective is ``test_acc``.  No training time was recorded, so
queries cost 0 simulated seconds.  Rows follow the space's index (the base-3
number of the key).
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from archscape.benchmarks.table import Table, TableBenchmark
from archscape.data import registry
from archscape.data.converted import load_or_build
from archscape.errors import DataError
from archscape.spaces.macro import SIZE, MacroSpace

#: training epochs of every entry (``--epochs 50`` in the authors' train.py)
EPOCHS = 50
N_SEEDS = 3
_SPACE = MacroSpace()


def space() -> MacroSpace:
    return _SPACE


def _read_json() -> dict:
    file = registry.path("nas-bench-macro")
    try:
        with open(file, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read NAS-Bench-Macro file {file}: {exc}") from None
    if not isinstance(data, dict) or len(data) != SIZE:
        raise DataError(f"{file} is not the NAS-Bench-Macro table of {SIZE} chains")
    return data


def _arrays() -> dict[str, np.ndarray]:
    def build() -> dict[str, np.ndarray]:
        data = _read_json()
        test = np.empty((SIZE, N_SEEDS))
        params = np.empty(SIZE)
        flops = np.empty(SIZE)
        seen = np.zeros(SIZE, dtype=bool)
        for key, rec in data.items():
            try:
                row = _SPACE.index(_SPACE.parse(key))
                test[row] = rec["test_acc"]
                params[row] = rec["params"]
                flops[row] = rec["flops"]
            except (ArithmeticError, KeyError, TypeError, ValueError) as exc:
                raise DataError(f"malformed NAS-Bench-Macro entry {key!r}: {exc}") from None
            seen[row] = True
        if not seen.all():
            raise DataError(f"the NAS-Bench-Macro table lacks {int((~seen).sum())} of the {SIZE} chains")
        return {"test_acc": test, "params": params / 1e6, "flops": flops / 1e6}

    return load_or_build("nas-bench-macro", ["nas-bench-macro"], build)


@lru_cache(maxsize=None)
def _tables() -> dict[int, Table]:
    arrays = _arrays()
    table = Table(
        {"test_acc": arrays["test_acc"], "params": arrays["params"], "flops": arrays["flops"]},
        n_seeds=np.full(SIZE, N_SEEDS, dtype=np.int64),
        cost=None,
    )
    return {EPOCHS: table}


def load() -> TableBenchmark:
    """A fresh NAS-Bench-Macro benchmark."""
    return TableBenchmark(
        "nas-bench-macro",
        _SPACE,
        _tables(),
        objective="test_acc",
        default_fidelity=EPOCHS,
        description=(
            "NAS-Bench-Macro CIFAR-10: 6,561 chains of 8 MobileNetV2-style layers, 3 runs of 50 epochs; "
            "no validation accuracy, so the objective is the test accuracy (best epoch); "
            "3,969 distinct networks (strings that differ only in where a stage's identity layers sit share results); "
            "no training time recorded (cost 0)"
        ),
    )


__all__ = ["EPOCHS", "load", "space"]
