"""Deadlines: how each is counted, when its reminder and escalations fall, and its state.

Pure models and state: how a deadline is computed from the working calendar is in `planning`,
which only activities use.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from safeguarding.model import DomainModel
from safeguarding.settings import MeetingCadence

# The kinds and states of deadlines are vocabulary (a case's status names them).
from safeguarding.vocabulary import DeadlineKind as DeadlineKind
from safeguarding.vocabulary import DeadlineState as DeadlineState


class WorkingDaysAfter(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: Literal["working_days_after"] = "working_days_after"
    start: date
    days: int

    def describe(self) -> str:
        return f"{self.days} working days after {self.start.isoformat()}"


class MonthsAfter(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: Literal["months_after"] = "months_after"
    start: date
    months: int

    def describe(self) -> str:
        return f"{self.months} calendar months after {self.start.isoformat()}"


class WorkingDaysBefore(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: Literal["working_days_before"] = "working_days_before"
    target: date
    days: int

    def describe(self) -> str:
        return f"{self.days} working days before {self.target.isoformat()}"


class NextMeeting(DomainModel):
    """Due at the group's next meeting after `start` (or within a virtual panel's days)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: Literal["next_meeting"] = "next_meeting"
    start: date
    meetings: MeetingCadence

    def describe(self) -> str:
        return f"next meeting of {self.meetings.describe()} after {self.start.isoformat()}"


class OnDate(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: Literal["on_date"] = "on_date"
    due: date

    def describe(self) -> str:
        return f"set for {self.due.isoformat()}"


DeadlineRule = Annotated[
    WorkingDaysAfter | MonthsAfter | WorkingDaysBefore | NextMeeting | OnDate,
    Field(discriminator="rule"),
]


class DeadlineRequest(DomainModel):
    """A deadline the case wants opened (or moved): what it is, who owes it, how it is counted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline_id: str
    kind: DeadlineKind
    title: str
    owner: str
    statutory: bool = False
    rule: DeadlineRule


class DeadlinePlan(DomainModel):
    """A computed due date and the moments its reminder and escalations fire (UTC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline_id: str
    due_on: date
    remind_at: datetime
    escalate_at: datetime
    escalate_again_at: datetime


class Extension(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    previous_due_on: date
    new_due_on: date
    reason: str
    agreed_with: str | None
    decided_by: str
    decision_id: str


class Deadline(DomainModel):
    model_config = ConfigDict(extra="forbid")

    deadline_id: str
    kind: DeadlineKind
    title: str
    owner: str
    statutory: bool
    basis: str
    due_on: date
    remind_at: datetime
    escalate_at: datetime
    escalate_again_at: datetime
    opened_at: datetime
    met_on: date | None = None
    met_at: datetime | None = None
    withdrawn_at: datetime | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    escalated_again_at: datetime | None = None
    extensions: list[Extension] = Field(default_factory=list)
    #: How many times the due date has moved (an extension, a publication planned again...):
    #: a calendar that subscribes updates the event only when this grows (its SEQUENCE).
    revisions: int = 0

    @property
    def open(self) -> bool:
        return self.met_at is None and self.withdrawn_at is None

    def state(self, now: datetime) -> DeadlineState:
        if self.withdrawn_at is not None:
            return DeadlineState.WITHDRAWN
        if self.met_on is not None:
            return DeadlineState.MET if self.met_on <= self.due_on else DeadlineState.MISSED
        if now >= self.escalate_at:
            return DeadlineState.OVERDUE
        if now >= self.remind_at:
            return DeadlineState.DUE_SOON
        return DeadlineState.ON_TRACK

    def apply_plan(self, plan: DeadlinePlan) -> None:
        """Move to a new plan; alerts that now lie in the future will fire again."""
        if plan.due_on != self.due_on:
            self.revisions += 1
        self.due_on = plan.due_on
        self.remind_at = plan.remind_at
        self.escalate_at = plan.escalate_at
        self.escalate_again_at = plan.escalate_again_at
        if self.reminded_at and self.reminded_at < self.remind_at:
            self.reminded_at = None
        if self.escalated_at and self.escalated_at < self.escalate_at:
            self.escalated_at = None
        if self.escalated_again_at and self.escalated_again_at < self.escalate_again_at:
            self.escalated_again_at = None


class AlertKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    SECOND_ESCALATION = "second_escalation"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


def due_alerts(deadline: Deadline, now: datetime) -> list[AlertKind]:
    """Alerts of an open deadline whose moment has come and that have not fired yet."""
    if not deadline.open:
        return []
    alerts = []
    if deadline.reminded_at is None and now >= deadline.remind_at:
        alerts.append(AlertKind.REMINDER)
    if deadline.escalated_at is None and now >= deadline.escalate_at:
        alerts.append(AlertKind.ESCALATION)
    if deadline.escalated_again_at is None and now >= deadline.escalate_again_at:
        alerts.append(AlertKind.SECOND_ESCALATION)
    # A reminder that would arrive after the breach says nothing new.
    if AlertKind.ESCALATION in alerts and AlertKind.REMINDER in alerts:
        alerts.remove(AlertKind.REMINDER)
    return alerts


def pending_alerts(deadline: Deadline) -> list[tuple[AlertKind, datetime]]:
    """An open deadline's alerts not fired yet, with their moments."""
    if not deadline.open:
        return []
    return [
        (alert, moment)
        for alert, moment, fired in (
            (AlertKind.REMINDER, deadline.remind_at, deadline.reminded_at),
            (AlertKind.ESCALATION, deadline.escalate_at, deadline.escalated_at),
            (AlertKind.SECOND_ESCALATION, deadline.escalate_again_at, deadline.escalated_again_at),
        )
        if fired is None
    ]


def next_alert_at(deadline: Deadline) -> datetime | None:
    return min((moment for _, moment in pending_alerts(deadline)), default=None)
