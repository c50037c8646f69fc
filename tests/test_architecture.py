"""The house rules the layers and sizes keep (README, "Architecture"): no product file over 800
lines, no function over 80 lines outside declarative tables, and the import contracts
(`lint-imports`, run by `make lint`) hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = [
    "config",
    "safeguarding",
    "workflows",
    "activities",
    "register",
    "reports",
    "security",
    "gateway",
    "starter",
    "console",
    "worker.py",
]
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 80
#: Functions that are declarative tables (one entry a line), not logic: (file, function).
TABLES: set[tuple[str, str]] = set()


def product_files() -> list[Path]:
    files: list[Path] = []
    for top in PRODUCT:
        path = ROOT / top
        found = [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
        files += [f for f in found if "migrations" not in f.parts]
    return files


def test_no_product_file_is_over_800_lines() -> None:
    long = {
        str(f.relative_to(ROOT)): n
        for f in product_files()
        if (n := f.read_text().count("\n")) > MAX_FILE_LINES
    }
    assert long == {}


def test_no_function_is_over_80_lines_outside_tables() -> None:
    long: dict[str, int] = {}
    for f in product_files():
        name = str(f.relative_to(ROOT))
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and (name, node.name) not in TABLES:
                    long[f"{name}:{node.name}"] = lines
    assert long == {}


@pytest.mark.parametrize(
    ("module", "heavy"),
    [
        ("workflows.referral", ("sqlalchemy", "sqlmodel", "alembic", "matplotlib")),
        ("workflows.escalation", ("sqlalchemy", "sqlmodel", "alembic", "matplotlib")),
        ("gateway.cases", ("sqlalchemy", "sqlmodel", "alembic", "matplotlib")),
    ],
)
def test_a_module_loads_no_heavy_stack(module: str, heavy: tuple[str, ...]) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.strip()
    assert loaded == ""


def test_the_import_contracts_hold() -> None:
    linter = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(linter)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
