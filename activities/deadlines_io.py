"""What deadline planning takes and gives back, and its declaration for workflows.

Apart from `activities/deadlines.py` (which loads the `holidays` data): a workflow calls the
activity without the holiday calendar in its module graph (it could not run in the sandbox
anyway); the worker registers the implementation under the same name.
"""

from __future__ import annotations

from pydantic import Field, model_validator
from temporalio import activity

from safeguarding.deadlines import DeadlinePlan, DeadlineRequest
from safeguarding.model import DomainModel
from safeguarding.settings import PartnershipSettings, PlanningRules

#: The activity's name: the implementation and the declaration below share it.
PLAN_DEADLINES = "plan_deadlines"


class PlanDeadlinesInput(DomainModel):
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


class PlanDeadlinesResult(DomainModel):
    plans: list[DeadlinePlan]


@activity.defn(name=PLAN_DEADLINES)
async def plan_deadlines(input: PlanDeadlinesInput) -> PlanDeadlinesResult:
    """The declaration a workflow calls. Never registered on a worker: the worker runs
    `activities.deadlines.plan_deadlines`."""
    raise NotImplementedError("declaration only: the worker registers activities.deadlines")
