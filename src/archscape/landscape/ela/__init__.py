"""Exploratory Landscape Analysis (ELA) features on numpy 2.

The feature sets ``ela_meta``, ``ela_distr``, ``ela_level``, ``nbc``,
``disp``, ``ic`` and ``pca`` follow the definitions of the R package flacco
(Kerschke and Trautmann) and its Python port pflacco (Prager): the same
feature names, the same defaults and the same convention that ``y`` is
*minimised*.  Where flacco and pflacco disagree, pflacco 1.2.2 is followed
and the module of the set says so; ``tests/test_ela.py`` checks every feature
against values computed by pflacco 1.2.2 itself.

>>> import numpy as np
>>> from archscape.landscape.ela import calculate_features
>>> rng = np.random.default_rng(0)
>>> X = rng.uniform(-5, 5, size=(100, 2)); y = (X ** 2).sum(axis=1)
>>> round(calculate_features(X, y, sets=["ela_meta"])["ela_meta.quad_simple.adj_r2"], 6)
1.0

Random features (the same ``seed`` gives the same values):

* ``ic``: the start of the nearest-neighbour tour (drawn exactly as pflacco
  draws it from the same integer seed);
* ``ela_level``: only with ``level_shuffle=True`` (flacco's random CV folds);
  by default the folds are pflacco's unshuffled stratified folds;
* ``nbc``: only with ``nbc_tie_breaker="sample"`` and exact distance ties.

pflacco's ``*.costs_runtime`` entries are left out unless ``costs=True``.

Where archscape departs from pflacco 1.2.2 (each only in edge cases):

* ``nbc``: exact distance ties between nearest-better candidates go to the
  lowest index by default (pflacco's default draws one at random);
* ``pca.expl_var_PC1.*``: exact eigenvalues (pflacco's scikit-learn PCA uses an
  unseeded randomized SVD for more than 500 rows and at least 3 columns);
* ``ela_level``: a level set smaller than the number of folds raises a
  one-line error for either class (pflacco checks the lower class only);
* ``ic``: duplicated ``X`` rows are merged as flacco does (pflacco 1.2.2
  fails on them).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterable

from archscape.errors import ArchscapeError, unknown

from . import disp as _disp
from . import distr as _distr
from . import ic as _ic
from . import level as _level
from . import meta as _meta
from . import nbc as _nbc
from . import pca as _pca
from ._common import check_blocks, check_bounds, check_sample, single_threaded_blas

#: every feature set, in the order features are returned
FEATURE_SETS = ("ela_meta", "ela_distr", "ela_level", "nbc", "disp", "ic", "pca")
#: the sets that the Learning-from-NAS study used
LFNAS_SETS = ("ela_distr", "ela_meta", "disp", "nbc", "ic")
#: feature names of each set under the default parameters
FEATURE_NAMES = {
    "ela_meta": _meta.NAMES,
    "ela_distr": _distr.NAMES,
    "ela_level": _level.NAMES,
    "nbc": _nbc.NAMES,
    "disp": _disp.NAMES,
    "ic": _ic.NAMES,
    "pca": _pca.NAMES,
}
#: features whose value depends on ``seed`` under the defaults
RANDOM_FEATURES = frozenset(_ic.NAMES)

__all__ = [
    "FEATURE_NAMES",
    "FEATURE_SETS",
    "LFNAS_SETS",
    "RANDOM_FEATURES",
    "calculate_feature_set",
    "calculate_features",
    "feature_names",
]


def feature_names(sets: Iterable[str] = FEATURE_SETS) -> list[str]:
    """The names :func:`calculate_features` returns for ``sets`` (default parameters)."""
    return [name for s in _check_sets(sets) for name in FEATURE_NAMES[s]]


def _check_sets(sets) -> tuple[str, ...]:
    if isinstance(sets, str):
        sets = (sets,)
    sets = tuple(sets)
    if not sets:
        raise ArchscapeError(f"no feature set given; accepted: {', '.join(FEATURE_SETS)}")
    for s in sets:
        if s not in FEATURE_NAMES:
            raise unknown("ELA feature set", s, FEATURE_SETS)
    return sets


def calculate_feature_set(
    name: str,
    X,
    y,
    *,
    seed: int | None = 0,
    minimize: bool = True,
    level_shuffle: bool = False,
    nbc_tie_breaker: str = "first",
    **options,
) -> dict[str, float]:
    """One feature set on an already checked sample; ``options`` go to the set's function."""
    _check_options(name, options)
    if name == "ela_meta":
        return _meta.ela_meta(X, y, **options)
    if name == "ela_distr":
        return _distr.ela_distr(X, y, **options)
    if name == "ela_level":
        return _level.ela_level(X, y, shuffle=level_shuffle, seed=seed, **options)
    if name == "nbc":
        return _nbc.nbc(X, y, minimize=minimize, dist_tie_breaker=nbc_tie_breaker, seed=seed, **options)
    if name == "disp":
        return _disp.disp(X, y, minimize=minimize, **options)
    if name == "ic":
        return _ic.ic(X, y, seed=seed, **options)
    if name == "pca":
        return _pca.pca(X, y, **options)
    raise unknown("ELA feature set", name, FEATURE_SETS)


def calculate_features(
    X,
    y,
    sets: Iterable[str] = FEATURE_SETS,
    lower_bound=-5,
    upper_bound=5,
    blocks=None,
    seed: int | None = 0,
    *,
    minimize: bool = True,
    level_shuffle: bool = False,
    nbc_tie_breaker: str = "first",
    costs: bool = False,
    options: dict[str, dict] | None = None,
) -> dict[str, float]:
    """ELA features of the sample ``(X, y)``, ``y`` minimised, as one flat ``{name: value}`` dict.

    ``X`` is an (n, d) array inside the box ``[lower_bound, upper_bound]``
    (scalars or one value per dimension); ``y`` holds n finite values.
    ``blocks`` (cells per dimension) is only checked: none of these sets uses
    cells.  ``seed`` fixes the random features (see the module docstring).
    ``minimize=False`` negates ``y`` for ``nbc`` and ``disp`` (as pflacco).
    ``options`` maps a set name to keyword arguments of its function, e.g.
    ``{"ela_level": {"quantiles": (0.1, 0.3)}, "ic": {"nn_start": 0}}``.
    Values that cannot be computed (a constant sample, no settling epsilon) are
    NaN.  Raises :class:`~archscape.errors.ArchscapeError` for bad input.
    """
    sets = _check_sets(sets)
    X, y = check_sample(X, y)
    check_bounds(lower_bound, upper_bound, X)
    check_blocks(blocks, X.shape[1])
    options = options or {}
    for key, opts in options.items():
        _check_options(key, opts)
    out: dict[str, float] = {}
    with single_threaded_blas():
        for s in sets:
            out.update(_one_set(s, X, y, seed, minimize, level_shuffle, nbc_tie_breaker, costs, options.get(s, {})))
    return out


_FUNCTIONS = {
    "ela_meta": _meta.ela_meta,
    "ela_distr": _distr.ela_distr,
    "ela_level": _level.ela_level,
    "nbc": _nbc.nbc,
    "disp": _disp.disp,
    "ic": _ic.ic,
    "pca": _pca.pca,
}
#: parameters that calculate_features sets itself
_RESERVED = {"X", "y", "seed", "minimize", "shuffle", "dist_tie_breaker"}


def _check_options(name: str, opts) -> None:
    if name not in _FUNCTIONS:
        raise unknown("ELA feature set in options", name, FEATURE_SETS)
    accepted = [p for p in inspect.signature(_FUNCTIONS[name]).parameters if p not in _RESERVED]
    for key in opts:
        if key not in accepted:
            raise ArchscapeError(
                f"bad option {key!r} for ELA feature set {name!r}; accepted: {', '.join(accepted) or 'none'}"
            )


def _one_set(s, X, y, seed, minimize, level_shuffle, nbc_tie_breaker, costs, opts) -> dict[str, float]:
    t0 = time.perf_counter()
    values = calculate_feature_set(
        s, X, y, seed=seed, minimize=minimize, level_shuffle=level_shuffle, nbc_tie_breaker=nbc_tie_breaker, **opts
    )
    out = {k: float(v) for k, v in values.items()}
    if costs:
        out[f"{s}.costs_runtime"] = time.perf_counter() - t0
    return out
