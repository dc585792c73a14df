"""PyTorch behind the optional ``train`` extra: importing it, and the two context managers that
make torch runs reproducible.  Used by training (:mod:`archscape.train`) and the graph predictor
(:mod:`archscape.predictors.gnn`); nothing here imports torch until it is called.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

from archscape.errors import MissingExtra


def require_torch(what: str = "real training"):
    """Import and return torch, or raise one line naming the extra to install."""
    try:
        import torch
    except ImportError:
        raise MissingExtra(f"{what} needs PyTorch: pip install 'archscape[train]' (torch==2.13.0)") from None
    return torch


@contextmanager
def torch_threads(n: int | None):
    """torch's CPU threads set to ``n`` inside the block (``None``: left alone), restored after."""
    torch = require_torch()
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n is not None and before != n:
            torch.set_num_threads(before)


@contextmanager
def deterministic_algorithms(enabled: bool):
    """torch's deterministic algorithms (and cuDNN's) inside the block when ``enabled``, restored after."""
    torch = require_torch()
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
    )
    with warnings.catch_warnings():
        if enabled:
            warnings.filterwarnings("ignore", message=".*does not have a deterministic implementation.*")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(before[0], warn_only=before[1])
            torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = before[2], before[3]


__all__ = ["deterministic_algorithms", "require_torch", "torch_threads"]
