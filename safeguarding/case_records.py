"""What a case records and answers: its history entries, the records of each route, the results
and views sent back to people, and the effects a decision asks of the workflow.

Plain pydantic models shared by `safeguarding.case` and the decision handlers; their field names
and JSON shape are carried across continue-as-new and stored in histories: never rename them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from safeguarding.deadlines import DeadlineKind, DeadlineRequest, DeadlineState
from safeguarding.decisions import Person
from safeguarding.model import DomainModel
from safeguarding.notices import Notice
from safeguarding.vocabulary import (
    ActionStatus,
    Agency,
    CareLeaverNextStep,
    CaseOfConcernApproach,
    DecisionKind,
    InvolvementMilestone,
    InvolvementOutcome,
    LearningKind,
    LearningSource,
    LearningStatus,
    PlanScope,
    Rag,
    ReviewOutcome,
    Route,
    Stage,
)

#: The recent timeline: the status shows, and a case carried to its next run keeps (besides the
#: entries the register has not acknowledged), at most this many of the latest history entries,
#: within this many bytes of JSON. Earlier entries are in the register.
RECENT_HISTORY_ENTRIES = 200
RECENT_HISTORY_BYTES = 64 * 1024
#: A case carried to its next run keeps the full results (deadline views) of this many of its
#: latest decisions; of earlier ones only the id and kind (`applied_earlier`).
RECENT_RESULTS = 10
#: An action keeps this many of its latest pieces of evidence; each piece is in full in the
#: history entry of the decision that gave it (and so in the register), earlier ones only there.
RECENT_EVIDENCE = 3


class DecisionRefused(Exception):
    """A decision the case will not take. `reason` is a stable code for callers and tests:
    invalid, wrong_stage, guard_failed, not_authorised, conflict."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class HistoryKind(StrEnum):
    DECISION = "decision"
    REFUSED = "refused"
    STAGE_CHANGED = "stage_changed"
    DEADLINE_OPENED = "deadline_opened"
    DEADLINE_MET = "deadline_met"
    DEADLINE_EXTENDED = "deadline_extended"
    DEADLINE_WITHDRAWN = "deadline_withdrawn"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    SECOND_ESCALATION = "second_escalation"
    NOTICE = "notice"
    CONTINUED = "continued"


Channel = Literal["update", "signal", "system"]


class HistoryEntry(DomainModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime
    kind: HistoryKind
    stage: Stage
    text: str
    decision_id: str | None = None
    decision_kind: str | None = None
    by: Person | None = None
    via: Channel | None = None
    deadline_id: str | None = None
    #: For a decision: the day it happened (as given, or the UK day it was made) and why (its
    #: note, or the reasons or advice it states), for the register's accountability record.
    occurred_on: date | None = None
    why: str | None = None


class Effects(DomainModel):
    """What a decision asks the workflow to do outside the case: plan deadlines, send notices."""

    deadline_requests: list[DeadlineRequest] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)


class InformationRecord(DomainModel):
    agency: Agency
    requested_on: date
    returned_on: date | None = None
    returned_by: Person | None = None


class Action(DomainModel):
    action_id: str
    recommendation: str
    description: str
    lead_agency: Agency
    due_on: date
    outcome_measure: str
    scope: PlanScope
    monitored_by: str
    status: ActionStatus = ActionStatus.NOT_STARTED
    rag: Rag | None = None
    #: The latest evidence (at most `RECENT_EVIDENCE` pieces, oldest first, plus any given
    #: before evidence was kept in full in the case history: see `evidence_logged_from`).
    evidence: list[str] = Field(default_factory=list)
    added_by: Person
    completed_on: date | None = None
    #: Pieces of evidence given earlier and no longer in `evidence`: each is in full in the history
    #: entry of its `action_updated` decision (in the register).
    earlier_evidence: int = 0
    #: `evidence[i]` for i from this index on is also in full in its decision's history entry, so
    #: may be dropped here. None: an action from before the history kept evidence in full (its
    #: evidence so far is kept whole, the register's copy of it may be the only one).
    evidence_logged_from: int | None = None

    def add_evidence(self, evidence: str) -> None:
        """Record a piece of evidence (already in full in the decision's history entry)."""
        if self.evidence_logged_from is None:
            self.evidence_logged_from = len(self.evidence)
        self.evidence.append(evidence)
        self._keep_recent_evidence(RECENT_EVIDENCE)

    def _keep_recent_evidence(self, keep: int) -> None:
        """Drop logged evidence but the latest `keep` pieces (never evidence not logged)."""
        logged_from = self.evidence_logged_from
        if logged_from is None:
            return
        drop = len(self.evidence) - logged_from - keep
        if drop > 0:
            del self.evidence[logged_from : logged_from + drop]
            self.earlier_evidence += drop


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


class DeadlineView(DomainModel):
    deadline_id: str
    kind: DeadlineKind
    title: str
    owner: str
    statutory: bool
    basis: str
    due_on: date
    state: DeadlineState
    met_on: date | None = None
    extended: int = 0
    remind_at: datetime
    escalate_at: datetime


class Task(DomainModel):
    task: str
    owed_by: str
    due_on: date | None = None
    state: DeadlineState | None = None


class CaseStatus(DomainModel):
    case_ref: str
    partnership: str
    partnership_name: str
    stage: Stage
    stage_label: str
    route: Route
    opened_at: datetime
    closed_at: datetime | None
    decisions_allowed: list[DecisionKind]
    deadlines: list[DeadlineView]
    next_deadline: DeadlineView | None
    overdue: bool
    tasks: list[Task]
    actions: list[Action]
    notification_reference: str | None
    possible_national_importance: bool
    lead_reviewer: str | None
    planned_publication_on: date | None
    runs: int
    #: The latest entries of the case history (see `RECENT_HISTORY_ENTRIES`).
    history: list[HistoryEntry]
    #: The position in the whole case history of `history[0]`: the entries before it (this many)
    #: are in the register (its history table), not shown here.
    history_from: int = 0
    #: Issue 13, item 11: the case's learning outputs.
    learning: list[LearningOutputRecord] = Field(default_factory=list)


# ------------------------------------------------------------ issue 13, item 11: the learning loop


class LearningOutputRecord(DomainModel):
    """A learning output from the case's review: owned by the learning group, due by a date,
    tracked to dissemination and then to its re-audit (impact on practice)."""

    learning_id: str
    output: LearningKind
    title: str
    source: LearningSource
    owner: str
    due_on: date
    planned_by: Person
    status: LearningStatus = LearningStatus.PLANNED
    disseminated_on: date | None = None
    reach: str | None = None
    reaudit_due_on: date | None = None
    impact: str | None = None
    impact_on: date | None = None

    @property
    def disseminated(self) -> bool:
        return self.status is not LearningStatus.PLANNED
