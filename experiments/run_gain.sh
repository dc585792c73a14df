#!/usr/bin/env bash
# The sample-efficiency gain of predictor-based search with each candidate pool (Mauch et al. 2020)
# on NB201 (3 data sets) and NAS-Bench-Macro, random search's gain as a check of the machinery
# (its own study with a budget far above its expected queries, so nothing is censored), and the
# NB301 comparison.  Usage: experiments/run_gain.sh [TRIALS] [WORKERS] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-40}
workers=${2:-2}
out=${3:-runs/gain}
mkdir -p "$out"
targets=(--target top-k:1 --target top:0.1% --target top:1%)
for bench in nb201-cifar10 nb201-cifar100 nb201-imagenet16 nas-bench-macro; do
  archscape run --config experiments/gain_pools.yaml -b "$bench" --trials "$trials" --workers "$workers" \
    --no-progress --store "$out/$bench.sqlite"
  archscape run -b "$bench" -o random --noise mean --budget 3000 --trials 200 --workers "$workers" \
    --no-progress --store "$out/$bench-random-check.sqlite"
done
archscape gain "$out"/nb*.sqlite "$out"/nas*.sqlite "${targets[@]}" --markdown | tee "$out/gain.md"
archscape gain "$out"/nb*.sqlite "$out"/nas*.sqlite "${targets[@]}" --json > "$out/gain.json"
archscape run --config experiments/nb301_pools.yaml --workers "$workers" --no-progress --store "$out/nb301.sqlite"
archscape report "$out/nb301.sqlite" --out "$out/nb301-report" --at-queries 25,50,100 --table | tee "$out/nb301.txt"
