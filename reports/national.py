"""Issue 13, item 13: the year's figures for the National Panel and the Department for
Education, in the annual report: notifications, Rapid Reviews completed (and sent to the Panel)
on time, Local CSPRs commissioned and published, and the time from commissioning to
publication.

From what the register holds. Where a date has a column of its own in newer registers (the day a
Rapid Review was sent to the Panel, the day a Local CSPR's clock starts: issue 13, items 1 and
6), `DATE_COLUMNS` lists it first, so it is read as soon as the register has it; until then the
figure falls back to the columns every register has, or is shown as not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from statistics import median
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, select

from register.models import CaseRecord
from reports.years import ReportingYear

#: For each date the figures use, the case columns that may hold it, first found first used.
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "notified_on": ("notified_on",),
    "rapid_review_on": ("rapid_review_on",),
    "sent_to_panel_on": ("rapid_review_sent_on",),
    # The decision that initiated the review (the clock, issue 13 item 1), else the Panel's
    # response that opened the Local CSPR in registers from before.
    "commissioned_on": ("cspr_clock_from", "cspr_decided_on"),
    "published_on": ("published_on",),
}


class NationalCase(NamedTuple):
    case_ref: str
    care_leaver: bool
    not_published: bool
    notified_on: date | None
    rapid_review_on: date | None
    sent_to_panel_on: date | None
    commissioned_on: date | None
    published_on: date | None


class _Deadline(Protocol):
    @property
    def case_ref(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def original_due_on(self) -> date: ...
    @property
    def met_on(self) -> date | None: ...
    @property
    def outcome(self) -> str: ...


def available(name: str) -> str | None:
    """The first register column that holds this date, if any."""
    columns = CaseRecord.__table__.c  # type: ignore[attr-defined]
    return next((c for c in DATE_COLUMNS[name] if c in columns), None)


def load_national(connection: Connection, partnership: str | None = None) -> list[NationalCase]:
    """Each case's dates: for each, the first of its columns (`DATE_COLUMNS`) the register has
    and that holds a value for the case (a row written before a newer column existed falls back
    to an older one)."""
    c = CaseRecord.__table__.c  # type: ignore[attr-defined]
    chosen: dict[str, list[str]] = {
        name: [column for column in columns if column in c]
        for name, columns in DATE_COLUMNS.items()
    }
    wanted = sorted({column for columns in chosen.values() for column in columns})
    stmt = select(c.case_ref, c.care_leaver, c.not_published, *(c[w] for w in wanted))
    if partnership is not None:
        stmt = stmt.where(c.partnership == partnership)
    found = []
    for row in connection.execute(stmt.order_by(c.case_ref)):
        values = row._mapping
        dates: dict[str, Any] = {
            name: next((values[col] for col in columns if values[col] is not None), None)
            for name, columns in chosen.items()
        }
        found.append(
            NationalCase(
                case_ref=values["case_ref"],
                care_leaver=values["care_leaver"],
                not_published=values["not_published"],
                **dates,
            )
        )
    return found


@dataclass(frozen=True)
class NationalFigures:
    notifications: int
    care_leaver_notifications: int
    notifications_in_time: int
    notifications_done: int
    rapid_reviews: int
    rapid_reviews_in_time: int
    #: None: the register does not record the day a Rapid Review was sent to the Panel.
    sent_to_panel: int | None
    sent_to_panel_in_time: int | None
    lcsprs_commissioned: int
    lcsprs_published: int
    lcsprs_published_in_time: int
    lcsprs_not_published: int
    #: Days from commissioning to publication, for each Local CSPR published in the year.
    days_to_publication: list[int]

    @property
    def median_days_to_publication(self) -> float | None:
        return median(self.days_to_publication) if self.days_to_publication else None


def _in_time(deadline: _Deadline | None, day: date | None) -> bool:
    return deadline is not None and day is not None and day <= deadline.original_due_on


def national(
    cases: list[NationalCase],
    deadlines: list[Any],
    year: ReportingYear,
    sent_recorded: bool | None = None,
) -> NationalFigures:
    """`sent_recorded`: whether the register records the day each Rapid Review was sent to the
    Panel (default: whether it has the column)."""
    due: dict[tuple[str, str], _Deadline] = {
        (d.case_ref, d.kind): d for d in deadlines if d.outcome != "withdrawn"
    }
    notified = [c for c in cases if c.notified_on in year]
    reviewed = [c for c in cases if c.rapid_review_on in year]
    sent = [c for c in cases if c.sent_to_panel_on in year]
    published = [c for c in cases if c.published_on in year]
    publication_done = [
        d
        for d in due.values()
        if d.kind == "cspr_publication" and d.met_on is not None and d.met_on in year
    ]
    recorded = available("sent_to_panel_on") is not None if sent_recorded is None else sent_recorded
    withheld = {c.case_ref for c in cases if c.not_published}
    return NationalFigures(
        notifications=len(notified),
        care_leaver_notifications=sum(c.care_leaver for c in notified),
        notifications_done=sum((c.case_ref, "notification") in due for c in notified),
        notifications_in_time=sum(
            _in_time(due.get((c.case_ref, "notification")), c.notified_on) for c in notified
        ),
        rapid_reviews=len(reviewed),
        rapid_reviews_in_time=sum(
            _in_time(due.get((c.case_ref, "rapid_review")), c.rapid_review_on) for c in reviewed
        ),
        sent_to_panel=len(sent) if recorded else None,
        sent_to_panel_in_time=(
            sum(_in_time(due.get((c.case_ref, "rapid_review")), c.sent_to_panel_on) for c in sent)
            if recorded
            else None
        ),
        lcsprs_commissioned=sum(c.commissioned_on in year for c in cases),
        lcsprs_published=len(published),
        lcsprs_published_in_time=sum(
            _in_time(due.get((c.case_ref, "cspr_publication")), c.published_on) for c in published
        ),
        lcsprs_not_published=sum(d.case_ref in withheld for d in publication_done),
        days_to_publication=sorted(
            (c.published_on - c.commissioned_on).days
            for c in published
            if c.published_on is not None and c.commissioned_on is not None
        ),
    )


def rows(fig: NationalFigures) -> list[tuple[str, str]]:
    """The figures as (measure, value) lines, as the annual report shows them."""

    def of(part: int, whole: int) -> str:
        return f"{part} of {whole}" if whole else "0"

    not_recorded = "not recorded in this register"
    days = fig.days_to_publication
    return [
        ("Serious Incident Notifications made", str(fig.notifications)),
        ("  of which care leaver deaths", str(fig.care_leaver_notifications)),
        ("  made within 5 working days", of(fig.notifications_in_time, fig.notifications)),
        ("Rapid Reviews completed", str(fig.rapid_reviews)),
        ("  within 15 working days", of(fig.rapid_reviews_in_time, fig.rapid_reviews)),
        (
            "Rapid Reviews sent to the National Panel",
            not_recorded if fig.sent_to_panel is None else str(fig.sent_to_panel),
        ),
        (
            "  sent within 15 working days",
            not_recorded
            if fig.sent_to_panel is None or fig.sent_to_panel_in_time is None
            else of(fig.sent_to_panel_in_time, fig.sent_to_panel),
        ),
        ("Local CSPRs commissioned", str(fig.lcsprs_commissioned)),
        ("Local CSPRs published", str(fig.lcsprs_published)),
        ("  within 6 months", of(fig.lcsprs_published_in_time, fig.lcsprs_published)),
        ("Local CSPRs not published (reasons recorded)", str(fig.lcsprs_not_published)),
        (
            "Time from commissioning to publication (days)",
            f"median {fig.median_days_to_publication:g}, {days[0]} to {days[-1]}"
            if days
            else "\u2013",
        ),
    ]


__all__ = ["DATE_COLUMNS", "NationalCase", "NationalFigures", "load_national", "national", "rows"]
