"""A referral's case: its state, the checks on a decision, and what a decision changes.

`Case` is plain data plus rules. The workflow keeps one, asks `check()` in update validators, calls
`apply()` in handlers, runs the `Effects` it returns (deadline planning, notifications) through
activities, and fires alerts when their moments come. No Temporal imports: unit-testable directly.

A case can live for years (monthly action-plan updates), and the workflow carries it from one run
to the next (continue-as-new) in a payload Temporal caps at 2 MiB. So what the case keeps does not
grow with the number of decisions beyond their ids: `carry_over()` drops the history entries the
register holds (but a recent window), keeps the full results of only the latest decisions (the
ids of all of them, for idempotency) and each action keeps only its latest evidence (every piece
of evidence is in full in its decision's history entry, hence in the register).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from safeguarding import horizon, machine
from safeguarding.clock import uk_today
from safeguarding.deadlines import (
    AlertKind,
    Deadline,
    DeadlineKind,
    DeadlinePlan,
    DeadlineRequest,
    DeadlineState,
    Extension,
    MonthsAfter,
    NextMeeting,
    OnDate,
    WorkingDaysAfter,
    WorkingDaysBefore,
    due_alerts,
    next_alert_at,
)
from safeguarding.decisions import (
    ActionAdded,
    ActionUpdated,
    ApproachChosen,
    CaseClosed,
    CsprMilestone,
    DeadlineExtended,
    Decision,
    InformationRequested,
    InformationReturned,
    NotificationSubmitted,
    NotPublished,
    OtherReviewCompleted,
    OutcomeShared,
    PanelResponse,
    Person,
    PublicationPlanned,
    Published,
    RapidReviewDecision,
    TriageDecision,
)
from safeguarding.referral import Referral, days_late
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import (
    ActionStatus,
    Agency,
    CaseOfConcernApproach,
    DecisionKind,
    OtherReviewType,
    PlanScope,
    Rag,
    ReviewOutcome,
    Role,
    Route,
    Stage,
    TriageOutcome,
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


class HistoryEntry(BaseModel):
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


class Notice(BaseModel):
    """A message to people, sent by the notification activity. Never carries child data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notice_id: str
    case_ref: str
    partnership: str
    kind: Literal["reminder", "escalation", "second_escalation", "information_request"]
    audience: str
    subject: str
    body: str
    deadline_id: str | None = None
    due_on: date | None = None
    #: Contact keys of who gets it (safeguarding/contacts.py); empty: found from `audience`.
    recipients: tuple[str, ...] = ()


class Effects(BaseModel):
    """What a decision asks the workflow to do outside the case: plan deadlines, send notices."""

    deadline_requests: list[DeadlineRequest] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)


class InformationRecord(BaseModel):
    agency: Agency
    requested_on: date
    returned_on: date | None = None
    returned_by: Person | None = None


class Action(BaseModel):
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


class RapidReviewRecord(BaseModel):
    decided_on: date
    recommendation: ReviewOutcome
    attendees: list[Person]
    possible_national_importance: bool
    immediate_safety_actions: str | None = None
    learning: str | None = None


class PanelResponseRecord(BaseModel):
    received_on: date
    panel_agrees: bool
    outcome: ReviewOutcome
    national_review: bool


class CsprRecord(BaseModel):
    decided_on: date
    lead_reviewer: str | None = None
    planned_publication_on: date | None = None
    milestones: dict[DecisionKind, date] = Field(default_factory=dict)
    published_on: date | None = None
    published_at_location: str | None = None
    not_published_reasons: str | None = None


class CaseOfConcernRecord(BaseModel):
    approach: CaseOfConcernApproach | None = None
    agencies: list[Agency] = Field(default_factory=list)
    outcome_summary: str | None = None
    shared_with: list[str] = Field(default_factory=list)


class DecisionResult(BaseModel):
    """What the sender of a decision gets back."""

    decision_id: str
    kind: DecisionKind
    duplicate: bool = False
    stage: Stage
    message: str
    deadlines: list[DeadlineView] = Field(default_factory=list)


class DeadlineView(BaseModel):
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


class Task(BaseModel):
    task: str
    owed_by: str
    due_on: date | None = None
    state: DeadlineState | None = None


class CaseStatus(BaseModel):
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


# Work that a stage waits on, for stages whose work has no deadline of its own.
STAGE_TASKS: dict[Stage, tuple[str, str]] = {
    Stage.NATIONAL_PANEL_RESPONSE: ("Record the National Panel's response", "coordinator"),
    Stage.CSPR_LEAD_REVIEWER: ("Appoint the lead reviewer", "business_manager"),
    Stage.CSPR_TERMS_OF_REFERENCE: ("Agree the terms of reference", "review_group"),
    Stage.CSPR_AGENCY_INFORMATION: ("Gather agency information", "lead_reviewer"),
    Stage.CSPR_INVOLVEMENT: ("Involve practitioners and family", "lead_reviewer"),
    Stage.CSPR_DRAFT_REPORT: ("Deliver the draft report", "lead_reviewer"),
    Stage.CSPR_QUALITY_ASSURANCE: ("Quality-assure the draft report", "review_group"),
    Stage.CSPR_FINAL_REPORT: (
        "Send the final report to the National Panel and the Secretary of State",
        "business_manager",
    ),
    Stage.CSPR_PUBLICATION: ("Publish, or record why not", "business_manager"),
    Stage.CASE_OF_CONCERN: ("Choose the approach and the agencies involved", "review_group"),
    Stage.CASE_OF_CONCERN_REVIEW: (
        "Share the outcome with the review group and the learning group",
        "business_manager",
    ),
    Stage.OTHER_REVIEW: ("Complete the review and record its findings", "review_group"),
}


class Case(BaseModel):
    """Everything the workflow knows about one referral; carried across continue-as-new."""

    model_config = ConfigDict(extra="forbid")

    case_ref: str
    referral: Referral
    settings: PartnershipSettings
    stage: Stage = machine.INITIAL_STAGE
    route: Route = Route.UNDECIDED
    opened_at: datetime
    closed_at: datetime | None = None
    aware_on: date
    late_referral: bool = False
    other_review_type: OtherReviewType | None = None
    advice: str | None = None
    notification_reference: str | None = None
    notified_on: date | None = None
    information: dict[Agency, InformationRecord] = Field(default_factory=dict)
    rapid_review: RapidReviewRecord | None = None
    panel_response: PanelResponseRecord | None = None
    cspr: CsprRecord | None = None
    case_of_concern: CaseOfConcernRecord | None = None
    other_review_findings: str | None = None
    actions: dict[str, Action] = Field(default_factory=dict)
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    #: The case history from entry `history_base` on (`history[i]` is entry `history_base + i`
    #: of the whole history: its `seq` in the register).
    history: list[HistoryEntry] = Field(default_factory=list)
    #: How many entries of the whole history came before `history`: dropped by `carry_over`
    #: once the register had acknowledged them (0 for a case that never dropped any).
    history_base: int = 0
    #: The results of the latest decisions, by decision id, in the order they were applied.
    applied: dict[str, DecisionResult] = Field(default_factory=dict)
    #: A digest of each decision in `applied` (by id), so the same id sent again with other
    #: content is refused as a conflict rather than answered with the first one's result.
    digests: dict[str, str] = Field(default_factory=dict)
    #: The ids of every earlier decision, by kind (`carry_over` moves them here from `applied`):
    #: a decision id is never applied twice, however long ago it was first applied.
    applied_earlier: dict[DecisionKind, list[str]] = Field(default_factory=dict)
    runs: int = 1
    #: Notices waiting to be sent (the workflow delivers them in the background).
    outbox: list[Notice] = Field(default_factory=list)
    #: The professional-disagreement escalations raised on this case (their references).
    escalations: list[str] = Field(default_factory=list)

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(
        cls, case_ref: str, referral: Referral, settings: PartnershipSettings, now: datetime
    ) -> tuple[Case, Effects]:
        case = cls(
            case_ref=case_ref,
            referral=referral,
            settings=settings,
            opened_at=now,
            aware_on=referral.aware_on,
        )
        case._log(now, HistoryKind.NOTICE, f"Referral received on {referral.received_on}")
        late = days_late(referral, settings.referral_time_limit_days)
        if late is not None:
            case.late_referral = True
            why = referral.late_reason or "no reason given"
            case._log(
                now,
                HistoryKind.NOTICE,
                f"Late referral: {late} day(s) past the {settings.referral_time_limit_days}-day "
                f"limit after the incident; reason: {why}",
            )
        effects = Effects()
        case._follow_automatic(now, effects)
        case._plan_meetings(uk_today(now), now, effects)
        return case, effects

    # ----------------------------------------------------------------- checks

    @property
    def closed(self) -> bool:
        return self.stage is Stage.CLOSED

    def facts(self) -> frozenset[machine.Fact]:
        facts = {
            machine.Fact.CARE_LEAVER if self.referral.care_leaver else machine.Fact.NOT_CARE_LEAVER
        }
        if all(a.status.finished for a in self.actions.values()):
            facts.add(machine.Fact.ALL_ACTIONS_FINISHED)
        return frozenset(facts)

    @property
    def history_count(self) -> int:
        """How many entries the whole case history has (the `seq` the next one gets)."""
        return self.history_base + len(self.history)

    @property
    def decisions_applied(self) -> int:
        return len(self.applied) + sum(len(ids) for ids in self.applied_earlier.values())

    def applied_kind(self, decision_id: str) -> DecisionKind | None:
        """The kind of the decision applied with this id, if one was (in any run)."""
        recent = self.applied.get(decision_id)
        if recent is not None:
            return recent.kind
        # A scan: about 0.1 ms for 5,000 ids, once in a validator and once in a handler.
        return next((k for k, ids in self.applied_earlier.items() if decision_id in ids), None)

    def is_duplicate(self, decision: Decision) -> bool:
        """True when this decision id was applied before (to the same kind of decision)."""
        kind = self.applied_kind(decision.decision_id)
        if kind is None:
            return False
        if kind != decision.kind:
            raise DecisionRefused(
                "conflict",
                f"decision id {decision.decision_id!r} was already used for a "
                f"{kind.value} decision; use a new id",
            )
        recorded = self.digests.get(decision.decision_id)
        if recorded is not None and recorded != decision_digest(decision):
            raise DecisionRefused(
                "conflict",
                f"decision id {decision.decision_id!r} was already used for a different "
                f"{kind.value} decision; send the same decision again, or use a new id",
            )
        return True

    def duplicate_result(self, decision: Decision) -> DecisionResult:
        """The answer to a decision sent again (`is_duplicate` was True): its result, if the
        case still keeps it; for a decision from long ago (`applied_earlier`), a short result
        saying so, with the stage the case is at now and no deadline views."""
        recent = self.applied.get(decision.decision_id)
        if recent is not None:
            return recent.model_copy(update={"duplicate": True})
        return DecisionResult(
            decision_id=decision.decision_id,
            kind=decision.kind,
            duplicate=True,
            stage=self.stage,
            message=(
                f"{decision.kind.value} was recorded earlier in the case (its record is in the "
                f"register); stage is now {self.stage.label}"
            ),
        )

    def check(self, decision: Decision, now: datetime) -> None:
        """Raise `DecisionRefused` unless `apply(decision)` would be accepted. Changes nothing."""
        if self.is_duplicate(decision):
            return
        try:
            machine.resolve(self.stage, decision.kind, decision, self.facts())
        except machine.TransitionRefused as refused:
            raise DecisionRefused(refused.reason, refused.message) from None
        self._check_authority(decision)
        today = uk_today(now)
        too_far = horizon.out_of_range(
            decision, horizon.earliest(self.referral.received_on, today), horizon.latest(today)
        )
        if too_far:
            raise DecisionRefused("invalid", too_far)
        if decision.occurred_on and decision.occurred_on > today:
            raise DecisionRefused("invalid", f"occurred_on {decision.occurred_on} is in the future")
        if decision.occurred_on and decision.occurred_on < self.referral.received_on:
            raise DecisionRefused(
                "invalid",
                f"occurred_on {decision.occurred_on} is before the referral was received "
                f"({self.referral.received_on})",
            )
        self._check_partnership_rules(decision)
        self._check_specific(decision, today)

    def _check_partnership_rules(self, decision: Decision) -> None:
        """Rules a partnership's profile sets: its routes and the quorum of its meetings."""
        s = self.settings
        if isinstance(decision, TriageDecision):
            if decision.outcome not in s.routes:
                offered = ", ".join(r.value for r in s.routes)
                raise DecisionRefused(
                    "not_offered",
                    f"{s.name} does not use the {decision.outcome.value} route; "
                    f"its triage outcomes are: {offered}",
                )
            if decision.review_type and decision.review_type not in s.other_review_types:
                offered = ", ".join(t.value for t in s.other_review_types)
                raise DecisionRefused(
                    "not_offered",
                    f"{s.name} does not hold a {decision.review_type.value}; "
                    f"its other reviews are: {offered}",
                )
        if s.quorum_applies(decision.kind):
            quorum = ", ".join(a.label for a in s.quorum)
            if not decision.attendees:
                raise DecisionRefused(
                    "not_quorate",
                    f"a {decision.kind.value} decision is taken at a meeting: list the "
                    f"attendees (the quorum is {quorum})",
                )
            present = {person.agency for person in decision.attendees}
            missing = [a.label for a in s.quorum if a not in present]
            if missing:
                raise DecisionRefused(
                    "not_quorate",
                    f"the meeting was not quorate: {', '.join(missing)} not present "
                    f"(the quorum is {quorum})",
                )

    def _check_authority(self, decision: Decision) -> None:
        authorities = self.settings.authorities.get(decision.kind, [])
        by = decision.by
        if not any(a.allows(by.role, by.agency) for a in authorities):
            needed = "; or ".join(a.describe() for a in authorities) or "nobody (not configured)"
            raise DecisionRefused(
                "not_authorised",
                f"{by.describe()} may not make a {decision.kind.value} decision: "
                f"it needs a {needed}",
            )

    def _check_specific(self, decision: Decision, today: date) -> None:
        if isinstance(decision, TriageDecision):
            if decision.la_aware_on and decision.la_aware_on > today:
                raise DecisionRefused("invalid", "la_aware_on is in the future")
        elif isinstance(decision, InformationRequested):
            for request in decision.requests:
                if request.agency in self.information:
                    raise DecisionRefused(
                        "conflict",
                        f"information was already requested from {request.agency.label}; "
                        f"extend its deadline instead",
                    )
                if request.due_on and request.due_on < today:
                    raise DecisionRefused(
                        "invalid", f"due_on {request.due_on} for {request.agency.label} is past"
                    )
        elif isinstance(decision, InformationReturned):
            record = self.information.get(decision.agency)
            if record is None:
                raise DecisionRefused(
                    "conflict", f"no information was requested from {decision.agency.label}"
                )
            if record.returned_on is not None:
                raise DecisionRefused(
                    "conflict",
                    f"{decision.agency.label} already returned its information on "
                    f"{record.returned_on}",
                )
            if decision.by.role is Role.PANEL_MEMBER and decision.by.agency != decision.agency:
                raise DecisionRefused(
                    "not_authorised",
                    f"{decision.by.describe()} may return only their own agency's information",
                )
        elif isinstance(decision, PublicationPlanned):
            if decision.planned_on <= today:
                raise DecisionRefused("invalid", "planned_on must be after today")
        elif isinstance(decision, ActionAdded):
            if decision.action_id in self.actions:
                raise DecisionRefused("conflict", f"action {decision.action_id!r} already exists")
            if decision.due_on < today:
                raise DecisionRefused("invalid", f"due_on {decision.due_on} is past")
        elif isinstance(decision, ActionUpdated):
            action = self.actions.get(decision.action_id)
            if action is None:
                known = ", ".join(self.actions) or "none yet"
                raise DecisionRefused(
                    "conflict", f"no action {decision.action_id!r}; actions: {known}"
                )
            if action.status.finished:
                raise DecisionRefused(
                    "conflict", f"action {decision.action_id!r} is already {action.status.value}"
                )
            by = decision.by
            if by.role is Role.PANEL_MEMBER and by.agency != action.lead_agency:
                raise DecisionRefused(
                    "not_authorised",
                    f"{by.describe()} may update only actions led by their agency "
                    f"(this one: {action.lead_agency.label})",
                )
            if decision.status is ActionStatus.CLOSED_BY_REVIEW_GROUP and by.role not in (
                Role.CHAIR,
                Role.BUSINESS_MANAGER,
            ):
                raise DecisionRefused(
                    "not_authorised",
                    "only the review group's chair or the business manager may close an action",
                )
        elif isinstance(decision, DeadlineExtended):
            deadline = self.deadlines.get(decision.deadline_id)
            if deadline is None or not deadline.open:
                open_ids = ", ".join(d for d, v in self.deadlines.items() if v.open) or "none"
                raise DecisionRefused(
                    "conflict",
                    f"no open deadline {decision.deadline_id!r}; open deadlines: {open_ids}",
                )
            if decision.new_due_on <= deadline.due_on:
                raise DecisionRefused(
                    "invalid",
                    f"new_due_on {decision.new_due_on} must be after the current due date "
                    f"{deadline.due_on}",
                )

    # ----------------------------------------------------------------- applying

    def apply(self, decision: Decision, now: datetime, via: Channel) -> Effects:
        """Apply a checked decision. Call `check` first; this assumes it passed."""
        transition = machine.resolve(self.stage, decision.kind, decision, self.facts())
        day = decision.occurred_on or uk_today(now)
        effects = Effects()
        self._log(
            now,
            HistoryKind.DECISION,
            _describe_decision(decision),
            decision=decision,
            via=via,
        )
        self._record(decision, day, now, effects)
        self._meet_meeting(decision.kind, day, now)
        if transition.target is not self.stage:
            self._enter(transition.target, now, day, effects)
        self._plan_meetings(day, now, effects)
        self.digests[decision.decision_id] = decision_digest(decision)
        self.applied[decision.decision_id] = DecisionResult(
            decision_id=decision.decision_id,
            kind=decision.kind,
            stage=self.stage,
            message=f"{decision.kind.value} recorded; stage is now {self.stage.label}",
        )
        return effects

    def record_refusal(
        self, now: datetime, reason: str, via: Channel, decision: Decision | None = None
    ) -> None:
        self._log(now, HistoryKind.REFUSED, f"Refused: {reason}", decision=decision, via=via)

    def _record(self, decision: Decision, day: date, now: datetime, effects: Effects) -> None:
        s = self.settings
        if isinstance(decision, TriageDecision):
            self._meet("triage", day, now)
            if decision.la_aware_on:
                self.aware_on = decision.la_aware_on
            self.route = {
                TriageOutcome.SERIOUS_INCIDENT: Route.CARE_LEAVER_NOTIFICATION
                if self.referral.care_leaver
                else Route.SERIOUS_INCIDENT,
                TriageOutcome.CASE_OF_CONCERN: Route.CASE_OF_CONCERN,
                TriageOutcome.OTHER_REVIEW: Route.OTHER_REVIEW,
                TriageOutcome.NO_FURTHER_ACTION: Route.NO_FURTHER_ACTION,
            }[decision.outcome]
            self.other_review_type = decision.review_type
            self.advice = decision.advice
        elif isinstance(decision, NotificationSubmitted):
            self.notification_reference = decision.reference
            self.notified_on = day
            self._meet("notification", day, now)
        elif isinstance(decision, InformationRequested):
            for request in decision.requests:
                self.information[request.agency] = InformationRecord(
                    agency=request.agency, requested_on=day
                )
                rule: OnDate | WorkingDaysAfter = (
                    OnDate(due=request.due_on)
                    if request.due_on
                    else WorkingDaysAfter(start=day, days=s.information_return_working_days)
                )
                deadline_id = f"information-{request.agency.value}"
                effects.deadline_requests.append(
                    DeadlineRequest(
                        deadline_id=deadline_id,
                        kind=DeadlineKind.AGENCY_INFORMATION,
                        title=f"Rapid review information from {request.agency.label}",
                        owner=f"{request.agency.label} member of the {s.review_group}",
                        rule=rule,
                    )
                )
                effects.notices.append(
                    Notice(
                        notice_id=f"{self.case_ref}:{decision.decision_id}:{request.agency.value}",
                        case_ref=self.case_ref,
                        partnership=s.code,
                        kind="information_request",
                        audience=f"{request.agency.label} member of the {s.review_group}",
                        subject=f"[{self.case_ref}] Rapid review information request",
                        recipients=(request.agency.value,),
                        body=(
                            f"Please return your agency's rapid review information for case "
                            f"{self.case_ref}. The due date is in the case record."
                        ),
                        deadline_id=deadline_id,
                    )
                )
        elif isinstance(decision, InformationReturned):
            record = self.information[decision.agency]
            record.returned_on = day
            record.returned_by = decision.by
            self._meet(f"information-{decision.agency.value}", day, now)
        elif isinstance(decision, RapidReviewDecision):
            self._meet("rapid-review", day, now)
            self.rapid_review = RapidReviewRecord(
                decided_on=day,
                recommendation=decision.recommendation,
                attendees=decision.attendees,
                possible_national_importance=decision.possible_national_importance,
                immediate_safety_actions=decision.immediate_safety_actions,
                learning=decision.learning,
            )
            for agency, record in self.information.items():
                if record.returned_on is None:
                    self._withdraw(f"information-{agency.value}", now, "rapid review decided")
        elif isinstance(decision, PanelResponse):
            self.panel_response = PanelResponseRecord(
                received_on=day,
                panel_agrees=decision.panel_agrees,
                outcome=decision.outcome,
                national_review=decision.national_review,
            )
            self.route = (
                Route.LOCAL_CSPR
                if decision.outcome is ReviewOutcome.LOCAL_CSPR
                else Route.LEARNING_ONLY
            )
            if decision.outcome is ReviewOutcome.LOCAL_CSPR:
                self.cspr = CsprRecord(decided_on=day)
        elif isinstance(decision, CsprMilestone):
            assert self.cspr is not None
            self.cspr.milestones[decision.kind] = day
            if decision.lead_reviewer:
                self.cspr.lead_reviewer = decision.lead_reviewer
            if decision.kind is DecisionKind.FINAL_REPORT_SENT:
                self._meet("cspr-final-report", day, now)
        elif isinstance(decision, PublicationPlanned):
            assert self.cspr is not None
            self.cspr.planned_publication_on = decision.planned_on
            effects.deadline_requests.append(self._final_report_request(decision.planned_on))
        elif isinstance(decision, Published):
            assert self.cspr is not None
            self.cspr.published_on = day
            self.cspr.published_at_location = decision.location
            self._meet("cspr-publication", day, now)
        elif isinstance(decision, NotPublished):
            assert self.cspr is not None
            self.cspr.not_published_reasons = decision.reasons
            self._meet("cspr-publication", day, now)
        elif isinstance(decision, ApproachChosen):
            self.case_of_concern = CaseOfConcernRecord(
                approach=decision.approach, agencies=decision.agencies
            )
        elif isinstance(decision, OutcomeShared):
            concern = self.case_of_concern or CaseOfConcernRecord()
            concern.outcome_summary = decision.summary
            concern.shared_with = [s.review_group, s.learning_group]
            self.case_of_concern = concern
        elif isinstance(decision, OtherReviewCompleted):
            self.other_review_findings = decision.findings
        elif isinstance(decision, ActionAdded):
            monitor = (
                s.multi_agency_plan_monitor
                if decision.scope is PlanScope.MULTI_AGENCY
                else s.single_agency_plan_monitor
            )
            self.actions[decision.action_id] = Action(
                action_id=decision.action_id,
                recommendation=decision.recommendation,
                description=decision.description,
                lead_agency=decision.lead_agency,
                due_on=decision.due_on,
                outcome_measure=decision.outcome_measure,
                scope=decision.scope,
                monitored_by=monitor,
                added_by=decision.by,
                evidence_logged_from=0,
            )
            effects.deadline_requests.append(
                DeadlineRequest(
                    deadline_id=f"action-{decision.action_id}",
                    kind=DeadlineKind.ACTION,
                    title=f"Action {decision.action_id}",
                    owner=decision.lead_agency.label,
                    rule=OnDate(due=decision.due_on),
                )
            )
        elif isinstance(decision, ActionUpdated):
            action = self.actions[decision.action_id]
            if decision.rag:
                action.rag = decision.rag
            if decision.evidence:
                action.add_evidence(decision.evidence)
            if decision.status:
                action.status = decision.status
                if decision.status.finished:
                    action.completed_on = day
                    self._meet(f"action-{decision.action_id}", day, now)
        elif isinstance(decision, DeadlineExtended):
            deadline = self.deadlines[decision.deadline_id]
            deadline.extensions.append(
                Extension(
                    previous_due_on=deadline.due_on,
                    new_due_on=decision.new_due_on,
                    reason=decision.reason,
                    agreed_with=decision.agreed_with,
                    decided_by=decision.by.describe(),
                    decision_id=decision.decision_id,
                )
            )
            if decision.deadline_id.startswith("action-"):
                self.actions[
                    decision.deadline_id.removeprefix("action-")
                ].due_on = decision.new_due_on
            effects.deadline_requests.append(
                DeadlineRequest(
                    deadline_id=deadline.deadline_id,
                    kind=deadline.kind,
                    title=deadline.title,
                    owner=deadline.owner,
                    statutory=deadline.statutory,
                    rule=OnDate(due=decision.new_due_on),
                )
            )
        elif isinstance(decision, CaseClosed):
            pass

    def _enter(self, stage: Stage, now: datetime, day: date, effects: Effects) -> None:
        previous = self.stage
        self.stage = stage
        self._log(now, HistoryKind.STAGE_CHANGED, f"{previous.label} → {stage.label}")
        s = self.settings
        if stage is Stage.TRIAGE:
            effects.deadline_requests.append(
                DeadlineRequest(
                    deadline_id="triage",
                    kind=DeadlineKind.TRIAGE,
                    title="Triage decision",
                    owner=s.triage_by,
                    rule=(
                        NextMeeting(start=self.referral.received_on, meetings=s.triage_meeting)
                        if s.triage_meeting is not None
                        else WorkingDaysAfter(
                            start=self.referral.received_on, days=s.triage_working_days
                        )
                    ),
                )
            )
        elif stage is Stage.SERIOUS_INCIDENT_NOTIFICATION:
            effects.deadline_requests.append(
                DeadlineRequest(
                    deadline_id="notification",
                    kind=DeadlineKind.NOTIFICATION,
                    title=(
                        "Care leaver death notified to the Secretary of State and Ofsted"
                        if self.referral.care_leaver
                        else "Serious Incident Notification to the National Panel"
                    ),
                    owner=f"{Agency.CHILDRENS_SOCIAL_CARE.label}",
                    statutory=True,
                    rule=WorkingDaysAfter(start=self.aware_on, days=s.notification_working_days),
                )
            )
            if not self.referral.care_leaver and s.rapid_review_counted_from == "awareness":
                effects.deadline_requests.append(self._rapid_review_request(self.aware_on))
        elif stage is Stage.RAPID_REVIEW:
            if s.rapid_review_counted_from == "notification":
                effects.deadline_requests.append(self._rapid_review_request(day))
        elif stage is Stage.CSPR_LEAD_REVIEWER:
            effects.deadline_requests.append(
                DeadlineRequest(
                    deadline_id="cspr-publication",
                    kind=DeadlineKind.CSPR_PUBLICATION,
                    title="Local CSPR published (or decision not to publish recorded)",
                    owner=s.review_group,
                    statutory=True,
                    rule=MonthsAfter(start=day, months=s.cspr_publication_months),
                )
            )
        elif stage is Stage.CLOSED:
            self.closed_at = now
            for deadline_id, deadline in self.deadlines.items():
                if deadline.open:
                    self._withdraw(deadline_id, now, "case closed")
        self._follow_automatic(now, effects)

    def _plan_meetings(self, day: date, now: datetime, effects: Effects) -> None:
        """A decision that would move the case on, could be taken now, and needs a review-group
        meeting is due by the next one; a meeting deadline whose decision can no longer be taken
        is withdrawn. Run after every change, so "close the case" falls due only once every
        action is finished."""
        s = self.settings
        possible = set(machine.decisions_possible(self.stage, self.facts(), moving=True))
        waiting = set()
        for deadline_id, deadline in self.deadlines.items():
            kind = _meeting_kind(deadline)
            if kind is None or not deadline.open:
                continue
            if kind in possible:
                waiting.add(kind)
            else:
                self._withdraw(deadline_id, now, "its decision cannot be taken now")
        if s.review_group_meetings is None:
            return
        planned = {r.deadline_id for r in effects.deadline_requests}
        for kind in sorted(k for k in possible - waiting if s.needs_meeting(k)):
            deadline_id, visit = f"meeting-{kind.value}", 1
            while deadline_id in self.deadlines:
                visit += 1
                deadline_id = f"meeting-{kind.value}-{visit}"
            if deadline_id in planned:
                continue
            effects.deadline_requests.append(
                DeadlineRequest(
                    deadline_id=deadline_id,
                    kind=DeadlineKind.MEETING,
                    title=f"{kind.label.capitalize()} at the next {s.review_group_meetings.group}"
                    " meeting",
                    owner=s.review_group,
                    rule=NextMeeting(start=day, meetings=s.review_group_meetings),
                )
            )

    def _meet_meeting(self, kind: DecisionKind, day: date, now: datetime) -> None:
        for deadline_id, deadline in list(self.deadlines.items()):
            if deadline.open and _meeting_kind(deadline) is kind:
                self._meet(deadline_id, day, now)

    def _follow_automatic(self, now: datetime, effects: Effects) -> None:
        automatic = machine.automatic_transition(self.stage)
        if automatic is not None:
            self._enter(automatic.target, now, uk_today(now), effects)

    def _rapid_review_request(self, start: date) -> DeadlineRequest:
        s = self.settings
        return DeadlineRequest(
            deadline_id="rapid-review",
            kind=DeadlineKind.RAPID_REVIEW,
            title="Rapid Review completed",
            owner=s.review_group,
            statutory=True,
            rule=WorkingDaysAfter(start=start, days=s.rapid_review_working_days),
        )

    def _final_report_request(self, publication_on: date) -> DeadlineRequest:
        s = self.settings
        return DeadlineRequest(
            deadline_id="cspr-final-report",
            kind=DeadlineKind.CSPR_FINAL_REPORT,
            title="Final report sent to the National Panel and the Secretary of State",
            owner=s.business_manager,
            statutory=True,
            rule=WorkingDaysBefore(
                target=publication_on, days=s.final_report_working_days_before_publication
            ),
        )

    # ----------------------------------------------------------------- deadlines

    def open_deadlines(
        self, requests: list[DeadlineRequest], plans: list[DeadlinePlan], now: datetime
    ) -> list[DeadlineView]:
        """Attach computed plans: new deadlines open, existing ones move to their new plan."""
        by_id = {p.deadline_id: p for p in plans}
        opened: list[Deadline] = []
        for request in requests:
            plan = by_id[request.deadline_id]
            existing = self.deadlines.get(request.deadline_id)
            if existing is not None and not existing.open:
                continue  # met or withdrawn: a later re-plan does not reopen it
            if existing is not None:
                previous = existing.due_on
                existing.apply_plan(plan)
                existing.basis = request.rule.describe()
                self._log(
                    now,
                    HistoryKind.DEADLINE_EXTENDED,
                    f"{existing.title}: due {previous} → {plan.due_on}",
                    deadline_id=existing.deadline_id,
                )
                opened.append(existing)
                continue
            deadline = Deadline(
                deadline_id=request.deadline_id,
                kind=request.kind,
                title=request.title,
                owner=request.owner,
                statutory=request.statutory,
                basis=request.rule.describe(),
                due_on=plan.due_on,
                remind_at=plan.remind_at,
                escalate_at=plan.escalate_at,
                escalate_again_at=plan.escalate_again_at,
                opened_at=now,
            )
            self.deadlines[deadline.deadline_id] = deadline
            self._log(
                now,
                HistoryKind.DEADLINE_OPENED,
                f"{deadline.title}: due {deadline.due_on} ({deadline.basis})",
                deadline_id=deadline.deadline_id,
            )
            opened.append(deadline)
        if self.cspr and "cspr-publication" in by_id and self.cspr.planned_publication_on is None:
            self.cspr.planned_publication_on = by_id["cspr-publication"].due_on
        return [self._view(d, now) for d in opened]

    def follow_up_requests(self) -> list[DeadlineRequest]:
        """Once publication is planned, the final report falls due some working days before."""
        if (
            self.cspr
            and self.cspr.planned_publication_on
            and "cspr-final-report" not in self.deadlines
            and self.stage in machine.CSPR_STAGES
        ):
            return [self._final_report_request(self.cspr.planned_publication_on)]
        return []

    def _meet(self, deadline_id: str, day: date, now: datetime) -> None:
        deadline = self.deadlines.get(deadline_id)
        if deadline is None or not deadline.open:
            return
        deadline.met_on = day
        deadline.met_at = now
        state = deadline.state(now)
        self._log(
            now,
            HistoryKind.DEADLINE_MET,
            f"{deadline.title}: done {day} ({'in time' if state is DeadlineState.MET else 'late'}"
            f", due {deadline.due_on})",
            deadline_id=deadline_id,
        )

    def _withdraw(self, deadline_id: str, now: datetime, why: str) -> None:
        deadline = self.deadlines.get(deadline_id)
        if deadline is None or not deadline.open:
            return
        deadline.withdrawn_at = now
        self._log(
            now,
            HistoryKind.DEADLINE_WITHDRAWN,
            f"{deadline.title}: no longer needed ({why})",
            deadline_id=deadline_id,
        )

    # ----------------------------------------------------------------- alerts

    def next_alert_at(self) -> datetime | None:
        return min(
            (m for d in self.deadlines.values() if (m := next_alert_at(d)) is not None),
            default=None,
        )

    def fire_due_alerts(self, now: datetime) -> list[Notice]:
        """Mark every alert whose moment has come as fired; return the notices to send."""
        notices = []
        for deadline in sorted(self.deadlines.values(), key=lambda d: d.escalate_at):
            for alert in due_alerts(deadline, now):
                notices.append(self._fire(deadline, alert, now))
            # An escalation that fired makes any unsent reminder moot.
            if deadline.escalated_at and deadline.reminded_at is None:
                deadline.reminded_at = deadline.escalated_at
        return notices

    def _fire(self, deadline: Deadline, alert: AlertKind, now: datetime) -> Notice:
        s = self.settings
        if alert is AlertKind.REMINDER:
            deadline.reminded_at = now
            audience = deadline.owner
            recipients: tuple[str, ...] = ()  # the owner's name: contacts finds it
            subject = f"[{self.case_ref}] Reminder: {deadline.title} due {deadline.due_on}"
            kind = HistoryKind.REMINDER
        elif alert is AlertKind.ESCALATION:
            deadline.escalated_at = now
            audience = self._escalation_audience(deadline)
            recipients = self._escalation_recipients(deadline)
            subject = f"[{self.case_ref}] Overdue: {deadline.title} was due {deadline.due_on}"
            kind = HistoryKind.ESCALATION
        else:
            deadline.escalated_again_at = now
            audience = s.executive
            recipients = ("executive",)
            subject = (
                f"[{self.case_ref}] Still outstanding: {deadline.title} was due {deadline.due_on}"
            )
            kind = HistoryKind.SECOND_ESCALATION
        self._log(now, kind, f"{subject} → {audience}", deadline_id=deadline.deadline_id)
        return Notice(
            notice_id=f"{self.case_ref}:{deadline.deadline_id}:{alert.value}:{deadline.due_on}",
            case_ref=self.case_ref,
            partnership=s.code,
            kind=alert.value,
            audience=audience,
            subject=subject,
            body=(
                f"Case {self.case_ref} ({s.name}), stage: {self.stage.label}.\n"
                f"{deadline.title}, owed by {deadline.owner}, due {deadline.due_on} "
                f"({deadline.basis})."
            ),
            deadline_id=deadline.deadline_id,
            due_on=deadline.due_on,
            recipients=recipients,
        )

    def _escalation_recipients(self, deadline: Deadline) -> tuple[str, ...]:
        """`_escalation_audience` as contact keys."""
        if deadline.kind is DeadlineKind.ACTION:
            action = self.actions.get(deadline.deadline_id.removeprefix("action-"))
            if action is not None:
                return (f"{action.scope.value}_plan_monitor", "business_manager")
        return ("review_group_chair", "business_manager")

    def _escalation_audience(self, deadline: Deadline) -> str:
        if deadline.kind is DeadlineKind.ACTION:
            action = self.actions.get(deadline.deadline_id.removeprefix("action-"))
            if action is not None:
                return f"{action.monitored_by}; {self.settings.business_manager}"
        return self.settings.escalation_audience()

    # ----------------------------------------------------------------- reading

    def _view(self, deadline: Deadline, now: datetime) -> DeadlineView:
        return DeadlineView(
            deadline_id=deadline.deadline_id,
            kind=deadline.kind,
            title=deadline.title,
            owner=deadline.owner,
            statutory=deadline.statutory,
            basis=deadline.basis,
            due_on=deadline.due_on,
            state=deadline.state(now),
            met_on=deadline.met_on,
            extended=len(deadline.extensions),
            remind_at=deadline.remind_at,
            escalate_at=deadline.escalate_at,
        )

    def next_deadline(self) -> Deadline | None:
        return min(
            (d for d in self.deadlines.values() if d.open), key=lambda d: d.due_on, default=None
        )

    def overdue(self, now: datetime) -> bool:
        return any(d.state(now) is DeadlineState.OVERDUE for d in self.deadlines.values())

    def tasks(self, now: datetime) -> list[Task]:
        tasks = [
            Task(task=d.title, owed_by=d.owner, due_on=d.due_on, state=d.state(now))
            for d in sorted(self.deadlines.values(), key=lambda d: d.due_on)
            if d.open
        ]
        owners = {
            "coordinator": f"{self.settings.name} business team",
            "business_manager": self.settings.business_manager,
            "review_group": self.settings.review_group,
            "lead_reviewer": (self.cspr.lead_reviewer if self.cspr else None) or "lead reviewer",
        }
        stage_task = STAGE_TASKS.get(self.stage)
        if stage_task is not None:
            tasks.append(Task(task=stage_task[0], owed_by=owners[stage_task[1]]))
        if self.stage is Stage.ACTION_PLAN_MONITORING and machine.Fact.ALL_ACTIONS_FINISHED in (
            self.facts()
        ):
            tasks.append(
                Task(
                    task="Close the case (every action is done)", owed_by=self.settings.review_group
                )
            )
        return tasks

    def status(self, now: datetime) -> CaseStatus:
        views = [
            self._view(d, now) for d in sorted(self.deadlines.values(), key=lambda d: d.due_on)
        ]
        upcoming = self.next_deadline()
        shown_from = self.recent_history_from()
        return CaseStatus(
            case_ref=self.case_ref,
            partnership=self.settings.code,
            partnership_name=self.settings.name,
            stage=self.stage,
            stage_label=self.stage.label,
            route=self.route,
            opened_at=self.opened_at,
            closed_at=self.closed_at,
            decisions_allowed=machine.decisions_allowed(self.stage),
            deadlines=views,
            next_deadline=self._view(upcoming, now) if upcoming else None,
            overdue=self.overdue(now),
            tasks=self.tasks(now),
            actions=list(self.actions.values()),
            notification_reference=self.notification_reference,
            possible_national_importance=bool(
                self.rapid_review and self.rapid_review.possible_national_importance
            ),
            lead_reviewer=self.cspr.lead_reviewer if self.cspr else None,
            planned_publication_on=self.cspr.planned_publication_on if self.cspr else None,
            runs=self.runs,
            history=self.history[shown_from - self.history_base :],
            history_from=shown_from,
        )

    def operator_details(self, now: datetime) -> str:
        """Markdown for the Temporal Web UI's current details. No personal data."""
        lines = [
            f"**Stage:** {self.stage.label}  ",
            f"**Route:** {self.route.value.replace('_', ' ')}  ",
            f"**Partnership:** {self.settings.name}",
        ]
        open_deadlines = sorted(
            (d for d in self.deadlines.values() if d.open), key=lambda d: d.due_on
        )
        if open_deadlines:
            lines.append("")
            lines.append("| Deadline | Due | State |")
            lines.append("|---|---|---|")
            for d in open_deadlines[:8]:
                lines.append(f"| {d.title} | {d.due_on} | {d.state(now).value.replace('_', ' ')} |")
        tasks = self.tasks(now)
        if tasks:
            lines.append("")
            lines.append(
                "**Outstanding:** " + "; ".join(f"{t.task} ({t.owed_by})" for t in tasks[:6])
            )
        return "\n".join(lines)

    def note(self, now: datetime, kind: HistoryKind, text: str) -> None:
        """Record something the system did (not a decision) in the case history."""
        self._log(now, kind, text, via="system")

    def escalation_news(
        self, now: datetime, escalation_ref: str, text: str, sender: str, raised: bool
    ) -> None:
        """Record news from a linked professional-disagreement escalation, with who sent it.
        Refused (`DecisionRefused`) from another partnership's escalation, and about one this
        case was never told was raised."""
        if not escalation_ref.startswith(f"{self.settings.code}-"):
            raise DecisionRefused(
                "conflict",
                f"escalation {escalation_ref} is not {self.settings.code}'s: news refused",
            )
        if raised:
            if escalation_ref not in self.escalations:
                self.escalations.append(escalation_ref)
        elif escalation_ref not in self.escalations:
            raise DecisionRefused(
                "conflict",
                f"escalation {escalation_ref} was never raised on this case: news refused",
            )
        self._log(now, HistoryKind.NOTICE, f"{text} (from {sender})", via="signal")

    # ----------------------------------------------------------------- carrying over

    def recent_history_from(self) -> int:
        """Where the recent timeline starts (a position in the whole history): the latest
        `RECENT_HISTORY_ENTRIES` entries, fewer if they come to more than `RECENT_HISTORY_BYTES`
        of JSON (an entry of an action update holds its evidence in full, up to 4,000
        characters). Never before `history_base`; at least the latest entry."""
        start, size = self.history_count, 0
        for entry in reversed(self.history[-RECENT_HISTORY_ENTRIES:]):
            size += _json_size(entry)
            if size > RECENT_HISTORY_BYTES and start < self.history_count:
                break
            start -= 1
        return start

    def unregistered_size(self, registered_upto: int) -> int:
        """Bytes of JSON of the history entries from position `registered_upto` on (those the
        register has not acknowledged): what `carry_over` must keep whatever their size."""
        since = max(registered_upto, self.history_base) - self.history_base
        return sum(_json_size(entry) for entry in self.history[since:])

    def carry_over(self, registered_upto: int) -> Case:
        """The case to carry to the next run (continue-as-new), once the register holds the
        history entries before position `registered_upto`. This case is left as it is.

        Dropped, because the register holds them: history entries the register acknowledged
        before the recent timeline (`recent_history_from`); `history_base` counts them, so each
        entry keeps its position (its `seq` in the register) in every run. Entries the register
        has not acknowledged are all kept, however many: none is ever lost (while the register
        is down they pile up; the workflow then waits for the register before it continues as
        new once they come to a lot, see `ReferralWorkflow._continue_as_new`). Compacted: the
        results of all but the `RECENT_RESULTS` latest decisions, to their ids by kind in
        `applied_earlier` (a duplicate is recognised in any later run). Actions keep their
        latest evidence (they do from `apply` on; this also covers a case carried in the older
        form, whose unlogged evidence stays whole).

        What the carried case holds, then, does not grow with its decisions beyond their ids
        (an id is at most 80 characters, about 40 for the CLI's and the console's): the
        referral and settings, its records, its actions and deadlines (each of bounded size,
        as many as the case has), `RECENT_RESULTS` results, at most `RECENT_HISTORY_BYTES` of
        history plus the entries the register has not acknowledged."""
        registered = max(self.history_base, min(registered_upto, self.history_count))
        cut = min(registered, self.recent_history_from())
        applied = list(self.applied)
        split = max(0, len(applied) - RECENT_RESULTS)
        recent = applied[split:]
        earlier = {kind: list(ids) for kind, ids in self.applied_earlier.items()}
        for decision_id in applied[:split]:
            earlier.setdefault(self.applied[decision_id].kind, []).append(decision_id)
        # Copy what is kept (deeply, so the two cases share nothing), not what is dropped.
        carried = self.model_copy(
            update={"history": [], "applied": {}, "applied_earlier": {}, "digests": {}}
        ).model_copy(deep=True)
        carried.history = [e.model_copy() for e in self.history[cut - self.history_base :]]
        carried.history_base = cut
        carried.applied = {i: self.applied[i].model_copy(deep=True) for i in recent}
        carried.applied_earlier = earlier
        # Digests of the recent decisions only: an older id sent again is told it was recorded
        # earlier (its kind still checked), as before digests were kept.
        carried.digests = {i: self.digests[i] for i in recent if i in self.digests}
        for action in carried.actions.values():
            action._keep_recent_evidence(RECENT_EVIDENCE)
        return carried

    # ----------------------------------------------------------------- internals

    def _log(
        self,
        now: datetime,
        kind: HistoryKind,
        text: str,
        *,
        decision: Decision | None = None,
        via: Channel | None = None,
        deadline_id: str | None = None,
    ) -> None:
        self.history.append(
            HistoryEntry(
                at=now,
                kind=kind,
                stage=self.stage,
                text=text,
                decision_id=decision.decision_id if decision else None,
                decision_kind=decision.kind.value if decision else None,
                by=decision.by if decision else None,
                via=via,
                deadline_id=deadline_id,
                occurred_on=(decision.occurred_on or uk_today(now)) if decision else None,
                why=_why(decision) if decision else None,
            )
        )


def decision_digest(decision: Decision) -> str:
    """A digest of everything a decision says (stable across runs and workers)."""
    text = decision.model_dump_json(exclude_none=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _why(decision: Decision) -> str | None:
    """Why a decision was made, in its maker's words: the note, else the reasons it states."""
    for text in (
        decision.note,
        getattr(decision, "reasons", None),
        getattr(decision, "reason", None),
        getattr(decision, "advice", None),
    ):
        if isinstance(text, str) and text:
            return text if len(text) <= 500 else text[:497] + "..."
    return None


def _meeting_kind(deadline: Deadline) -> DecisionKind | None:
    """The decision a meeting deadline waits for (ids: meeting-<kind>[-<visit>])."""
    if deadline.kind is not DeadlineKind.MEETING:
        return None
    name = deadline.deadline_id.removeprefix("meeting-")
    base, _, visit = name.rpartition("-")
    return DecisionKind(base if visit.isdigit() and base else name)


#: Fields a decision's history entry keeps in full: an action's evidence is kept in the case
#: only while recent (`Action.evidence`), so its decision's entry is its lasting record.
_IN_FULL = frozenset({"evidence"})


def _json_size(entry: HistoryEntry) -> int:
    return len(entry.model_dump_json().encode())


def _describe_decision(decision: Decision) -> str:
    parts = [f"{decision.kind.value} by {decision.by.describe()}"]
    details: dict[str, Any] = decision.model_dump(
        mode="json", exclude={"decision_id", "by", "kind", "note"}, exclude_none=True
    )
    if details:
        parts.append(
            ", ".join(f"{k}={v if k in _IN_FULL else _short(v)}" for k, v in details.items())
        )
    if decision.note:
        parts.append(f"note: {_short(decision.note)}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict) and "name" in value[0]:
        return ", ".join(str(v.get("name")) for v in value)
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


DecisionResult.model_rebuild()
