"""Where does a NAS landscape fall among the 24 BBOB functions?

:func:`bbob_reference` computes ELA features of the 24 noiseless BBOB functions
(via ``ioh``), several instances each, on uniform random samples of the same
dimension and size as the NAS problem.  Features are then compared on a common
scale: each is standardised with the mean and standard deviation over the BBOB
rows (features that are not finite or constant there are dropped), and
distances are Euclidean in that space.

* :func:`nearest_functions`: the BBOB functions whose median feature vector
  (over instances) is nearest to a NAS problem's median vector, with distances;
* :func:`knn_classify` / :func:`knn_loo`: a k-nearest-neighbour classifier over
  the BBOB instances (which function is this landscape?), and its leave-one-out
  check on BBOB itself;
* :func:`cluster`: hierarchical clustering (Ward, scipy) of the function
  medians together with the NAS problems, as in the paper's ``clustering.R``;
* :func:`plot_map` and :func:`plot_dendrogram`: an MDS (or PCA) map and a
  dendrogram as PNG files.

BBOB functions are minimised, as is ``y`` of every ELA feature.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archscape.errors import ArchscapeError, MissingExtra

from .ela import LFNAS_SETS, calculate_features

FUNCTIONS = tuple(range(1, 25))
#: BBOB function groups (Hansen et al.)
GROUPS = {
    "separable": range(1, 6),
    "low/moderate conditioning": range(6, 10),
    "high conditioning, unimodal": range(10, 15),
    "multimodal, adequate structure": range(15, 20),
    "multimodal, weak structure": range(20, 25),
}
NAMES = {
    1: "Sphere", 2: "Ellipsoid", 3: "Rastrigin", 4: "Bueche-Rastrigin", 5: "Linear slope",
    6: "Attractive sector", 7: "Step ellipsoid", 8: "Rosenbrock", 9: "Rosenbrock rotated",
    10: "Ellipsoid rotated", 11: "Discus", 12: "Bent cigar", 13: "Sharp ridge", 14: "Different powers",
    15: "Rastrigin rotated", 16: "Weierstrass", 17: "Schaffers F7", 18: "Schaffers F7 ill-cond.",
    19: "Griewank-Rosenbrock", 20: "Schwefel", 21: "Gallagher 101", 22: "Gallagher 21",
    23: "Katsuura", 24: "Lunacek bi-Rastrigin",
}


def group_of(fid: int) -> str:
    return next(g for g, r in GROUPS.items() if fid in r)


def _ioh():
    try:
        import ioh
    except ImportError:
        raise MissingExtra("the BBOB comparison needs the package 'ioh'; pip install ioh") from None
    return ioh


def bbob_sample(fid: int, instance: int, dim: int, n: int, seed: int = 0, X: np.ndarray | None = None):
    """``(X, y)``: ``n`` uniform points in [-5, 5]^dim and the values of BBOB ``fid`` instance ``instance``."""
    if fid not in FUNCTIONS:
        raise ArchscapeError(f"BBOB function ids are 1..24; got {fid}")
    if dim < 2 or n < 10:
        raise ArchscapeError(f"BBOB samples need dim >= 2 and n >= 10; got dim={dim}, n={n}")
    problem = _ioh().get_problem(int(fid), int(instance), int(dim))
    if X is None:
        rng = np.random.default_rng([seed, fid, instance, dim, n])
        X = rng.uniform(-5.0, 5.0, size=(n, dim))
    y = np.asarray(problem(X.tolist()), dtype=float)
    return X, y


@dataclass
class BBOBReference:
    """ELA features of BBOB instances: one row of ``values`` per (function, instance)."""

    dim: int
    n: int
    seed: int
    names: list[str]
    fids: np.ndarray
    instances: np.ndarray
    values: np.ndarray
    #: whether y was mapped to [0, 1] per sample before the features
    normalize_y: bool = True

    def columns(self, features: Iterable[str] | None = None) -> list[str]:
        """The features (of ``features``, default all) that are finite and vary over the BBOB rows."""
        wanted = list(self.names) if features is None else [f for f in features if f in self.names]
        out = []
        for f in wanted:
            col = self.values[:, self.names.index(f)]
            if np.all(np.isfinite(col)) and np.std(col) > 0:
                out.append(f)
        if not out:
            raise ArchscapeError("no feature is finite and varies over the BBOB rows; compute more sets or instances")
        return out

    def scaler(self, features=None) -> tuple[list[str], np.ndarray, np.ndarray]:
        cols = self.columns(features)
        idx = [self.names.index(f) for f in cols]
        V = self.values[:, idx]
        return cols, V.mean(axis=0), V.std(axis=0, ddof=1)

    def scaled(self, features=None) -> tuple[list[str], np.ndarray]:
        cols, mu, sd = self.scaler(features)
        idx = [self.names.index(f) for f in cols]
        return cols, (self.values[:, idx] - mu) / sd

    def medians(self, features=None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Per-function median of the scaled features: (columns, fids, (n_functions, p))."""
        cols, Z = self.scaled(features)
        fids = np.unique(self.fids)
        return cols, fids, np.stack([np.median(Z[self.fids == f], axis=0) for f in fids])

    def to_rows(self) -> list[dict]:
        return [
            {"fid": int(f), "instance": int(i), **dict(zip(self.names, map(float, v)))}
            for f, i, v in zip(self.fids, self.instances, self.values)
        ]


def bbob_reference(
    dim: int,
    n: int,
    instances: int | Sequence[int] = 5,
    functions: Iterable[int] = FUNCTIONS,
    sets=LFNAS_SETS,
    seed: int = 0,
    progress=None,
    normalize_y: bool = True,
) -> BBOBReference:
    """ELA features of BBOB ``functions`` x ``instances`` (an int k means instances 1..k).

    ``normalize_y`` (default) maps each sample's ``y`` to [0, 1] before the
    features (see :func:`normalize`), so that the instances' arbitrary offsets
    and scales of ``f`` do not decide the comparison.
    """
    inst = list(range(1, int(instances) + 1)) if np.isscalar(instances) else [int(i) for i in instances]
    if not inst or min(inst) < 1:
        raise ArchscapeError(f"BBOB instances must be >= 1; got {instances!r}")
    functions = [int(f) for f in functions]
    rows, fids, ids = [], [], []
    names: list[str] | None = None
    for f in functions:
        for i in inst:
            X, y = bbob_sample(f, i, dim, n, seed)
            if normalize_y:
                y = normalize(y)
            feats = calculate_features(X, y, sets=sets, seed=seed)
            if names is None:
                names = list(feats)
            rows.append([feats[k] for k in names])
            fids.append(f)
            ids.append(i)
            if progress is not None:
                progress(f, i)
    return BBOBReference(dim, n, seed, names or [], np.array(fids), np.array(ids), np.array(rows, dtype=float),
                         normalize_y=normalize_y)


def normalize(y: np.ndarray) -> np.ndarray:
    """``(y - min) / (max - min)``: ELA features that depend on the scale of ``y`` become comparable."""
    y = np.asarray(y, dtype=float)
    span = y.max() - y.min()
    return (y - y.min()) / span if span > 0 else np.zeros_like(y)


def _as_matrix(ref: BBOBReference, names: Sequence[str], values, features) -> tuple[list[str], np.ndarray]:
    """Scale NAS feature rows ``values`` (with columns ``names``) like the BBOB rows."""
    cols, mu, sd = ref.scaler(features)
    missing = [c for c in cols if c not in names]
    if missing:
        raise ArchscapeError(f"the NAS features lack {', '.join(missing[:5])}; compute the same feature sets as the BBOB reference")
    V = np.atleast_2d(np.asarray(values, dtype=float))
    V = V[:, [list(names).index(c) for c in cols]]
    return cols, (V - mu) / sd


def nearest_functions(ref: BBOBReference, names, values, features=None, top: int = 5) -> list[dict]:
    """BBOB functions nearest to the median of the NAS rows ``values``: ``[{fid, name, distance}]``."""
    cols, Z = _as_matrix(ref, names, values, features)
    target = np.nanmedian(Z, axis=0)
    _, fids, M = ref.medians(cols)
    d = np.sqrt(np.nansum((M - target) ** 2, axis=1))
    order = np.argsort(d, kind="stable")[:top]
    return [{"fid": int(fids[j]), "name": NAMES[int(fids[j])], "group": group_of(int(fids[j])), "distance": float(d[j])} for j in order]


def knn_classify(ref: BBOBReference, names, values, features=None, k: int = 5) -> list[dict]:
    """Per NAS row: the k nearest BBOB instances' majority function and the vote shares."""
    cols, Z = _as_matrix(ref, names, values, features)
    _, R = ref.scaled(cols)
    out = []
    for z in Z:
        d = np.sqrt(np.nansum((R - z) ** 2, axis=1))
        near = np.argsort(d, kind="stable")[:k]
        votes = np.bincount(ref.fids[near], minlength=25)
        best = int(np.argmax(votes))  # ties: the smaller function id
        out.append({"fid": best, "name": NAMES[best], "votes": {int(f): int(v) for f, v in enumerate(votes) if v},
                    "nearest": [(int(ref.fids[j]), int(ref.instances[j]), float(d[j])) for j in near]})
    return out


def knn_loo(ref: BBOBReference, features=None, k: int = 1) -> dict:
    """Leave-one-out k-NN over the BBOB instances: predicted function per row and accuracy per function."""
    cols, R = ref.scaled(features)
    D = np.sqrt(((R[:, None, :] - R[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(D, np.inf)
    pred = np.empty(len(R), dtype=int)
    for r in range(len(R)):
        near = np.argsort(D[r], kind="stable")[:k]
        pred[r] = int(np.argmax(np.bincount(ref.fids[near], minlength=25)))
    per = {int(f): float(np.mean(pred[ref.fids == f] == f)) for f in np.unique(ref.fids)}
    return {"features": cols, "predicted": pred, "accuracy": float(np.mean(pred == ref.fids)), "per_function": per}


def cluster(ref: BBOBReference, nas: dict[str, tuple[Sequence[str], np.ndarray]] | None = None, features=None,
            method: str = "ward") -> dict:
    """Hierarchical clustering of the BBOB function medians and the NAS medians (scipy ``linkage``)."""
    from scipy.cluster.hierarchy import linkage

    cols, fids, M = ref.medians(features)
    labels = [f"f{f}" for f in fids]
    rows = [M]
    for label, (names, values) in (nas or {}).items():
        _, Z = _as_matrix(ref, names, values, cols)
        rows.append(np.nanmedian(Z, axis=0)[None, :])
        labels.append(label)
    P = np.vstack(rows)
    return {"labels": labels, "nas_labels": list(nas or {}), "features": cols, "points": P,
            "linkage": linkage(P, method=method)}


def embed(points: np.ndarray, method: str = "mds", seed: int = 0) -> np.ndarray:
    """2-D coordinates of ``points`` by metric MDS (seeded) or PCA."""
    if method == "pca":
        C = points - points.mean(axis=0)
        _, _, vt = np.linalg.svd(C, full_matrices=False)
        return C @ vt[:2].T
    if method != "mds":
        raise ArchscapeError(f"unknown map method {method!r}; accepted: mds, pca")
    import inspect
    import warnings

    from sklearn.manifold import MDS

    params = inspect.signature(MDS).parameters
    kw = {"n_components": 2, "random_state": seed, "n_init": 4}
    if "metric_mds" in params:  # scikit-learn >= 1.8
        kw.update(metric_mds=True, metric="euclidean", init="random")
    else:
        kw.update(metric=True, dissimilarity="euclidean")
    if "normalized_stress" in params:
        kw["normalized_stress"] = "auto"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        mds = MDS(**kw)
        return mds.fit_transform(points)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_map(ref: BBOBReference, nas: dict[str, tuple[Sequence[str], np.ndarray]] | None, path: str | Path,
             features=None, method: str = "mds", seed: int = 0, title: str | None = None) -> Path:
    """A PNG map: every BBOB instance (coloured by group, labelled by function) and each NAS problem's rows."""
    from archscape.report.figures import save_figure

    cols, R = ref.scaled(features)
    blocks = [R]
    nas = nas or {}
    for names, values in nas.values():
        blocks.append(_as_matrix(ref, names, values, cols)[1])
    P = np.nan_to_num(np.vstack(blocks))
    xy = embed(P, method, seed)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 6.5))
    colors = plt.get_cmap("tab10")
    m = len(R)
    for g, (gname, rng) in enumerate(GROUPS.items()):
        sel = np.isin(ref.fids, list(rng))
        ax.scatter(xy[:m][sel, 0], xy[:m][sel, 1], s=14, color=colors(g), alpha=0.6, label=f"BBOB {gname}")
    for f in np.unique(ref.fids):
        c = xy[:m][ref.fids == f].mean(axis=0)
        ax.annotate(f"f{f}", c, fontsize=8, ha="center", va="center", weight="bold")
    start = m
    markers = "*PXD^v"
    for j, (label, _) in enumerate(nas.items()):
        cnt = len(blocks[j + 1])
        pts = xy[start : start + cnt]
        ax.scatter(pts[:, 0], pts[:, 1], s=60, marker=markers[j % len(markers)], color=colors(5 + j % 5),
                   edgecolor="black", linewidth=0.5, label=label)
        start += cnt
    ax.set_title(title or f"ELA features, BBOB d={ref.dim} n={ref.n} ({method.upper()}, {len(cols)} features)")
    ax.legend(fontsize=7, loc="best")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    path = save_figure(fig, path, ("png",), dpi=110)[0]
    plt.close(fig)
    return path


def plot_dendrogram(clustering: dict, path: str | Path, title: str | None = None) -> Path:
    """A PNG dendrogram of :func:`cluster`'s result."""
    from scipy.cluster.hierarchy import dendrogram

    from archscape.report.figures import save_figure

    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 5))
    dendrogram(clustering["linkage"], labels=clustering["labels"], ax=ax, leaf_font_size=9)
    nas = set(clustering.get("nas_labels", ()))
    for t in ax.get_xticklabels():
        if t.get_text() in nas:
            t.set_color("crimson")
            t.set_fontweight("bold")
    ax.set_title(title or "Ward clustering of BBOB function medians and NAS problems")
    fig.tight_layout()
    path = save_figure(fig, path, ("png",), dpi=110)[0]
    plt.close(fig)
    return path
