"""Exhaustive analysis of a finite landscape: local optima, basins, fitness-distance, neutrality.

Everything here works on a :class:`~archscape.landscape.table.FiniteLandscape`
(``values`` to **maximise**, a -1 padded neighbour-row matrix) with whole-array
numpy operations; no Python loop runs over architectures.

Rows whose value is NaN (a seed that some cells did not record) are not part
of the landscape: they and every neighbour link to them are dropped, and the
analysis reports how many were excluded.  The remaining rows keep their row
numbers, so results index back into the table.

Tie rule (also in :data:`TIE_RULE`, which every summary carries):

* **equal values**: values within ``tie_tol`` of each other are equal
  (default :func:`default_tie_tol`: 1e-6 of the largest magnitude, about
  1e-4 points for accuracies in percent).  Tables store float32 values and
  average seeds in floating point, which leaves differences of up to 5e-6
  points between values that are equal in the data (NB201 has thousands of
  such neighbour pairs), while real differences in NB201 and NAS-Bench-Macro
  are 6.7e-4 points or more.  Values are snapped once: sorted, every run whose
  consecutive gaps are at most ``tie_tol`` becomes one value (the run's
  smallest), and every comparison below uses the snapped values
  (``tie_tol=0``: exact comparison);
* a **local optimum** is a row with no *strictly* better neighbour (equal
  neighbours allowed).  These are exactly the fixed points of
  best-improvement local search, so each one has a basin;
* a **strict local optimum** has every neighbour strictly worse;
* a **plateau optimum** is a maximal connected set of equal-valued rows
  none of which has a strictly better neighbour; it counts
  once however many rows it holds;
* **best-improvement local search** moves to the best strictly better
  neighbour, the lowest row number among equally good ones, and stops at a
  local optimum.  Every row's search ends at one optimum (its *attractor*);
  a **basin** is the set of rows with the same attractor;
* the **global optimum** is the row of highest raw value (the lowest row on
  exact ties, as ``bench.optimum()``); rows equal to it are global optima too,
  and "the basin of the optimum" counts every row whose search ends at any of
  them.

Fitness-distance correlation (Jones & Forrest 1995) is the Pearson
correlation of value and distance, in neighbourhood steps (shortest path in
the neighbour graph), to the nearest global optimum.  Under maximisation a
landscape that guides a search towards the optimum has a **negative** FDC
(values fall as the distance grows); Jones and Forrest, minimising, call the
positive sign easy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from archscape.errors import ArchscapeError
from archscape.landscape.table import FiniteLandscape

TIE_RULE = (
    "maximisation. equal: values within tie_tol of each other (snapped, chained). local optimum: no strictly "
    "better neighbour (equal neighbours allowed; the fixed points of best-improvement local search). strict local "
    "optimum: every neighbour strictly worse. plateau optimum: a connected set of equal rows none of which has a "
    "strictly better neighbour, counted once. best-improvement local search moves to the best strictly better "
    "neighbour, the lowest row on ties. global optimum: highest raw value, lowest row on exact ties; its basin holds "
    "every row whose search ends at a row equal to it."
)

FDC_SIGN = "Pearson(value, steps to the nearest global optimum); maximisation: negative = values rise towards the optimum (easy)"

#: epsilon values (units of the metric: percentage points for accuracies) of ``within_eps``
DEFAULT_EPS = (0.1, 0.5, 1.0)


# ---------------------------------------------------------------- building landscapes
def from_adjacency(values: Sequence[float], neighbours: Sequence[Sequence[int]], name: str = "custom") -> FiniteLandscape:
    """A landscape from values and per-row neighbour lists (for tests and custom graphs)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ArchscapeError(f"values must be one-dimensional; got shape {values.shape}")
    if len(neighbours) != len(values):
        raise ArchscapeError(f"{len(neighbours)} neighbour lists for {len(values)} values")
    width = max((len(n) for n in neighbours), default=0)
    nb = np.full((len(values), width), -1, dtype=np.int64)
    for r, row in enumerate(neighbours):
        nb[r, : len(row)] = row
    return FiniteLandscape(name, values, nb, (nb >= 0).sum(axis=1))


def clean(landscape: FiniteLandscape) -> FiniteLandscape:
    """The same landscape without NaN rows: links to and from them become -1, rows left-packed.

    Idempotent and cheap; every analysis here calls it first.
    """
    values = np.asarray(landscape.values, dtype=np.float64)
    n = len(values)
    nb = np.asarray(landscape.neighbours, dtype=np.int64).reshape(n, -1)
    if nb.size and (nb.max() >= n or nb.min() < -1):
        raise ArchscapeError(f"neighbour rows of {landscape.name} must be -1 or in 0..{n - 1}")
    valid = np.isfinite(values)
    real = nb >= 0
    ok = real.copy()
    ok[real] = valid[nb[real]]
    ok &= valid[:, None]
    ok &= nb != np.arange(n)[:, None]  # a row is not its own neighbour
    if not ok.all():
        nb = np.where(ok, nb, -1)
        if ok.shape[1] > 1 and (ok[:, 1:] & ~ok[:, :-1]).any():  # a hole before a real entry
            order = np.argsort(~ok, axis=1, kind="stable")
            nb = np.take_along_axis(nb, order, axis=1)
            ok = np.take_along_axis(ok, order, axis=1)
        width = int(ok.sum(axis=1).max()) if n else 0
        nb = np.ascontiguousarray(nb[:, :width])
    return FiniteLandscape(landscape.name, values, nb, (nb >= 0).sum(axis=1))


def neighbour_values(landscape: FiniteLandscape) -> np.ndarray:
    """(N, width) values of each row's neighbours, -inf at padding (of a cleaned landscape)."""
    nb = landscape.neighbours
    return np.where(nb >= 0, landscape.values[nb], -np.inf) if nb.size else np.empty(nb.shape)


# ---------------------------------------------------------------- ties
def default_tie_tol(values: np.ndarray) -> float:
    """1e-6 of the largest finite magnitude: a few float32 rounding steps (0 for an all-zero landscape)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return float(1e-6 * np.abs(finite).max()) if finite.size else 0.0


def snap(values: np.ndarray, tol: float) -> np.ndarray:
    """Values with every run of sorted values whose consecutive gaps are <= ``tol`` set to the run's smallest.

    NaN stays NaN; ``tol <= 0`` returns a copy.
    """
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    ok = np.isfinite(values)
    if tol <= 0 or ok.sum() < 2:
        return out
    v = values[ok]
    order = np.argsort(v, kind="stable")
    s = v[order]
    start = np.r_[True, np.diff(s) > tol]
    snapped = np.empty_like(v)
    snapped[order] = s[start][np.cumsum(start) - 1]
    out[ok] = snapped
    return out


# ---------------------------------------------------------------- pieces
def best_improvement_pointers(landscape: FiniteLandscape, nv: np.ndarray | None = None) -> np.ndarray:
    """Row -> the row best-improvement local search moves to (itself at a local optimum).

    The move goes to the best strictly better neighbour, the lowest row among
    equally good ones.  NaN rows point to themselves.
    """
    values, nb = landscape.values, landscape.neighbours
    n = len(values)
    nv = neighbour_values(landscape) if nv is None else nv
    best = nv.max(axis=1, initial=-np.inf)
    with np.errstate(invalid="ignore"):
        better = best > values  # False for NaN rows
    cand = np.where((nv == best[:, None]) & (nb >= 0), nb, n)
    best_row = cand.min(axis=1, initial=n)
    return np.where(better, best_row, np.arange(n))


def follow_pointers(pointers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fixed point of every row of an acyclic pointer array, and the number of steps to it.

    Pointer jumping: each round doubles the distance covered, so the loop
    runs about log2(longest path) times over whole arrays.
    """
    root = np.asarray(pointers, dtype=np.int64).copy()
    steps = (root != np.arange(len(root))).astype(np.int64)
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root, steps
        steps = steps + steps[root]
        root = nxt


def distances_to(landscape: FiniteLandscape, sources: np.ndarray) -> np.ndarray:
    """Steps from every row to the nearest of ``sources`` along neighbour links (-1: unreachable or NaN).

    Breadth-first search run backwards as whole-array frontier expansions: at
    each level, every unvisited row with a neighbour in the frontier joins the
    next frontier (so the neighbourhood need not be symmetric).
    """
    nb = landscape.neighbours
    n = len(landscape.values)
    dist = np.full(n, -1, dtype=np.int64)
    sources = np.asarray(sources, dtype=np.int64)
    if sources.size == 0:
        return dist
    dist[sources] = 0
    frontier = np.zeros(n + 1, dtype=bool)  # the extra last slot answers the -1 padding: never in the frontier
    frontier[sources] = True
    open_ = np.isfinite(landscape.values)
    open_[sources] = False
    level = 0
    while nb.size:
        level += 1
        hit = open_ & frontier[nb].any(axis=1)
        if not hit.any():
            break
        dist[hit] = level
        open_ &= ~hit
        frontier[:n] = hit
    return dist


def equal_value_components(landscape: FiniteLandscape, nv: np.ndarray | None = None) -> np.ndarray:
    """Label of the plateau of each row: the lowest row reachable through equal-valued links.

    Label propagation with pointer jumping over the (usually few) links
    between equal values (snap first to compare with a tolerance); NaN rows
    keep their own label.
    """
    values, nb = landscape.values, landscape.neighbours
    n = len(values)
    nv = neighbour_values(landscape) if nv is None else nv
    r, j = np.nonzero((nv == values[:, None]) & (nb >= 0))
    c = nb[r, j]
    label = np.arange(n)
    if r.size == 0:
        return label
    while True:
        new = label.copy()
        np.minimum.at(new, r, label[c])
        np.minimum.at(new, c, label[r])
        new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation; NaN when either side is constant or there are fewer than two points."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size < 2:
        return float("nan")
    dx, dy = x - x.mean(), y - y.mean()
    # elementwise sums, not BLAS dots: on a few cores OpenBLAS's threads cost more than the sum
    den = np.sqrt(np.sum(dx * dx) * np.sum(dy * dy))
    return float(np.sum(dx * dy) / den) if den > 0 else float("nan")


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (as scipy's ``rankdata``)."""
    x = np.asarray(x)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], len(xs)]
    avg = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    return pearson(average_ranks(x), average_ranks(y))


# ---------------------------------------------------------------- the whole analysis
@dataclass(frozen=True)
class ExhaustiveResult:
    """Arrays and figures of one exhaustive analysis (rows of the original table).

    ``attractor[r]`` is the local optimum where best-improvement local search
    from ``r`` stops (-1 for NaN rows); ``distance[r]`` the steps to the
    nearest global optimum (-1: NaN row or unreachable); ``optima`` the rows of
    the local optima and ``basin_sizes`` their basin sizes, aligned.
    """

    landscape: FiniteLandscape  # cleaned, raw values
    values: np.ndarray  # snapped values: what every comparison used
    tie_tol: float
    valid: np.ndarray
    is_optimum: np.ndarray
    is_strict: np.ndarray
    pointers: np.ndarray
    attractor: np.ndarray
    climb_steps: np.ndarray
    optima: np.ndarray
    basin_sizes: np.ndarray
    plateau: np.ndarray
    optimum_row: int
    optimum_value: float
    distance: np.ndarray
    eps: tuple[float, ...]
    neutral_tol: float
    figures: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-ready figures (plain Python numbers; NaN where undefined)."""
        return dict(self.figures)


def exhaustive_analysis(
    landscape: FiniteLandscape,
    *,
    eps: Sequence[float] = DEFAULT_EPS,
    neutral_tol: float = 0.01,
    tie_tol: float | None = None,
) -> ExhaustiveResult:
    """Local optima, basins, fitness-distance correlation and neutrality of a finite landscape.

    See the module docstring for the tie rule and the sign of the FDC.
    ``eps``, ``neutral_tol`` and ``tie_tol`` are in the metric's units
    (percentage points for accuracies); ``tie_tol=None`` takes
    :func:`default_tie_tol`.
    """
    land = clean(landscape)
    raw, nb = land.values, land.neighbours
    n = len(raw)
    valid = np.isfinite(raw)
    n_valid = int(valid.sum())
    if n_valid == 0:
        raise ArchscapeError(f"landscape {land.name} has no row with a value")
    tie_tol = default_tie_tol(raw) if tie_tol is None else float(tie_tol)
    values = snap(raw, tie_tol)
    work = FiniteLandscape(land.name, values, nb, land.degree)
    nv = neighbour_values(work)
    best_nv = nv.max(axis=1, initial=-np.inf)
    with np.errstate(invalid="ignore"):
        has_better = best_nv > values
        is_opt = valid & ~has_better
        is_strict = valid & (best_nv < values)

    # ---- basins of best-improvement local search
    pointers = best_improvement_pointers(work, nv)
    attractor, steps = follow_pointers(pointers)
    attractor = np.where(valid, attractor, -1)
    steps = np.where(valid, steps, -1)
    optima = np.flatnonzero(is_opt)
    counts = np.bincount(attractor[valid], minlength=n)
    sizes = counts[optima]

    # ---- global optimum and where local search ends
    opt_row = int(np.argmax(np.where(valid, raw, -np.inf)))  # first maximum, as bench.optimum()
    opt_value = float(raw[opt_row])
    top = values[opt_row]
    is_global = valid & (values == top)
    end_value = values[attractor[valid]]
    basin_fraction = float(np.mean(end_value == top))
    within = {f"{e:g}": float(np.mean(end_value >= top - e)) for e in eps}
    global_optima = np.flatnonzero(is_global & is_opt)

    # ---- plateaus of equal values
    plateau = equal_value_components(work, nv)
    plateau = np.where(valid, plateau, -1)
    lab = plateau[valid]
    plateau_sizes = np.bincount(lab, minlength=n)
    bad = np.zeros(n, dtype=bool)
    bad[plateau[valid & has_better]] = True
    roots = np.flatnonzero(plateau_sizes > 0)
    n_plateau_optima = int((~bad[roots]).sum())

    # ---- fitness-distance correlation
    distance = distances_to(work, np.flatnonzero(is_global))
    reach = distance >= 0
    d, v = distance[reach], raw[reach]
    fdc = pearson(v, d)
    fdc_rank = spearman(v, d)

    # ---- neutrality over every (row, neighbour) link
    real = nb >= 0
    n_links = int(real.sum())
    equal = ((nv == values[:, None]) & real)[real]
    diff = np.abs(np.where(real, land.values[nb], np.inf) - raw[:, None])[real]
    deg = real.sum(axis=1)
    with_neighbours = valid & (deg > 0)
    neutral_row = ((nv == values[:, None]) & real).any(axis=1)

    q = np.percentile(sizes, [50, 90, 99]) if sizes.size else [np.nan] * 3
    opt_size = int(counts[opt_row])
    order = np.argsort(-values[optima], kind="stable")
    figures = {
        "n_rows": n,
        "n_excluded": n - n_valid,
        "n_rows_analysed": n_valid,
        "n_links": n_links,
        "mean_degree": float(deg[valid].mean()),
        "tie_rule": TIE_RULE,
        "tie_tol": tie_tol,
        "optimum_row": opt_row,
        "optimum_value": opt_value,
        "n_global_optima": int(is_global.sum()),
        "n_local_optima": int(optima.size),
        "n_strict_local_optima": int(is_strict.sum()),
        "n_plateau_local_optima": n_plateau_optima,
        "local_optima_fraction": float(optima.size / n_valid),
        "basin_of_optimum_fraction": basin_fraction,
        "basin_of_optimum_size": int(counts[global_optima].sum()),
        "within_eps": within,
        "basins": {
            "n": int(sizes.size),
            "mean_size": float(sizes.mean()),
            "median_size": float(q[0]),
            "p90_size": float(q[1]),
            "p99_size": float(q[2]),
            "max_size": int(sizes.max()),
            "singletons": int((sizes == 1).sum()),
            "largest_fraction": float(sizes.max() / n_valid),
            "optimum_basin_rank": int(1 + (sizes > opt_size).sum()),
            # do better optima have larger basins? (Spearman over the optima)
            "size_value_spearman": spearman(sizes, values[optima]) if sizes.size > 1 else float("nan"),
            "mean_climb_steps": float(steps[valid].mean()),
            "max_climb_steps": int(steps[valid].max()),
        },
        "best_local_optima": [
            {"row": int(optima[i]), "value": float(raw[optima[i]]), "basin_size": int(sizes[i])} for i in order[:10]
        ],
        "fdc": fdc,
        "fdc_spearman": fdc_rank,
        "fdc_sign": FDC_SIGN,
        "distance": {
            "max": int(d.max()),
            "mean": float(d.mean()),
            "n_unreachable": int(n_valid - reach.sum()),
        },
        "neutrality": {
            "equal": float(np.mean(equal)) if n_links else float("nan"),
            "tol": neutral_tol,
            "within_tol": float(np.mean(diff <= neutral_tol)) if n_links else float("nan"),
            "rows_with_equal_neighbour": float(neutral_row[with_neighbours].mean()) if with_neighbours.any() else float("nan"),
            "n_plateaus": int((plateau_sizes >= 2).sum()),
            "largest_plateau": int(plateau_sizes.max()),
        },
    }
    return ExhaustiveResult(
        landscape=land,
        values=values,
        tie_tol=tie_tol,
        valid=valid,
        is_optimum=is_opt,
        is_strict=is_strict,
        pointers=pointers,
        attractor=attractor,
        climb_steps=steps,
        optima=optima,
        basin_sizes=sizes,
        plateau=plateau,
        optimum_row=opt_row,
        optimum_value=opt_value,
        distance=distance,
        eps=tuple(eps),
        neutral_tol=neutral_tol,
        figures=figures,
    )


__all__ = [
    "DEFAULT_EPS",
    "FDC_SIGN",
    "TIE_RULE",
    "ExhaustiveResult",
    "average_ranks",
    "best_improvement_pointers",
    "clean",
    "default_tie_tol",
    "distances_to",
    "equal_value_components",
    "exhaustive_analysis",
    "follow_pointers",
    "from_adjacency",
    "neighbour_values",
    "pearson",
    "snap",
    "spearman",
]
