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
# The same pools with the greedy acquisition (the predicted mean): EI over a whole space explores far away.
for bench in nb201-cifar100 nas-bench-macro; do
  archscape run -b "$bench" --noise mean --budget 150 --trials "$trials" --workers "$workers" --no-progress \
    -o 'predictor:label=full-mean,predictor=gp,acquisition=mean,pool=full' \
    -o 'predictor:label=random-100-mean,predictor=gp,acquisition=mean,pool=random,pool_size=100' \
    -o 'predictor:label=random-1000-mean,predictor=gp,acquisition=mean,pool=random,pool_size=1000' \
    -o 'predictor:label=mutation-mean,predictor=gp,acquisition=mean,pool=mutation' \
    -o 'predictor:label=local-mean,predictor=gp,acquisition=mean,pool=local' --store "$out/greedy-$bench.sqlite"
done
archscape gain "$out"/nb*.sqlite "$out"/nas*.sqlite "$out"/greedy-*.sqlite "${targets[@]}" --markdown | tee "$out/gain.md"
archscape gain "$out"/nb*.sqlite "$out"/nas*.sqlite "$out"/greedy-*.sqlite "${targets[@]}" --json > "$out/gain.json"
archscape run --config experiments/nb301_pools.yaml --workers "$workers" --no-progress --store "$out/nb301.sqlite"
archscape report "$out/nb301.sqlite" --out "$out/nb301-report" --at-queries 25,50,100 --table | tee "$out/nb301.txt"
