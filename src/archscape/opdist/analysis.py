"""Does the operation distribution explain the accuracy?  (Wan et al., WACV 2022)

Architectures are grouped by their op-count vector (``space.encode_many(...,
"opcount")``: how many of each operation every cell holds) and the metric is
compared within and between the groups:

* ``eta_squared``: between-group sum of squares / total sum of squares
  (1: the counts alone fix the metric; 0: the groups have equal means).
  With few architectures per group it is biased upwards: groups of pure noise
  give about ``eta_squared_chance = (G - 1) / (N - 1)``;
  ``epsilon_squared = (SS_between - (G - 1) MS_within) / SS_total`` corrects
  for that;
* ``spearman_group_mean``: Spearman correlation of each architecture's value
  with its group's mean (how well "the mean of my distribution" ranks cells);
* ``within_group_sd``: pooled, ``sqrt(SS_within / (N - G))``;
  ``total_sd``: ``sqrt(SS_total / (N - 1))``;
* the best distribution by group mean, and the rank (1 = best) of the
  distribution of the global optimum (ranks: 1 + groups with a strictly higher
  mean);
* ``swap_vs_change``: |metric change| between two architectures that differ
  by a *swap* (two op slots of one cell exchange their different ops: same
  counts) against a *change* (one slot gets another op: different counts),
  with a Mann-Whitney U and a two-sample Kolmogorov-Smirnov test (scipy,
  two-sided).  ``prob_swap_greater`` is U / (n_swap n_change),
  P(|swap| > |change|) + P(tie) / 2: below 0.5, swaps change the metric less.

Modes:

* **exhaustive** (any table): every row of the table.  NAS-Bench-201 and
  NAS-Bench-Macro (complete tables of a vector space) pair every cell with
  every swap and one-op change partner with whole-array operations, each
  unordered pair once.  A partial table (``nb101-subset``) is analysed as far
  as it goes: its cells are grouped (cells of different sizes have different
  vectors; ``n_singleton_groups`` says how many groups hold one cell) and
  pairs are those whose both ends are in the table;
* **sampled** (a space too large to enumerate, or asked for with
  ``samples``/``per_distribution``): ``samples`` count vectors drawn
  uniformly (with replacement), ``per_distribution`` architectures drawn from
  each with :func:`~archscape.spaces.distribution.sample_architecture`, and
  for every architecture one random swap and one random one-op change partner,
  all queried.  Works for any benchmark whose space has an op distribution
  and that covers its space.  Distributions weigh equally here (the
  exhaustive mode weighs architectures, so distributions with many
  arrangements count more): the two eta squared differ by design.
  ``global_optimum`` is then the best sampled architecture.

``n_count_vectors`` is how many count vectors full cells have (NB201 210,
Macro 45, NB101 21); a partial NB101 table also holds smaller cells, so it
can show more groups than that.

Noise: ``"mean"`` (average of the recorded seeds), ``"seed"`` (one recorded
seed drawn per query from ``default_rng(seed)``) or a seed number.  Rows
without a value (NaN: a seed that some cells did not record) are left out and
counted in ``n_excluded``.  ``seed`` also drives every draw of the sampled
mode, so the same seed gives the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from archscape.benchmarks.base import Benchmark, Noise, check_noise
from archscape.benchmarks.table import TableBenchmark
from archscape.errors import ArchscapeError, InvalidArchitecture, NotInTable, UnsupportedOperation
from archscape.spaces.distribution import CellLayout, layout_of, sample_architecture
from archscape.spaces.opdist import OpDistSpace
from archscape.spaces import spaces_with
from archscape.spaces.base import Genotype, SearchSpace

NOISE_HELP = "mean (average of the recorded seeds), seed (one drawn per architecture), or a seed number 0, 1, ..."
#: defaults of the sampled mode
DEFAULT_SAMPLES = 200
DEFAULT_PER_DISTRIBUTION = 10
#: distributions listed in ``top_distributions``
TOP = 10

SWAP_DEFINITION = (
    "swap: two op slots of one cell with different ops exchange them (same counts); change: one slot gets another "
    "op (different counts); |metric difference| per unordered pair; Mann-Whitney U and Kolmogorov-Smirnov two-sided; "
    "prob_swap_greater = U/(n_swap*n_change) = P(|swap| > |change|) + P(tie)/2"
)


@dataclass(frozen=True)
class OpDistAnalysis:
    """The figures (:attr:`summary`, JSON-ready) and the arrays the plots draw."""

    summary: dict
    #: (G, L) count vector of each group, lexicographic order
    group_counts: np.ndarray
    #: per group: size, mean, sd (ddof 0), min, max, 25% and 75% quantiles of the metric
    group_size: np.ndarray
    group_mean: np.ndarray
    group_sd: np.ndarray
    group_min: np.ndarray
    group_max: np.ndarray
    group_q25: np.ndarray
    group_q75: np.ndarray
    #: group of the global optimum (index into the group arrays)
    optimum_group: int
    #: text form of each group's counts
    group_text: tuple[str, ...]
    #: |metric change| of swap pairs and of one-op-change pairs
    swap_diffs: np.ndarray
    change_diffs: np.ndarray


# ---------------------------------------------------------------- inputs
def resolve_benchmark(bench: Any) -> Benchmark:
    """A benchmark (name or object) whose space has an operation distribution; one-line error otherwise."""
    if isinstance(bench, str):
        from archscape.benchmarks import load_benchmark

        bench = load_benchmark(bench)
    try:
        layout_of(bench.space)
    except UnsupportedOperation:
        raise UnsupportedOperation(
            f"benchmark {bench.name} (search space {bench.space.name!r}) has no operation distribution; accepted: "
            f"benchmarks over the spaces {', '.join(spaces_with('opdist'))} (e.g. nb201-cifar10, nb201-cifar100, "
            f"nb201-imagenet16, nas-bench-macro, nb101-subset)"
        ) from None
    return bench


def _check_metric(bench: Benchmark, metric: str | None) -> str:
    return bench.check_metric(metric or bench.objective)


def _check_noise(bench: Benchmark, noise: Any, fidelity: int | None) -> Noise:
    try:
        noise = check_noise(noise)
    except ArchscapeError:
        raise ArchscapeError(f"unknown noise mode {noise!r}; accepted: {NOISE_HELP}") from None
    if isinstance(noise, int) and isinstance(bench, TableBenchmark):
        n = bench.tables[bench.check_fidelity(fidelity)].max_seeds
        if noise >= n:
            raise ArchscapeError(f"unknown noise mode {noise!r} for {bench.name} ({n} recorded seed(s)); accepted: "
                                 f"mean, seed, or a seed number 0..{n - 1}")
    return noise


# ---------------------------------------------------------------- values
def _table_values(bench: TableBenchmark, rows: np.ndarray, metric: str, noise: Noise, fidelity: int | None,
                  rng: np.random.Generator) -> np.ndarray:
    """The metric of table rows; NaN where the row did not record the seed."""
    if noise == "seed":
        return bench.query_rows(rows, noise="seed", fidelity=fidelity, rng=rng, metrics=[metric])[metric]
    return bench.values(metric, noise=noise, fidelity=fidelity)[rows]


def _query_values(bench: Benchmark, genotypes: Sequence[Genotype], metric: str, noise: Noise, fidelity: int | None,
                  rng: np.random.Generator) -> np.ndarray:
    if isinstance(bench, TableBenchmark):
        return _table_values(bench, bench.rows(genotypes), metric, noise, fidelity, rng)
    evals = bench.query_many(genotypes, noise=noise, fidelity=fidelity, rng=rng)
    return np.array([e.metrics[metric] for e in evals], dtype=np.float64)


# ---------------------------------------------------------------- swaps and changes
def op_slots(space: SearchSpace, genotype: Genotype) -> tuple[list[list[int]], tuple[int, ...], Callable]:
    """The op of every slot, cell by cell; the ops a slot may hold; and ``rebuild(cells) -> genotype``.

    All three come from the space's own operation-slot capability
    (:meth:`SearchSpace.slot_ops`, :meth:`SearchSpace.cell_layout`, :meth:`SearchSpace.with_slot_ops`).
    """
    lay = layout_of(space)  # raises the one-line error

    def rebuild(cells: list[list[int]]) -> Genotype:
        return space.with_slot_ops(genotype, cells)

    return space.slot_ops(genotype), lay.alphabet, rebuild


def swaps_and_changes(space: SearchSpace, genotype: Genotype) -> tuple[list[Genotype], list[Genotype]]:
    """Every swap partner and every one-op-change partner of an architecture."""
    cells, alphabet, rebuild = op_slots(space, genotype)
    swaps, changes = [], []
    for c, ops in enumerate(cells):
        for i in range(len(ops)):
            for j in range(i + 1, len(ops)):
                if ops[i] != ops[j]:
                    new = [list(x) for x in cells]
                    new[c][i], new[c][j] = ops[j], ops[i]
                    swaps.append(rebuild(new))
            for o in alphabet:
                if o != ops[i]:
                    new = [list(x) for x in cells]
                    new[c][i] = o
                    changes.append(rebuild(new))
    return swaps, changes


def _vector_pairs(genotypes: np.ndarray, n_choices: int) -> tuple[np.ndarray, ...] | None:
    """Row pairs (a, b) of every swap and every one-op change of a complete vector table, each unordered once.

    ``genotypes[r]`` is row r's choice vector; ``None`` unless the rows are
    exactly the n_choices ** n_positions vectors.
    """
    n_rows, n_pos = genotypes.shape
    if n_rows != n_choices**n_pos:
        return None
    place = n_choices ** np.arange(n_pos - 1, -1, -1, dtype=np.int64)
    code = genotypes @ place
    row_of_code = np.full(n_rows, -1, dtype=np.int64)
    row_of_code[code] = np.arange(n_rows)
    if (row_of_code < 0).any():
        return None
    rows = np.arange(n_rows)
    # swap positions i < j holding a < b: the partner holds b < a there, so each pair is seen once
    i, j = np.triu_indices(n_pos, 1)
    a, b = genotypes[:, i], genotypes[:, j]
    swapped = code[:, None] + (b - a) * (place[i] - place[j])
    keep = a < b
    swap_a = np.broadcast_to(rows[:, None], keep.shape)[keep]
    swap_b = row_of_code[swapped[keep]]
    # change position p from o to a larger o': seen once, from the smaller op
    ops = np.arange(n_choices)
    delta = ops[None, None, :] - genotypes[:, :, None]
    keep = delta > 0
    changed = code[:, None, None] + delta * place[None, :, None]
    change_a = np.broadcast_to(rows[:, None, None], keep.shape)[keep]
    change_b = row_of_code[changed[keep]]
    return swap_a, swap_b, change_a, change_b


def _table_pairs(bench: TableBenchmark, genotypes: list[Genotype]) -> tuple[np.ndarray, ...]:
    """Row pairs of every swap and one-op change whose both ends are in the table (any table; a loop over rows)."""
    found: tuple[set, set] = (set(), set())
    for r, g in enumerate(genotypes):
        for kind, partners in zip(found, swaps_and_changes(bench.space, g)):
            for p in partners:
                try:
                    q = bench.row_of(p)
                except NotInTable:
                    continue
                if q != r:  # an NB101 swap of two equivalent vertices is the same cell
                    kind.add((min(r, q), max(r, q)))
    out = []
    for kind in found:
        arr = np.array(sorted(kind), dtype=np.int64).reshape(-1, 2)
        out += [arr[:, 0], arr[:, 1]]
    return tuple(out)


def _abs_diffs(values: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.abs(values[a] - values[b])
    return d[np.isfinite(d)]


def compare_swaps_and_changes(swap: np.ndarray, change: np.ndarray) -> dict:
    """Medians, means and counts of both samples, Mann-Whitney U and KS (two-sided)."""
    out: dict[str, Any] = {}
    for name, d in (("swap", swap), ("change", change)):
        out[name] = {"n_pairs": int(d.size), "median": float(np.median(d)) if d.size else None,
                     "mean": float(d.mean()) if d.size else None}
    if swap.size and change.size:
        mw = stats.mannwhitneyu(swap, change, alternative="two-sided")
        ks = stats.ks_2samp(swap, change, alternative="two-sided")
        out["mann_whitney"] = {"u": float(mw.statistic), "p_value": float(mw.pvalue),
                               "prob_swap_greater": float(mw.statistic) / (swap.size * change.size)}
        out["ks"] = {"statistic": float(ks.statistic), "p_value": float(ks.pvalue)}
    else:
        out["mann_whitney"] = {"u": None, "p_value": None, "prob_swap_greater": None}
        out["ks"] = {"statistic": None, "p_value": None}
    out["definition"] = SWAP_DEFINITION
    return out


# ---------------------------------------------------------------- groups
def _group_stats(values: np.ndarray, group: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    size = np.bincount(group, minlength=n_groups)
    mean = np.bincount(group, weights=values, minlength=n_groups) / size
    sd = np.sqrt(np.bincount(group, weights=(values - mean[group]) ** 2, minlength=n_groups) / size)
    order = np.lexsort((values, group))  # by group, then value
    v = values[order]
    start = np.r_[0, np.cumsum(size)[:-1]]

    def quantile(q: float) -> np.ndarray:  # linear interpolation, as numpy's default
        pos = start + q * (size - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, start + size - 1)
        return v[lo] + (pos - lo) * (v[hi] - v[lo])

    return {"size": size, "mean": mean, "sd": sd, "min": v[start], "max": v[start + size - 1],
            "q25": quantile(0.25), "q75": quantile(0.75)}


def _counts_text(opspace: OpDistSpace, counts: Sequence[int]) -> str:
    try:
        return opspace.format(tuple(int(c) for c in counts))
    except InvalidArchitecture:  # a smaller NB101 cell: not a distribution of full cells, same text form
        return ",".join(f"{op}={int(c)}" for op, c in zip(opspace.ops, counts))


def _counts_dict(layout: CellLayout, counts: Sequence[int]) -> dict:
    """``{op: count}``; for several cell types ``{cell: {op: count}}``."""
    parts = [dict(zip(layout.ops, (int(c) for c in counts[k * layout.n_ops:(k + 1) * layout.n_ops])))
             for k in range(len(layout.cells))]
    return parts[0] if len(parts) == 1 else dict(zip(layout.cells, parts))


def _none_if_nan(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def summarise(values: np.ndarray, counts: np.ndarray, swap: np.ndarray, change: np.ndarray, *,
              layout: CellLayout, opspace: OpDistSpace, arch_text: Sequence[str] | Callable[[int], str],
              header: dict) -> OpDistAnalysis:
    """The analysis of architectures with finite ``values`` and their ``(N, L)`` op ``counts``."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ArchscapeError(f"{header.get('benchmark', 'the benchmark')} has no architecture with a value "
                             f"of {header.get('metric')} under noise {header.get('noise')!r}")
    group_counts, group = np.unique(np.asarray(counts, dtype=np.int64), axis=0, return_inverse=True)
    group = group.reshape(-1)
    n, g = values.size, len(group_counts)
    st = _group_stats(values, group, g)
    grand = values.mean()
    ss_total = float(((values - grand) ** 2).sum())
    ss_between = float((st["size"] * (st["mean"] - grand) ** 2).sum())
    ss_within = max(ss_total - ss_between, 0.0)
    eta = ss_between / ss_total if ss_total > 0 else float("nan")
    ms_within = ss_within / (n - g) if n > g else float("nan")
    epsilon = (ss_between - (g - 1) * ms_within) / ss_total if ss_total > 0 and n > g else float("nan")
    fitted = st["mean"][group]
    spearman = float(stats.spearmanr(values, fitted).statistic) if n > 2 and np.ptp(fitted) > 0 and np.ptp(values) > 0 \
        else float("nan")

    # ties: the first group in lexicographic order of counts; the optimum: the first row of highest value
    best = int(np.argmax(st["mean"]))
    worst = int(np.argmin(st["mean"]))
    opt = int(np.argmax(values))
    opt_group = int(group[opt])
    rank = 1 + int((st["mean"] > st["mean"][opt_group]).sum())
    texts = tuple(_counts_text(opspace, c) for c in group_counts)

    def describe(k: int) -> dict:
        return {"counts": _counts_dict(layout, group_counts[k]), "text": texts[k], "mean": float(st["mean"][k]),
                "max": float(st["max"][k]), "min": float(st["min"][k]), "size": int(st["size"][k])}

    top = np.argsort(-st["mean"], kind="stable")[:TOP]
    arch = arch_text(opt) if callable(arch_text) else arch_text[opt]
    summary = {
        **header,
        "n_architectures": int(n),
        "n_distributions": int(g),
        "n_count_vectors": int(layout.size),
        "n_singleton_groups": int((st["size"] == 1).sum()),
        "group_size": {"min": int(st["size"].min()), "median": float(np.median(st["size"])),
                       "max": int(st["size"].max())},
        "eta_squared": _none_if_nan(eta),
        "eta_squared_chance": _none_if_nan((g - 1) / (n - 1)) if n > 1 else None,
        "epsilon_squared": _none_if_nan(epsilon),
        "spearman_group_mean": _none_if_nan(spearman),
        "within_group_sd": _none_if_nan(np.sqrt(ms_within)),
        "total_sd": _none_if_nan(np.sqrt(ss_total / (n - 1))) if n > 1 else None,
        "best_distribution": describe(best),
        "worst_distribution": describe(worst),
        "global_optimum": {"arch": arch, "value": float(values[opt]), "distribution": texts[opt_group],
                           "distribution_mean": float(st["mean"][opt_group]), "distribution_size": int(st["size"][opt_group])},
        "optimum_distribution_rank": rank,
        "swap_vs_change": compare_swaps_and_changes(swap, change),
        "top_distributions": [{"text": texts[k], "mean": float(st["mean"][k]), "max": float(st["max"][k]),
                               "size": int(st["size"][k])} for k in top],
    }
    return OpDistAnalysis(summary, group_counts, st["size"], st["mean"], st["sd"], st["min"], st["max"], st["q25"], st["q75"],
                          opt_group, texts, swap, change)


# ---------------------------------------------------------------- the two modes
def analyze_opdist(
    bench: Any,
    *,
    noise: Noise = "mean",
    metric: str | None = None,
    seed: int = 0,
    fidelity: int | None = None,
    samples: int | None = None,
    per_distribution: int | None = None,
) -> OpDistAnalysis:
    """How much the op distribution explains ``metric`` (see the module docstring).

    Exhaustive over a table's rows unless ``samples`` or ``per_distribution``
    is given or the benchmark is not a table; then sampled.
    """
    start = time.perf_counter()
    bench = resolve_benchmark(bench)
    metric = _check_metric(bench, metric)
    fidelity = bench.check_fidelity(fidelity)
    noise = _check_noise(bench, noise, fidelity)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ArchscapeError(f"seed must be an integer >= 0; got {seed!r}")
    sampled = samples is not None or per_distribution is not None or not isinstance(bench, TableBenchmark)
    header = {"benchmark": bench.name, "space": bench.space.name, "metric": metric, "fidelity": fidelity,
              "noise": noise, "seed": int(seed), "mode": "sampled" if sampled else "exhaustive"}
    rng = np.random.default_rng(seed)
    if sampled:
        result = _sampled(bench, metric, noise, fidelity, rng, header,
                          DEFAULT_SAMPLES if samples is None else samples,
                          DEFAULT_PER_DISTRIBUTION if per_distribution is None else per_distribution)
    else:
        result = _exhaustive(bench, metric, noise, fidelity, rng, header)
    result.summary["seconds"] = time.perf_counter() - start
    return result


def _exhaustive(bench: TableBenchmark, metric: str, noise: Noise, fidelity: int | None, rng: np.random.Generator,
                header: dict) -> OpDistAnalysis:
    space = bench.space
    n = bench.size
    rows = np.arange(n)
    values = _table_values(bench, rows, metric, noise, fidelity, rng)
    genotypes = [bench.genotype_of(r) for r in range(n)]
    counts = space.encode_many(genotypes, "opcount").astype(np.int64)
    pairs = None
    if bench.covers_space and hasattr(space, "n_positions"):  # a complete vector table: whole-array pairs
        pairs = _vector_pairs(np.asarray(genotypes, dtype=np.int64).reshape(n, -1), len(space.ops))
    pair_method = "every pair in the complete table"
    if pairs is None:
        pairs = _table_pairs(bench, genotypes)
        pair_method = "pairs whose both architectures are in the table"
    swap = _abs_diffs(values, pairs[0], pairs[1])
    change = _abs_diffs(values, pairs[2], pairs[3])
    ok = np.isfinite(values)
    kept = np.flatnonzero(ok)
    header = {**header, "n_excluded": int(n - kept.size), "table_covers_space": bool(bench.covers_space),
              "pairs": pair_method}

    def arch_text(i: int) -> str:
        return space.format(genotypes[int(kept[i])])

    result = summarise(values[ok], counts[ok], swap, change, layout=layout_of(space), opspace=OpDistSpace(space),
                       arch_text=arch_text, header=header)
    return result


def _sampled(bench: Benchmark, metric: str, noise: Noise, fidelity: int | None, rng: np.random.Generator,
             header: dict, samples: int, per_distribution: int) -> OpDistAnalysis:
    for name, value in (("samples", samples), ("per_distribution", per_distribution)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ArchscapeError(f"{name} must be an integer >= 1; got {value!r}")
    if isinstance(bench, TableBenchmark) and not bench.covers_space:
        raise ArchscapeError(f"{bench.name} is a partial table (sampled architectures would be missing); "
                             f"analyse it exhaustively (without --samples/--per-distribution)")
    space = bench.space
    opspace = OpDistSpace(space)
    dists = [opspace.sample(rng) for _ in range(samples)]
    archs = [sample_architecture(space, d, rng) for d in dists for _ in range(per_distribution)]
    swap_of, change_of = [], []
    for g in archs:  # one random partner of each kind (cells whose slots all hold one op have no swap)
        swaps, changes = swaps_and_changes(space, g)
        swap_of.append(swaps[int(rng.integers(len(swaps)))] if swaps else None)
        change_of.append(changes[int(rng.integers(len(changes)))] if changes else None)
    values = _query_values(bench, archs, metric, noise, fidelity, rng)
    swap_partners = [p for p in swap_of if p is not None]
    change_partners = [p for p in change_of if p is not None]
    swap_values = _query_values(bench, swap_partners, metric, noise, fidelity, rng)
    change_values = _query_values(bench, change_partners, metric, noise, fidelity, rng)
    has_swap = np.array([p is not None for p in swap_of], dtype=bool)
    has_change = np.array([p is not None for p in change_of], dtype=bool)
    swap = np.abs(values[has_swap] - swap_values)
    change = np.abs(values[has_change] - change_values)
    counts = space.encode_many(archs, "opcount").astype(np.int64)
    ok = np.isfinite(values)
    kept = np.flatnonzero(ok)
    header = {**header, "samples": int(samples), "per_distribution": int(per_distribution),
              "n_excluded": int(len(archs) - kept.size),
              "pairs": "one random swap and one random one-op change partner per sampled architecture"}
    return summarise(values[ok], counts[ok], swap[np.isfinite(swap)], change[np.isfinite(change)],
                     layout=layout_of(space), opspace=opspace, arch_text=lambda i: space.format(archs[int(kept[i])]),
                     header=header)


# ---------------------------------------------------------------- text
def _num(x, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def _p_text(x) -> str:
    # a p-value below the smallest double prints as 0
    return "< 1e-300" if x == 0 else f"= {_num(x)}"


def summary_lines(s: dict) -> list[str]:
    """The readable summary of an analysis."""
    sampled = f" ({s['samples']} distributions drawn x {s['per_distribution']} architectures)" if s["mode"] == "sampled" else ""
    excluded = f", {s['n_excluded']:,} without a value left out" if s["n_excluded"] else ""
    best, opt, sv = s["best_distribution"], s["global_optimum"], s["swap_vs_change"]
    mw, ks = sv["mann_whitney"], sv["ks"]
    return [
        f"{s['benchmark']}, {s['metric']}, noise {s['noise']}, {s['mode']}{sampled}: {s['n_architectures']:,} "
        f"architectures in {s['n_distributions']:,} op distributions ({s['n_singleton_groups']} of one architecture"
        f"{excluded})",
        f"  eta^2 (between / total SS)    {_num(s['eta_squared'])}  (pure noise would give {_num(s['eta_squared_chance'])}; "
        f"epsilon^2 {_num(s['epsilon_squared'])})",
        f"  Spearman(value, group mean)   {_num(s['spearman_group_mean'])}",
        f"  sd within groups (pooled)     {_num(s['within_group_sd'])}  (total {_num(s['total_sd'])})",
        f"  best distribution             {best['text']}: mean {best['mean']:.4g}, max {best['max']:.4g}, "
        f"{best['size']} architecture(s)",
        f"  {'global optimum' if s['mode'] == 'exhaustive' else 'best sampled':<30}{opt['arch']} = {opt['value']:.4g}; its distribution {opt['distribution']} "
        f"ranks {s['optimum_distribution_rank']} of {s['n_distributions']} (mean {opt['distribution_mean']:.4g})",
        f"  |change| swap vs one-op change  median {_num(sv['swap']['median'])} vs {_num(sv['change']['median'])}, "
        f"mean {_num(sv['swap']['mean'])} vs {_num(sv['change']['mean'])} ({sv['swap']['n_pairs']:,} vs "
        f"{sv['change']['n_pairs']:,} pairs)",
        f"  Mann-Whitney p {_p_text(mw['p_value'])}, P(|swap| > |change|) = {_num(mw['prob_swap_greater'])}; "
        f"KS D = {_num(ks['statistic'])}, p {_p_text(ks['p_value'])}",
        "--json for all figures",
    ]


__all__ = [
    "DEFAULT_PER_DISTRIBUTION", "DEFAULT_SAMPLES", "NOISE_HELP", "OpDistAnalysis", "analyze_opdist",
    "compare_swaps_and_changes", "op_slots", "resolve_benchmark", "summarise", "swaps_and_changes", "summary_lines",
]
