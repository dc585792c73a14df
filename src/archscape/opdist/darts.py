"""Differentiable search on the NAS-Bench-201 cell: DARTS, and DARTS over an operation distribution.

This module runs a search and gathers its result (:func:`search`,
:func:`run_seeds`); the jobs live by name: the settings and their checks in
:mod:`~archscape.opdist.darts_config`, the supernet and the bilevel
searchers (the architecture-parameter estimators) in
:mod:`archscape.train.darts_search`, the distribution's final cell here
(:func:`cell_of_ratio`), scoring against the NB201 tables in
:mod:`~archscape.opdist.cell_scores`, retraining and larger cells in
:mod:`~archscape.opdist.retrain`, and the cross-seed summary in
:mod:`~archscape.opdist.seed_summary`.

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

**Scoring** (:func:`~archscape.opdist.cell_scores.score_cell`): the mean validation accuracy (over the
recorded seeds) of the found cell in NAS-Bench-201 on CIFAR-10, CIFAR-100 and
ImageNet16-120 (how one-shot methods report NB201), the percentage of the
15,625 cells below it, and the mean over every placement of its op counts
(the value of its distribution, in the paper's sense).  ``retrain_epochs``
trains the cell from scratch with the project's :class:`~archscape.train.trainer.Trainer`.

**Arbitrary size** (``large_cell_nodes``): a cell of ``n`` nodes (every pair
``i < j`` an edge) whose ops are ``counts_from_ratio(ratio, n(n-1)/2)``
placed uniformly at random; the ratio is ``p`` for the distribution method
and the op ratio of the derived cell (counts / 6) for DARTS.  It is trained
with the Trainer on the search's data set (:mod:`~archscape.opdist.retrain`).

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

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from archscape.errors import ArchscapeError
from archscape.opdist.cell_scores import cell_context, score_cell
from archscape.opdist.darts_config import SearchConfig, check_seeds
from archscape.spaces.distribution import counts_from_ratio, sample_architecture
from archscape.opdist.retrain import retrain_cell, train_large_cell
from archscape.spaces import get_space
from archscape.train.darts_search import (
    METHODS, N_EDGES, N_OPS, DartsSearcher, DistributionSearcher, Searcher, run_search,
)
from archscape.train.datasets import load_dataset
from archscape.train.trainer import resolve_device


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
    run = run_search(method, lambda dev: make_searcher(method, cfg, data, seed, dev), cfg, data, seed, progress)
    space = get_space("nb201")
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


def cell_of_ratio(ratio: Sequence[float], rng: np.random.Generator, method: str = "round") -> tuple[int, ...]:
    """The final cell of a learned op ratio: its counts over the six edges, placed uniformly at random."""
    counts = counts_from_ratio(ratio, N_EDGES, method=method, rng=rng)
    return tuple(int(o) for o in sample_architecture(get_space("nb201"), counts, rng))


def make_searcher(method: str, cfg: SearchConfig, data, seed: int, device=None) -> Searcher:
    """The step machinery of one search (torch's global generator must be seeded by the caller)."""
    device = resolve_device(cfg.device) if device is None else device
    if method == "darts":
        return DartsSearcher(cfg, data, seed, device)
    if method == "distribution":
        return DistributionSearcher(cfg, data, seed, device, cell_of=partial(cell_of_ratio, method=cfg.ratio_method))
    raise ArchscapeError(f"unknown search method {method!r}; accepted: {', '.join(METHODS)}")


def _settings(method: str, cfg: SearchConfig) -> dict[str, Any]:
    out = {"method": method, **asdict(cfg)}
    if method == "darts":
        for key in ("estimator", "tau_max", "tau_min", "baseline_decay"):
            out.pop(key)
    else:
        out.pop("second_order")
    return out


__all__ = [
    "SearchResult", "cell_of_ratio", "darts_search", "distribution_search", "load_search_data", "make_searcher",
    "run_seeds", "search",
]
