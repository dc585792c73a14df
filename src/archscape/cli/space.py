"""``archscape space ...``: sample architectures, list neighbours, print encodings."""

from __future__ import annotations

import click

from archscape.cli.common import echo_json
from archscape.errors import ArchscapeError


@click.group()
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
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0))
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
    for n in s.neighbours(s.read(arch)):
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
    if cutoff is not None and encoding != "path":
        raise ArchscapeError(f"--cutoff applies to --encoding path; got --encoding {encoding}")
    options = {"cutoff": cutoff} if cutoff is not None else {}
    vec = s.encode(s.read(arch), encoding, **options)
    echo_json([float(x) for x in vec])
