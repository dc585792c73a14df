"""Spaces whose genotype is a fixed-length vector of categorical choices.

NAS-Bench-201 (one op per edge) and NAS-Bench-Macro (one block per layer)
share this structure: a genotype is a tuple of ``n_positions`` ints in
``0..len(ops)-1``, a neighbour changes one position, and the one-hot and
op-count encodings are position-wise.  Subclasses add the text form and the
order of the index.
"""

from __future__ import annotations

import itertools
from functools import cached_property

import numpy as np

from archscape.errors import InvalidArchitecture
from archscape.spaces.base import SearchSpace
from archscape.spaces.capabilities import CellLayout


def to_code(genotype: tuple[int, ...], base: int) -> int:
    """A choice vector as a base-``base`` number, first position most significant."""
    code = 0
    for o in genotype:
        code = code * base + o
    return code


def from_code(code: int, base: int, length: int) -> tuple[int, ...]:
    """Inverse of :func:`to_code` for vectors of ``length`` positions."""
    digits = [0] * length
    for i in range(length - 1, -1, -1):
        code, digits[i] = divmod(code, base)
    return tuple(digits)


#: spaces with at most this many vectors keep one shared tuple per vector (see ``CategoricalVectorSpace.validate``)
INTERN_MAX = 100_000


def lexicographic(base: int, length: int) -> list[tuple[int, ...]]:
    """Every vector of ``length`` positions in ``0..base-1``, in :func:`to_code` order (fast)."""
    return list(itertools.product(range(base), repeat=length))


class CategoricalVectorSpace(SearchSpace):
    """Tuples of ``n_positions`` choices among :attr:`ops`; one move changes one position."""

    n_positions: int = 0
    #: how an error message calls a position's value, e.g. "op indices"
    choice_label: str = "choices"
    #: what the vector is called as one cell of op slots (operation distributions); ``None``: no distribution
    cell_name: str | None = None

    @property
    def n_choices(self) -> int:
        return len(self.ops)

    # -------------------------------------------------------------- order
    # Default order: lexicographic (the base-n code); a space with an official
    # order overrides ``_genotypes`` and ``index``.
    @cached_property
    def _genotypes(self) -> list[tuple[int, ...]]:
        return lexicographic(self.n_choices, self.n_positions)

    @cached_property
    def _interned(self) -> dict[tuple[int, ...], tuple[int, ...]]:
        """Every valid vector mapped to itself: the one shared tuple a validated genotype is.

        Everything this class hands out (samples, neighbours, mutations,
        index lookups, validated input) is the interned tuple, so validating
        it again is one dict lookup and an identity test.  Empty for spaces
        too large to hold.
        """
        if self.n_choices**self.n_positions > INTERN_MAX:
            return {}
        return {g: g for g in self._genotypes}

    def index(self, genotype) -> int:
        return to_code(self.validate(genotype), self.n_choices)

    def from_index(self, index: int) -> tuple[int, ...]:
        return self._genotypes[self._check_index(index)]

    def enumerate(self):
        return iter(self._genotypes)

    def validate(self, genotype) -> tuple[int, ...]:
        interned = self._interned
        if type(genotype) is tuple:
            try:
                if interned.get(genotype) is genotype:
                    return genotype  # the hot path: a genotype this space handed out
            except TypeError:  # unhashable parts: refused below
                pass
        n, k = self.n_positions, self.n_choices
        if isinstance(genotype, tuple) and len(genotype) == n and all(type(o) is int and 0 <= o < k for o in genotype):
            return interned.get(genotype, genotype)
        if (
            isinstance(genotype, (tuple, list, np.ndarray))
            and len(genotype) == n
            and all(isinstance(o, (int, np.integer)) and not isinstance(o, bool) and 0 <= o < k for o in genotype)
        ):
            clean = tuple(int(o) for o in genotype)
            return interned.get(clean, clean)
        raise InvalidArchitecture(f"a {self.name} genotype is {n} {self.choice_label} in 0..{k - 1}; got {genotype!r}")

    # Every vector is its own canonical form and its own key: one call on the hot path, not three.
    # (A subclass whose vectors can be equivalent overrides both.)
    def canonical(self, genotype) -> tuple[int, ...]:
        return self.validate(genotype)

    def key(self, genotype) -> tuple[int, ...]:
        return self.validate(genotype)

    # -------------------------------------------------------------- text
    def format(self, genotype) -> str:
        g = self.validate(genotype)
        text = self._texts.get(g)
        if text is None:
            text = self._text_of(g)
            if self._interned:  # a finite table of texts, filled as genotypes are formatted
                self._texts[g] = text
        return text

    def _text_of(self, genotype: tuple[int, ...]) -> str:
        """The text form of a valid genotype (:meth:`format` validates and remembers it); or override :meth:`format`."""
        raise NotImplementedError(f"{type(self).__name__} defines neither format nor _text_of")

    @cached_property
    def _texts(self) -> dict[tuple[int, ...], str]:
        return {}

    def _intern(self, genotype: tuple[int, ...]) -> tuple[int, ...]:
        """The shared tuple of a vector built here (valid by construction)."""
        return self._interned.get(genotype, genotype)

    def sample(self, rng: np.random.Generator) -> tuple[int, ...]:
        return self._intern(tuple(rng.integers(0, self.n_choices, size=self.n_positions).tolist()))

    def neighbours(self, genotype) -> list[tuple[int, ...]]:
        g = self.validate(genotype)
        get = self._interned.get
        out = []
        for i in range(self.n_positions):
            head, tail = g[:i], g[i + 1 :]
            for o in range(self.n_choices):
                if o != g[i]:
                    n = head + (o,) + tail
                    out.append(get(n, n))
        return out

    def _codes_by_index(self) -> np.ndarray:
        """The base-n code of every genotype, in index order (default order: the code itself)."""
        return np.arange(self.n_choices**self.n_positions, dtype=np.int64)

    def _offers_neighbour_indices(self) -> bool:
        own = type(self)
        return own.neighbours is CategoricalVectorSpace.neighbours and (
            own.index is CategoricalVectorSpace.index or own._codes_by_index is not CategoricalVectorSpace._codes_by_index
        )

    def neighbour_indices(self) -> np.ndarray | None:
        """The index of every neighbour of every genotype, in :meth:`neighbours` order, with numpy.

        Row ``i``, column ``p * (k - 1) + j``: position ``p`` set to the
        ``j``-th choice other than the current one (ascending), exactly as
        :meth:`neighbours` lists them; every genotype has ``n * (k - 1)``.
        ``None`` (not offered) for a subclass that changes the neighbourhood,
        or the index order without saying it through :meth:`_codes_by_index`.
        """
        if not self._offers_neighbour_indices():
            return None
        n, k = self.n_positions, self.n_choices
        codes = np.asarray(self._codes_by_index(), dtype=np.int64)
        index_of_code = np.full(k**n, -1, dtype=np.int64)
        index_of_code[codes] = np.arange(len(codes))
        weights = k ** np.arange(n - 1, -1, -1, dtype=np.int64)  # first position most significant
        digits = codes[:, None] // weights % k  # (size, n)
        j = np.arange(k - 1, dtype=np.int64)
        new = j + (j >= digits[:, :, None])  # (size, n, k - 1): each choice but the current one, ascending
        moved = codes[:, None, None] + (new - digits[:, :, None]) * weights[:, None]
        return index_of_code[moved].reshape(len(codes), n * (k - 1))

    def mutate(self, genotype, rng: np.random.Generator) -> tuple[int, ...]:
        # A uniform pick among neighbours() without building the list.
        g = self.validate(genotype)
        others = len(self.ops) - 1
        position, o = divmod(int(rng.integers(self.n_positions * others)), others)
        o += o >= g[position]  # any choice but the current one
        return self._intern(g[:position] + (o,) + g[position + 1 :])

    # ------------------------------------------------------ operation slots
    # The whole vector is one cell whose slots are its positions.
    @cached_property
    def _layout(self) -> CellLayout | None:
        if self.cell_name is None:
            return None
        return CellLayout(self.name, (self.cell_name,), self.n_positions, tuple(self.ops), flat=True)

    def cell_layout(self) -> CellLayout | None:
        return self._layout

    def slot_ops(self, genotype) -> list[list[int]]:
        if self._layout is None:
            raise self._no_slots()
        return [list(self.validate(genotype))]

    def with_slot_ops(self, genotype, cells) -> tuple[int, ...]:
        if self._layout is None:
            raise self._no_slots()
        return self.validate(tuple(cells[0]))

    def arrange(self, cells, rng: np.random.Generator) -> tuple[int, ...]:
        if self._layout is None:
            raise self._no_slots()
        return self.validate(tuple(rng.permutation(cells[0]).tolist()))

    # -------------------------------------------------------------- encodings
    def _encode_onehot(self, g) -> np.ndarray:
        return self.encode_many([g], "onehot")[0]

    def _encode_opcount(self, g) -> np.ndarray:
        return np.bincount(np.asarray(g), minlength=self.n_choices).astype(np.float32)

    def encode_many(self, genotypes, encoding: str = "onehot", **options) -> np.ndarray:
        if encoding not in ("onehot", "opcount"):
            return super().encode_many(genotypes, encoding, **options)
        self._check_encoding(encoding)
        n, k = self.n_positions, self.n_choices
        g = np.asarray([self.validate(x) for x in genotypes], dtype=np.int64).reshape(-1, n)
        if encoding == "onehot":
            out = np.zeros((len(g), n * k), dtype=np.float32)
            out[np.arange(len(g))[:, None], np.arange(n) * k + g] = 1.0
            return out
        return (g[:, :, None] == np.arange(k)).sum(axis=1).astype(np.float32)
