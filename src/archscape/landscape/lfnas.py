"""Reproduce the ELA study of "Neural Network Design: Learning from Neural Architecture Search".

van Stein, Wang and Baeck (IEEE SSCI 2020) trained 1,000 random CNN
configurations on MNIST, Fashion-MNIST and CIFAR-10 (a broad space, and 1,000
more in a narrowed space) and published the tables.  Their ELA protocol, as in
the authors' ``analysis.R``:

* keep the 23 numeric design variables (``s_0..2``, ``filters_0/2/4``,
  ``k_0..5``, ``dropout_0..6``, ``lr``, ``l2``, ``dense_size_0..1``);
* map each linearly to [-5, 5] with the bounds of its space
  (:data:`BROAD_BOUNDS`, :data:`NARROW_BOUNDS`);
* objective ``y = perf`` (accuracy) *as given*, under flacco's convention that
  ``y`` is minimised.  (So the "best" points of ``disp`` and ``nbc`` are the
  worst networks; ``objective="error"`` uses ``1 - perf`` instead);
* 30 bootstrap samples of 800 of the 1,000 rows (drawn without replacement,
  as R's ``sample(N, 800)``), from one seeded generator;
* feature sets ela_distr, ela_meta, disp, nbc, ic.

:func:`ela_study` runs that; :func:`summary_table` gives mean +- sd per
feature and data set (:data:`PAPER_FEATURES` are the 20 features of the paper's
table, :data:`PAPER_TABLE` its published values); :func:`parameter_correlations`
the correlation of every design variable with ``perf`` per data set and how
those correlations agree between data sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archscape.errors import ArchscapeError, DataError, unknown

from archscape.spaces.cnn import BROAD_BOUNDS, NARROW_BOUNDS  # the design space's bounds live with the space

from .bbob import normalize
from .ela import LFNAS_SETS, calculate_features

SPACES = {"cnn-broad": BROAD_BOUNDS, "cnn-narrow": NARROW_BOUNDS}
#: columns of the published tables that are not ELA design variables
DROPPED = (
    "stack_0", "stack_1", "stack_2", "filters_1", "filters_3", "filters_5",
    "activation", "activ_dense", "max_pooling", "perf", "time",
)
#: registry names of the published tables: (data set, space) -> name
DATASETS = {
    ("mnist", "cnn-broad"): "lfnas-mnist",
    ("fashion", "cnn-broad"): "lfnas-fashion",
    ("cifar", "cnn-broad"): "lfnas-cifar",
    ("mnist", "cnn-narrow"): "lfnas-mnist-narrow",
    ("fashion", "cnn-narrow"): "lfnas-fashion-narrow",
    ("cifar", "cnn-narrow"): "lfnas-cifar-narrow",
}
LABELS = {"mnist": "MNIST", "fashion": "Fashion", "cifar": "CIFAR-10"}

#: the 20 features of the paper's appendix table (analysis.R drops costs,
#: ``mean_10|25``, medians, ``cond``, ``max_by_min``, ``coef.min/max``, peaks, ``quad_w_``)
PAPER_FEATURES = (
    "disp.diff_mean_02", "disp.diff_mean_05", "disp.ratio_mean_02", "disp.ratio_mean_05",
    "ela_distr.kurtosis", "ela_distr.skewness",
    "ic.eps_max", "ic.eps_ratio", "ic.eps_s", "ic.h_max", "ic.m0",
    "ela_meta.lin_simple.adj_r2", "ela_meta.lin_simple.intercept", "ela_meta.lin_w_interact.adj_r2",
    "nbc.dist_ratio.coeff_var", "nbc.nb_fitness.cor", "nbc.nn_nb.cor", "nbc.nn_nb.mean_ratio",
    "nbc.nn_nb.sd_ratio", "ela_meta.quad_simple.adj_r2",
)
#: the paper's published values (mean, sd) over its 30 bootstrap samples, broad space
PAPER_TABLE = {
    "disp.diff_mean_02": {"mnist": (0.0223, 0.0403), "fashion": (0.199, 0.0736), "cifar": (0.0499, 0.0459)},
    "disp.diff_mean_05": {"mnist": (0.0223, 0.0403), "fashion": (0.199, 0.0736), "cifar": (0.0499, 0.0459)},
    "disp.ratio_mean_02": {"mnist": (1.0, 0.00209), "fashion": (1.01, 0.00381), "cifar": (1.0, 0.00238)},
    "disp.ratio_mean_05": {"mnist": (1.0, 0.00209), "fashion": (1.01, 0.00381), "cifar": (1.0, 0.00238)},
    "ela_distr.kurtosis": {"mnist": (-1.87, 0.00648), "fashion": (-0.718, 0.0843), "cifar": (4.9, 0.258)},
    "ela_distr.skewness": {"mnist": (-0.0862, 0.0289), "fashion": (-0.87, 0.0396), "cifar": (2.24, 0.0404)},
    "ic.eps_max": {"mnist": (0.00323, 0.00127), "fashion": (0.00462, 0.000634), "cifar": (0.00247, 0.000431)},
    "ic.eps_ratio": {"mnist": (-1.36, 0.021), "fashion": (-1.73, 0.0282), "cifar": (-2.19, 0.0301)},
    "ic.eps_s": {"mnist": (-1.07, 0.00981), "fashion": (-1.18, 0.0134), "cifar": (-1.31, 0.0104)},
    "ic.h_max": {"mnist": (0.823, 0.0101), "fashion": (0.825, 0.00952), "cifar": (0.768, 0.0105)},
    "ic.m0": {"mnist": (0.541, 0.0135), "fashion": (0.599, 0.014), "cifar": (0.558, 0.00953)},
    "ela_meta.lin_simple.adj_r2": {"mnist": (0.436, 0.00781), "fashion": (0.383, 0.0118), "cifar": (0.472, 0.0117)},
    "ela_meta.lin_simple.intercept": {"mnist": (0.581, 0.00636), "fashion": (0.617, 0.00569), "cifar": (0.199, 0.00276)},
    "ela_meta.lin_w_interact.adj_r2": {"mnist": (0.327, 0.0202), "fashion": (0.314, 0.0216), "cifar": (0.566, 0.031)},
    "nbc.dist_ratio.coeff_var": {"mnist": (0.132, 0.00224), "fashion": (0.1, 0.00139), "cifar": (0.124, 0.00206)},
    "nbc.nb_fitness.cor": {"mnist": (-0.43, 0.0119), "fashion": (-0.461, 0.0108), "cifar": (-0.306, 0.00833)},
    "nbc.nn_nb.cor": {"mnist": (0.411, 0.0213), "fashion": (0.589, 0.0138), "cifar": (0.468, 0.0145)},
    "nbc.nn_nb.mean_ratio": {"mnist": (0.874, 0.00215), "fashion": (0.916, 0.00104), "cifar": (0.889, 0.00195)},
    "nbc.nn_nb.sd_ratio": {"mnist": (0.539, 0.0126), "fashion": (0.626, 0.0117), "cifar": (0.551, 0.0124)},
    "ela_meta.quad_simple.adj_r2": {"mnist": (0.486, 0.00733), "fashion": (0.497, 0.0112), "cifar": (0.488, 0.012)},
}


@dataclass(frozen=True)
class LfnasProblem:
    """One published table as an ELA sample: ``X`` in [-5, 5]^23 and ``y`` to minimise."""

    name: str
    space: str
    columns: tuple[str, ...]
    X: np.ndarray
    y: np.ndarray
    #: the raw design variables (same columns, before mapping)
    raw: np.ndarray
    perf: np.ndarray


def read_table(path: str | Path):
    """The published CSV as a pandas DataFrame; a one-line DataError when unreadable."""
    import pandas as pd

    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"{path} does not exist") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path} is not a readable CSV file ({exc})") from None
    return table


def design_columns(columns) -> list[str]:
    """The 23 design variables of a published table, in table order."""
    return [c for c in columns if c not in DROPPED]


def _bounds_for(column: str, bounds: dict) -> tuple[float, float]:
    for prefix, b in bounds.items():
        if column == prefix or (prefix.endswith("_") and column.startswith(prefix)):
            return b
    raise DataError(f"column {column!r} has no bounds in the space; accepted columns start with {', '.join(bounds)}")


def to_unit_box(raw: np.ndarray, columns, space: str = "cnn-broad") -> np.ndarray:
    """Map raw design values linearly to [-5, 5]: ``10 (x - low) / (high - low) - 5`` per column."""
    if space not in SPACES:
        raise unknown("CNN space", space, SPACES)
    bounds = SPACES[space]
    lo = np.array([_bounds_for(c, bounds)[0] for c in columns])
    hi = np.array([_bounds_for(c, bounds)[1] for c in columns])
    return 10.0 * (np.asarray(raw, dtype=float) - lo) / (hi - lo) - 5.0


def load_problem(
    source: str | Path | None = None,
    *,
    dataset: str | None = None,
    space: str = "cnn-broad",
    objective: str = "perf",
    rows: int | None = None,
) -> LfnasProblem:
    """A published table (``source`` a CSV path, or ``dataset`` mnist|fashion|cifar from the registry)."""
    from archscape.data import registry

    if space not in SPACES:
        raise unknown("CNN space", space, SPACES)
    if objective not in ("perf", "error"):
        raise unknown("objective", objective, ("perf", "error"))
    if source is None:
        if dataset is None:
            raise ArchscapeError("give a CSV file or a data set (mnist, fashion, cifar)")
        key = (dataset, space)
        if key not in DATASETS:
            raise unknown("Learning-from-NAS data set", dataset, sorted({d for d, _ in DATASETS}))
        source = registry.path(DATASETS[key])
        name = DATASETS[key]
    else:
        name = Path(source).stem
    table = read_table(source)
    if "perf" not in table.columns:
        raise DataError(f"{source} has no 'perf' column; is it a Learning-from-NAS results table?")
    cols = design_columns(table.columns)
    if len(cols) != 23:
        raise DataError(f"{source} has {len(cols)} design columns after dropping {', '.join(DROPPED)}; expected 23")
    if rows is not None:
        table = table.iloc[:rows]
    try:
        raw = table[cols].to_numpy(dtype=float)
        perf = table["perf"].to_numpy(dtype=float)
    except ValueError as exc:
        raise DataError(f"{source} has non-numeric design values ({exc})") from None
    if not np.all(np.isfinite(perf)):
        raise DataError(f"{source}: 'perf' has {int(np.sum(~np.isfinite(perf)))} missing or infinite values")
    X = to_unit_box(raw, cols, space)
    y = perf if objective == "perf" else 1.0 - perf
    return LfnasProblem(name, space, tuple(cols), X, y, raw, perf)


def bootstrap_indices(n: int, size: int = 800, reps: int = 30, seed: int = 0) -> np.ndarray:
    """(reps, size) row indices: each row ``size`` distinct rows of ``n`` (R's ``sample(N, 800)``)."""
    if not 1 <= size <= n:
        raise ArchscapeError(f"bootstrap size must be between 1 and the {n} rows; got {size}")
    if reps < 1:
        raise ArchscapeError(f"bootstrap repetitions must be >= 1; got {reps}")
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(n, size=size, replace=False) for _ in range(reps)])


def bootstrap_features(
    problem: LfnasProblem,
    *,
    size: int = 800,
    reps: int = 30,
    seed: int = 0,
    sets=LFNAS_SETS,
    normalize_y: bool = False,
    legacy_adj_r2: bool = False,
) -> tuple[list[str], np.ndarray]:
    """Feature names and a (reps, n_features) array, one row per bootstrap sample.

    Bootstrap sample ``r`` uses ``seed + r`` for the random features (ic).
    ``normalize_y`` maps each sample's ``y`` to [0, 1] first (for the BBOB
    comparison, see :func:`archscape.landscape.bbob.normalize`).
    ``legacy_adj_r2`` uses flacco's adjusted R^2 of 2020, which the paper's
    table reports (see :func:`archscape.landscape.ela.meta.ela_meta`).

    The box is the data's own hull widened to [-5, 5]: a few published rows lie
    slightly outside the stated space bounds (the ELA sets used need no box).
    """
    idx = bootstrap_indices(len(problem.y), size, reps, seed)
    lb = np.minimum(-5.0, problem.X.min(axis=0))
    ub = np.maximum(5.0, problem.X.max(axis=0))
    rows = []
    names: list[str] | None = None
    options = {"ela_meta": {"legacy_adj_r2": True}} if legacy_adj_r2 and "ela_meta" in sets else None
    for r, take in enumerate(idx):
        y = problem.y[take]
        if normalize_y:
            y = normalize(y)
        f = calculate_features(problem.X[take], y, sets=sets, lower_bound=lb, upper_bound=ub, seed=seed + r,
                               options=options)
        if names is None:
            names = list(f)
        rows.append([f[k] for k in names])
    return names, np.array(rows)


def ela_study(
    datasets=("mnist", "fashion", "cifar"),
    space: str = "cnn-broad",
    *,
    size: int = 800,
    reps: int = 30,
    seed: int = 0,
    objective: str = "perf",
    sets=LFNAS_SETS,
    legacy_adj_r2: bool = False,
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Bootstrap features for each data set: ``{dataset: (names, values)}``."""
    out = {}
    for ds in datasets:
        problem = load_problem(dataset=ds, space=space, objective=objective)
        out[ds] = bootstrap_features(problem, size=size, reps=reps, seed=seed, sets=sets, legacy_adj_r2=legacy_adj_r2)
    return out


def summary_table(results: dict[str, tuple[list[str], np.ndarray]], features=None) -> list[dict]:
    """Rows ``{"feature", <dataset>: (mean, sd), ...}`` (sd with ddof=1, as R's ``sd``)."""
    datasets = list(results)
    names = results[datasets[0]][0]
    features = list(names) if features is None else [f for f in features if f in names]
    rows = []
    for f in features:
        row: dict = {"feature": f}
        for ds in datasets:
            ns, vals = results[ds]
            col = vals[:, ns.index(f)]
            sd = float(np.std(col, ddof=1)) if len(col) > 1 else float("nan")
            row[ds] = (float(np.mean(col)), sd)
        rows.append(row)
    return rows


def format_table(rows: list[dict], datasets, paper: bool = False) -> str:
    """A Markdown table of :func:`summary_table` rows (``paper``: add the published value beside each)."""
    head = ["feature"]
    for ds in datasets:
        head.append(LABELS.get(ds, ds))
        if paper:
            head.append(f"{LABELS.get(ds, ds)} (paper)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["feature"]]
        for ds in datasets:
            m, s = row[ds]
            cells.append(f"{m:.3g} ± {s:.3g}")
            if paper:
                p = PAPER_TABLE.get(row["feature"], {}).get(ds)
                cells.append(f"{p[0]:.3g} ± {p[1]:.3g}" if p else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parameter_correlations(datasets=("mnist", "fashion", "cifar"), space: str = "cnn-broad", method: str = "spearman") -> dict:
    """Correlation of each design variable with ``perf`` per data set, and their agreement.

    Returns ``{"columns", "datasets", "correlation": (n_vars, n_sets) array,
    "agreement": (n_sets, n_sets) array}``, where ``agreement`` is the Pearson
    correlation, across the 23 variables, of two data sets' correlation vectors
    (1: the variables matter in the same way on both data sets), and
    ``sign_agreement`` the share of variables whose correlation has the same sign.
    ``method`` is ``"spearman"`` (rank, the default) or ``"pearson"``.
    """
    from scipy import stats

    if method not in ("spearman", "pearson"):
        raise unknown("correlation method", method, ("spearman", "pearson"))
    cols = None
    corr = []
    for ds in datasets:
        p = load_problem(dataset=ds, space=space)
        cols = cols or p.columns
        c = []
        for j in range(p.raw.shape[1]):
            x = p.raw[:, j]
            if np.ptp(x) == 0:
                c.append(float("nan"))
                continue
            r = stats.spearmanr(x, p.perf)[0] if method == "spearman" else stats.pearsonr(x, p.perf)[0]
            c.append(float(r))
        corr.append(c)
    C = np.array(corr).T
    k = C.shape[1]
    agree = np.ones((k, k))
    sign = np.ones((k, k))
    for a in range(k):
        for b in range(k):
            ok = np.isfinite(C[:, a]) & np.isfinite(C[:, b])
            agree[a, b] = np.corrcoef(C[ok, a], C[ok, b])[0, 1]
            sign[a, b] = float(np.mean(np.sign(C[ok, a]) == np.sign(C[ok, b])))
    return {"columns": list(cols), "datasets": list(datasets), "method": method,
            "correlation": C, "agreement": agree, "sign_agreement": sign}


def bbob_comparison(
    problems: dict[str, LfnasProblem],
    *,
    size: int = 800,
    reps: int = 30,
    seed: int = 0,
    instances: int = 5,
    features=PAPER_FEATURES,
    k: int = 5,
    reference=None,
    progress=None,
) -> dict:
    """Where each NAS problem falls among the 24 BBOB functions.

    The NAS bootstrap samples and BBOB samples of the same dimension (23) and
    size are both taken with ``y`` mapped to [0, 1] per sample, so that
    features that depend on the scale of ``y`` compare.  Returns
    ``{"reference", "nas", "nearest", "knn", "clustering"}``: the BBOB
    reference, the NAS feature rows, the five nearest functions per problem,
    the k-NN votes over the bootstrap rows, and the Ward clustering.
    """
    from . import bbob

    dims = {p.X.shape[1] for p in problems.values()}
    if len(dims) != 1:
        raise ArchscapeError("the NAS problems to compare must have the same dimension")
    if reference is None:
        reference = bbob.bbob_reference(dim=dims.pop(), n=size, instances=instances, seed=seed, progress=progress)
    nas = {label: bootstrap_features(p, size=size, reps=reps, seed=seed, normalize_y=True) for label, p in problems.items()}
    nearest = {label: bbob.nearest_functions(reference, *nas[label], features=features) for label in nas}
    knn = {}
    for label, (names, values) in nas.items():
        calls = bbob.knn_classify(reference, names, values, features=features, k=k)
        counts = np.bincount([c["fid"] for c in calls], minlength=25)
        knn[label] = {int(f): float(c / len(calls)) for f, c in enumerate(counts) if c}
    clustering = bbob.cluster(reference, {LABELS.get(k, k): v for k, v in nas.items()}, features=features)
    return {"reference": reference, "nas": nas, "nearest": nearest, "knn": knn, "clustering": clustering, "k": k}


def plot_violins(results: dict[str, tuple[list[str], np.ndarray]], path: str | Path, features=PAPER_FEATURES) -> Path:
    """One violin per data set for each feature (as the paper's figure), to a PNG file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from archscape.report.figures import save_figure

    datasets = list(results)
    names = results[datasets[0]][0]
    features = [f for f in features if f in names]
    cols = 5
    rows = -(-len(features) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, f in zip(axes.flat, features):
        data = [results[ds][1][:, results[ds][0].index(f)] for ds in datasets]
        finite = [d[np.isfinite(d)] for d in data]
        if all(len(d) > 1 and np.ptp(d) > 0 for d in finite):
            ax.violinplot(finite, showmedians=True)
        for j, d in enumerate(finite, start=1):
            ax.scatter(np.full(len(d), j) + np.linspace(-0.12, 0.12, len(d)), d, s=4, color="black", alpha=0.5)
        ax.set_xticks(range(1, len(datasets) + 1), [LABELS.get(ds, ds) for ds in datasets], fontsize=8)
        ax.set_title(f.replace("ela_meta.", "").replace("ela_", ""), fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(features):]:
        ax.axis("off")
    fig.tight_layout()
    path = save_figure(fig, path, ("png",), dpi=100)[0]
    plt.close(fig)
    return path
