"""Report figures, computed from the register.

`load()` reads the register (optionally one partnership) into a `RegisterData`: plain rows of the
columns the figures use, and with `reports=` only the rows those reports use. Everything else
here is a pure function of that data and the dates given, so the figures are unit-tested on a
seeded register with known counts.

Definitions (the annual report states them too):

- A **reporting year** runs from 1 April to 31 March (`2026-27`).
- **Referrals** are counted by the day the partnership received them, by the route each took.
- **Timeliness** counts the statutory deadlines *done* in the year: notifications (Serious
  Incident Notifications and care leaver deaths) within 5 working days of awareness, rapid
  reviews within 15 working days, Local CSPRs published (or the decision not to publish
  recorded) within 6 months of the decision to hold one. Each is measured against the statutory
  due date, before any agreed extension. Those still not done and overdue at the report date are
  shown beside them.
- An **overdue action** is one not complete (nor closed by the review group) on the report date
  whose due date has passed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, NamedTuple, Protocol, TypeVar

from sqlalchemy import Column, ColumnElement, Connection, Table, or_
from sqlalchemy.sql.base import ColumnCollection
from sqlmodel import Session, SQLModel, col, select

from register import sealing
from register.models import (
    ActionRecord,
    CaseRecord,
    ChildRecord,
    DeadlineRecord,
    DecisionRecord,
    HistoryRecord,
    LearningOutput,
)
from reports.learning import CaseLearningRow, as_outputs, load_case_learning, outstanding, reaudits
from reports.national import NationalCase, NationalFigures, load_national, national
from reports.oversight import EscalationRow, OversightFigures, StageRow, load_escalations, oversight
from reports.years import ReportingYear as ReportingYear  # re-exported: reports use it here
from safeguarding.projection import AGE_BANDS
from safeguarding.vocabulary import AGENCY_LABELS, Agency, DecisionKind, Route, Stage

FINISHED_ACTIONS = ("complete", "closed_by_review_group")
ESCALATION_KINDS = ("escalation", "second_escalation")
LEARNING_LABELS = {
    "briefing": "7-minute briefings",
    "training": "Training",
    "newsletter": "Newsletter items",
    "audit": "Audits",
}

ROUTE_LABELS: dict[str, str] = {
    Route.UNDECIDED.value: "Awaiting triage",
    Route.SERIOUS_INCIDENT.value: "Serious incident (rapid review under way)",
    Route.CARE_LEAVER_NOTIFICATION.value: "Care leaver death notified",
    Route.LOCAL_CSPR.value: "Local Child Safeguarding Practice Review",
    Route.LEARNING_ONLY.value: "Rapid review only (no further review)",
    Route.CASE_OF_CONCERN.value: "Case of Concern",
    Route.OTHER_REVIEW.value: "Other review (audit, local case review...)",
    Route.NO_FURTHER_ACTION.value: "No further action (advice given)",
    Route.SERIOUS_CONCERN.value: "Case of serious concern (rapid review under way, not notified)",
}


def route_label(route: str) -> str:
    return ROUTE_LABELS.get(route, route.replace("_", " "))


def stage_label(stage: str) -> str:
    try:
        return Stage(stage).label
    except ValueError:
        return stage.replace("_", " ")


def agency_label(agency: str) -> str:
    try:
        return AGENCY_LABELS[Agency(agency)]
    except ValueError:
        return agency.replace("_", " ")


# --------------------------------------------------------------------------- the register

#: The reports `load` reads the register for.
Report = Literal["annual", "summary", "calendar"]
REPORTS: tuple[Report, ...] = ("annual", "summary", "calendar")

#: The decisions the annual report counts (`outcomes`; the summary uses every decision).
ANNUAL_DECISION_KINDS = (
    DecisionKind.OUTCOME_SHARED.value,
    DecisionKind.OTHER_REVIEW_COMPLETED.value,
)

# What the figures read of each table: plain rows of the columns they use, named and typed as
# the register's columns (register/models.py), not ORM objects. Reading a row into an ORM object
# costs about ten times reading the row itself (BENCHMARKS.md, the annual report).


class CaseRow(NamedTuple):
    case_ref: str
    partnership: str
    stage: str
    route: str
    closed_at: datetime | None
    received_on: date
    harm: str
    notified_on: date | None
    rapid_review_on: date | None
    rapid_review_recommendation: str | None
    possible_national_importance: bool
    panel_response_on: date | None
    panel_agrees: bool | None
    national_review: bool
    cspr_decided_on: date | None
    published_on: date | None
    not_published: bool
    # Issue #13, items 2 and 5.
    notified_outside_criteria: str | None
    discussed_with_safeguarding_lead: bool | None


class ChildRow(NamedTuple):
    case_ref: str
    age_band: str


class DeadlineRow(NamedTuple):
    case_ref: str
    deadline_id: str
    kind: str
    title: str
    owner: str
    statutory: bool
    due_on: date
    original_due_on: date
    outcome: str
    met_on: date | None
    extensions: int
    revisions: int


class ActionRow(NamedTuple):
    case_ref: str
    recommendation: str
    lead_agency: str
    due_on: date
    status: str
    completed_on: date | None


class DecisionRow(NamedTuple):
    case_ref: str
    seq: int
    kind: str
    decided_at: datetime


class HistoryRow(NamedTuple):
    case_ref: str
    seq: int
    at: datetime
    kind: str
    text: str


@dataclass
class RegisterData:
    cases: list[CaseRow] = field(default_factory=list)
    children: list[ChildRow] = field(default_factory=list)
    deadlines: list[DeadlineRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)
    #: Every history entry; read for named reports, only those the reports use.
    history: list[HistoryRow] = field(default_factory=list)
    learning: list[LearningOutput] = field(default_factory=list)
    #: The reports the rows were read for (`load(..., reports=...)`).
    read_for: frozenset[Report] = frozenset(REPORTS)
    #: Issue 13, item 12: professional-disagreement escalations and their stages (summary).
    escalations: list[EscalationRow] = field(default_factory=list)
    escalation_stages: list[StageRow] = field(default_factory=list)
    #: Issue 13, item 11: the learning outputs planned from each case's review.
    case_learning: list[CaseLearningRow] = field(default_factory=list)
    #: Issue 13, item 13: the dates the National Panel's and the Department's figures use.
    national: list[NationalCase] = field(default_factory=list)

    def case(self, case_ref: str) -> CaseRow | None:
        return next((c for c in self.cases if c.case_ref == case_ref), None)

    def require(self, report: Report) -> None:
        """Refuse to compute a report from rows read for other reports (its figures would be
        silently short)."""
        if report not in self.read_for:
            read = ", ".join(sorted(self.read_for)) or "no report"
            raise ValueError(
                f"the register was read for {read}, not the {report} report: "
                f"load(..., reports=[{report!r}])"
            )


def learning_outputs(session: Session, partnership: str | None = None) -> list[LearningOutput]:
    """The learning outputs recorded (for one partnership: its own and its cases')."""
    stmt = select(LearningOutput)
    if partnership is not None:
        stmt = stmt.where(
            or_(
                col(LearningOutput.partnership) == partnership,
                col(LearningOutput.case_ref).in_(
                    select(CaseRecord.case_ref).where(CaseRecord.partnership == partnership)
                ),
            )
        )
    return sorted(session.exec(stmt).all(), key=lambda o: (o.produced_on, o.kind, o.title))


_Row = TypeVar("_Row", bound=tuple[Any, ...])


def _columns(model: type[SQLModel]) -> ColumnCollection[str, Column[Any]]:
    found = model.__table__  # type: ignore[attr-defined]  # on every table=True model
    assert isinstance(found, Table)
    columns: ColumnCollection[str, Column[Any]] = found.c
    return columns


@dataclass(frozen=True)
class _Reader:
    """Reads plain rows of one partnership's cases (or all) in the session's transaction."""

    connection: Connection
    partnership: str | None

    def read(
        self,
        make: Callable[[Iterable[Any]], _Row],
        fields: tuple[str, ...],
        model: type[SQLModel],
        *where: ColumnElement[bool],
        order_by: tuple[str, ...] = (),
    ) -> list[_Row]:
        c = _columns(model)
        # Personal text is sealed (register/sealing.py): read the row's key too, to open it.
        name = str(model.__tablename__)
        names = sealing.read_columns(name, fields)
        stmt = select(*(c[n] for n in names)).where(*where)
        if self.partnership is not None:
            cases = _columns(CaseRecord)
            if model is CaseRecord:
                stmt = stmt.where(cases.partnership == self.partnership)
            else:
                chosen = select(cases.case_ref).where(cases.partnership == self.partnership)
                stmt = stmt.where(c.case_ref.in_(chosen))
        stmt = stmt.order_by(*(c[name] for name in order_by))
        found = self.connection.execute(stmt)
        return [make(row) for row in sealing.open_tuples(name, names, found, len(fields))]


def load(
    session: Session, partnership: str | None = None, *, reports: Iterable[Report] | None = None
) -> RegisterData:
    """Read the register: one partnership's cases and what belongs to them, or everything.

    `reports` names the reports the data is for (default: all of `REPORTS`, and the whole
    history): only the tables and rows they use are read. The annual report reads no history and
    only the decisions it counts (`ANNUAL_DECISION_KINDS`); the summary reads only the
    escalations from the history; the calendar only the open deadlines. The rows are plain rows
    of the columns the figures use (`CaseRow`...), read in the session's transaction."""
    wanted = frozenset(REPORTS if reports is None else reports)
    if unknown := wanted - set(REPORTS):
        raise ValueError(f"no such report: {', '.join(sorted(unknown))}; one of {REPORTS}")
    annual, summary = "annual" in wanted, "summary" in wanted
    reader = _Reader(session.connection(), partnership)
    data = RegisterData(read_for=wanted)
    if annual or summary:
        data.cases = reader.read(CaseRow._make, CaseRow._fields, CaseRecord, order_by=("case_ref",))
        data.actions = reader.read(ActionRow._make, ActionRow._fields, ActionRecord)
        counted = () if summary else (_columns(DecisionRecord).kind.in_(ANNUAL_DECISION_KINDS),)
        data.decisions = reader.read(
            DecisionRow._make, DecisionRow._fields, DecisionRecord, *counted
        )
        data.case_learning = load_case_learning(session.connection(), partnership)
        data.learning = sorted(
            [*learning_outputs(session, partnership), *as_outputs(data.case_learning, partnership)],
            key=lambda o: (o.produced_on, o.kind, o.title),
        )
    if annual:
        data.children = reader.read(ChildRow._make, ChildRow._fields, ChildRecord)
        data.national = load_national(session.connection(), partnership)
    if wanted:
        open_only = () if annual or summary else (_columns(DeadlineRecord).outcome == "open",)
        data.deadlines = reader.read(
            DeadlineRow._make, DeadlineRow._fields, DeadlineRecord, *open_only
        )
    if summary:
        data.escalations, data.escalation_stages = load_escalations(
            session.connection(), partnership
        )
        every = reports is None
        escalations = () if every else (_columns(HistoryRecord).kind.in_(ESCALATION_KINDS),)
        data.history = reader.read(
            HistoryRow._make,
            HistoryRow._fields,
            HistoryRecord,
            *escalations,
            order_by=("case_ref", "seq"),
        )
    return data


# --------------------------------------------------------------------------- periods


# --------------------------------------------------------------------------- annual report


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class Timeliness:
    """One statutory timescale: how many were done in the year, and how many of those in time."""

    measure: str
    timescale: str
    done: int
    in_time: int
    #: Not done yet and past the statutory due date on the report date.
    overdue_outstanding: int

    @property
    def late(self) -> int:
        return self.done - self.in_time

    @property
    def percent(self) -> float | None:
        return round(100 * self.in_time / self.done, 1) if self.done else None


@dataclass(frozen=True)
class AgencyActions:
    agency: str
    open: int
    overdue: int


@dataclass(frozen=True)
class AnnualFigures:
    year: ReportingYear
    as_of: date
    partnership: str | None
    referrals: int
    by_route: list[Count]
    outcomes: list[Count]
    notifications_by_harm: list[Count]
    children_by_age_band: list[Count]
    timeliness: list[Timeliness]
    actions_by_agency: list[AgencyActions]
    learning: list[Count]
    learning_titles: list[tuple[date, str, str]]
    #: Issue 13, item 13: the year's figures for the National Panel and the Department.
    national: NationalFigures | None = None
    #: Issue 13, item 11: re-audits of learning's impact on practice recorded in the year.
    learning_reaudits: int = 0


TIMESCALES: tuple[tuple[str, str, str], ...] = (
    ("notification", "Notifications made within 5 working days", "5 working days"),
    ("rapid_review", "Rapid reviews completed within 15 working days", "15 working days"),
    (
        "cspr_publication",
        "Local CSPRs published (or not-publishing recorded) within 6 months",
        "6 months",
    ),
)


def timeliness(data: RegisterData, year: ReportingYear, as_of: date) -> list[Timeliness]:
    found = []
    for kind, measure, timescale in TIMESCALES:
        of_kind = [d for d in data.deadlines if d.kind == kind and d.outcome != "withdrawn"]
        done = [d for d in of_kind if d.met_on is not None and d.met_on in year]
        in_time = [d for d in done if d.met_on is not None and d.met_on <= d.original_due_on]
        outstanding = [d for d in of_kind if d.met_on is None and d.original_due_on < as_of]
        found.append(
            Timeliness(
                measure=measure,
                timescale=timescale,
                done=len(done),
                in_time=len(in_time),
                overdue_outstanding=len(outstanding),
            )
        )
    return found


def action_overdue(action: ActionRow, on: date) -> bool:
    """Not finished on `on` (or finished only after it), and due before it."""
    finished = action.status in FINISHED_ACTIONS and (
        action.completed_on is None or action.completed_on <= on
    )
    return not finished and action.due_on < on


def action_open(action: ActionRow, on: date) -> bool:
    return not (
        action.status in FINISHED_ACTIONS
        and (action.completed_on is None or action.completed_on <= on)
    )


def actions_by_agency(data: RegisterData, as_of: date) -> list[AgencyActions]:
    open_by: Counter[str] = Counter()
    overdue_by: Counter[str] = Counter()
    for action in data.actions:
        if action_open(action, as_of):
            open_by[action.lead_agency] += 1
        if action_overdue(action, as_of):
            overdue_by[action.lead_agency] += 1
    return [
        AgencyActions(agency=agency_label(a), open=open_by[a], overdue=overdue_by[a])
        for a in sorted(open_by, key=lambda a: (-overdue_by[a], -open_by[a], a))
    ]


def _counts(labels: Iterable[str], order: Iterable[str] = ()) -> list[Count]:
    counted = Counter(labels)
    ordered = [k for k in order if k in counted] + sorted(k for k in counted if k not in order)
    return [Count(k, counted[k]) for k in ordered]


def _statutory_triage(cases: list[CaseRow], year: ReportingYear) -> tuple[int, int, int]:
    """Issue #13: notifications made although a statutory criterion was not met, referrals
    not discussed with a safeguarding lead first, Rapid Reviews without a notification."""
    return (
        sum(c.notified_on in year and bool(c.notified_outside_criteria) for c in cases),
        sum(c.received_on in year and c.discussed_with_safeguarding_lead is False for c in cases),
        sum(c.rapid_review_on in year and c.notified_on is None for c in cases),
    )


def outcomes(data: RegisterData, year: ReportingYear) -> list[Count]:
    """What happened in the year, whenever the case began."""
    cases = data.cases
    by_ref = {c.case_ref: c for c in cases}
    outside_criteria, undiscussed, serious_concern = _statutory_triage(cases, year)
    rows = [
        ("Serious Incident Notifications made", sum(c.notified_on in year for c in cases)),
        ("  although a statutory criterion was not met (reason recorded)", outside_criteria),
        ("Referrals not discussed with a safeguarding lead first", undiscussed),
        (
            "Rapid reviews completed",
            sum(c.rapid_review_on in year for c in cases),
        ),
        (
            "  recommending a Local CSPR",
            sum(
                c.rapid_review_on in year and c.rapid_review_recommendation == "local_cspr"
                for c in cases
            ),
        ),
        (
            "  recommending no further review",
            sum(
                c.rapid_review_on in year and c.rapid_review_recommendation == "no_further_review"
                for c in cases
            ),
        ),
        ("  without a notification (cases of serious concern)", serious_concern),
        (
            "  of possible national importance",
            sum(c.rapid_review_on in year and c.possible_national_importance for c in cases),
        ),
        ("National Panel responses", sum(c.panel_response_on in year for c in cases)),
        (
            "  agreeing with the partnership's decision",
            sum(c.panel_response_on in year and bool(c.panel_agrees) for c in cases),
        ),
        (
            "  national reviews taken by the Panel",
            sum(c.panel_response_on in year and c.national_review for c in cases),
        ),
        ("Local CSPRs begun", sum(c.cspr_decided_on in year for c in cases)),
        ("Local CSPRs published", sum(c.published_on in year for c in cases)),
        (
            "Local CSPRs not published (reasons recorded)",
            sum(
                1
                for d in data.deadlines
                if d.kind == "cspr_publication"
                and d.met_on in year
                and (c := by_ref.get(d.case_ref)) is not None
                and c.not_published
            ),
        ),
        (
            "Cases of Concern reviews completed",
            sum(
                1
                for d in data.decisions
                if d.kind == DecisionKind.OUTCOME_SHARED.value and d.decided_at in year
            ),
        ),
        (
            "Other reviews completed",
            sum(
                1
                for d in data.decisions
                if d.kind == DecisionKind.OTHER_REVIEW_COMPLETED.value and d.decided_at in year
            ),
        ),
        ("Cases closed", sum(c.closed_at is not None and c.closed_at in year for c in cases)),
    ]
    return [Count(label, count) for label, count in rows]


def annual(
    data: RegisterData, year: ReportingYear, as_of: date, partnership: str | None = None
) -> AnnualFigures:
    data.require("annual")
    received = [c for c in data.cases if c.received_on in year]
    notified = {c.case_ref: c for c in data.cases if c.notified_on in year}
    learning = [o for o in data.learning if o.produced_on in year]
    return AnnualFigures(
        year=year,
        as_of=as_of,
        partnership=partnership,
        referrals=len(received),
        by_route=[
            Count(route_label(c.label), c.count)
            for c in _counts((c.route for c in received), ROUTE_LABELS)
        ],
        outcomes=outcomes(data, year),
        notifications_by_harm=[
            Count(c.label.replace("_", " "), c.count)
            for c in _counts((c.harm for c in notified.values()), ("death", "serious_harm"))
        ],
        children_by_age_band=_counts(
            (ch.age_band for ch in data.children if ch.case_ref in notified), AGE_BANDS
        ),
        timeliness=timeliness(data, year, as_of),
        actions_by_agency=actions_by_agency(data, as_of),
        learning=[
            Count(LEARNING_LABELS.get(c.label, c.label), c.count)
            for c in _counts((o.kind for o in learning), LEARNING_LABELS)
        ],
        learning_titles=[(o.produced_on, o.kind, o.title) for o in learning],
        national=national(data.national, data.deadlines, year),
        learning_reaudits=reaudits(data.case_learning, year),
    )


# --------------------------------------------------------------------------- bi-monthly summary


@dataclass(frozen=True)
class ReviewLine:
    case_ref: str
    partnership: str
    route: str
    stage: str
    received_on: date
    closed_on: date | None
    deadlines_met: int
    deadlines_missed: int
    deadlines_due: int
    overdue: int
    next_deadline: str | None
    next_due_on: date | None
    actions_done: int
    actions: int
    actions_overdue: int
    decisions_since: int
    last_decision: str | None
    themes: list[str]


@dataclass(frozen=True)
class Theme:
    theme: str
    reviews: int


@dataclass(frozen=True)
class SummaryFigures:
    since: date
    as_of: date
    partnership: str | None
    reviews: list[ReviewLine]
    themes: list[Theme]
    decisions_since: int
    escalations_since: list[tuple[str, datetime, str]]
    learning_since: list[tuple[date, str, str]]
    #: Issue 13, item 12: professional disagreements in the review group's oversight.
    oversight: OversightFigures | None = None
    #: Issue 13, item 11: learning outputs planned and not yet disseminated (case, what, due,
    #: overdue).
    learning_outstanding: list[tuple[str, str, date, bool]] = field(default_factory=list)

    @property
    def open_reviews(self) -> int:
        return sum(r.closed_on is None for r in self.reviews)


class _OfCase(Protocol):
    @property
    def case_ref(self) -> str: ...


_OfCaseRow = TypeVar("_OfCaseRow", bound=_OfCase)


def _by_case(rows: Iterable[_OfCaseRow]) -> dict[str, list[_OfCaseRow]]:
    """The rows of each case, in the order given."""
    found: defaultdict[str, list[_OfCaseRow]] = defaultdict(list)
    for row in rows:
        found[row.case_ref].append(row)
    return found


def _theme(text: str) -> str:
    return " ".join(text.split()).rstrip(".")


def summary(
    data: RegisterData, since: date, as_of: date, partnership: str | None = None
) -> SummaryFigures:
    """Every review open on `since` or later, its stage and progress, and the themes of its
    recommendations; what was decided and escalated since."""
    data.require("summary")
    deadlines_of = _by_case(data.deadlines)
    actions_of = _by_case(data.actions)
    decisions_of = _by_case(data.decisions)
    lines = []
    theme_reviews: Counter[str] = Counter()
    for case in data.cases:
        closed_on = case.closed_at.date() if case.closed_at else None
        if (closed_on is not None and closed_on < since) or case.received_on > as_of:
            continue
        deadlines = deadlines_of.get(case.case_ref, [])
        open_deadlines = sorted(
            (d for d in deadlines if d.outcome == "open"), key=lambda d: (d.due_on, d.deadline_id)
        )
        actions = actions_of.get(case.case_ref, [])
        decisions = sorted(decisions_of.get(case.case_ref, []), key=lambda d: d.seq)
        themes = sorted({_theme(a.recommendation) for a in actions})
        theme_reviews.update(themes)
        last = decisions[-1] if decisions else None
        lines.append(
            ReviewLine(
                case_ref=case.case_ref,
                partnership=case.partnership,
                route=route_label(case.route),
                stage=stage_label(case.stage),
                received_on=case.received_on,
                closed_on=closed_on,
                deadlines_met=sum(d.outcome == "met" for d in deadlines),
                deadlines_missed=sum(d.outcome == "missed" for d in deadlines),
                deadlines_due=len(open_deadlines),
                overdue=sum(d.due_on < as_of for d in open_deadlines),
                next_deadline=open_deadlines[0].title if open_deadlines else None,
                next_due_on=open_deadlines[0].due_on if open_deadlines else None,
                actions_done=sum(a.status in FINISHED_ACTIONS for a in actions),
                actions=len(actions),
                actions_overdue=sum(action_overdue(a, as_of) for a in actions),
                decisions_since=sum(since <= d.decided_at.date() <= as_of for d in decisions),
                last_decision=(
                    f"{last.kind.replace('_', ' ')} on {last.decided_at.date()}" if last else None
                ),
                themes=themes,
            )
        )
    lines.sort(key=lambda r: (r.closed_on is not None, r.received_on, r.case_ref))
    return SummaryFigures(
        since=since,
        as_of=as_of,
        partnership=partnership,
        reviews=lines,
        themes=[
            Theme(t, n) for t, n in sorted(theme_reviews.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        decisions_since=sum(since <= d.decided_at.date() <= as_of for d in data.decisions),
        escalations_since=[
            (h.case_ref, h.at, h.text)
            for h in data.history
            if h.kind in ESCALATION_KINDS and since <= h.at.date() <= as_of
        ],
        learning_since=[
            (o.produced_on, o.kind, o.title)
            for o in data.learning
            if since <= o.produced_on <= as_of
        ],
        oversight=oversight(data.escalations, data.escalation_stages, since, as_of),
        learning_outstanding=outstanding(data.case_learning, as_of),
    )


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class CalendarEntry:
    uid: str
    case_ref: str
    title: str
    kind: str
    on: date
    sequence: int
    owner: str
    statutory: bool


def upcoming(data: RegisterData, from_day: date) -> list[CalendarEntry]:
    """Open deadlines and review-group meetings due on `from_day` or later."""
    data.require("calendar")
    return [
        CalendarEntry(
            uid=f"{d.case_ref}.{d.deadline_id}@safeguarding-review-orchestrator",
            case_ref=d.case_ref,
            title=d.title,
            kind=d.kind,
            on=d.due_on,
            # Grows with every move (an extension counted twice: still only ever up).
            sequence=d.extensions + d.revisions,
            owner=d.owner,
            statutory=d.statutory,
        )
        for d in sorted(data.deadlines, key=lambda d: (d.due_on, d.case_ref, d.deadline_id))
        if d.outcome == "open" and d.due_on >= from_day
    ]
