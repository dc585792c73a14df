"""Sample-efficiency gain: how many fewer queries than random search an optimizer needs.

"Efficient Sampling for Predictor-Based NAS" (Mauch et al. 2020) measures a
search by the queries it needs to reach a target, against random search.

Targets (:func:`parse_target`), on the study's report metric (denoised):

* ``top-k:K``: one of the K best architectures of the table (K = 1: the
  global optimum);
* ``top:F%`` (or ``top:0.001``): one of the best ``ceil(F x N)``;
* ``value:V``: a report value of at least V.

A top target is the value of its K-th best architecture; architectures tied
with it count too, so ``k`` (the number of architectures meeting the target)
may exceed K on tables with repeated values (NAS-Bench-Macro copies results
between equivalent strings).

``N_alg`` of a trial is the number of queries until its incumbent (the best
evaluation by the objective it was told) first meets the target
(``hit="incumbent"``), or until it first *evaluates* an architecture that
does (``hit="evaluated"``; the same under mean noise, different under seed
noise, where the noisy incumbent may not be the best architecture seen).

Random search without replacement over N architectures of which k meet the
target needs ``(N + 1) / (k + 1)`` queries in expectation (the first of k
marked items in a random permutation).  That exact value is used on finite
tables; on a space too large to enumerate it is estimated by simulating
random search (``simulate_random_search``).

``gain = E[N_random search] / mean(N_alg)``.  A trial that does not meet the
target within its budget is *censored*: it is counted at its budget, so
``mean_queries`` is then a lower bound and ``gain`` an upper bound
(``censored`` says how many trials; nothing is dropped).  ``ci_low`` and
``ci_high`` are a percentile bootstrap over trials (``n_boot`` resamples,
seeded); where random search is simulated its trials are resampled too, so
the interval includes the simulation's error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from archscape.errors import ArchscapeError

HITS = ("incumbent", "evaluated")
#: a report value this close below a target still meets it (float storage of table values)
TOLERANCE = 1e-9
_TARGET = re.compile(r"^\s*(top-k|top|value)\s*:\s*([0-9.eE+-]+)\s*(%?)\s*$")


@dataclass(frozen=True)
class Target:
    """What a trial must reach: ``kind`` top-k | top | value, and its number (K, a fraction, or a value)."""

    kind: str
    amount: float

    @property
    def label(self) -> str:
        if self.kind == "top-k":
            return f"top-k:{int(self.amount)}"
        if self.kind == "top":
            return f"top:{self.amount * 100:g}%"
        return f"value:{self.amount:g}"


def parse_target(text: str) -> Target:
    """``top-k:1``, ``top:0.1%``, ``top:0.001`` or ``value:94.5``; one clear line otherwise."""
    m = _TARGET.match(str(text))
    if not m:
        raise ArchscapeError(f"unknown target {text!r}; accepted: top-k:K (e.g. top-k:1), top:F% (e.g. top:0.1%), value:V")
    kind, number, percent = m.group(1), m.group(2), m.group(3)
    try:
        amount = float(number)
    except ValueError:
        raise ArchscapeError(f"target {text!r}: {number!r} is not a number") from None
    if percent and kind != "top":
        raise ArchscapeError(f"target {text!r}: only top:F takes a percentage")
    if kind == "top-k":
        if amount < 1 or amount != int(amount):
            raise ArchscapeError(f"target {text!r}: K must be a whole number >= 1")
    elif kind == "top":
        amount = amount / 100 if percent else amount
        if not 0 < amount <= 1:
            raise ArchscapeError(f"target {text!r}: the fraction must be in (0, 1] (or (0, 100]%)")
    return Target(kind, amount)


def target_threshold(target: Target, values: np.ndarray) -> tuple[float, int]:
    """The report value that meets ``target`` on a table of ``values`` (NaN: not in the table), and k."""
    finite = np.sort(values[np.isfinite(values)])[::-1]
    n = finite.size
    if n == 0:
        raise ArchscapeError("the table has no values to set a target on")
    if target.kind == "value":
        threshold = float(target.amount)
    else:
        k = int(target.amount) if target.kind == "top-k" else math.ceil(target.amount * n)
        if k > n:
            raise ArchscapeError(f"target {target.label} asks for the top {k} of {n} architectures")
        threshold = float(finite[k - 1])
    return threshold, int((finite >= threshold - TOLERANCE).sum())


def random_search_expectation(n: int, k: int) -> float:
    """E[queries] of random search without replacement to find one of k marked among n: (n + 1) / (k + 1)."""
    if k < 1:
        return math.inf
    return (n + 1) / (k + 1)


def simulate_random_search(draw: Callable[[np.random.Generator, int], np.ndarray], threshold: float, *,
                           trials: int = 200, max_queries: int = 100_000, block: int = 1000,
                           seed: int = 0) -> tuple[float, int]:
    """Mean queries of random search to reach ``threshold`` where the space cannot be enumerated.

    ``draw(rng, n)`` returns the report values of ``n`` architectures sampled
    uniformly.  Returns the mean over ``trials`` (censored at ``max_queries``)
    and the number censored; :func:`simulated_queries` gives the trials.
    """
    counts, reached = simulated_queries(draw, threshold, trials=trials, max_queries=max_queries, block=block, seed=seed)
    return float(counts.mean()), int((~reached).sum())


def simulated_queries(draw: Callable[[np.random.Generator, int], np.ndarray], threshold: float, *,
                      trials: int = 200, max_queries: int = 100_000, block: int = 1000,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per simulated random-search trial: queries until ``threshold`` is met (or ``max_queries``), and whether it was."""
    rng = np.random.default_rng(seed)
    counts = np.zeros(trials, dtype=np.float64)
    reached = np.zeros(trials, dtype=bool)
    for t in range(trials):
        done = 0
        while done < max_queries:
            values = np.asarray(draw(rng, min(block, max_queries - done)), dtype=np.float64)
            hit = np.flatnonzero(values >= threshold - TOLERANCE)
            if hit.size:
                done += int(hit[0]) + 1
                reached[t] = True
                break
            done += values.size
        counts[t] = done
    return counts, reached


def hitting_queries(frame: pd.DataFrame, threshold: float, hit: str = "incumbent") -> pd.DataFrame:
    """Per trial (label, trial_index): queries until the target is met, the trial's length, and whether it was."""
    if hit not in HITS:
        raise ArchscapeError(f"unknown hit rule {hit!r}; accepted: {', '.join(HITS)}")
    rows = []
    for (label, trial), g in frame.groupby(["label", "trial_index"], sort=False):
        g = g.sort_values("k")
        report = g["report"].to_numpy(dtype=np.float64)
        if hit == "evaluated":
            met = report >= threshold - TOLERANCE
        else:
            objective = g["objective"].to_numpy(dtype=np.float64)
            best = np.fmax.accumulate(np.where(np.isfinite(objective), objective, -np.inf))
            # the incumbent's report: the report of the first evaluation reaching each running best
            first = np.array([np.flatnonzero(objective == b)[0] if np.isfinite(b) else -1 for b in best])
            incumbent = np.where(first >= 0, report[np.maximum(first, 0)], np.nan)
            met = incumbent >= threshold - TOLERANCE
        n = len(g)
        idx = np.flatnonzero(met)
        rows.append({"label": label, "trial_index": trial, "length": n,
                     "queries": int(idx[0]) + 1 if idx.size else n, "reached": bool(idx.size)})
    return pd.DataFrame(rows, columns=["label", "trial_index", "length", "queries", "reached"])


def bootstrap_ci(values: np.ndarray, expected: float, n_boot: int, seed: int, level: float = 0.95,
                 expected_trials: np.ndarray | None = None) -> tuple[float, float]:
    """Percentile bootstrap interval of ``expected / mean(values)`` over resampled trials.

    With ``expected_trials`` (the simulated random-search trials behind
    ``expected`` where the space cannot be enumerated), those are resampled
    too, so the interval carries the simulation's own error.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2 or n_boot < 1:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(n_boot, values.size))].mean(axis=1)
    if expected_trials is not None and len(expected_trials) > 1:
        sim = np.asarray(expected_trials, dtype=np.float64)
        expected = sim[rng.integers(0, sim.size, size=(n_boot, sim.size))].mean(axis=1)
    gains = expected / means
    alpha = (1 - level) / 2
    return float(np.quantile(gains, alpha)), float(np.quantile(gains, 1 - alpha))


#: random-search trials simulated for E[queries] where the space cannot be enumerated (the CLI's --sim-trials too)
SIM_TRIALS = 100


def gain_table(stores: Sequence[str | Path], targets: Iterable[str | Target] = ("top-k:1",), *, hit: str = "incumbent",
               n_boot: int = 2000, seed: int = 0, sim_trials: int = SIM_TRIALS) -> pd.DataFrame:
    """One row per study, optimizer and target (see the module docstring for the columns' meaning)."""
    from archscape.report.collect import load_studies

    targets = [t if isinstance(t, Target) else parse_target(t) for t in targets]
    if not targets:
        raise ArchscapeError("give at least one target, e.g. --target top-k:1")
    rows = []
    # One simulation per benchmark, metric, fidelity and value: several stores of one space share it.
    simulations: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    for study in load_studies(stores):
        values, draw = _report_values(study)
        frame = study.frame
        for target in targets:
            if values is not None:
                threshold, k = target_threshold(target, values)
                n = int(np.isfinite(values).sum())
                expected, rs_censored, rs_trials = random_search_expectation(n, k), 0, None
            else:
                if target.kind != "value":
                    raise ArchscapeError(f"{study.record.benchmark} cannot be enumerated: use value:V targets")
                threshold, n, k = float(target.amount), None, None
                key = (study.record.benchmark, study.record.info.get("report_metric"), study.record.info.get("fidelity"),
                       threshold)
                if key not in simulations:
                    simulations[key] = simulated_queries(draw, threshold, trials=sim_trials, seed=seed)
                rs_trials, reached = simulations[key]
                expected, rs_censored = float(rs_trials.mean()), int((~reached).sum())
            times = hitting_queries(frame, threshold, hit)
            for label in dict.fromkeys(times["label"]):
                mine = times[times["label"] == label]
                q = mine["queries"].to_numpy(dtype=np.float64)
                mean = float(q.mean()) if q.size else math.nan
                low, high = bootstrap_ci(q, expected, n_boot, seed, expected_trials=rs_trials)
                rows.append({
                    "study": study.key, "benchmark": study.record.benchmark, "space": study.record.info.get("space"),
                    "noise": study.record.config.get("noise"), "optimizer": label, "target": target.label,
                    "threshold": threshold, "n_architectures": n, "k": k,
                    "random_search_expected_queries": expected, "random_search_simulated": values is None,
                    "random_search_censored": rs_censored, "trials": int(q.size), "mean_queries": mean,
                    "median_queries": float(np.median(q)) if q.size else math.nan,
                    "gain": expected / mean if q.size else math.nan, "ci_low": low, "ci_high": high,
                    "censored": int((~mine["reached"]).sum()), "budget": int(mine["length"].max()) if q.size else 0,
                })
    return pd.DataFrame(rows)


def _report_values(study) -> tuple[np.ndarray | None, Callable | None]:
    """The table's denoised report column (finite tables), or a sampler of report values (otherwise)."""
    from archscape.benchmarks import load_benchmark
    from archscape.benchmarks.table import TableBenchmark

    name = study.record.benchmark
    if name.startswith("train:"):
        raise ArchscapeError(f"{study.store}: a gain needs a benchmark whose values are known; {name} trains networks")
    bench = load_benchmark(name)
    info = study.record.info
    metric, fidelity = info.get("report_metric"), info.get("fidelity")
    if isinstance(bench, TableBenchmark):
        return bench.values(metric, noise="mean", fidelity=fidelity), None
    space = bench.space

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        # query_many: one batched run where the benchmark has one (the nb301 surrogate)
        evaluations = bench.query_many([space.sample(rng) for _ in range(n)], noise="mean", fidelity=fidelity)
        return np.array([e.metrics[metric] for e in evaluations])

    return None, draw


def format_gain(table: pd.DataFrame, style: str = "text") -> str:
    """The table as aligned text or Markdown."""
    if style not in ("text", "markdown"):
        raise ArchscapeError(f"unknown table style {style!r}; accepted: text, markdown")
    head = ["study", "optimizer", "target", "k/N", "E[RS]", "mean queries", "gain [95% CI]", "censored"]

    def num(x, digits=1):
        return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"

    lines = []
    for r in table.itertuples(index=False):
        kn = f"{r.k}/{r.n_architectures:,}" if r.k is not None and not pd.isna(r.k) else "–"
        rs = num(r.random_search_expected_queries) + (" (sim.)" if r.random_search_simulated else "")
        gain = f"{num(r.gain, 2)} [{num(r.ci_low, 2)}, {num(r.ci_high, 2)}]" + (" (upper bound)" if r.censored else "")
        lines.append([r.study, r.optimizer, r.target, kn, rs, num(r.mean_queries), gain, f"{r.censored}/{r.trials}"])
    if style == "markdown":
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(c) + " |" for c in lines]
    else:
        widths = [max(len(h), *(len(c[i]) for c in lines)) if lines else len(h) for i, h in enumerate(head)]
        out = ["  ".join(h.ljust(w) for h, w in zip(head, widths)), "  ".join("-" * w for w in widths)]
        out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in lines]
    out.append("")
    out.append("gain = E[random search queries] / mean queries of the optimizer; censored trials (target not met "
               "within the budget) count at their budget, so their gain is an upper bound.")
    return "\n".join(out)


__all__ = [
    "HITS", "SIM_TRIALS", "Target", "bootstrap_ci", "format_gain", "gain_table", "hitting_queries", "parse_target",
    "random_search_expectation", "simulate_random_search", "simulated_queries", "target_threshold",
]
