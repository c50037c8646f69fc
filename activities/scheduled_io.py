"""What a scheduled report run takes and gives back, and its declaration for workflows (apart
from activities/scheduled.py, which loads the register's database stack)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field
from temporalio import activity

from safeguarding.ids import CaseRef
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
    #: Each partnership's own report among them (a run for all partnerships writes one report
    #: of every partnership's figures for the operators, and each partnership's own).
    by_partnership: dict[PartnershipCode, list[str]] = Field(default_factory=dict)
    #: Where each partnership's report was mailed (the addresses that took it).
    mailed: dict[PartnershipCode, list[str]] = Field(default_factory=dict)


@activity.defn(name=WRITE_SCHEDULED_REPORT)
async def write_scheduled_report(input: ScheduledReportInput) -> ScheduledReportResult:
    """The declaration a workflow calls; the worker runs activities.scheduled's."""
    raise NotImplementedError("declaration only: the worker registers activities.scheduled")


#: Mailing one partnership's report to its profile's `report_recipients`
#: (activities/report_mail.py).
MAIL_SCHEDULED_REPORT = "mail_scheduled_report"
ReportFile = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+/[A-Za-z0-9._-]+$", max_length=200)]


class ReportMailInput(DomainModel):
    report: Report
    partnership: PartnershipCode
    since: date
    as_of: date
    #: The partnership's report files, as in `ScheduledReportResult.files`.
    files: list[ReportFile] = Field(min_length=1, max_length=20)
    #: The run (its workflow id): one mail per run and partnership, however often retried.
    run: str = Field(pattern=r"^[A-Za-z0-9._:-]+$", max_length=200)


class ReportMailResult(DomainModel):
    partnership: PartnershipCode
    delivered_to: list[str] = Field(default_factory=list)
    #: smtp, outbox (no mail server configured) or dead_letter (nobody took it: kept in the
    #: outbox folder with why).
    transport: str
    already_sent: bool = False


@activity.defn(name=MAIL_SCHEDULED_REPORT)
async def mail_scheduled_report(input: ReportMailInput) -> ReportMailResult:
    """The declaration a workflow calls; the worker runs activities.report_mail's."""
    raise NotImplementedError("declaration only: the worker registers activities.report_mail")


#: The nightly reconciliation's activity (its implementation: activities/reconcile.py).
RECONCILE_REGISTER = "reconcile_register"


class ReconcileInput(DomainModel):
    partnership: PartnershipCode | None = Field(None, description="one partnership, or all")
    #: Only these cases (references), instead of every case Temporal lists.
    cases: list[Annotated[str, Field(pattern=CaseRef.PATTERN, max_length=40)]] = Field(
        default_factory=list, max_length=1000
    )


class ReconcileResult(DomainModel):
    """What the register lacked and now has (0 and 0: no drift), and the cases that did not
    answer (their references: never anything about a child)."""

    cases: int
    history_added: int
    decisions_added: int
    disposed_skipped: int
    failed: list[str] = Field(default_factory=list, max_length=200)


@activity.defn(name=RECONCILE_REGISTER)
async def reconcile_register(input: ReconcileInput) -> ReconcileResult:
    """The declaration a workflow calls; the worker runs activities.reconcile's."""
    raise NotImplementedError("declaration only: the worker registers activities.reconcile")
