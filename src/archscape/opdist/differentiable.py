"""Differentiable search on the NAS-Bench-201 cell: DARTS, and DARTS over an operation distribution.

Both methods train an :class:`~archscape.train.supernet.NB201SuperNet` (the
NB201 skeleton, ``C`` channels, ``N`` cells a stage, every edge a mixture of
the five NB201 operations, one architecture shared by every cell) and
alternate two steps per batch, as DARTS does: an **architecture step** on a
batch of the validation split, then a **weight step** (SGD, momentum 0.9,
cosine learning rate, gradient clipping 5) on a batch of the train split.
The architecture optimiser is Adam (betas 0.5, 0.999, weight decay 1e-3).
Defaults are sized for a CPU: 4 epochs, the first a warm-up of weight steps
only (an untrained supernet's gradients favour the parameter-free ops, which
then stay ahead), weight learning rate 0.05, architecture learning rate 0.03
(DARTS' 3e-4 assumes ~20,000 steps; a CPU run makes ~100).

**DARTS** (:func:`darts_search`, Liu et al., ICLR 2019).  Logits ``alpha``
``[6, 5]`` (one row per edge, initialised ``1e-3 * N(0, 1)``); every edge
mixes its ops with ``softmax(alpha[e])``.  First order by default: the
architecture gradient is that of the validation loss at the current weights.
``second_order=True`` is the unrolled approximation: the gradient at the
weights after one virtual SGD step ``w' = w - lr * (momentum * buf + grad +
wd * w)``, minus ``lr`` times the Hessian-vector product, which is taken by
central finite differences at ``w +- eps * dL_val/dw'`` (``eps = 0.01 / ||dL_val/dw'||``);
the weights and the batch-norm statistics are restored afterwards.  The cell
is the argmax of each row (``none`` included, as NB201's one-shot baselines
derive it).

**Distribution DARTS** (:func:`distribution_search`, after Wan et al., WACV
2022).  One logit vector ``theta`` (5 values, initialised 0: the uniform
ratio); ``p = softmax(theta)`` is the op ratio of the cell, shared by all six
edges, so a cell is six independent draws from ``p`` and its probability
depends only on its op counts.  The objective is ``E_{cell ~ p}[L_val]``;
four ways to train ``theta`` (``estimator``):

* ``expected`` (default): the relaxed *expected* cell.  Every edge mixes the
  five ops by ``p`` itself (DARTS' relaxation with its six rows tied into
  one), in both steps; the gradient is exact for that surrogate, with no
  sampling noise.  Its bias is DARTS' (the mixture's loss is not the mean
  loss of the cells).  Chosen because every step trains every op of every
  edge, so within the few epochs a CPU run affords the shared weights learn
  at all.  Measured with the defaults (2,000 MNIST images, 4 epochs, C=8,
  N=1, seeds 0-2): its supernet ended at a training loss of 0.18-0.21
  (93-94 % on the validation batches) and the sampled cells scored 87.7 +-
  1.1 % on NB201 CIFAR-10; the sampled estimators below (one op per edge a
  step) ended at 1.85-2.04 (23-34 %; chance is 2.30 and 10 %), and on so
  untrained a supernet their gradients favour the parameter-free ops
  (``avg_pool`` 0.28-0.50, ``none`` or ``skip`` next; cells at 73.1 +- 11.3 %
  with ``gumbel-st`` and 83.5 +- 0.3 % with ``reinforce``).
* ``gumbel-st``: straight-through Gumbel-softmax, one hard cell a step
  (GDAS's estimator, Dong & Yang 2019).  Each edge draws ``argmax(theta +
  g_e)`` (Gumbel noise ``g_e``: an exact sample of ``p``) and only that op
  runs (5x cheaper); the backward pass uses ``softmax((theta + g_e) / tau)``,
  ``tau`` annealed linearly from 10 to 0.1 over the epochs.  The weights are
  trained on exactly the cells ``p`` describes, but the gradient is biased,
  and ``none`` (an output of zeros) never gets a direct gradient, so it gains
  whenever the other ops are pushed down.  Meant for long (GPU) runs, where
  the shared weights have time to learn from one sampled cell a step.
* ``gumbel-soft``: relaxed samples per edge (``softmax((theta + g_e) / tau)``
  weights all five ops), as costly as DARTS, biased too.
* ``reinforce``: the score function with a moving-average baseline (decay
  0.9): ``(L - b) * d log p(cell) / d theta`` with ``d log p(cell) / d theta
  = counts - 6 p`` (only the op counts of the cell enter, the paper's point).
  Unbiased and cheap (no backward pass through the network) but noisy, and
  it ranks cells by the shared weights, which favour the parameter-free
  ops early.

The weight step trains the shared weights on the same kind of cell (the
mixture by ``p``, a hard sample, or a detached relaxed one).  The final
cell: counts ``counts_from_ratio(p, 6, method=ratio_method)`` (``round``
default: largest remainders, deterministic) placed on the edges uniformly at
random (``sample_architecture``), both from a generator of the run's seed.

**Scoring** (:func:`score_cell`): the mean validation accuracy (over the
recorded seeds) of the found cell in NAS-Bench-201 on CIFAR-10, CIFAR-100 and
ImageNet16-120 (how one-shot methods report NB201), the percentage of the
15,625 cells below it, and the mean over every placement of its op counts
(the value of its distribution, in the paper's sense).  ``retrain_epochs``
trains the cell from scratch with the project's :class:`Trainer`.

**Arbitrary size** (``large_cell_nodes``): a cell of ``n`` nodes (every pair
``i < j`` an edge) whose ops are ``counts_from_ratio(ratio, n(n-1)/2)``
placed uniformly at random; the ratio is ``p`` for the distribution method
and the op ratio of the derived cell (counts / 6) for DARTS.  It is trained
with the :class:`Trainer` on the search's data set.

**Reproducibility.**  A run executes inside ``torch.random.fork_rng`` with
torch seeded by ``seed`` (weights and ``alpha`` initialisation), the trainer's
deterministic mode and thread setting; batch orders come from a CPU
``torch.Generator`` seeded ``seed``, the architecture samples from another
seeded from ``(seed, 3)``, the final cell and the large cell from numpy
generators of ``SeedSequence(seed, spawn_key=(tag,))``.  On the CPU the same
seed and thread count give the same cell and numbers; the caller's random
state is left as it was.  The data split is fixed by ``data_seed`` (0) for
every search seed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from itertools import permutations
from typing import Any

import numpy as np

from archscape.errors import ArchscapeError
from archscape.spaces.distribution import RATIO_METHODS, counts_from_ratio, sample_architecture

METHODS = ("darts", "distribution")
ESTIMATORS = ("gumbel-st", "gumbel-soft", "reinforce", "expected")
DATASETS = ("mnist", "fashion-mnist", "cifar10", "cifar100")
#: result key -> the NB201 table that scores it
SCORE_TABLES = {"cifar10": "nb201-cifar10", "cifar100": "nb201-cifar100", "imagenet16": "nb201-imagenet16"}
N_EDGES, N_OPS = 6, 5
#: the largest cell of ``large_cell_nodes`` (supernet.MAX_NODES; not imported, that module needs torch)
MAX_CELL_NODES = 16
#: DARTS' finite-difference step of the unrolled gradient: eps = UNROLL_EPS / ||dL_val/dw'||
UNROLL_EPS = 0.01

# spawn keys of the seed's random streams (documented above)
_TAG_FINAL, _TAG_LARGE, _TAG_ARCH = 1, 2, 3


def _space():
    from archscape.spaces import get_space

    return get_space("nb201")


# ------------------------------------------------------------------ settings
@dataclass(frozen=True)
class SearchConfig:
    """Settings of one search (the seed is an argument of the search functions)."""

    dataset: str = "mnist"
    train_subset: int | None = 2000
    val_subset: int | None = 1000
    test_subset: int | None = 1000
    #: seed of the train/validation split and the subsets, the same for every search seed
    data_seed: int = 0
    epochs: int = 4
    batch_size: int = 64
    #: supernet (and retrained network) width and cells per stage
    channels: int = 8
    cells: int = 1
    # ---- weights (DARTS' SGD; lr the trainer's 0.05 rather than DARTS' 0.025: few epochs)
    lr: float = 0.05
    lr_min: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    # ---- architecture.  DARTS' 3e-4 is tuned for ~20,000 steps (50 epochs of 25,000 images);
    # a CPU run makes ~100 (3 epochs of 31 batches), and Adam moves a logit by about lr a step,
    # so logits could not move by O(1) with less than ~0.01.
    arch_lr: float = 0.03
    arch_weight_decay: float = 1e-3
    #: epochs of weight steps only before architecture steps begin: an untrained supernet's
    #: gradients mostly favour the parameter-free ops, which then stay ahead
    warmup_epochs: int = 1
    second_order: bool = False
    estimator: str = "expected"
    tau_max: float = 10.0
    tau_min: float = 0.1
    baseline_decay: float = 0.9
    #: how the distribution's ratio becomes op counts (``round`` or ``multinomial``)
    ratio_method: str = "round"
    # ---- after the search
    retrain_epochs: int = 0
    large_cell_nodes: int | None = None
    large_cell_epochs: int = 2
    device: str = "auto"
    #: torch CPU threads during the run (None: leave torch's setting); CPU numbers depend on it
    threads: int | None = None
    deterministic: bool = True

    def check(self, method: str | None = None) -> SearchConfig:
        """Raise one line naming a bad setting; returns ``self``."""
        def bad(key: str, accepted: str) -> ArchscapeError:
            return ArchscapeError(f"bad search setting {key}={getattr(self, key)!r}; accepted: {accepted}")

        def is_int(v) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        if method is not None and method not in METHODS:
            raise ArchscapeError(f"unknown search method {method!r}; accepted: {', '.join(METHODS)}")
        from archscape.errors import UnknownName
        from archscape.train.datasets import canonical_name

        try:
            known = canonical_name(self.dataset) in DATASETS
        except UnknownName:
            known = False
        if not known:
            raise ArchscapeError(f"unknown data set {self.dataset!r} for the search; accepted: {', '.join(DATASETS)}")
        for key, low in (("epochs", 1), ("batch_size", 2), ("channels", 1), ("cells", 0), ("retrain_epochs", 0),
                         ("large_cell_epochs", 1), ("warmup_epochs", 0), ("data_seed", 0)):
            v = getattr(self, key)
            if not is_int(v) or v < low:
                raise bad(key, f"an integer >= {low}")
        for key in ("train_subset", "val_subset"):
            v = getattr(self, key)
            if v is not None and (not is_int(v) or v < 2):
                raise bad(key, "a count of images >= 2 (the weight steps use train, the architecture steps val)")
        if self.test_subset is not None and (not is_int(self.test_subset) or self.test_subset < 0):
            raise bad("test_subset", "a count of images >= 0")
        if self.warmup_epochs >= self.epochs:
            raise bad("warmup_epochs", f"fewer than the {self.epochs} epochs (else nothing is searched)")
        for key in ("lr", "arch_lr", "tau_max", "tau_min", "grad_clip"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise bad(key, "a number > 0")
        if not 0 <= self.lr_min <= self.lr:
            raise bad("lr_min", f"a number in [0, lr={self.lr}]")
        if not 0 <= self.momentum < 1:
            raise bad("momentum", "a number in [0, 1)")
        for key in ("weight_decay", "arch_weight_decay"):
            if not getattr(self, key) >= 0:
                raise bad(key, "a number >= 0")
        if self.tau_min > self.tau_max:
            raise bad("tau_min", f"a number <= tau_max={self.tau_max}")
        if not 0 <= self.baseline_decay < 1:
            raise bad("baseline_decay", "a number in [0, 1)")
        if self.estimator not in ESTIMATORS:
            raise bad("estimator", ", ".join(ESTIMATORS))
        if self.ratio_method not in RATIO_METHODS:
            raise bad("ratio_method", ", ".join(RATIO_METHODS))
        if self.large_cell_nodes is not None and (not is_int(self.large_cell_nodes)
                                                  or not 2 <= self.large_cell_nodes <= MAX_CELL_NODES):
            raise bad("large_cell_nodes", f"an integer in 2..{MAX_CELL_NODES}")
        if self.threads is not None and not (is_int(self.threads) and self.threads >= 1):
            raise bad("threads", "an integer >= 1 or None")
        if method == "distribution" and self.second_order:
            raise ArchscapeError("second-order (unrolled) gradients are DARTS'; the distribution method is first order")
        from archscape.train.trainer import resolve_device

        resolve_device(self.device)
        return self

    def tau(self, epoch: int) -> float:
        """Gumbel temperature of ``epoch`` (0-based): linear from ``tau_max`` to ``tau_min``."""
        if self.epochs == 1:
            return float(self.tau_max)
        return float(self.tau_max - (self.tau_max - self.tau_min) * epoch / (self.epochs - 1))


@dataclass(frozen=True)
class SearchResult:
    """One search: the found cell, its table values, how the architecture moved."""

    method: str
    seed: int
    genotype: tuple[int, ...]
    arch: str
    #: mean val_acc of the cell in each NB201 table (cifar10, cifar100, imagenet16), %
    scores: dict[str, float]
    #: % of the 15,625 cells with a lower value, per table
    percentiles: dict[str, float]
    #: op counts of the cell (none, skip, conv1x1, conv3x3, avgpool)
    counts: tuple[int, ...]
    #: mean value over every placement of ``counts`` on the six edges, per table
    counts_scores: dict[str, float]
    #: wall seconds of the search (supernet built and trained; no data loading, scoring or retraining)
    search_time: float
    #: final architecture probabilities: DARTS [6][5] softmax(alpha); distribution [1][5] the ratio
    probabilities: tuple[tuple[float, ...], ...]
    #: the distribution method's learned ratio (None for DARTS)
    ratio: tuple[float, ...] | None
    #: per epoch (0 = before training): losses, accuracies, temperature and the probabilities
    history: tuple[dict, ...]
    settings: dict
    device: str
    retrain: dict | None = None
    large_cell: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["genotype"] = list(self.genotype)
        return out


# ------------------------------------------------------------------ the public API
def darts_search(config: SearchConfig | None = None, *, seed: int = 0, data=None,
                 progress: Callable[[str], None] | None = None, **settings: Any) -> SearchResult:
    """DARTS on the NB201 cell (see the module docstring); ``settings`` override ``config``'s fields."""
    return search("darts", config, seed=seed, data=data, progress=progress, **settings)


def distribution_search(config: SearchConfig | None = None, *, seed: int = 0, data=None,
                        progress: Callable[[str], None] | None = None, **settings: Any) -> SearchResult:
    """DARTS over one operation distribution shared by all edges (see the module docstring)."""
    return search("distribution", config, seed=seed, data=data, progress=progress, **settings)


def load_search_data(config: SearchConfig):
    """The data set of ``config`` (train for weights, val for the architecture, test for retraining)."""
    from archscape.train.datasets import load_dataset

    return load_dataset(config.dataset, train_subset=config.train_subset, val_subset=config.val_subset,
                        test_subset=config.test_subset, seed=config.data_seed)


def search(method: str, config: SearchConfig | None = None, *, seed: int = 0, data=None,
           progress: Callable[[str], None] | None = None, **settings: Any) -> SearchResult:
    """One search by ``method`` (``darts`` or ``distribution``), scored, optionally retrained and grown."""
    cfg = config or SearchConfig()
    try:
        cfg = replace(cfg, **settings) if settings else cfg
    except TypeError as exc:
        raise ArchscapeError(f"unknown search setting: {exc}") from None
    cfg = cfg.check(method)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ArchscapeError(f"a search seed is an integer >= 0; got {seed!r}")
    seed = int(seed)
    if data is None:
        data = load_search_data(cfg)
    if len(data.val) < 2:
        raise ArchscapeError(f"{data.name}: the architecture steps need a validation split of >= 2 images; got {len(data.val)}")
    run = _run_search(method, cfg, data, seed, progress)
    space = _space()
    genotype = run["genotype"]
    counts = tuple(int(c) for c in np.bincount(np.asarray(genotype), minlength=N_OPS))
    context = cell_context(genotype)
    result = SearchResult(
        method=method, seed=seed, genotype=genotype, arch=space.format(genotype), scores=score_cell(genotype),
        percentiles=context["percentiles"], counts=counts, counts_scores=context["counts_scores"],
        search_time=run["search_time"], probabilities=run["probabilities"], ratio=run["ratio"],
        history=tuple(run["history"]), settings=_settings(method, cfg), device=run["device"],
    )
    if cfg.retrain_epochs > 0:
        if progress:
            progress(f"seed {seed}: retraining {result.arch} for {cfg.retrain_epochs} epochs")
        result = replace(result, retrain=retrain_cell(genotype, data, cfg, seed=seed))
    if cfg.large_cell_nodes is not None:
        ratio = run["ratio"] if run["ratio"] is not None else tuple(c / N_EDGES for c in counts)
        if progress:
            progress(f"seed {seed}: training a {cfg.large_cell_nodes}-node cell for {cfg.large_cell_epochs} epochs")
        result = replace(result, large_cell=train_large_cell(ratio, cfg.large_cell_nodes, data, cfg, seed=seed))
    return result


def run_seeds(method: str, config: SearchConfig | None = None, seeds: Sequence[int] = (0,), *, data=None,
              progress: Callable[[str], None] | None = None, on_result: Callable[[SearchResult], None] | None = None,
              **settings: Any) -> list[SearchResult]:
    """One search a seed, on one data set loaded once."""
    cfg = (replace(config or SearchConfig(), **settings) if settings else (config or SearchConfig())).check(method)
    seeds = check_seeds(seeds)
    data = data if data is not None else load_search_data(cfg)
    out = []
    for s in seeds:
        r = search(method, cfg, seed=s, data=data, progress=progress)
        out.append(r)
        if on_result:
            on_result(r)
    return out


def check_seeds(seeds: Sequence[int] | str) -> tuple[int, ...]:
    """Seeds as a tuple of distinct ints >= 0 (a string: comma-separated), or one line saying what is wrong."""
    text = seeds if isinstance(seeds, str) else None
    try:
        values = [int(s) for s in text.split(",")] if text is not None else [int(s) for s in seeds]
        if text is None and any(isinstance(s, bool) or int(s) != s for s in seeds):
            raise ValueError
    except (TypeError, ValueError):
        raise ArchscapeError(f"seeds are comma-separated integers >= 0, e.g. 0,1,2; got {seeds!r}") from None
    if not values or any(v < 0 for v in values) or len(set(values)) != len(values):
        raise ArchscapeError(f"seeds are distinct integers >= 0, at least one, e.g. 0,1,2; got {seeds!r}")
    return tuple(values)


def summarize(results: Sequence[SearchResult]) -> dict[str, Any]:
    """Mean and sample standard deviation over the runs (sd None for a single run)."""
    def stat(values) -> dict[str, float | None]:
        v = np.asarray(list(values), dtype=np.float64)
        return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else None}

    out: dict[str, Any] = {"n": len(results)}
    if not results:
        return out
    for key in SCORE_TABLES:
        out[key] = stat(r.scores[key] for r in results)
        out[f"{key}_counts_mean"] = stat(r.counts_scores[key] for r in results)
    out["search_time"] = stat(r.search_time for r in results)
    if all(r.retrain for r in results):
        out["retrain_val_acc"] = stat(r.retrain["val_acc"] for r in results)
    if all(r.large_cell for r in results):
        out["large_cell_val_acc"] = stat(r.large_cell["val_acc"] for r in results)
    return out


# ------------------------------------------------------------------ scoring
@lru_cache(maxsize=None)
def _bench(name: str):
    from archscape.benchmarks import load_benchmark

    return load_benchmark(name)


@lru_cache(maxsize=None)
def _column(name: str) -> np.ndarray:
    bench = _bench(name)
    return np.asarray(bench.query_rows(np.arange(bench.size), noise="mean", metrics=["val_acc"])["val_acc"], dtype=np.float64)


def score_cell(genotype: Sequence[int]) -> dict[str, float]:
    """Mean (over the recorded seeds) validation accuracy of an NB201 cell on the three tables."""
    g = _space().as_genotype(tuple(genotype))
    return {key: float(_bench(name).query(g, noise="mean").metrics["val_acc"]) for key, name in SCORE_TABLES.items()}


def placements(counts: Sequence[int]) -> list[tuple[int, ...]]:
    """Every NB201 cell with these op counts (at most 6! = 720)."""
    multiset = np.repeat(np.arange(N_OPS), np.asarray(counts, dtype=np.int64))
    if multiset.size != N_EDGES:
        raise ArchscapeError(f"NB201 op counts must sum to {N_EDGES}; got {tuple(counts)}")
    return sorted(set(permutations(multiset.tolist())))


def cell_context(genotype: Sequence[int]) -> dict[str, dict[str, float]]:
    """Where the cell stands: % of cells below it, and the mean over every placement of its op counts."""
    space = _space()
    g = space.as_genotype(tuple(genotype))
    counts = np.bincount(np.asarray(g), minlength=N_OPS)
    rows = np.asarray([space.index(c) for c in placements(counts)])
    pct, mean = {}, {}
    for key, name in SCORE_TABLES.items():
        col = _column(name)
        pct[key] = float(100.0 * np.mean(col < col[space.index(g)]))
        mean[key] = float(col[rows].mean())
    return {"percentiles": pct, "counts_scores": mean}


# ------------------------------------------------------------------ retraining and larger cells
def _train_config(cfg: SearchConfig, epochs: int):
    from archscape.train.trainer import TrainConfig

    return TrainConfig(epochs=epochs, batch_size=cfg.batch_size, device=cfg.device, threads=cfg.threads,
                       deterministic=cfg.deterministic)


def _train_summary(result) -> dict[str, Any]:
    return {"val_acc": result.val_acc, "test_acc": result.test_acc, "train_acc": result.train_acc,
            "params": result.params, "flops": result.flops, "epochs": result.epochs, "train_time": result.train_time,
            "curve": list(result.curve)}


def retrain_cell(genotype: Sequence[int], data, config: SearchConfig, *, seed: int = 0) -> dict[str, Any]:
    """Train the NB201 network of a cell from scratch (``channels``, ``cells`` of the search) with the Trainer."""
    from archscape.train.models import build_network
    from archscape.train.trainer import Trainer

    g = _space().as_genotype(tuple(genotype))

    def factory():
        return build_network("nb201", g, num_classes=data.num_classes, in_channels=data.in_channels,
                             input_size=data.input_size, C=config.channels, N=config.cells)

    result = Trainer(_train_config(config, config.retrain_epochs)).fit(factory, data, seed=seed)
    return {"arch": _space().format(g), **_train_summary(result)}


def large_cell_ops(ratio: Sequence[float], n_nodes: int, rng: np.random.Generator, method: str = "round") -> tuple[int, ...]:
    """Ops of an ``n_nodes`` cell: counts of the ratio over its edges, placed uniformly at random."""
    from archscape.train.supernet import cell_edges

    n_edges = len(cell_edges(n_nodes))
    counts = counts_from_ratio(ratio, n_edges, method=method, rng=rng)
    # the same placement rule as sample_architecture (a uniformly random order of the op multiset)
    return tuple(int(o) for o in rng.permutation(np.repeat(np.arange(len(counts)), counts)))


def format_cell(ops: Sequence[int], n_nodes: int) -> str:
    """The arch string of an ``n_nodes`` cell (NB201's form: ``|op~i|`` per edge, nodes joined by ``+``)."""
    from archscape.spaces.nb201 import OPS
    from archscape.train.supernet import cell_edges, check_cell_ops

    ops = check_cell_ops(tuple(int(o) for o in ops), n_nodes)
    nodes = []
    for j in range(1, n_nodes):
        nodes.append("|" + "|".join(f"{OPS[o]}~{i}" for o, (i, k) in zip(ops, cell_edges(n_nodes)) if k == j) + "|")
    return "+".join(nodes)


def train_large_cell(ratio: Sequence[float], n_nodes: int, data, config: SearchConfig, *, seed: int = 0,
                     epochs: int | None = None) -> dict[str, Any]:
    """Sample an ``n_nodes`` cell from ``ratio`` and train its NB201-skeleton network with the Trainer."""
    from archscape.train.supernet import CellNetwork
    from archscape.train.trainer import Trainer

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_TAG_LARGE,)))
    ops = large_cell_ops(ratio, n_nodes, rng, config.ratio_method)

    def factory():
        return CellNetwork(ops, data.num_classes, n_nodes=n_nodes, C=config.channels, N=config.cells,
                           in_channels=data.in_channels)

    result = Trainer(_train_config(config, epochs or config.large_cell_epochs)).fit(factory, data, seed=seed)
    counts = np.bincount(np.asarray(ops), minlength=N_OPS).tolist()
    return {"n_nodes": n_nodes, "n_edges": len(ops), "ops": list(ops), "counts": counts,
            "arch": format_cell(ops, n_nodes), "ratio": [float(r) for r in ratio], **_train_summary(result)}


# ------------------------------------------------------------------ the search loop
def _settings(method: str, cfg: SearchConfig) -> dict[str, Any]:
    out = {"method": method, **asdict(cfg)}
    if method == "darts":
        for key in ("estimator", "tau_max", "tau_min", "baseline_decay"):
            out.pop(key)
    else:
        out.pop("second_order")
    return out


def _run_search(method: str, cfg: SearchConfig, data, seed: int, progress) -> dict[str, Any]:
    from archscape.train import require_torch
    from archscape.train.trainer import deterministic_algorithms, torch_threads, resolve_device

    torch = require_torch()
    device = resolve_device(cfg.device)
    fork = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with deterministic_algorithms(cfg.deterministic), torch_threads(cfg.threads), torch.random.fork_rng(devices=fork):
        torch.manual_seed(seed)
        start = time.perf_counter()
        searcher = make_searcher(method, cfg, data, seed, device)
        history = [searcher.record(0, cfg.tau(0), dict.fromkeys(("train_loss", "train_acc", "arch_loss", "arch_acc")))]
        steps = _steps_per_epoch(len(data.train), cfg.batch_size)
        total = cfg.epochs * steps
        order_gen = torch.Generator().manual_seed(seed)
        val_stream = _Stream(len(data.val), cfg.batch_size, order_gen)
        t = 0
        for epoch in range(cfg.epochs):
            tau = cfg.tau(epoch)
            sums = {"train_loss": 0.0, "train_acc": 0.0, "arch_loss": 0.0, "arch_acc": 0.0}
            n_arch = 0
            order = torch.randperm(len(data.train), generator=order_gen)
            for b in range(steps):
                searcher.set_lr(cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * t / total)))
                xt, yt = searcher.batch(data.train, order[b * cfg.batch_size:(b + 1) * cfg.batch_size], train=True)
                if epoch >= cfg.warmup_epochs:
                    xv, yv = searcher.batch(data.val, val_stream.next(), train=False)
                    loss, acc = searcher.arch_step(xv, yv, xt, yt, tau)
                    sums["arch_loss"] += loss
                    sums["arch_acc"] += acc
                    n_arch += 1
                loss, acc = searcher.weight_step(xt, yt, tau)
                sums["train_loss"] += loss
                sums["train_acc"] += acc
                t += 1
            stats = {"train_loss": sums["train_loss"] / steps, "train_acc": sums["train_acc"] / steps,
                     "arch_loss": sums["arch_loss"] / n_arch if n_arch else None,
                     "arch_acc": sums["arch_acc"] / n_arch if n_arch else None}
            history.append(searcher.record(epoch + 1, tau, stats))
            if progress:
                progress(f"{method} seed {seed} epoch {epoch + 1}/{cfg.epochs}: train loss {stats['train_loss']:.3f}"
                         + (f", val loss {stats['arch_loss']:.3f}" if n_arch else "") + f"  {searcher.describe()}")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        genotype = searcher.derive()
        search_time = time.perf_counter() - start
    for h in history:
        h["time"] = round(h["time"] - start, 6) if "time" in h else None
    return {"genotype": genotype, "search_time": search_time, "history": history, "device": str(device),
            "probabilities": searcher.probabilities(), "ratio": searcher.ratio()}


def _steps_per_epoch(n: int, batch_size: int) -> int:
    # As the trainer: a last batch of one image is dropped (batch norm cannot train on it).
    full, rest = divmod(n, batch_size)
    return full + (1 if rest > 1 else 0)


class _Stream:
    """Endless batches of indices into a split: a fresh permutation each time one runs out; every batch full."""

    def __init__(self, n: int, batch_size: int, generator) -> None:
        self.n, self.size, self.gen = n, min(batch_size, n), generator
        self.order, self.pos = None, n

    def next(self):
        import torch

        if self.pos + self.size > self.n:
            self.order, self.pos = torch.randperm(self.n, generator=self.gen), 0
        out = self.order[self.pos:self.pos + self.size]
        self.pos += self.size
        return out


def make_searcher(method: str, cfg: SearchConfig, data, seed: int, device=None):
    """The step machinery of one search (torch's global generator must be seeded by the caller)."""
    from archscape.train.trainer import resolve_device

    device = resolve_device(cfg.device) if device is None else device
    if method == "darts":
        return _DartsSearcher(cfg, data, seed, device)
    if method == "distribution":
        return _DistributionSearcher(cfg, data, seed, device)
    raise ArchscapeError(f"unknown search method {method!r}; accepted: {', '.join(METHODS)}")


class _Searcher:
    """Supernet, weight optimiser and the shared weight step; subclasses own the architecture."""

    def __init__(self, cfg: SearchConfig, data, seed: int, device) -> None:
        from archscape.train import require_torch
        from archscape.train.datasets import BatchTransform
        from archscape.train.supernet import NB201SuperNet

        self.torch = torch = require_torch()
        self.F = torch.nn.functional
        self.cfg, self.device = cfg, device
        self.model = NB201SuperNet(data.num_classes, C=cfg.channels, N=cfg.cells, in_channels=data.in_channels).to(device)
        self.w_opt = torch.optim.SGD(self.model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        self.transform = BatchTransform(data, device)
        # augmentation offsets and architecture samples come from CPU generators: the same on every device
        self.aug_gen = torch.Generator().manual_seed(seed)
        self.arch_gen = torch.Generator().manual_seed(int(np.random.SeedSequence(seed, spawn_key=(_TAG_ARCH,)).generate_state(1)[0]))
        self.final_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_TAG_FINAL,)))

    # ---- data
    def batch(self, split, idx, train: bool):
        images, labels = split.to(self.device)
        idx = idx.to(images.device)
        x = self.transform(images.index_select(0, idx), self.aug_gen, train=train)
        return x, labels.index_select(0, idx)

    def set_lr(self, lr: float) -> None:
        for group in self.w_opt.param_groups:
            group["lr"] = lr

    @property
    def lr(self) -> float:
        return float(self.w_opt.param_groups[0]["lr"])

    # ---- the weight step: architecture fixed (detached), weights move
    def weight_step(self, x, y, tau: float = 1.0) -> tuple[float, float]:
        self.model.train()
        weights, hard = self.weight_cell(tau)
        out = self.model(x, weights, hard)
        loss = self.F.cross_entropy(out, y)
        self.w_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.w_opt.step()
        return self._stats(loss, out, y)

    def _stats(self, loss, out, y) -> tuple[float, float]:
        with self.torch.no_grad():
            acc = (out.argmax(1) == y).float().mean()
        return float(loss.detach()), 100.0 * float(acc)

    def _arch_update(self, param, grad) -> None:
        self.a_opt.zero_grad(set_to_none=True)
        param.grad = grad
        self.a_opt.step()

    def _gumbel(self, shape):
        # Gumbel(0, 1) noise from the CPU generator (identical on every device)
        torch = self.torch
        u = torch.rand(shape, generator=self.arch_gen, dtype=torch.float64).clamp_min(1e-300)
        g = -torch.log((-torch.log(u)).clamp_min(1e-300))
        return g.to(self.device, self.torch.float32)


class _DartsSearcher(_Searcher):
    def __init__(self, cfg: SearchConfig, data, seed: int, device) -> None:
        super().__init__(cfg, data, seed, device)
        torch = self.torch
        self.alpha = (1e-3 * torch.randn(N_EDGES, N_OPS)).to(device).requires_grad_(True)
        self.a_opt = torch.optim.Adam([self.alpha], lr=cfg.arch_lr, betas=(0.5, 0.999), weight_decay=cfg.arch_weight_decay)

    def weight_cell(self, tau: float):
        return self.torch.softmax(self.alpha.detach(), dim=-1), None

    def arch_step(self, xv, yv, xt, yt, tau: float = 1.0) -> tuple[float, float]:
        self.model.train()
        if self.cfg.second_order:
            grad, loss, out = self._unrolled_grad(xv, yv, xt, yt)
        else:
            out = self.model(xv, self.torch.softmax(self.alpha, dim=-1))
            loss = self.F.cross_entropy(out, yv)
            # only alpha's gradient: the weights' gradients are neither needed nor wanted here
            (grad,) = self.torch.autograd.grad(loss, [self.alpha])
        self._arch_update(self.alpha, grad)
        return self._stats(loss, out, yv)

    def _unrolled_grad(self, xv, yv, xt, yt):
        torch, F, model = self.torch, self.F, self.model
        params = [p for p in model.parameters()]
        saved = [p.detach().clone() for p in params]
        saved_buffers = [b.detach().clone() for b in model.buffers()]
        eta = self.lr
        weights = torch.softmax(self.alpha, dim=-1)

        def grads(loss, wrt):
            gs = torch.autograd.grad(loss, wrt, allow_unused=True)
            return [torch.zeros_like(w) if g is None else g for g, w in zip(gs, wrt)]

        # the virtual step w' = w - eta * (momentum * buf + dL_train/dw + wd * w), as SGD would take it
        g_train = grads(F.cross_entropy(model(xt, weights.detach()), yt), params)
        with torch.no_grad():
            for p, g in zip(params, g_train):
                d = g + self.cfg.weight_decay * p
                buf = self.w_opt.state.get(p, {}).get("momentum_buffer")
                if buf is not None:
                    d = d + self.cfg.momentum * buf
                p.sub_(eta * d)
        out = model(xv, weights)
        loss = F.cross_entropy(out, yv)
        g_all = grads(loss, [self.alpha, *params])
        g_alpha, g_w = g_all[0], g_all[1:]
        norm = torch.sqrt(sum((g * g).sum() for g in g_w))
        eps = UNROLL_EPS / float(norm.clamp_min(1e-12))
        # d^2 L_train / d alpha d w . dw by central differences at w +- eps * dw
        hvp = []
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for p, s, g in zip(params, saved, g_w):
                    p.copy_(s + sign * eps * g)
            (h,) = grads(F.cross_entropy(model(xt, torch.softmax(self.alpha, dim=-1)), yt), [self.alpha])
            hvp.append(h)
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)
            for b, s in zip(model.buffers(), saved_buffers):
                b.copy_(s)
        return g_alpha - eta * (hvp[0] - hvp[1]) / (2 * eps), loss, out

    def derive(self) -> tuple[int, ...]:
        return tuple(int(i) for i in self.alpha.detach().argmax(dim=-1).cpu().tolist())

    def probabilities(self) -> tuple[tuple[float, ...], ...]:
        p = self.torch.softmax(self.alpha.detach().double(), dim=-1).cpu().numpy()
        return tuple(tuple(float(v) for v in row) for row in p)

    def ratio(self) -> None:
        return None

    def record(self, epoch: int, tau: float, stats: dict) -> dict:
        return {"epoch": epoch, **stats, "time": time.perf_counter(), "probabilities": [list(r) for r in self.probabilities()]}

    def describe(self) -> str:
        return "argmax " + _space().format(self.derive())


class _DistributionSearcher(_Searcher):
    def __init__(self, cfg: SearchConfig, data, seed: int, device) -> None:
        super().__init__(cfg, data, seed, device)
        torch = self.torch
        self.theta = torch.zeros(N_OPS, device=device, requires_grad=True)
        self.a_opt = torch.optim.Adam([self.theta], lr=cfg.arch_lr, betas=(0.5, 0.999), weight_decay=cfg.arch_weight_decay)
        self.baseline: float | None = None
        self.estimator = cfg.estimator

    def _sample(self, tau: float, *, relaxed: bool):
        """(weights [6, 5], hard op per edge or None): one cell drawn from softmax(theta), per edge."""
        torch = self.torch
        if self.estimator == "expected":
            # no draw: every edge mixes its ops by p itself (DARTS' relaxation with one row shared by all edges)
            return torch.softmax(self.theta, dim=-1).unsqueeze(0).expand(N_EDGES, N_OPS), None
        g = self._gumbel((N_EDGES, N_OPS))
        logits = self.theta.unsqueeze(0) + g
        soft = torch.softmax(logits / tau, dim=-1)
        if relaxed:
            return soft, None
        # argmax(theta + g) is an exact draw from softmax(theta) whatever tau is
        hard = [int(i) for i in logits.detach().argmax(dim=-1).cpu().tolist()]
        one_hot = self.F.one_hot(torch.tensor(hard, device=self.device), N_OPS).to(soft.dtype)
        return one_hot - soft.detach() + soft, hard

    def weight_cell(self, tau: float):
        weights, hard = self._sample(tau, relaxed=self.estimator in ("gumbel-soft", "expected"))
        return weights.detach(), hard

    def arch_step(self, xv, yv, xt=None, yt=None, tau: float = 1.0) -> tuple[float, float]:
        torch, F = self.torch, self.F
        self.model.train()
        if self.estimator == "reinforce":
            with torch.no_grad():
                weights, hard = self._sample(tau, relaxed=False)
                out = self.model(xv, weights.detach(), hard)
                loss = F.cross_entropy(out, yv)
            value = float(loss)
            if self.baseline is None:
                self.baseline = value  # the first loss: the first step's advantage is 0, not the loss itself
            advantage = value - self.baseline
            self.baseline = self.cfg.baseline_decay * self.baseline + (1 - self.cfg.baseline_decay) * value
            counts = torch.bincount(torch.tensor(hard, device=self.device), minlength=N_OPS).to(self.theta.dtype)
            log_p = (counts * torch.log_softmax(self.theta, dim=-1)).sum()
            (grad,) = torch.autograd.grad(advantage * log_p, [self.theta])
        else:
            weights, hard = self._sample(tau, relaxed=self.estimator != "gumbel-st")
            out = self.model(xv, weights, hard)
            loss = F.cross_entropy(out, yv)
            (grad,) = torch.autograd.grad(loss, [self.theta])
        self._arch_update(self.theta, grad)
        return self._stats(loss, out, yv)

    def ratio(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self.torch.softmax(self.theta.detach().double(), dim=-1).cpu().tolist())

    def probabilities(self) -> tuple[tuple[float, ...], ...]:
        return (self.ratio(),)

    def derive(self) -> tuple[int, ...]:
        counts = counts_from_ratio(self.ratio(), N_EDGES, method=self.cfg.ratio_method, rng=self.final_rng)
        return tuple(int(o) for o in sample_architecture(_space(), counts, self.final_rng))

    def record(self, epoch: int, tau: float, stats: dict) -> dict:
        return {"epoch": epoch, **stats, "tau": tau, "time": time.perf_counter(), "ratio": list(self.ratio())}

    def describe(self) -> str:
        from archscape.spaces.nb201 import OPS

        return "ratio " + " ".join(f"{o} {p:.3f}" for o, p in zip(OPS, self.ratio()))


__all__ = [
    "DATASETS", "ESTIMATORS", "METHODS", "SCORE_TABLES", "SearchConfig", "SearchResult", "cell_context", "check_seeds",
    "darts_search", "distribution_search", "format_cell", "large_cell_ops", "load_search_data", "make_searcher",
    "placements", "retrain_cell", "run_seeds", "score_cell", "search", "summarize", "train_large_cell",
]
