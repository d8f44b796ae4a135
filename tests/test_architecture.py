"""The package's layout as the architecture states it: no import cycles, figures only in the plotting layer, and
backend names only in the backends.

The layer order itself (models < backends < rundir < analysis | stimuli < plotting < workflows < cli) is checked by
``lint-imports`` with the contracts in ``.importlinter`` (``make lint``); these tests check what a layer contract
cannot say.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "spikebridge"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("spikebridge", cache_dir=None)


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan), function-level imports included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    assert strongly_connected(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    g = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        g.add_module(name)
    g.add_import(importer="p.a", imported="p.b")
    g.add_import(importer="p.b", imported="p.a")
    g.add_import(importer="p.c", imported="p.a")
    assert strongly_connected(g) == [["p.a", "p.b"]]


def test_matplotlib_only_in_plotting_and_cli(graph: grimp.ImportGraph) -> None:
    importers = {m for m in graph.find_modules_that_directly_import("matplotlib")} if "matplotlib" in graph.modules else set()
    for path in PACKAGE.rglob("*.py"):
        if "matplotlib" in path.read_text():
            tree = ast.parse(path.read_text())
            if any(_imports(tree, "matplotlib")):
                importers.add(_module(path))
    outside = sorted(m for m in importers if not m.startswith(("spikebridge.plotting", "spikebridge.cli")))
    assert outside == []


def test_only_the_cli_selects_a_matplotlib_backend() -> None:
    callers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "use":
                if isinstance(node.func.value, ast.Name) and node.func.value.id == "matplotlib":
                    callers.append(_module(path))
    assert callers and all(m.startswith("spikebridge.cli") for m in callers), callers


def _imports(tree: ast.AST, top: str) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == top)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level and node.module.split(".")[0] == top:
            yield node.module


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


PROSE = {"help", "epilog", "description", "usage", "metavar"}


def _behaviour_strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """String constants that code acts on: not docstrings, not argparse prose."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg in PROSE:
            skip.update(id(n) for n in ast.walk(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


# The model file's own default (``simulation.backend = "nest"``, the embedded default the README runs) is part of the
# model format, which sits below the backends; it is the one backend name outside backends/.
MODEL_FORMAT_DEFAULT = ("spikebridge/models/schema.py", "nest")
# The PyNN drop-ins are one module per simulator by definition (``spikebridge.pynn.nest`` replaces ``pyNN.nest``).
PER_SIMULATOR = ("backends", "pynn")


def test_only_backends_name_a_backend() -> None:
    from spikebridge import backends

    names = set(backends.available())
    found = []
    for path in PACKAGE.rglob("*.py"):
        if any(path.is_relative_to(PACKAGE / folder) for folder in PER_SIMULATOR):
            continue
        for line, text in _behaviour_strings(ast.parse(path.read_text())):
            items = [item.strip() for item in text.split(",")]
            if all(item.partition(":")[0] in names for item in items):
                if (str(path.relative_to(PACKAGE.parent)), text) != MODEL_FORMAT_DEFAULT:
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {text!r}")
    assert found == []
