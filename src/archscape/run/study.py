"""One study-file model: what a study computes (:class:`RunConfig`) and where it runs (store, executor).

A study file is YAML with the keys of :class:`~archscape.run.config.RunConfig`
plus three runtime keys that change where evaluations run, never their
numbers: ``store`` (the SQLite file), ``workers`` and ``executor`` (a name or
a mapping of ``kind, workers, address, cpus, gpus, retries``).
``archscape run --config F`` and ``run_study(StudyFile.load(F))`` read it the
same way; the command line only maps its flags onto :meth:`StudyFile.load` /
:meth:`StudyFile.from_mapping` overrides.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from archscape.errors import ArchscapeError
from archscape.run.config import RunConfig, config_from_mapping, load_config_file
from archscape.run.executors import EXECUTORS, ExecutorSettings, executor_settings
from archscape.run.store import Store, StoreError

#: keys of a study file that say where a study runs (not part of what it computes)
RUNTIME_KEYS = ("workers", "store", "executor")
#: keys of the executor mapping
EXECUTOR_KEYS = ("kind", "workers", "address", "cpus", "gpus", "retries")


@dataclass(frozen=True)
class StudyFile:
    """A study: its settings, its store (``None``: the default for the settings) and its executor."""

    config: RunConfig
    store: Path | None = None
    executor: ExecutorSettings = ExecutorSettings()
    source: str = "settings"

    # ------------------------------------------------------------ reading
    @classmethod
    def load(cls, path: str | Path, **overrides: Any) -> StudyFile:
        """Read a YAML study file; ``overrides`` as in :meth:`from_mapping`."""
        return cls.from_mapping(load_config_file(path), str(path), **overrides)

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None = None, source: str = "settings", *,
                     settings: dict[str, Any] | None = None, train: dict[str, Any] | None = None,
                     executor: dict[str, Any] | None = None, store: str | Path | None = None) -> StudyFile:
        """A study from a mapping (a study file's content) and overrides.

        ``settings``: RunConfig keys that replace the mapping's (``None`` values
        are ignored); ``train``: training settings merged into the mapping's
        ``train`` (they need ``evaluator: train``); ``executor``: executor keys
        that replace the file's; ``store``: the store path.  A training study
        runs one trial of one optimizer (NAGO's BO on the ``nago`` space,
        random search elsewhere) unless told otherwise.
        """
        data = dict(data or {})
        runtime = {k: data.pop(k) for k in RUNTIME_KEYS if k in data}
        data.update({k: v for k, v in (settings or {}).items() if v is not None})
        train = {k: v for k, v in (train or {}).items() if v is not None}
        if train:
            if data.get("evaluator") != "train":
                raise ArchscapeError(f"--{next(iter(train)).replace('_', '-')} sets how networks are trained; add --evaluator train")
            base = data.get("train") or {}
            if not isinstance(base, dict):
                raise ArchscapeError(f"'train' in {source} must be a mapping of training settings")
            data["train"] = {**base, **train}
        if data.get("evaluator") == "train":  # training is slow: one trial of one optimizer unless told otherwise
            data.setdefault("trials", 1)
            data.setdefault("optimizers", ["nago-bo" if data.get("space") == "nago" else "random"])
        config = config_from_mapping(data, source)
        where = store if store is not None else runtime.get("store")
        if where is not None and not (isinstance(where, (str, Path)) and str(where).strip()):
            raise ArchscapeError(f"'store' in {source} must be the path of a SQLite file; got {reprlib.repr(where)}")
        return cls(config, Path(where) if where is not None else None, _executor(runtime, executor or {}, source), source)

    @classmethod
    def resume(cls, store: str | Path, *, device: str | None = None, executor: dict[str, Any] | None = None) -> StudyFile:
        """The study stored in ``store``, to continue it; ``device`` moves training elsewhere (not its numbers)."""
        config = stored_config(store)
        if device is not None:
            if config.train is None:
                raise ArchscapeError("--device applies to studies of the train evaluator")
            config = config.model_copy(update={"train": config.train.model_copy(update={"device": device})})
        return cls(config, Path(store), _executor({}, executor or {}, str(store)), str(store))

    # ------------------------------------------------------------ derived
    def store_path(self) -> Path:
        """The store: the one given, else ``runs/<benchmark>.sqlite`` (training: ``runs/<space>-<dataset>.sqlite``)."""
        if self.store is not None:
            return self.store
        c = self.config
        if c.evaluator == "train":
            return Path(f"runs/{c.space or 'train'}-{c.train.dataset}.sqlite")
        return Path(f"runs/{c.benchmark}.sqlite")

    def with_store(self, store: str | Path) -> StudyFile:
        return replace(self, store=Path(store))


def stored_config(store_path: str | Path) -> RunConfig:
    """The settings of the study in a store (for resuming it)."""
    with Store(store_path, read_only=True) as store:
        studies = store.studies()
        if not studies:
            raise StoreError(f"{store_path} holds no study to resume")
        data = dict(studies[0].config)
        data["name"] = studies[0].name
    return RunConfig.model_validate(data)


def _executor(runtime: dict[str, Any], flags: dict[str, Any], source: str) -> ExecutorSettings:
    """Executor settings from a study file's ``workers``/``executor`` keys, overridden by ``flags``."""
    options = runtime.get("executor") or {}
    if isinstance(options, str):
        options = {"kind": options}
    if not isinstance(options, dict):
        raise ArchscapeError(f"'executor' in {source} must be a name ({', '.join(EXECUTORS)}) or a mapping")
    options = dict(options)
    unknown = sorted((k for k in options if k not in EXECUTOR_KEYS), key=str)
    if unknown:
        raise ArchscapeError(f"unknown key {reprlib.repr('executor.' + str(unknown[0]))} in {source}; "
                             f"accepted: {', '.join(EXECUTOR_KEYS)}")
    if "workers" in runtime:
        options.setdefault("workers", runtime["workers"])
    options.update({k: v for k, v in flags.items() if v is not None})
    try:  # a value of the wrong type is refused naming the key (e.g. "workers must be a whole number ...")
        return executor_settings(options.pop("kind", None), options.pop("workers", None), **options)
    except ArchscapeError as exc:
        if source == "settings":  # flags or Python arguments: the message names the setting
            raise
        raise ArchscapeError(f"bad executor settings in {source}: {exc}") from None


__all__ = ["EXECUTOR_KEYS", "RUNTIME_KEYS", "StudyFile", "stored_config"]
