"""The trainer and the train evaluator: it learns, it is reproducible, failures are recorded and the search goes on."""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from archscape import spaces  # noqa: E402
from archscape.data import registry  # noqa: E402
from archscape.errors import ArchscapeError  # noqa: E402
from archscape.run.config import config_from_mapping  # noqa: E402
from archscape.run.runner import run_study  # noqa: E402
from archscape.run.store import Store  # noqa: E402
from archscape.spaces.nb201 import NB201Space  # noqa: E402
from archscape.train.datasets import load_dataset  # noqa: E402
from archscape.train.evaluator import TrainEvaluator  # noqa: E402
from archscape.train.trainer import TrainConfig, Trainer, TrainingFailed, _make_schedule, resolve_device  # noqa: E402

HAVE_MNIST = all(registry.is_available(f"mnist-{p}") for p in ("train-images", "train-labels", "test-images", "test-labels"))
pytestmark = pytest.mark.skipif(not HAVE_MNIST, reason="MNIST is not in the data cache (../shared/data/mnist)")


def tiny_cnn(in_channels: int = 1, num_classes: int = 10, size: int = 28) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * (size // 4) ** 2, num_classes),
    )


@pytest.fixture(scope="module")
def mnist2000():
    return load_dataset("mnist", train_subset=2000, val_subset=500, test_subset=500)


@pytest.fixture(scope="module")
def mnist300():
    return load_dataset("mnist", train_subset=300, val_subset=100, test_subset=100)


# ------------------------------------------------------------------ the trainer
def test_a_tiny_cnn_learns_mnist_in_one_epoch(mnist2000):
    result = Trainer(TrainConfig(epochs=1, batch_size=32)).fit(tiny_cnn, mnist2000, seed=0)
    assert result.val_acc > 70 and result.test_acc > 70  # chance is 10 %
    assert result.curve == (result.val_acc,) and len(result.loss_curve) == 1 and result.loss_curve[0] < 2.0
    assert result.params == sum(p.numel() for p in tiny_cnn().parameters())
    # MACs of one image: conv1 28*28*8*9, conv2 14*14*16*8*9, linear 784*10
    assert result.flops == pytest.approx((28 * 28 * 8 * 9 + 14 * 14 * 16 * 72 + 784 * 10) / 1e6)
    assert result.train_time > 0 and result.eval_time > 0 and result.images_per_second > 0
    assert result.device == str(resolve_device("auto")) and result.epochs == 1 and result.n_train == 2000
    m = result.metrics()
    assert m["params"] == pytest.approx(result.params / 1e6) and m["curve"] == [result.val_acc]


def test_the_same_seed_gives_the_identical_curve_and_leaves_the_callers_rng_alone(mnist300):
    trainer = Trainer(TrainConfig(epochs=2, batch_size=50))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = trainer.fit(tiny_cnn, mnist300, seed=7)
    assert torch.equal(torch.rand(3), expected)  # fit ran in a forked RNG
    b = trainer.fit(tiny_cnn, mnist300, seed=7)
    c = trainer.fit(tiny_cnn, mnist300, seed=8)
    assert a.curve == b.curve and a.loss_curve == b.loss_curve and a.test_acc == b.test_acc and len(a.curve) == 2
    assert a.loss_curve != c.loss_curve
    assert not torch.are_deterministic_algorithms_enabled()  # restored after the run


def test_a_diverging_run_raises_training_failed_with_its_reason(mnist300):
    with pytest.raises(TrainingFailed, match=r"training diverged: the loss became (NaN|infinite) at epoch 1/3, step \d+/6 \(lr 1e\+06, sgd\)") as err:
        Trainer(TrainConfig(epochs=3, batch_size=50, lr=1e6, check_every=1)).fit(tiny_cnn, mnist300, seed=0)
    assert err.value.epoch == 1 and err.value.curve == ()


def test_adam_step_schedule_hints_and_augmentation(mnist300):
    r = Trainer(TrainConfig(epochs=2, optimizer="adam", schedule="step", step_size=1, batch_size=64)).fit(tiny_cnn, mnist300, seed=0)
    assert r.val_acc > 30 and r.lr == 1e-3

    class Hinted(nn.Module):  # a network that carries its own training settings (like the cnn space's lr)
        training_hints = {"lr": 0.02, "batch_size": 40, "unknown": 1}

        def __init__(self):
            super().__init__()
            self.net = tiny_cnn()

        def forward(self, x):
            return self.net(x)

    r = Trainer(TrainConfig(epochs=1)).fit(Hinted, mnist300, seed=0)
    assert (r.lr, r.batch_size) == (0.02, 40)
    r = Trainer(TrainConfig(epochs=1, network_hints=False)).fit(Hinted, mnist300, seed=0)
    assert (r.lr, r.batch_size) == (0.05, 128)
    # augmentation (crop + flip) and an odd final batch of one image (dropped: batch norm needs two)
    aug = load_dataset("mnist", train_subset=101, val_subset=50, test_subset=0, augment=True)
    net = lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))  # noqa: E731
    r1 = Trainer(TrainConfig(epochs=1, batch_size=50)).fit(net, aug, seed=1)
    r2 = Trainer(TrainConfig(epochs=1, batch_size=50)).fit(net, aug, seed=1)
    assert r1.curve == r2.curve and r1.n_train == 100 and r1.test_acc is None


def test_schedules_over_the_epochs_of_the_run():
    def lrs(schedule, epochs=4, steps=5, **kw):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=1.0)
        sched = _make_schedule(opt, TrainConfig(schedule=schedule, **kw), epochs, steps)
        out = []
        for _ in range(epochs):
            for _ in range(steps):
                out.append(opt.param_groups[0]["lr"])
                opt.step()
                if schedule != "step" and sched is not None:
                    sched.step()
            if schedule == "step":
                sched.step()
        return out

    cos = lrs("cosine")
    assert cos[0] == 1.0 and cos[10] == pytest.approx(0.5) and cos[-1] < 0.01 and all(a >= b for a, b in zip(cos, cos[1:]))
    assert lrs("step", step_size=2)[::5] == pytest.approx([1, 1, 0.1, 0.1])
    assert set(lrs("constant")) == {1.0}


def test_bad_settings_are_one_line():
    for bad, match in (({"optimizer": "rmsprop"}, "optimizer='rmsprop'; accepted: sgd, adam, adamw"),
                       ({"epochs": 0}, "epochs=0; accepted: an integer >= 1"),
                       ({"device": "tpu"}, "accepted: auto, cpu, cuda"),
                       ({"lr": -1.0}, "lr=-1.0")):
        with pytest.raises(ArchscapeError, match=match):
            Trainer(TrainConfig(**bad))
    if not torch.cuda.is_available():
        with pytest.raises(ArchscapeError, match="no usable CUDA GPU"):
            Trainer(TrainConfig(device="cuda"))


def test_a_lazily_read_image_folder_trains(tmp_path):
    from PIL import Image
    import numpy as np

    rng = np.random.default_rng(0)
    for c in ("dark", "light"):
        (tmp_path / c).mkdir()
        for i in range(12):
            base = 30 if c == "dark" else 220
            Image.fromarray(np.clip(rng.normal(base, 20, (8, 8)), 0, 255).astype(np.uint8), mode="L").save(tmp_path / c / f"{i}.png")
    data = load_dataset("imagefolder", root=tmp_path, max_memory=10, val_fraction=0.25, test_fraction=0.25)
    assert not data.train.in_memory
    net = lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 2))  # noqa: E731
    r = Trainer(TrainConfig(epochs=3, batch_size=4, lr=0.1)).fit(net, data, seed=0)
    assert r.val_acc == 100.0 and r.test_acc == 100.0


# ------------------------------------------------------------------ the train evaluator
def _tiny_builder(genotype, *, num_classes, in_channels, input_size, width=8):
    net = tiny_cnn(in_channels, num_classes, input_size)
    if genotype[0] in (0, 1):  # these architectures diverge: their (searched) learning rate is absurd
        net.training_hints = {"lr": 1e6}
    return net


class TinyNB201(NB201Space):
    """NB201's genotypes, trained as a tiny CNN (some of them diverge)."""

    name = "tiny-nb201"
    network = "test_trainer:_tiny_builder"


@pytest.fixture()
def tiny_space():
    """A space 'tiny-nb201', registered for the test only."""
    spaces.register_space("tiny-nb201", TinyNB201)
    yield "tiny-nb201"
    spaces.SPACES.unregister("tiny-nb201")


def test_train_evaluator_outcome_seed_and_fidelity(tiny_space, mnist300):
    ev = TrainEvaluator(tiny_space, {"epochs": 1, "batch_size": 50}, data=mnist300)
    assert ev.objective == "val_acc" and ev.report_metric == "test_acc" and ev.fidelity == 1
    good, bad = (2, 3, 3, 3, 3, 3), (0, 3, 3, 3, 3, 3)
    out = ev.evaluate(good, 0.25)
    assert out.status == "ok" and out.error is None and out.row is None
    assert out.objective == out.metrics["val_acc"] > 30 and out.report == out.metrics["test_acc"]
    assert out.noise_seed == int(0.25 * 2**31) and out.fidelity == 1 and out.cost == out.metrics["train_time"]
    assert {"params", "flops", "train_time", "curve", "loss_curve", "epochs"} <= set(out.metrics)
    assert ev.evaluate(good, 0.25).objective == out.objective  # the same u trains the same network
    two = ev.evaluate(good, 0.25, fidelity=2)
    assert two.fidelity == 2 and len(two.metrics["curve"]) == 2
    failed = ev.evaluate(bad, 0.5)
    assert failed.status == "failed" and "diverged" in failed.error and math.isnan(failed.objective)
    fixed = TrainEvaluator(tiny_space, {"epochs": 1}, noise=5, data=mnist300)
    assert fixed.evaluate(good, 0.1).noise_seed == fixed.evaluate(good, 0.9).noise_seed == 5
    with pytest.raises(ArchscapeError, match="noise must be 'seed' or a seed number"):
        TrainEvaluator(tiny_space, {}, noise="mean", data=mnist300)
    with pytest.raises(ArchscapeError, match="has no network builder"):
        TrainEvaluator("graph", {}, data=mnist300)


def _train_config(space, **over):
    data = {
        "evaluator": "train", "space": space, "optimizers": ["random"], "budget": 6, "trials": 1, "seed": 1,
        "train": {"dataset": "mnist", "epochs": 1, "batch_size": 50, "train_subset": 300, "val_subset": 100, "test_subset": 100},
    }
    data.update(over)
    return config_from_mapping(data)


COLUMNS = ["k", "arch", "objective", "report", "noise_seed", "fidelity", "status", "error"]


def _frame(path):
    with Store(path, create=False) as store:
        return store.evaluation_frame(store.studies()[0].id)


def test_failed_trainings_are_recorded_and_the_search_goes_on_and_resumes(tiny_space, tmp_path):
    config = _train_config(tiny_space)
    store = tmp_path / "s.sqlite"
    run_study(config, store)
    f = _frame(store)
    assert len(f) == 6 and set(f.status) == {"ok", "failed"}
    failed = f[f.status == "failed"]
    assert failed.objective.isna().all() and failed.error.str.contains("diverged").all()
    ok = f[f.status == "ok"]
    assert (ok.objective > 20).all() and (ok.fidelity == 1).all() and ok.metrics.str.contains('"curve": ').all()
    with Store(store, create=False) as s:
        study = s.studies()[0]
    assert study.benchmark == "train:tiny-nb201/mnist" and study.info["objective"] == "val_acc"
    # the report of a trained study says no optimum is known: regret is the error, no "k/n reached the optimum"
    from archscape.report import write_report

    index = write_report([store], tmp_path / "report")
    page = index.read_text()
    assert "unknown (networks are trained, not looked up)" in page and "no optimum is known: networks are trained" in page
    import pandas as pd

    results = pd.read_csv(tmp_path / "report" / "results.csv")
    assert results.optimum_rate.tolist() == ["–"] and results.optimum_hits.tolist() == [-1]
    assert results.regret_mean.iloc[0] == pytest.approx(100 - results.report_mean.iloc[0])
    front = pd.read_csv(tmp_path / "report" / "pareto.csv")
    assert len(front) >= 1 and (tmp_path / "report" / "plots" / f"{front.comparison.iloc[0]}-pareto.png").is_file()
    ok = f[f.status == "ok"]
    sizes = ok.metrics.map(lambda m: json.loads(m)["params"])
    for row in front.itertuples():  # nothing successful is at least as good on both and better on one
        dominated = ((ok.objective >= row.objective) & (sizes <= row.size) & ((ok.objective > row.objective) | (sizes < row.size)))
        assert not dominated.any()
    assert ok.objective.max() == front.objective.max()
    # resume after losing the last three evaluations: retraining gives the same numbers
    copy = tmp_path / "resumed.sqlite"
    shutil.copy(store, copy)
    con = sqlite3.connect(copy)
    con.execute("DELETE FROM evaluation WHERE k >= 3")
    con.execute("UPDATE trial SET state='running'")
    con.commit()
    con.close()
    run_study(config.model_copy(update={"train": config.train.model_copy(update={"device": "cpu"})}), copy)
    assert _frame(copy)[COLUMNS].equals(f[COLUMNS])


def test_the_fidelity_an_optimizer_requests_is_used_and_stored(tmp_path):
    from archscape.search import OPTIMIZERS
    from archscape.search.random import RandomSearch

    class TwoFidelities(RandomSearch):
        name = "two-fidelities"

        def requested_fidelity(self, genotype):
            return 12 if len(self.history_) % 2 == 0 else None  # None: the study's fidelity

    OPTIMIZERS.register("two-fidelities", TwoFidelities)
    try:
        _requests_used_and_replayed(tmp_path)
    finally:
        OPTIMIZERS.unregister("two-fidelities")


def _requests_used_and_replayed(tmp_path):
    config = config_from_mapping({"benchmark": "nb201-cifar10", "optimizers": ["two-fidelities"], "budget": 6, "trials": 2})
    run_study(config, tmp_path / "mf.sqlite")
    f = _frame(tmp_path / "mf.sqlite")
    assert f.fidelity.tolist() == [12, 200] * 6
    # the 12-epoch table has test accuracies, the 200-epoch one has not; the report stays the study's (200 epochs)
    assert f[f.fidelity == 12].metrics.str.contains("test_acc").all() and not f[f.fidelity == 200].metrics.str.contains("test_acc").any()
    from archscape.benchmarks import load_benchmark

    bench = load_benchmark("nb201-cifar10")
    for arch, report in zip(f.arch, f.report):
        assert report == pytest.approx(bench.query(arch, noise="mean", fidelity=200).metrics["val_acc"])
    # replaying the requests on resume
    con = sqlite3.connect(tmp_path / "mf.sqlite")
    con.execute("DELETE FROM evaluation WHERE k >= 3")
    con.execute("UPDATE trial SET state='running'")
    con.commit()
    con.close()
    run_study(config, tmp_path / "mf.sqlite")
    assert _frame(tmp_path / "mf.sqlite")[COLUMNS].equals(f[COLUMNS])


def test_run_config_and_cli_validate_train_settings(tmp_path):
    with pytest.raises(ArchscapeError, match="unknown key 'train.epocs'; accepted: dataset"):
        config_from_mapping({"evaluator": "train", "optimizers": "random", "budget": 1, "trials": 1, "train": {"epocs": 2}})
    table = config_from_mapping({"optimizers": "random", "budget": 1, "trials": 1})
    assert "train" not in table.identity() and "evaluator" not in table.identity()  # tabular fingerprints unchanged
    a = _train_config("nb201")
    b = a.model_copy(update={"train": a.train.model_copy(update={"device": "cuda", "num_workers": 4})})
    assert a.fingerprint() == b.fingerprint()  # where it runs is not what it computes
    assert a.fingerprint() != _train_config("nb201", seed=2).fingerprint()
    from archscape.cli import main

    assert main(["run", "-o", "random", "--budget", "1", "--trials", "1", "--dataset", "mnist", "--store", str(tmp_path / "x.sqlite")]) == 2


@pytest.mark.slow
def test_cli_trains_the_nb201_network_on_mnist(tmp_path):
    pytest.importorskip("archscape.train.models.nb201")
    config = tmp_path / "c.yaml"
    config.write_text("train:\n  network: {C: 4, N: 1}\n  test_subset: 100\n")
    store = tmp_path / "nb201.sqlite"
    cmd = [sys.executable, "-m", "archscape.cli", "run", "--config", str(config), "--space", "nb201", "--evaluator", "train",
           "--dataset", "mnist", "--epochs", "1", "--train-subset", "300", "--val-subset", "100", "--batch-size", "64",
           "-o", "random", "--budget", "2", "--trials", "1", "--no-progress", "--store", str(store)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "2 evaluations in 1 trials" in done.stdout
    f = _frame(store)
    assert len(f) == 2 and (f.fidelity == 1).all() and f.noise_seed.notna().all()
    assert f.status.eq("ok").all() or f.error.notna().all()
    # --resume may change the device (not the numbers); other flags are refused
    again = subprocess.run([sys.executable, "-m", "archscape.cli", "run", "--resume", str(store), "--device", "cpu", "--no-progress"],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    refused = subprocess.run([sys.executable, "-m", "archscape.cli", "run", "--resume", str(store), "--epochs", "3"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "drop --epochs" in refused.stderr
    script = textwrap.dedent(
        """
        import sys
        import archscape.cli, archscape.run.runner, archscape.run.config
        sys.exit('torch' in sys.modules)
        """
    )
    assert subprocess.run([sys.executable, "-c", script]).returncode == 0  # the CLI starts without torch
