"""Run configuration: what defines a study's results, validated before any work.

A config comes from a YAML file, from CLI flags, or from Python.  Unknown keys
and bad values are reported in one line naming the key.  The *fingerprint*
hashes the settings that determine the numbers (benchmark, optimizers, budget,
trials, seed, noise, fidelity, report metric): a store refuses a second run
whose fingerprint differs.  Workers, the store path and the commit interval
change how a study runs, not its results, and are not part of it.

Validation is strict: a number is refused where another type is given
(``budget: true`` is not 1, ``budget: 3.0`` and ``trials: "2"`` are not
whole numbers), nothing is silently adjusted, and inputs are bounded before
they are parsed (a study file's size, an optimizer option's length, the
number of values a file holds once YAML aliases are expanded).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import reprlib
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from archscape.data.datasets import canonical_name
from archscape.errors import ArchscapeError
from archscape.run import MAX_BUDGET, MAX_OPDIST_SAMPLES, MAX_SEED, MAX_TRIALS

#: the largest study file read (checked before YAML parsing)
MAX_CONFIG_BYTES = 1_000_000
#: the most values (mappings, lists and scalars) a study file may hold once YAML aliases are expanded
MAX_CONFIG_VALUES = 10_000
#: the deepest nesting of lists and mappings in a study file
MAX_CONFIG_DEPTH = 32
#: the deepest flow nesting (``[[...]]``) given to the YAML parser (see :func:`_check_text`)
MAX_BRACKET_DEPTH = 1000
#: the most YAML parser events before anything is built (a scalar is one, a list or mapping two)
MAX_YAML_EVENTS = 2 * MAX_CONFIG_VALUES + 10
#: libyaml's safe loader where PyYAML has it (fast), else PyYAML's
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: the longest ``NAME:key=value,...`` optimizer text
MAX_OPTIMIZER_TEXT = 4096
#: the most optimizers in one study
MAX_OPTIMIZERS = 1000

#: strict validation: no bool where a number is expected, no float or text where an int is
STRICT = ConfigDict(extra="forbid", strict=True)


class OptimizerSpec(BaseModel):
    """One optimizer of a study: registry name, label (unique in the study), parameters."""

    model_config = ConfigDict(**STRICT, frozen=True)

    name: str
    label: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class TrainSettings(BaseModel):
    """How the ``train`` evaluator trains (see :mod:`archscape.train`); no torch needed to validate.

    ``device`` and ``num_workers`` change where and how fast a study runs, not
    its numbers: they are left out of the fingerprint (CPU and CUDA runs of the
    same settings are one study).
    """

    model_config = ConfigDict(**STRICT, frozen=True)

    # the data
    dataset: str = "cifar10"
    root: str | None = Field(None, description="data folder or file instead of the registry (required for imagefolder)")
    val_fraction: float = Field(0.1, gt=0, lt=1)
    split_seed: int = Field(0, ge=0, description="seed of the train/validation split and of the subsets")
    train_subset: int | None = Field(None, ge=2)
    val_subset: int | None = Field(None, ge=1)
    test_subset: int | None = Field(None, ge=0)
    augment: bool | None = None
    image_size: int | None = Field(None, ge=1)
    # the training
    epochs: int = Field(5, ge=1)
    batch_size: int = Field(128, ge=1)
    eval_batch_size: int = Field(512, ge=1)
    optimizer: Literal["sgd", "adam", "adamw"] = "sgd"
    lr: float | None = Field(None, gt=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    nesterov: bool = True
    weight_decay: float = Field(5e-4, ge=0)
    schedule: Literal["cosine", "step", "constant"] = "cosine"
    step_size: int | None = Field(None, ge=1)
    gamma: float = Field(0.1, gt=0, le=1)
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    grad_clip: float | None = Field(None, gt=0)
    deterministic: bool = True
    threads: int = Field(1, ge=1, description="CPU threads of one training: on the CPU the numbers depend on it")
    network_hints: bool = True
    network: dict[str, Any] = Field(default_factory=dict, description="options of the network builder, e.g. {C: 8, N: 1}")
    # runtime only
    device: str = "auto"
    num_workers: int = Field(0, ge=0)

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, v: str) -> str:
        try:
            return canonical_name(v)
        except ArchscapeError as exc:
            raise ValueError(str(exc)) from None


#: keys of :class:`TrainSettings` that do not change a study's numbers
TRAIN_RUNTIME_KEYS = ("device", "num_workers")


class RunConfig(BaseModel):
    """The settings of a study."""

    model_config = STRICT

    benchmark: str = "nb201-cifar10"
    optimizers: list[OptimizerSpec] = Field(min_length=1, max_length=MAX_OPTIMIZERS)
    budget: int = Field(ge=1, le=MAX_BUDGET, description="queries per trial (at most the space's size)")
    trials: int = Field(ge=1, le=MAX_TRIALS, description="trials per optimizer")
    seed: int = Field(0, ge=0, le=MAX_SEED)
    #: default: the benchmark's (``seed``: its recorded training seeds; ``mean`` for a deterministic surrogate)
    noise: Union[int, str, None] = None
    fidelity: int | None = None
    report_metric: str | None = None
    name: str | None = None
    #: search space (default: the benchmark's); the train evaluator trains its networks
    space: str | None = None
    #: "table" (query the benchmark) or "train" (train every architecture; settings in ``train``)
    evaluator: Literal["table", "train"] = "table"
    train: TrainSettings | None = None
    #: distribution spaces (``<base>-opdist``): architectures sampled per evaluation (default 1)
    opdist_samples: int | None = Field(None, ge=1, le=MAX_OPDIST_SAMPLES)

    @model_validator(mode="after")
    def _default_noise(self) -> RunConfig:
        if self.noise is None:
            from archscape.benchmarks.registry import BENCHMARKS

            known = self.evaluator == "table" and self.benchmark in BENCHMARKS
            self.noise = BENCHMARKS[self.benchmark].default_noise if known else "seed"
        return self

    @model_validator(mode="after")
    def _evaluator_settings(self) -> RunConfig:
        if self.evaluator == "train":
            if self.train is None:
                self.train = TrainSettings()
            if self.fidelity is not None:
                raise ValueError("with evaluator 'train' the fidelity is train.epochs; drop 'fidelity'")
            if self.noise == "mean":
                raise ValueError("with evaluator 'train' noise must be 'seed' or a seed number (each query trains once)")
        elif self.train is not None:
            raise ValueError("'train' settings need evaluator: train")
        if self.opdist_samples is not None and not (self.space or "").endswith("-opdist"):
            raise ValueError("'opdist_samples' applies to distribution spaces (space: <base>-opdist)")
        return self

    @field_validator("noise", mode="before")  # before the union: true is not seed 1, "3" is seed 3
    @classmethod
    def _noise(cls, v: Union[int, str, None]) -> Union[int, str, None]:
        from archscape.benchmarks.base import check_noise

        return None if v is None else check_noise(v)

    @field_validator("optimizers", mode="before")
    @classmethod
    def _optimizer_shorthand(cls, v: Any) -> Any:
        # Accept plain names ("random") and "name:key=value,..." strings as well as mappings.
        if isinstance(v, (str, dict)):
            v = [v]
        if isinstance(v, list):
            if len(v) > MAX_OPTIMIZERS:  # before parsing each
                raise ValueError(f"a study compares at most {MAX_OPTIMIZERS:,} optimizers; got {len(v):,}")
            return [parse_optimizer(x) if isinstance(x, str) else x for x in v]
        return v

    def labelled(self) -> list[OptimizerSpec]:
        """The optimizers with their labels filled in (name, or name(params) when a name repeats)."""
        counts: dict[str, int] = {}
        for o in self.optimizers:
            counts[o.name] = counts.get(o.name, 0) + 1
        out = []
        for o in self.optimizers:
            label = o.label
            if label is None:
                label = o.name
                if counts[o.name] > 1 and o.params:
                    label += "(" + ",".join(f"{k}={v}" for k, v in sorted(o.params.items())) + ")"
            out.append(OptimizerSpec(name=o.name, label=label, params=dict(o.params)))
        labels = [o.label for o in out]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ArchscapeError(f"optimizer labels must be unique in a study; repeated: {', '.join(dupes)} (set 'label')")
        return out

    def identity(self) -> dict[str, Any]:
        """The settings that determine the results (what the fingerprint hashes)."""
        data = self.model_dump()
        data["optimizers"] = [o.model_dump() for o in self.labelled()]
        data.pop("name")
        # Fields added with real training are left out at their defaults, so a tabular
        # study keeps the fingerprint it had before they existed.
        for key, default in (("space", None), ("evaluator", "table"), ("train", None), ("opdist_samples", None)):
            if data.get(key) == default:
                data.pop(key, None)
        if data.get("train") is not None:
            for key in TRAIN_RUNTIME_KEYS:
                data["train"].pop(key, None)
        return data

    def fingerprint(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


OPTIMIZER_FORM = "NAME or NAME:key=value,... (e.g. local:improvement=best,num_init=20)"


def parse_optimizer(text: str) -> dict[str, Any]:
    """``"local:improvement=best,num_init=20"`` -> ``{"name": "local", "params": {...}}``.

    Values are read as YAML scalars (``20`` an int, ``best`` text, ``null``
    none).  Refused in one line: text over :data:`MAX_OPTIMIZER_TEXT`
    characters, an empty name, a colon with no parameters, an item that is
    not ``key=value``, a key given twice, and a value that is not YAML.
    """
    if len(text) > MAX_OPTIMIZER_TEXT:  # bounded before parsing
        raise ArchscapeError(f"an optimizer option is at most {MAX_OPTIMIZER_TEXT:,} characters; got {len(text):,}")
    name, colon, rest = text.partition(":")
    if not name.strip():
        raise ArchscapeError(f"optimizer option {_short(text)} names no optimizer; expected {OPTIMIZER_FORM}")
    params: dict[str, Any] = {}
    label = None
    items = [p.strip() for p in rest.split(",")] if colon else []
    if colon and not any(items):
        raise ArchscapeError(f"optimizer option {_short(text)} has no parameters after ':'; expected {OPTIMIZER_FORM}")
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ArchscapeError(f"bad optimizer option {_short(item)} in {_short(text)}; expected {OPTIMIZER_FORM}")
        if key in params or (key == "label" and label is not None):
            raise ArchscapeError(f"optimizer option {_short(text)} gives {key!r} twice; give each parameter once")
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except (yaml.YAMLError, RecursionError):
            raise ArchscapeError(f"bad value {_short(value)} for {key!r} in optimizer option {_short(text)}; "
                                 f"expected a number, a word, true/false or null") from None
        _check_size(parsed, f"the value of {key!r} in optimizer option {_short(text)}")  # e.g. &a [*a] holds itself
        if key == "label":
            label = str(parsed)
        else:
            params[key] = parsed
    out: dict[str, Any] = {"name": name.strip(), "params": params}
    if label is not None:
        out["label"] = label
    return out


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 80
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 6
_SHORT.maxlevel = 3


def _short(value: Any) -> str:
    """``repr(value)``, shortened (user input quoted in a one-line message; ``repr`` escapes newlines)."""
    return _SHORT.repr(value)


def config_from_mapping(data: Any, source: str = "config") -> RunConfig:
    """Validate a mapping into a :class:`RunConfig`; errors name the offending key in one line."""
    if not isinstance(data, dict):
        raise ArchscapeError(f"{source} must be a mapping of settings; got {type(data).__name__}")
    try:
        return RunConfig.model_validate(plain_scalars(data))
    except ValidationError as exc:
        raise ArchscapeError(f"{source}: {describe_validation_error(exc)}") from None


def plain_scalars(value: Any, depth: int = 0) -> Any:
    """``value`` with numpy scalars as the Python numbers they hold (``np.int64(5)`` -> 5, ``np.bool_`` -> bool).

    Validation is strict about Python types; a Python caller's numpy integer is
    still a whole number (a numpy bool stays a bool, refused where a number is
    expected).  Lists and mappings are walked to a bounded depth.
    """
    if depth > 64:
        return value
    if isinstance(value, dict):
        return {k: plain_scalars(v, depth + 1) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(plain_scalars(v, depth + 1) for v in value)
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


#: what a value of the wrong type should have been, by pydantic error type
EXPECTED = {
    "int_type": "a whole number (not true/false, a decimal or text)",
    "float_type": "a number (not true/false or text)",
    "bool_type": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
}


def describe_validation_error(exc: ValidationError) -> str:
    errors = exc.errors()
    # A misspelt key also makes the real one "missing": name the misspelling first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = _short(".".join(str(p) for p in err["loc"]) or "config")
    if err["type"] == "extra_forbidden":
        model = RunConfig if len(err["loc"]) == 1 else TrainSettings if err["loc"][0] == "train" else OptimizerSpec
        return f"unknown key {loc}; accepted: {', '.join(model.model_fields)}"
    if err["type"] == "missing":
        return f"missing key {loc}"
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ArchscapeError):  # e.g. a bad optimizer option: its message names what was wrong
        return " ".join(str(cause).split())
    if err["type"] in EXPECTED:  # a value of the wrong type (strict: true is not 1, 3.0 and "3" are not ints)
        msg = f"expected {EXPECTED[err['type']]}"
    else:
        msg = " ".join(err["msg"].removeprefix("Value error, ").split())  # one line
    if not err["loc"]:  # a rule across several keys
        return msg
    return f"bad value for {loc}: {msg} (got {_short(err.get('input'))})"


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a plain mapping (validated later, merged with flags).

    Bounded before and after parsing: at most :data:`MAX_CONFIG_BYTES` bytes,
    and at most :data:`MAX_CONFIG_VALUES` values nested at most
    :data:`MAX_CONFIG_DEPTH` deep once aliases are expanded (so a file of a
    few aliases cannot stand for billions of values).
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ArchscapeError(f"config file {path} is larger than {MAX_CONFIG_BYTES:,} bytes; a study file holds a few settings")
        _check_text(raw, f"config file {path}")
        data = yaml.load(raw, Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise ArchscapeError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        text = " ".join(str(exc).split())
        raise ArchscapeError(f"cannot read config file {path}: {text[:200] or type(exc).__name__}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ArchscapeError(f"config file {path} must hold a mapping of settings; got {type(data).__name__}")
    _check_size(data, f"config file {path}")
    return data


_BRACKET_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _check_text(raw: bytes, source: str) -> None:
    """Refuse, before YAML builds anything, flow brackets nested over :data:`MAX_BRACKET_DEPTH` and over
    :data:`MAX_YAML_EVENTS` parser events.

    libyaml's loader builds nested values by C recursion, which overflows the
    C stack (a crash, not an exception) some ten thousand brackets deep, and it
    takes seconds to build a megabyte of small lists; its event parser counts
    the values in a fraction of that.  Quoted brackets count too: only a file
    with a thousand more opening than closing brackets in its strings is
    refused wrongly.
    """
    if raw.count(b"[") + raw.count(b"{") > MAX_BRACKET_DEPTH:
        brackets = re.sub(rb"[^\[\]{}]", b"", raw)
        deepest = max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, brackets)))  # running depth, in C loops
        if deepest > MAX_BRACKET_DEPTH:
            raise ArchscapeError(f"{source} nests brackets more than {MAX_BRACKET_DEPTH:,} deep "
                                 f"(lists and mappings nest at most {MAX_CONFIG_DEPTH} deep)")
    for n, _ in enumerate(yaml.parse(raw, Loader=SAFE_LOADER)):
        if n > MAX_YAML_EVENTS:
            raise ArchscapeError(f"{source} holds more than {MAX_CONFIG_VALUES:,} values; a study file holds a few settings")


def _check_size(data: Any, source: str) -> None:
    """Refuse more than :data:`MAX_CONFIG_VALUES` values or nesting deeper than :data:`MAX_CONFIG_DEPTH` (aliases expanded).

    Values are counted when their container is opened, before they are
    visited, so the walk itself stays within the bound.
    """
    count = 1
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_CONFIG_DEPTH:
            raise ArchscapeError(f"{source} nests lists or mappings more than {MAX_CONFIG_DEPTH} deep")
        count += 2 * len(value) if isinstance(value, dict) else len(value)
        if count > MAX_CONFIG_VALUES:
            raise ArchscapeError(f"{source} holds more than {MAX_CONFIG_VALUES:,} values (aliases expanded); "
                                 f"a study file holds a few settings")
        children = [x for kv in value.items() for x in kv] if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in children)
