"""Gaussian-process Bayesian optimisation (GP-BO) on an architecture encoding.

GP-BO is predictor search (:class:`~archscape.search.predictor_search.PredictorSearch`)
with the ``gp`` predictor (:mod:`archscape.predictors.gp`): a GP with a
Matern 5/2 or squared-exponential kernel on the distance between encodings,
its length scale and noise chosen on a fixed grid by the marginal
likelihood, trained on the normal scores of the told values (ranks mapped
through the inverse normal distribution function, a Gaussian copula).
Accuracies on NAS benchmarks have a long tail of failed networks that
otherwise dominates the fit: on NAS-Bench-201 CIFAR-10, with 60 to 300
random training points, the rank correlation of the prediction with the
truth rose from 0.37-0.57 to 0.57-0.71.  The map is increasing, so
maximising scores maximises values.

Each round scores ``num_candidates`` unseen mutations of the best told
architectures plus ``num_random`` further unseen random architectures by
expected improvement (``ei``) over the best told value or by the upper
confidence bound ``mean + ucb_kappa * std`` (``ucb``), both in normal-score
units, and queries the ``batch_size`` best.  The default ``batch_size=1`` is
sequential BO: the model is refit after every query.  Its length scale and
noise ratio are chosen on the grid (by the marginal likelihood) at the first
fit and again whenever the told values have grown by :data:`RESELECT_GROWTH`
(25%) since; in between they are kept and the Cholesky factor is extended by
the new rows (a block update), while the normal scores, weights and signal
variance are recomputed from all told values at every fit.  On
NAS-Bench-201 CIFAR-10 that cut a 300-query trial from 54 factorisations per
query to about 2, 3.5-4x less time per trial, with the same final regret
within noise (20 trials x 150 queries, noise mean: 0.069 +- 0.038 vs
0.092 +- 0.042 when choosing at every fit).  With ``RESELECT_GROWTH = None``
the hyper-parameters are chosen at every fit (the former algorithm).

``candidates="all"`` scores every unseen architecture instead of that pool
(the ``full`` pool), for small enumerable spaces (at most
:data:`MAX_ENUMERATED`): e.g. the 210 operation distributions of an NB201
cell, where the acquisition is then maximised exactly over the simplex grid.
``backend="sklearn"`` replaces the grid-fitted GP with scikit-learn's
``GaussianProcessRegressor`` (:mod:`archscape.predictors.sklearn_gp`: Matern
5/2 with one length scale per input dimension, white noise, marginal
likelihood by L-BFGS with a seeded restart), slower but a well-kept library
with automatic relevance determination: suited to low-dimensional encodings
such as a distribution's point on the simplex.
"""

from __future__ import annotations

from archscape.params import Interval, InvalidParameter, Options, Param
from archscape.predictors.gp import GPPredictor
from archscape.predictors.vector import VECTOR_PARAMS
from archscape.search.pools import PoolBuilder
from archscape.search.predictor_search import PredictorPreset
from archscape.spaces.base import ENCODINGS

#: the most architectures ``candidates="all"`` scores in a round
MAX_ENUMERATED = 100_000
#: the GP's hyper-parameters are chosen again when the told values have grown by this factor (see the module docstring)
RESELECT_GROWTH = 1.25


class GPBO(PredictorPreset):
    """Bayesian optimisation with a Gaussian process on an encoding of the architectures."""

    name = "gp"
    params = {
        "num_init": Param(10, Interval(int, 1, None)),
        "batch_size": Param(1, Interval(int, 1, None)),
        "num_candidates": Param(100, Interval(int, 0, None)),
        "num_random": Param(100, Interval(int, 0, None)),
        "num_parents": Param(5, Interval(int, 1, None)),
        "encoding": Param("onehot", Options(ENCODINGS)),
        "cutoff": VECTOR_PARAMS["cutoff"],
        "kernel": GPPredictor.params["kernel"],
        "acquisition": Param("ei", Options(("ei", "ucb"))),
        "ucb_kappa": Param(2.0, Interval(float, 0, None)),
        "candidates": Param("pool", Options(("pool", "all"))),
        "backend": GPPredictor.params["backend"],
    }

    def _check(self) -> None:
        if self.candidates == "all" and (self.space_.size is None or self.space_.size > MAX_ENUMERATED):
            size = "an unknown number of" if self.space_.size is None else f"{self.space_.size:,}"
            raise InvalidParameter(
                f"The 'candidates' parameter of GPBO can be 'all' only on spaces of at most {MAX_ENUMERATED:,} "
                f"architectures; {self.space_.name} has {size}. Use candidates='pool'."
            )
        if self.backend == "sklearn" and self.kernel != "matern52":
            raise InvalidParameter(f"The 'kernel' parameter of GPBO must be 'matern52' with backend='sklearn'. Got {self.kernel!r} instead.")

    def _model(self) -> GPPredictor:
        sklearn = self.backend == "sklearn"
        return GPPredictor(encoding=self.encoding, cutoff=self.cutoff, target="normal_scores", kernel=self.kernel,
                           backend=self.backend, ard=sklearn, reselect_growth=None if sklearn else RESELECT_GROWTH)

    def _pools(self) -> PoolBuilder:
        if self.candidates == "all":
            return PoolBuilder(self, ("full",), 0, self.num_parents, steps=1, fixed=False)
        sizes = {"mutation": self.num_candidates, "random": self.num_random}
        parts = tuple(part for part, size in sizes.items() if size)
        return PoolBuilder(self, parts, sizes, self.num_parents, steps=1, fixed=False, disjoint=True)


__all__ = ["GPBO", "MAX_ENUMERATED", "RESELECT_GROWTH"]
