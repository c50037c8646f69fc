"""The defaults other modules name, and `SettingsError`: plain Python, cheap to import (pydantic
and pydantic-settings load only when `config.settings()` is first called)."""

from __future__ import annotations

#: The task queue the worker polls and every start names.
TASK_QUEUE = "safeguarding-reviews"
#: Workflows the worker keeps in memory between tasks. A case takes a few decisions a week, so
#: most of a large caseload is idle: a smaller cache than the SDK's 1,000 halves the worker's
#: memory with 2,500+ open cases and shortens garbage collections, and a case not cached is
#: replayed from its history in tens of milliseconds (BENCHMARKS.md).
MAX_CACHED_WORKFLOWS = 500
#: The codec server answers the local Web UI's browser origins by default.
DEFAULT_ORIGINS = "http://127.0.0.1:8233,http://localhost:8233"
#: The Temporal Web UI the console links to.
DEFAULT_TEMPORAL_UI = "http://127.0.0.1:8233"
#: What the console asks the identity provider for at sign-in (single sign-on).
DEFAULT_OIDC_SCOPES = "openid profile email"


class SettingsError(ValueError):
    """A variable whose value cannot be used (the message names it)."""
