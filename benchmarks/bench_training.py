"""Training speed: throughput of real networks and the trainer's overhead over a bare PyTorch loop.

For each network (default: the NAS-Bench-201 network of one architecture and
one sampled NAGO network, both at their default width, on CIFAR-shaped
3x32x32 inputs) it prints

* training throughput (images/s) of :class:`archscape.train.trainer.Trainer`;
* the same for a bare PyTorch loop over the same model, data, batch order,
  optimizer (SGD, momentum 0.9, Nesterov, weight decay) and per-step cosine
  schedule: inputs already normalised as float tensors, no divergence checks,
  no accuracy counting, no progress bar;
* the trainer's overhead, ``trainer / bare - 1`` (target <= 5 %), from the
  median of ``--repeats`` alternating runs of one epoch each, both under the
  same ``deterministic`` setting (``--both-modes`` times both settings and the
  cost of deterministic algorithms, which on CUDA choose slower cuDNN kernels);
* evaluation throughput (images/s, inference) and the peak resident memory of
  the process (``resource.getrusage``), plus peak CUDA memory on a GPU.

The data are random ``uint8`` images of CIFAR-10's shape unless ``--dataset``
names a real one (``mnist``, ``fashion-mnist``, ``cifar10`` from the data
registry); throughput does not depend on the pixel values.

Usage: python benchmarks/bench_training.py [--space nb201 --space nago] [--images 2048]
       [--batch-size 128] [--repeats 3] [--device cpu|cuda|auto] [--threads N] [--both-modes] [--quick]
"""

from __future__ import annotations

import argparse
import math
import platform
import resource
import statistics
import sys
import time

import numpy as np

from archscape.train import require_torch

torch = require_torch()

from archscape.spaces import get_space  # noqa: E402
from archscape.train.datasets import DatasetSplits, Split, load_dataset  # noqa: E402
from archscape.train.models import build_network  # noqa: E402
from archscape.train.models.flops import count_flops, count_parameters  # noqa: E402
from archscape.train.trainer import TrainConfig, Trainer, deterministic_algorithms, resolve_device  # noqa: E402

#: the architecture timed for NB201 unless --arch says otherwise (one of the best cells on CIFAR-10)
NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def synthetic(n_train: int, n_eval: int, shape=(3, 32, 32), classes: int = 10, seed: int = 0) -> DatasetSplits:
    rng = np.random.default_rng(seed)

    def split(n):
        x = torch.from_numpy(rng.integers(0, 256, (n, *shape), dtype=np.uint8))
        y = torch.from_numpy(rng.integers(0, classes, n).astype(np.int64))
        return Split(y, x)

    return DatasetSplits("synthetic-cifar", split(n_train), split(n_eval), split(0), classes, shape,
                         (0.5,) * shape[0], (0.25,) * shape[0], False, tuple(map(str, range(classes))))


def genotype_for(space: str, arch: str | None, seed: int):
    s = get_space(space)
    if arch is not None:
        return s.as_genotype(arch)
    if space == "nb201":
        return s.as_genotype(NB201_ARCH)
    return s.sample(np.random.default_rng(seed))


def bare_epoch(model, x_all, y_all, order, batch_size, lr, wd, total_steps, device) -> float:
    """One epoch of the plainest loop that trains the same way; returns seconds."""
    import torch.nn.functional as F

    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=wd)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * min(t, total_steps) / total_steps)))
    model.train()
    order = order.to(device)
    sync(device)
    start = time.perf_counter()
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        x, y = x_all[idx], y_all[idx]
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    sync(device)
    return time.perf_counter() - start


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_network(space: str, genotype, data: DatasetSplits, args, device) -> dict:
    def factory():
        return build_network(space, genotype, num_classes=data.num_classes, in_channels=data.in_channels, input_size=data.input_size)

    def trainer_for(deterministic: bool) -> Trainer:
        return Trainer(TrainConfig(epochs=1, batch_size=args.batch_size, lr=0.05, device=str(device), deterministic=deterministic,
                                   eval_batch_size=args.batch_size * 2, network_hints=False, check_every=args.check_every))

    # the bare loop's inputs: normalised floats on the device, prepared once (not timed)
    mean = torch.tensor(data.mean).view(1, -1, 1, 1)
    std = torch.tensor(data.std).view(1, -1, 1, 1)
    x_all = ((data.train.images.float() / 255 - mean) / std).to(device)
    y_all = data.train.labels.to(device)
    n = len(data.train)
    steps = math.ceil(n / args.batch_size)

    def bare(seed: int, deterministic: bool) -> float:
        with deterministic_algorithms(deterministic):  # the same algorithm choice as the trainer's run
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = factory().to(device)
            order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
            return bare_epoch(model, x_all, y_all, order, args.batch_size, 0.05, 5e-4, steps, device)

    modes = (True, False) if args.both_modes else (args.deterministic,)
    times: dict[tuple[str, bool], list[float]] = {}
    trainer_for(modes[0]).fit(factory, data, seed=0)  # warm-up: allocator, kernels, the data's copy on the device
    for r in range(args.repeats):
        for det in modes:
            runs = [("trainer", lambda: trainer_for(det).fit(factory, data, seed=r).train_time), ("bare", lambda: bare(r, det))]
            for what, run in runs if r % 2 == 0 else runs[::-1]:  # alternate which goes first
                times.setdefault((what, det), []).append(run())
    model = factory().to(device)
    start = time.perf_counter()
    trainer_for(modes[0]).evaluate(model, data.val, data, device)
    sync(device)
    eval_s = time.perf_counter() - start
    out = {
        "space": space,
        "arch": get_space(space).format(genotype),
        "params_M": count_parameters(model) / 1e6,
        "mflops": count_flops(model, data.image_shape, device=device),
        "eval_img_s": len(data.val) / eval_s,
        "modes": {},
    }
    for det in modes:
        t, b = statistics.median(times["trainer", det]), statistics.median(times["bare", det])
        out["modes"][det] = {
            "trainer_img_s": n / t,
            "bare_img_s": n / b,
            "overhead_pct": 100 * (t / b - 1),
            "per_run_pct": [round(100 * (ti / bi - 1), 1) for ti, bi in zip(times["trainer", det], times["bare", det])],
        }
    if len(modes) == 2:
        out["determinism_cost_pct"] = 100 * (statistics.median(times["trainer", True]) / statistics.median(times["trainer", False]) - 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", action="append", help="network(s) to time (repeatable; default nb201 and nago)")
    parser.add_argument("--arch", default=None, help="architecture text (default: a fixed NB201 cell / a sampled one)")
    parser.add_argument("--dataset", default="synthetic", help="synthetic (CIFAR-shaped random images), mnist, fashion-mnist, cifar10")
    parser.add_argument("--images", type=int, default=2048, help="training images per epoch")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--no-deterministic", dest="deterministic", action="store_false",
                        help="time deterministic=False only (default: deterministic=True only)")
    parser.add_argument("--both-modes", action="store_true", help="time both, and the cost of deterministic algorithms")
    parser.add_argument("--seed", type=int, default=0, help="for sampled architectures")
    parser.add_argument("--check-every", type=int, default=TrainConfig.check_every, help="trainer steps between divergence checks")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 16 images (and 16 to evaluate), batch 16, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.images, args.repeats, args.batch_size = 16, 1, 16
    n_eval = args.images if args.quick else max(256, args.images // 4)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    spaces = args.space or ["nb201", "nago"]
    if args.dataset == "synthetic":
        data = synthetic(args.images, n_eval)
    else:
        data = load_dataset(args.dataset, train_subset=args.images, val_subset=n_eval, test_subset=0)

    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    print(f"device {device}{f' ({gpu})' if gpu else ''}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}; {data.summary()}; batch {args.batch_size}, "
          f"median of {args.repeats} one-epoch runs")
    rows = []
    for space in spaces:
        try:
            genotype = genotype_for(space, args.arch if len(spaces) == 1 else None, args.seed)
        except Exception as exc:  # a space without a network here
            print(f"{space}: skipped ({exc})")
            continue
        rows.append(row := bench_network(space, genotype, data, args, device))
        print(f"{space:<6} {row['params_M']:.3f} M params, {row['mflops']:.1f} MFLOPs, eval {row['eval_img_s']:.1f} img/s;  {row['arch']}")
        for det, m in row["modes"].items():
            print(f"       deterministic={det!s:<5}  trainer {m['trainer_img_s']:8.1f} img/s  bare loop {m['bare_img_s']:8.1f} img/s  "
                  f"trainer overhead {m['overhead_pct']:+.2f} % (per run {m['per_run_pct']})", flush=True)
        if "determinism_cost_pct" in row:
            print(f"       deterministic algorithms cost {row['determinism_cost_pct']:+.2f} % of the trainer's throughput")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 1024 * 1024)
    line = f"peak resident memory {rss_mb:.0f} MB"
    if device.type == "cuda":
        line += f", peak CUDA memory {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MB"
    print(line)


if __name__ == "__main__":
    main()
