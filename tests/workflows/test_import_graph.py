"""The workflows' module graph loads no database stack (ARCHITECTURE.md, layer 2): a worker's
workflow sandbox and anything importing a workflow stay free of SQLAlchemy, SQLModel and Alembic.
Checked in a fresh interpreter, since the test session itself has loaded them."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "register", "matplotlib")


@pytest.mark.parametrize("module", ["workflows.referral", "workflows.escalation"])
def test_importing_a_workflow_loads_no_database_stack(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "", f"{module} loads {done.stdout.strip()}"
