"""Issue 13, item 12: a professional-disagreement escalation as rows for the register, so the
review group's oversight (the bi-monthly summary, the console) reads escalations as it reads
cases. A pure projection of `Escalation`: no database, no Temporal.

Personal data: the concern and the resolution's words stay in the workflow's (encrypted)
payloads; the register gets the stages, their times, who raised and who resolved it (named, as
decisions are), and the case it concerns.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ConfigDict

from safeguarding.escalation import Escalation
from safeguarding.model import DomainModel


class _Row(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EscalationRow(_Row):
    escalation_ref: str
    partnership: str
    partnership_name: str
    linked_case_ref: str | None
    raised_with: str
    raised_by_name: str
    raised_by_role: str
    raised_by_agency: str
    raised_on: date | None
    opened_at: datetime
    stage: int
    stage_name: str
    formal: bool
    #: The stage from which the review group oversees an escalation (the profile's), and
    #: whether this one has reached it.
    oversight_from_stage: int
    overseen: bool
    partnership_notified_at: datetime | None
    resolved_at: datetime | None
    resolved_by_name: str | None
    resolved_by_role: str | None
    resolved_by_agency: str | None
    #: How many history entries the escalation had: the snapshot's version (a late retry of an
    #: older snapshot changes nothing).
    history_count: int


class EscalationStageRow(_Row):
    escalation_ref: str
    stage: int
    name: str
    who: str
    formal: bool
    entered_at: datetime
    due_on: date | None
    left_at: datetime | None
    #: resolved, timed_out, escalated; None while it is the current stage.
    left_because: str | None


class EscalationSnapshot(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    escalation: EscalationRow
    stages: list[EscalationStageRow]


def escalation_snapshot(escalation: Escalation) -> EscalationSnapshot:
    disagreement = escalation.disagreement
    policy = escalation.settings.escalation_policy
    current = escalation.current
    threshold = policy.oversight_threshold
    resolver = escalation.resolved_by
    row = EscalationRow(
        escalation_ref=escalation.escalation_ref,
        partnership=escalation.settings.code,
        partnership_name=escalation.settings.name,
        linked_case_ref=disagreement.linked_case_ref,
        raised_with=disagreement.raised_with.value,
        raised_by_name=disagreement.raised_by.name,
        raised_by_role=disagreement.raised_by.role.value,
        raised_by_agency=disagreement.raised_by.agency.value,
        raised_on=disagreement.raised_on,
        opened_at=escalation.opened_at,
        stage=current.stage,
        stage_name=current.name,
        formal=current.formal,
        oversight_from_stage=threshold,
        overseen=max(s.stage for s in escalation.stages) >= threshold,
        partnership_notified_at=escalation.partnership_notified_at,
        resolved_at=escalation.resolved_at,
        resolved_by_name=resolver.name if resolver else None,
        resolved_by_role=resolver.role.value if resolver else None,
        resolved_by_agency=resolver.agency.value if resolver else None,
        history_count=len(escalation.history),
    )
    stages = [
        EscalationStageRow(
            escalation_ref=escalation.escalation_ref,
            stage=s.stage,
            name=s.name,
            who=s.who,
            formal=s.formal,
            entered_at=s.entered_at,
            due_on=s.due_on,
            left_at=s.left_at,
            left_because=s.left_because,
        )
        for s in escalation.stages
    ]
    return EscalationSnapshot(escalation=row, stages=stages)


__all__ = ["EscalationRow", "EscalationSnapshot", "EscalationStageRow", "escalation_snapshot"]
