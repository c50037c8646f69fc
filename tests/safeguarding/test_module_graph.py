"""The domain's modules import each other without a circle (TYPE_CHECKING and function-level
imports included: a circle hidden there is still a circle), and import nothing of Temporal or the
database. Read from the source, so nothing needs importing."""

from __future__ import annotations

import ast
from pathlib import Path

import safeguarding

ROOT = Path(safeguarding.__file__).parent
FORBIDDEN = ("temporalio", "sqlalchemy", "sqlmodel", "alembic", "activities", "workflows")


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_import_circle_in_the_domain() -> None:
    modules = _modules()
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}
    # A package importing its own modules (safeguarding.handlers) is not a circle of concern.
    graph = {m: {i for i in deps if not m.startswith(f"{i}.")} for m, deps in graph.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), list(graph[start])
        while stack:
            here = stack.pop()
            if here == goal:
                return True
            if here not in seen:
                seen.add(here)
                stack.extend(graph[here])
        return False

    assert [m for m in graph if reaches(m, m)] == []


def test_the_domain_imports_no_temporal_and_no_database() -> None:
    found = {
        f"{name}: {imported}"
        for name, path in _modules().items()
        for imported in _imports(path)
        if imported.split(".")[0] in FORBIDDEN
    }
    assert found == set()
