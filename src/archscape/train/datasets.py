"""Image data sets for real training: MNIST, Fashion-MNIST, CIFAR-10/100 and image folders.

``load_dataset(name, ...)`` returns a :class:`DatasetSplits`: train,
validation and test :class:`Split` s held in memory as ``uint8`` tensors of
shape ``[N, C, H, W]`` (4x smaller than float32; a batch is converted and
normalised when it is drawn, on the training device), the number of classes,
the image shape and the per-channel mean and standard deviation of the train
split.  An image folder too large for memory (``max_memory``) is read lazily,
file by file, instead.

Where the files come from
-------------------------
* ``mnist``, ``fashion-mnist``: the IDX files (gzipped or not).  Without
  ``root`` they are read through the data registry (``archscape data fetch
  mnist-train-images ...``); Fashion-MNIST is copied into the cache, verified,
  from the Debian package ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist``) when that is installed.  With
  ``root``: a folder holding the four files under their official names.
* ``cifar10``, ``cifar100``: the official python version, i.e. pickled
  batches, read from the ``.tar.gz`` (registry entry ``cifar10-python``, or
  ``root`` = the archive) or from an extracted folder (``root`` = the folder
  ``cifar-10-batches-py`` or the one that holds it).  The pickles are read by
  an unpickler that only builds plain containers and numpy arrays.
* ``imagefolder``: ``root/<class>/<image>`` (one sub-folder per class, sorted
  names give the label order), or ``root/train/<class>/...`` with optional
  ``root/test/`` and ``root/val/`` beside it.  Without a test folder,
  ``test_fraction`` of the images become the test split.  Images are
  converted to RGB, or to greyscale when the first one is; ``image_size``
  resizes every image (needed when their sizes differ).

Splits and subsets
------------------
The validation split is ``val_fraction`` of the train split, drawn per class
(stratified) by a generator seeded with ``seed`` only, so every
architecture of a study sees the same split.  ``train_subset``,
``val_subset`` and ``test_subset`` keep that many images, again stratified
and seeded, for fast searches; the mean and std are those of the whole train
split (after the validation images are removed), computed exactly from
per-channel histograms.

Augmentation (``augment=None`` picks the data set's default: on for CIFAR,
off for MNIST, Fashion-MNIST and image folders) is a random crop with 4
pixels of zero padding and a horizontal flip, applied to a whole batch with
one gather (:func:`augment_batch`).
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from archscape.data.datasets import canonical_name
from archscape.errors import ArchscapeError, DataError

#: where the Debian package dataset-fashion-mnist installs the official files
FASHION_MNIST_DEBIAN = Path("/usr/share/datasets/fashion-mnist")
#: how to get Fashion-MNIST (the README's words; the tests' skip message and the missing-data error say the same)
FASHION_MNIST_HINT = ("get it with `archscape data fetch fashion-mnist-train-images fashion-mnist-train-labels "
                      "fashion-mnist-test-images fashion-mnist-test-labels` (downloads, or add --from DIR holding the "
                      "official files), or on Debian/Ubuntu `apt-get install dataset-fashion-mnist`, which archscape "
                      "reads from /usr/share/datasets/fashion-mnist")
#: data sets augmented by default
_AUGMENTED = ("cifar10", "cifar100")
_IDX_PARTS = (
    ("train-images", "train-images-idx3-ubyte"),
    ("train-labels", "train-labels-idx1-ubyte"),
    ("test-images", "t10k-images-idx3-ubyte"),
    ("test-labels", "t10k-labels-idx1-ubyte"),
)
_CLASSES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


# ------------------------------------------------------------------ containers
@dataclass(frozen=True, eq=False)
class Split:
    """One split: ``images`` (``uint8 [N, C, H, W]``) in memory, or ``files`` read lazily."""

    labels: Any  # torch.int64 [N]
    images: Any = None  # torch.uint8 [N, C, H, W], or None when lazy
    files: tuple[str, ...] = ()
    #: how lazily read files are decoded: (PIL mode, (H, W) or None)
    decode: tuple[str, tuple[int, int] | None] | None = None
    _on_device: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def in_memory(self) -> bool:
        return self.images is not None

    def to(self, device) -> tuple[Any, Any]:
        """(images, labels) on ``device``; the copy is kept for the next epoch or architecture."""
        key = str(device)
        if key == "cpu" or not self.in_memory:
            return self.images, self.labels
        if key not in self._on_device:
            self._on_device.clear()
            self._on_device[key] = (self.images.to(device), self.labels.to(device))
        return self._on_device[key]

    def read(self, index: int):
        """Image ``index`` as a ``uint8 [C, H, W]`` tensor."""
        if self.in_memory:
            return self.images[index]
        torch = _torch()
        mode, size = self.decode
        return torch.from_numpy(_decode_image(self.files[index], mode, size))


@dataclass(frozen=True, eq=False)
class DatasetSplits:
    """A data set ready for training (see the module docstring)."""

    name: str
    train: Split
    val: Split
    test: Split
    num_classes: int
    #: ``(C, H, W)``
    image_shape: tuple[int, int, int]
    #: per-channel mean and std of the train split, in [0, 1] units
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augment: bool
    classes: tuple[str, ...] = ()
    #: where the data came from and how it was split (stored with results)
    info: dict = field(default_factory=dict)

    @property
    def in_channels(self) -> int:
        return self.image_shape[0]

    @property
    def input_size(self) -> int:
        """Image height (the side of a square image), what network builders take."""
        return self.image_shape[1]

    def summary(self) -> str:
        c, h, w = self.image_shape
        return (f"{self.name}: {len(self.train):,} train / {len(self.val):,} val / {len(self.test):,} test images, "
                f"{c}x{h}x{w}, {self.num_classes} classes, augment {'on' if self.augment else 'off'}")


def _torch():
    from archscape.train import require_torch

    return require_torch()


def toy_dataset(n_train: int = 200, n_val: int = 50, n_test: int = 50, *, size: int = 8, classes: int = 3,
                seed: int = 0) -> DatasetSplits:
    """A tiny learnable data set made in memory (for tests and examples): grey ``size`` x ``size`` images whose
    mean brightness is set by the class, plus uniform noise; the same ``seed`` gives the same images."""
    torch = _torch()
    g = torch.Generator().manual_seed(seed)

    def split(n: int) -> Split:
        y = torch.randint(0, classes, (n,), generator=g)
        x = (y.view(n, 1, 1, 1).float() * 80 + torch.rand(n, 1, size, size, generator=g) * 60).clamp(0, 255)
        return Split(y, x.to(torch.uint8))

    return DatasetSplits("toy", split(n_train), split(n_val), split(n_test), classes, (1, size, size), (0.4,), (0.3,),
                         False, tuple(str(c) for c in range(classes)))


# ------------------------------------------------------------------ entry point
def load_dataset(
    name: str,
    *,
    root: str | os.PathLike | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    train_subset: int | None = None,
    val_subset: int | None = None,
    test_subset: int | None = None,
    augment: bool | None = None,
    image_size: int | Sequence[int] | None = None,
    test_fraction: float = 0.2,
    max_memory: int | None = None,
) -> DatasetSplits:
    """Load ``name`` (see :data:`archscape.data.datasets.DATASETS`) into train/val/test splits.

    ``val_fraction`` of the train split (stratified, seeded by ``seed``)
    becomes the validation split (0 keeps none); the ``*_subset`` arguments
    keep that many images of a split (stratified, seeded).  ``max_memory``
    (bytes; default a quarter of the machine's memory) bounds what an image
    folder may occupy in memory before it is read lazily.
    """
    torch = _torch()
    name = canonical_name(name)
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ArchscapeError(f"val_fraction must be in [0, 1); got {val_fraction}")
    for label, n in (("train_subset", train_subset), ("val_subset", val_subset), ("test_subset", test_subset)):
        if n is not None and (not isinstance(n, (int, np.integer)) or n < 0):
            raise ArchscapeError(f"{label} must be a count of images >= 0; got {n!r}")
    seed = int(seed)
    if image_size is not None and name != "imagefolder":
        raise ArchscapeError(f"image_size resizes the images of an image folder; {name} has a fixed size")

    lazy = False
    decode = None
    if name in ("mnist", "fashion-mnist"):
        tr_x, tr_y, te_x, te_y, sources = _read_idx_dataset(name, root)
        classes = _CLASSES[name]
        val_x = val_y = None
    elif name in ("cifar10", "cifar100"):
        tr_x, tr_y, te_x, te_y, classes, sources = _read_cifar(name, root)
        val_x = val_y = None
    else:
        if root is None:
            raise ArchscapeError("the imagefolder data set needs root=FOLDER (one sub-folder of images per class)")
        folder = _scan_image_folder(Path(root), test_fraction, seed)
        classes, sources = folder["classes"], {"root": str(Path(root).resolve())}
        mode, size = _folder_geometry(folder["train"][0], image_size)
        decode = (mode, size)
        c = 1 if mode == "L" else 3
        h, w = size if size else _image_size_of(folder["train"][0][0])
        n_all = sum(len(folder[s][0]) for s in ("train", "val", "test") if folder.get(s))
        limit = _default_memory_limit() if max_memory is None else int(max_memory)
        if n_all * c * h * w <= limit:
            tr_x = _decode_all(folder["train"][0], mode, size, (c, h, w))
            te_x = _decode_all(folder["test"][0], mode, size, (c, h, w))
            val_x = _decode_all(folder["val"][0], mode, size, (c, h, w)) if folder.get("val") else None
        else:  # lazy: keep file names, decode per batch
            tr_x = np.array(folder["train"][0], dtype=object)
            te_x = np.array(folder["test"][0], dtype=object)
            val_x = np.array(folder["val"][0], dtype=object) if folder.get("val") else None
            lazy = True
        tr_y, te_y = folder["train"][1], folder["test"][1]
        val_y = folder["val"][1] if folder.get("val") else None

    num_classes = len(classes)
    tr_y = np.asarray(tr_y, dtype=np.int64)
    te_y = np.asarray(te_y, dtype=np.int64)
    for what, y in (("train", tr_y), ("test", te_y)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise DataError(f"{name}: {what} labels outside 0..{num_classes - 1}")

    # ---- validation split: stratified, seeded by `seed` only
    if val_x is None:
        if val_fraction > 0:
            val_idx = _stratified_take(tr_y, int(round(val_fraction * len(tr_y))), _rng(seed, 0))
            keep = np.ones(len(tr_y), dtype=bool)
            keep[val_idx] = False
            train_idx = np.flatnonzero(keep)
        else:
            val_idx, train_idx = np.zeros(0, dtype=np.int64), np.arange(len(tr_y))
        val_x, val_y = tr_x[val_idx], tr_y[val_idx]
        tr_x, tr_y = tr_x[train_idx], tr_y[train_idx]
    val_y = np.asarray(val_y, dtype=np.int64)
    if lazy:
        mean, std = _stats(_decode_all(list(tr_x[_stratified_take(tr_y, min(len(tr_y), 2000), _rng(seed, 4))]), *decode, (c, h, w)))
    else:
        mean, std = _stats(tr_x)
    image_shape = (c, h, w) if lazy else tuple(int(d) for d in tr_x.shape[1:])

    # ---- subsets
    parts = {}
    for tag, (label, x, y, n) in enumerate(
        (("train", tr_x, tr_y, train_subset), ("val", val_x, val_y, val_subset), ("test", te_x, te_y, test_subset)), start=1
    ):
        if n is not None and n < len(y):
            idx = _stratified_take(y, int(n), _rng(seed, tag))
            x, y = x[idx], y[idx]
        labels = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        if lazy:
            parts[label] = Split(labels, None, tuple(str(f) for f in x), decode)
        else:
            parts[label] = Split(labels, torch.from_numpy(np.ascontiguousarray(x, dtype=np.uint8)))

    if augment is None:
        augment = name in _AUGMENTED
    info = {
        "dataset": name,
        "sources": sources,
        "val_fraction": float(val_fraction),
        "seed": seed,
        "subsets": {"train": train_subset, "val": val_subset, "test": test_subset},
        "lazy": lazy,
    }
    return DatasetSplits(
        name, parts["train"], parts["val"], parts["test"], num_classes, image_shape, mean, std, bool(augment),
        tuple(str(c) for c in classes), info,
    )


# ------------------------------------------------------------------ splitting
def _rng(seed: int, tag: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(tag,)))


def _allocate(counts: np.ndarray, n: int) -> np.ndarray:
    """Split ``n`` over classes in proportion to ``counts`` (largest remainders; never above a count)."""
    total = int(counts.sum())
    n = min(int(n), total)
    if total == 0 or n == 0:
        return np.zeros_like(counts)
    quota = counts * (n / total)
    take = np.minimum(np.floor(quota).astype(np.int64), counts)
    short = n - int(take.sum())
    if short > 0:
        order = np.lexsort((np.arange(len(counts)), -(quota - take)))
        for c in order:
            if short == 0:
                break
            if take[c] < counts[c]:
                take[c] += 1
                short -= 1
    return take


def _stratified_take(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` items, each class in proportion, chosen at random; sorted."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    take = _allocate(counts, n)
    chosen = []
    for c in range(len(classes)):
        members = np.flatnonzero(inverse == c)
        chosen.append(rng.permutation(members)[: take[c]])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def _stats(images: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Exact per-channel mean and std (in [0, 1] units) of ``uint8 [N, C, H, W]`` images."""
    if len(images) == 0:
        raise DataError("the train split is empty")
    values = np.arange(256, dtype=np.float64) / 255.0
    means, stds = [], []
    for c in range(images.shape[1]):
        hist = np.bincount(np.ascontiguousarray(images[:, c]).reshape(-1), minlength=256).astype(np.float64)
        total = hist.sum()
        m = float(hist @ values / total)
        var = float(hist @ (values - m) ** 2 / total)
        means.append(m)
        stds.append(max(var, 1e-12) ** 0.5)
    return tuple(means), tuple(stds)


# ------------------------------------------------------------------ IDX (MNIST, Fashion-MNIST)
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (gzipped or not) as a numpy array; :class:`DataError` when it is not one."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise DataError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    count = int(np.prod(dims, dtype=np.int64))
    offset = 4 + 4 * ndim
    if len(raw) != offset + count * dtype.itemsize:
        raise DataError(f"{path}: IDX header says {dims} but the file holds {len(raw) - offset:,} bytes of data (truncated?)")
    return np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(dims).astype(dtype.newbyteorder("="))


def _idx_files(name: str, root: str | os.PathLike | None) -> dict[str, Path]:
    if root is not None:
        folder = Path(root).expanduser()
        if not folder.is_dir():
            raise DataError(f"{name}: root {folder} is not a folder (it must hold the four IDX files)")
        out, missing = {}, []
        for part, stem in _IDX_PARTS:
            hit = next((folder / f for f in (stem + ".gz", stem, f"{name}-{stem}.gz", f"fashion-{stem}.gz") if (folder / f).is_file()), None)
            if hit is None:
                missing.append(stem + "[.gz]")
            else:
                out[part] = hit
        if missing:
            raise DataError(f"{name}: {folder} lacks {', '.join(missing)}")
        return out
    from archscape.data import registry

    out, missing = {}, []
    for part, stem in _IDX_PARTS:
        entry = f"{name}-{part}"
        if not registry.is_available(entry) and name == "fashion-mnist" and (FASHION_MNIST_DEBIAN / f"{stem}.gz").is_file():
            registry.fetch(entry, FASHION_MNIST_DEBIAN / f"{stem}.gz")  # verified copy into the cache
        if registry.is_available(entry):
            out[part] = registry.path(entry)
        else:
            missing.append(entry)
    if missing:
        if name == "fashion-mnist":
            raise DataError(f"fashion-mnist is not in the data cache ({registry.cache_dir()}); {FASHION_MNIST_HINT}")
        raise DataError(f"{name} is not in the data cache ({registry.cache_dir()}); run: archscape data fetch {' '.join(missing)}")
    return out


def _read_idx_dataset(name: str, root):
    files = _idx_files(name, root)
    arrays = _read_idx_cached(tuple(sorted((k, str(p), p.stat().st_mtime_ns) for k, p in files.items())))
    return (*arrays, {k: str(p) for k, p in files.items()})


@lru_cache(maxsize=2)
def _read_idx_cached(key: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    paths = {k: Path(p) for k, p, _ in key}
    tr_x, tr_y = read_idx(paths["train-images"]), read_idx(paths["train-labels"])
    te_x, te_y = read_idx(paths["test-images"]), read_idx(paths["test-labels"])
    for what, x, y in (("train", tr_x, tr_y), ("test", te_x, te_y)):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y) or x.dtype != np.uint8:
            raise DataError(f"{what} IDX files do not match: images {x.shape} {x.dtype}, labels {y.shape}")
    return tr_x[:, None], tr_y.astype(np.int64), te_x[:, None], te_y.astype(np.int64)


# ------------------------------------------------------------------ CIFAR (python version)
_CIFAR = {
    "cifar10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], "batches.meta", "labels", "label_names"),
    "cifar100": ("cifar-100-python", ["train"], ["test"], "meta", "fine_labels", "fine_label_names"),
}


class _SafeUnpickler(pickle.Unpickler):
    """Builds dicts, lists, strings and numpy arrays only (the CIFAR batches hold nothing else)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _unpickle(blob: bytes, where: str) -> dict:
    try:
        obj = _SafeUnpickler(io.BytesIO(blob), encoding="latin1").load()
    except Exception as exc:  # any malformed pickle
        raise DataError(f"{where} is not a CIFAR python batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{where} is not a CIFAR python batch (a {type(obj).__name__}, not a dict)")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _cifar_source(name: str, root) -> Path:
    folder_name = _CIFAR[name][0]
    if root is None:
        from archscape.data import registry

        return registry.path(f"{name}-python")
    p = Path(root).expanduser()
    if p.is_file():
        return p
    if p.is_dir():
        for candidate in (p if p.name == folder_name else None, p / folder_name):
            if candidate is not None and candidate.is_dir():
                return candidate
        archive = p / f"{folder_name.replace('-batches-py', '-python')}.tar.gz"
        if archive.is_file():
            return archive
    raise DataError(f"{name}: {p} is neither the official .tar.gz nor a folder holding {folder_name}/")


def _read_cifar(name: str, root):
    src = _cifar_source(name, root)
    tr_x, tr_y, te_x, te_y, classes = _read_cifar_cached(name, str(src), src.stat().st_mtime_ns)
    return tr_x, tr_y, te_x, te_y, classes, {"archive" if src.is_file() else "folder": str(src)}


@lru_cache(maxsize=2)
def _read_cifar_cached(name: str, src: str, _mtime: int):
    folder_name, train_files, test_files, meta_file, label_key, names_key = _CIFAR[name]
    wanted = set(train_files + test_files + [meta_file])
    blobs: dict[str, bytes] = {}
    path = Path(src)
    if path.is_file():
        try:
            with tarfile.open(path, "r:*") as tar:
                for member in tar:
                    base = member.name.rsplit("/", 1)[-1]
                    if member.isfile() and base in wanted and member.name.split("/")[-2:-1] == [folder_name]:
                        blobs[base] = tar.extractfile(member).read()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataError(f"cannot read {path} as a tar archive: {exc}") from None
    else:
        for base in wanted:
            if (path / base).is_file():
                blobs[base] = (path / base).read_bytes()
    missing = sorted(wanted - set(blobs))
    if missing:
        raise DataError(f"{name}: {path} lacks {folder_name}/{', '.join(missing)}")

    def batches(files):
        xs, ys = [], []
        for f in files:
            d = _unpickle(blobs[f], f"{path}:{f}")
            try:
                x = np.asarray(d["data"], dtype=np.uint8)
                y = np.asarray(d[label_key], dtype=np.int64)
            except KeyError as exc:
                raise DataError(f"{path}:{f} has no {exc.args[0]!r} entry") from None
            if x.ndim != 2 or x.shape[1] != 3072 or len(x) != len(y):
                raise DataError(f"{path}:{f}: data {x.shape} and {len(y)} labels do not form 32x32x3 images")
            xs.append(x.reshape(-1, 3, 32, 32))
            ys.append(y)
        return np.concatenate(xs), np.concatenate(ys)

    tr_x, tr_y = batches(train_files)
    te_x, te_y = batches(test_files)
    meta = _unpickle(blobs[meta_file], f"{path}:{meta_file}")
    classes = tuple(str(c.decode() if isinstance(c, bytes) else c) for c in meta.get(names_key, ()))
    if not classes:
        classes = tuple(str(i) for i in range(int(max(tr_y.max(), te_y.max())) + 1))
    return tr_x, tr_y, te_x, te_y, classes


# ------------------------------------------------------------------ image folders
def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def _class_folders(folder: Path) -> dict[str, list[Path]]:
    out = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = _list_images(sub)
        if images:
            out[sub.name] = images
    return out


def _scan_image_folder(root: Path, test_fraction: float, seed: int) -> dict:
    root = root.expanduser()
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist")
    split_dirs = {s: root / s for s in ("train", "val", "valid", "validation", "test") if (root / s).is_dir()}
    base = split_dirs.get("train", root)
    train = _class_folders(base)
    if not train:
        raise DataError(f"image folder {base} has no class sub-folders with images ({', '.join(IMAGE_EXTENSIONS)})")
    classes = sorted(train)
    index = {c: i for i, c in enumerate(classes)}

    def flatten(groups: dict[str, list[Path]], where: Path):
        extra = sorted(set(groups) - set(index))
        if extra:
            raise DataError(f"{where} has classes that the train folder lacks: {', '.join(extra)}")
        files = [str(f) for c in classes for f in groups.get(c, [])]
        labels = np.array([index[c] for c in classes for _ in groups.get(c, [])], dtype=np.int64)
        return files, labels

    out = {"classes": tuple(classes), "train": flatten(train, base)}
    val_dir = next((split_dirs[s] for s in ("val", "valid", "validation") if s in split_dirs), None)
    if "train" in split_dirs and val_dir is not None:
        out["val"] = flatten(_class_folders(val_dir), val_dir)
    if "train" in split_dirs and "test" in split_dirs:
        out["test"] = flatten(_class_folders(split_dirs["test"]), split_dirs["test"])
    else:
        if not 0.0 < test_fraction < 1.0:
            raise ArchscapeError(f"test_fraction must be in (0, 1) for an image folder without test/; got {test_fraction}")
        files, labels = out["train"]
        test_idx = _stratified_take(labels, int(round(test_fraction * len(labels))), _rng(seed, 5))
        keep = np.ones(len(labels), dtype=bool)
        keep[test_idx] = False
        out["test"] = ([files[i] for i in test_idx], labels[test_idx])
        out["train"] = ([files[i] for i in np.flatnonzero(keep)], labels[keep])
    return out


def _image_size_of(file: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(file) as im:
        return im.height, im.width


def _folder_geometry(train_files: list[str], image_size) -> tuple[str, tuple[int, int] | None]:
    from PIL import Image

    if not train_files:
        raise DataError("the image folder has no training images")
    try:
        with Image.open(train_files[0]) as im:
            mode = "L" if im.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB"
    except OSError as exc:
        raise DataError(f"cannot read image {train_files[0]}: {exc}") from None
    if image_size is None:
        return mode, None
    if isinstance(image_size, (int, np.integer)):
        size = (int(image_size), int(image_size))
    else:
        size = tuple(int(s) for s in image_size)
        if len(size) != 2:
            raise ArchscapeError(f"image_size must be an int or (height, width); got {image_size!r}")
    if min(size) < 1:
        raise ArchscapeError(f"image_size must be positive; got {image_size!r}")
    return mode, size


def _decode_image(file: str, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(file) as im:
            im = im.convert(mode)
            if size is not None and (im.height, im.width) != tuple(size):
                im = im.resize((size[1], size[0]), Image.BILINEAR)
            arr = np.array(im, dtype=np.uint8)
    except OSError as exc:
        raise DataError(f"cannot read image {file}: {exc}") from None
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1).copy()


def _decode_all(files: Sequence[str], mode: str, size, shape: tuple[int, int, int]) -> np.ndarray:
    out = np.empty((len(files), *shape), dtype=np.uint8)
    for i, f in enumerate(files):
        arr = _decode_image(f, mode, size)
        if arr.shape != shape:
            raise DataError(f"image {f} is {arr.shape[2]}x{arr.shape[1]}, others {shape[2]}x{shape[1]}; pass image_size to resize them all")
        out[i] = arr
    return out


def _default_memory_limit() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):
        return 4 << 30


# ------------------------------------------------------------------ batches
class BatchTransform:
    """uint8 batch -> normalised float batch, with the optional augmentation, on the batch's device."""

    def __init__(self, data: DatasetSplits, device, *, augment: bool | None = None, padding: int = 4) -> None:
        torch = _torch()
        c = data.in_channels
        std = torch.tensor(data.std, dtype=torch.float32)
        mean = torch.tensor(data.mean, dtype=torch.float32)
        self.scale = (1.0 / (255.0 * std)).view(1, c, 1, 1).to(device)
        self.shift = (-mean / std).view(1, c, 1, 1).to(device)
        self.augment = data.augment if augment is None else bool(augment)
        self.padding = padding

    def __call__(self, x, generator=None, train: bool = False):
        if train and self.augment:
            x = augment_batch(x, generator, self.padding)
        return x.float().mul_(self.scale).add_(self.shift)


def augment_batch(x, generator, padding: int = 4):
    """Random crop (zero padding ``padding``) and horizontal flip of a ``[N, C, H, W]`` batch, in one gather.

    The random offsets are drawn on the CPU ``generator``, so a run is the
    same on every device.
    """
    torch = _torch()
    import torch.nn.functional as F

    n, c, h, w = x.shape
    p = int(padding)
    oy = torch.randint(0, 2 * p + 1, (n,), generator=generator)
    ox = torch.randint(0, 2 * p + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    rows = oy[:, None] + torch.arange(h)
    cols = ox[:, None] + torch.arange(w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    index = (rows[:, :, None] * (w + 2 * p) + cols[:, None, :]).reshape(n, 1, h * w).to(x.device)
    padded = F.pad(x, (p, p, p, p)).reshape(n, c, (h + 2 * p) * (w + 2 * p))
    return padded.gather(2, index.expand(n, c, h * w)).reshape(n, c, h, w)
