"""Search strategies (ask/tell optimizers) and their registry.

An optimizer is registered with one line below (a lazy ``"module:Class"``, so
nothing is imported until it is asked for); ``make_optimizer(name, **params)``
builds one, ``optimizer_names()`` lists them.
"""

from __future__ import annotations

from archscape.registry import Registry
from archscape.search.base import Optimizer, SearchExhausted

#: name -> optimizer class
OPTIMIZERS: Registry[Optimizer] = Registry("optimizer")

OPTIMIZERS.register("random", "archscape.search.random:RandomSearch")
OPTIMIZERS.register("local", "archscape.search.local:LocalSearch")
OPTIMIZERS.register("evolution", "archscape.search.evolution:RegularizedEvolution")
OPTIMIZERS.register("bananas", "archscape.search.bananas:BANANAS")
OPTIMIZERS.register("gp", "archscape.search.gp:GPBO")
OPTIMIZERS.register("nago-bo", "archscape.search.nago_bo:NagoBO")
OPTIMIZERS.register("predictor", "archscape.search.predictor_search:PredictorSearch")


#: the registry's own methods, under the names the package has always had
register_optimizer = OPTIMIZERS.register
optimizer_names = OPTIMIZERS.names
make_optimizer = OPTIMIZERS.make


__all__ = ["OPTIMIZERS", "Optimizer", "SearchExhausted", "make_optimizer", "optimizer_names", "register_optimizer"]
