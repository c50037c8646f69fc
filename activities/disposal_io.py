"""What the disposal activities take and give back, and their declarations for the disposal
workflow (issue 14, point 3). Apart from `activities/disposal.py` (which loads the register's
database stack), as `register_io` is, so the workflow's module graph stays free of it."""

from __future__ import annotations

from datetime import date

from pydantic import Field
from temporalio import activity

from safeguarding.model import DomainModel

FIND_DUE_DISPOSALS = "find_due_disposals"
DISPOSE_CASE = "dispose_case"
#: Most cases one run disposes of; a run that finds more says so and the next run goes on.
MAX_CASES_PER_RUN = 2000


class DisposalRunInput(DomainModel):
    #: The run's id (the workflow id's suffix): recorded with every disposal it makes.
    run_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,80}$")
    #: Who asked for the run (a professional's account): recorded with every disposal.
    by: str = Field(min_length=1, max_length=80)
    #: The day the schedule is applied for (the caller's UK date: the workflow reads no clock).
    today: date
    partnership: str | None = None
    #: Only these cases (empty: every closed case).
    case_refs: list[str] = Field(default_factory=list, max_length=MAX_CASES_PER_RUN)


class DueCase(DomainModel):
    case_ref: str
    #: Rule -> the rule in words (recorded with the disposal).
    rules: dict[str, str]
    #: Under a legal hold: the disposal will be refused (and recorded as refused).
    held: bool


class DueCases(DomainModel):
    cases: list[DueCase]
    #: More cases were due than one run takes.
    more: bool = False


class DisposeCaseInput(DomainModel):
    run_id: str
    case_ref: str
    rules: dict[str, str]
    by: str


class DisposeCaseResult(DomainModel):
    case_ref: str
    #: disposed or refused.
    outcome: str
    #: Per rule: what was removed, or why it was refused.
    details: dict[str, str]


@activity.defn(name=FIND_DUE_DISPOSALS)
async def find_due_disposals(input: DisposalRunInput) -> DueCases:
    """Declaration; the worker runs `activities.disposal.find_due_disposals`."""
    raise NotImplementedError("declaration only: the worker registers activities.disposal")


@activity.defn(name=DISPOSE_CASE)
async def dispose_case(input: DisposeCaseInput) -> DisposeCaseResult:
    """Declaration; the worker runs `activities.disposal.dispose_case`."""
    raise NotImplementedError("declaration only: the worker registers activities.disposal")
