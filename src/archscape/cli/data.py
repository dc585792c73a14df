"""``archscape data ...``: the data registry (list, fetch, verify)."""

from __future__ import annotations

import sys

import click

from archscape.errors import ArchscapeError


@click.group()
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
@click.option("--force", is_flag=True, help="Replace a cached copy even when it passes its checksum.")
def data_fetch(names: tuple[str, ...], fetch_all: bool, source: str | None, force: bool) -> None:
    """Copy or download data files into the cache, verifying their checksums.

    A copy already in the cache is checked first and replaced when damaged.
    """
    from archscape.data import registry

    if not names and not fetch_all:
        raise ArchscapeError("name a data set to fetch, or pass --all; see `archscape data list`")
    if fetch_all:
        names = registry.fetchable(source)
    for name in names:
        registry.entry(name)  # unknown names fail before anything is copied
    for name in names:
        p = registry.fetch(name, source, force=force, report=click.echo)
        click.echo(f"{name}: {p}")


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
