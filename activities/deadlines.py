"""Computing deadlines on the working calendar (bank holidays and closure days).

The `holidays` package cannot run in the workflow sandbox, and its data changes between releases:
computing here records each due date and alert moment in history, so replay never recomputes them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator
from temporalio import activity
from temporalio.exceptions import ApplicationError

from safeguarding.calendar import WorkingCalendar
from safeguarding.deadlines import DeadlinePlan, DeadlineRequest
from safeguarding.planning import plan_deadline
from safeguarding.settings import PartnershipSettings, PlanningRules


class PlanDeadlinesInput(BaseModel):
    requests: list[DeadlineRequest] = Field(min_length=1)
    #: The partnership's planning rules (what workflows send).
    rules: PlanningRules | None = None
    #: The whole settings: what workflows sent before `rules`; still read, so a call scheduled
    #: by an older worker and run by a newer one plans the same.
    settings: PartnershipSettings | None = None

    @model_validator(mode="after")
    def _rules_given(self) -> PlanDeadlinesInput:
        if self.rules is None and self.settings is None:
            raise ValueError("planning needs the partnership's rules")
        return self

    def planning_rules(self) -> PlanningRules:
        if self.rules is not None:
            return self.rules
        assert self.settings is not None
        return self.settings.planning_rules()


class PlanDeadlinesResult(BaseModel):
    plans: list[DeadlinePlan]


@activity.defn
async def plan_deadlines(input: PlanDeadlinesInput) -> PlanDeadlinesResult:
    rules = input.planning_rules()
    calendar = WorkingCalendar(rules.closure_days)
    try:
        plans = [plan_deadline(r, rules, calendar) for r in input.requests]
    except (ValueError, OverflowError, ArithmeticError) as err:
        # Arithmetic on the calendar: the same input fails the same way on every retry.
        raise ApplicationError(
            f"{type(err).__name__}: {err}", type="PlanningFailed", non_retryable=True
        ) from err
    return PlanDeadlinesResult(plans=plans)
