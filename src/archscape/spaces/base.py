"""The search-space interface.

A search space knows *structure* only: how to sample, mutate and enumerate
architectures, their neighbourhoods, their text form, their canonical form and
their encodings.  It knows nothing about accuracies (that is a benchmark) and
never builds a network (that is the optional ``train`` extra).

Genotypes are small immutable, hashable values (tuples of ints); equal
architectures compare equal after :meth:`SearchSpace.canonical`.  Every random
choice takes an explicit ``numpy.random.Generator``: no global random state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from archscape.errors import ArchscapeError, InvalidArchitecture, UnsupportedOperation, unknown
from archscape.spaces.capabilities import CellLayout, GraphView

Genotype = Hashable

#: Names of the encodings a space may offer.
#: ``onehot``  - one-hot adjacency (where the wiring varies) plus one-hot ops
#: ``path``    - BANANAS path encoding, features ordered short paths first so a
#:               ``cutoff`` keeps the most informative ones
#: ``opcount`` - how many times each operation occurs (the op distribution)
ENCODINGS = ("onehot", "path", "opcount")


def _clip(text: str, n: int = 40) -> str:
    """``text`` shortened to ``n`` characters for a one-line message."""
    return text if len(text) <= n else f"{text[:n]}... ({len(text):,} characters)"


#: the longest architecture text :meth:`SearchSpace.read` parses (a space may bound its own text further)
MAX_TEXT = 10_000


class SearchSpace(ABC):
    """Abstract search space; subclasses fill in the structure of one space."""

    #: short registry name, e.g. ``"nb201"``
    name: str = ""
    #: the candidate operations, in the order used by encodings and genotypes
    ops: tuple[str, ...] = ()
    #: encodings this space offers (subset of :data:`ENCODINGS`)
    encodings: tuple[str, ...] = ()
    #: number of architectures when finite, else ``None``
    size: int | None = None

    # ------------------------------------------------------------ structure
    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Genotype:
        """Draw one architecture uniformly (over genotypes) with ``rng``."""

    @abstractmethod
    def neighbours(self, genotype: Genotype) -> list[Genotype]:
        """All canonical architectures one move away, distinct, without ``genotype``.

        The order is deterministic; optimizers shuffle it themselves.
        """

    def mutate(self, genotype: Genotype, rng: np.random.Generator) -> Genotype:
        """One random move: a uniformly chosen neighbour."""
        options = self.neighbours(genotype)
        if not options:
            raise UnsupportedOperation(f"{self.format(genotype)} has no neighbours in {self.name}")
        return options[int(rng.integers(len(options)))]

    @abstractmethod
    def parse(self, text: str) -> Genotype:
        """Read the usual text form; raise :class:`InvalidArchitecture` when malformed."""

    @abstractmethod
    def format(self, genotype: Genotype) -> str:
        """The usual text form, such that ``parse(format(g)) == canonical(g)``."""

    def canonical(self, genotype: Genotype) -> Genotype:
        """The representative of ``genotype``'s equivalence class (default: itself)."""
        return self.validate(genotype)

    @abstractmethod
    def validate(self, genotype: Any) -> Genotype:
        """Return ``genotype`` as this space's type, or raise :class:`InvalidArchitecture`."""

    def key(self, genotype: Genotype) -> Hashable:
        """A hashable identity shared by all equivalent genotypes (used for 'seen' sets)."""
        return self.canonical(genotype)

    def as_genotype(self, arch: Any) -> Genotype:
        """Accept a genotype, its text form or (finite spaces) its index; return the canonical genotype."""
        if isinstance(arch, str):
            return self.canonical(self.parse(arch))
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool) and self.size is not None:
            return self.from_index(int(arch))
        return self.canonical(arch)

    def read(self, text: str) -> Genotype:
        """An architecture named on the command line: its text form, or ``#N`` for index ``N`` (finite spaces).

        Text is always read as an architecture; an index must be written
        ``#N``.  Digits that are not an architecture of the space are refused
        naming both readings, so ``00000012`` on NAS-Bench-Macro is the chain
        ``00000012``, never table index 12.
        """
        if not isinstance(text, str):
            raise InvalidArchitecture(f"an architecture on the command line is text; got {type(text).__name__}")
        if len(text) > MAX_TEXT:  # bounded before parsing (the longest architecture text, a DARTS genotype, is ~500)
            raise InvalidArchitecture(f"an architecture text is at most {MAX_TEXT:,} characters; got {len(text):,}")
        stripped = text.strip()
        if stripped.startswith("#"):
            number = stripped[1:]
            if not (number.isascii() and number.isdigit()):
                raise InvalidArchitecture(f"an index is written #N with N a whole number; got {text!r}")
            if self.size is None:
                raise UnsupportedOperation(f"search space {self.name!r} is not enumerable; it has no index {text!r}")
            if len(number.lstrip("0")) > len(str(self.size)):  # out of range, however long (int() refuses 4,300+ digits)
                raise InvalidArchitecture(f"index {_clip(stripped)} is out of range for {self.name}; accepted: #0..#{self.size - 1}")
            return self.from_index(self._check_index(int(number)))
        try:
            return self.canonical(self.parse(stripped))
        except InvalidArchitecture as exc:
            if self.size is not None and stripped.isascii() and stripped.isdigit():
                raise InvalidArchitecture(
                    f"{stripped!r} is not a {self.name} architecture ({exc}); for index {int(stripped)} write #{int(stripped)}"
                ) from None
            raise

    # --------------------------------------------------------- finite spaces
    def index(self, genotype: Genotype) -> int:
        """Position of ``genotype`` in the space's official order (finite spaces)."""
        raise UnsupportedOperation(f"search space {self.name!r} is not enumerable; no index")

    def from_index(self, index: int) -> Genotype:
        raise UnsupportedOperation(f"search space {self.name!r} is not enumerable; no index")

    def enumerate(self) -> Iterator[Genotype]:
        """Every architecture, in index order (finite spaces)."""
        if self.size is None:
            raise UnsupportedOperation(f"search space {self.name!r} is infinite or too large to enumerate")
        for i in range(self.size):
            yield self.from_index(i)

    def _check_index(self, index: int) -> int:
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool) or not 0 <= index < (self.size or 0):
            raise InvalidArchitecture(f"index {index!r} is out of range for {self.name}; accepted: 0..{(self.size or 1) - 1}")
        return int(index)

    # ------------------------------------------------------------- encodings
    def encode(self, genotype: Genotype, encoding: str = "onehot", **options: Any) -> np.ndarray:
        """Encode one architecture as a 1-D float array."""
        self._check_encoding(encoding)
        return getattr(self, f"_encode_{encoding}")(self.validate(genotype), **options)

    def encode_many(self, genotypes: Iterable[Genotype], encoding: str = "onehot", **options: Any) -> np.ndarray:
        """Encode several architectures as a 2-D array, one row each."""
        rows = [self.encode(g, encoding, **options) for g in genotypes]
        if not rows:
            return np.zeros((0, self.encoding_size(encoding, **options)), dtype=np.float32)
        return np.stack(rows)

    def encoding_size(self, encoding: str, **options: Any) -> int:
        """Length of the vector :meth:`encode` returns for ``encoding``."""
        rng = np.random.default_rng(0)
        return int(self.encode(self.sample(rng), encoding, **options).shape[0])

    def op_counts(self, genotype: Genotype) -> np.ndarray:
        """The operation-distribution vector (counts per entry of :attr:`ops`)."""
        return self.encode(genotype, "opcount")

    def _check_encoding(self, encoding: str) -> None:
        if encoding not in self.encodings:
            if encoding in ENCODINGS:
                raise UnsupportedOperation(
                    f"search space {self.name!r} has no {encoding!r} encoding; it offers: {', '.join(self.encodings)}"
                )
            raise unknown("encoding", encoding, self.encodings)

    # ----------------------------------------------------------- capabilities
    # What a space offers beyond structure (see archscape.spaces.capabilities): the
    # defaults say "not offered"; a space that offers one overrides it in its own file.

    #: ``"module:function"`` that builds a torch network from a genotype (the ``train`` extra), or ``None``
    network: ClassVar[str | None] = None

    def graph_view(self) -> GraphView | None:
        """How genotypes become operation graphs (graph predictors); ``None`` if the space has none."""
        return None

    def cell_layout(self) -> CellLayout | None:
        """The op slots an operation distribution counts; ``None`` if the space has none."""
        return None

    def slot_ops(self, genotype: Genotype) -> list[list[int]]:
        """The value of every op slot, cell by cell, in :meth:`cell_layout` order."""
        raise self._no_slots()

    def with_slot_ops(self, genotype: Genotype, cells: Sequence[Sequence[int]]) -> Genotype:
        """``genotype`` with its slots holding ``cells`` (same wiring), canonical."""
        raise self._no_slots()

    def arrange(self, cells: Sequence[np.ndarray], rng: np.random.Generator) -> Genotype:
        """A random architecture whose cell ``c`` holds exactly the slot values ``cells[c]`` (a multiset).

        Every architecture with those operations is equally likely (given the
        wiring the space draws with them); every random number comes from ``rng``.
        """
        raise self._no_slots()

    def neighbour_indices(self) -> np.ndarray | None:
        """Finite spaces, vectorised: row ``i`` lists ``index(n)`` for each ``n`` in ``neighbours(from_index(i))``.

        An int64 array ``(size, max_degree)`` in the order of :meth:`neighbours`,
        padded with -1 where neighbourhoods differ in size; ``None`` where the
        space offers no vectorised form (callers then loop over :meth:`neighbours`).
        """
        return None

    def _offers_neighbour_indices(self) -> bool:
        """Whether :meth:`neighbour_indices` answers (without computing it)."""
        return type(self).neighbour_indices is not SearchSpace.neighbour_indices

    def unit_vectors(self, genotypes: Iterable[Genotype]) -> np.ndarray:
        """Spaces of continuous parameters: each genotype's parameters scaled to [0, 1] by their bounds (one row each)."""
        raise UnsupportedOperation(f"search space {self.name!r} has no continuous parameters (no unit vectors)")

    def model_size(self, genotype: Genotype, **options: Any) -> float:
        """The parameter count of a genotype's network without building it (where the space can tell)."""
        raise UnsupportedOperation(f"search space {self.name!r} has no built-in model size")

    def capabilities(self) -> dict[str, bool]:
        """Which optional capabilities the space offers (for listings and conformance suites)."""
        own = type(self)
        return {
            "enumerable": self.size is not None,
            "graph": self.graph_view() is not None,
            "opdist": self.cell_layout() is not None,
            "network": self.network is not None,
            "continuous": own.unit_vectors is not SearchSpace.unit_vectors,
            "model_size": own.model_size is not SearchSpace.model_size,
            "neighbour_matrix": self._offers_neighbour_indices(),
        }

    def _no_slots(self) -> UnsupportedOperation:
        return UnsupportedOperation(f"search space {self.name!r} has no operation slots (no operation distribution)")

    # ---------------------------------------------------------------- helpers
    def _op_index(self, op: str, ops: Sequence[str] | None = None) -> int:
        ops = self.ops if ops is None else ops
        try:
            return ops.index(op)
        except ValueError:
            raise InvalidArchitecture(f"unknown operation {op!r} in {self.name}; accepted: {', '.join(ops)}") from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def truncate(vector: np.ndarray, cutoff: int | None) -> np.ndarray:
    """Keep the first ``cutoff`` features (path encodings put short paths first)."""
    if cutoff is None:
        return vector
    if not isinstance(cutoff, (int, np.integer)) or cutoff < 1:
        raise ArchscapeError(f"path cutoff must be a positive int; got {cutoff!r}")
    return vector[: int(cutoff)]


def check_space_offers(space: SearchSpace, needs: tuple[str, ...], who: str) -> None:
    """Raise one clear line when ``space`` lacks what ``who`` (an optimizer, a predictor) needs.

    ``needs`` holds ``"encoding:<name>"``, ``"neighbours"``, ``"mutate"`` or ``"sample"``.
    """
    for need in needs:
        if need.startswith("encoding:"):
            enc = need.split(":", 1)[1]
            if enc not in space.encodings:
                raise UnsupportedOperation(
                    f"{who} needs the {enc!r} encoding, which search space {space.name!r} does not offer "
                    f"(it offers: {', '.join(space.encodings)})"
                )
        elif need in ("neighbours", "mutate", "sample"):
            if not callable(getattr(space, need, None)):
                raise UnsupportedOperation(f"{who} needs {need} from search space {space.name!r}, which it does not offer")
        else:
            raise ValueError(f"unknown requirement {need!r}")
