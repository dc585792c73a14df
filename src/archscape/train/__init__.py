"""Real training (optional extra ``archscape[train]``: torch).

Nothing here is imported by the core: the tabular benchmarks, optimizers and
landscape analysis never need torch.  :func:`require_torch` imports it or
says which extra to install.
"""

from __future__ import annotations

from archscape.errors import MissingExtra


def require_torch():
    """Import and return torch, or raise one line naming the extra to install."""
    try:
        import torch
    except ImportError:
        raise MissingExtra("real training needs PyTorch: pip install 'archscape[train]' (torch==2.13.0)") from None
    return torch
