"""The shared conformance checks for a space's operation slots (what operation distributions read).

:func:`check_op_slots` runs on every space that declares a cell layout
(``test_opdist_conformance.py`` takes them from the space registry): the
layout agrees with the space, slots round-trip through
``slot_ops``/``with_slot_ops``, architectures placed from a count vector hold
exactly those counts and are seeded, and the derived ``<space>-opdist`` space
passes the space suite.
"""

from __future__ import annotations

import numpy as np

from archscape.spaces import get_space
from archscape.spaces.base import SearchSpace
from archscape.spaces.distribution import cell_count_vectors, counts_of, layout_of, sample_architecture
from conformance import check_space

N_DRAWS = 20


def check_op_slots(space: SearchSpace) -> None:
    lay = layout_of(space)
    assert lay.space == space.name and lay.slots >= 1 and len(lay.cells) >= 1
    assert len(lay.alphabet) == lay.n_ops == len(set(lay.alphabet))
    check_slots_round_trip(space)
    check_placement(space)
    check_space(get_space(f"{space.name}-opdist"))


def check_slots_round_trip(space: SearchSpace) -> None:
    lay = layout_of(space)
    rng = np.random.default_rng(0)
    for _ in range(N_DRAWS):
        g = space.canonical(space.sample(rng))
        cells = space.slot_ops(g)
        assert len(cells) == len(lay.cells)
        assert all(len(c) <= lay.slots and set(c) <= set(lay.alphabet) for c in cells)
        assert space.canonical(space.with_slot_ops(g, cells)) == g


def check_placement(space: SearchSpace) -> None:
    """Architectures placed from counts hold exactly those counts, are canonical and seeded."""
    lay = layout_of(space)
    vectors = cell_count_vectors(lay.slots, lay.n_ops)
    pick = np.random.default_rng(1)
    for seed in range(N_DRAWS // 2):
        counts = tuple(c for _ in lay.cells for c in vectors[int(pick.integers(len(vectors)))])
        g = sample_architecture(space, counts, np.random.default_rng(seed))
        assert space.canonical(g) == g
        assert counts_of(space, g) == counts
        assert sample_architecture(space, counts, np.random.default_rng(seed)) == g
