"""What a scheduled report run takes and gives back, and its declaration for workflows (apart
from activities/scheduled.py, which loads the register's database stack)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field
from temporalio import activity

from safeguarding.model import DomainModel
from safeguarding.referral import PartnershipCode

#: The activity's name: the implementation and the declaration share it.
WRITE_SCHEDULED_REPORT = "write_scheduled_report"
Report = Literal["summary", "annual"]


class ScheduledReportInput(DomainModel):
    report: Report = Field(description="summary (bi-monthly) or annual")
    partnership: PartnershipCode | None = Field(None, description="one partnership, or all")


class ScheduledReportResult(DomainModel):
    report: Report
    #: The period reported: from `since` to `as_of`.
    since: date
    as_of: date
    #: The files written, as paths inside the data folder's reports folder.
    files: list[str]


@activity.defn(name=WRITE_SCHEDULED_REPORT)
async def write_scheduled_report(input: ScheduledReportInput) -> ScheduledReportResult:
    """The declaration a workflow calls; the worker runs activities.scheduled's."""
    raise NotImplementedError("declaration only: the worker registers activities.scheduled")
