"""The NAS-Bench-Macro chain: 8 layers, 3 blocks per layer, 6,561 networks.

NAS-Bench-Macro (Su et al., CVPR 2021) stacks 8 searchable layers in three
stages of 2, 3 and 3 layers; the first layer of each stage (layers 0, 2 and 5)
has stride 2 and doubles the channels.  Each layer is one of

* ``0`` identity (at a stride-2 layer: a 1x1 convolution that downsamples),
* ``1`` MB3_K3, a MobileNetV2 block with kernel 3 and expansion 3,
* ``2`` MB6_K5, a MobileNetV2 block with kernel 5 and expansion 6.

A genotype is a tuple of 8 block indices, first layer first; its text form is
the 8-digit key of the benchmark file, like ``02012100``.  The data set has
no official index, so :meth:`MacroSpace.index` is the base-3 number of that
string (first layer most significant), i.e. the lexicographic order of the
keys.

Every string is its own canonical form, as every string is its own entry in
the benchmark.  Beware that the authors trained only 3,969 distinct networks:
an identity layer that is not the first of its stage is a no-op, so moving it
to the end of its stage gives the same network, and the file copies that
network's results to every such string (see :func:`trained_as`).  A chain
has a single input-output path, so the space offers no ``path`` encoding.
"""

from __future__ import annotations


import numpy as np

from archscape.errors import InvalidArchitecture
from archscape.spaces.capabilities import GraphBatch, GraphView, empty_graphs
from archscape.spaces.vector import CategoricalVectorSpace, from_code, to_code

OPS = ("identity", "mb3_k3", "mb6_k5")
N_LAYERS = 8
N_OPS = 3
SIZE = N_OPS**N_LAYERS
#: layers per stage; the first layer of each stage has stride 2
STAGES = (2, 3, 3)
_DIGITS = frozenset("012")


def index_of(genotype: tuple[int, ...]) -> int:
    """Base-3 number of a chain, first layer most significant (lexicographic order of the keys)."""
    return to_code(genotype, N_OPS)


def genotype_of_index(index: int) -> tuple[int, ...]:
    return from_code(index, N_OPS, N_LAYERS)


def trained_as(genotype: tuple[int, ...]) -> tuple[int, ...]:
    """The chain whose trained network NAS-Bench-Macro reports for ``genotype``.

    Inside each stage, identity layers after the stride-2 first layer are
    moved to the stage's end (they compute nothing, so the network is the
    same).  The benchmark trained only these 3,969 chains and copied their
    results to the other strings (``get_real_arch`` in the authors' training
    scripts).
    """
    out: list[int] = []
    start = 0
    for length in STAGES:
        head, rest = genotype[start], genotype[start + 1 : start + length]
        blocks = [o for o in rest if o != 0]
        out += [head, *blocks, *([0] * (len(rest) - len(blocks)))]
        start += length
    return tuple(out)


class MacroSpace(CategoricalVectorSpace):
    """The NAS-Bench-Macro chain search space."""

    n_positions = N_LAYERS
    choice_label = "block indices"
    cell_name = "chain"
    network = "archscape.train.models.macro:build"

    name = "macro"
    ops = OPS
    encodings = ("onehot", "opcount")
    size = SIZE

    # -------------------------------------------------------------- text
    def parse(self, text: str) -> tuple[int, ...]:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"a macro arch string is text; got {type(text).__name__}")
        s = text.strip()
        if len(s) != N_LAYERS or not set(s) <= _DIGITS:
            shown = s if len(s) <= 40 else s[:37] + "..."
            raise InvalidArchitecture(
                f"malformed macro arch string {shown!r}: expected 8 digits 0 (identity), 1 (mb3_k3) or 2 (mb6_k5), like 02012100"
            )
        return self._intern(tuple(int(c) for c in s))

    def _text_of(self, genotype) -> str:
        return "".join(map(str, genotype))

    def graph_view(self) -> MacroGraphs:
        return MacroGraphs()


class MacroGraphs(GraphView):
    """Input, the 8 layers in a chain, output; a layer's feature is its block and its position
    (which fixes its stride and width)."""

    def __init__(self) -> None:
        self.layers = N_LAYERS
        self.n_ops = N_OPS
        self.n_nodes = N_LAYERS + 2
        self.n_features = 2 + N_OPS + N_LAYERS  # input, output, block, position

    def graphs(self, space, genotypes) -> GraphBatch:
        ops = np.asarray([space.validate(g) for g in genotypes], dtype=np.int64).reshape(-1, self.layers)
        n = len(ops)
        x, a, mask = empty_graphs(n, self.n_nodes, self.n_features)
        x[:, 0, 0] = 1.0
        x[:, -1, 1] = 1.0
        layer_nodes = np.arange(1, self.layers + 1)
        x[np.arange(n)[:, None], layer_nodes[None, :], 2 + ops] = 1.0
        x[:, layer_nodes, 2 + self.n_ops + layer_nodes - 1] = 1.0
        chain = np.arange(self.n_nodes - 1)
        a[:, chain, chain + 1] = 1.0
        return GraphBatch(x, a, mask)


__all__ = ["MacroSpace", "OPS", "SIZE", "STAGES", "genotype_of_index", "index_of", "trained_as"]
