"""A search space restricted to the architectures of a partial table.

A benchmark that holds only some cells of its space (the 500-cell NB101
subset) cannot be searched in the full space: almost every sample would miss
the table.  :class:`SubsetSpace` keeps the parent's structure (text form,
canonical form, encodings) but samples among the table's cells, numbers them
by table row, and replaces the neighbourhood by the ``k`` nearest table cells
under the Hamming distance of the one-hot encoding (made symmetric: *a* and *b*
are neighbours when either is among the other's ``k`` nearest), because the
parent's one-edit neighbours are almost never in the table.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from archscape.errors import NotInTable
from archscape.spaces.base import Genotype, SearchSpace


class SubsetSpace(SearchSpace):
    """The cells of a partial table, with a nearest-cells neighbourhood."""

    def __init__(self, parent: SearchSpace, genotypes: Sequence[Genotype], *, k: int = 8, name: str | None = None) -> None:
        self.parent = parent
        self.name = name or f"{parent.name}-subset"
        self.ops = parent.ops
        self.encodings = parent.encodings
        self.network = parent.network
        self._genotypes = [parent.canonical(g) for g in genotypes]
        self._row = {parent.key(g): r for r, g in enumerate(self._genotypes)}
        self.size = len(self._genotypes)
        self.k = k
        self._neighbour_rows: list[list[int]] | None = None

    # -------------------------------------------------------------- structure
    def validate(self, genotype) -> Genotype:
        return self.parent.validate(genotype)

    def canonical(self, genotype) -> Genotype:
        return self.parent.canonical(genotype)

    def key(self, genotype) -> Hashable:
        return self.parent.key(genotype)

    def parse(self, text: str) -> Genotype:
        return self.parent.parse(text)

    def format(self, genotype) -> str:
        return self.parent.format(genotype)

    def index(self, genotype) -> int:
        row = self._row.get(self.parent.key(genotype))
        if row is None:
            raise NotInTable(f"{self.parent.format(genotype)} is not among the {self.size} cells of {self.name}")
        return row

    def from_index(self, index: int) -> Genotype:
        return self._genotypes[self._check_index(index)]

    def sample(self, rng: np.random.Generator) -> Genotype:
        return self._genotypes[int(rng.integers(self.size))]

    def neighbours(self, genotype) -> list[Genotype]:
        rows = self._neighbours()[self.index(genotype)]
        return [self._genotypes[r] for r in rows]

    def _neighbours(self) -> list[list[int]]:
        if self._neighbour_rows is None:
            enc = self.parent.encode_many(self._genotypes, "onehot")
            # Hamming distance between binary encodings, all pairs at once.
            dist = enc.shape[1] - (enc @ enc.T + (1 - enc) @ (1 - enc).T)
            np.fill_diagonal(dist, np.inf)
            k = min(self.k, self.size - 1)
            nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
            adjacency = np.zeros((self.size, self.size), dtype=bool)
            adjacency[np.repeat(np.arange(self.size), k), nearest.ravel()] = True
            adjacency |= adjacency.T
            self._neighbour_rows = [np.flatnonzero(r).tolist() for r in adjacency]
        return self._neighbour_rows

    def graph_view(self):
        """The parent's graph view: a table cell is a cell of the parent."""
        return self.parent.graph_view()

    # -------------------------------------------------------------- encodings
    def encode(self, genotype, encoding: str = "onehot", **options) -> np.ndarray:
        return self.parent.encode(genotype, encoding, **options)

    def encode_many(self, genotypes, encoding: str = "onehot", **options) -> np.ndarray:
        return self.parent.encode_many(genotypes, encoding, **options)
