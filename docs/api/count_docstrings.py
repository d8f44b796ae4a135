"""Count public functions, classes and methods of spikebridge that have no docstring.

"Public" means: a module-level ``def``/``class`` whose name has no leading underscore, and a method (no leading
underscore, dunders excluded) of such a class, in a module whose dotted path has no ``_``-prefixed part.

Run ``python docs/api/count_docstrings.py [--list]`` from the repository root; prints the total and the count per
package (``spikebridge.<package>``), and with ``--list`` each object without a docstring as ``file:line name``.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "spikebridge"


def _public(name: str) -> bool:
    return not name.startswith("_")


def _overload(node: ast.AST) -> bool:
    """True for a ``typing.overload`` stub or a property's setter/deleter, which carry no docstring of their own."""
    decorators = getattr(node, "decorator_list", [])
    return any((d.id if isinstance(d, ast.Name) else getattr(d, "attr", "")) in {"overload", "setter", "deleter"} for d in decorators)


def missing(path: Path) -> tuple[int, list[tuple[int, str]]]:
    """Return ``(public objects, [(line, name) without docstring])`` for one module file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    total, bare = 0, []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) or not _public(node.name) or _overload(node):
            continue
        total += 1
        if ast.get_docstring(node) is None:
            bare.append((node.lineno, node.name))
        if isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) and _public(sub.name) and not _overload(sub):
                    total += 1
                    if ast.get_docstring(sub) is None:
                        bare.append((sub.lineno, f"{node.name}.{sub.name}"))
    return total, bare


def main(argv: list[str]) -> int:
    """Print the counts; return 0."""
    per_package: Counter[str] = Counter()
    total_public = total_bare = 0
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        if any(part.startswith("_") and part != "__init__.py" for part in rel.parts):
            continue
        n, bare = missing(path)
        total_public += n
        total_bare += len(bare)
        package = ".".join(rel.with_suffix("").parts[:2]) if len(rel.parts) > 2 else rel.with_suffix("").as_posix().replace("/", ".")
        per_package[package] += len(bare)
        if "--list" in argv:
            for line, name in bare:
                print(f"{rel}:{line} {name}")
    print(f"public objects: {total_public}; without docstring: {total_bare}")
    for package, n in sorted(per_package.items()):
        if n:
            print(f"  {package}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
