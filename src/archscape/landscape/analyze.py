"""The exhaustive landscape analysis of a finite table under each noise mode.

:func:`analyze_landscape` is what ``archscape landscape BENCH`` runs for one
noise mode: the table's landscape (:func:`~archscape.landscape.table.finite_landscape`),
then local optima, basins, fitness-distance correlation and neutrality
(:mod:`~archscape.landscape.exhaustive`), random-walk autocorrelation
(:mod:`~archscape.landscape.walks`) and the local-optima network
(:mod:`~archscape.landscape.lon`), as one JSON-ready dict.
:func:`analyze_all_noise` repeats it for the mean over seeds and for each
recorded seed and returns one table, so the effect of training noise on every
figure reads in one place.

Seeding: ``seed`` drives the random walks and (when sampled) the LON kicks.
Every noise mode of one call uses the same seed, so differences between the
rows of the table come from the landscape, not from the walks.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


from archscape.benchmarks.base import Noise, check_noise
from archscape.benchmarks.table import TableBenchmark
from archscape.errors import ArchscapeError
from archscape.landscape.exhaustive import (
    DEFAULT_EPS,
    ExhaustiveResult,
    exhaustive_analysis,
)
from archscape.landscape.lon import LocalOptimaNetwork, local_optima_network
from archscape.landscape.table import FiniteLandscape, finite_landscape
from archscape.landscape.walks import WalkResult, autocorrelation

#: modules that may add figures to ``archscape landscape BENCH`` (see :func:`landscape_extras`)
EXTRA_MODULES = ["archscape.landscape.plots_noise"]

#: the accepted spellings of a noise mode for a landscape
NOISE_HELP = "mean (average over seeds), all (mean and every recorded seed), or a seed number 0, 1, ..."


@dataclass(frozen=True)
class LandscapeAnalysis:
    """One landscape's results: the arrays (for plots) and the JSON-ready :attr:`summary`."""

    label: str
    exhaustive: ExhaustiveResult
    walks: WalkResult
    lon: LocalOptimaNetwork
    summary: dict


# ---------------------------------------------------------------- inputs
def resolve_benchmark(bench: Any) -> TableBenchmark:
    """A benchmark object from a name or an object; an error unless it is a finite table."""
    if isinstance(bench, str):
        from archscape.benchmarks import load_benchmark

        bench = load_benchmark(bench)
    if not isinstance(bench, TableBenchmark):
        name = getattr(bench, "name", type(bench).__name__)
        raise ArchscapeError(f"{name} is not a tabular benchmark; exhaustive landscape analysis needs a finite table")
    if bench.search_space().size is None:
        raise ArchscapeError(f"{bench.name} is not enumerable; exhaustive landscape analysis needs a finite table")
    return bench


def parse_noise(noise: Any) -> Noise:
    """``"mean"``, ``"all"`` or a seed number (text accepted); ``"seed"`` has no fixed landscape."""
    if isinstance(noise, str) and noise.strip() == "all":
        return "all"
    if noise == "seed":
        raise ArchscapeError(f"noise 'seed' (a seed drawn per query) has no fixed landscape; accepted: {NOISE_HELP}")
    try:
        return check_noise(noise)
    except ArchscapeError:
        raise ArchscapeError(f"unknown noise mode {noise!r}; accepted: {NOISE_HELP}") from None


def noise_modes(bench: TableBenchmark, metric: str | None = None, fidelity: int | None = None) -> list[Noise]:
    """``"mean"`` then each recorded seed of ``metric`` (only the mean for a seed-independent metric)."""
    table = bench.tables[bench.check_fidelity(fidelity)]
    metric = bench.check_metric(metric or bench.objective, bench.check_fidelity(fidelity))
    n = table.values[metric].shape[1]
    return ["mean", *range(n)] if n > 1 else ["mean"]


def noise_label(noise: Noise) -> str:
    return "mean" if noise == "mean" else f"seed{noise}"


# ---------------------------------------------------------------- analysis
def analyze_finite(
    landscape: FiniteLandscape,
    *,
    seed: int = 0,
    eps: Sequence[float] = DEFAULT_EPS,
    neutral_tol: float = 0.01,
    tie_tol: float | None = None,
    max_lag: int = 20,
    n_walks: int = 200,
    walk_length: int = 1000,
    lon_distance: int = 2,
    lon_method: str = "auto",
    lon_samples: int = 100,
    arch_of=None,
    label: str = "",
    header: Mapping[str, Any] | None = None,
) -> LandscapeAnalysis:
    """Every figure of one finite landscape (``arch_of(row)`` names the optimum; default: its row)."""
    start = time.perf_counter()
    ex = exhaustive_analysis(landscape, eps=eps, neutral_tol=neutral_tol, tie_tol=tie_tol)
    walks = autocorrelation(ex.landscape, max_lag=max_lag, n_walks=n_walks, length=walk_length, seed=seed)
    lon = local_optima_network(ex, distance=lon_distance, method=lon_method, n_samples=lon_samples, seed=seed)
    f = ex.summary()
    w = walks.summary()
    row = ex.optimum_row
    arch = arch_of(row) if arch_of is not None else str(row)
    best = [dict(b, arch=arch_of(b["row"]) if arch_of is not None else str(b["row"])) for b in f["best_local_optima"]]
    summary = {
        **dict(header or {}),
        "n_rows": f["n_rows"],
        "n_excluded": f["n_excluded"],
        "n_rows_analysed": f["n_rows_analysed"],
        "global_optimum": {"arch": arch, "index": row, "value": ex.optimum_value},
        "n_global_optima": f["n_global_optima"],
        "n_local_optima": f["n_local_optima"],
        "n_strict_local_optima": f["n_strict_local_optima"],
        "n_plateau_local_optima": f["n_plateau_local_optima"],
        "local_optima_fraction": f["local_optima_fraction"],
        "basin_of_optimum_fraction": f["basin_of_optimum_fraction"],
        "basin_of_optimum_size": f["basin_of_optimum_size"],
        "within_eps": f["within_eps"],
        "fdc": f["fdc"],
        "fdc_spearman": f["fdc_spearman"],
        "autocorrelation_length": w["autocorrelation_length"],
        "autocorrelation_length_exact": w["autocorrelation_length_exact"],
        "neutrality": f["neutrality"],
        "basins": f["basins"],
        "distance": f["distance"],
        "mean_degree": f["mean_degree"],
        "lon": lon.summary(),
        "autocorrelation": w["autocorrelation"],
        "autocorrelation_exact": w["autocorrelation_exact"],
        "walks": w["walks"],
        "best_local_optima": best,
        "tie_rule": f["tie_rule"],
        "tie_tol": f["tie_tol"],
        "fdc_sign": f["fdc_sign"],
        "seed": seed,
        "seconds": time.perf_counter() - start,
    }
    return LandscapeAnalysis(label or landscape.name, ex, walks, lon, summary)


def landscape_analysis(
    bench: Any,
    noise: Noise = "mean",
    metric: str | None = None,
    seed: int = 0,
    *,
    fidelity: int | None = None,
    **options: Any,
) -> LandscapeAnalysis:
    """:func:`analyze_finite` on a benchmark's landscape (name or object) under one noise mode."""
    bench = resolve_benchmark(bench)
    noise = parse_noise(noise)
    if noise == "all":
        raise ArchscapeError("noise 'all' gives one analysis per mode: use analyze_all_noise or landscape_analyses")
    land = finite_landscape(bench, metric, noise=noise, fidelity=fidelity)
    metric = metric or bench.objective
    space = bench.space
    header = {
        "benchmark": bench.name,
        "metric": metric,
        "fidelity": fidelity if fidelity is not None else bench.default_fidelity,
        "noise": noise,
    }

    def arch_of(row: int) -> str:
        return space.format(bench.genotype_of(int(row)))

    return analyze_finite(land, seed=seed, arch_of=arch_of, label=noise_label(noise), header=header, **options)


def analyze_landscape(
    bench_name_or_obj: Any,
    noise: Noise = "mean",
    metric: str | None = None,
    seed: int = 0,
    **options: Any,
) -> dict:
    """The JSON-ready figures of one benchmark (name or object) under one noise mode.

    Keys include ``n_local_optima``, ``fdc``, ``autocorrelation_length``,
    ``global_optimum`` (``arch``, ``index``, ``value``),
    ``basin_of_optimum_fraction``, ``within_eps``, ``neutrality``,
    ``basins``, ``lon``, ``n_excluded`` and ``tie_rule``.  A
    :class:`FiniteLandscape` is accepted too (then the optimum is named by its row).
    """
    if isinstance(bench_name_or_obj, FiniteLandscape):
        return analyze_finite(bench_name_or_obj, seed=seed, **options).summary
    return landscape_analysis(bench_name_or_obj, noise, metric, seed, **options).summary


def landscape_analyses(
    bench: Any,
    noises: Noise | Iterable[Noise] = "all",
    metric: str | None = None,
    seed: int = 0,
    **options: Any,
) -> dict[str, LandscapeAnalysis]:
    """One analysis per noise mode (``"all"``: the mean and every recorded seed), keyed by label."""
    bench = resolve_benchmark(bench)
    if isinstance(noises, (str, int)):
        noises = parse_noise(noises)
        noises = noise_modes(bench, metric, options.get("fidelity")) if noises == "all" else [noises]
    out = {}
    for noise in noises:
        a = landscape_analysis(bench, noise, metric, seed, **options)
        out[a.label] = a
    return out


def analyze_all_noise(bench: Any, metric: str | None = None, seed: int = 0, **options: Any):
    """One pandas DataFrame: a row per noise mode (mean, seed0, seed1, ...), a column per scalar figure."""
    return summary_table({k: a.summary for k, a in landscape_analyses(bench, "all", metric, seed, **options).items()})


def landscape_extras(bench: TableBenchmark, **kwargs: Any) -> tuple[dict, list]:
    """Figures that other landscape modules add to the exhaustive analysis: ``(json_by_key, html_sections)``.

    A module listed in :data:`EXTRA_MODULES` that defines ``landscape_extra(bench, *, metric, fidelity,
    noise, seed, out_dir)`` returning ``(key, json_dict, html_sections)`` adds its figures to the JSON
    under ``key`` and its sections to ``index.html``.
    """
    data: dict = {}
    sections: list = []
    for name in EXTRA_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            continue
        hook = getattr(importlib.import_module(name), "landscape_extra", None)
        if hook is None:
            continue
        key, obj, secs = hook(bench, **kwargs)
        data[key] = obj
        sections.extend(secs or ())
    return data, sections


# ---------------------------------------------------------------- output helpers
_TEXT_KEYS = {"tie_rule", "fdc_sign", "definition"}


def flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Scalar figures of a summary as ``a.b`` columns (lists and explanatory texts left out)."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if key in _TEXT_KEYS or isinstance(value, (list, tuple)):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def summary_table(summaries: Mapping[str, Mapping[str, Any]]):
    """A DataFrame indexed by noise label from ``{label: summary}``."""
    import pandas as pd

    rows = {label: flatten(s) for label, s in summaries.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "noise_mode"
    return frame


__all__ = [
    "EXTRA_MODULES",
    "NOISE_HELP",
    "LandscapeAnalysis",
    "analyze_all_noise",
    "analyze_finite",
    "analyze_landscape",
    "flatten",
    "landscape_analyses",
    "landscape_analysis",
    "landscape_extras",
    "noise_label",
    "noise_modes",
    "parse_noise",
    "resolve_benchmark",
    "summary_table",
]
