"""Distribution spaces: search the operation distribution of a cell instead of its wiring.

``nb201-opdist``, ``macro-opdist``, ``nb101-opdist`` and ``darts-opdist`` are
search spaces like any other, so every optimizer runs on them unchanged.  A
genotype is a count vector (:mod:`archscape.spaces.distribution`): the
concatenated per-cell counts of each operation, e.g. ``(1, 2, 0, 3, 0)`` for
an NB201 cell with one ``none``, two ``skip_connect`` and three
``nor_conv_3x3``.  NB201 has 210 of them (against 15,625 cells), Macro 45,
NB101 21, DARTS 3,003 per cell type (about 9e6 in all).

* sampling is uniform over count vectors;
* a neighbour moves one unit of count from one operation to another within a
  cell (symmetric; up to ``n_ops * (n_ops - 1)`` per cell);
* encodings: ``onehot`` is the point on the simplex (counts / cell size, per
  cell), what a GP or an MLP reads; ``opcount`` the counts themselves;
* text: ``none=1,skip_connect=2,nor_conv_1x1=0,nor_conv_3x3=3,avg_pool_3x3=0``
  (DARTS: ``normal: ...; reduce: ...``) or the bare numbers ``1,2,0,3,0``;
  every op must be named once, and the counts of a cell sum to its size;
* the index orders count vectors lexicographically, cell by cell.

An evaluation of a distribution samples architectures from it
(:meth:`OpDistSpace.architecture`) and evaluates those: see
:class:`archscape.opdist.evaluator.OpDistEvaluator`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from archscape.errors import InvalidArchitecture
from archscape.spaces.distribution import (
    CellLayout, cell_count_vectors, check_counts, counts_of, layout_of, sample_architecture,
)
from archscape.spaces.base import Genotype, SearchSpace

#: a distribution space is named ``<base>-opdist``: one exists for every space that declares
#: operation slots (:meth:`SearchSpace.cell_layout`), see :func:`archscape.spaces.get_space`
SUFFIX = "-opdist"


class OpDistSpace(SearchSpace):
    """Count vectors of a base space's cells (see the module docstring)."""

    encodings = ("onehot", "opcount")

    def __init__(self, base: SearchSpace) -> None:
        self.base = base
        self.layout: CellLayout = layout_of(base)
        self.name = base.name + SUFFIX
        self.ops = self.layout.ops
        self.size = self.layout.size

    # ------------------------------------------------------------ structure
    @cached_property
    def _cell_vectors(self) -> tuple[tuple[int, ...], ...]:
        return cell_count_vectors(self.layout.slots, self.layout.n_ops)

    @cached_property
    def _cell_index(self) -> dict[tuple[int, ...], int]:
        return {v: i for i, v in enumerate(self._cell_vectors)}

    def validate(self, genotype: Any) -> tuple[int, ...]:
        return check_counts(self.layout, genotype, what=f"a {self.name} genotype (counts)")

    def sample(self, rng: np.random.Generator) -> tuple[int, ...]:
        vectors = self._cell_vectors
        picks = rng.integers(0, len(vectors), size=len(self.layout.cells)).tolist()
        return tuple(c for i in picks for c in vectors[i])

    def neighbours(self, genotype: Any) -> list[tuple[int, ...]]:
        g = self.validate(genotype)
        k, out = self.layout.n_ops, []
        for c in range(len(self.layout.cells)):
            for i in range(k):
                if g[c * k + i] == 0:
                    continue
                for j in range(k):
                    if j != i:
                        moved = list(g)
                        moved[c * k + i] -= 1
                        moved[c * k + j] += 1
                        out.append(tuple(moved))
        return out

    def index(self, genotype: Any) -> int:
        index = 0
        for part in self.layout.split(self.validate(genotype)):
            index = index * len(self._cell_vectors) + self._cell_index[part]
        return index

    def from_index(self, index: int) -> tuple[int, ...]:
        i = self._check_index(index)
        parts = []
        for _ in self.layout.cells:
            i, r = divmod(i, len(self._cell_vectors))
            parts.append(self._cell_vectors[r])
        return tuple(c for part in reversed(parts) for c in part)

    # ------------------------------------------------------------ architectures
    def architecture(self, genotype: Any, rng: np.random.Generator) -> Genotype:
        """One architecture of the base space with exactly these counts, placed uniformly at random."""
        return sample_architecture(self.base, self.validate(genotype), rng)

    def of_architecture(self, arch: Any) -> tuple[int, ...]:
        """The count vector of a base-space architecture (genotype or text)."""
        return counts_of(self.base, self.base.as_genotype(arch))

    # ------------------------------------------------------------ text
    def format(self, genotype: Any) -> str:
        g = self.validate(genotype)
        parts = [",".join(f"{op}={n}" for op, n in zip(self.ops, part)) for part in self.layout.split(g)]
        if len(self.layout.cells) == 1:
            return parts[0]
        return "; ".join(f"{cell}: {part}" for cell, part in zip(self.layout.cells, parts))

    def parse(self, text: str) -> tuple[int, ...]:
        if not isinstance(text, str) or not text.strip():
            raise InvalidArchitecture(f"a {self.name} architecture is text like {self._example()!r}; got {text!r}")
        cells = self.layout.cells
        chunks = [c.strip() for c in text.split(";")]
        if len(chunks) != len(cells):
            raise InvalidArchitecture(f"a {self.name} architecture has {len(cells)} cell(s) ({', '.join(cells)}), "
                                      f"separated by ';'; got {len(chunks)}, e.g. {self._example()!r}")
        counts: list[int] = []
        for cell, chunk in zip(cells, chunks):
            if len(cells) > 1:
                name, sep, chunk = chunk.partition(":")
                if not sep or name.strip() != cell:
                    raise InvalidArchitecture(f"expected '{cell}: ...' in {text!r}; e.g. {self._example()!r}")
            counts += self._parse_cell(chunk)
        return self.validate(counts)

    def _parse_cell(self, chunk: str) -> list[int]:
        items = [i.strip() for i in chunk.split(",")]
        if not any("=" in i for i in items):  # bare numbers
            try:
                return [int(i) for i in items]
            except ValueError:
                raise InvalidArchitecture(f"malformed {self.name} counts {chunk.strip()!r}; e.g. {self._example()!r}") from None
        found: dict[str, int] = {}
        for item in items:
            op, sep, value = item.partition("=")
            op = op.strip()
            if not sep:
                raise InvalidArchitecture(f"malformed {self.name} item {item!r}: expected op=count")
            if op not in self.ops:
                raise InvalidArchitecture(f"unknown operation {op!r} in {self.name}; accepted: {', '.join(self.ops)}")
            if op in found:
                raise InvalidArchitecture(f"operation {op!r} is named twice in {chunk.strip()!r}")
            try:
                found[op] = int(value)
            except ValueError:
                raise InvalidArchitecture(f"the count of {op} must be an integer; got {value.strip()!r}") from None
        missing = [op for op in self.ops if op not in found]
        if missing:
            raise InvalidArchitecture(f"{self.name} counts lack {', '.join(missing)} (name every op, 0 included)")
        return [found[op] for op in self.ops]

    def _example(self) -> str:
        return self.format(self.from_index(self.size - 1))

    # ------------------------------------------------------------ encodings
    def _encode_opcount(self, g: tuple[int, ...]) -> np.ndarray:
        return np.asarray(g, dtype=np.float32)

    def _encode_onehot(self, g: tuple[int, ...]) -> np.ndarray:
        return np.asarray(g, dtype=np.float32) / self.layout.slots

    def op_counts(self, genotype: Any) -> np.ndarray:
        return self._encode_opcount(self.validate(genotype))


__all__ = ["SUFFIX", "OpDistSpace"]
