"""Operation distributions: search how many of each operation a cell holds, not where each sits.

* :mod:`archscape.spaces.distribution`: count and ratio vectors, and
  architectures sampled from them;
* :mod:`archscape.spaces.opdist`: the distribution spaces ``<base>-opdist``
  that every optimizer searches through ask/tell;
* :mod:`archscape.opdist.evaluator`: an evaluation of a distribution samples
  architectures from it and queries the base benchmark.
"""
