"""The case as rows for the register: a pure projection of `Case`, no database, no Temporal.

The workflow stays the source of truth. After each batch of changes it sends the register a
`CaseSnapshot`: the case's summary row, its children's national-statistics rows, every deadline
and action, and the history entries the register has not acknowledged yet, each with a stable
sequence number: its position in the case's whole history (`Case.history_base` plus its index in
the entries the case still holds; continue-as-new drops only entries the register acknowledged,
so positions never change). The same function answers the workflow's `register` query, so
`sro register rebuild` writes the rows the activity wrote: all of them but the history entries a
long case no longer holds (before `history_from`), which the register already has.

Personal data: the register gets what national statistics need about each child (harm type, age
band, sex, ethnicity, disability, looked-after, child protection plan, care leaver) and never a
name, a date of birth or the referral's summary. The professionals who made decisions are named
(accountability).

Rows carry only facts that do not depend on when they are read (a deadline's due and met dates,
not "overdue"), so a snapshot taken later from a finished case is the same snapshot.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ConfigDict, Field

from safeguarding.case import Case, HistoryEntry, HistoryKind
from safeguarding.deadlines import Deadline
from safeguarding.model import DomainModel
from safeguarding.referral import Child
from safeguarding.vocabulary import InvolvementMilestone

#: At most this many history entries go in one snapshot (a backlog goes in several calls).
MAX_HISTORY_PER_SNAPSHOT = 200

#: Age bands of the national serious incident notification statistics.
AGE_BANDS = ("under 1", "1 to 5", "6 to 10", "11 to 15", "16 to 17", "18 to 24", "unknown")


class _Row(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseRow(_Row):
    case_ref: str
    partnership: str
    partnership_name: str
    stage: str
    route: str
    opened_at: datetime
    closed_at: datetime | None
    received_on: date
    aware_on: date
    late_referral: bool
    harm: str
    abuse_or_neglect_suspected: bool
    referrer_agency: str
    agencies_involved: str
    children: int
    care_leaver: bool
    other_review_type: str | None
    notification_reference: str | None
    notified_on: date | None
    rapid_review_on: date | None
    rapid_review_recommendation: str | None
    possible_national_importance: bool
    panel_response_on: date | None
    panel_agrees: bool | None
    panel_outcome: str | None
    national_review: bool
    cspr_decided_on: date | None
    lead_reviewer: str | None
    planned_publication_on: date | None
    published_on: date | None
    not_published: bool
    case_of_concern_approach: str | None
    runs: int
    #: How many history entries the case had (in its whole life, `Case.history_count`): the
    #: snapshot's version. The register applies a snapshot's rows only if it is at least as new
    #: as the one it holds (a late retry of an older snapshot changes nothing).
    history_count: int
    # Issue #13, items 2, 5 and 7: where the child was harmed, the safeguarding-lead discussion,
    # the referral quality-assured before triage, a notification made outside the criteria
    # (which, and why), the local authority's notice to the partnership.
    where_harmed: str | None
    discussed_with_safeguarding_lead: bool | None
    referral_quality_assured_on: date | None
    notified_outside_criteria: str | None
    la_notice_on: date | None
    # Issue #13 items 1, 4, 6, 9, 10: the day the Rapid Review was sent to the National Panel;
    # the day a Local CSPR's 6 months count from and the decision that started them
    # (rapid_review_decision, decision_changed_after_panel_response, or panel_response for
    # cases from before); a care leaver's next step; the family's and practitioners'
    # involvement (outcomes: told, given, declined, shown, involved, not_possible); what
    # publication needed, where the report is published and until when; the partners'
    # response to the findings.
    rapid_review_sent_on: date | None = None
    cspr_clock_from: date | None = None
    cspr_initiated_by: str | None = None
    care_leaver_next_step: str | None = None
    care_leaver_next_step_on: date | None = None
    family_told_on: date | None = None
    family_views: str | None = None
    family_shown_report: str | None = None
    practitioners_involved_on: date | None = None
    practitioners_feedback_on: date | None = None
    communications_notified_on: date | None = None
    anonymisation_checked_on: date | None = None
    published_location: str | None = None
    published_until: date | None = None
    partners_response_on: date | None = None


class ChildRow(_Row):
    case_ref: str
    child_no: int
    age_band: str
    sex: str
    ethnicity: str | None
    disability: bool | None
    looked_after: bool
    child_protection_plan: bool
    care_leaver: bool


class DeadlineRow(_Row):
    case_ref: str
    deadline_id: str
    kind: str
    title: str
    owner: str
    statutory: bool
    basis: str
    due_on: date
    #: The due date before any extension: statutory timeliness is measured against it.
    original_due_on: date
    opened_at: datetime
    #: open, met (done by the due date), missed (done after it) or withdrawn.
    outcome: str
    met_on: date | None
    withdrawn_at: datetime | None
    reminded_at: datetime | None
    escalated_at: datetime | None
    escalated_again_at: datetime | None
    extensions: int
    #: Times the due date moved (`Deadline.revisions`); rows from before it: 0.
    revisions: int = 0


class ActionRow(_Row):
    case_ref: str
    action_id: str
    recommendation: str
    description: str
    lead_agency: str
    due_on: date
    outcome_measure: str
    scope: str
    monitored_by: str
    status: str
    rag: str | None
    #: The action's latest evidence, one piece a line (`Action.evidence`); every piece ever given
    #: is in full in the history row of its `action_updated` decision.
    evidence: str
    added_by_name: str
    added_by_role: str
    added_by_agency: str
    completed_on: date | None


class HistoryRow(_Row):
    case_ref: str
    seq: int
    at: datetime
    kind: str
    stage: str
    text: str
    decision_id: str | None
    decision_kind: str | None
    by_name: str | None
    by_role: str | None
    by_agency: str | None
    via: str | None
    deadline_id: str | None
    occurred_on: date | None
    why: str | None


class LearningRow(_Row):
    """Issue 13, item 11: a learning output of the case (`LearningOutputRecord`)."""

    case_ref: str
    learning_id: str
    output: str
    title: str
    source: str
    owner: str
    due_on: date
    status: str
    disseminated_on: date | None
    reach: str | None
    reaudit_due_on: date | None
    impact: str | None
    impact_on: date | None
    planned_by_name: str
    planned_by_role: str
    planned_by_agency: str


class CaseSnapshot(DomainModel):
    """What the register needs from one case now. `history` holds entries `history_from` up to
    (not including) `history_upto` (positions in the case's whole history); rows the register
    already has may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case: CaseRow
    children: list[ChildRow]
    deadlines: list[DeadlineRow]
    actions: list[ActionRow]
    history_from: int
    history_upto: int
    history: list[HistoryRow]
    #: Issue 13, item 11 (a default, so snapshots recorded before it still read).
    learning: list[LearningRow] = Field(default_factory=list)


# ----------------------------------------------------------------------- building


def age_band(child: Child, on: date) -> str:
    """The child's age band on the day the referral was received (never the birth date)."""
    years = child.age_years
    if years is None and child.date_of_birth is not None:
        dob = child.date_of_birth
        years = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
        if years < 0:
            years = None
    if years is None:
        return "unknown"
    if years < 1:
        return "under 1"
    if years <= 5:
        return "1 to 5"
    if years <= 10:
        return "6 to 10"
    if years <= 15:
        return "11 to 15"
    if years <= 17:
        return "16 to 17"
    return "18 to 24"


def deadline_outcome(deadline: Deadline) -> str:
    if deadline.withdrawn_at is not None:
        return "withdrawn"
    if deadline.met_on is not None:
        return "met" if deadline.met_on <= deadline.due_on else "missed"
    return "open"


def case_row(case: Case) -> CaseRow:
    referral = case.referral
    rapid = case.rapid_review
    panel = case.panel_response
    cspr = case.cspr
    return CaseRow(
        case_ref=case.case_ref,
        partnership=case.settings.code,
        partnership_name=case.settings.name,
        stage=case.stage.value,
        route=case.route.value,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        received_on=referral.received_on,
        aware_on=case.aware_on,
        late_referral=case.late_referral,
        harm=referral.harm,
        abuse_or_neglect_suspected=referral.abuse_or_neglect_suspected,
        referrer_agency=referral.referrer.agency.value,
        agencies_involved=",".join(a.value for a in referral.agencies_involved),
        children=len(referral.children),
        care_leaver=referral.care_leaver,
        other_review_type=case.other_review_type.value if case.other_review_type else None,
        notification_reference=case.notification_reference,
        notified_on=case.notified_on,
        rapid_review_on=rapid.decided_on if rapid else None,
        rapid_review_recommendation=rapid.recommendation.value if rapid else None,
        possible_national_importance=bool(rapid and rapid.possible_national_importance),
        panel_response_on=panel.received_on if panel else None,
        panel_agrees=panel.panel_agrees if panel else None,
        panel_outcome=panel.outcome.value if panel else None,
        national_review=bool(panel and panel.national_review),
        cspr_decided_on=cspr.decided_on if cspr else None,
        lead_reviewer=cspr.lead_reviewer if cspr else None,
        planned_publication_on=cspr.planned_publication_on if cspr else None,
        published_on=cspr.published_on if cspr else None,
        not_published=bool(cspr and cspr.not_published_reasons),
        case_of_concern_approach=(
            case.case_of_concern.approach.value
            if case.case_of_concern and case.case_of_concern.approach
            else None
        ),
        runs=case.runs,
        history_count=case.history_count,
        where_harmed=referral.where_harmed.value if referral.where_harmed else None,
        discussed_with_safeguarding_lead=referral.referrer.discussed_with_safeguarding_lead,
        referral_quality_assured_on=case.referral_quality_assured_on,
        notified_outside_criteria=case.notified_outside_criteria,
        la_notice_on=case.la_notice_on,
        **statutory_columns(case),
    )


def statutory_columns(case: Case) -> dict[str, object]:
    """Issue #13 items 1, 4, 6, 9, 10: what the case row records of the statutory steps."""
    rapid, cspr, step = case.rapid_review, case.cspr, case.care_leaver_step
    involved = cspr.involvement if cspr else {}

    def on(milestone: InvolvementMilestone) -> date | None:
        return involved[milestone].on if milestone in involved else None

    def outcome(milestone: InvolvementMilestone) -> str | None:
        return involved[milestone].outcome.value if milestone in involved else None

    return {
        "rapid_review_sent_on": rapid.sent_to_panel_on if rapid else None,
        "cspr_clock_from": (cspr.clock_from or cspr.decided_on) if cspr else None,
        "cspr_initiated_by": (cspr.initiated_by or "panel_response") if cspr else None,
        "care_leaver_next_step": step.next_step.value if step else None,
        "care_leaver_next_step_on": step.decided_on if step else None,
        "family_told_on": on(InvolvementMilestone.FAMILY_TOLD),
        "family_views": outcome(InvolvementMilestone.FAMILY_VIEWS),
        "family_shown_report": outcome(InvolvementMilestone.FAMILY_SHOWN_REPORT),
        "practitioners_involved_on": on(InvolvementMilestone.PRACTITIONERS_INVOLVED),
        "practitioners_feedback_on": on(InvolvementMilestone.PRACTITIONERS_FEEDBACK),
        "communications_notified_on": cspr.communications_notified_on if cspr else None,
        "anonymisation_checked_on": cspr.anonymisation_checked_on if cspr else None,
        "published_location": cspr.published_at_location if cspr else None,
        "published_until": cspr.available_until if cspr else None,
        "partners_response_on": cspr.partners_response_on if cspr else None,
    }


def child_rows(case: Case) -> list[ChildRow]:
    on = case.referral.received_on
    return [
        ChildRow(
            case_ref=case.case_ref,
            child_no=number,
            age_band=age_band(child, on),
            sex=child.sex,
            ethnicity=child.ethnicity,
            disability=child.disability,
            looked_after=child.looked_after,
            child_protection_plan=child.child_protection_plan,
            care_leaver=child.care_leaver,
        )
        for number, child in enumerate(case.referral.children, start=1)
    ]


def deadline_rows(case: Case) -> list[DeadlineRow]:
    return [
        DeadlineRow(
            case_ref=case.case_ref,
            deadline_id=d.deadline_id,
            kind=d.kind.value,
            title=d.title,
            owner=d.owner,
            statutory=d.statutory,
            basis=d.basis,
            due_on=d.due_on,
            original_due_on=d.extensions[0].previous_due_on if d.extensions else d.due_on,
            opened_at=d.opened_at,
            outcome=deadline_outcome(d),
            met_on=d.met_on,
            withdrawn_at=d.withdrawn_at,
            reminded_at=d.reminded_at,
            escalated_at=d.escalated_at,
            escalated_again_at=d.escalated_again_at,
            extensions=len(d.extensions),
            revisions=d.revisions,
        )
        for d in sorted(case.deadlines.values(), key=lambda d: d.deadline_id)
    ]


def action_rows(case: Case) -> list[ActionRow]:
    return [
        ActionRow(
            case_ref=case.case_ref,
            action_id=a.action_id,
            recommendation=a.recommendation,
            description=a.description,
            lead_agency=a.lead_agency.value,
            due_on=a.due_on,
            outcome_measure=a.outcome_measure,
            scope=a.scope.value,
            monitored_by=a.monitored_by,
            status=a.status.value,
            rag=a.rag.value if a.rag else None,
            evidence="\n".join(a.evidence),
            added_by_name=a.added_by.name,
            added_by_role=a.added_by.role.value,
            added_by_agency=a.added_by.agency.value,
            completed_on=a.completed_on,
        )
        for a in sorted(case.actions.values(), key=lambda a: a.action_id)
    ]


def learning_rows(case: Case) -> list[LearningRow]:
    return [
        LearningRow(
            case_ref=case.case_ref,
            learning_id=o.learning_id,
            output=o.output.value,
            title=o.title,
            source=o.source.value,
            owner=o.owner,
            due_on=o.due_on,
            status=o.status.value,
            disseminated_on=o.disseminated_on,
            reach=o.reach,
            reaudit_due_on=o.reaudit_due_on,
            impact=o.impact,
            impact_on=o.impact_on,
            planned_by_name=o.planned_by.name,
            planned_by_role=o.planned_by.role.value,
            planned_by_agency=o.planned_by.agency.value,
        )
        for o in sorted(case.learning.values(), key=lambda o: o.learning_id)
    ]


def history_row(case_ref: str, seq: int, entry: HistoryEntry) -> HistoryRow:
    return HistoryRow(
        case_ref=case_ref,
        seq=seq,
        at=entry.at,
        kind=entry.kind.value,
        stage=entry.stage.value,
        text=entry.text,
        decision_id=entry.decision_id,
        decision_kind=entry.decision_kind,
        by_name=entry.by.name if entry.by else None,
        by_role=entry.by.role.value if entry.by else None,
        by_agency=entry.by.agency.value if entry.by else None,
        via=entry.via,
        deadline_id=entry.deadline_id,
        occurred_on=entry.occurred_on,
        why=entry.why,
    )


def snapshot(case: Case, *, since: int = 0, limit: int | None = None) -> CaseSnapshot:
    """The case as rows, with history entries from position `since` (at most `limit` of them).
    Entries the case no longer holds (before `case.history_base`: the register has them) are
    not in it, so `history_from` may be later than `since`."""
    base, count = case.history_base, case.history_count
    since = max(base, min(since, count))
    upto = count if limit is None else min(count, since + limit)
    return CaseSnapshot(
        case=case_row(case),
        children=child_rows(case),
        deadlines=deadline_rows(case),
        actions=action_rows(case),
        history_from=since,
        history_upto=upto,
        history=[
            history_row(case.case_ref, seq, case.history[seq - base]) for seq in range(since, upto)
        ],
        learning=learning_rows(case),
    )


# ----------------------------------------------------------------------- sending less


def _key(row: _Row) -> str:
    if isinstance(row, ChildRow):
        return f"child:{row.child_no}"
    if isinstance(row, DeadlineRow):
        return f"deadline:{row.deadline_id}"
    if isinstance(row, ActionRow):
        return f"action:{row.action_id}"
    if isinstance(row, LearningRow):
        return f"learning:{row.learning_id}"
    return "case"


def _unchanged(row: _Row, acknowledged: dict[str, _Row]) -> bool:
    """The register already has this row as it is."""
    return acknowledged.get(_key(row)) == row


def only_changed(snap: CaseSnapshot, acknowledged: dict[str, _Row]) -> CaseSnapshot:
    """The snapshot without the children, deadlines and actions the register acknowledged as
    they are now. The case row always goes (it is small and carries the version)."""
    return snap.model_copy(
        update={
            "children": [r for r in snap.children if not _unchanged(r, acknowledged)],
            "deadlines": [r for r in snap.deadlines if not _unchanged(r, acknowledged)],
            "actions": [r for r in snap.actions if not _unchanged(r, acknowledged)],
            "learning": [r for r in snap.learning if not _unchanged(r, acknowledged)],
        }
    )


def acknowledge(snap: CaseSnapshot, acknowledged: dict[str, _Row]) -> None:
    """Remember the rows the register now holds."""
    rows: list[_Row] = [snap.case, *snap.children, *snap.deadlines, *snap.actions, *snap.learning]
    for row in rows:
        acknowledged[_key(row)] = row


def is_decision(row: HistoryRow) -> bool:
    return row.kind == HistoryKind.DECISION.value and row.decision_id is not None


__all__ = [
    "AGE_BANDS",
    "MAX_HISTORY_PER_SNAPSHOT",
    "ActionRow",
    "CaseRow",
    "CaseSnapshot",
    "ChildRow",
    "DeadlineRow",
    "HistoryRow",
    "LearningRow",
    "acknowledge",
    "age_band",
    "only_changed",
    "snapshot",
]
