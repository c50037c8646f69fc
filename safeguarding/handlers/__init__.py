"""Decision handlers, one per kind of decision, grouped by route; `HANDLERS` finds them by kind.

A new kind of decision: its handler in the module of its route (its check and its record side by
side, and its entry in that module's `HANDLERS`) and its transitions in `safeguarding/machine.py`.
tests/safeguarding/test_handlers.py proves every kind has exactly one handler.
"""

from __future__ import annotations

from safeguarding.handlers import (
    action_plan,
    care_leaver,
    case_of_concern,
    common,
    cspr,
    involvement,
    learning,
    notification,
    other_review,
    panel,
    publication,
    rapid_review,
    triage,
)
from safeguarding.handlers.base import DecisionHandler, Handlers

ROUTES = (
    triage,
    notification,
    rapid_review,
    cspr,
    case_of_concern,
    other_review,
    action_plan,
    common,
    # Issue #13 items 4, 6, 9, 10.
    care_leaver,
    panel,
    involvement,
    publication,
    learning,
)


def _registry() -> Handlers:
    found: Handlers = {}
    for route in ROUTES:
        for kind, handler in route.HANDLERS.items():
            if kind in found:
                raise RuntimeError(f"two handlers for {kind.value} ({route.__name__})")
            found[kind] = handler
    return found


HANDLERS: Handlers = _registry()

__all__ = ["HANDLERS", "ROUTES", "DecisionHandler", "Handlers"]
