"""``archscape run``, ``archscape gain`` and ``archscape demo``: studies into stores, and what they gained.

A run is a :class:`archscape.run.study.StudyFile`: the flags only override its keys, so
``archscape run --config F`` and ``run_study(StudyFile.load(F))`` store the same evaluations.
"""

from __future__ import annotations

from pathlib import Path

import click

from archscape.cli.common import echo_json, write_report
from archscape.errors import ArchscapeError
from archscape.run import EXECUTORS, MAX_BUDGET, MAX_OPDIST_SAMPLES, MAX_SEED, MAX_TRIALS, MAX_WORKERS  # constants; the runner is imported when a run starts


RESULT_FLAGS = ("benchmark", "optimizers", "budget", "trials", "seed", "noise", "fidelity", "report_metric", "space", "opdist_samples", "evaluator")


@click.command("run")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML file of settings (flags override it).")
@click.option("--benchmark", "-b", default=None, help="Benchmark name (see `archscape bench list`).")
@click.option("--optimizer", "-o", "optimizers", multiple=True, help="NAME or NAME:key=value,... (repeatable), e.g. local:improvement=best")
@click.option("--budget", type=click.IntRange(1, MAX_BUDGET), default=None, help="Queries per trial (at most the space's size).")
@click.option("--trials", type=click.IntRange(1, MAX_TRIALS), default=None, help="Trials per optimizer.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=None, help="Study seed (default 0).")
@click.option("--noise", default=None, help="seed (default), mean, or a seed number.")
@click.option("--fidelity", type=int, default=None, help="Training budget (epochs) of the table.")
@click.option("--report-metric", default=None, help="Metric a report reads for the incumbent (default: the objective, denoised).")
@click.option("--space", default=None, help="Search space (default: the benchmark's); <base>-opdist searches op distributions "
              "of the benchmark's cells; with --evaluator train, the networks trained.")
@click.option("--opdist-samples", type=click.IntRange(1, MAX_OPDIST_SAMPLES), default=None, help="Distribution spaces: cells sampled per evaluation (default 1).")
@click.option("--evaluator", type=click.Choice(["table", "train"]), default=None, help="table (query the benchmark, default) or train (train every architecture).")
@click.option("--dataset", default=None, help="Train evaluator: mnist, fashion-mnist, cifar10, cifar100 or imagefolder.")
@click.option("--epochs", type=click.IntRange(1), default=None, help="Train evaluator: epochs per architecture (the fidelity).")
@click.option("--batch-size", type=click.IntRange(1), default=None, help="Train evaluator: batch size.")
@click.option("--device", default=None, help="Train evaluator: auto (default: cuda if available), cpu, cuda, cuda:N.")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="Train evaluator: CPU threads of one training (default 1); on the CPU the numbers depend on it.")
@click.option("--train-subset", type=click.IntRange(2), default=None, help="Train evaluator: train on this many images (stratified).")
@click.option("--val-subset", type=click.IntRange(1), default=None, help="Train evaluator: validate on this many images (stratified).")
@click.option("--test-subset", type=click.IntRange(0), default=None, help="Train evaluator: test on this many images (0: no test).")
@click.option("--name", default=None, help="Study name (default: the store's file name).")
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=None,
              help="Worker processes (default 1), or with --executor ray the most trials in flight (default: all).")
@click.option("--executor", type=click.Choice(EXECUTORS), default=None,
              help="serial, process (--workers processes) or ray (each evaluation a Ray task); default: serial, process when --workers > 1.")
@click.option("--address", default=None, help="Ray cluster address (e.g. 10.0.0.5:6379 or ray://host:10001); default: a local Ray.")
@click.option("--cpus-per-eval", type=click.FloatRange(0, min_open=True), default=None, help="Ray: CPUs of one evaluation (default: the training's --threads, else 1).")
@click.option("--gpus-per-eval", type=click.FloatRange(0), default=None, help="Ray: GPUs of one evaluation; a fraction shares a GPU (default 0).")
@click.option("--retries", type=click.IntRange(0), default=None, help="Ray: reruns of an evaluation whose worker died (default 3).")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="SQLite store (default runs/<benchmark>.sqlite).")
@click.option("--resume", "resume_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Continue the study in this store.")
@click.option("--commit-every", type=click.FloatRange(0), default=0.1, show_default=True, help="Seconds between commits.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Also write a report here.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def run_cmd(config_file, benchmark, optimizers, budget, trials, seed, noise, fidelity, report_metric, space, opdist_samples, evaluator,
            dataset, epochs, batch_size, device, threads, train_subset, val_subset, test_subset, name, workers,
            executor, address, cpus_per_eval, gpus_per_eval, retries, store_path, resume_path, commit_every, report_dir, no_progress) -> None:
    """Compare NAS optimizers on a benchmark, or by training networks: many trials into a store, optionally a report."""
    from archscape.run.runner import run_study
    from archscape.run.study import StudyFile

    flags = {"benchmark": benchmark, "optimizers": list(optimizers) or None, "budget": budget, "trials": trials,
             "seed": seed, "noise": noise, "fidelity": fidelity, "report_metric": report_metric, "name": name,
             "space": space, "opdist_samples": opdist_samples, "evaluator": evaluator}
    train_flags = {"dataset": dataset, "epochs": epochs, "batch_size": batch_size, "device": device, "threads": threads,
                   "train_subset": train_subset, "val_subset": val_subset, "test_subset": test_subset}
    executor_flags = {"kind": executor, "workers": workers, "address": address, "cpus": cpus_per_eval,
                      "gpus": gpus_per_eval, "retries": retries}
    if resume_path is not None:
        given = [k for k in RESULT_FLAGS if flags[k] is not None]
        given += [k for k, v in train_flags.items() if v is not None and k != "device"] + (["config"] if config_file else [])
        if given:
            raise ArchscapeError(f"--resume continues the stored settings; drop --{given[0].replace('_', '-')}")
        if store_path is not None and store_path != resume_path:
            raise ArchscapeError("give either --store or --resume, not both")
        study = StudyFile.resume(resume_path, device=device, executor=executor_flags)
    elif config_file is not None:
        study = StudyFile.load(config_file, settings=flags, train=train_flags, executor=executor_flags, store=store_path)
    else:
        study = StudyFile.from_mapping({}, settings=flags, train=train_flags, executor=executor_flags, store=store_path)
    result = run_study(study, commit_every=commit_every, progress=not no_progress)
    click.echo(f"{result.n_evaluations:,} evaluations in {result.n_trials} trials stored in {result.store} ({result.wall_seconds:.1f} s)")
    if report_dir is not None:
        write_report([study.store_path()], report_dir)


@click.command("gain")
@click.argument("sources", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--target", "targets", multiple=True, help="top-k:K, top:F% or value:V (repeatable; default top-k:1).")
@click.option("--hit", type=click.Choice(["incumbent", "evaluated"]), default="incumbent", show_default=True,
              help="A trial meets the target when its incumbent does, or when it first evaluates an architecture that does.")
@click.option("--bootstrap", "n_boot", type=click.IntRange(0), default=2000, show_default=True, help="Bootstrap resamples of the CI.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed of the bootstrap (and simulations).")
@click.option("--sim-trials", type=click.IntRange(1), default=None,
              help="Where the space cannot be enumerated: random-search trials simulated for E[queries].  "
                   "[default: gain_table's, 100]")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With a config: the store to run it into (default runs/<config name>.sqlite).")
@click.option("--workers", type=click.IntRange(1, 256), default=1, show_default=True, help="With a config: worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of rows.")
@click.option("--markdown", is_flag=True, help="Print a Markdown table.")
def gain_cmd(sources, targets, hit, n_boot, seed, sim_trials, store_path, workers, as_json, markdown) -> None:
    """Sample-efficiency gain over random search, from stores (or a YAML config, run first).

    Per optimizer and target: random search's expected queries ((N+1)/(k+1) on a table), the optimizer's
    mean queries, their ratio (the gain) with a bootstrap 95% CI, and how many trials never met the target.
    """
    from archscape.report.gain import format_gain, gain_table

    stores = []
    for source in sources:
        if source.suffix.lower() in (".yaml", ".yml"):
            from archscape.run.runner import run_study
            from archscape.run.study import StudyFile

            study = StudyFile.load(source, store=store_path)
            store = study.store or Path(f"runs/{source.stem}.sqlite")
            run_study(study.config, store, workers=workers, progress=not as_json)
            stores.append(store)
        else:
            stores.append(source)
    options = {} if sim_trials is None else {"sim_trials": sim_trials}  # one default: gain_table's SIM_TRIALS
    table = gain_table(stores, targets or ("top-k:1",), hit=hit, n_boot=n_boot, seed=seed, **options)
    if as_json:
        from archscape.report.jsondata import jsonable

        echo_json(jsonable(table.to_dict("records")))
    else:
        click.echo(format_gain(table, "markdown" if markdown else "text"))


DEMO_OPTIMIZERS = ("random", "local", "evolution", "bananas")


@click.command("demo")
@click.option("--out", "out_dir", default=Path("runs"), show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--trials", default=20, show_default=True, type=click.IntRange(1))
@click.option("--budget", default=150, show_default=True, type=click.IntRange(1))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 256))
@click.option("--no-progress", is_flag=True)
def demo_cmd(out_dir: Path, trials: int, budget: int, workers: int, no_progress: bool) -> None:
    """The built-in main job: four optimizers on NAS-Bench-201 CIFAR-10, stored and reported."""
    from archscape.report import final_table_text
    from archscape.run.config import config_from_mapping
    from archscape.run.runner import run_study

    config = config_from_mapping(
        {"benchmark": "nb201-cifar10", "optimizers": list(DEMO_OPTIMIZERS), "budget": budget, "trials": trials,
         "seed": 0, "noise": "seed", "name": "demo"}
    )
    store = out_dir / "demo.sqlite"
    click.echo(f"random search, local search, regularized evolution and BANANAS on nb201-cifar10: "
               f"{trials} trials x {budget} queries, noise: one training seed per query")
    result = run_study(config, store, workers=workers, progress=not no_progress)
    click.echo(f"{result.n_evaluations:,} evaluations stored in {store} ({result.wall_seconds:.1f} s)")
    click.echo(final_table_text(store))
    write_report([store], out_dir / "demo-report")
