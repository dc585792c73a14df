"""Networks built from genotypes (optional extra ``train``): NB201, NB101, DARTS, NAS-Bench-Macro, cnn."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import numpy as np

from archscape.benchmarks import load_benchmark
from archscape.data import registry
from archscape.errors import ArchscapeError
from archscape.spaces import get_space
from archscape.spaces.cnn import INDEX, CNNSpace, count_network_parameters
from archscape.train.models import build_network
from archscape.train.models.flops import count_flops, count_parameters
from archscape.train.models.ops import FactorizedReduce, SamePad2d, same_padding

#: small widths so that a forward + backward pass takes milliseconds
SMALL = {
    "nb201": {"C": 8, "N": 1},
    "nb101": {"C": 16, "cells": 1},
    "darts": {"C": 8, "layers": 3},
    "macro": {"C": 8, "last_channels": 32},
}
DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
#: a cnn space with small widths and every structural choice open
SMALL_CNN = CNNSpace(
    name="cnn-small",
    domains={
        "filters_": range(2, 9), "dense_size_": range(17), "stack_": range(3),
        "max_pooling": (True, False), "activation": ("relu", "elu", "tanh", "sigmoid", "selu"),
    },
)  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny batches: one thread is fastest, and avoids OpenMP spin-waits on a busy machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _needs(name: str):
    return pytest.mark.skipif(not registry.is_available(name), reason=f"data not available: {name}")


def _step(model, x, num_classes: int):
    """One forward + backward pass; returns the logits."""
    model.train()
    out = model(x)
    assert out.shape == (x.shape[0], num_classes)
    loss = torch.nn.functional.cross_entropy(out, torch.arange(x.shape[0]) % num_classes)
    aux = getattr(model, "aux_logits", None)
    if aux is not None:
        loss = loss + model.auxiliary_weight * torch.nn.functional.cross_entropy(aux, torch.arange(x.shape[0]) % num_classes)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None for g in grads)
    assert all(torch.isfinite(g).all() for g in grads if g is not None)
    assert torch.isfinite(out).all()
    return out


# ---------------------------------------------------------------- every space
@pytest.mark.parametrize("space", ["nb201", "nb101", "darts", "macro"])
@pytest.mark.parametrize("shape", [(3, 32), (1, 28)], ids=["cifar", "mnist"])
def test_sampled_networks_train_one_step(space, shape):
    channels, size = shape
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    sp = get_space(space)
    for _ in range(3):
        g = sp.sample(rng)
        model = build_network(space, g, num_classes=7, in_channels=channels, input_size=size, **SMALL[space])
        _step(model, torch.randn(2, channels, size, size), 7)
        model.eval()
        with torch.no_grad():
            assert model(torch.randn(2, channels, size, size)).shape == (2, 7)


@pytest.mark.parametrize("shape", [(3, 32), (1, 28)], ids=["cifar", "mnist"])
def test_sampled_cnn_networks_train_one_step(shape):
    channels, size = shape
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    for _ in range(8):
        g = SMALL_CNN.sample(rng)
        model = build_network("cnn-broad", g, num_classes=10, in_channels=channels, input_size=size)
        _step(model, torch.randn(2, channels, size, size), 10)
        assert count_parameters(model) == count_network_parameters(g, num_classes=10, in_channels=channels, input_size=size)


def test_networks_accept_text_genotypes():
    assert isinstance(build_network("nb201", "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|", num_classes=10, C=4, N=1), torch.nn.Module)
    assert isinstance(build_network("macro", "02012100", num_classes=10, C=4, last_channels=8), torch.nn.Module)
    assert isinstance(build_network("darts", DARTS_V2, num_classes=10, C=4, layers=3), torch.nn.Module)
    spec = {"matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv3x3-bn-relu", "output"]}
    nb101 = get_space("nb101")
    assert isinstance(build_network("nb101", spec, num_classes=10, C=8, cells=1), torch.nn.Module)
    assert isinstance(build_network("nb101", nb101.format(nb101.as_genotype(spec)), num_classes=10, C=8, cells=1), torch.nn.Module)
    cnn = SMALL_CNN.sample(np.random.default_rng(0))
    assert count_parameters(build_network("cnn-broad", SMALL_CNN.format(cnn), num_classes=10)) == count_network_parameters(cnn)


def test_bad_genotypes_and_spaces_are_one_line_errors():
    with pytest.raises(ArchscapeError):
        build_network("nb201", "|conv~0|", num_classes=10)
    with pytest.raises(ArchscapeError):
        build_network("macro", "0201210", num_classes=10)
    with pytest.raises(ArchscapeError, match="search space with a network builder"):
        build_network("no-such-space", (0,), num_classes=10)
    with pytest.raises(ArchscapeError, match="preset"):
        build_network("darts", DARTS_V2, num_classes=10, preset="big")


# ------------------------------------------------------ counts against benchmarks
def test_nb201_parameters_match_the_benchmark():
    bench = load_benchmark("nb201-cifar10")
    rng = np.random.default_rng(2)
    cells = [(3,) * 6, (0,) * 6] + [bench.space.sample(rng) for _ in range(6)]
    for g in cells:
        model = build_network("nb201", g, num_classes=10)
        assert count_parameters(model) / 1e6 == pytest.approx(bench.query(g).metrics["params"], abs=1e-6)
    # the largest cell, all 3x3 convolutions: 1.531546 M parameters, 220.12 MFLOPs
    assert count_parameters(build_network("nb201", (3,) * 6, num_classes=10)) == 1_531_546
    assert count_flops(build_network("nb201", (3,) * 6, num_classes=10), (3, 32, 32)) == pytest.approx(220.11968)


@_needs("nb101-subset")
def test_nb101_parameters_match_the_benchmark():
    bench = load_benchmark("nb101-subset")
    exact = 0
    rows = range(0, bench.size, 9)
    for r in rows:
        g = bench.genotype_of(r)
        params = count_parameters(build_network("nb101", g, num_classes=10)) / 1e6
        expected = bench.query(g).metrics["params"]
        # the benchmark's vertex order decides which vertex gets the extra channel of an uneven
        # split; the subset stores cells in canonical order, so a few differ by a fraction of 1%
        assert params == pytest.approx(expected, rel=0.01)
        exact += abs(params - expected) < 1e-6
    assert exact >= 0.8 * len(rows)
    assert count_parameters(build_network("nb101", bench.genotype_of(0), num_classes=10)) == 4_095_778


def test_nb101_channel_split():
    from archscape.train.models.nb101 import vertex_channels

    # input -> 1 -> 2 -> output, 1 -> output, 3 -> output: 128 output channels over 3 vertices
    m = [[0, 1, 0, 1, 0], [0, 0, 1, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    assert vertex_channels(64, 128, m) == [64, 43, 43, 42, 128]
    m = [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]  # a chain: every vertex gets all channels
    assert vertex_channels(64, 128, m) == [64, 128, 128, 128]


@_needs("nas-bench-macro")
def test_macro_parameters_and_flops_match_the_benchmark():
    bench = load_benchmark("nas-bench-macro")
    rng = np.random.default_rng(3)
    chains = ["00000000", "11111111", "22222222", "02012100"] + [bench.space.format(bench.space.sample(rng)) for _ in range(6)]
    for s in chains:
        model = build_network("macro", s, num_classes=10)
        metrics = bench.query(s).metrics
        assert count_parameters(model) / 1e6 == pytest.approx(metrics["params"], abs=1e-6)
        assert count_flops(model, (3, 32, 32)) == pytest.approx(metrics["flops"], abs=1e-6)


def test_darts_v2_has_the_published_parameter_count():
    # DARTS' evaluation network (C=36, 20 cells): "param size = 3.349342MB" in DARTS' logs (README: 3.3M)
    model = build_network("darts", DARTS_V2, num_classes=10, preset="darts")
    assert count_parameters(model) == 3_349_342
    assert count_parameters(model, exclude=()) > 3_349_342  # the auxiliary head is left out by default
    nb301 = build_network("darts", DARTS_V2, num_classes=10)  # NB301's training network: C=32, 8 cells
    assert len(nb301.cells) == 8 and nb301.stem[0].out_channels == 96


# ------------------------------------------------------------------- DARTS parts
def test_darts_auxiliary_head_and_drop_path():
    torch.manual_seed(1)
    model = build_network("darts", DARTS_V2, num_classes=10, C=8, layers=3)
    x = torch.randn(2, 3, 32, 32)
    model.train()
    model(x)
    assert model.aux_logits.shape == (2, 10) and model.auxiliary_weight == 0.4
    model.eval()
    model(x)
    assert model.aux_logits is None
    assert model.drop_path_prob == 0.0
    model.on_epoch_start(50, 100)
    assert model.drop_path_prob == pytest.approx(0.1)
    _step(model, x, 10)  # with drop path active
    no_aux = build_network("darts", DARTS_V2, num_classes=10, C=8, layers=3, auxiliary=False)
    no_aux.train()
    no_aux(x)
    assert no_aux.aux_logits is None and no_aux.auxiliary_head is None


def test_factorized_reduce_handles_odd_sizes():
    fr = FactorizedReduce(4, 8)
    assert fr(torch.randn(2, 4, 7, 7)).shape == (2, 8, 4, 4)
    assert fr(torch.randn(2, 4, 8, 8)).shape == (2, 8, 4, 4)


# --------------------------------------------------------------------- cnn parts
def test_cnn_network_regularisation_and_training_hints():
    g = SMALL_CNN.sample(np.random.default_rng(4))
    model = build_network("cnn-broad", g, num_classes=10)
    l2 = g[INDEX["l2"]]
    assert model.l2 == l2 and model.weight_decay == pytest.approx(2 * l2) and model.lr == g[INDEX["lr"]]
    groups = model.param_groups()
    assert sum(len(gr["params"]) for gr in groups) == len(list(model.parameters()))
    assert groups[0]["weight_decay"] == pytest.approx(2 * l2)
    optimizer = torch.optim.SGD(groups, lr=model.lr, momentum=0.9)
    assert optimizer.param_groups[0]["weight_decay"] == pytest.approx(2 * l2)
    hints = model.training_hints
    assert hints["optimizer"] == "sgd" and hints["momentum"] == 0.9 and hints["batch_size"] == 100
    for m in model.modules():  # Keras' default initialisation
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            assert torch.count_nonzero(m.bias) == 0
            fan_in = m.weight[0].numel()
            fan_out = m.weight.shape[0] * m.weight[0, 0].numel()
            assert m.weight.abs().max() <= (6 / (fan_in + fan_out)) ** 0.5 + 1e-6


def test_cnn_same_padding_matches_keras():
    assert same_padding(5, 3, 2) == (1, 1) and same_padding(6, 3, 2) == (0, 1) and same_padding(4, 2, 1) == (0, 1)
    pool = torch.nn.Sequential(SamePad2d(3, 2, float("-inf")), torch.nn.MaxPool2d(3, 2))
    x = -torch.arange(25.0).reshape(1, 1, 5, 5) - 1  # all negative: padding must never win
    out = pool(x)
    assert out.shape == (1, 1, 3, 3) and out.max() < 0
    assert out[0, 0, 0, 0] == -1  # window rows/cols -1..1 of the input


def test_cnn_tiny_inputs_never_shrink_below_one_pixel():
    space = CNNSpace(domains={"k_": range(7, 8), "s_": range(5, 6), "filters_": range(3, 4), "dense_size_": range(4, 5)})
    g = space.sample(np.random.default_rng(5))
    for size in (1, 2, 5):
        model = build_network("cnn-broad", g, num_classes=3, input_size=size)
        _step(model, torch.randn(2, 3, size, size), 3)


def test_cnn_even_kernels_and_strided_convolutions():
    space = CNNSpace(domains={"k_": range(2, 3), "max_pooling": (False,), "filters_": range(3, 6), "dense_size_": range(5)})
    g = space.sample(np.random.default_rng(6))
    model = build_network("cnn-broad", g, num_classes=4, in_channels=1, input_size=28)
    out = _step(model, torch.randn(2, 1, 28, 28), 4)
    assert out.shape == (2, 4)


def test_cnn_published_configuration_builds_on_mnist_shape():
    space = get_space("cnn-broad")
    rng = np.random.default_rng(7)
    candidates = [space.sample(rng) for _ in range(200)]
    g = min(candidates, key=lambda c: count_network_parameters(c, in_channels=1, input_size=28))
    model = build_network("cnn-broad", g, num_classes=10, in_channels=1, input_size=28)
    _step(model, torch.randn(2, 1, 28, 28), 10)
    assert count_flops(model, (1, 28, 28)) > 0


def test_cnn_max_params_refuses_before_allocating():
    space = get_space("cnn-broad")
    g = space.validate({**space.to_dict(space.sample(np.random.default_rng(8))), "s_0": 1, "s_1": 1, "s_2": 1,
                        "filters_4": 599, "dense_size_0": 1999})  # fmt: skip
    assert count_network_parameters(g) > 1_000_000_000
    with pytest.raises(ArchscapeError, match="max_params"):
        build_network("cnn-broad", g, num_classes=10, max_params=50_000_000)


def test_cnn_builder_serves_the_registered_space_names():
    g = SMALL_CNN.sample(np.random.default_rng(9))
    for name in ("cnn-broad", "cnn-narrow"):
        assert count_parameters(build_network(name, g, num_classes=10)) == count_network_parameters(g)


# ------------------------------------------------------------------------ counts
def test_count_flops_and_parameters_helpers():
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1, bias=False), torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 5))
    assert count_parameters(conv) == 3 * 8 * 9 + 128 * 5 + 5
    assert count_flops(conv, (3, 4, 4)) == pytest.approx((16 * 8 * 27 + 5 * 128) / 1e6)
    assert count_flops(conv, (1, 3, 4, 4)) == count_flops(conv, (3, 4, 4))
    conv.train()
    count_flops(conv, (3, 4, 4))
    assert conv.training  # mode restored
    with pytest.raises(ArchscapeError):
        count_flops(conv, (4, 4))


def test_cnn_width_scales_filters_and_dense_sizes_only():
    from archscape.train.models.cnn import scaled_config

    space = get_space("cnn-narrow")
    g = space.sample(np.random.default_rng(10))
    config = space.to_dict(g)
    half = scaled_config(g, 0.1)
    for name, value in config.items():
        if name.startswith(("filters_", "dense_size_")):
            assert half[name] == max(1, round(value * 0.1))
        else:
            assert half[name] == value
    full, narrow = build_network("cnn-broad", g, num_classes=10, in_channels=1, input_size=28), \
        build_network("cnn-broad", g, num_classes=10, in_channels=1, input_size=28, width=0.1)
    assert count_parameters(narrow) == count_network_parameters(half, in_channels=1, input_size=28)
    assert count_parameters(narrow) < count_parameters(full) / 20
    _step(narrow, torch.randn(2, 1, 28, 28), 10)
    with pytest.raises(ArchscapeError, match="width must be > 0"):
        build_network("cnn-broad", g, num_classes=10, width=0)
