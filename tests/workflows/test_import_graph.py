"""The workflows' module graph loads no database stack (ARCHITECTURE.md, layer 2): a worker's
workflow sandbox and anything importing a workflow stay free of SQLAlchemy, SQLModel and Alembic.
Checked in a fresh interpreter (one for both workflows: it costs a second of CPU), since the test
session itself has loaded them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "register", "matplotlib")
PROBE = f"""
import sys
loaded = {{}}
for module in ("workflows.referral", "workflows.escalation"):
    __import__(module)
    loaded[module] = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
print(loaded)
"""


def test_importing_a_workflow_loads_no_database_stack() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    expected: dict[str, list[str]] = {"workflows.referral": [], "workflows.escalation": []}
    assert done.stdout.strip() == repr(expected)
