"""The ``archscape`` command line: a thin layer over the Python API.

Every user error becomes one line on stderr (``error: ...``) and exit status
2; nothing here prints a traceback for bad input.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click

from archscape.errors import ArchscapeError


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, sort_keys=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archscape")
def cli() -> None:
    """Neural architecture search: spaces, benchmarks, search, landscapes."""


# ----------------------------------------------------------------- bench
@cli.group()
def bench() -> None:
    """Query and export tabular benchmarks."""


@bench.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array instead of a table.")
def bench_list(as_json: bool) -> None:
    """List the benchmarks with their size, metrics, fidelities and noise seeds."""
    from archscape.benchmarks import BENCHMARKS, load_benchmark
    from archscape.data import registry

    rows = []
    for name, spec in BENCHMARKS.items():
        missing = [d for d in spec.data if not registry.is_available(d)]
        status = "ready"
        info = {"name": name, "summary": spec.summary}
        if missing:
            status = "needs: archscape data fetch " + " ".join(missing)
        else:
            try:
                info.update(load_benchmark(name).info())
            except ArchscapeError as exc:
                status = str(exc)
        info["status"] = status
        rows.append(info)
    if as_json:
        _echo_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="archscape benchmarks", show_lines=False)
    for col in ("name", "what", "size", "metrics", "objective", "fidelities", "seeds", "status"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["name"],
            r["summary"],
            f"{r['size']:,}" if isinstance(r.get("size"), int) else "-",
            ", ".join(r.get("metrics", [])),
            r.get("objective", "-"),
            _ranges(r.get("fidelities", [])),
            str(r.get("noise_seeds", "-")),
            r["status"],
        )
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def _ranges(values) -> str:
    """``[1, 2, 3, 12]`` -> ``"1..3, 12"``: runs of consecutive integers shortened."""
    out, run = [], []
    for v in sorted(values):
        if run and v == run[-1] + 1:
            run.append(v)
            continue
        if run:
            out.append(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
        run = [v]
    if run:
        out.append(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
    return ", ".join(out)


@bench.command("query")
@click.argument("benchmark")
@click.argument("arch")
@click.option("--noise", default="mean", show_default=True, help="mean (average of seeds), seed (draw one), or a seed number.")
@click.option("--fidelity", default=None, help="Training budget (epochs) of the table; default: the full budget.")
@click.option("--seed", default=0, show_default=True, help="Generator seed for --noise seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_query(benchmark: str, arch: str, noise: str, fidelity: str | None, seed: int, as_json: bool) -> None:
    """Query one architecture (its text form or table index)."""
    import numpy as np

    from archscape.benchmarks import check_noise, load_benchmark

    b = load_benchmark(benchmark)
    noise_mode = check_noise(noise)
    key = int(arch) if arch.strip().isdigit() and b.space.size is not None else arch
    evaluation = b.query(key, noise=noise_mode, fidelity=b.check_fidelity(fidelity), rng=np.random.default_rng(seed))
    out = b.evaluation_json(evaluation)
    if as_json:
        _echo_json(out)
        return
    click.echo(f"{out['benchmark']}  index {out['index']}  fidelity {out['fidelity']}  seed {out['seed'] if out['seed'] is not None else 'mean'}")
    click.echo(out["arch"])
    from archscape.benchmarks.base import METRIC_UNITS

    for m, v in out["metrics"].items():
        click.echo(f"  {m:<12} {v if v is None else f'{v:.6g}'} {METRIC_UNITS.get(m, '')}")


@bench.command("export")
@click.argument("benchmark")
@click.option("--noise", default="mean", show_default=True, help="mean, all (one column per seed) or a seed number.")
@click.option("--fidelity", default=None, help="Training budget (epochs); default: the full budget.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.csv or FILE.parquet")
def bench_export(benchmark: str, noise: str, fidelity: str | None, out: Path) -> None:
    """Write the whole table, one row per architecture."""
    from archscape.benchmarks import load_benchmark
    from archscape.benchmarks.table import TableBenchmark
    from archscape.util import atomic_path

    if out.suffix not in (".csv", ".parquet"):
        raise ArchscapeError(f"unknown export format {out.suffix or out.name!r}; accepted: .csv, .parquet")
    b = load_benchmark(benchmark)
    if not isinstance(b, TableBenchmark):
        raise ArchscapeError(f"{benchmark} is not a table and cannot be exported")
    frame = b.to_frame(noise=noise if noise == "all" else _noise_arg(noise), fidelity=b.check_fidelity(fidelity))
    with atomic_path(out) as tmp:
        if out.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
    click.echo(f"wrote {len(frame):,} rows to {out}")


def _noise_arg(noise: str):
    from archscape.benchmarks import check_noise

    return check_noise(noise)


# ----------------------------------------------------------------- space
@cli.group()
def space() -> None:
    """Inspect search spaces: sample, neighbours, encodings."""


@space.command("list")
def space_list() -> None:
    """List the search spaces."""
    from archscape.spaces import get_space, space_names

    for name in space_names():
        s = get_space(name)
        size = f"{s.size:,}" if s.size is not None else "not enumerated"
        click.echo(f"{name:<16} {size:>16}  ops: {', '.join(s.ops)}  encodings: {', '.join(s.encodings)}")


@space.command("sample")
@click.argument("space_name", metavar="SPACE")
@click.option("-n", "count", default=1, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=0, show_default=True)
def space_sample(space_name: str, count: int, seed: int) -> None:
    """Print random architectures of a space."""
    import numpy as np

    from archscape.spaces import get_space

    s = get_space(space_name)
    rng = np.random.default_rng(seed)
    for _ in range(count):
        click.echo(s.format(s.sample(rng)))


@space.command("neighbours")
@click.argument("space_name", metavar="SPACE")
@click.argument("arch")
def space_neighbours(space_name: str, arch: str) -> None:
    """Print the neighbourhood of an architecture."""
    from archscape.spaces import get_space

    s = get_space(space_name)
    for n in s.neighbours(s.as_genotype(arch)):
        click.echo(s.format(n))


@space.command("encode")
@click.argument("space_name", metavar="SPACE")
@click.argument("arch")
@click.option("--encoding", default="onehot", show_default=True)
@click.option("--cutoff", default=None, type=int, help="Path encoding: keep the first N features.")
def space_encode(space_name: str, arch: str, encoding: str, cutoff: int | None) -> None:
    """Print an encoding of an architecture as JSON."""
    from archscape.spaces import get_space

    s = get_space(space_name)
    options = {"cutoff": cutoff} if cutoff is not None else {}
    vec = s.encode(s.as_genotype(arch), encoding, **options)
    _echo_json([float(x) for x in vec])


# ----------------------------------------------------------------- data
@cli.group()
def data() -> None:
    """The data registry: list, fetch and verify external files."""


@data.command("list")
def data_list() -> None:
    """List every registry entry with its state in the cache."""
    from archscape.data import registry

    click.echo(f"cache: {registry.cache_dir()}")
    for name, e in registry.ENTRIES.items():
        state = "package" if e.package else ("cached" if registry.cached_path(name).is_file() else "-")
        size = f"{e.size / 1e6:.1f} MB" if e.size else "?"
        click.echo(f"{name:<26} {state:<8} {size:>9}  {e.licence:<10.10}  {e.description}")


@data.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--all", "fetch_all", is_flag=True, help="Every entry found in --from (or with a download address).")
@click.option("--from", "source", default=None, help="A file, a directory holding the file, or a file:// or http(s):// URL.")
@click.option("--force", is_flag=True, help="Replace a cached copy.")
def data_fetch(names: tuple[str, ...], fetch_all: bool, source: str | None, force: bool) -> None:
    """Copy or download data files into the cache, verifying their checksums."""
    from archscape.data import registry

    if not names and not fetch_all:
        raise ArchscapeError("name a data set to fetch, or pass --all; see `archscape data list`")
    if fetch_all:
        names = tuple(n for n, e in registry.ENTRIES.items() if e.package is None and _fetchable(e, source))
    for name in names:
        registry.entry(name)  # unknown names fail before anything is copied
    for name in names:
        p = registry.fetch(name, source, force=force)
        click.echo(f"{name}: {p}")


def _fetchable(entry, source: str | None) -> bool:
    if source is None:
        return entry.url is not None and (entry.sha256 is not None or entry.md5 is not None)
    folder = Path(source)
    return folder.is_dir() and any(folder.rglob(entry.filename))


@data.command("verify")
@click.argument("names", nargs=-1)
def data_verify(names: tuple[str, ...]) -> None:
    """Check cached files against their checksums (default: every present file)."""
    from archscape.data import registry

    bad = False
    selected = names or tuple(registry.ENTRIES)
    for name in selected:
        st = registry.verify(name)
        if st.state == "missing" and not names:
            continue
        click.echo(f"{name:<26} {st.state:<9} {st.detail}")
        bad |= st.state in ("corrupt", "missing")
    if bad:
        sys.exit(1)


# ----------------------------------------------------------------- run
from archscape.run import EXECUTORS  # noqa: E402 - a constant; the runner is imported when a run starts

RESULT_FLAGS = ("benchmark", "optimizers", "budget", "trials", "seed", "noise", "fidelity", "report_metric", "space", "opdist_samples", "evaluator")


@cli.command("run")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML file of settings (flags override it).")
@click.option("--benchmark", "-b", default=None, help="Benchmark name (see `archscape bench list`).")
@click.option("--optimizer", "-o", "optimizers", multiple=True, help="NAME or NAME:key=value,... (repeatable), e.g. local:improvement=best")
@click.option("--budget", type=int, default=None, help="Queries per trial.")
@click.option("--trials", type=int, default=None, help="Trials per optimizer.")
@click.option("--seed", type=int, default=None, help="Study seed (default 0).")
@click.option("--noise", default=None, help="seed (default), mean, or a seed number.")
@click.option("--fidelity", type=int, default=None, help="Training budget (epochs) of the table.")
@click.option("--report-metric", default=None, help="Metric a report reads for the incumbent (default: the objective, denoised).")
@click.option("--space", default=None, help="Search space (default: the benchmark's); <base>-opdist searches op distributions "
              "of the benchmark's cells; with --evaluator train, the networks trained.")
@click.option("--opdist-samples", type=click.IntRange(1), default=None, help="Distribution spaces: cells sampled per evaluation (default 1).")
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
@click.option("--workers", type=click.IntRange(0, 4096), default=None,
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
    from archscape.run.config import config_from_mapping, load_config_file
    from archscape.run.runner import run_study, stored_config

    flags = {"benchmark": benchmark, "optimizers": list(optimizers) or None, "budget": budget, "trials": trials,
             "seed": seed, "noise": noise, "fidelity": fidelity, "report_metric": report_metric, "name": name,
             "space": space, "opdist_samples": opdist_samples, "evaluator": evaluator}
    train_flags = {k: v for k, v in (("dataset", dataset), ("epochs", epochs), ("batch_size", batch_size), ("device", device), ("threads", threads),
                                     ("train_subset", train_subset), ("val_subset", val_subset), ("test_subset", test_subset))
                   if v is not None}
    if resume_path is not None:
        given = [k for k in RESULT_FLAGS if flags[k] is not None] + [k for k in train_flags if k != "device"]
        given += ["config"] if config_file else []
        if given:
            raise ArchscapeError(f"--resume continues the stored settings; drop --{given[0].replace('_', '-')}")
        if store_path is not None and store_path != resume_path:
            raise ArchscapeError("give either --store or --resume, not both")
        config = stored_config(resume_path)
        if device is not None:  # where it runs, not what it computes
            if config.train is None:
                raise ArchscapeError("--device applies to studies of the train evaluator")
            config = config.model_copy(update={"train": config.train.model_copy(update={"device": device})})
        store_path = resume_path
    else:
        data = load_config_file(config_file) if config_file else {}
        runtime = {k: data.pop(k) for k in ("workers", "store", "executor") if k in data}
        data.update({k: v for k, v in flags.items() if v is not None})
        if train_flags:
            if data.get("evaluator") != "train":
                raise ArchscapeError(f"--{next(iter(train_flags)).replace('_', '-')} sets how networks are trained; add --evaluator train")
            train = data.get("train") or {}
            if not isinstance(train, dict):
                raise ArchscapeError(f"'train' in {config_file} must be a mapping of training settings")
            data["train"] = {**train, **train_flags}
        if data.get("evaluator") == "train":  # training is slow: one trial of one optimizer unless told otherwise
            data.setdefault("trials", 1)
            data.setdefault("optimizers", [_default_train_optimizer(data.get("space"))])
        source = str(config_file) if config_file else "settings"
        config = config_from_mapping(data, source)
        if store_path is None:
            default = (f"runs/{config.space or 'train'}-{config.train.dataset}.sqlite" if config.evaluator == "train"
                       else f"runs/{config.benchmark}.sqlite")
            store_path = Path(runtime.get("store") or default)
    if resume_path is not None or config_file is None:
        runtime = {}
    settings = _executor(runtime, {"kind": executor, "workers": workers, "address": address, "cpus": cpus_per_eval,
                                   "gpus": gpus_per_eval, "retries": retries}, config_file)
    result = run_study(config, store_path, executor=settings, commit_every=commit_every, progress=not no_progress)
    click.echo(f"{result.n_evaluations:,} evaluations in {result.n_trials} trials stored in {result.store} ({result.wall_seconds:.1f} s)")
    if report_dir is not None:
        _write_report([store_path], report_dir)


def _executor(runtime: dict, flags: dict, config_file):
    """Executor settings from the config file's ``workers``/``executor`` keys, overridden by flags."""
    from archscape.run.executors import executor_settings

    options = runtime.get("executor") or {}
    if isinstance(options, str):
        options = {"kind": options}
    if not isinstance(options, dict):
        raise ArchscapeError(f"'executor' in {config_file} must be a name ({', '.join(EXECUTORS)}) or a mapping")
    unknown = sorted(set(options) - {"kind", "workers", "address", "cpus", "gpus", "retries"})
    if unknown:
        raise ArchscapeError(f"unknown key 'executor.{unknown[0]}' in {config_file}; accepted: kind, workers, address, cpus, gpus, retries")
    if "workers" in runtime:
        options.setdefault("workers", runtime["workers"])
    options.update({k: v for k, v in flags.items() if v is not None})
    try:
        return executor_settings(options.pop("kind", None), options.pop("workers", None), **options)
    except TypeError as exc:
        raise ArchscapeError(f"bad executor settings in {config_file}: {exc}") from None


def _default_train_optimizer(space: str | None) -> str:
    """The search run by ``--evaluator train`` without ``--optimizer``: NAGO's BO on its space, else random search."""
    from archscape.search import optimizer_names

    return "nago-bo" if space == "nago" and "nago-bo" in optimizer_names() else "random"


def _write_report(stores, out_dir: Path, at_queries=None) -> Path:
    from archscape.report import write_report

    index = write_report([Path(s) for s in stores], out_dir, at_queries=at_queries)
    click.echo(f"report: {index}")
    return index


@cli.command("report")
@click.argument("stores", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for index.html, plots and exports.")
@click.option("--at-queries", default=None, help="Also tabulate the incumbents after these query counts, e.g. 25,50,100.")
@click.option("--table", "print_table", is_flag=True, help="Also print the final-results table(s).")
def report_cmd(stores, out_dir, at_queries, print_table) -> None:
    """Write plots, tables and exports of one or more stores, tied together by index.html."""
    points = None
    if at_queries:
        try:
            points = [int(q) for q in at_queries.split(",") if q.strip()]
        except ValueError:
            raise ArchscapeError(f"--at-queries takes query counts separated by commas, e.g. 25,50,100; got {at_queries!r}") from None
    _write_report(stores, out_dir, points)
    if print_table:
        from archscape.report import final_table_text

        click.echo(final_table_text([Path(s) for s in stores], at_queries=points))


@cli.command("gain")
@click.argument("sources", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--target", "targets", multiple=True, help="top-k:K, top:F% or value:V (repeatable; default top-k:1).")
@click.option("--hit", type=click.Choice(["incumbent", "evaluated"]), default="incumbent", show_default=True,
              help="A trial meets the target when its incumbent does, or when it first evaluates an architecture that does.")
@click.option("--bootstrap", "n_boot", type=click.IntRange(0), default=2000, show_default=True, help="Bootstrap resamples of the CI.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed of the bootstrap (and simulations).")
@click.option("--sim-trials", type=click.IntRange(1), default=100, show_default=True,
              help="Where the space cannot be enumerated: random-search trials simulated for E[queries].")
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
            from archscape.run.config import config_from_mapping, load_config_file
            from archscape.run.runner import run_study

            data = load_config_file(source)
            runtime = {k: data.pop(k) for k in ("workers", "store", "executor") if k in data}
            config = config_from_mapping(data, str(source))
            store = store_path or Path(runtime.get("store") or f"runs/{source.stem}.sqlite")
            run_study(config, store, workers=workers, progress=not as_json)
            stores.append(store)
        else:
            stores.append(source)
    table = gain_table(stores, targets or ("top-k:1",), hit=hit, n_boot=n_boot, seed=seed, sim_trials=sim_trials)
    if as_json:
        rows = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                for r in table.to_dict("records")]
        _echo_json(rows)
    else:
        click.echo(format_gain(table, "markdown" if markdown else "text"))


DEMO_OPTIMIZERS = ("random", "local", "evolution", "bananas")


@cli.command("demo")
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
    _write_report([store], out_dir / "demo-report")


from archscape.landscape.cli import landscape as _landscape  # noqa: E402 - after the commands it extends
from archscape.landscape.cli_ela import bbob_cmd as _bbob_cmd, ela_cmd as _ela_cmd  # noqa: E402
from archscape.landscape.cli_theory import noise_cmd as _noise_cmd, theory_cmd as _theory_cmd  # noqa: E402

_landscape.add_command(_theory_cmd, "theory")
_landscape.add_command(_noise_cmd, "noise")
_landscape.add_command(_ela_cmd, "ela")
_landscape.add_command(_bbob_cmd, "bbob")
cli.add_command(_landscape)

from archscape.opdist.cli import opdist as _opdist  # noqa: E402

cli.add_command(_opdist)
from archscape.predictors.cli import predictors as _predictors  # noqa: E402
cli.add_command(_predictors)


# ----------------------------------------------------------------- entry
def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the CLI, turning user errors into one line."""
    try:
        cli.main(args=argv, prog_name="archscape", standalone_mode=False)
    except ArchscapeError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
