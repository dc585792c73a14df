"""Predictors (surrogate models of a search space) and their registry.

See :mod:`archscape.predictors.base` for the interface.  A predictor is
registered with one line below (a lazy ``"module:Class"``; each module imports
its heavy library lazily too).  ``make_predictor(name, **params)`` builds a
registered one; ``predictor_names()`` lists them.
"""

from __future__ import annotations

from archscape.predictors.base import Prediction, Predictor
from archscape.registry import Registry

#: name -> predictor class
PREDICTORS: Registry[Predictor] = Registry("predictor")

PREDICTORS.register("mlp", "archscape.predictors.mlp:MLPPredictor")
PREDICTORS.register("gp", "archscape.predictors.gp:GPPredictor")
PREDICTORS.register("rf", "archscape.predictors.forest:RandomForestPredictor")
PREDICTORS.register("lgbm", "archscape.predictors.lgbm:LGBMPredictor")
PREDICTORS.register("gnn", "archscape.predictors.gnn:GNNPredictor")


#: the registry's own methods, under the names the package has always had
register_predictor = PREDICTORS.register
predictor_names = PREDICTORS.names
make_predictor = PREDICTORS.make


__all__ = ["PREDICTORS", "Prediction", "Predictor", "make_predictor", "predictor_names", "register_predictor"]
