"""How well predictors rank architectures they have not seen (``archscape predictors eval``).

For each repeat, a test set of ``test_size`` architectures and a disjoint
training set of ``max(train_sizes)`` are drawn; the training set for size
*n* is the first *n* of the latter (nested, so sizes differ by the data
added, not by a new draw).  Each predictor (and each encoding it reads) is
fitted on every training set and predicts the test set.  Sources:

* a table whose architectures can be listed (NB201, NAS-Bench-Macro, the
  NB101 subset): both sets are drawn without replacement from its rows with
  a finite value; training sizes that would leave fewer than
  :data:`MIN_TEST_SIZE` test architectures are left out (with a note), and
  the test set shrinks to what the largest training set leaves;
* any other benchmark (a surrogate such as NAS-Bench-301): distinct
  architectures from ``bench.space.sample``, valued by ``bench.query_many``
  (``query`` of each, or the benchmark's batched answer).

Training values come with the requested noise (``mean``, ``seed``: one
recorded seed drawn per architecture, or a seed number); the test truth is
always the mean over seeds, what a predictor is meant to estimate.

Measures per fit, on the test set:

* Kendall's tau (tau-b) and Spearman's rho between predicted mean and truth;
* top-k precision at 1 % and 10 %: with ``k = ceil(fraction * n_test)``,
  the share of the ``k`` architectures predicted best that are among the
  true top ``k`` (architectures tied with the k-th best truth count as top
  too; ties in the prediction are broken by the random test order).  Random
  guessing scores about ``fraction``;
* fit and predict seconds (predicting includes encoding the test set).

Every fit has its own generator, from (seed, predictor label, repeat,
training size) only, so adding a predictor or a size changes no other result.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archscape.benchmarks.base import Benchmark, check_noise
from archscape.errors import ArchscapeError, MissingExtra, UnsupportedOperation, unknown
from archscape.predictors import make_predictor, predictor_names
from archscape.run.seeding import label_key
from archscape.spaces.base import ENCODINGS, Genotype

#: the fewest test architectures a training size may leave in a table
MIN_TEST_SIZE = 20
#: the top fractions of the test set whose precision is measured
TOP_FRACTIONS = (0.01, 0.1)
#: the measures of one fit, in output order
MEASURES = ("kendall_tau", "spearman", "top_1pct", "top_10pct", "fit_s", "predict_s")
#: short column titles
MEASURE_TITLES = {"kendall_tau": "Kendall tau", "spearman": "Spearman", "top_1pct": "top-1% prec.",
                  "top_10pct": "top-10% prec.", "fit_s": "fit s", "predict_s": "predict s"}
#: every encoding name the command accepts: the spaces' and the graph predictor's
ALL_ENCODINGS = (*ENCODINGS, "graph")
DEFAULT_TRAIN_SIZES = (10, 20, 50, 100, 200, 500)


@dataclass(frozen=True)
class Entry:
    """One predictor configuration with one encoding."""

    spec: str  # as given: "gp" or "gp:backend=sklearn"
    name: str
    params: dict[str, Any]
    encoding: str

    @property
    def label(self) -> str:
        return f"{self.spec}/{self.encoding}"

    def make(self):
        params = dict(self.params)
        predictor = make_predictor(self.name, **params)
        if "encoding" in type(predictor)._parameter_constraints and "encoding" not in params:
            predictor = make_predictor(self.name, **params, encoding=self.encoding)
        return predictor


@dataclass
class PredictorEvaluation:
    """Per-fit records and the settings they were made with."""

    settings: dict[str, Any]
    entries: list[Entry]
    records: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[dict[str, Any]]:
        """Per entry and training size: mean, sd and count of each measure over the repeats."""
        out = []
        for entry in self.entries:
            for n in self.settings["train_sizes"]:
                rows = [r for r in self.records if r["label"] == entry.label and r["n_train"] == n]
                if not rows:
                    continue
                item: dict[str, Any] = {"predictor": entry.spec, "encoding": entry.encoding, "n_train": n,
                                        "n_test": rows[0]["n_test"]}
                for m in MEASURES:
                    v = np.array([r[m] for r in rows], dtype=np.float64)
                    v = v[np.isfinite(v)]
                    item[m] = {"mean": float(v.mean()) if v.size else None,
                               "sd": float(v.std(ddof=1)) if v.size > 1 else None, "n": int(v.size)}
                out.append(item)
        return out

    def to_json(self) -> dict[str, Any]:
        return {**self.settings, "notes": list(self.notes), "results": self.summary()}


# ---------------------------------------------------------------------- measures
def top_precision(pred: np.ndarray, truth: np.ndarray, fraction: float) -> float:
    """Share of the ``ceil(fraction * n)`` best predicted among the true top (ties with the boundary included)."""
    n = len(truth)
    k = max(1, math.ceil(fraction * n))
    threshold = np.sort(truth)[::-1][k - 1]
    chosen = np.argsort(-pred, kind="stable")[:k]
    return float(np.mean(truth[chosen] >= threshold))


def rank_measures(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    from scipy.stats import kendalltau, spearmanr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant prediction has no rank correlation: NaN
        tau = float(kendalltau(pred, truth).statistic)
        rho = float(spearmanr(pred, truth).statistic)
    out = {"kendall_tau": tau, "spearman": rho}
    for f in TOP_FRACTIONS:
        out[f"top_{round(f * 100)}pct"] = top_precision(pred, truth, f)
    return out


# ---------------------------------------------------------------------- parsing
def parse_spec(text: str) -> tuple[str, dict[str, Any]]:
    """``"gp:backend=sklearn,kernel=rbf"`` -> ``("gp", {...})``, the optimizer option syntax."""
    from archscape.run.config import parse_optimizer

    try:
        parsed = parse_optimizer(text)
    except ArchscapeError:
        raise ArchscapeError(f"bad predictor option in {text!r}; expected name:key=value,..., e.g. gp:backend=sklearn") from None
    if "label" in parsed:
        raise ArchscapeError(f"predictor {text!r}: 'label' is not a predictor parameter")
    if parsed["name"] not in predictor_names():
        raise unknown("predictor", parsed["name"], predictor_names())
    return parsed["name"], parsed["params"]


def parse_sizes(text: str | Sequence[int]) -> list[int]:
    """``"10,20,50"`` -> ``[10, 20, 50]`` (sorted, distinct, each at least 2)."""
    items = [s.strip() for s in text.split(",")] if isinstance(text, str) else [str(s) for s in text]
    sizes = []
    for s in items:
        if not s.isdigit():
            raise ArchscapeError(f"bad training-set size {s!r} in {text!r}; expected whole numbers >= 2 separated by commas, e.g. 10,20,50")
        sizes.append(int(s))
    if not sizes or min(sizes) < 2:
        raise ArchscapeError(f"training-set sizes must be at least 2; got {text!r}")
    return sorted(set(sizes))


def _warm_up(predictor, space) -> None:
    """Fit once on a few random architectures, so one-time start-up (imports, torch's first
    autograd pass) is not timed as part of the first repeat's fit."""
    rng = np.random.default_rng(0)
    genotypes = [space.sample(rng) for _ in range(max(predictor.min_points, 8))]
    predictor.fit(genotypes, np.arange(len(genotypes), dtype=np.float64))
    predictor.predict(genotypes[:2])


def _entries(bench: Benchmark, predictors: Sequence[str] | None, encodings: Sequence[str] | None,
             notes: list[str]) -> list[Entry]:
    """Every (predictor, encoding) pair to evaluate that the space supports; why others were left out goes to ``notes``."""
    for enc in encodings or ():
        if enc not in ALL_ENCODINGS:
            raise unknown("encoding", enc, ALL_ENCODINGS)
    explicit = bool(predictors)
    specs = list(predictors) if predictors else predictor_names()
    space = bench.space
    entries: list[Entry] = []
    for spec in specs:
        name, params = parse_spec(spec)
        probe = make_predictor(name, **params)
        if "encoding" in params:
            options = [params["encoding"]]
        elif "encoding" in type(probe)._parameter_constraints:
            options = list(space.encodings)
        else:  # a predictor that reads no space encoding (gnn: "graph")
            options = [getattr(probe, "encoding", "default")]
        if encodings:
            options = [e for e in options if e in encodings]
        for enc in options:
            entry = Entry(spec, name, params, enc)
            try:
                _warm_up(entry.make().setup(space, np.random.default_rng(0)), space)
            except MissingExtra as exc:
                if explicit:
                    raise
                notes.append(f"{spec} left out: {exc}")
                break
            except UnsupportedOperation as exc:
                notes.append(f"{entry.label} left out: {exc}")
                continue
            entries.append(entry)
    if not entries:
        asked = ", ".join(encodings) if encodings else "any encoding"
        raise ArchscapeError(
            f"no predictor to evaluate on {bench.name} (space {space.name}, encodings {', '.join(space.encodings)}) "
            f"with {asked}: " + ("; ".join(notes) or "none supports it")
        )
    return entries


# ---------------------------------------------------------------------- sources
class _TableSource:
    """Rows of an enumerable table with a finite truth."""

    def __init__(self, bench, metric: str, noise: Any) -> None:
        self.bench = bench
        self.metric = metric
        self.noise = noise
        self.space = bench.search_space()
        self.truth = bench.values(metric, noise="mean")
        self.pool = np.flatnonzero(np.isfinite(self.truth))
        self.fixed = None if noise in ("mean", "seed") else bench.values(metric, noise=noise)

    def draw(self, rng: np.random.Generator, n_train: int, n_test: int):
        rows = rng.choice(self.pool, size=n_train + n_test, replace=False)
        test, train = rows[:n_test], rows[n_test:]
        if self.noise == "mean":
            y = self.truth[train]
        elif self.noise == "seed":
            y = self.bench.query_rows(train, noise="seed", rng=rng, metrics=[self.metric])[self.metric]
        else:
            y = self.fixed[train]
        genotypes = [self.space.from_index(int(r)) for r in rows]
        return genotypes[n_test:], np.asarray(y, dtype=np.float64), genotypes[:n_test], self.truth[test]


class _SampledSource:
    """Distinct architectures sampled from the space, each queried (e.g. a surrogate benchmark)."""

    MAX_TRIES = 100

    def __init__(self, bench: Benchmark, metric: str, noise: Any) -> None:
        self.bench = bench
        self.metric = metric
        self.noise = noise

    def draw(self, rng: np.random.Generator, n_train: int, n_test: int):
        space = self.bench.space
        need = n_train + n_test
        seen: dict[Any, Genotype] = {}
        for _ in range(self.MAX_TRIES * need):
            g = space.canonical(space.sample(rng))
            seen.setdefault(space.key(g), g)
            if len(seen) == need:
                break
        else:
            raise ArchscapeError(f"could not draw {need} distinct architectures from {space.name}; use smaller sizes")
        genotypes = list(seen.values())
        test, train = genotypes[:n_test], genotypes[n_test:]

        def values(archs: list[Genotype], noise: Any) -> np.ndarray:
            # query_many: one query each by default, one batched run where the benchmark has one (nb301)
            answers = self.bench.query_many(archs, noise=noise, rng=rng)
            return np.array([float(e.metrics[self.metric]) for e in answers], dtype=np.float64)

        truth = values(test, "mean")
        y = values(train, self.noise)
        valued = np.isfinite(truth)  # a failed test architecture has nothing to rank against
        return train, y, [g for g, ok in zip(test, valued.tolist()) if ok], truth[valued]


# ---------------------------------------------------------------------- the evaluation
def evaluate_predictors(
    bench: str | Benchmark,
    *,
    predictors: Sequence[str] | None = None,
    encodings: Sequence[str] | None = None,
    train_sizes: str | Sequence[int] = DEFAULT_TRAIN_SIZES,
    repeats: int = 20,
    test_size: int = 1000,
    noise: Any = "mean",
    seed: int = 0,
    metric: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> PredictorEvaluation:
    """Fit every predictor/encoding on every training size, ``repeats`` times; see the module docstring."""
    from archscape.benchmarks import load_benchmark
    from archscape.benchmarks.table import TableBenchmark

    if isinstance(bench, str):
        bench = load_benchmark(bench)
    sizes = parse_sizes(train_sizes)
    if not isinstance(repeats, int) or repeats < 1:
        raise ArchscapeError(f"repeats must be at least 1; got {repeats!r}")
    if not isinstance(test_size, int) or test_size < MIN_TEST_SIZE:
        raise ArchscapeError(f"the test size must be at least {MIN_TEST_SIZE}; got {test_size!r}")
    noise = check_noise(noise)
    metric = bench.check_metric(metric or bench.objective)
    notes: list[str] = []
    enumerable = isinstance(bench, TableBenchmark) and bench.search_space().size is not None
    if enumerable:
        source: Any = _TableSource(bench, metric, noise)
        pool = len(source.pool)
        kept = [n for n in sizes if n + MIN_TEST_SIZE <= pool]
        if not kept:
            raise ArchscapeError(
                f"{bench.name} has {pool:,} architectures with a value; every training-set size leaves fewer than "
                f"{MIN_TEST_SIZE} to test on (largest size accepted: {pool - MIN_TEST_SIZE:,})"
            )
        if len(kept) < len(sizes):
            notes.append(f"training-set sizes {', '.join(map(str, sizes[len(kept):]))} left out: {bench.name} has only "
                         f"{pool:,} architectures with a value and each size must leave {MIN_TEST_SIZE} to test on")
        sizes = kept
        n_test = min(test_size, pool - sizes[-1])
        if n_test < test_size:
            notes.append(f"test set of {n_test} architectures (all the largest training set leaves of {pool:,})")
    else:
        source = _SampledSource(bench, metric, noise)
        n_test = test_size
    entries = _entries(bench, predictors, encodings, notes)
    fewest = max(type(e.make()).min_points for e in entries)
    if sizes[0] < fewest:
        raise ArchscapeError(f"training-set size {sizes[0]} is below the {fewest} points a predictor needs")
    settings = {
        "benchmark": bench.name, "space": bench.space.name, "metric": metric, "noise": noise, "truth": "mean",
        "seed": seed, "repeats": repeats, "train_sizes": sizes, "test_size": n_test,
        "source": "table" if enumerable else "sampled", "predictors": [e.label for e in entries],
    }
    result = PredictorEvaluation(settings, entries, notes=notes)
    started = time.perf_counter()
    for repeat in range(repeats):
        split_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(repeat,)))
        train_g, train_y, test_g, truth = source.draw(split_rng, sizes[-1], n_test)
        for entry in entries:
            for n in sizes:
                rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(label_key(entry.label), repeat, n)))
                predictor = entry.make().setup(bench.space, rng)
                t0 = time.perf_counter()
                predictor.fit(train_g[:n], train_y[:n])
                t1 = time.perf_counter()
                pred = predictor.predict(test_g).mean
                t2 = time.perf_counter()
                record = {"label": entry.label, "predictor": entry.spec, "encoding": entry.encoding, "n_train": n,
                          "repeat": repeat, "n_test": len(test_g), **rank_measures(pred, truth),
                          "fit_s": t1 - t0, "predict_s": t2 - t1}
                result.records.append(record)
        if progress is not None:
            progress(f"repeat {repeat + 1}/{repeats} done ({time.perf_counter() - started:.1f} s)")
    return result


def _cell(stat: dict, digits: int = 3) -> str:
    mean, sd = stat["mean"], stat["sd"]
    if mean is None or not math.isfinite(mean):
        return "n/a"
    return f"{mean:.{digits}f}" + (f" ± {sd:.{digits}f}" if sd is not None else "")


def summary_lines(result) -> list[str]:
    """The readable table: one line per predictor, encoding and training-set size."""
    s = result.settings
    lines = [f"{s['benchmark']}: {s['metric']}, training values noise {s['noise']}, truth the mean; "
             f"{s['test_size']} test architectures, {s['repeats']} repeats (mean ± sd)"]
    lines += [f"  note: {n}" for n in result.notes]
    rows = [("predictor", "encoding", "train", "Kendall tau", "Spearman", "top-1%", "top-10%", "fit s", "predict s")]
    for item in result.summary():
        rows.append((item["predictor"], item["encoding"], str(item["n_train"]), _cell(item["kendall_tau"]),
                     _cell(item["spearman"]), _cell(item["top_1pct"], 2), _cell(item["top_10pct"], 2),
                     f"{item['fit_s']['mean']:.3f}", f"{item['predict_s']['mean']:.3f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        lines.append("  " + "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return lines


__all__ = [
    "ALL_ENCODINGS", "DEFAULT_TRAIN_SIZES", "MEASURES", "MEASURE_TITLES", "MIN_TEST_SIZE", "Entry",
    "PredictorEvaluation", "evaluate_predictors", "parse_sizes", "parse_spec", "rank_measures", "top_precision", "summary_lines",
]
