"""The register's tables (SQLModel). A projection of the workflows: `sro register rebuild`
recreates every row but the learning outputs from the workflows themselves.

Columns mirror the row models of `safeguarding.projection` one for one (a test checks it). Times
are stored as naive UTC; dates as dates. Natural keys are the primary keys, so every write is an
upsert or an insert-if-absent and a retried activity never duplicates a row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, LargeBinary, Text
from sqlmodel import Field, SQLModel

from register import sealing

#: The tables `sro register rebuild` fills from the workflows.
PROJECTED_TABLES = (
    "cases",
    "children",
    "deadlines",
    "actions",
    "history",
    "decisions",
    "case_learning",
)
#: Issue 13, item 12: the tables each professional-disagreement escalation writes itself.
ESCALATION_TABLES = ("escalations", "escalation_stages")


class CaseRecord(SQLModel, table=True):
    """One row per case: where it is and what the national statistics count."""

    __tablename__ = "cases"

    case_ref: str = Field(primary_key=True, max_length=40)
    partnership: str = Field(index=True)
    partnership_name: str
    stage: str
    route: str
    opened_at: datetime = Field(sa_type=DateTime)
    closed_at: datetime | None = Field(default=None, sa_type=DateTime)
    received_on: date
    aware_on: date
    late_referral: bool
    harm: str
    abuse_or_neglect_suspected: bool
    referrer_agency: str
    agencies_involved: str
    children: int
    care_leaver: bool
    other_review_type: str | None = None
    notification_reference: str | None = None
    notified_on: date | None = None
    rapid_review_on: date | None = None
    rapid_review_recommendation: str | None = None
    possible_national_importance: bool
    panel_response_on: date | None = None
    panel_agrees: bool | None = None
    panel_outcome: str | None = None
    national_review: bool
    cspr_decided_on: date | None = None
    lead_reviewer: str | None = None
    planned_publication_on: date | None = None
    published_on: date | None = None
    not_published: bool
    case_of_concern_approach: str | None = None
    runs: int
    history_count: int
    # Issue #13, items 2, 5 and 7 (migration 0003).
    where_harmed: str | None = None
    #: None: a case registered before the answer was recorded here.
    discussed_with_safeguarding_lead: bool | None = None
    referral_quality_assured_on: date | None = None
    notified_outside_criteria: str | None = Field(default=None, sa_type=Text)
    la_notice_on: date | None = None
    # Issue #13 items 1, 4, 6, 9, 10 (migration 0004): the Rapid Review sent to the Panel, the
    # Local CSPR's clock, a care leaver's next step, involvement, and publication.
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


class ChildRecord(SQLModel, table=True):
    """National statistics about each child of a notification. Never a name or a birth date."""

    __tablename__ = "children"

    case_ref: str = Field(primary_key=True, foreign_key="cases.case_ref", max_length=40)
    child_no: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    age_band: str
    sex: str
    ethnicity: str | None = None
    disability: bool | None = None
    looked_after: bool
    child_protection_plan: bool
    care_leaver: bool


class DeadlineRecord(SQLModel, table=True):
    __tablename__ = "deadlines"

    case_ref: str = Field(primary_key=True, foreign_key="cases.case_ref", max_length=40)
    deadline_id: str = Field(primary_key=True, max_length=120)
    kind: str = Field(index=True)
    title: str
    owner: str
    statutory: bool
    basis: str
    due_on: date = Field(index=True)
    original_due_on: date
    opened_at: datetime = Field(sa_type=DateTime)
    outcome: str
    met_on: date | None = None
    withdrawn_at: datetime | None = Field(default=None, sa_type=DateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=DateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=DateTime)
    escalated_again_at: datetime | None = Field(default=None, sa_type=DateTime)
    extensions: int
    #: Times the due date moved (migration 0008): the calendar's SEQUENCE.
    revisions: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class ActionRecord(SQLModel, table=True):
    __tablename__ = "actions"

    case_ref: str = Field(primary_key=True, foreign_key="cases.case_ref", max_length=40)
    action_id: str = Field(primary_key=True, max_length=80)
    recommendation: str = Field(sa_type=Text)
    description: str = Field(sa_type=Text)
    lead_agency: str = Field(index=True)
    due_on: date
    outcome_measure: str = Field(sa_type=Text)
    scope: str
    monitored_by: str
    status: str
    rag: str | None = None
    evidence: str = Field(sa_type=Text)
    added_by_name: str
    added_by_role: str
    added_by_agency: str
    completed_on: date | None = None


class HistoryRecord(SQLModel, table=True):
    """Every entry of every case's history: decisions, refusals, stage changes, deadlines
    opened, met, extended and withdrawn, reminders and escalations. `seq` is the entry's index
    in the case history (stable across continue-as-new)."""

    __tablename__ = "history"

    case_ref: str = Field(primary_key=True, foreign_key="cases.case_ref", max_length=40)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=DateTime, index=True)
    kind: str = Field(index=True)
    stage: str
    text: str = Field(sa_type=Text)
    decision_id: str | None = None
    decision_kind: str | None = None
    by_name: str | None = None
    by_role: str | None = None
    by_agency: str | None = None
    via: str | None = None
    deadline_id: str | None = None
    occurred_on: date | None = None
    why: str | None = Field(default=None, sa_type=Text)


class DecisionRecord(SQLModel, table=True):
    """Who decided what, when and why: one row per decision applied to a case."""

    __tablename__ = "decisions"

    case_ref: str = Field(primary_key=True, foreign_key="cases.case_ref", max_length=40)
    decision_id: str = Field(primary_key=True, max_length=80)
    seq: int
    kind: str = Field(index=True)
    decided_at: datetime = Field(sa_type=DateTime)
    occurred_on: date | None = None
    by_name: str
    by_role: str
    by_agency: str
    via: str | None = None
    stage: str
    what: str = Field(sa_type=Text)
    why: str | None = Field(default=None, sa_type=Text)


class LearningOutput(SQLModel, table=True):
    """A learning output a coordinator records: a 7-minute briefing or training produced.
    Not a projection: `sro report learning add` writes it (adding the same one again is a
    no-op)."""

    __tablename__ = "learning_outputs"

    kind: str = Field(primary_key=True, max_length=20)
    #: A keyed hash of the title (migration 0010, `register/sealing.py`): the title is sealed,
    #: and a sealed value differs every time, so this is what finds the same output again.
    title_key: str = Field(default="", primary_key=True, max_length=120)
    title: str = Field(sa_type=Text)
    #: The case it came from ('' for none).
    case_ref: str = Field(primary_key=True, default="", max_length=40)
    produced_on: date = Field(primary_key=True)
    partnership: str | None = Field(default=None, index=True)
    recorded_by: str | None = None


class CaseLearningRecord(SQLModel, table=True):
    """Issue 13, item 11: a learning output planned from a case's review, owned by the learning
    group, tracked to dissemination and its re-audit. A projection (`LearningRow`)."""

    __tablename__ = "case_learning"

    case_ref: str = Field(primary_key=True, foreign_key="cases.case_ref", max_length=40)
    learning_id: str = Field(primary_key=True, max_length=80)
    output: str = Field(index=True)
    title: str
    source: str
    owner: str
    due_on: date
    status: str
    disseminated_on: date | None = None
    reach: str | None = Field(default=None, sa_type=Text)
    reaudit_due_on: date | None = None
    impact: str | None = Field(default=None, sa_type=Text)
    impact_on: date | None = None
    planned_by_name: str
    planned_by_role: str
    planned_by_agency: str


class EscalationRecord(SQLModel, table=True):
    """Issue 13, item 12: one row per professional-disagreement escalation, written by its
    workflow (`EscalationRow`). Never the concern or the resolution's words."""

    __tablename__ = "escalations"

    escalation_ref: str = Field(primary_key=True, max_length=40)
    partnership: str = Field(index=True)
    partnership_name: str
    #: The case it concerns (not a foreign key: the case may not be in this register).
    linked_case_ref: str | None = Field(default=None, max_length=40)
    raised_with: str
    raised_by_name: str
    raised_by_role: str
    raised_by_agency: str
    raised_on: date | None = None
    opened_at: datetime = Field(sa_type=DateTime)
    stage: int
    stage_name: str
    formal: bool
    oversight_from_stage: int
    overseen: bool
    partnership_notified_at: datetime | None = Field(default=None, sa_type=DateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime)
    resolved_by_name: str | None = None
    resolved_by_role: str | None = None
    resolved_by_agency: str | None = None
    history_count: int


class EscalationStageRecord(SQLModel, table=True):
    """Issue 13, item 12: each stage an escalation reached, with its times."""

    __tablename__ = "escalation_stages"

    escalation_ref: str = Field(
        primary_key=True, foreign_key="escalations.escalation_ref", max_length=40
    )
    stage: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str
    who: str
    formal: bool
    entered_at: datetime = Field(sa_type=DateTime)
    due_on: date | None = None
    left_at: datetime | None = Field(default=None, sa_type=DateTime)
    left_because: str | None = None


class ConsoleSession(SQLModel, table=True):
    """A web console session. Not a projection: the console writes it. The cookie carries only
    a random token; the row is keyed by the token's SHA-256, so whoever reads the database
    cannot sign in with what they read. Signing out or an administrator's revoke sets
    `revoked_at`; the console also ends a session at `expires_at` (absolute lifetime) and when
    `last_seen_at` is older than its idle timeout."""

    __tablename__ = "console_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    #: None until the visitor signs in (the sign-in form's CSRF token lives in such a session).
    username: str | None = Field(default=None, index=True, max_length=40)
    created_at: datetime = Field(sa_type=DateTime)
    last_seen_at: datetime = Field(sa_type=DateTime)
    expires_at: datetime = Field(sa_type=DateTime, index=True)
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime)
    #: Why it ended: signed_out, revoked, signed_in (an anonymous session replaced).
    revoked_why: str | None = Field(default=None, max_length=20)
    #: JSON: the CSRF token and flash messages (never personal data of a child).
    data: str = Field(default="{}", sa_type=Text)


class AccessRecord(SQLModel, table=True):
    """One view of a case's personal data: who (username, role, agency as the interface knows
    them), when, which case, which kind of data and through what (issue 14; DATA-PROTECTION.md).
    Not a projection: the console, `sro status` and the codec server write it. It never holds
    the child's personal data: only a case reference, a professional's account and kinds."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=DateTime, index=True)
    #: None: the codec server decoded payloads it could not tie to a case.
    case_ref: str | None = Field(default=None, index=True, max_length=40)
    username: str = Field(index=True, max_length=80)
    role: str | None = Field(default=None, max_length=40)
    agency: str | None = Field(default=None, max_length=40)
    #: console, sro or codec.
    via: str = Field(max_length=20)
    #: Which kind of data was shown, comma-separated: referral, free_text, payloads.
    data: str = Field(max_length=200)
    #: Where: the page or command ("case page", "action plan", "sro status", "decode 3").
    what: str = Field(max_length=200)


class LegalHold(SQLModel, table=True):
    """A legal hold on a case (issue 14, point 3): while it is not lifted, the case's records
    are not disposed of, whatever the retention schedule says. Set and lifted by a person, with
    why, both recorded. Not a projection: `sro register hold` writes it."""

    __tablename__ = "legal_holds"

    id: int | None = Field(default=None, primary_key=True)
    case_ref: str = Field(index=True, max_length=40)
    set_at: datetime = Field(sa_type=DateTime)
    set_by: str = Field(max_length=80)
    #: Why (a court order, a police investigation, a complaint): no child's personal data.
    reason: str = Field(max_length=500)
    lifted_at: datetime | None = Field(default=None, sa_type=DateTime)
    lifted_by: str | None = Field(default=None, max_length=80)
    lifted_why: str | None = Field(default=None, max_length=500)


class DisposalRecord(SQLModel, table=True):
    """What a disposal run did to one case under one rule (issue 14, point 3): `disposed` (the
    rule's records removed) or `refused` (a legal hold), when, asked for by whom, in which run,
    under which rule of which schedule. Keyed by run, case and rule, so a retried activity
    records once. Holds no personal data."""

    __tablename__ = "disposals"

    run_id: str = Field(primary_key=True, max_length=80)
    case_ref: str = Field(primary_key=True, max_length=40)
    rule: str = Field(primary_key=True, max_length=40)
    outcome: str = Field(index=True, max_length=20)
    at: datetime = Field(sa_type=DateTime, index=True)
    by: str = Field(max_length=80)
    #: The rule in words and the schedule's basis, as they stood.
    rule_text: str = Field(max_length=500)
    #: What was removed (column and row counts), or why it was refused.
    detail: str = Field(sa_type=Text)


class CaseKeyRecord(SQLModel, table=True):
    """A case's data key (issue 14, point 3; DATA-PROTECTION.md section 5), sealed by the key
    ring: every payload of the case's workflow is encrypted with it. Destroyed by the disposal
    run (`wrapped` NULL), which makes every copy of the case's history unreadable
    (crypto-shredding); the row stays as a tombstone. Read and written without the ORM by
    `register.case_keys`; the disposal run destroys it through this model."""

    __tablename__ = "case_keys"

    #: `ck-` and 16 hex digits of SHA-256 of the case reference (`register.case_keys.key_id`).
    key_id: str = Field(primary_key=True, max_length=40)
    wrapped: bytes | None = Field(default=None, sa_type=LargeBinary)
    #: The ring key that sealed it.
    wrapped_by: str = Field(max_length=40)
    created_at: datetime = Field(sa_type=DateTime)
    destroyed_at: datetime | None = Field(default=None, sa_type=DateTime)
    destroyed_by_run: str | None = Field(default=None, max_length=80)


# Issue 14: personal free text sealed on flush and opened on load (register/sealing.py).
sealing.watch(
    CaseRecord, DecisionRecord, HistoryRecord, ActionRecord, CaseLearningRecord, LearningOutput
)

__all__ = [
    "ESCALATION_TABLES",
    "PROJECTED_TABLES",
    "AccessRecord",
    "ActionRecord",
    "CaseKeyRecord",
    "CaseLearningRecord",
    "CaseRecord",
    "ChildRecord",
    "ConsoleSession",
    "DeadlineRecord",
    "DecisionRecord",
    "DisposalRecord",
    "EscalationRecord",
    "EscalationStageRecord",
    "HistoryRecord",
    "LearningOutput",
    "LegalHold",
    "SQLModel",
]
