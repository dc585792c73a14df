"""Every registered evaluator passes the evaluator conformance suite; the runner finds evaluators by name."""

from __future__ import annotations

import pytest

from archscape.errors import DataError, MissingExtra
from archscape.run.config import config_from_mapping
from archscape.run.evaluator import EVALUATORS, Evaluator, Outcome, build_evaluator, evaluator_name
from evaluator_conformance import check_evaluator


def _example(name: str, tmp_path) -> Evaluator:
    cls = EVALUATORS.get(name)
    assert isinstance(cls, type) and issubclass(cls, Evaluator), cls
    assert "example" in vars(cls), f"evaluator {name!r} declares no example for the conformance suite"
    try:
        return cls.example(tmp_path)
    except (MissingExtra, DataError) as exc:  # an optional dependency or data file this machine lacks
        pytest.skip(f"{name}: {exc}")


@pytest.mark.parametrize("name", EVALUATORS.names())
def test_evaluator_conformance(name, tmp_path):
    check_evaluator(_example(name, tmp_path))


@pytest.mark.parametrize("settings, name", [
    ({}, "table"),
    ({"benchmark": "nb301"}, "query"),
    ({"space": "nb201-opdist"}, "opdist"),
    ({"evaluator": "train"}, "train"),
])
def test_the_runner_finds_the_evaluator_of_a_study_by_name(settings, name):
    config = config_from_mapping({"optimizers": ["random"], "budget": 1, "trials": 1, **settings})
    assert evaluator_name(config) == name
    if name in ("table", "opdist"):  # built from the config alone (the others need data or extras)
        assert type(build_evaluator(config)) is EVALUATORS.get(name)


def test_an_evaluator_declares_the_optional_capabilities_with_defaults():
    class Constant(Evaluator):
        objective = report_metric = "val_acc"
        fidelity = None
        noise = "mean"

        @property
        def space(self):
            from archscape.spaces import get_space

            return get_space("nb201")

        def evaluate(self, genotype, u, fidelity=None):
            return Outcome.failure("nothing", None)  # pragma: no cover

    ev = Constant()
    assert ev.optimum() == (None, 100.0) and ev.label is None and ev.measured == frozenset()
    assert ev.attach_progress(object()) is None
    with pytest.raises(NotImplementedError):
        Constant.from_config(None)
    with pytest.raises(TypeError):  # evaluate and space are required
        type("Partial", (Evaluator,), {})()
