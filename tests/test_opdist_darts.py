"""Differentiable search on the NB201 cell: the supernet, DARTS and distribution DARTS steps, scoring, larger cells, CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from archscape.cli import main
from archscape.data import registry
from archscape.spaces.distribution import counts_from_ratio
from archscape.spaces import get_space

HAVE_MNIST = all(registry.is_available(f"mnist-{p}") for p in ("train-images", "train-labels", "test-images", "test-labels"))
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason="MNIST is not in the data cache (../shared/data/mnist)")
SPACE = get_space("nb201")


@pytest.fixture
def torch():
    """torch on one thread (the cores are shared), restored afterwards."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def fake_data(torch, n_train=96, n_val=48, n_test=0, size=8, classes=3, seed=0):
    """A learnable toy data set in memory: the class sets the mean brightness of a noisy grey image."""
    from archscape.train.datasets import DatasetSplits, Split

    g = torch.Generator().manual_seed(seed)

    def split(n):
        y = torch.randint(0, classes, (n,), generator=g)
        x = (y.view(n, 1, 1, 1).float() * 80 + torch.rand(n, 1, size, size, generator=g) * 60).clamp(0, 255)
        return Split(y, x.to(torch.uint8))

    return DatasetSplits("toy", split(n_train), split(n_val), split(n_test), classes, (1, size, size), (0.4,), (0.3,), False)


def tiny(**settings):
    from archscape.opdist.darts_config import SearchConfig

    base = dict(epochs=2, warmup_epochs=0, batch_size=16, channels=4, cells=1, threads=1, device="cpu")
    return SearchConfig(**{**base, **settings})


def searcher(torch, method, data, seed=0, **settings):
    from archscape.opdist.darts import make_searcher

    torch.manual_seed(seed)
    return make_searcher(method, tiny(**settings).check(method), data, seed)


def batches(torch, s, data, n=16):
    idx = torch.arange(n)
    xt, yt = s.batch(data.train, idx, train=True)
    xv, yv = s.batch(data.val, idx, train=False)
    return xt, yt, xv, yv


def weights_of(model):
    return [p.detach().clone() for p in model.parameters()]


def same(a, b):
    return len(a) == len(b) and all(x.shape == y.shape and bool((x == y).all()) for x, y in zip(a, b))


# ------------------------------------------------------------------ without torch
def test_the_package_and_the_command_import_without_torch():
    code = (
        "import sys, importlib.abc\n"
        "class NoTorch(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError('no torch here')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "import archscape.cli, archscape.opdist.darts, archscape.cli.opdist\n"
        "assert 'torch' not in sys.modules\n"
        "from archscape.cli import main\n"
        "sys.exit(main(['opdist', 'darts', *sys.argv[1:]]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "--method" in proc.stdout and "--large-cell-nodes" in proc.stdout
    # a search without torch: one line naming the extra
    proc = subprocess.run([sys.executable, "-c", code, "--method", "darts"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "archscape[train]" in proc.stderr


# ------------------------------------------------------------------ the supernet
def test_supernet_forward_backward_shapes(torch):
    from archscape.train.supernet import NB201SuperNet

    torch.manual_seed(0)
    net = NB201SuperNet(7, C=4, N=2, in_channels=3)
    alpha = torch.zeros(6, 5, requires_grad=True)
    x = torch.randn(5, 3, 12, 12)
    out = net(x, torch.softmax(alpha, dim=-1))
    assert out.shape == (5, 7)
    out.sum().backward()
    assert alpha.grad.shape == (6, 5) and torch.isfinite(alpha.grad).all() and alpha.grad.abs().sum() > 0
    # every op of every edge takes part in the mixture: all parameters get a gradient
    assert all(p.grad is not None for p in net.parameters())
    with pytest.raises(Exception, match=r"\[6, 5\]"):
        net(x, torch.zeros(5, 5))


def test_supernet_hard_path_runs_only_the_chosen_ops(torch):
    from archscape.train.supernet import NB201SuperNet

    torch.manual_seed(0)
    net = NB201SuperNet(4, C=4, N=1, in_channels=1)
    hard = [3, 3, 1, 3, 4, 2]
    w = torch.nn.functional.one_hot(torch.tensor(hard), 5).float()
    net(torch.randn(4, 1, 8, 8), w, hard).sum().backward()
    for cell in (c for c in net.cells if hasattr(c, "edge_list")):
        for e, mixed in enumerate(cell.edges):
            for k, op in enumerate(mixed.ops):
                grads = [p.grad for p in op.parameters()]
                if k == hard[e]:
                    assert all(g is not None for g in grads)
                else:
                    assert all(g is None for g in grads)


def test_the_one_hot_supernet_is_the_nb201_network_function(torch):
    """With one-hot weights the mixture is that cell: the same output as the fixed network with the same weights."""
    from archscape.train.supernet import CellNetwork, NB201SuperNet

    g = (3, 1, 2, 4, 0, 3)
    torch.manual_seed(0)
    sup = NB201SuperNet(5, C=4, N=1, in_channels=1, affine=True).eval()
    fixed = CellNetwork(g, 5, n_nodes=4, C=4, N=1, in_channels=1).eval()
    # copy the chosen ops' weights (and everything outside the cells) into the fixed network
    sd = sup.state_dict()
    mapped = {}
    for name in fixed.state_dict():
        parts = name.split(".")
        if parts[0] == "cells" and parts[2] == "edges":
            e = int(parts[3])
            mapped[name] = sd[".".join(parts[:4] + ["ops", str(g[e])] + parts[4:])]
        else:
            mapped[name] = sd[name]
    fixed.load_state_dict(mapped)
    x = torch.randn(3, 1, 8, 8)
    w = torch.nn.functional.one_hot(torch.tensor(g), 5).float()
    assert torch.allclose(sup(x, w), fixed(x), atol=1e-5)
    assert torch.allclose(sup(x, w, list(g)), fixed(x), atol=1e-5)


def test_the_four_node_cell_network_is_nb201s(torch):
    from archscape.spaces.nb201 import EDGES
    from archscape.train.models import build_network
    from archscape.train.supernet import CellNetwork, cell_edges

    assert cell_edges(4) == EDGES and len(cell_edges(8)) == 28
    g = (3, 1, 2, 4, 0, 3)
    torch.manual_seed(1)
    ref = build_network("nb201", g, num_classes=10, in_channels=1, C=8, N=2).eval()
    torch.manual_seed(1)
    net = CellNetwork(g, 10, n_nodes=4, C=8, N=2, in_channels=1).eval()
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in ref.parameters())
    x = torch.randn(2, 1, 16, 16)
    assert torch.equal(net(x), ref(x))
    # the benchmark's own size is untouched: C=16, N=5 on CIFAR has NB201's 1.531546 M parameters (table value)
    big = build_network("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
                        num_classes=10)
    assert sum(p.numel() for p in big.parameters()) == 1_531_546


# ------------------------------------------------------------------ DARTS steps
def test_an_architecture_step_moves_alpha_and_a_weight_step_does_not(torch):
    data = fake_data(torch)
    s = searcher(torch, "darts", data)
    xt, yt, xv, yv = batches(torch, s, data)
    a0, w0 = s.alpha.detach().clone(), weights_of(s.model)
    s.arch_step(xv, yv, xt, yt)
    assert not torch.equal(s.alpha.detach(), a0)
    assert same(weights_of(s.model), w0)  # first order: the weights stay
    a1 = s.alpha.detach().clone()
    s.weight_step(xt, yt)
    assert torch.equal(s.alpha.detach(), a1)
    assert not same(weights_of(s.model), w0)


def test_second_order_restores_weights_and_statistics_and_differs_from_first_order(torch):
    data = fake_data(torch)
    grads = {}
    for order in (False, True):
        s = searcher(torch, "darts", data, second_order=order)
        xt, yt, xv, yv = batches(torch, s, data)
        s.weight_step(xt, yt)  # a momentum buffer, as in a running search
        w0 = weights_of(s.model)
        b0 = [b.clone() for b in s.model.buffers()]
        a0 = s.alpha.detach().clone()
        s.arch_step(xv, yv, xt, yt)
        grads[order] = s.alpha.grad.detach().clone()
        assert not torch.equal(s.alpha.detach(), a0)
        assert same(weights_of(s.model), w0)
        if order:
            assert same([b.clone() for b in s.model.buffers()], b0)
    assert grads[False].shape == grads[True].shape == (6, 5)
    assert not torch.allclose(grads[False], grads[True])


def test_argmax_derivation_is_a_valid_nb201_cell(torch):
    s = searcher(torch, "darts", fake_data(torch))
    rng = np.random.default_rng(0)
    for _ in range(5):
        target = tuple(int(v) for v in rng.integers(0, 5, 6))
        with torch.no_grad():
            s.alpha.copy_(torch.randn(6, 5) * 0.01)
            for e, o in enumerate(target):
                s.alpha[e, o] = 1.0
        g = s.derive()
        assert g == target and SPACE.as_genotype(g) == g
        assert SPACE.parse(SPACE.format(g)) == g


# ------------------------------------------------------------------ distribution steps
@pytest.mark.parametrize("estimator", ["gumbel-st", "gumbel-soft", "reinforce", "expected"])
def test_distribution_steps_move_theta_only_in_the_architecture_step(torch, estimator):
    data = fake_data(torch)
    s = searcher(torch, "distribution", data, estimator=estimator)
    xt, yt, xv, yv = batches(torch, s, data)
    if estimator == "reinforce":
        s.arch_step(xv, yv, tau=1.0)  # the first step sets the baseline: no advantage yet
    t0, w0 = s.theta.detach().clone(), weights_of(s.model)
    moved = False
    for _ in range(3):
        s.arch_step(xv, yv, tau=1.0)
        moved |= not torch.equal(s.theta.detach(), t0)
    assert moved and same(weights_of(s.model), w0)
    t1 = s.theta.detach().clone()
    s.weight_step(xt, yt, 1.0)
    assert torch.equal(s.theta.detach(), t1) and not same(weights_of(s.model), w0)
    assert len(s.ratio()) == 5 and math.isclose(sum(s.ratio()), 1.0)


def test_reinforce_lowers_the_logits_of_a_cell_worse_than_the_baseline(torch):
    data = fake_data(torch)
    s = searcher(torch, "distribution", data, estimator="reinforce", arch_weight_decay=0.0)
    xt, yt, xv, yv = batches(torch, s, data)
    s.baseline = -100.0  # every loss is far worse than this baseline: the sampled ops must lose probability
    gen_state = s.arch_gen.get_state()
    weights, hard = s._sample(1.0, relaxed=False)
    s.arch_gen.set_state(gen_state)
    s.arch_step(xv, yv, tau=1.0)
    counts = np.bincount(hard, minlength=5)
    # the gradient is advantage * (counts - 6 p) with p uniform: positive exactly where an op was drawn more than 1.2 times
    grad = s.theta.grad.numpy()
    assert np.all(np.sign(grad) == np.sign(counts - 6 * 0.2))


def test_gumbel_max_draws_follow_the_ratio(torch):
    s = searcher(torch, "distribution", fake_data(torch), estimator="gumbel-st")
    p = np.array([0.05, 0.1, 0.15, 0.5, 0.2])
    with torch.no_grad():
        s.theta.copy_(torch.log(torch.tensor(p, dtype=torch.float32)))
    draws = np.concatenate([s._sample(5.0, relaxed=False)[1] for _ in range(1000)])
    freq = np.bincount(draws, minlength=5) / draws.size
    assert np.abs(freq - p).max() < 0.02  # 6,000 draws: 4 standard errors of the largest entry


@pytest.mark.parametrize("method", ["round", "multinomial"])
def test_the_sampled_cell_has_the_op_counts_of_the_learned_ratio(torch, method):
    from archscape.train.darts_search import TAG_FINAL as _TAG_FINAL

    rng = np.random.default_rng(5)
    for trial in range(20):
        s = searcher(torch, "distribution", fake_data(torch), seed=trial, ratio_method=method)
        logits = rng.normal(0, 2, 5)
        with torch.no_grad():
            s.theta.copy_(torch.tensor(logits, dtype=torch.float32))
        g = s.derive()
        counts = np.bincount(g, minlength=5)
        assert SPACE.as_genotype(g) == g and counts.sum() == 6
        ref_rng = np.random.default_rng(np.random.SeedSequence(trial, spawn_key=(_TAG_FINAL,)))
        assert tuple(counts) == counts_from_ratio(s.ratio(), 6, method=method, rng=ref_rng)


# ------------------------------------------------------------------ whole searches
@pytest.mark.parametrize("method, settings", [
    ("darts", {}), ("darts", {"second_order": True}), ("distribution", {}),
    ("distribution", {"estimator": "gumbel-st"}), ("distribution", {"estimator": "reinforce"}),
])
def test_the_same_seed_gives_the_same_search(torch, method, settings):
    from archscape.opdist.darts import search

    data = fake_data(torch, n_train=48, n_val=32)
    before = torch.random.get_rng_state()
    runs = [search(method, tiny(**settings), seed=s, data=data) for s in (3, 3, 4)]
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's random state is left alone
    a, b, c = runs
    assert a.genotype == b.genotype and a.probabilities == b.probabilities and a.scores == b.scores
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert a.probabilities != c.probabilities
    assert len(a.history) == 3 and a.history[0]["epoch"] == 0 and a.search_time > 0


def test_a_search_result_is_scored_by_the_tables(torch):
    from archscape.benchmarks import load_benchmark
    from archscape.opdist.cell_scores import placements
    from archscape.opdist.darts import search

    r = search("distribution", tiny(), seed=0, data=fake_data(torch))
    for key, name in (("cifar10", "nb201-cifar10"), ("cifar100", "nb201-cifar100"), ("imagenet16", "nb201-imagenet16")):
        bench = load_benchmark(name)
        assert r.scores[key] == bench.query(r.genotype, noise="mean").metrics["val_acc"]
        col = bench.query_rows(np.arange(bench.size), noise="mean")["val_acc"]
        assert r.percentiles[key] == pytest.approx(100 * np.mean(col < r.scores[key]))
        mean = np.mean([bench.query(g, noise="mean").metrics["val_acc"] for g in placements(r.counts)])
        assert r.counts_scores[key] == pytest.approx(mean)
    assert sum(r.counts) == 6 and r.arch == SPACE.format(r.genotype)
    json.dumps(r.to_dict())


def test_placements_are_every_cell_with_the_counts():
    from archscape.opdist.cell_scores import placements

    cells = placements((1, 2, 0, 3, 0))
    assert len(cells) == math.factorial(6) // (2 * 6) and len(set(cells)) == len(cells)
    assert all(tuple(np.bincount(c, minlength=5)) == (1, 2, 0, 3, 0) for c in cells)
    assert placements((0, 0, 0, 6, 0)) == [(3,) * 6]


# ------------------------------------------------------------------ larger cells
def test_a_large_cell_network_trains_one_step(torch):
    from archscape.opdist.retrain import format_cell, large_cell_ops
    from archscape.train.supernet import CellNetwork

    ratio = (0.1, 0.2, 0.2, 0.4, 0.1)
    ops = large_cell_ops(ratio, 8, np.random.default_rng(0))
    assert len(ops) == 28 and tuple(np.bincount(ops, minlength=5)) == counts_from_ratio(ratio, 28)
    text = format_cell(ops, 8)
    assert text.count("+") == 6 and text.count("~") == 28
    assert format_cell((3, 1, 2, 4, 0, 3), 4) == SPACE.format((3, 1, 2, 4, 0, 3))
    torch.manual_seed(0)
    net = CellNetwork(ops, 3, n_nodes=8, C=4, N=1, in_channels=1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    x, y = torch.randn(8, 1, 8, 8), torch.randint(0, 3, (8,))
    w0 = weights_of(net)
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    assert math.isfinite(float(loss.detach())) and not same(weights_of(net), w0)
    with pytest.raises(Exception, match="28 op indices"):
        CellNetwork(ops[:-1], 3, n_nodes=8)


def test_search_with_retraining_and_a_large_cell(torch):
    from archscape.opdist.darts import search

    data = fake_data(torch, n_test=24)
    r = search("darts", tiny(retrain_epochs=1, large_cell_nodes=5, large_cell_epochs=1), seed=0, data=data)
    assert r.retrain["arch"] == r.arch and 0 <= r.retrain["val_acc"] <= 100 and r.retrain["test_acc"] is not None
    lc = r.large_cell
    assert lc["n_nodes"] == 5 and lc["n_edges"] == 10 and sum(lc["counts"]) == 10
    # DARTS grows its cell with the op ratio of the derived cell
    assert lc["ratio"] == pytest.approx([c / 6 for c in r.counts])
    assert tuple(lc["counts"]) == counts_from_ratio(lc["ratio"], 10)


# ------------------------------------------------------------------ bad input
def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, fragment", [
    (["--method", "darts", "--estimator", "reinforce"], "--estimator is for --method distribution"),
    (["--method", "distribution", "--second-order"], "--second-order is for --method darts"),
    (["--method", "distribution", "--estimator", "magic"], "unknown estimator 'magic'"),
    (["--method", "darts", "--seeds", "a,b"], "seeds are comma-separated integers"),
    (["--method", "darts", "--seeds", "1,1"], "distinct"),
    (["--method", "darts", "--epochs", "0"], "epochs=0"),
    (["--method", "darts", "--epochs", "2", "--warmup-epochs", "2"], "warmup_epochs=2"),
    (["--method", "darts", "--large-cell-nodes", "1"], "large_cell_nodes=1"),
    (["--method", "darts", "--dataset", "svhn"], "unknown data set"),
    (["--method", "darts", "--batch-size", "1"], "batch_size=1"),
    (["--method", "darts", "--val-subset", "1"], "val_subset=1"),
    (["--method", "bogus"], "Invalid value for '--method'"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, torch, args, fragment):
    code, out, err = run(capsys, "opdist", "darts", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err


def test_an_absent_gpu_is_one_line(capsys, torch):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    code, _, err = run(capsys, "opdist", "darts", "--method", "darts", "--device", "cuda")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "CUDA" in err


def test_bad_api_settings_are_rejected(torch):
    from archscape.errors import ArchscapeError
    from archscape.opdist.darts import darts_search, search
    from archscape.opdist.darts_config import check_seeds

    with pytest.raises(ArchscapeError, match="unknown search method"):
        search("enas", tiny(), data=fake_data(torch))
    with pytest.raises(ArchscapeError, match="unknown search setting"):
        darts_search(tiny(), data=fake_data(torch), colour="red")
    with pytest.raises(ArchscapeError, match="seed"):
        darts_search(tiny(), seed=-1, data=fake_data(torch))
    assert check_seeds("0,1,2") == (0, 1, 2) and check_seeds([4]) == (4,)


# ------------------------------------------------------------------ on MNIST
@pytest.mark.slow
@needs_mnist
def test_a_short_search_on_mnist_is_scored_by_the_table(torch):
    from archscape.benchmarks import load_benchmark
    from archscape.opdist.darts import darts_search, distribution_search, load_search_data

    cfg = tiny(epochs=1, train_subset=300, val_subset=100, test_subset=100)
    data = load_search_data(cfg)
    assert len(data.train) == 300 and len(data.val) == 100
    bench = load_benchmark("nb201-cifar10")
    for fn in (darts_search, distribution_search):
        r = fn(cfg, seed=0, data=data)
        assert SPACE.as_genotype(r.genotype) == r.genotype
        assert r.scores["cifar10"] == bench.query(r.genotype, noise="mean").metrics["val_acc"]
        assert math.isfinite(r.history[-1]["train_loss"]) and r.history[-1]["train_loss"] < 2.5


@pytest.mark.slow
@needs_mnist
def test_the_command_on_mnist_writes_results_and_trajectories(capsys, torch, tmp_path):
    from archscape.benchmarks import load_benchmark

    args = ["opdist", "darts", "--method", "distribution", "--train-subset", "300", "--val-subset", "100",
            "--test-subset", "100", "--epochs", "2", "--warmup-epochs", "0", "--batch-size", "32", "-C", "4",
            "--seeds", "0,1", "--large-cell-nodes", "5", "--large-cell-epochs", "1"]
    code, out, err = run(capsys, *args, "--json", "--out", str(tmp_path))
    assert code == 0, err
    obj = json.loads(out)
    assert [r["seed"] for r in obj["runs"]] == [0, 1] and obj["summary"]["n"] == 2
    bench = load_benchmark("nb201-imagenet16")
    for r in obj["runs"]:
        assert r["scores"]["imagenet16"] == bench.query(tuple(r["genotype"]), noise="mean").metrics["val_acc"]
        assert sum(r["counts"]) == 6 and len(r["ratio"]) == 5 and len(r["history"]) == 3
        assert r["large_cell"]["n_edges"] == 10
    mean = np.mean([r["scores"]["cifar10"] for r in obj["runs"]])
    assert obj["summary"]["cifar10"]["mean"] == pytest.approx(mean)
    assert json.loads((tmp_path / "results.json").read_text()) == obj
    rows = (tmp_path / "trajectory.csv").read_text().splitlines()
    assert rows[0].startswith("seed,epoch,edge,none") and len(rows) == 1 + 2 * 3
    assert (tmp_path / "trajectory-seed0.png").stat().st_size > 1000 and (tmp_path / "trajectory-seed1.png").exists()
    # the text form: per seed the cell and the three tables, then the summary
    code, out, _ = run(capsys, *args[:-4], "--seeds", "0")
    assert code == 0 and "learned ratio" in out and "ImageNet16" in out and "summary over 1 seed" in out
    assert obj["runs"][0]["arch"] in out  # the same seed finds the same cell


def test_the_unrolled_gradient_is_the_exact_second_order_gradient(torch, monkeypatch):
    """In float64 with a small finite-difference step, the unrolled gradient equals autograd's exact
    d/d alpha L_val(w - lr * (momentum * buf + dL_train/dw + wd * w), alpha)."""
    from archscape.train import darts_search

    monkeypatch.setattr(darts_search, "UNROLL_EPS", 1e-6)
    F = torch.nn.functional
    data = fake_data(torch)
    s = searcher(torch, "darts", data, second_order=True)
    xt, yt, xv, yv = batches(torch, s, data)
    s.weight_step(xt, yt)
    s.weight_step(xt, yt)
    s.model.double()
    s.alpha = s.alpha.detach().double().requires_grad_(True)
    for state in s.w_opt.state.values():
        state["momentum_buffer"] = state["momentum_buffer"].double()
    xt, xv = xt.double(), xv.double()
    approx, _, _ = s._unrolled_grad(xv, yv, xt, yt)

    names, params = zip(*s.model.named_parameters())
    eta, wd, m = s.lr, s.cfg.weight_decay, s.cfg.momentum
    w = torch.softmax(s.alpha, -1)
    g = torch.autograd.grad(F.cross_entropy(s.model(xt, w), yt), params, create_graph=True)
    virtual = {n: p - eta * (gi + wd * p + m * s.w_opt.state[p]["momentum_buffer"]) for n, p, gi in zip(names, params, g)}
    (exact,) = torch.autograd.grad(F.cross_entropy(torch.func.functional_call(s.model, virtual, (xv, w)), yv), [s.alpha])
    (first,) = torch.autograd.grad(F.cross_entropy(s.model(xv, torch.softmax(s.alpha, -1)), yv), [s.alpha])
    assert torch.allclose(approx, exact, rtol=1e-5, atol=1e-8)
    assert not torch.allclose(first, exact, rtol=1e-3)  # the second-order term matters here
