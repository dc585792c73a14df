"""The evaluation hot path: what it skips must not change what it accepts or stores.

Vector spaces (NAS-Bench-201, NAS-Bench-Macro) hand out one shared tuple per
architecture, so validating a genotype the space produced is one dict lookup.
Input that merely compares equal to a valid genotype (bools, floats) is still
refused, and clean input is accepted as before.
"""

from __future__ import annotations

import numpy as np
import pytest

from archscape.errors import InvalidArchitecture
from archscape.spaces import get_space


@pytest.mark.parametrize("name", ["nb201", "macro"])
def test_vector_spaces_hand_out_their_shared_genotypes(name):
    space = get_space(name)
    rng = np.random.default_rng(3)
    g = space.sample(rng)
    shared = space.from_index(space.index(g))
    assert g is shared
    assert all(n is space.from_index(space.index(n)) for n in space.neighbours(g))
    m = space.mutate(g, rng)
    assert m is space.from_index(space.index(m)) and m in space.neighbours(g)
    # validated input becomes the shared tuple, so the next validation is the fast path
    assert space.validate(list(g)) is shared
    assert space.validate(tuple(np.asarray(g, dtype=np.int64))) is shared
    assert space.canonical(tuple(int(o) for o in g)) is shared


@pytest.mark.parametrize("name", ["nb201", "macro"])
def test_lookalikes_of_valid_genotypes_are_still_refused(name):
    space = get_space(name)
    g = space.from_index(5)  # (0, ..., 0, 1, ...) holds a 1 somewhere
    position = next(i for i, o in enumerate(g) if o == 1)
    as_bool = g[:position] + (True,) + g[position + 1 :]
    as_float = tuple(float(o) for o in g)
    assert as_bool == g and as_float == g and hash(as_float) == hash(g)  # equal, and found by a dict lookup
    for bad in (as_bool, as_float, g + (0,), g[:-1], (len(space.ops),) + g[1:], (-1,) + g[1:], ([0],) + g[1:]):
        with pytest.raises(InvalidArchitecture):
            space.validate(bad)
        with pytest.raises(InvalidArchitecture):
            space.format(bad)


def test_formatting_is_remembered_but_unchanged():
    space = get_space("nb201")
    g = space.from_index(123)
    text = space.format(g)
    assert text == space.format(list(g)) == space.format(g)
    assert space.parse(text) is g  # parsing, too, gives the shared tuple
    assert text == "|" + "|+|".join(
        "|".join(f"{space.ops[g[e]]}~{src}" for e, src in zip(edges, range(3)))
        for edges in ((0,), (1, 2), (3, 4, 5))
    ) + "|"
