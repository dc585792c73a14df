"""The names of the training data sets, without torch: what a study's ``train.dataset`` may be.

Validating a name (:func:`canonical_name`) needs no training code, so a study
file is checked before :mod:`archscape.train` (and torch) is imported;
:func:`archscape.train.datasets.load_dataset` reads the data.
"""

from __future__ import annotations

from archscape.errors import unknown

#: canonical name -> what it is
DATASETS = {
    "mnist": "MNIST handwritten digits, 28x28 grey, 10 classes (60,000 train / 10,000 test)",
    "fashion-mnist": "Fashion-MNIST clothing, 28x28 grey, 10 classes (60,000 train / 10,000 test)",
    "cifar10": "CIFAR-10, 32x32 RGB, 10 classes (50,000 train / 10,000 test)",
    "cifar100": "CIFAR-100, 32x32 RGB, 100 fine classes (50,000 train / 10,000 test)",
    "imagefolder": "a folder of images, one sub-folder per class (root=...)",
}
#: other spellings of the names
ALIASES = {
    "fashion": "fashion-mnist",
    "fmnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "cifar-10": "cifar10",
    "cifar-100": "cifar100",
    "image-folder": "imagefolder",
    "folder": "imagefolder",
}


def canonical_name(name: str) -> str:
    """``"Fashion_MNIST"`` -> ``"fashion-mnist"``; raises :class:`~archscape.errors.UnknownName` for others."""
    key = str(name).strip().lower().replace("_", "-")
    key = ALIASES.get(key, ALIASES.get(key.replace("-", ""), key))
    if key not in DATASETS:
        raise unknown("data set for training", name, DATASETS)
    return key


__all__ = ["ALIASES", "DATASETS", "canonical_name"]
