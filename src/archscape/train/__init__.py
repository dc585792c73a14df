"""Real training (optional extra ``archscape[train]``: torch).

Nothing here is imported by the core: the tabular benchmarks, optimizers and
landscape analysis never need torch.  :func:`require_torch` imports it or
says which extra to install.
"""

from __future__ import annotations

from archscape.torch_support import require_torch

__all__ = ["require_torch"]
