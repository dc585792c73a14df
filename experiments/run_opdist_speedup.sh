#!/usr/bin/env bash
# Distributions against cells on NB201 (3 data sets) and NAS-Bench-Macro, mean and seed noise:
# 16 stores, the speed-up table (queries to within 0.1/0.3/0.5 pp of the optimum) and one report
# with the anytime plots.  Usage: experiments/run_opdist_speedup.sh [TRIALS] [WORKERS] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-100}
workers=${2:-2}
out=${3:-runs/opdist-speedup}
mkdir -p "$out"
for bench in nb201-cifar10 nb201-cifar100 nb201-imagenet16 nas-bench-macro; do
  case $bench in nas-bench-macro) space=macro-opdist; budget=100 ;; *) space=nb201-opdist; budget=150 ;; esac
  for noise in mean seed; do
    common=(--config experiments/opdist_speedup.yaml -b "$bench" --noise "$noise" --budget "$budget"
            --trials "$trials" --workers "$workers" --no-progress)
    archscape run "${common[@]}" --store "$out/$bench-$noise-cells.sqlite"
    archscape run "${common[@]}" --space "$space" --store "$out/$bench-$noise-dist.sqlite"
  done
done
archscape opdist speedup "$out"/*.sqlite --out "$out/speedup.csv" --markdown | tee "$out/speedup.md"
archscape report "$out"/*.sqlite --out "$out/report"
