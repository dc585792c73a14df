"""The evaluator conformance checks: what the runner relies on from every evaluator.

``test_evaluators.py`` runs :func:`check_evaluator` on the example of every
evaluator in :data:`archscape.run.evaluator.EVALUATORS`, so a newly
registered evaluator is checked the moment it is registered.  The checks:

* it is an :class:`~archscape.run.evaluator.Evaluator` with a space, an
  objective, a report metric and an optimum;
* every evaluation returns the one result schema (:class:`Outcome`, with
  JSON-able metrics, a finite cost >= 0);
* an architecture that cannot be valued is a failed outcome, not an exception;
* the same ``(genotype, u)`` from the seeding scheme gives the same outcome
  (apart from the metrics the evaluator declares ``measured``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from archscape.run.evaluator import Evaluator, Outcome
from archscape.run.seeding import trial_generators
from archscape.spaces.base import SearchSpace

#: what no space accepts as an architecture
NOT_AN_ARCHITECTURE = "not an architecture"


def check_evaluator(ev: Evaluator, n: int = 2) -> None:
    check_declarations(ev)
    genotypes, us = draws(ev, n)
    outcomes = [ev.evaluate(g, u) for g, u in zip(genotypes, us)]
    for out in outcomes:
        check_schema(ev, out)
    assert any(o.status == "ok" for o in outcomes), [o.error for o in outcomes]
    check_failure_is_recorded(ev, us[0])
    check_deterministic(ev, n, outcomes)


def draws(ev: Evaluator, n: int, seed: int = 0) -> tuple[list, list[float]]:
    """``n`` architectures and noise numbers, drawn as a trial of ``seed`` draws them."""
    opt_rng, noise_rng = trial_generators(seed, "conformance", 0)
    genotypes = [ev.space.sample(opt_rng) for _ in range(n)]
    return genotypes, [float(noise_rng.random()) for _ in range(n)]


def check_declarations(ev: Evaluator) -> None:
    assert isinstance(ev, Evaluator)
    assert isinstance(ev.space, SearchSpace)
    assert isinstance(ev.objective, str) and ev.objective
    assert isinstance(ev.report_metric, str) and ev.report_metric
    assert ev.fidelity is None or isinstance(ev.fidelity, int)
    assert ev.label is None or isinstance(ev.label, str)
    assert isinstance(ev.measured, frozenset) and all(isinstance(m, str) for m in ev.measured)
    arch, value = ev.optimum()
    assert arch is None or isinstance(arch, str)
    assert isinstance(value, float) and math.isfinite(value)
    ev.attach_progress(None)  # an optional capability: always callable


def check_schema(ev: Evaluator, out: Any) -> None:
    assert isinstance(out, Outcome), type(out)
    assert out.status in ("ok", "failed")
    assert isinstance(out.metrics, dict)
    json.dumps(out.metrics, default=float)  # stored as JSON
    assert isinstance(out.cost, float) and math.isfinite(out.cost) and out.cost >= 0, out.cost
    assert out.fidelity is None or isinstance(out.fidelity, int)
    assert out.noise_seed is None or isinstance(out.noise_seed, int)
    assert out.row is None or isinstance(out.row, int)
    if out.status == "ok":
        assert isinstance(out.objective, float) and math.isfinite(out.objective), out.objective
        assert isinstance(out.report, float) and math.isfinite(out.report), out.report
        assert out.error is None
    else:
        assert math.isnan(out.objective) and out.report is None
        assert isinstance(out.error, str) and out.error and "\n" not in out.error


def check_failure_is_recorded(ev: Evaluator, u: float) -> None:
    out = ev.evaluate(NOT_AN_ARCHITECTURE, u)  # must not raise
    check_schema(ev, out)
    assert out.status == "failed", out


def comparable(ev: Evaluator, out: Outcome) -> str:
    """The outcome without what the evaluator measures on the machine, as text (nan == nan)."""
    metrics = {k: v for k, v in out.metrics.items() if k not in ev.measured}
    cost = None if "cost" in ev.measured else out.cost
    return json.dumps([out._replace(metrics=metrics, cost=cost)], sort_keys=True, default=float)


def check_deterministic(ev: Evaluator, n: int, first: list[Outcome]) -> None:
    genotypes, us = draws(ev, n)  # the same seed: the same draws
    again = [ev.evaluate(g, u) for g, u in zip(genotypes, us)]
    assert [comparable(ev, o) for o in again] == [comparable(ev, o) for o in first]
