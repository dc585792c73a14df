"""Scoring a cell found by a search against the NAS-Bench-201 tables.

:func:`score_cell`: the mean validation accuracy (over the recorded seeds) of
the cell in NAS-Bench-201 on CIFAR-10, CIFAR-100 and ImageNet16-120 (how
one-shot methods report NB201); :func:`cell_context`: the percentage of the
15,625 cells below it, and the mean over every placement of its op counts
(the value of its distribution, in the paper's sense).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import permutations

import numpy as np

from archscape.benchmarks import load_benchmark
from archscape.benchmarks.table import TableBenchmark
from archscape.errors import ArchscapeError
from archscape.spaces import get_space
from archscape.train.darts_search import N_EDGES, N_OPS

#: result key -> the NB201 table that scores it
SCORE_TABLES = {"cifar10": "nb201-cifar10", "cifar100": "nb201-cifar100", "imagenet16": "nb201-imagenet16"}


@lru_cache(maxsize=None)
def _bench(name: str) -> TableBenchmark:
    return load_benchmark(name)


@lru_cache(maxsize=None)
def _column(name: str) -> np.ndarray:
    bench = _bench(name)
    return np.asarray(bench.query_rows(np.arange(bench.size), noise="mean", metrics=["val_acc"])["val_acc"], dtype=np.float64)


def score_cell(genotype: Sequence[int]) -> dict[str, float]:
    """Mean (over the recorded seeds) validation accuracy of an NB201 cell on the three tables."""
    g = get_space("nb201").as_genotype(tuple(genotype))
    return {key: float(_bench(name).query(g, noise="mean").metrics["val_acc"]) for key, name in SCORE_TABLES.items()}


def placements(counts: Sequence[int]) -> list[tuple[int, ...]]:
    """Every NB201 cell with these op counts (at most 6! = 720)."""
    multiset = np.repeat(np.arange(N_OPS), np.asarray(counts, dtype=np.int64))
    if multiset.size != N_EDGES:
        raise ArchscapeError(f"NB201 op counts must sum to {N_EDGES}; got {tuple(counts)}")
    return sorted(set(permutations(multiset.tolist())))


def cell_context(genotype: Sequence[int]) -> dict[str, dict[str, float]]:
    """Where the cell stands: % of cells below it, and the mean over every placement of its op counts."""
    space = get_space("nb201")
    g = space.as_genotype(tuple(genotype))
    counts = np.bincount(np.asarray(g), minlength=N_OPS)
    rows = np.asarray([space.index(c) for c in placements(counts)])
    pct, mean = {}, {}
    for key, name in SCORE_TABLES.items():
        col = _column(name)
        pct[key] = float(100.0 * np.mean(col < col[space.index(g)]))
        mean[key] = float(col[rows].mean())
    return {"percentiles": pct, "counts_scores": mean}


__all__ = ["SCORE_TABLES", "cell_context", "placements", "score_cell"]
