"""What a case records and answers: its history entries, the records of each route, the results
and views sent back to people, and the effects a decision asks of the workflow.

Plain pydantic models shared by `safeguarding.case` and the decision handlers; their field names
and JSON shape are carried across continue-as-new and stored in histories: never rename them.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

# What a case shows lives in case_views (light, for `sro status`); named here too, as before.
from safeguarding.case_views import (
    RECENT_EVIDENCE,
    Action,
    CaseStatus,
    Channel,
    DeadlineView,
    HistoryEntry,
    HistoryKind,
    LearningOutputRecord,
    Task,
)
from safeguarding.deadlines import DeadlineRequest
from safeguarding.decisions import Person
from safeguarding.model import DomainModel
from safeguarding.notices import Notice
from safeguarding.vocabulary import (
    Agency,
    CareLeaverNextStep,
    CaseOfConcernApproach,
    DecisionKind,
    InvolvementMilestone,
    InvolvementOutcome,
    ReviewOutcome,
    Stage,
)

__all__ = [  # the views, re-exported
    "RECENT_EVIDENCE",
    "Action",
    "CaseStatus",
    "Channel",
    "DeadlineView",
    "HistoryEntry",
    "HistoryKind",
    "LearningOutputRecord",
    "Task",
]

#: The recent timeline: the status shows, and a case carried to its next run keeps (besides the
#: entries the register has not acknowledged), at most this many of the latest history entries,
#: within this many bytes of JSON. Earlier entries are in the register.
RECENT_HISTORY_ENTRIES = 200
RECENT_HISTORY_BYTES = 64 * 1024
#: A case carried to its next run keeps the full results (deadline views) of this many of its
#: latest decisions; of earlier ones only the id and kind (`applied_earlier`).
RECENT_RESULTS = 10


class DecisionRefused(Exception):
    """A decision the case will not take. `reason` is a stable code for callers and tests:
    invalid, wrong_stage, guard_failed, not_authorised, conflict."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Effects(DomainModel):
    """What a decision asks the workflow to do outside the case: plan deadlines, send notices."""

    deadline_requests: list[DeadlineRequest] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)


class InformationRecord(DomainModel):
    agency: Agency
    requested_on: date
    returned_on: date | None = None
    returned_by: Person | None = None


class RapidReviewRecord(DomainModel):
    decided_on: date
    recommendation: ReviewOutcome
    attendees: list[Person]
    possible_national_importance: bool
    immediate_safety_actions: str | None = None
    learning: str | None = None
    #: Issue #13 item 6: the day the Rapid Review was sent to the National Panel.
    sent_to_panel_on: date | None = None


class PanelResponseRecord(DomainModel):
    received_on: date
    panel_agrees: bool
    outcome: ReviewOutcome
    national_review: bool


class InvolvementRecord(DomainModel):
    """Issue #13 item 9: one involvement milestone of a Local CSPR."""

    on: date
    outcome: InvolvementOutcome


class CsprRecord(DomainModel):
    decided_on: date
    lead_reviewer: str | None = None
    planned_publication_on: date | None = None
    milestones: dict[DecisionKind, date] = Field(default_factory=dict)
    published_on: date | None = None
    published_at_location: str | None = None
    not_published_reasons: str | None = None
    # Issue #13 item 1: the day the 6 months count from (the decision that initiated the
    # review) and which decision that was (`CLOCK_FROM_*` in safeguarding/handlers/
    # rapid_review.py); None for cases from before.
    clock_from: date | None = None
    initiated_by: str | None = None
    # Issue #13 item 9: each involvement milestone, as last recorded.
    involvement: dict[InvolvementMilestone, InvolvementRecord] = Field(default_factory=dict)
    # Issue #13 item 10: before and at publication, and the partners' response.
    communications_notified_on: date | None = None
    communications_agencies: list[Agency] = Field(default_factory=list)
    anonymisation_checked_on: date | None = None
    redactions_made: bool | None = None
    available_until: date | None = None
    partners_response_on: date | None = None
    partners_response: str | None = None


# Issue #13 items 4 and 6.


class PanelInformationRecord(DomainModel):
    """Further information the National Panel asked for about the Rapid Review."""

    request_id: str
    asked_for: str
    requested_on: date
    sent_on: date | None = None


class ContributionRecord(DomainModel):
    """Something a national review asks of the partnership."""

    contribution_id: str
    description: str
    lead_agency: Agency
    requested_on: date
    due_on: date
    made_on: date | None = None


class NationalReviewRecord(DomainModel):
    """A national review the National Panel commissioned, and the partnership's part in it."""

    commissioned_on: date
    contributions: dict[str, ContributionRecord] = Field(default_factory=dict)

    @property
    def outstanding(self) -> list[ContributionRecord]:
        return [c for c in self.contributions.values() if c.made_on is None]


class CareLeaverStepRecord(DomainModel):
    """What the partnership decided after a care leaver's death was notified."""

    next_step: CareLeaverNextStep
    decided_on: date
    reason: str


class CaseOfConcernRecord(DomainModel):
    approach: CaseOfConcernApproach | None = None
    agencies: list[Agency] = Field(default_factory=list)
    outcome_summary: str | None = None
    shared_with: list[str] = Field(default_factory=list)


class DecisionResult(DomainModel):
    """What the sender of a decision gets back."""

    decision_id: str
    kind: DecisionKind
    duplicate: bool = False
    stage: Stage
    message: str
    deadlines: list[DeadlineView] = Field(default_factory=list)
