"""The CNN design space of "Neural Network Design: Learning from Neural Architecture Search".

van Stein, Wang and Baeck (IEEE SSCI 2020) sampled 1,000 random CNNs from a
space of 32 design variables, the columns of their published tables
(``../shared/data/learning-from-nas``), in this order (:data:`COLUMNS`):

====================  =======  =================================================
variable              kind     meaning (see :mod:`archscape.train.models.cnn`)
====================  =======  =================================================
``s_0..2``            int      stride of the pooling that ends block i
``filters_0..5``      int      ``filters_{2i}``: convolutions of block i;
                               ``filters_{2i+1}``: the strided convolution that
                               replaces the pooling when ``max_pooling`` is False
``k_0..5``            int      ``k_{2i}``: kernel of block i's convolutions;
                               ``k_{2i+1}``: pool size of block i
``activation``        choice   activation after every convolution (``relu``)
``activ_dense``       choice   output activation (``softmax``)
``dropout_0..6``      float    input, after each block, before and after the
                               dense layers
``lr``                float    learning rate (a training hyper-parameter)
``l2``                float    L2 regularisation of every weight and bias
``dense_size_0..1``   int      units of the two dense layers (0: no layer)
``max_pooling``       choice   pooling (True) or a strided convolution (False)
``stack_0..2``        int      convolutions in block i
====================  =======  =================================================

Two spaces are registered, with the bounds of
:data:`BROAD_BOUNDS` (``cnn-broad``) and :data:`NARROW_BOUNDS` (``cnn-narrow``).

Bounds.  Continuous variables take values in the closed interval ``[low,
high]``.  Integer variables take ``low..high-1``: the published bounds are the
arguments of numpy's ``randint(low, high)``, whose upper end is exclusive.
The six published tables (6,000 rows) confirm it: kernels reach 7 but never 8
(broad ``k_`` bounds 1..8), strides 4 but never 5, filters 599, dense sizes
1,999; the narrow tables likewise stop at ``high - 1``.  Variables the paper
kept fixed keep the value of every published row: ``activation=relu``,
``activ_dense=softmax``, ``max_pooling=True``, ``stack_i=2``.  Any domain can be
changed with ``CNNSpace(domains={...})``, e.g. ``{"stack_": range(1, 4),
"activation": ("relu", "elu", "tanh")}``.

Sampling is uniform within the bounds, ``lr`` and ``l2`` included (not
log-uniform): that is how the published configurations were drawn (their
median learning rate is 5.1e-3 in the broad tables, the middle of
[1e-5, 1e-2]; a log-uniform draw would have a median near 3e-4), so random
samples of this space are distributed like the paper's data and landscape
statistics compare.

Continuous grid.  A continuous value is stored with a fixed number of
decimals: six significant digits of its range (7 decimals for dropouts, 9 for
``lr`` and ``l2``).  :meth:`CNNSpace.validate` rounds to that grid (a change
of at most 5e-7 of the range), so that neighbourhoods are exactly symmetric
and the text form round-trips exactly; values print as short decimals.

Moves (:meth:`CNNSpace.neighbours`): an integer variable one step up or down;
a continuous variable up or down by ``step`` (default 10%) of its range,
dropped when it would leave the bounds (clipping would break symmetry); a
categorical variable to each other choice.  Every move stays in the space, the
relation is symmetric and each architecture has finitely many (at most 52 in
the published spaces) neighbours.  :meth:`CNNSpace.mutate` is one uniformly
chosen move, as every space's mutation; :meth:`CNNSpace.perturb` is the
Gaussian mutation of the evolutionary strategies (one variable, a normal step
of 10% of its range, clipped and rounded).

Text form: ``s_0=4,s_1=3,...,max_pooling=True,stack_0=2,...`` (all 32 keys, any
order when parsed); :meth:`CNNSpace.validate` also takes a row of the
published CSV files as a mapping (``perf`` and ``time`` are ignored).

Encoding: ``onehot`` is the design vector in [0, 1]: every integer or
continuous variable linearly mapped from its bounds, every categorical variable
with more than one choice one-hot; variables with a single value are left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from archscape.errors import ArchscapeError, InvalidArchitecture
from archscape.spaces.base import SearchSpace

#: the 32 design variables, in the column order of the published tables
COLUMNS = (
    "s_0", "s_1", "s_2",
    "filters_0", "filters_1", "filters_2", "filters_3", "filters_4", "filters_5",
    "k_0", "k_1", "k_2", "k_3", "k_4", "k_5",
    "activation", "activ_dense",
    "dropout_0", "dropout_1", "dropout_2", "dropout_3", "dropout_4", "dropout_5", "dropout_6",
    "lr", "l2", "dense_size_0", "dense_size_1", "max_pooling", "stack_0", "stack_1", "stack_2",
)  # fmt: skip
N_VARIABLES = len(COLUMNS)
INDEX = {name: i for i, name in enumerate(COLUMNS)}
#: columns of the published tables that are results, not design variables
RESULT_COLUMNS = ("perf", "time")
#: activations the network builder knows (:mod:`archscape.train.models.cnn`)
ACTIVATIONS = ("relu", "elu", "tanh", "sigmoid", "selu")
_INT_PREFIXES = ("s_", "filters_", "k_", "dense_size_", "stack_")
_FLOAT_PREFIXES = ("dropout_", "lr", "l2")
#: domains of the variables the paper kept fixed (every published row has these values)
FIXED_DOMAINS: dict[str, Any] = {
    "activation": ("relu",),
    "activ_dense": ("softmax",),
    "max_pooling": (True,),
    "stack_": range(2, 3),
}
_SIGNIFICANT = 6  # digits of a continuous variable's range kept by the grid
_MAX_TEXT = 5_000


#: bounds of the broad CNN space of "Learning from NAS", per variable-name prefix
BROAD_BOUNDS = {
    "filters_": (10.0, 600.0),
    "k_": (1.0, 8.0),
    "s_": (1.0, 5.0),
    "dense_size_": (0.0, 2000.0),
    "dropout_": (1e-5, 0.9),
    "lr": (1e-5, 1e-2),
    "l2": (1e-5, 1e-2),
}
#: bounds of the narrowed CNN space
NARROW_BOUNDS = {
    "filters_": (250.0, 400.0),
    "k_": (3.0, 7.0),
    "s_": (2.0, 5.0),
    "dense_size_": (500.0, 1500.0),
    "dropout_": (0.1, 0.4),
    "lr": (4e-3, 9e-3),
    "l2": (5e-4, 3e-3),
}


def kind_of(name: str) -> str:
    """``"int"``, ``"float"``, ``"choice"`` or ``"bool"`` for a design variable."""
    if name == "max_pooling":
        return "bool"
    if name in ("activation", "activ_dense"):
        return "choice"
    if name.startswith(_INT_PREFIXES):
        return "int"
    if name.startswith(_FLOAT_PREFIXES):
        return "float"
    raise InvalidArchitecture(f"unknown cnn design variable {name!r}; accepted: {', '.join(COLUMNS)}")


@dataclass(frozen=True)
class Domain:
    """The values one design variable may take.

    ``int``: ``low..high`` inclusive; ``float``: multiples of ``10**-decimals``
    in ``[low, high]`` (kept as the integers ``units_low..units_high``);
    ``choice``/``bool``: one of ``choices``.
    """

    name: str
    kind: str
    low: float = 0
    high: float = 0
    decimals: int = 0
    choices: tuple = ()

    @property
    def scale(self) -> int:
        return 10**self.decimals

    @property
    def units_low(self) -> int:
        return math.ceil(round(self.low * self.scale, 6))

    @property
    def units_high(self) -> int:
        return math.floor(round(self.high * self.scale, 6))

    @property
    def size(self) -> int:
        """Number of distinct values (the grid for continuous variables)."""
        if self.kind == "int":
            return int(self.high - self.low) + 1
        if self.kind == "float":
            return self.units_high - self.units_low + 1
        return len(self.choices)

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int", "float")

    def describe(self) -> str:
        if self.kind == "int":
            return f"an integer in {int(self.low)}..{int(self.high)}"
        if self.kind == "float":
            return f"a number in [{self.low:g}, {self.high:g}]"
        return "one of " + ", ".join(map(str, self.choices))


def _float_domain(name: str, low: float, high: float) -> Domain:
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise ArchscapeError(f"cnn variable {name!r}: bounds must be finite with low <= high; got ({low}, {high})")
    width = high - low
    decimals = _SIGNIFICANT - math.floor(math.log10(width)) if width > 0 else _SIGNIFICANT - math.floor(math.log10(abs(low) or 1))
    decimals = max(0, min(decimals, 15))
    d = Domain(name, "float", low, high, decimals)
    if d.units_low > d.units_high:
        raise ArchscapeError(f"cnn variable {name!r}: bounds ({low}, {high}) hold no value with {decimals} decimals")
    return d


def _domain_from_override(name: str, kind: str, value: Any) -> Domain:
    if kind == "int":
        if not isinstance(value, range) or value.step != 1 or len(value) == 0:
            raise ArchscapeError(f"cnn variable {name!r} is an integer: give its domain as a non-empty range(low, high + 1); got {value!r}")
        return Domain(name, "int", value.start, value.stop - 1)
    if kind == "float":
        if not (isinstance(value, (tuple, list)) and len(value) == 2):
            raise ArchscapeError(f"cnn variable {name!r} is continuous: give its domain as (low, high); got {value!r}")
        return _float_domain(name, *value)
    choices = tuple(value) if isinstance(value, (tuple, list)) else ()
    if not choices or len(set(choices)) != len(choices):
        raise ArchscapeError(f"cnn variable {name!r}: give its choices as a non-empty tuple of distinct values; got {value!r}")
    if kind == "bool" and not set(choices) <= {True, False}:
        raise ArchscapeError(f"cnn variable {name!r} is True or False; got choices {choices!r}")
    if kind == "choice" and not all(isinstance(c, str) for c in choices):
        raise ArchscapeError(f"cnn variable {name!r} takes names; got choices {choices!r}")
    if name == "activation" and not set(choices) <= set(ACTIVATIONS):
        raise ArchscapeError(f"cnn activation choices must be among {', '.join(ACTIVATIONS)}; got {choices!r}")
    if name == "activ_dense" and choices != ("softmax",):
        raise ArchscapeError(f"cnn activ_dense supports only 'softmax' (the network outputs logits for cross-entropy); got {choices!r}")
    return Domain(name, kind, choices=tuple(bool(c) for c in choices) if kind == "bool" else choices)


def _lookup(table: Mapping[str, Any], name: str) -> Any:
    """The entry for ``name`` in a dict keyed by variable names or prefixes (exact name first)."""
    if name in table:
        return table[name]
    for key, value in table.items():
        if key.endswith("_") and name.startswith(key):
            return value
    return None


def build_domains(bounds: Mapping[str, tuple[float, float]], domains: Mapping[str, Any] | None = None) -> tuple[Domain, ...]:
    """The 32 domains from Learning-from-NAS ``bounds`` (prefix -> (low, high)) and ``domains`` overrides.

    In ``bounds`` an integer variable's ``high`` is exclusive (numpy's
    ``randint``); in ``domains`` integer domains are ``range`` objects,
    continuous ones ``(low, high)`` and categorical ones a tuple of choices.
    """
    overrides = dict(domains or {})
    for key in overrides:
        if key not in INDEX and not any(key.endswith("_") and c.startswith(key) for c in COLUMNS):
            raise ArchscapeError(f"unknown cnn design variable {key!r} in domains; accepted: {', '.join(COLUMNS)} or their prefixes")
    out = []
    for name in COLUMNS:
        kind = kind_of(name)
        override = _lookup(overrides, name)
        if override is None:
            override = _lookup(FIXED_DOMAINS, name)
        if override is not None:
            out.append(_domain_from_override(name, kind, override))
            continue
        b = _lookup(bounds, name)
        if b is None:
            raise ArchscapeError(f"cnn variable {name!r} has no bounds; give them in bounds or domains")
        low, high = b
        if kind == "int":
            lo, hi = math.ceil(low), math.ceil(high) - 1
            if hi < lo:
                raise ArchscapeError(f"cnn variable {name!r}: bounds {b} hold no integer (upper bound exclusive)")
            out.append(Domain(name, "int", lo, hi))
        else:
            out.append(_float_domain(name, low, high))
    return tuple(out)


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


class CNNSpace(SearchSpace):
    """The Learning-from-NAS CNN design space (32 mixed variables; not enumerable)."""

    ops = ()
    encodings = ("onehot",)
    size = None
    network = "archscape.train.models.cnn:build"

    def __init__(
        self,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        *,
        name: str = "cnn-broad",
        domains: Mapping[str, Any] | None = None,
        step: float = 0.1,
    ) -> None:
        if not (isinstance(step, (int, float)) and 0 < step <= 1):
            raise ArchscapeError(f"the continuous neighbourhood step of {name} must be a fraction of the range in (0, 1]; got {step!r}")
        if bounds is None:
            bounds = BROAD_BOUNDS
        self.name = name
        self.bounds = dict(bounds)
        self.step = float(step)
        self.domains = build_domains(self.bounds, domains)
        self._steps = tuple(
            max(1, round(self.step * (d.units_high - d.units_low))) if d.kind == "float" else 1 for d in self.domains
        )
        self._moves = tuple(self._move_list())

    # ------------------------------------------------------------ values
    def domain(self, name: str) -> Domain:
        try:
            return self.domains[INDEX[name]]
        except KeyError:
            raise InvalidArchitecture(f"unknown cnn design variable {name!r}; accepted: {', '.join(COLUMNS)}") from None

    def _value(self, d: Domain, x: Any, *, from_text: bool = False) -> Any:
        """``x`` as a value of domain ``d`` (snapped to the grid), or InvalidArchitecture."""
        shown = str(x).strip() if from_text and isinstance(x, str) else repr(x)
        bad = f"{d.name}={shown[:40]} is not {d.describe()}"
        if d.kind == "int":
            if isinstance(x, str) and from_text:
                try:
                    x = float(x) if re.fullmatch(r"\s*[-+]?\d+(\.0*)?\s*", x) else None
                except ValueError:
                    x = None
            if isinstance(x, (float, np.floating)) and float(x).is_integer():
                x = int(x)
            if not _is_int(x) or not d.low <= x <= d.high:
                raise InvalidArchitecture(bad)
            return int(x)
        if d.kind == "float":
            if isinstance(x, str) and from_text:
                try:
                    x = float(x)
                except ValueError:
                    raise InvalidArchitecture(bad) from None
            if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
                raise InvalidArchitecture(bad)
            x = float(x)
            if not math.isfinite(x):
                raise InvalidArchitecture(bad)
            units = round(x * d.scale)
            if not d.units_low <= units <= d.units_high:
                raise InvalidArchitecture(bad)
            return units / d.scale
        if d.kind == "bool":
            if isinstance(x, str) and from_text:
                x = {"true": True, "false": False, "1": True, "0": False}.get(x.strip().lower(), x)
            if isinstance(x, np.bool_):
                x = bool(x)
            if not isinstance(x, bool) or x not in d.choices:
                raise InvalidArchitecture(bad)
            return x
        if isinstance(x, str):
            x = x.strip()
        if not isinstance(x, str) or x not in d.choices:
            raise InvalidArchitecture(bad)
        return x

    def validate(self, genotype: Any) -> tuple:
        """A genotype: 32 values in :data:`COLUMNS` order, or a mapping name -> value (e.g. a CSV row)."""
        if hasattr(genotype, "keys") and not isinstance(genotype, (str, bytes)):
            return self._from_mapping(genotype)
        if isinstance(genotype, np.ndarray) and genotype.ndim == 1:
            genotype = genotype.tolist()
        if not isinstance(genotype, (tuple, list)) or len(genotype) != N_VARIABLES:
            raise InvalidArchitecture(
                f"a {self.name} genotype is {N_VARIABLES} values ({', '.join(COLUMNS[:3])}, ..., {COLUMNS[-1]}) "
                f"or a mapping of them; got {genotype!r:.80}"
            )
        return tuple(self._value(d, x) for d, x in zip(self.domains, genotype))

    def _from_mapping(self, row: Mapping[str, Any], *, from_text: bool = False) -> tuple:
        keys = set(row.keys())
        unknown = sorted(str(k) for k in keys - set(COLUMNS) - set(RESULT_COLUMNS))
        if unknown:
            raise InvalidArchitecture(f"unknown cnn design variable(s) {', '.join(unknown)}; accepted: {', '.join(COLUMNS)}")
        missing = [c for c in COLUMNS if c not in keys]
        if missing:
            raise InvalidArchitecture(f"a {self.name} architecture lacks {', '.join(missing)}")
        text = from_text or all(isinstance(row[c], str) for c in COLUMNS)  # csv.DictReader rows are all text
        return tuple(self._value(d, row[d.name], from_text=text) for d in self.domains)

    def to_dict(self, genotype: Any) -> dict[str, Any]:
        """``{variable: value}`` in :data:`COLUMNS` order."""
        return dict(zip(COLUMNS, self.validate(genotype)))

    # ------------------------------------------------------------ structure
    def sample(self, rng: np.random.Generator) -> tuple:
        out = []
        for d in self.domains:
            if d.kind == "int":
                out.append(int(rng.integers(d.low, d.high + 1)))
            elif d.kind == "float":
                out.append(int(rng.integers(d.units_low, d.units_high + 1)) / d.scale)
            else:
                out.append(d.choices[int(rng.integers(len(d.choices)))])
        return tuple(out)

    def _move_list(self):
        """(variable index, delta) for numeric moves, (index, choice) for categorical ones, in neighbour order."""
        for i, d in enumerate(self.domains):
            if d.kind in ("int", "float"):
                if d.size > 1:
                    yield (i, -self._steps[i])
                    yield (i, self._steps[i])
            else:
                for c in d.choices:
                    yield (i, ("set", c))

    def _apply(self, g: tuple, i: int, move: Any) -> tuple | None:
        d = self.domains[i]
        if d.kind == "int":
            v = g[i] + move
            if not d.low <= v <= d.high:
                return None
        elif d.kind == "float":
            units = round(g[i] * d.scale) + move
            if not d.units_low <= units <= d.units_high:
                return None
            v = units / d.scale
        else:
            v = move[1]
            if v == g[i] and type(v) is type(g[i]):
                return None
        return g[:i] + (v,) + g[i + 1 :]

    def neighbours(self, genotype: Any) -> list[tuple]:
        g = self.validate(genotype)
        out = []
        for i, move in self._moves:
            n = self._apply(g, i, move)
            if n is not None:
                out.append(n)
        return out

    def perturb(self, genotype: Any, rng: np.random.Generator, scale: float = 0.1) -> tuple:
        """Gaussian mutation: one variable (uniform among those with several values) moved by a
        normal step of ``scale`` times its range, clipped to the bounds and rounded to its
        grid; a categorical variable takes another choice.  Always differs from ``genotype``."""
        g = self.validate(genotype)
        free = [i for i, d in enumerate(self.domains) if d.size > 1]
        if not free:
            raise ArchscapeError(f"{self.name} has no variable with more than one value")
        i = free[int(rng.integers(len(free)))]
        d = self.domains[i]
        if not d.is_numeric:
            others = [c for c in d.choices if c != g[i]]
            return g[:i] + (others[int(rng.integers(len(others)))],) + g[i + 1 :]
        lo, hi = (d.low, d.high) if d.kind == "int" else (d.units_low, d.units_high)
        cur = g[i] if d.kind == "int" else round(g[i] * d.scale)
        draw = float(rng.normal(0.0, scale * (hi - lo)))
        new = int(min(max(round(cur + draw), lo), hi))
        if new == cur:  # too small a step: one grid step in the draw's direction, or back from a bound
            direction = 1 if draw >= 0 else -1
            new = cur + direction if lo <= cur + direction <= hi else cur - direction
        v = new if d.kind == "int" else new / d.scale
        return g[:i] + (v,) + g[i + 1 :]

    # ------------------------------------------------------------ text
    def format(self, genotype: Any) -> str:
        g = self.validate(genotype)
        return ",".join(f"{name}={_text(v)}" for name, v in zip(COLUMNS, g))

    def parse(self, text: str) -> tuple:
        """Read ``key=value,...`` with all 32 design variables (any order, spaces allowed)."""
        if not isinstance(text, str):
            raise InvalidArchitecture(f"a {self.name} architecture string is text; got {type(text).__name__}")
        s = text.strip()
        example = "s_0=4,s_1=3,s_2=1,filters_0=91,...,stack_2=2"
        if not s or len(s) > _MAX_TEXT or "=" not in s:
            shown = s if len(s) <= 40 else s[:37] + "..."
            raise InvalidArchitecture(f"malformed {self.name} architecture {shown!r}: expected key=value pairs like {example}")
        row: dict[str, str] = {}
        for part in s.split(","):
            key, eq, value = part.partition("=")
            key = key.strip()
            if not eq or not key:
                raise InvalidArchitecture(f"malformed {self.name} architecture: {part.strip()!r:.40} is not key=value (expected {example})")
            if key in row:
                raise InvalidArchitecture(f"{self.name} architecture gives {key!r} twice")
            row[key] = value
        if set(row) & set(RESULT_COLUMNS):
            raise InvalidArchitecture(f"{', '.join(sorted(set(row) & set(RESULT_COLUMNS)))} are results, not design variables")
        return self._from_mapping(row, from_text=True)

    # ------------------------------------------------------------ encodings
    def _encode_onehot(self, g: tuple) -> np.ndarray:
        """Numeric variables mapped linearly from their bounds to [0, 1]; categorical
        variables with several choices one-hot; single-valued variables left out."""
        out: list[float] = []
        for d, v in zip(self.domains, g):
            if d.size <= 1:
                continue
            if d.is_numeric:
                out.append((v - d.low) / (d.high - d.low))
            else:
                out.extend(1.0 if v == c and type(v) is type(c) else 0.0 for c in d.choices)
        return np.asarray(out, dtype=np.float32)

    def encoding_size(self, encoding: str, **options: Any) -> int:
        self._check_encoding(encoding)
        return sum(1 if d.is_numeric else d.size for d in self.domains if d.size > 1)

    def __repr__(self) -> str:
        return f"<CNNSpace {self.name!r}>"


def _text(v: Any) -> str:
    return repr(v) if isinstance(v, float) else str(v)


def broad() -> CNNSpace:
    """The broad space of the paper (``cnn-broad``)."""
    return CNNSpace(BROAD_BOUNDS, name="cnn-broad")


def narrow() -> CNNSpace:
    """The narrowed space of the paper (``cnn-narrow``)."""
    return CNNSpace(NARROW_BOUNDS, name="cnn-narrow")


def config_of(genotype: Any) -> dict[str, Any]:
    """``{variable: value}`` of a cnn genotype, mapping or text, checking kinds but not bounds.

    The network builder uses it, so that a network can be built for any
    sensible values, inside the published bounds or not (continuous values
    are kept as given, not rounded to a space's grid).
    """
    if isinstance(genotype, str):
        pairs = [p.partition("=") for p in genotype.split(",")]
        if not all(eq for _, eq, _ in pairs):
            raise InvalidArchitecture(f"malformed cnn architecture {genotype!r:.60}: expected key=value pairs")
        genotype = {k.strip(): v.strip() for k, _, v in pairs}
    if hasattr(genotype, "keys"):
        missing = [c for c in COLUMNS if c not in genotype]
        if missing:
            raise InvalidArchitecture(f"a cnn architecture lacks {', '.join(missing)}")
        values = [genotype[c] for c in COLUMNS]
    elif isinstance(genotype, (tuple, list, np.ndarray)) and len(genotype) == N_VARIABLES:
        values = list(genotype)
    else:
        raise InvalidArchitecture(f"a cnn genotype is {N_VARIABLES} values in COLUMNS order or a mapping; got {genotype!r:.80}")
    out = {}
    for name, x in zip(COLUMNS, values):
        kind = kind_of(name)
        bad = f"cnn {name}={x!r:.40} is not "
        if kind == "int":
            if isinstance(x, str) and re.fullmatch(r"\s*\d+(\.0*)?\s*", x):
                x = float(x)
            if isinstance(x, (float, np.floating)) and float(x).is_integer():
                x = int(x)
            if not _is_int(x) or x < 0:
                raise InvalidArchitecture(bad + "a non-negative integer")
            x = int(x)
        elif kind == "float":
            try:
                x = float(x) if not isinstance(x, (bool, np.bool_)) else math.nan
            except (TypeError, ValueError):
                x = math.nan
            if not math.isfinite(x) or x < 0:
                raise InvalidArchitecture(bad + "a non-negative number")
        elif kind == "bool":
            if isinstance(x, str):
                x = {"true": True, "false": False, "1": True, "0": False}.get(x.strip().lower(), x)
            if not isinstance(x, (bool, np.bool_)):
                raise InvalidArchitecture(bad + "True or False")
            x = bool(x)
        elif not isinstance(x, str):
            raise InvalidArchitecture(bad + "a name")
        else:
            x = x.strip()
        out[name] = x
    return out


@dataclass(frozen=True)
class Layer:
    """One layer of a cnn network plan (see :func:`network_plan`).

    ``kind`` is ``dropout`` (``p``), ``conv`` (``c_in -> c_out``, ``kernel``,
    ``stride``, Keras 'same' padding), ``act`` (``activation``), ``maxpool``
    (``kernel``, ``stride``, 'same' padding), ``flatten`` or ``linear``
    (``c_in -> c_out``); ``size`` is the side of the feature map after it.
    """

    kind: str
    c_in: int = 0
    c_out: int = 0
    kernel: int = 0
    stride: int = 1
    p: float = 0.0
    activation: str = ""
    size: int = 0

    @property
    def parameters(self) -> int:
        if self.kind == "conv":
            return self.c_in * self.c_out * self.kernel * self.kernel + self.c_out
        if self.kind == "linear":
            return self.c_in * self.c_out + self.c_out
        return 0


def network_plan(genotype: Any, *, num_classes: int = 10, in_channels: int = 3, input_size: int = 32) -> list[Layer]:
    """The layers of the network of a cnn genotype (torch-free; the builder follows it).

    Input dropout (``dropout_0``).  Block i (0..2), when ``stack_i > 0``:
    ``stack_i`` x [conv ``filters_{2i}`` ``k_{2i}`` x ``k_{2i}``, stride 1,
    'same' padding; ``activation``], then a max pooling of size ``k_{2i+1}``
    and stride ``s_i`` with 'same' padding (``max_pooling=True``) or a
    convolution ``filters_{2i+1}`` of that size and stride followed by the
    activation (``max_pooling=False``), then dropout ``dropout_{i+1}``.  Then
    flatten, dropout ``dropout_4``, dense ``dense_size_0`` + activation +
    dropout ``dropout_5``, dense ``dense_size_1`` + activation + dropout
    ``dropout_6`` (a dense size of 0 leaves that layer out), and the linear
    classifier (``activ_dense=softmax`` is the cross-entropy's).

    'same' padding keeps ``ceil(size / stride)`` pixels, so the feature map
    never shrinks below 1x1, whatever the pool size and stride.
    """
    c = config_of(genotype)
    if num_classes < 1 or in_channels < 1 or input_size < 1:
        raise ArchscapeError(f"a cnn network needs classes, channels and input size >= 1; got {num_classes}, {in_channels}, {input_size}")
    for name, value in c.items():
        kind = kind_of(name)
        if name.startswith(("filters_", "k_", "s_")) and value < 1:
            raise InvalidArchitecture(f"cnn {name} must be >= 1; got {value}")
        if name.startswith("dropout_") and not 0 <= value < 1:
            raise InvalidArchitecture(f"cnn {name} must be in [0, 1); got {value}")
        if kind == "choice" and name == "activation" and value not in ACTIVATIONS:
            raise InvalidArchitecture(f"unknown cnn activation {value!r}; accepted: {', '.join(ACTIVATIONS)}")
        if name == "activ_dense" and value != "softmax":
            raise InvalidArchitecture(f"cnn activ_dense must be 'softmax' (the network outputs logits); got {value!r}")
    act = c["activation"]
    layers = [Layer("dropout", p=c["dropout_0"], size=input_size)]
    ch, size = in_channels, input_size
    for i in range(3):
        if c[f"stack_{i}"] == 0:
            continue
        for _ in range(c[f"stack_{i}"]):
            layers.append(Layer("conv", ch, c[f"filters_{2 * i}"], c[f"k_{2 * i}"], 1, size=size))
            layers.append(Layer("act", activation=act, size=size))
            ch = c[f"filters_{2 * i}"]
        k, s = c[f"k_{2 * i + 1}"], c[f"s_{i}"]
        size = -(-size // s)
        if c["max_pooling"]:
            layers.append(Layer("maxpool", ch, ch, k, s, size=size))
        else:
            layers.append(Layer("conv", ch, c[f"filters_{2 * i + 1}"], k, s, size=size))
            layers.append(Layer("act", activation=act, size=size))
            ch = c[f"filters_{2 * i + 1}"]
        layers.append(Layer("dropout", p=c[f"dropout_{i + 1}"], size=size))
    features = ch * size * size
    layers.append(Layer("flatten", ch, features, size=1))
    layers.append(Layer("dropout", p=c["dropout_4"], size=1))
    for j in range(2):
        units = c[f"dense_size_{j}"]
        if units > 0:
            layers.append(Layer("linear", features, units, size=1))
            layers.append(Layer("act", activation=act, size=1))
            layers.append(Layer("dropout", p=c[f"dropout_{5 + j}"], size=1))
            features = units
    layers.append(Layer("linear", features, num_classes, size=1))
    return layers


def count_network_parameters(genotype: Any, *, num_classes: int = 10, in_channels: int = 3, input_size: int = 32) -> int:
    """Parameters of the network of a cnn genotype, without building it (see :func:`network_plan`)."""
    return sum(layer.parameters for layer in network_plan(genotype, num_classes=num_classes, in_channels=in_channels, input_size=input_size))


__all__ = [
    "ACTIVATIONS",
    "COLUMNS",
    "FIXED_DOMAINS",
    "N_VARIABLES",
    "RESULT_COLUMNS",
    "CNNSpace",
    "Domain",
    "Layer",
    "broad",
    "build_domains",
    "config_of",
    "count_network_parameters",
    "kind_of",
    "narrow",
    "network_plan",
]
