"""Data sets for real training: MNIST from the registry, Fashion-MNIST, CIFAR files written here, image folders."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from archscape.data import registry  # noqa: E402
from archscape.errors import ArchscapeError, DataError, UnknownName  # noqa: E402
from archscape.train import datasets as ds  # noqa: E402
from archscape.train.datasets import FASHION_MNIST_DEBIAN, FASHION_MNIST_HINT, augment_batch, canonical_name, load_dataset, read_idx  # noqa: E402

HAVE_MNIST = all(registry.is_available(f"mnist-{p}") for p in ("train-images", "train-labels", "test-images", "test-labels"))
HAVE_FASHION = all(registry.is_available(f"fashion-mnist-{p}") for p in ("train-images", "train-labels", "test-images", "test-labels")) or (
    FASHION_MNIST_DEBIAN / "train-images-idx3-ubyte.gz"
).is_file()
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason="MNIST is not in the data cache (../shared/data/mnist)")


def _image_keys(split) -> list[bytes]:
    x = split.images.numpy().reshape(len(split), -1)
    return sorted(hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in x)


# ------------------------------------------------------------------ MNIST (real files, via the registry)
@needs_mnist
def test_mnist_from_the_registry_is_split_stratified_and_seeded():
    d = load_dataset("mnist")
    assert (len(d.train), len(d.val), len(d.test)) == (54_000, 6_000, 10_000)
    assert d.image_shape == (1, 28, 28) and d.num_classes == 10 and d.in_channels == 1 and d.input_size == 28
    assert d.train.images.dtype == torch.uint8 and d.train.labels.dtype == torch.int64
    assert not d.augment and d.classes == tuple("0123456789")
    # train + val are exactly the official train images; val is stratified (10 % of every class, +-1)
    full = read_idx(registry.path("mnist-train-images"))
    labels = read_idx(registry.path("mnist-train-labels"))
    assert sorted(_image_keys(d.train) + _image_keys(d.val)) == sorted(
        hashlib.blake2b(r.tobytes(), digest_size=8).digest() for r in full.reshape(len(full), -1)
    )
    per_class = np.bincount(d.val.labels.numpy(), minlength=10)
    assert np.all(np.abs(per_class - 0.1 * np.bincount(labels, minlength=10)) <= 1)
    # the mean and std are those of the train split (not of val or test)
    x = d.train.images.double() / 255
    assert d.mean[0] == pytest.approx(float(x.mean()), abs=1e-9)
    assert d.std[0] == pytest.approx(float(x.std(unbiased=False)), abs=1e-9)
    # the same seed gives the same split, another seed another one
    again = load_dataset("mnist", train_subset=500, val_subset=100)
    once = load_dataset("mnist", train_subset=500, val_subset=100)
    assert torch.equal(again.train.images, once.train.images) and torch.equal(again.val.labels, once.val.labels)
    other = load_dataset("mnist", seed=1, train_subset=500, val_subset=100)
    assert not torch.equal(other.train.images, once.train.images)


@needs_mnist
def test_subsets_are_stratified_subsets_of_their_split():
    full = load_dataset("mnist", val_fraction=0.2)
    d = load_dataset("mnist", val_fraction=0.2, train_subset=1000, val_subset=200, test_subset=300)
    assert (len(d.train), len(d.val), len(d.test)) == (1000, 200, 300)
    for part, n in (("train", 1000), ("val", 200), ("test", 300)):
        counts = np.bincount(getattr(d, part).labels.numpy(), minlength=10)
        whole = np.bincount(getattr(full, part).labels.numpy(), minlength=10)
        assert np.all(np.abs(counts - n * whole / whole.sum()) <= 1)
        assert set(_image_keys(getattr(d, part))) <= set(_image_keys(getattr(full, part)))
    assert d.mean == full.mean  # statistics of the whole train split, not of the subset
    assert load_dataset("mnist", val_fraction=0, train_subset=10).val.labels.numel() == 0


@pytest.mark.skipif(not HAVE_FASHION, reason=f"Fashion-MNIST is not here: {FASHION_MNIST_HINT}")
def test_fashion_mnist_from_the_debian_package():
    d = load_dataset("Fashion_MNIST", train_subset=100, val_subset=50, test_subset=50)
    assert d.name == "fashion-mnist" and d.classes[0] == "T-shirt/top" and d.num_classes == 10
    assert d.image_shape == (1, 28, 28)
    assert d.mean[0] == pytest.approx(0.286, abs=0.002)  # the published Fashion-MNIST mean
    assert registry.verify("fashion-mnist-train-images").state == "ok"


def _idx_bytes(array: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def test_idx_files_in_a_folder_gzipped_or_not(tmp_path):
    rng = np.random.default_rng(0)
    tr_x, te_x = rng.integers(0, 256, (40, 5, 6), dtype=np.uint8), rng.integers(0, 256, (10, 5, 6), dtype=np.uint8)
    tr_y, te_y = np.arange(40) % 10, np.arange(10) % 10
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(tr_x)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(tr_y))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(te_x))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(te_y)))
    d = load_dataset("mnist", root=tmp_path, val_fraction=0.25)
    assert d.image_shape == (1, 5, 6) and (len(d.train), len(d.val), len(d.test)) == (30, 10, 10)
    assert np.array_equal(d.test.images.numpy()[:, 0], te_x) and np.array_equal(d.test.labels.numpy(), te_y)
    assert np.bincount(d.val.labels.numpy(), minlength=10).tolist() == [1] * 10
    # a truncated or foreign file is refused in one line
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(te_x)[:-7])
    ds._read_idx_cached.cache_clear()
    with pytest.raises(DataError, match="truncated"):
        load_dataset("mnist", root=tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(DataError, match="not an IDX file"):
        load_dataset("mnist", root=tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(DataError, match=r"lacks t10k-images-idx3-ubyte\[\.gz\]"):
        load_dataset("mnist", root=tmp_path)


# ------------------------------------------------------------------ CIFAR (the official python format, written here)
CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _pickled(obj) -> bytes:
    return pickle.dumps(obj, protocol=2)


def write_cifar10(folder, per_batch: int = 20, seed: int = 0):
    """A small CIFAR-10 in the official python layout: cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}."""
    rng = np.random.default_rng(seed)
    batches = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        batches[name] = (data, labels)
        label = b"testing batch 1 of 1" if name == "test_batch" else f"training batch {i + 1} of 5".encode()
        payload = {b"batch_label": label, b"labels": labels, b"data": data,
                   b"filenames": [f"img_{i}_{j}.png".encode() for j in range(per_batch)]}
        batches[name + ".bytes"] = _pickled(payload)
    meta = _pickled({b"num_cases_per_batch": per_batch, b"label_names": [n.encode() for n in CIFAR10_NAMES], b"num_vis": 3072})
    archive = folder / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch", "batches.meta"]:
            blob = meta if name == "batches.meta" else batches[name + ".bytes"]
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return archive, batches


def test_cifar10_from_the_tar_gz_and_from_the_extracted_folder(tmp_path):
    archive, batches = write_cifar10(tmp_path)
    d = load_dataset("cifar10", root=archive, val_fraction=0.2)
    assert d.image_shape == (3, 32, 32) and d.num_classes == 10 and d.classes == tuple(CIFAR10_NAMES)
    assert d.augment  # CIFAR's default: random crop + flip
    assert (len(d.train), len(d.val), len(d.test)) == (80, 20, 20)
    test_x, test_y = batches["test_batch"]
    assert np.array_equal(d.test.images.numpy(), test_x.reshape(-1, 3, 32, 32))  # channel-first rows, as published
    assert d.test.labels.tolist() == test_y
    train_x = np.concatenate([batches[f"data_batch_{k}"][0] for k in range(1, 6)]).reshape(-1, 3, 32, 32)
    assert sorted(_image_keys(d.train) + _image_keys(d.val)) == sorted(
        hashlib.blake2b(r.tobytes(), digest_size=8).digest() for r in train_x.reshape(len(train_x), -1)
    )
    # the extracted folder, or the folder that holds it, gives the same data
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    for root in (tmp_path / "x", tmp_path / "x" / "cifar-10-batches-py"):
        e = load_dataset("cifar10", root=root, val_fraction=0.2)
        assert torch.equal(e.train.images, d.train.images) and torch.equal(e.test.labels, d.test.labels)
    assert load_dataset("cifar10", root=archive, augment=False).augment is False


def test_cifar100_format(tmp_path):
    rng = np.random.default_rng(1)
    root = tmp_path / "cifar-100-python"
    root.mkdir()
    train_x, test_x = rng.integers(0, 256, (50, 3072), dtype=np.uint8), rng.integers(0, 256, (10, 3072), dtype=np.uint8)
    train_y = [int(i % 100) for i in range(50)]
    (root / "train").write_bytes(_pickled({"data": train_x, "fine_labels": train_y, "coarse_labels": [0] * 50}))
    (root / "test").write_bytes(_pickled({"data": test_x, "fine_labels": list(range(10)), "coarse_labels": [0] * 10}))
    (root / "meta").write_bytes(_pickled({"fine_label_names": [f"c{i}" for i in range(100)], "coarse_label_names": []}))
    d = load_dataset("cifar-100", root=tmp_path, val_fraction=0.1)
    assert d.num_classes == 100 and d.classes[:2] == ("c0", "c1") and len(d.test) == 10


def test_cifar_pickles_cannot_run_code_and_damage_is_reported(tmp_path):
    archive, _ = write_cifar10(tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    folder = tmp_path / "cifar-10-batches-py"
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    (folder / "test_batch").write_bytes(pickle.dumps({"data": Evil(), "labels": []}))
    with pytest.raises(DataError, match="refusing to load builtins.print"):
        load_dataset("cifar10", root=folder)
    (folder / "test_batch").unlink()
    with pytest.raises(DataError, match="lacks cifar-10-batches-py/test_batch"):
        load_dataset("cifar10", root=folder)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(archive.read_bytes()[:500])
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("cifar10", root=broken)


def test_cifar_registry_entry_checks_the_published_md5(monkeypatch, tmp_path):
    entry = registry.entry("cifar10-python")
    assert entry.md5 == "c58f30108f718f92721af3b95e74349a" and entry.url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    # an entry pinned by MD5 alone accepts the right file and refuses another, leaving nothing behind
    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path / "cache"))
    archive, _ = write_cifar10(tmp_path)
    digest = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(registry.ENTRIES, "cifar10-python", registry.DataEntry(
        **{**entry.__dict__, "size": archive.stat().st_size, "md5": digest}))
    assert registry.fetch("cifar10-python", archive).is_file()
    assert registry.verify("cifar10-python").state == "ok"
    d = load_dataset("cifar10")  # through the registry
    assert len(d.test) == 20
    monkeypatch.setitem(registry.ENTRIES, "cifar10-python", registry.DataEntry(**{**entry.__dict__, "size": None, "md5": "0" * 32}))
    with pytest.raises(DataError, match="MD5 .* expected 0{32}"):
        registry.fetch("cifar10-python", archive, force=True)


def test_mnist_entries_accept_the_rebuilt_copy_and_name_the_official_md5():
    e = registry.entry("mnist-train-images")
    assert e.md5 == "f68b3c2dcbeaaa9fbdd348bbdeb94873" and "rebuilt" in e.description
    assert registry.entry("fashion-mnist-train-images").filename != e.filename  # both live in one cache


# ------------------------------------------------------------------ image folders
def _write_images(folder, classes, n, size=(10, 12), mode="RGB", seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = {}
    for ci, c in enumerate(classes):
        (folder / c).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            shape = (size[0], size[1], 3) if mode == "RGB" else size
            arr = rng.integers(0, 256, shape, dtype=np.uint8)
            arr[..., 0] = 40 * ci  # a class colour
            path = folder / c / f"{i:03d}.png"
            Image.fromarray(arr, mode=mode).save(path)
            pixels[path.name, c] = arr
    return pixels


def test_image_folder_with_class_folders(tmp_path):
    pixels = _write_images(tmp_path / "imgs", ["cat", "ant", "bee"], 10)
    d = load_dataset("imagefolder", root=tmp_path / "imgs", val_fraction=0.2, test_fraction=0.2)
    assert d.classes == ("ant", "bee", "cat") and d.num_classes == 3 and d.image_shape == (3, 10, 12)
    assert (len(d.train), len(d.val), len(d.test)) == (19, 5, 6)
    assert not d.augment
    for split in (d.train, d.val, d.test):
        for img, label in zip(split.images, split.labels):
            assert int(img[0, 0, 0]) == 40 * ("cat", "ant", "bee").index(d.classes[int(label)])
    all_imgs = {a.transpose(2, 0, 1).tobytes() for a in pixels.values()}
    assert {bytes(x.numpy().tobytes()) for s in (d.train, d.val, d.test) for x in s.images} == all_imgs


def test_image_folder_layouts_sizes_and_lazy_reading(tmp_path):
    root = tmp_path / "set"
    _write_images(root / "train", ["a", "b"], 6, mode="L")
    _write_images(root / "test", ["a", "b"], 2, mode="L", seed=1)
    _write_images(root / "val", ["a", "b"], 3, mode="L", seed=2)
    d = load_dataset("imagefolder", root=root)
    assert (len(d.train), len(d.val), len(d.test)) == (12, 6, 4) and d.image_shape == (1, 10, 12)
    # images of other sizes need image_size
    from PIL import Image

    Image.new("L", (20, 20)).save(root / "train" / "a" / "odd.png")
    with pytest.raises(DataError, match="pass image_size"):
        load_dataset("imagefolder", root=root)
    r = load_dataset("imagefolder", root=root, image_size=8)
    assert r.image_shape == (1, 8, 8) and r.train.in_memory
    # a folder larger than max_memory is read lazily, file by file, with the same content
    lazy = load_dataset("imagefolder", root=root, image_size=8, max_memory=100)
    assert not lazy.train.in_memory and lazy.image_shape == (1, 8, 8) and len(lazy.train) == len(r.train)
    assert torch.equal(torch.stack([lazy.train.read(i) for i in range(len(lazy.train))]), r.train.images)
    with pytest.raises(DataError, match="lacks"):
        _write_images(root / "test", ["zebra"], 1, mode="L")
        load_dataset("imagefolder", root=root, image_size=8)
    with pytest.raises(ArchscapeError, match="needs root"):
        load_dataset("imagefolder")


# ------------------------------------------------------------------ batches, names, errors
def test_augment_batch_is_a_seeded_crop_and_flip():
    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.uint8).reshape(2, 3, 5, 5)
    out = augment_batch(x, torch.Generator().manual_seed(3), padding=2)
    again = augment_batch(x, torch.Generator().manual_seed(3), padding=2)
    assert torch.equal(out, again) and out.shape == x.shape and out.dtype == torch.uint8
    # every output image is a window of the zero-padded image, flipped or not
    g = torch.Generator().manual_seed(3)
    oy, ox = torch.randint(0, 5, (2,), generator=g), torch.randint(0, 5, (2,), generator=g)
    flip = torch.rand(2, generator=g) < 0.5
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        window = padded[i, :, oy[i] : oy[i] + 5, ox[i] : ox[i] + 5]
        assert torch.equal(out[i], window.flip(2) if flip[i] else window)
    seen = {bytes(augment_batch(x[:1], torch.Generator().manual_seed(s), 2).numpy().tobytes()) for s in range(30)}
    assert len(seen) > 10


def test_names_and_bad_arguments():
    assert canonical_name("CIFAR-10") == "cifar10" and canonical_name("fmnist") == "fashion-mnist"
    with pytest.raises(UnknownName, match="unknown data set for training 'svhn'; accepted: mnist, fashion-mnist"):
        load_dataset("svhn")
    with pytest.raises(ArchscapeError, match=r"val_fraction must be in \[0, 1\)"):
        load_dataset("mnist", val_fraction=1.5)
    with pytest.raises(ArchscapeError, match="train_subset must be a count"):
        load_dataset("mnist", train_subset=-1)


def test_a_missing_data_set_names_the_fetch_command(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHSCAPE_DATA", str(tmp_path))
    with pytest.raises(DataError, match="archscape data fetch mnist-train-images mnist-train-labels"):
        load_dataset("mnist")
    with pytest.raises(DataError, match="cifar10-python"):
        load_dataset("cifar10")


def test_the_fashion_mnist_hint_says_what_the_readme_says():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for phrase in ("archscape data fetch fashion-mnist-train-images", "apt-get install dataset-fashion-mnist",
                   "/usr/share/datasets/fashion-mnist"):
        assert phrase in FASHION_MNIST_HINT and phrase in readme
