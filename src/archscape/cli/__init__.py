"""The ``archscape`` command line: a thin layer over the Python API.

One module per command group (:mod:`~archscape.cli.bench`,
:mod:`~archscape.cli.space`, :mod:`~archscape.cli.data`,
:mod:`~archscape.cli.run` for ``run``/``gain``/``demo``,
:mod:`~archscape.cli.report`, :mod:`~archscape.cli.landscape`,
:mod:`~archscape.cli.opdist`, :mod:`~archscape.cli.predictors`); each
parses its arguments, calls the package that does the work and prints.

Start-up time: the command modules import click and small constants only;
numpy, pandas, matplotlib, the runner and the analyses are imported inside
the command functions, so ``archscape --help`` and argument errors answer at
once.

Every user error becomes one line on stderr (``error: ...``) and exit status
2; nothing here prints a traceback for bad input.
"""

from __future__ import annotations

import sys

import click

from archscape.cli.bench import bench
from archscape.cli.data import data
from archscape.cli.landscape import landscape
from archscape.cli.opdist import opdist
from archscape.cli.predictors import predictors
from archscape.cli.report import report_cmd
from archscape.cli.run import demo_cmd, gain_cmd, run_cmd
from archscape.cli.space import space
from archscape.errors import ArchscapeError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archscape")
def cli() -> None:
    """Neural architecture search: spaces, benchmarks, search, landscapes."""


for _command in (bench, space, data, run_cmd, report_cmd, gain_cmd, demo_cmd, landscape, opdist, predictors):
    cli.add_command(_command)


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


__all__ = ["cli", "main"]

if __name__ == "__main__":
    sys.exit(main())
