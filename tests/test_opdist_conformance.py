"""Run the operation-slot conformance suite over every registered space that declares op slots."""

from __future__ import annotations

import pytest

from archscape.spaces import get_space, spaces_with
from opdist_conformance import check_op_slots


@pytest.mark.parametrize("name", spaces_with("opdist"))
def test_op_slot_conformance(name):
    check_op_slots(get_space(name))
