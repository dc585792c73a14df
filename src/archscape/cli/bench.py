"""``archscape bench ...``: list, query and export benchmarks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archscape.cli.common import echo_json
from archscape.errors import ArchscapeError


@click.group()
def bench() -> None:
    """Query and export tabular benchmarks."""


@bench.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array instead of a table.")
def bench_list(as_json: bool) -> None:
    """List the benchmarks with their size, metrics, fidelities and noise seeds."""
    from archscape.benchmarks.registry import benchmark_status

    rows = benchmark_status()
    if as_json:
        echo_json(rows)
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
@click.option("--draw-seed", type=click.IntRange(0), default=0, show_default=True,
              help="With --noise seed: seed of the random generator that draws the training seed (not a training "
              "seed itself: for training seed N give --noise N).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_query(benchmark: str, arch: str, noise: str, fidelity: str | None, draw_seed: int, as_json: bool) -> None:
    """Query one architecture: its text form, or #N for index N (e.g. #12).

    The answer names the training seed it comes from ("training_seed" in the JSON; null for the mean of seeds).
    """
    import numpy as np

    from archscape.benchmarks import check_noise, load_benchmark

    b = load_benchmark(benchmark)
    noise_mode = check_noise(noise)
    evaluation = b.query(b.space.read(arch), noise=noise_mode, fidelity=b.check_fidelity(fidelity), rng=np.random.default_rng(draw_seed))
    out = b.evaluation_json(evaluation)
    if as_json:
        echo_json(out)
        return
    click.echo(f"{out['benchmark']}  index {out['index']}  fidelity {out['fidelity']}  training seed {out['training_seed'] if out['training_seed'] is not None else 'mean of seeds'}")
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

    b = load_benchmark(benchmark)
    if not isinstance(b, TableBenchmark):
        raise ArchscapeError(f"{benchmark} is not a table and cannot be exported")
    click.echo(f"wrote {b.export(out, noise=noise, fidelity=fidelity):,} rows to {out}")


