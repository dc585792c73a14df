"""``archscape opdist ...``: operation-distribution analysis and differentiable search.

Each command lives in its own module and is added to the group below.
"""

from __future__ import annotations

import click


@click.group("opdist")
def opdist() -> None:
    """Operation distributions: how much they explain, and searching them."""


# Commands (one module each) are added here:
from archscape.opdist.cli_speedup import speedup_cmd  # noqa: E402

opdist.add_command(speedup_cmd)
from archscape.opdist.cli_analyze import analyze_cmd as _analyze_cmd  # noqa: E402
opdist.add_command(_analyze_cmd, "analyze")
from archscape.opdist.cli_darts import darts_cmd as _darts_cmd  # noqa: E402
opdist.add_command(_darts_cmd, "darts")
