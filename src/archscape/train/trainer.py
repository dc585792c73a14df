"""Train a network on a :class:`~archscape.train.datasets.DatasetSplits`, reproducibly.

``Trainer(TrainConfig(...)).fit(model_or_factory, data, seed=s, epochs=e)``
returns a :class:`TrainResult`: validation accuracy after every epoch (the
learning curve), final validation and test accuracy, the training loss,
training and evaluation seconds, parameters and FLOPs.

* **Epochs are the fidelity.**  The learning-rate schedule (cosine, step or
  constant) is laid over the epochs of *this* run, as NAS-Bench-201 does for
  its 12- and 200-epoch tables; cosine and constant are stepped per
  iteration, step per epoch.
* **Seeding.**  ``fit`` runs inside ``torch.random.fork_rng``: it seeds
  torch with ``seed`` before the network is built (pass a factory so that the
  weights depend on the seed), shuffles and augments from its own CPU
  ``torch.Generator`` seeded with ``seed``, and leaves the caller's random
  state as it was.  With ``deterministic=True`` it switches
  ``torch.use_deterministic_algorithms(True, warn_only=True)`` and cuDNN's
  deterministic mode on for the run (and restores them after).  On the CPU the
  same seed gives the identical curve; on CUDA an operation without a
  deterministic kernel may still differ in the last bits.
* **Divergence.**  The summed training loss is checked every
  ``check_every`` steps (one host sync each; on the CPU that is free): a NaN
  or infinite loss stops the run with :class:`TrainingFailed`, whose
  ``reason`` names the epoch, step and learning rate.
* **Device.**  ``"auto"`` is CUDA when available, else the CPU.  On CUDA the
  ``uint8`` images of an in-memory data set are copied to the GPU once and
  batches are cut, augmented and normalised there.
* **Parameters and FLOPs** come from :mod:`archscape.train.models.flops`:
  millions of multiply-accumulates of convolutions and linear layers for one
  image, the convention of NAS-Bench-101/201/Macro.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from archscape.errors import ArchscapeError
from archscape.torch_support import deterministic_algorithms, require_torch, torch_threads
from archscape.train.datasets import BatchTransform, DatasetSplits, Split

# cuBLAS reads this when it starts; deterministic GEMMs on CUDA need it.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "step", "constant")
#: the settings a network's ``training_hints`` may set
HINT_KEYS = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "batch_size")
#: learning rate when none is given
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}


class TrainingFailed(RuntimeError):
    """A training run that could not finish (diverged); ``reason`` says why."""

    def __init__(self, reason: str, *, epoch: int, curve: tuple[float, ...] = (), train_time: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.epoch = epoch
        self.curve = curve
        self.train_time = train_time


@dataclass(frozen=True)
class TrainConfig:
    """How to train (what to train on is the :class:`DatasetSplits`)."""

    epochs: int = 5
    batch_size: int = 128
    eval_batch_size: int = 512
    optimizer: str = "sgd"
    #: ``None``: :data:`DEFAULT_LR` of the optimizer
    lr: float | None = None
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    #: epochs between decays of the step schedule (default: a third of the epochs)
    step_size: int | None = None
    gamma: float = 0.1
    label_smoothing: float = 0.0
    #: clip the gradient norm to this value (``None``: no clipping)
    grad_clip: float | None = None
    #: "auto", "cpu", "cuda", "cuda:1", ...
    device: str = "auto"
    #: worker processes that decode the images of a lazily read image folder
    num_workers: int = 0
    deterministic: bool = True
    #: torch's CPU threads during this training (``None``: leave torch's setting).  On the CPU a
    #: training's numbers depend on it (parallel sums add in another order), so studies fix it.
    threads: int | None = None
    #: steps between divergence checks
    check_every: int = 10
    #: validate after every epoch (the learning curve); else only after the last
    eval_every_epoch: bool = True
    #: let a network's ``training_hints`` (e.g. the searched ``lr`` of the cnn space) override
    #: the keys of :data:`HINT_KEYS`, and its ``param_groups()`` give the optimizer's groups
    network_hints: bool = True
    #: a rich progress bar per epoch: False, True, or a running ``rich.progress.Progress`` to add to
    progress: Any = field(default=False, compare=False)

    def check(self) -> TrainConfig:
        """Raise one line naming a bad setting; returns ``self``."""
        def bad(key: str, accepted: str) -> ArchscapeError:
            return ArchscapeError(f"bad training setting {key}={getattr(self, key)!r}; accepted: {accepted}")

        for key in ("epochs", "batch_size", "eval_batch_size", "check_every"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise bad(key, "an integer >= 1")
        if self.optimizer not in OPTIMIZERS:
            raise bad("optimizer", ", ".join(OPTIMIZERS))
        if self.schedule not in SCHEDULES:
            raise bad("schedule", ", ".join(SCHEDULES))
        if self.lr is not None and not (self.lr > 0 and math.isfinite(self.lr)):
            raise bad("lr", "a number > 0")
        if not 0 <= self.momentum < 1:
            raise bad("momentum", "a number in [0, 1)")
        if not self.weight_decay >= 0:
            raise bad("weight_decay", "a number >= 0")
        if self.step_size is not None and self.step_size < 1:
            raise bad("step_size", "an integer >= 1")
        if not 0 < self.gamma <= 1:
            raise bad("gamma", "a number in (0, 1]")
        if not 0 <= self.label_smoothing < 1:
            raise bad("label_smoothing", "a number in [0, 1)")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise bad("grad_clip", "a number > 0 or None")
        if self.num_workers < 0:
            raise bad("num_workers", "an integer >= 0")
        if self.threads is not None and not (isinstance(self.threads, int) and self.threads >= 1):
            raise bad("threads", "an integer >= 1 or None")
        resolve_device(self.device)
        return self

    @property
    def learning_rate(self) -> float:
        return DEFAULT_LR[self.optimizer] if self.lr is None else float(self.lr)


@dataclass(frozen=True)
class TrainResult:
    """What one training run measured (accuracies in %, times in seconds)."""

    val_acc: float  # nan without a validation split
    test_acc: float | None  # None without a test split
    train_acc: float  # over the last epoch, while training
    train_loss: float  # mean over the last epoch
    curve: tuple[float, ...]  # validation accuracy after each epoch
    loss_curve: tuple[float, ...]  # mean training loss of each epoch
    train_time: float  # the training steps only
    eval_time: float  # validation and test passes
    params: int  # without training-only heads (DARTS' auxiliary tower)
    flops: float  # millions of multiply-accumulates for one image (MFLOPs)
    epochs: int
    seed: int
    device: str
    n_train: int
    #: the learning rate and batch size used (after the network's hints)
    lr: float = math.nan
    batch_size: int = 0

    @property
    def images_per_second(self) -> float:
        return self.n_train * self.epochs / self.train_time if self.train_time > 0 else math.nan

    def metrics(self) -> dict[str, Any]:
        """The store's metrics: accuracies in %, params and FLOPs in millions, times in s."""
        return {
            "val_acc": self.val_acc,
            "test_acc": self.test_acc,
            "train_acc": self.train_acc,
            "train_loss": self.train_loss,
            "train_time": self.train_time,
            "eval_time": self.eval_time,
            "params": self.params / 1e6,
            "flops": self.flops,
            "epochs": self.epochs,
            "images_per_s": self.images_per_second,
            "device": self.device,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "curve": list(self.curve),
            "loss_curve": list(self.loss_curve),
        }


def resolve_device(device: str | None = "auto"):
    """``"auto"`` -> cuda if available else cpu; raises one line for an unusable device."""
    torch = require_torch()
    text = "auto" if device is None else str(device).strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise ArchscapeError(f"unknown device {device!r}; accepted: auto, cpu, cuda, cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ArchscapeError(f"device {device!r} asked, but this torch has no usable CUDA GPU; use --device cpu or auto")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ArchscapeError(f"device {device!r} asked, but there are {torch.cuda.device_count()} CUDA devices")
    elif dev.type != "cpu":
        raise ArchscapeError(f"unsupported device {device!r}; accepted: auto, cpu, cuda, cuda:N")
    return dev


# ------------------------------------------------------------------ the trainer
class Trainer:
    """Trains networks with one :class:`TrainConfig` (see the module docstring)."""

    def __init__(self, config: TrainConfig | None = None, **settings: Any) -> None:
        config = config or TrainConfig()
        self.config = replace(config, **settings).check() if settings else config.check()

    # ------------------------------------------------------------ public
    def fit(self, model, data: DatasetSplits, *, seed: int = 0, epochs: int | None = None) -> TrainResult:
        """Train ``model`` (an ``nn.Module``, or a factory called after seeding) and evaluate it."""
        torch = require_torch()
        cfg = self.config
        epochs = cfg.epochs if epochs is None else int(epochs)
        if epochs < 1:
            raise ArchscapeError(f"epochs must be >= 1; got {epochs}")
        if len(data.train) < 2:
            raise ArchscapeError(f"{data.name}: the train split needs at least 2 images; got {len(data.train)}")
        seed = int(seed)
        device = resolve_device(cfg.device)
        fork_devices = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
        with deterministic_algorithms(cfg.deterministic), torch_threads(cfg.threads), torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            if not isinstance(model, torch.nn.Module):
                model = model()
            model = model.to(device)
            return self._fit(model, data, seed, epochs, device)

    def evaluate(self, model, split: Split, data: DatasetSplits, device=None) -> float:
        """Accuracy (%) of ``model`` on ``split``; nan for an empty split."""
        torch = require_torch()
        if len(split) == 0:
            return math.nan
        device = device or next(model.parameters()).device
        transform = BatchTransform(data, device, augment=False)
        was_training = model.training
        model.eval()
        correct = torch.zeros((), dtype=torch.int64, device=device)
        try:
            with torch.inference_mode():
                for x, y in _batches(split, None, self.config.eval_batch_size, device, self.config.num_workers):
                    correct += (model(transform(x)).argmax(1) == y).sum()
        finally:
            model.train(was_training)
        return 100.0 * int(correct) / len(split)

    # ------------------------------------------------------------ internals
    def _fit(self, model, data: DatasetSplits, seed: int, epochs: int, device) -> TrainResult:
        torch = require_torch()
        import torch.nn.functional as F

        from archscape.train.models.flops import count_flops, count_parameters

        cfg = self.config
        hints = getattr(model, "training_hints", None) if cfg.network_hints else None
        if hints:
            cfg = replace(cfg, **{k: v for k, v in dict(hints).items() if k in HINT_KEYS}).check()
        params = count_parameters(model)
        flops = count_flops(model, data.image_shape, device=device)
        n = len(data.train)
        steps = _steps_per_epoch(n, cfg.batch_size)
        optimizer = _make_optimizer(model, cfg)
        scheduler = _make_schedule(optimizer, cfg, epochs, steps)
        generator = torch.Generator().manual_seed(seed)
        transform = BatchTransform(data, device)
        lr = cfg.learning_rate
        curve: list[float] = []
        loss_curve: list[float] = []
        train_time = eval_time = 0.0
        train_acc = train_loss = math.nan
        with _EpochBar(cfg.progress, epochs, steps) as bar:
            for epoch in range(epochs):
                model.train()
                start = time.perf_counter()
                order = torch.randperm(n, generator=generator)[: steps * cfg.batch_size if n % cfg.batch_size == 1 else n]
                loss_sum = torch.zeros((), device=device)
                correct = torch.zeros((), dtype=torch.int64, device=device)
                seen = 0
                for step, (x, y) in enumerate(_batches(data.train, order, cfg.batch_size, device, cfg.num_workers), start=1):
                    out = model(transform(x, generator, train=True))
                    loss = F.cross_entropy(out, y, label_smoothing=cfg.label_smoothing)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if cfg.grad_clip is not None:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                    optimizer.step()
                    if scheduler is not None and cfg.schedule != "step":
                        scheduler.step()
                    with torch.no_grad():
                        loss_sum += loss.detach() * len(y)
                        correct += (out.argmax(1) == y).sum()
                    seen += len(y)
                    if step % cfg.check_every == 0 or step == steps:
                        bad = _nonfinite(loss_sum)
                        if bad:
                            train_time += time.perf_counter() - start
                            raise TrainingFailed(
                                f"training diverged: the loss became {bad} at epoch {epoch + 1}/{epochs}, "
                                f"step {step}/{steps} (lr {lr:g}, {cfg.optimizer})",
                                epoch=epoch + 1, curve=tuple(curve), train_time=train_time,
                            )
                        bar.step(step)
                if scheduler is not None and cfg.schedule == "step":
                    scheduler.step()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                train_time += time.perf_counter() - start
                train_loss = float(loss_sum) / seen
                train_acc = 100.0 * int(correct) / seen
                loss_curve.append(train_loss)
                if cfg.eval_every_epoch or epoch == epochs - 1:
                    start = time.perf_counter()
                    curve.append(self.evaluate(model, data.val, data, device))
                    eval_time += time.perf_counter() - start
                bar.epoch_done(epoch, train_loss, curve[-1] if curve else math.nan)
        start = time.perf_counter()
        test_acc = self.evaluate(model, data.test, data, device) if len(data.test) else None
        eval_time += time.perf_counter() - start
        return TrainResult(
            val_acc=curve[-1], test_acc=test_acc, train_acc=train_acc, train_loss=train_loss, curve=tuple(curve),
            loss_curve=tuple(loss_curve), train_time=train_time, eval_time=eval_time, params=params, flops=flops,
            epochs=epochs, seed=seed, device=str(device), n_train=n if n % cfg.batch_size != 1 else n - 1,
            lr=lr, batch_size=cfg.batch_size,
        )


def _nonfinite(value) -> str | None:
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "infinite"
    return None


def _steps_per_epoch(n: int, batch_size: int) -> int:
    # A last batch of one image is dropped (batch norm cannot train on it).
    full, rest = divmod(n, batch_size)
    return full + (1 if rest > 1 else 0)


def _batches(split: Split, order, batch_size: int, device, num_workers: int = 0):
    """(uint8 images, labels) batches of ``split`` on ``device``, in ``order`` (None: as stored)."""
    torch = require_torch()
    n = len(split) if order is None else len(order)
    if split.in_memory:
        images, labels = split.to(device)
        if order is not None and images.device != order.device:
            order = order.to(images.device)
        for i in range(0, n, batch_size):
            if order is None:
                yield images[i : i + batch_size], labels[i : i + batch_size]
            else:
                idx = order[i : i + batch_size]
                yield images.index_select(0, idx), labels.index_select(0, idx)
        return
    # Lazily decoded image files.
    index = list(range(n)) if order is None else order.tolist()
    chunks = [index[i : i + batch_size] for i in range(0, n, batch_size)]
    loader = torch.utils.data.DataLoader(
        _FileDataset(split), batch_sampler=chunks, num_workers=num_workers, pin_memory=getattr(device, "type", "cpu") == "cuda"
    )
    for x, y in loader:
        yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)


class _FileDataset:
    def __init__(self, split: Split) -> None:
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i: int):
        return self.split.read(i), self.split.labels[i]


def _make_optimizer(model, cfg: TrainConfig):
    torch = require_torch()
    lr = cfg.learning_rate
    groups = getattr(model, "param_groups", None) if cfg.network_hints else None
    params = groups() if callable(groups) else model.parameters()
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, nesterov=cfg.nesterov and cfg.momentum > 0,
                               weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay)


def _make_schedule(optimizer, cfg: TrainConfig, epochs: int, steps: int):
    torch = require_torch()
    if cfg.schedule == "constant":
        return None
    if cfg.schedule == "cosine":
        total = max(1, epochs * steps)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 0.5 * (1.0 + math.cos(math.pi * min(t, total) / total)))
    step_size = cfg.step_size or max(1, epochs // 3)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=cfg.gamma)


class _EpochBar:
    """A rich progress bar per epoch (or nothing); updates about 50 times an epoch."""

    def __init__(self, progress: Any, epochs: int, steps: int) -> None:
        self.progress = progress
        self.epochs = epochs
        self.steps = steps
        self.every = max(1, steps // 50)
        self._own = None
        self._bar = None
        self._task = None

    def __enter__(self) -> _EpochBar:
        if self.progress is True:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._own = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            self._own.start()
            self._bar = self._own
        elif self.progress not in (False, None):
            self._bar = self.progress  # a running rich Progress
        if self._bar is not None:
            self._task = self._bar.add_task(f"epoch 1/{self.epochs}", total=self.steps)
        return self

    def step(self, step: int) -> None:
        if self._bar is not None and (step % self.every == 0 or step == self.steps):
            self._bar.update(self._task, completed=step)

    def epoch_done(self, epoch: int, loss: float, val: float) -> None:
        if self._bar is None:
            return
        text = f"epoch {epoch + 1}/{self.epochs}  loss {loss:.3f}  val {val:.2f}%"
        if self._own is not None:
            self._bar.update(self._task, description=text, completed=self.steps)
            if epoch + 1 < self.epochs:
                self._task = self._bar.add_task(f"epoch {epoch + 2}/{self.epochs}", total=self.steps)
        elif epoch + 1 < self.epochs:  # one task on the runner's bar, reused for the next epoch
            self._bar.update(self._task, description=f"epoch {epoch + 2}/{self.epochs}  (last: {text.split('  ', 1)[1]})", completed=0)

    def __exit__(self, *exc) -> None:
        if self._bar is not None and self._own is None and self._task is not None:
            self._bar.remove_task(self._task)
        if self._own is not None:
            self._own.stop()


def config_dict(config: TrainConfig) -> dict[str, Any]:
    """The settings of a :class:`TrainConfig` as plain values (without ``progress``)."""
    out = asdict(config)
    out.pop("progress", None)
    return out


__all__ = [
    "DEFAULT_LR", "OPTIMIZERS", "SCHEDULES", "TrainConfig", "TrainResult", "Trainer", "TrainingFailed",
    "config_dict", "deterministic_algorithms", "resolve_device", "torch_threads",
]
