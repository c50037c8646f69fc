"""Computing deadlines on the working calendar (bank holidays and closure days).

The `holidays` package cannot run in the workflow sandbox, and its data changes between releases:
computing here records each due date and alert moment in history, so replay never recomputes them.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deadlines_io import PLAN_DEADLINES, PlanDeadlinesInput, PlanDeadlinesResult
from safeguarding.calendar import WorkingCalendar
from safeguarding.planning import plan_deadline

__all__ = ["PlanDeadlinesInput", "PlanDeadlinesResult", "plan_deadlines"]


@lru_cache(maxsize=64)
def _calendar(closure_days: tuple[date, ...]) -> WorkingCalendar:
    """A partnership's calendar, made once per set of closure days: building the bank holidays
    costs more than planning with them, and they change only with the package (a restart).
    Only this activity uses it, on the worker's event loop (one thread)."""
    return WorkingCalendar(closure_days)


@activity.defn(name=PLAN_DEADLINES)
async def plan_deadlines(input: PlanDeadlinesInput) -> PlanDeadlinesResult:
    rules = input.planning_rules()
    calendar = _calendar(tuple(rules.closure_days))
    try:
        plans = [plan_deadline(r, rules, calendar) for r in input.requests]
    except (ValueError, OverflowError, ArithmeticError) as err:
        # Arithmetic on the calendar: the same input fails the same way on every retry.
        raise ApplicationError(
            f"{type(err).__name__}: {err}", type="PlanningFailed", non_retryable=True
        ) from err
    return PlanDeadlinesResult(plans=plans)
