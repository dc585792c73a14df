"""Noise in a tabular benchmark: how large the seed-to-seed spread is next to the steps of a neighbourhood.

A table that records several training seeds per architecture says how noisy
one evaluation is.  This module puts that noise beside the landscape:

* **spread**: the seed-to-seed standard deviation of each architecture (sample
  standard deviation, ``ddof=1``, over its recorded seeds; undefined with one
  seed);
* **neighbour gap**: ``|mean(u) - mean(v)|`` for every neighbour pair
  ``{u, v}`` of the space (each unordered pair once), beside the pair's noise,
  the root mean square of the two architectures' standard deviations,
  ``sqrt((sd_u^2 + sd_v^2) / 2)``;
* **flips**: for a neighbour pair, the probability that comparing one seed of
  each, drawn uniformly among the recorded seeds, orders the pair against
  the order of the means.  It is exact: every seed pair is enumerated (2 x 3 =
  6 combinations for NB201 cells with 2 and 3 seeds).  A seed pair whose two
  values are equal counts one half (a tie is a coin flip); pairs whose means
  are equal have no order and are left out;
* **rank correlation between seeds**: Kendall's tau-b and Spearman's rho
  between every two seeds, over the architectures that recorded both, for
  all of them and for the top 1% and top 5% by mean (the top share of all
  architectures, then those that recorded both seeds).

Values are compared to 6 decimals (``TIE_DECIMALS``): averaging seeds or
storing float32 leaves differences of about 1e-9 between values that are equal
in the data (accuracies are recorded to two decimals), and those must not
count as an order.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from archscape.benchmarks.table import TableBenchmark
from archscape.errors import ArchscapeError
from archscape.landscape.exhaustive import average_ranks

if TYPE_CHECKING:  # pandas is imported when a table is asked for: the JSON summary needs none
    import pandas as pd

#: values equal to this many decimals are ties
TIE_DECIMALS = 6
TIE = 0.5 * 10.0**-TIE_DECIMALS
#: the top shares (by mean) among which seed rank correlations are also reported
TOP_SHARES = (0.01, 0.05)
#: edges of the neighbour-gap bins of the flip-probability curve (accuracy points)
GAP_EDGES = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, np.inf)
#: columns of the seed rank correlations
CORRELATION_COLUMNS = ["seed_a", "seed_b", "subset", "n", "kendall_tau", "spearman_rho"]


class NoiseUnavailable(ArchscapeError):
    """The table records too few seeds (or too few architectures) for a noise analysis."""


@dataclass(frozen=True)
class NoiseAnalysis:
    """Per-architecture spread, per-pair gaps and flips, seed correlations (see the module docstring)."""

    benchmark: str
    metric: str
    fidelity: int
    #: (N, max_seeds) values, NaN where a row lacks a seed
    seeds: np.ndarray = field(repr=False)
    #: (N,) mean over the recorded seeds
    mean: np.ndarray = field(repr=False)
    #: (N,) sample standard deviation over the recorded seeds (NaN with one seed)
    sd: np.ndarray = field(repr=False)
    #: (P, 2) neighbour pairs as table rows, each unordered pair once
    pairs: np.ndarray = field(repr=False)
    #: (P,) |mean(u) - mean(v)|
    gap: np.ndarray = field(repr=False)
    #: (P,) sqrt((sd_u^2 + sd_v^2) / 2), NaN where neither has two seeds
    pair_sd: np.ndarray = field(repr=False)
    #: (P,) probability that one random seed of each reverses the order of the means (NaN: equal means)
    flip: np.ndarray = field(repr=False)
    #: rows (dicts) of :attr:`correlations`
    correlation_rows: list[dict] = field(repr=False)
    #: rows (dicts) of :attr:`binned`
    binned_rows: list[dict] = field(repr=False)
    #: rows (dicts) of :attr:`flip_by_gap`
    flip_by_gap_rows: list[dict] = field(repr=False)

    @cached_property
    def correlations(self) -> pd.DataFrame:
        """Rows: seed_a, seed_b, subset, n, kendall_tau, spearman_rho."""
        import pandas as pd

        return pd.DataFrame(self.correlation_rows, columns=CORRELATION_COLUMNS)

    @cached_property
    def binned(self) -> pd.DataFrame:
        """By quantile bins of the pair's mean accuracy: medians of sd and gap, share gap < sd, flip probability."""
        import pandas as pd

        return pd.DataFrame(self.binned_rows)

    @cached_property
    def flip_by_gap(self) -> pd.DataFrame:
        """Flip probability by neighbour-gap bins (``GAP_EDGES``)."""
        import pandas as pd

        return pd.DataFrame(self.flip_by_gap_rows)

    @property
    def seed_counts(self) -> dict[int, int]:
        """How many architectures recorded each seed."""
        return {s: int(c) for s, c in enumerate(np.isfinite(self.seeds).sum(axis=0))}

    def summary(self) -> dict[str, Any]:
        """A JSON-ready dict of the headline numbers and the small tables."""
        n_seeds = np.isfinite(self.seeds).sum(axis=1)
        counts = np.bincount(n_seeds)
        sd = self.sd[np.isfinite(self.sd)]
        has_sd = np.isfinite(self.pair_sd)
        ordered = np.isfinite(self.flip)
        top = {}
        for share in TOP_SHARES:
            cut = _top_cut(self.mean, share)
            both = ordered & (self.mean[self.pairs[:, 0]] >= cut) & (self.mean[self.pairs[:, 1]] >= cut)
            top[_share_name(share)] = {
                "n_pairs": int(both.sum()),
                "flip_probability": _float(self.flip[both].mean()) if both.any() else None,
            }
        return {
            "benchmark": self.benchmark,
            "metric": self.metric,
            "fidelity": self.fidelity,
            "n_architectures": len(self.mean),
            "architectures_per_seed": {str(s): c for s, c in self.seed_counts.items()},
            "architectures_by_number_of_seeds": {str(k): int(c) for k, c in enumerate(counts) if c},
            "seed_sd": {
                "n": int(sd.size),
                "median": _float(np.median(sd)),
                "mean": _float(sd.mean()),
                "q90": _float(np.quantile(sd, 0.9)),
            },
            "neighbour_gap": {
                "n_pairs": len(self.gap),
                "median": _float(np.median(self.gap)),
                "mean": _float(self.gap.mean()),
            },
            "share_gap_below_sd": _float(np.mean(self.gap[has_sd] < self.pair_sd[has_sd])),
            "flip_probability": {
                "n_pairs": int(ordered.sum()),
                "mean": _float(self.flip[ordered].mean()),
                "share_of_pairs_above_0": _float(np.mean(self.flip[ordered] > 0)),
                **{f"among_{k}": v for k, v in top.items()},
            },
            "rank_correlation": _records(self.correlation_rows),
            "binned": _records(self.binned_rows),
            "flip_by_gap": _records(self.flip_by_gap_rows),
        }


# ---------------------------------------------------------------------- analysis
def noise_analysis(
    bench: TableBenchmark, metric: str | None = None, *, fidelity: int | None = None, bins: int = 10
) -> NoiseAnalysis:
    """The noise analysis of ``metric`` (default: the objective) of a table with several seeds."""
    from archscape.landscape.table import neighbour_rows

    if not isinstance(bench, TableBenchmark):
        raise NoiseUnavailable(f"{bench.name} is not a table; noise analysis needs recorded seeds")
    fidelity = bench.check_fidelity(fidelity)
    table = bench.tables[fidelity]
    metric = bench.check_metric(metric or bench.objective, fidelity)
    seeds = np.asarray(table.values[metric], dtype=np.float64)
    n_seeds = np.isfinite(seeds).sum(axis=1)
    if seeds.shape[1] < 2 or not (n_seeds >= 2).any():
        raise NoiseUnavailable(
            f"{bench.name} records one seed per architecture for {metric}; noise analysis needs at least two"
        )
    if bins < 1:
        raise ArchscapeError(f"bins must be a positive integer; got {bins}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without values, or with one seed
        mean = np.nanmean(seeds, axis=1)
        sd = np.nanstd(seeds, axis=1, ddof=1)
    sd[n_seeds < 2] = np.nan
    sd[sd < TIE] = 0.0  # equal values stored with float noise have sd 0, not 1e-9

    pairs = neighbour_pairs(neighbour_rows(bench))
    pairs = pairs[np.isfinite(mean[pairs]).all(axis=1)]
    a, b = pairs[:, 0], pairs[:, 1]
    gap = np.abs(mean[a] - mean[b])
    gap[gap < TIE] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # both sds NaN
        pair_sd = np.sqrt(np.nanmean(np.stack([sd[a] ** 2, sd[b] ** 2]), axis=0))
    flip = flip_probability(seeds[a], seeds[b])

    return NoiseAnalysis(
        benchmark=bench.name,
        metric=metric,
        fidelity=int(fidelity),
        seeds=seeds,
        mean=mean,
        sd=sd,
        pairs=pairs,
        gap=gap,
        pair_sd=pair_sd,
        flip=flip,
        correlation_rows=_correlation_rows(seeds, mean),
        binned_rows=_binned(mean, pairs, gap, pair_sd, flip, bins),
        flip_by_gap_rows=_flip_by_gap(gap, flip),
    )


def noise_summary(bench: TableBenchmark, metric: str | None = None, *, fidelity: int | None = None) -> dict[str, Any]:
    """JSON-ready summary of :func:`noise_analysis`."""
    return noise_analysis(bench, metric, fidelity=fidelity).summary()


# ---------------------------------------------------------------------- pieces
def neighbour_pairs(neighbours: np.ndarray) -> np.ndarray:
    """(P, 2) unordered neighbour pairs ``(r, n)`` with ``r < n`` from a -1 padded neighbour-row matrix."""
    rows = np.repeat(np.arange(len(neighbours)), neighbours.shape[1])
    cols = neighbours.ravel()
    keep = cols > rows  # drops the -1 padding and each pair's second direction
    return np.stack([rows[keep], cols[keep]], axis=1)


def flip_probability(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair, the probability that one uniformly drawn seed of each reverses the order of the means.

    ``a`` and ``b`` are (P, seeds) values with NaN for missing seeds.  Every
    combination of a recorded seed of ``a`` with one of ``b`` is compared; an
    equal pair of values counts one half.  NaN where the means are equal.
    """
    a = np.round(np.asarray(a, dtype=np.float64), TIE_DECIMALS)
    b = np.round(np.asarray(b, dtype=np.float64), TIE_DECIMALS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        order = np.sign(np.round(np.nanmean(a, axis=1) - np.nanmean(b, axis=1), TIE_DECIMALS))
    diff = a[:, :, None] - b[:, None, :]  # (P, Sa, Sb)
    sign = np.sign(diff)  # NaN where a seed is missing: NaN equals nothing, so it counts in neither sum
    against = np.count_nonzero(sign == -order[:, None, None], axis=(1, 2))
    ties = np.count_nonzero(sign == 0, axis=(1, 2))
    n = np.count_nonzero(np.isfinite(diff), axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (against + 0.5 * ties) / n
    out[(order == 0) | (n == 0)] = np.nan
    return out


def seed_correlations(seeds: np.ndarray, mean: np.ndarray | None = None, shares=TOP_SHARES) -> pd.DataFrame:
    """Kendall's tau-b and Spearman's rho between every two seeds: all architectures and the top shares by mean.

    Architectures that lack either seed are left out; a subset with fewer than
    three architectures gives NaN.
    """
    import pandas as pd

    return pd.DataFrame(_correlation_rows(seeds, mean, shares), columns=CORRELATION_COLUMNS)


def _correlation_rows(seeds: np.ndarray, mean: np.ndarray | None = None, shares=TOP_SHARES) -> list[dict]:
    seeds = np.asarray(seeds, dtype=np.float64)
    if mean is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(seeds, axis=1)
    subsets = [("all", np.isfinite(mean))] + [(_share_name(s), mean >= _top_cut(mean, s)) for s in shares]
    rows = []
    for i in range(seeds.shape[1]):
        for j in range(i + 1, seeds.shape[1]):
            both = np.isfinite(seeds[:, i]) & np.isfinite(seeds[:, j])
            if not both.any():
                continue
            for name, subset in subsets:
                keep = both & subset
                x, y = seeds[keep, i], seeds[keep, j]
                tau = rho = np.nan
                if keep.sum() >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
                    tau = kendall_tau_b(x, y)
                    rho = spearman_rho(x, y)
                rows.append({"seed_a": i, "seed_b": j, "subset": name, "n": int(keep.sum()),
                             "kendall_tau": tau, "spearman_rho": rho})
    return rows


def spearman_rho(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of two finite, non-constant samples: scipy's ``spearmanr`` statistic, without scipy.

    The Pearson correlation (``np.corrcoef``, as scipy computes it) of the average ranks.
    """
    ranks = np.column_stack((average_ranks(x), average_ranks(y)))
    return float(np.corrcoef(ranks, rowvar=False)[1, 0])


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two finite samples (ties allowed): scipy's ``kendalltau`` statistic, without scipy.

    The same steps as scipy (dense ranks, x sorted stably after y, joint and
    marginal ties), with the discordant pairs counted by :func:`count_inversions`.
    NaN when either sample is constant.
    """
    x, y = np.asarray(x), np.asarray(y)
    size = x.size
    perm = np.argsort(y)
    x, y = x[perm], y[perm]
    y = np.r_[True, y[1:] != y[:-1]].cumsum(dtype=np.intp)
    perm = np.argsort(x, kind="mergesort")
    x, y = x[perm], y[perm]
    x = np.r_[True, x[1:] != x[:-1]].cumsum(dtype=np.intp)
    dis = count_inversions(y)  # discordant pairs: x ascending, ties in x ordered by y
    obs = np.r_[True, (x[1:] != x[:-1]) | (y[1:] != y[:-1]), True]
    cnt = np.diff(np.nonzero(obs)[0]).astype(np.int64, copy=False)
    ntie = int((cnt * (cnt - 1) // 2).sum())
    xtie, ytie = _tied_pairs(x), _tied_pairs(y)
    tot = (size * (size - 1)) // 2
    if xtie == tot or ytie == tot:
        return float("nan")
    con_minus_dis = tot - xtie - ytie + ntie - 2 * dis
    tau = con_minus_dis / np.sqrt(tot - xtie) / np.sqrt(tot - ytie)
    return float(np.minimum(1.0, max(-1.0, tau)))


def _tied_pairs(ranks: np.ndarray) -> int:
    cnt = np.bincount(ranks).astype(np.int64, copy=False)
    cnt = cnt[cnt > 1]
    return int((cnt * (cnt - 1) // 2).sum())


def count_inversions(values: np.ndarray) -> int:
    """Pairs ``i < j`` with ``values[i] > values[j]`` (non-negative integers), in O(n log^2 n) with numpy.

    A bottom-up merge sort: at each level, every element of a right half
    counts the elements of its left half that are greater (one
    ``searchsorted`` over all blocks, each block's values offset by its
    number), then each block of twice the width is sorted.
    """
    v = np.asarray(values, dtype=np.int64)
    n = len(v)
    if n < 2:
        return 0
    big = int(v.max()) + 1
    position = np.arange(n)
    total = 0
    width = 1
    while width < n:
        block = position // (2 * width)
        right = (position // width) % 2 == 1
        keys = block * big + v  # sorted within each half (the previous level sorted blocks of `width`)
        left_keys = keys[~right]  # ascending: blocks in order, each half sorted
        b, val = block[right], v[right]
        greater = np.searchsorted(left_keys, (b + 1) * big, "left") - np.searchsorted(left_keys, b * big + val, "right")
        total += int(greater.sum())
        v = np.sort(keys, kind="stable") - block * big  # timsort merges the two runs; blocks stay in place
        width *= 2
    return total


def _binned(mean, pairs, gap, pair_sd, flip, bins: int) -> list[dict]:
    """Equal-count bins of the pair's mean accuracy."""
    level = mean[pairs].mean(axis=1)
    edges = np.unique(np.quantile(level, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, level, side="right") - 1, 0, len(edges) - 2)
    # each bin's pairs in their original order (a stable sort by bin), so sums add up exactly as with masks
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(len(edges)))
    finite_sd, finite_flip = np.isfinite(pair_sd), np.isfinite(flip)
    rows = []
    for k in range(len(edges) - 1):
        idx = order[bounds[k] : bounds[k + 1]]
        g, sd, f = gap[idx], pair_sd[idx], flip[idx]
        has_sd, ordered = finite_sd[idx], finite_flip[idx]
        rows.append({
            "accuracy_lo": float(edges[k]),
            "accuracy_hi": float(edges[k + 1]),
            "n_pairs": int(idx.size),
            "median_sd": _float(np.median(sd[has_sd])) if has_sd.any() else np.nan,
            "median_gap": _float(np.median(g)) if idx.size else np.nan,
            "share_gap_below_sd": _float(np.mean(g[has_sd] < sd[has_sd])) if has_sd.any() else np.nan,
            "flip_probability": _float(f[ordered].mean()) if ordered.any() else np.nan,
        })
    return rows


def _flip_by_gap(gap, flip) -> list[dict]:
    ordered = np.isfinite(flip)
    edges = np.asarray(GAP_EDGES)
    which = np.searchsorted(edges, gap, side="right") - 1
    rows = []
    for k in range(len(edges) - 1):
        sel = ordered & (which == k)
        rows.append({
            "gap_lo": float(edges[k]),
            "gap_hi": float(edges[k + 1]),
            "n_pairs": int(sel.sum()),
            "flip_probability": _float(flip[sel].mean()) if sel.any() else np.nan,
        })
    return rows


def _top_cut(mean: np.ndarray, share: float) -> float:
    """The value at or above which the top ``share`` of the finite means lie (at least one architecture)."""
    finite = np.sort(mean[np.isfinite(mean)])[::-1]
    k = max(1, int(np.ceil(share * finite.size)))
    return float(finite[k - 1])


def _share_name(share: float) -> str:
    return f"top{share * 100:g}%"


def _float(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _records(rows: list[dict]) -> list[dict]:
    """JSON-ready copies of table rows: non-finite floats become None, numpy integers ints."""
    out = []
    for rec in rows:
        out.append({k: (_float(v) if isinstance(v, float) else (int(v) if isinstance(v, np.integer) else v)) for k, v in rec.items()})
    return out
