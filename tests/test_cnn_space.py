"""The Learning-from-NAS CNN design space (cnn-broad, cnn-narrow): structure only, no torch."""

from __future__ import annotations

import csv
import gzip
import subprocess
import sys

import numpy as np
import pytest
from conformance import check_space

from archscape.data import registry
from archscape.errors import ArchscapeError, InvalidArchitecture
from archscape.landscape.lfnas import BROAD_BOUNDS, DATASETS, NARROW_BOUNDS
from archscape.spaces import get_space
from archscape.spaces.cnn import (
    COLUMNS,
    INDEX,
    CNNSpace,
    config_of,
    count_network_parameters,
    network_plan,
)

WIDE = {
    "stack_": range(4),
    "activation": ("relu", "elu", "tanh"),
    "max_pooling": (True, False),
}


@pytest.fixture(scope="module")
def broad():
    return get_space("cnn-broad")


@pytest.fixture(scope="module")
def narrow():
    return get_space("cnn-narrow")


def _tables():
    params = []
    for (dataset, space), name in DATASETS.items():
        marks = pytest.mark.skipif(not registry.is_available(name), reason=f"data not available: {name}")
        params.append(pytest.param(name, space, id=name, marks=marks))
    return params


def test_variables_are_the_published_columns(broad):
    assert len(COLUMNS) == 32
    assert broad.size is None and broad.encodings == ("onehot",)
    assert [d.name for d in broad.domains] == list(COLUMNS)


@pytest.mark.parametrize("name", ["cnn-broad", "cnn-narrow"])
def test_registered_spaces_conform(name):
    check_space(get_space(name))


def test_space_with_widened_domains_conforms():
    space = CNNSpace(name="cnn-wide", domains=WIDE)
    check_space(space)
    assert space.domain("stack_1").low == 0 and space.domain("stack_1").high == 3
    assert space.domain("max_pooling").choices == (True, False)


def test_bounds_come_from_lfnas_with_exclusive_integer_upper_bounds(broad, narrow):
    # numpy randint(low, high): the published tables never reach an integer variable's 'high'
    assert (broad.domain("k_0").low, broad.domain("k_0").high) == (1, 7)
    assert (broad.domain("s_2").low, broad.domain("s_2").high) == (1, 4)
    assert (broad.domain("filters_5").low, broad.domain("filters_5").high) == (10, 599)
    assert (broad.domain("dense_size_0").low, broad.domain("dense_size_0").high) == (0, 1999)
    assert (narrow.domain("k_3").low, narrow.domain("k_3").high) == (3, 6)
    assert (narrow.domain("filters_0").low, narrow.domain("filters_0").high) == (250, 399)
    for space, bounds in ((broad, BROAD_BOUNDS), (narrow, NARROW_BOUNDS)):
        assert (space.domain("lr").low, space.domain("lr").high) == bounds["lr"]
        assert (space.domain("dropout_6").low, space.domain("dropout_6").high) == bounds["dropout_"]
        # what the paper kept fixed
        assert space.domain("activation").choices == ("relu",)
        assert space.domain("activ_dense").choices == ("softmax",)
        assert space.domain("max_pooling").choices == (True,)
        assert (space.domain("stack_0").low, space.domain("stack_0").high) == (2, 2)


def test_sampling_is_uniform_within_bounds(broad, narrow):
    rng = np.random.default_rng(0)
    for space in (broad, narrow):
        gs = np.array([[v for v in space.sample(rng) if not isinstance(v, (str, bool))] for _ in range(3000)], dtype=float)
        numeric = [d for d in space.domains if d.is_numeric]
        for j, d in enumerate(numeric):
            assert gs[:, j].min() >= d.low and gs[:, j].max() <= d.high
        lr = gs[:, [d.name for d in numeric].index("lr")]
        lo, hi = space.domain("lr").low, space.domain("lr").high
        # uniform, not log-uniform: the median is the middle of the interval
        assert abs(np.median(lr) - (lo + hi) / 2) < 0.05 * (hi - lo)
        k = gs[:, [d.name for d in numeric].index("k_0")].astype(int)
        counts = np.bincount(k)[space.domain("k_0").low :]
        assert len(counts) == space.domain("k_0").size and counts.min() > 0.7 * counts.mean()


def test_genotype_types(broad):
    g = broad.sample(np.random.default_rng(1))
    for name, v in zip(COLUMNS, g):
        kind = broad.domain(name).kind
        assert type(v) is {"int": int, "float": float, "choice": str, "bool": bool}[kind], name


def test_continuous_values_live_on_a_decimal_grid(broad):
    g = list(broad.sample(np.random.default_rng(2)))
    g[INDEX["lr"]] = 0.0071761045925382
    g[INDEX["dropout_0"]] = 0.52751245272
    v = broad.validate(g)
    assert v[INDEX["lr"]] == 0.007176105 and v[INDEX["dropout_0"]] == 0.5275125
    assert broad.validate(v) == v
    assert "lr=0.007176105," in broad.format(v)


def test_neighbourhood_moves(broad):
    g = broad.sample(np.random.default_rng(3))
    nbrs = broad.neighbours(g)
    for n in nbrs:
        diff = [i for i in range(32) if n[i] != g[i]]
        assert len(diff) == 1
        i = diff[0]
        d = broad.domains[i]
        if d.kind == "int":
            assert abs(n[i] - g[i]) == 1
        else:
            assert abs(n[i] - g[i]) == pytest.approx(0.1 * (d.high - d.low), rel=1e-5)
        assert broad.neighbours(n).count(g) == 1
    # at most 2 moves per variable with several values; fixed ones (activation, stack, ...) never move
    assert len(nbrs) <= 2 * sum(d.size > 1 for d in broad.domains)
    fixed = [INDEX[c] for c in ("activation", "activ_dense", "max_pooling", "stack_0")]
    assert all(n[i] == g[i] for n in nbrs for i in fixed)


def test_neighbours_at_the_bounds_stay_inside_and_are_symmetric(narrow):
    g = list(narrow.sample(np.random.default_rng(4)))
    g[INDEX["k_0"]] = 3
    g[INDEX["dropout_2"]] = 0.4
    g[INDEX["lr"]] = 0.00401  # less than a step above the bound: no downward move
    g = narrow.validate(g)
    nbrs = narrow.neighbours(g)
    k0 = [n[INDEX["k_0"]] for n in nbrs if n[INDEX["k_0"]] != 3]
    assert k0 == [4]
    assert [n[INDEX["dropout_2"]] for n in nbrs if n[INDEX["dropout_2"]] != 0.4] == [0.37]
    assert [n[INDEX["lr"]] for n in nbrs if n[INDEX["lr"]] != 0.00401] == [0.00451]
    for n in nbrs:
        narrow.validate(n)
        assert g in narrow.neighbours(n)


def test_categorical_moves_take_every_other_choice():
    space = CNNSpace(domains=WIDE)
    g = space.validate({**space.to_dict(space.sample(np.random.default_rng(5))), "activation": "elu", "max_pooling": True})
    nbrs = space.neighbours(g)
    assert sorted(n[INDEX["activation"]] for n in nbrs if n[INDEX["activation"]] != "elu") == ["relu", "tanh"]
    assert [n[INDEX["max_pooling"]] for n in nbrs if n[INDEX["max_pooling"]] is not True] == [False]


def test_mutate_is_a_neighbour_and_perturb_is_gaussian(broad):
    rng = np.random.default_rng(6)
    g = broad.sample(rng)
    nbrs = broad.neighbours(g)
    for _ in range(20):
        assert broad.mutate(g, rng) in nbrs
    steps = []
    for _ in range(400):
        p = broad.perturb(g, rng)
        diff = [i for i in range(32) if p[i] != g[i]]
        assert len(diff) == 1
        assert broad.validate(p) == p
        d = broad.domains[diff[0]]
        if d.size > 100:  # on a few values, even the smallest step is a big part of the range
            steps.append(abs(p[diff[0]] - g[diff[0]]) / (d.high - d.low))
    # |N(0, 0.1)| has mean 0.08; clipping at the bounds only shortens steps
    assert 0.03 < np.mean(steps) < 0.1
    a = [broad.perturb(g, np.random.default_rng(9)) for _ in range(3)]
    assert a[0] == a[1] == a[2]


def test_perturb_always_changes_even_a_tiny_range():
    space = CNNSpace(domains={"s_": range(1, 3)})
    rng = np.random.default_rng(7)
    g = space.sample(rng)
    for _ in range(200):
        assert space.perturb(g, rng) != g


def test_text_form(broad):
    g = broad.sample(np.random.default_rng(8))
    text = broad.format(g)
    assert text.startswith("s_0=") and text.count("=") == 32
    parts = text.split(",")
    shuffled = " , ".join(reversed(parts))
    assert broad.parse(shuffled) == g
    assert broad.as_genotype(text) == g
    assert broad.as_genotype(broad.to_dict(g)) == g


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("k_0=", "k_9="), "unknown cnn design variable"),
        (lambda t: t + ",k_0=3", "twice"),
        (lambda t: ",".join(p for p in t.split(",") if not p.startswith("lr=")), "lacks lr"),
        (lambda t: t + ",perf=0.5", "results"),
        (lambda t: _set(t, "k_0", "8"), "k_0=8"),
        (lambda t: _set(t, "k_0", "3.5"), "k_0"),
        (lambda t: _set(t, "lr", "0.5"), "lr=0.5"),
        (lambda t: _set(t, "lr", "nan"), "lr"),
        (lambda t: _set(t, "activation", "gelu"), "activation"),
        (lambda t: _set(t, "max_pooling", "maybe"), "max_pooling"),
        (lambda t: _set(t, "stack_0", "3"), "stack_0=3"),
        (lambda t: t.replace("=", ":", 1), "not key=value"),
    ],
)
def test_parse_rejects_bad_text(broad, edit, message):
    text = broad.format(broad.sample(np.random.default_rng(10)))
    with pytest.raises(InvalidArchitecture, match=message):
        broad.parse(edit(text))


def _set(text: str, key: str, value: str) -> str:
    return ",".join(f"{key}={value}" if p.startswith(key + "=") else p for p in text.split(","))


def test_validate_rejects_wrong_types(broad):
    g = list(broad.sample(np.random.default_rng(11)))
    for i, bad in ((INDEX["k_0"], True), (INDEX["k_0"], 2.5), (INDEX["lr"], "0.001"), (INDEX["max_pooling"], 1), (INDEX["activation"], 3)):
        h = list(g)
        h[i] = bad
        with pytest.raises(InvalidArchitecture):
            broad.validate(h)
    with pytest.raises(InvalidArchitecture):
        broad.validate(g[:-1])
    # numpy scalars and integral floats are fine
    h = list(g)
    h[INDEX["k_0"]] = np.int64(3)
    h[INDEX["filters_0"]] = 17.0
    h[INDEX["max_pooling"]] = np.bool_(True)
    v = broad.validate(h)
    assert type(v[INDEX["k_0"]]) is int and v[INDEX["filters_0"]] == 17 and v[INDEX["max_pooling"]] is True


def test_domains_are_checked():
    with pytest.raises(ArchscapeError, match="unknown cnn design variable"):
        CNNSpace(domains={"stacks_": range(1, 3)})
    with pytest.raises(ArchscapeError, match="range"):
        CNNSpace(domains={"stack_": (1, 3)})
    with pytest.raises(ArchscapeError, match="activation"):
        CNNSpace(domains={"activation": ("relu", "gelu")})
    with pytest.raises(ArchscapeError, match="step"):
        CNNSpace(step=0)


def test_onehot_encoding_is_the_design_vector_in_unit_box(broad):
    rng = np.random.default_rng(12)
    gs = [broad.sample(rng) for _ in range(50)]
    X = broad.encode_many(gs, "onehot")
    assert X.shape == (50, 26)  # 17 integer + 9 continuous variables with several values
    assert X.min() >= 0 and X.max() <= 1
    space = CNNSpace(domains=WIDE)
    g = space.validate({**space.to_dict(gs[0]), "activation": "tanh", "max_pooling": False, "stack_0": 0})
    v = space.encode(g, "onehot")
    assert v.shape == (space.encoding_size("onehot"),) == (26 + 3 + 3 + 2,)
    assert v[sum(1 for c in COLUMNS[: INDEX["activation"]] if space.domain(c).size > 1) + 2] == 1.0  # tanh


@pytest.mark.parametrize("name, space_name", _tables())
def test_every_published_row_is_in_its_space(name, space_name):
    import pandas as pd

    space = get_space(space_name)
    path = registry.path(name)
    table = pd.read_csv(path)
    for row in table.to_dict("records"):
        g = space.validate(row)
        assert space.parse(space.format(g)) == g
        for c in ("lr", "l2", "dropout_3"):
            d = space.domain(c)
            assert abs(g[INDEX[c]] - row[c]) <= 0.51 * 10**-d.decimals
        assert g[INDEX["filters_1"]] == row["filters_1"] and g[INDEX["max_pooling"]] is True
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [space.validate(r) for r in rows[:50]] == [space.validate(r) for r in table.to_dict("records")[:50]]


def test_network_plan_follows_the_configuration(broad):
    g = broad.validate({**broad.to_dict(broad.sample(np.random.default_rng(13))),
                        "s_0": 3, "s_1": 4, "s_2": 4, "k_1": 7, "k_3": 2, "k_5": 1,
                        "filters_0": 20, "filters_2": 30, "filters_4": 40, "dense_size_0": 0, "dense_size_1": 50})  # fmt: skip
    plan = network_plan(g, num_classes=10, in_channels=1, input_size=28)
    kinds = [layer.kind for layer in plan]
    assert kinds[:1] == ["dropout"] and kinds.count("conv") == 6 and kinds.count("maxpool") == 3
    assert [layer.size for layer in plan if layer.kind == "maxpool"] == [10, 3, 1]  # ceil(28/3), ceil(10/4), ceil(3/4)
    linears = [(layer.c_in, layer.c_out) for layer in plan if layer.kind == "linear"]
    assert linears == [(40, 50), (50, 10)]  # dense_size_0 = 0: no first dense layer
    k0, k2, k4 = g[INDEX["k_0"]], g[INDEX["k_2"]], g[INDEX["k_4"]]
    expected = (1 * 20 * k0 * k0 + 20) + (20 * 20 * k0 * k0 + 20)
    expected += (20 * 30 * k2 * k2 + 30) + (30 * 30 * k2 * k2 + 30)
    expected += (30 * 40 * k4 * k4 + 40) + (40 * 40 * k4 * k4 + 40)
    expected += 40 * 50 + 50 + 50 * 10 + 10
    assert count_network_parameters(g, num_classes=10, in_channels=1, input_size=28) == expected


def test_network_plan_without_pooling_uses_the_odd_filters():
    space = CNNSpace(domains=WIDE)
    g = space.validate({**space.to_dict(space.sample(np.random.default_rng(14))), "max_pooling": False,
                        "stack_0": 1, "stack_1": 0, "stack_2": 2, "filters_1": 11, "filters_5": 13})  # fmt: skip
    convs = [(layer.c_out, layer.stride) for layer in network_plan(g) if layer.kind == "conv"]
    assert convs == [(g[INDEX["filters_0"]], 1), (11, g[INDEX["s_0"]]), (g[INDEX["filters_4"]], 1), (g[INDEX["filters_4"]], 1), (13, g[INDEX["s_2"]])]


def test_pooling_never_shrinks_below_one_pixel():
    space = CNNSpace(domains={"k_": range(7, 8), "s_": range(4, 5)})
    g = space.sample(np.random.default_rng(15))
    plan = network_plan(g, input_size=2)
    assert [layer.size for layer in plan if layer.kind == "maxpool"] == [1, 1, 1]


def test_config_of_checks_kinds_not_bounds(broad):
    g = broad.sample(np.random.default_rng(16))
    c = config_of(g)
    assert list(c) == list(COLUMNS) and config_of(broad.format(g)) == c and config_of(c) == c
    assert config_of({**c, "filters_0": 5000})["filters_0"] == 5000
    with pytest.raises(InvalidArchitecture):
        config_of({**c, "filters_0": -1})
    with pytest.raises(InvalidArchitecture):
        network_plan({**c, "dropout_1": 1.5})
    with pytest.raises(InvalidArchitecture):
        network_plan({**c, "k_0": 0})


@pytest.mark.slow
def test_the_space_never_imports_torch():
    code = (
        "import sys, numpy as np; from archscape.spaces import get_space; "
        "s = get_space('cnn-broad'); g = s.sample(np.random.default_rng(0)); s.neighbours(g); "
        "from archscape.spaces.cnn import count_network_parameters; count_network_parameters(g); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
