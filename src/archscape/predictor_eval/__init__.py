"""How well predictors rank architectures (``archscape predictors eval``): an analysis over the predictor zoo.

* :mod:`archscape.predictor_eval.evaluate`: Kendall tau, Spearman, top-k
  precision, fit and predict times over training sizes and repeats, on a
  table or a sampled benchmark;
* :mod:`archscape.predictor_eval.plots`: its figures and HTML page (the
  shared report toolkit).

It sits above the predictors (which search uses) so that the models
themselves never depend on benchmarks, the runner or reports.
"""
