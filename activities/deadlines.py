"""Computing deadlines on the working calendar (bank holidays and closure days).

The `holidays` package cannot run in the workflow sandbox, and its data changes between releases:
computing here records each due date and alert moment in history, so replay never recomputes them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from temporalio import activity

from safeguarding.calendar import WorkingCalendar
from safeguarding.deadlines import DeadlinePlan, DeadlineRequest
from safeguarding.planning import plan_deadline
from safeguarding.settings import PartnershipSettings


class PlanDeadlinesInput(BaseModel):
    settings: PartnershipSettings
    requests: list[DeadlineRequest] = Field(min_length=1)


class PlanDeadlinesResult(BaseModel):
    plans: list[DeadlinePlan]


@activity.defn
async def plan_deadlines(input: PlanDeadlinesInput) -> PlanDeadlinesResult:
    calendar = WorkingCalendar(input.settings.closure_days)
    return PlanDeadlinesResult(
        plans=[plan_deadline(r, input.settings, calendar) for r in input.requests]
    )
