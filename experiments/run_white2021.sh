#!/usr/bin/env bash
# Reproduce the White et al. (UAI 2021) comparison on NB201: 3 data sets x 2 noise settings,
# then one report over all six stores.  Usage: experiments/run_white2021.sh [TRIALS] [WORKERS]
set -euo pipefail
trials=${1:-100}
workers=${2:-2}
out=runs/white2021
mkdir -p "$out"
for ds in cifar10 cifar100 imagenet16; do
  for noise in seed mean; do
    archscape run --config experiments/white2021.yaml --benchmark "nb201-$ds" --noise "$noise" \
      --trials "$trials" --workers "$workers" --store "$out/nb201-$ds-$noise.sqlite" --no-progress
  done
done
archscape report "$out"/*.sqlite --out "$out/report"
