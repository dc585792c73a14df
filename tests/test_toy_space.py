"""Adding a space is one file plus one registry line: a toy space defined here gets every conformance suite.

The toy is a 6-position categorical cell over 4 operations (4,096
architectures), written in this file alone.  Registering it (one line) makes
it, and its derived ``toy-opdist`` space, subjects of the space, optimizer,
predictor and operation-slot suites, whose parametrisations read the registry.
"""

from __future__ import annotations

import pytest
import test_conformance
import test_opdist_conformance
import test_optimizers
import test_predictors

from archscape.errors import InvalidArchitecture
from archscape.spaces import SPACES, get_space, register_space, space_names, spaces_with
from archscape.spaces.vector import CategoricalVectorSpace

LETTERS = "abcd"


class ToySpace(CategoricalVectorSpace):
    """Six positions, each one of four operations; text form: six letters, e.g. ``abcdab``."""

    name = "toy"
    ops = ("op_a", "op_b", "op_c", "op_d")
    encodings = ("onehot", "opcount")
    n_positions = 6
    size = 4**6
    choice_label = "op indices"
    cell_name = "cell"

    def parse(self, text: str) -> tuple[int, ...]:
        if not isinstance(text, str) or len(text.strip()) != self.n_positions or not set(text.strip()) <= set(LETTERS):
            raise InvalidArchitecture(f"a toy architecture is {self.n_positions} letters among {LETTERS}; got {text!r:.40}")
        return tuple(LETTERS.index(c) for c in text.strip())

    def format(self, genotype) -> str:
        return "".join(LETTERS[o] for o in self.validate(genotype))


@pytest.fixture()
def toy():
    register_space("toy", ToySpace)  # the one registry line
    yield "toy"
    SPACES.unregister("toy")


def _params_on_toy(params) -> list[tuple]:
    return [tuple(p.values) for p in params if p.values[1] in ("toy", "toy-opdist")
            and not any(m.name == "skip" or m.name == "slow" for m in p.marks)]


def test_a_registered_toy_space_is_a_subject_of_every_suite(toy):
    assert {"toy", "toy-opdist"} <= set(space_names()) and "toy" in spaces_with("opdist")
    assert get_space("toy-opdist").size == 84  # compositions of 6 slots into 4 operations
    for name in ("toy", "toy-opdist"):
        test_conformance.test_space_conformance(name)
    test_opdist_conformance.test_op_slot_conformance("toy")

    optimizer_runs = _params_on_toy(test_optimizers.conformance_params())
    assert {s for _, s in optimizer_runs} == {"toy", "toy-opdist"} and len(optimizer_runs) >= 10
    for name, space_name in optimizer_runs:
        test_optimizers.test_optimizer_conformance(name, space_name)

    predictor_runs = _params_on_toy(test_predictors.conformance_params())
    assert {p for p, _ in predictor_runs} >= {"mlp", "gp", "rf"}
    for name, space_name in predictor_runs:
        test_predictors.test_predictor_conformance(name, space_name)


def test_the_toy_leaves_the_registry_as_it_found_it(toy):
    assert "toy" in space_names()
    SPACES.unregister("toy")
    assert "toy" not in space_names() and "toy-opdist" not in space_names()
    register_space("toy", ToySpace)
