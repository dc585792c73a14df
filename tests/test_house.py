"""The shape of the house, read from the source: no import circles, no private names across packages.

Every ``import`` statement counts, at module level or inside a function, so a
function-level import cannot hide a circle (lazy imports of optional heavy
dependencies are of other distributions and do not appear here).  Lazy
registry targets (``"module:attr"`` strings) are not imports: they are how a
low layer names what a higher one provides.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src" / "archscape"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Ids of the nodes under ``if TYPE_CHECKING:`` (annotations only, never executed)."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden |= {id(n) for child in node.body for n in ast.walk(child)}
    return hidden


def _imports(path: Path, module: str | None = None) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) of every import of an archscape module in ``path``."""
    module = module or _module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out = []
    tree = ast.parse(path.read_text(), str(path))
    hidden = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module or ""
            if target.startswith("archscape"):
                out.append((target, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("archscape")]
    return out


def _graph() -> tuple[nx.DiGraph, set[str]]:
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target, names in _imports(path):
            # "from archscape.pkg import module" imports the submodule
            targets = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules] or [target]
            for t in targets:
                if t in modules and t != name:
                    graph.add_edge(name, t)
    return graph, set(modules)


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(root)"


def _is_inside(module: str, package_module: str) -> bool:
    return module.startswith(package_module + ".")


def test_no_import_circle_between_modules():
    graph, _ = _graph()
    # A package's __init__ may import its own submodules, and they the package's public names from other
    # submodules; what may not happen is a circle through two or more real modules.
    flat = nx.DiGraph((a, b) for a, b in graph.edges if not _is_inside(a, b) and not _is_inside(b, a))
    circles = [sorted(c) for c in nx.strongly_connected_components(flat) if len(c) > 1]
    assert circles == []


def test_no_import_circle_between_packages():
    graph, _ = _graph()
    packages = nx.DiGraph()
    for a, b in graph.edges:
        pa, pb = _package(a), _package(b)
        if pa != pb and "(root)" not in (pa, pb):
            packages.add_edge(pa, pb)
    circles = [sorted(c) for c in nx.strongly_connected_components(packages) if len(c) > 1]
    assert circles == []


def test_no_private_name_taken_across_packages():
    taken = []
    for path in SRC.rglob("*.py"):
        module = _module_name(path)
        for target, names in _imports(path):
            if _package(target) == _package(module):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            private += [part for part in target.split(".") if part.startswith("_") and not part.startswith("__")]
            taken += [f"{module} takes {n} from {target}" for n in private]
    assert taken == []


def test_the_checks_see_a_circle_and_a_private_name(tmp_path):
    # The walkers themselves: a planted circle and a planted private import are found.
    graph = nx.DiGraph([("archscape.a.x", "archscape.b.y"), ("archscape.b.y", "archscape.a.x")])
    assert [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1] == [["archscape.a.x", "archscape.b.y"]]
    planted = tmp_path / "m.py"
    planted.write_text("def f():\n    from ..report.plots import _hidden\n"
                       "if TYPE_CHECKING:\n    from archscape.run import store\n")
    assert _imports(planted, "archscape.search.m") == [("archscape.report.plots", ["_hidden"])]
