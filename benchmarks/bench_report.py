"""Speed of reports: anytime metrics, final table and the whole written report.

Makes (or reuses) a store of 4 optimizers x 100 trials x 300 queries on
nb201-cifar10 (random, local, evolution and local with best improvement when
those are registered; otherwise a plain random search under four labels), then
prints, best of three where it is cheap:

* reading the evaluation frame from the store;
* anytime curves on the query and the time axis (target: well under 1 s,
  also with a fifth optimizer added to the frame);
* the final-results table;
* write_report with PNG and PDF figures, and with PNG only.

Usage: python benchmarks/bench_report.py [--store runs/bench-report.sqlite] [--workers 2] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd


REPEATS = 3


def best_of(fn, repeats: int | None = None) -> float:
    times = []
    for _ in range(repeats or REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_store(path: Path, workers: int, trials: int = 100, budget: int = 300) -> None:
    from archscape.run.config import config_from_mapping
    from archscape.run.runner import run_study
    from archscape.search import optimizer_names, register_optimizer
    from archscape.search.base import Optimizer

    if {"random", "local", "evolution"} <= set(optimizer_names()):
        optimizers = ["random", "local", "evolution", {"name": "local", "label": "local-best", "params": {"improvement": "best"}}]
    else:
        class _Random(Optimizer):
            name = "bench_random"

            def _ask(self):
                return self.sample_new()

        register_optimizer("bench_random", _Random)
        optimizers = [{"name": "bench_random", "label": f"random{i}"} for i in range(4)]
    config = config_from_mapping(
        {"benchmark": "nb201-cifar10", "optimizers": optimizers, "budget": budget, "trials": trials, "seed": 0}
    )
    start = time.perf_counter()
    run_study(config, path, workers=workers)
    print(f"made {path} in {time.perf_counter() - start:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None, help="store to reuse or create (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5 trials x 60 queries, one worker, one repeat")
    args = parser.parse_args()
    global REPEATS
    if args.quick:
        args.workers, REPEATS = 1, 1

    from archscape.report import anytime, write_report
    from archscape.report.tables import final_table
    from archscape.run.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        path = args.store or Path(tmp) / "bench-report.sqlite"
        if not path.exists():
            make_store(path, args.workers, *((5, 60) if args.quick else ()))
        with Store(path, create=False) as store:
            study = store.studies()[0]
            read = best_of(lambda: store.evaluation_frame(study.id))
            frame = store.evaluation_frame(study.id)
        optimum = study.info["optimum_report"]
        n_labels = frame["label"].nunique()
        n_trials = frame.groupby("label")["trial_index"].nunique().max()
        print(f"store: {len(frame):,} evaluations, {n_labels} optimizers x {n_trials} trials x {study.config['budget']} queries")
        print(f"read evaluation frame          {read:8.3f} s")
        t_q = best_of(lambda: anytime.by_queries(frame, optimum, study.config["budget"]))
        t_t = best_of(lambda: anytime.by_time(frame, optimum))
        print(f"anytime by queries             {t_q:8.3f} s")
        print(f"anytime by simulated time      {t_t:8.3f} s  (200-point log grid)")
        fifth = frame[frame["label"] == frame["label"].iloc[0]].assign(label="fifth")
        frame5 = pd.concat([frame, fifth], ignore_index=True)
        t5 = best_of(lambda: (anytime.by_queries(frame5, optimum), anytime.by_time(frame5, optimum)))
        print(f"both axes, 5 optimizers        {t5:8.3f} s  (target: well under 1 s)")
        curves = anytime.by_queries(frame, optimum, study.config["budget"])
        t_table = best_of(lambda: final_table(curves, study.info["optimum_arch"], at_queries=[q for q in (50, 100) if q <= study.config["budget"]]))
        print(f"final table                    {t_table:8.3f} s")
        if REPEATS > 1:  # not in a --quick smoke run: PDF figures double the time
            start = time.perf_counter()
            write_report([path], Path(tmp) / "report")
            print(f"write_report (PNG + PDF)       {time.perf_counter() - start:8.3f} s")
        start = time.perf_counter()
        write_report([path], Path(tmp) / "report-png", formats=("png",))
        print(f"write_report (PNG only)        {time.perf_counter() - start:8.3f} s")


if __name__ == "__main__":
    main()
