"""Weight-sharing search on the NAS-Bench-201 cell: DARTS and DARTS over an operation distribution.

Both searchers train an :class:`~archscape.train.supernet.NB201SuperNet` (the
NB201 skeleton, ``C`` channels, ``N`` cells a stage, every edge a mixture of
the five NB201 operations, one architecture shared by every cell) and
alternate two steps per batch (:func:`run_search`), as DARTS does: an
**architecture step** on a batch of the validation split, then a **weight
step** (SGD, momentum, cosine learning rate, gradient clipping) on a batch of
the train split.  The architecture optimiser is Adam (betas 0.5, 0.999).  The
first ``warmup_epochs`` make weight steps only.

:class:`DartsSearcher` (Liu et al., ICLR 2019): logits ``alpha [6, 5]``
(initialised ``1e-3 * N(0, 1)``); every edge mixes its ops with
``softmax(alpha[e])``.  First order by default; ``second_order`` is the
unrolled approximation: the gradient at the weights after one virtual SGD
step ``w' = w - lr * (momentum * buf + grad + wd * w)``, minus ``lr`` times
the Hessian-vector product, taken by central finite differences at
``w +- eps * dL_val/dw'`` (``eps = UNROLL_EPS / ||dL_val/dw'||``); the
weights and batch-norm statistics are restored afterwards.  The cell is the
argmax of each row (``none`` included).

:class:`DistributionSearcher` (after Wan et al., WACV 2022): one logit vector
``theta`` (5 values, initialised 0); ``p = softmax(theta)`` is the op ratio
shared by all six edges.  The architecture-parameter estimators
(``estimator``): ``expected`` (every edge mixes the ops by ``p``: the relaxed
expected cell, exact gradient of that surrogate), ``gumbel-st``
(straight-through Gumbel-softmax, one hard cell a step, ``tau`` annealed),
``gumbel-soft`` (relaxed samples per edge) and ``reinforce`` (the score
function ``(L - b) * (counts - 6 p)`` with a moving-average baseline).  The
weight step trains the shared weights on the same kind of cell.  The final
cell is made from the learned ratio by the caller's ``cell_of`` (see
:mod:`archscape.opdist.darts`).

**Random streams.**  Torch is seeded by ``seed`` (weights and ``alpha``);
batch orders come from a CPU ``torch.Generator`` seeded ``seed``,
augmentation from another, the architecture samples from one seeded from
``SeedSequence(seed, spawn_key=(TAG_ARCH,))`` and the final cell from a numpy
generator of ``SeedSequence(seed, spawn_key=(TAG_FINAL,))``; ``TAG_LARGE``
is the stream of a larger cell grown after the search.  All are CPU
generators, so the same seed and thread count give the same numbers.

torch is imported when a search starts, not with this module.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from archscape.spaces import get_space
from archscape.spaces.nb201 import OPS
from archscape.train import require_torch
from archscape.train.datasets import BatchTransform
from archscape.train.trainer import deterministic_algorithms, resolve_device, torch_threads

#: the search methods: DARTS, and DARTS over one operation distribution
METHODS = ("darts", "distribution")
#: how the distribution method trains its ratio
ESTIMATORS = ("gumbel-st", "gumbel-soft", "reinforce", "expected")
N_EDGES, N_OPS = 6, 5
#: DARTS' finite-difference step of the unrolled gradient: eps = UNROLL_EPS / ||dL_val/dw'||
UNROLL_EPS = 0.01
#: spawn keys of a seed's numpy streams: the final cell, a larger cell, the architecture samples
TAG_FINAL, TAG_LARGE, TAG_ARCH = 1, 2, 3


class BilevelSettings(Protocol):
    """The settings a search reads (:class:`archscape.opdist.darts_config.SearchConfig` has them all)."""

    epochs: int
    warmup_epochs: int
    batch_size: int
    channels: int
    cells: int
    lr: float
    lr_min: float
    momentum: float
    weight_decay: float
    grad_clip: float
    arch_lr: float
    arch_weight_decay: float
    second_order: bool
    estimator: str
    baseline_decay: float
    device: str
    threads: int | None
    deterministic: bool

    def tau(self, epoch: int) -> float:
        """Gumbel temperature of ``epoch`` (0-based)."""


def run_search(method: str, build: Callable[[Any], Searcher], cfg: BilevelSettings, data, seed: int,
               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train a supernet and its architecture, seeded by ``seed``; ``build(device)`` makes the searcher.

    Runs in ``torch.random.fork_rng`` with torch seeded ``seed`` (the caller's
    random state is left as it was).  Returns the derived ``genotype``, the
    ``search_time`` (wall seconds), the per-epoch ``history``, the ``device``,
    the final ``probabilities`` and the ``ratio`` (``None`` for DARTS).
    """
    torch = require_torch()
    device = resolve_device(cfg.device)
    fork = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with deterministic_algorithms(cfg.deterministic), torch_threads(cfg.threads), torch.random.fork_rng(devices=fork):
        torch.manual_seed(seed)
        start = time.perf_counter()
        searcher = build(device)
        history = [searcher.record(0, cfg.tau(0), dict.fromkeys(("train_loss", "train_acc", "arch_loss", "arch_acc")))]
        steps = steps_per_epoch(len(data.train), cfg.batch_size)
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


def steps_per_epoch(n: int, batch_size: int) -> int:
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


class Searcher:
    """Supernet, weight optimiser and the shared weight step; subclasses own the architecture.

    Torch's global generator must be seeded by the caller (it initialises the weights).
    """

    def __init__(self, cfg: BilevelSettings, data, seed: int, device) -> None:
        from archscape.train.supernet import NB201SuperNet  # needs torch: imported when a search starts

        self.torch = torch = require_torch()
        self.F = torch.nn.functional
        self.cfg, self.device = cfg, device
        self.model = NB201SuperNet(data.num_classes, C=cfg.channels, N=cfg.cells, in_channels=data.in_channels).to(device)
        self.w_opt = torch.optim.SGD(self.model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        self.transform = BatchTransform(data, device)
        # augmentation offsets and architecture samples come from CPU generators: the same on every device
        self.aug_gen = torch.Generator().manual_seed(seed)
        self.arch_gen = torch.Generator().manual_seed(int(np.random.SeedSequence(seed, spawn_key=(TAG_ARCH,)).generate_state(1)[0]))
        self.final_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(TAG_FINAL,)))

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


class DartsSearcher(Searcher):
    """DARTS: logits ``alpha [6, 5]``, one softmax row an edge; the cell is the argmax of each row."""

    def __init__(self, cfg: BilevelSettings, data, seed: int, device) -> None:
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
        return "argmax " + get_space("nb201").format(self.derive())


class DistributionSearcher(Searcher):
    """One op ratio ``softmax(theta)`` shared by the six edges, trained by ``cfg.estimator``.

    ``cell_of(ratio, rng)`` turns the learned ratio into the final cell (the
    distribution logic lives in :mod:`archscape.opdist`); ``rng`` is the
    searcher's generator of the final cell.
    """

    def __init__(self, cfg: BilevelSettings, data, seed: int, device,
                 cell_of: Callable[[tuple[float, ...], np.random.Generator], Sequence[int]]) -> None:
        super().__init__(cfg, data, seed, device)
        self.cell_of = cell_of
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
        return tuple(int(o) for o in self.cell_of(self.ratio(), self.final_rng))

    def record(self, epoch: int, tau: float, stats: dict) -> dict:
        return {"epoch": epoch, **stats, "tau": tau, "time": time.perf_counter(), "ratio": list(self.ratio())}

    def describe(self) -> str:
        return "ratio " + " ".join(f"{o} {p:.3f}" for o, p in zip(OPS, self.ratio()))


__all__ = [
    "BilevelSettings", "DartsSearcher", "DistributionSearcher", "ESTIMATORS", "METHODS", "N_EDGES", "N_OPS", "Searcher",
    "TAG_ARCH", "TAG_FINAL", "TAG_LARGE", "UNROLL_EPS", "run_search", "steps_per_epoch",
]
