#!/usr/bin/env bash
# The real-training demonstrations of archscape on Fashion-MNIST, sized for 2 CPU cores:
# a NAGO generator search, a multi-objective NAGO search (its Pareto front is in the report)
# and a local search over the Learning-from-NAS CNN space; one report for the three.
# Fashion-MNIST: apt-get install dataset-fashion-mnist (or archscape data fetch ... --from DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/training-demos}
mkdir -p "$out"
for name in nago_fashion nago_fashion_pareto cnn_fashion_local; do
  /usr/bin/time -f "$name: %e s wall, %M KB peak" \
    archscape run --config "experiments/$name.yaml" --store "$out/$name.sqlite" --no-progress
done
archscape report "$out"/nago_fashion.sqlite "$out"/nago_fashion_pareto.sqlite "$out"/cnn_fashion_local.sqlite --out "$out/report"
