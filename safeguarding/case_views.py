"""What a case shows: its status (`CaseStatus`), the deadlines and tasks in it, its actions, its
history entries and learning outputs.

Apart from the case's other records (safeguarding/case_records.py, which re-exports these) and
from the decisions: reading a case's status (`sro status`, gateway/reading.py) builds these few
models, not the whole domain's.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from safeguarding.model import DomainModel
from safeguarding.people import Person
from safeguarding.vocabulary import (
    ActionStatus,
    Agency,
    DeadlineKind,
    DeadlineState,
    DecisionKind,
    LearningKind,
    LearningSource,
    LearningStatus,
    PlanScope,
    Rag,
    Route,
    Stage,
)

#: An action keeps this many of its latest pieces of evidence; each piece is in full in the
#: history entry of the decision that gave it (and so in the register), earlier ones only there.
RECENT_EVIDENCE = 3


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


#: What an interface shows in place of a field it may not show someone (safeguarding/personal.py).
HIDDEN = "hidden: personal data"
#: History entries whose text may quote people: decisions (every kind carries a free-text note,
#: so every decision entry may: safeguarding/personal.py classifies them, and its tests hold
#: this table to that), refusals (they quote what was sent) and notices (a late referral's
#: reason, an escalation's news). The other kinds are the system's words.
PERSONAL_HISTORY_KINDS = frozenset({HistoryKind.DECISION, HistoryKind.REFUSED, HistoryKind.NOTICE})


def may_quote_people(entry: HistoryEntry) -> bool:
    """May this history entry's text (or its `why`) quote people's words?"""
    return entry.kind in PERSONAL_HISTORY_KINDS


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
