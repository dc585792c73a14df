"""Read stores and group their studies into comparisons.

A *comparison* is what one set of plots and one final table show: studies
that ran the same problem, so their optimizers can be compared directly.
Studies share a comparison when they agree on the benchmark, the noise mode,
the budget, the fidelity, the objective and the report metric; they may differ
in optimizers, seed and number of trials.  That is how a user compares
algorithms across stores: one store per algorithm (run on different machines,
or a new algorithm added months later), all on the same benchmark settings,
and every optimizer on the same plot.  Studies that differ in any of those
settings answer different questions and get sections of their own.

When the same optimizer label appears in several studies of a comparison it
is shown once per study, as ``label [study]`` (``label [space]`` when those
studies search different spaces, e.g. cells against their op distributions):
trials from different stores are never pooled silently (with equal seeds they
would be the same trials).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from archscape.errors import ArchscapeError
from archscape.report.anytime import AnytimeCurves, by_queries, by_time, time_grid
from archscape.run.store import Store, StoreError, StudyRecord

#: the settings that must agree for studies to share plots and a table
COMPARISON_KEYS = ("benchmark", "noise", "budget", "fidelity", "objective", "report_metric")


@dataclass(frozen=True)
class StudyData:
    """One study as read from its store."""

    key: str  # unique name in the report (the study name, made unique)
    store: Path
    record: StudyRecord
    trials: pd.DataFrame  # every trial: label, optimizer, params, trial_index, trial_state, n_evaluations
    frame: pd.DataFrame  # the store's evaluation frame

    @property
    def settings(self) -> dict:
        cfg, info = self.record.config, self.record.info
        return {
            "benchmark": self.record.benchmark,
            "noise": cfg.get("noise"),
            "budget": cfg.get("budget"),
            "fidelity": info.get("fidelity"),
            "objective": info.get("objective"),
            "report_metric": info.get("report_metric"),
        }


@dataclass
class Comparison:
    """Studies shown together (see the module docstring)."""

    slug: str
    studies: list[StudyData]
    #: label shown -> (study key, label in that study)
    label_map: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def settings(self) -> dict:
        return self.studies[0].settings

    @property
    def optimum_arch(self) -> str | None:
        return self.studies[0].record.info.get("optimum_arch")

    @property
    def optimum_report(self) -> float:
        return float(self.studies[0].record.info["optimum_report"])

    @cached_property
    def frame(self) -> pd.DataFrame:
        """All evaluations of the comparison, labels made unique, with a ``study`` column."""
        return self._relabelled([(s.key, s.frame) for s in self.studies])

    @cached_property
    def trials(self) -> pd.DataFrame:
        """Every trial (with or without evaluations), labels as shown."""
        return self._relabelled([(s.key, s.trials) for s in self.studies])

    def _relabelled(self, parts: Sequence[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
        shown = {(study, label): new for new, (study, label) in self.label_map.items()}
        frames = []
        for key, df in parts:
            df = df.copy()
            df.insert(0, "study", key)
            df["label"] = [shown.get((key, lab), lab) for lab in df["label"]]
            frames.append(df)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @cached_property
    def by_queries(self) -> AnytimeCurves:
        budget = int(self.settings["budget"] or 0)
        longest = int(self.frame["k"].max()) + 1 if len(self.frame) else 0
        return by_queries(self.frame, self.optimum_report, max(budget, longest))

    @cached_property
    def by_time(self) -> AnytimeCurves:
        return by_time(self.frame, self.optimum_report, time_grid(self.frame))

    @property
    def labels(self) -> list[str]:
        return list(self.label_map)


def store_frame(stores: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """Every evaluation of every study in one or more stores, one row each, with a ``study`` column first."""
    studies = load_studies([stores] if isinstance(stores, (str, Path)) else stores)
    frames = [s.frame.assign(study=s.key)[["study", *s.frame.columns]] for s in studies]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_studies(stores: Iterable[str | Path]) -> list[StudyData]:
    """Every study of every store, in order; a bad path raises :class:`ArchscapeError` (one line)."""
    out: list[StudyData] = []
    used: set[str] = set()
    stores = list(stores)
    if not stores:
        raise ArchscapeError("no store given; pass at least one runs/NAME.sqlite")
    for path in stores:
        path = Path(path)
        with Store(path, read_only=True) as store:  # refuses what is not a store, never writes
            records = store.studies()
            if not records:
                raise StoreError(f"{path} holds no study (was the run started?)")
            for rec in records:
                key = _unique(rec.name, used)
                trials = pd.DataFrame(
                    [(t.label, t.optimizer, t.params, t.trial_index, t.state, t.n_evaluations) for t in store.trials(rec.id)],
                    columns=["label", "optimizer", "params", "trial_index", "trial_state", "n_evaluations"],
                )
                out.append(StudyData(key, path, rec, trials, store.evaluation_frame(rec.id)))
    return out


def _unique(name: str, used: set[str]) -> str:
    key, i = name, 2
    while key in used:
        key, i = f"{name}-{i}", i + 1
    used.add(key)
    return key


def group_studies(studies: Sequence[StudyData]) -> list[Comparison]:
    """Comparisons in order of first appearance (see the module docstring)."""
    groups: dict[tuple, list[StudyData]] = {}
    for s in studies:
        groups.setdefault(tuple(repr(s.settings[k]) for k in COMPARISON_KEYS), []).append(s)
    out, slugs = [], set()
    for members in groups.values():
        st = members[0].settings
        slug = _unique(_slugify(f"{st['benchmark']}_noise-{st['noise']}_{st['budget']}q"), slugs)
        comp = Comparison(slug, members)
        holders: dict[str, list[StudyData]] = {}
        for s in members:
            for label in _labels_in_order(s):
                holders.setdefault(label, []).append(s)
        for s in members:
            for label in _labels_in_order(s):
                comp.label_map[_shown_label(label, s, holders[label])] = (s.key, label)
        out.append(comp)
    return out


def _shown_label(label: str, study: StudyData, holders: list[StudyData]) -> str:
    """``label``, or ``label [space]`` when the studies sharing it search different spaces
    (e.g. cells and their op distributions), else ``label [study]``."""
    if len(holders) == 1:
        return label
    spaces = [h.record.info.get("space") for h in holders]
    if None not in spaces and len(set(spaces)) == len(spaces):
        return f"{label} [{study.record.info['space']}]"
    return f"{label} [{study.key}]"


def _labels_in_order(s: StudyData) -> list[str]:
    """The study's optimizer labels in the order of its config (then any others the store holds)."""
    configured = [o.get("label") for o in s.record.config.get("optimizers", []) if isinstance(o, dict)]
    return list(dict.fromkeys([*(c for c in configured if c), *s.trials["label"]]))


def _slugify(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "study"


__all__ = ["COMPARISON_KEYS", "Comparison", "StudyData", "group_studies", "load_studies"]
