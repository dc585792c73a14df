"""``archscape opdist speedup STORE...``: queries to come within 0.1/0.3/0.5 pp of the optimum, cells against distributions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click


@click.command("speedup")
@click.argument("stores", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--thresholds", default="0.1,0.3,0.5", show_default=True, help="Percentage points from the optimum, comma-separated.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of rows (null: not reached, see censored).")
@click.option("--markdown", is_flag=True, help="Print Markdown tables.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the rows to this CSV file.")
def speedup_cmd(stores, thresholds: str, as_json: bool, markdown: bool, out: Path | None) -> None:
    """Speed-up of optimizers on a distribution space (<base>-opdist) against the same optimizers on the cells.

    Give the stores of both (same benchmark, noise and budget), e.g. runs made with
    `archscape run -b nb201-cifar10 --space nb201-opdist ...` and without --space.
    """
    from archscape.errors import ArchscapeError
    from archscape.opdist.speedup import format_speedup, speedup_table
    from archscape.util import atomic_path

    try:
        values = [float(t) for t in thresholds.split(",") if t.strip()]
    except ValueError:
        raise ArchscapeError(f"--thresholds must be numbers separated by commas, e.g. 0.1,0.3,0.5; got {thresholds!r}") from None
    table = speedup_table(stores, values)
    if out is not None:
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False)
    if as_json:
        # JSON has no infinity: a quantile that the trials did not reach is null (see "censored")
        rows = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
                for r in table.to_dict("records")]
        click.echo(json.dumps(rows))
    else:
        click.echo(format_speedup(table, "markdown" if markdown else "text"))
