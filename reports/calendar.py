"""An iCalendar (RFC 5545) feed of upcoming deadlines and review-group meetings, for
coordinators to subscribe to or import, written by the `icalendar` library (escaping, folding
at 75 octets, CRLF line ends are its job).

One all-day event per open deadline: its UID is stable (case and deadline), so a calendar that
subscribes updates an event when the deadline moves (SEQUENCE grows with every move of the due
date: `Deadline.revisions`, and the extensions) instead of
adding another. The summary carries the case reference and the deadline's title only: never
anything about the child.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from reports.figures import CalendarEntry
from safeguarding.calendar import WorkingCalendar
from safeguarding.planning import next_meeting
from safeguarding.settings import PartnershipSettings

PRODID = "-//Safeguarding Review Orchestrator//Deadlines//EN"


def calendar(entries: Iterable[CalendarEntry], *, now: datetime, name: str) -> str:
    feed = Calendar()
    feed.add("version", "2.0")
    feed.add("prodid", PRODID)
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", name)
    feed.add("x-wr-timezone", "Europe/London")
    stamp = now.astimezone(UTC)
    for entry in entries:
        kind = "Meeting" if entry.kind == "meeting" else "Deadline"
        description = f"{kind} owed by {entry.owner}."
        if entry.statutory:
            description += " Statutory timescale."
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.on)  # a date: an all-day event (VALUE=DATE)
        event.add("dtend", entry.on + timedelta(days=1))
        event.add("summary", f"[{entry.case_ref}] {entry.title}")
        event.add("description", description)
        event.add("categories", [kind.upper()])
        event.add("sequence", entry.sequence)
        event.add("transp", "TRANSPARENT")
        feed.add_component(event)
    ical: bytes = feed.to_ical()
    return ical.decode("utf-8")


#: How far ahead the feed lists the review groups' meetings.
MEETINGS_AHEAD_DAYS = 183


def meetings(
    settings: PartnershipSettings,
    calendar: WorkingCalendar,
    from_day: date,
    days: int = MEETINGS_AHEAD_DAYS,
) -> list[CalendarEntry]:
    """The partnership's triage and review-group meetings from `from_day` for `days` days, as
    its profile's cadences and the working calendar hold them (a meeting on a closed day is held
    on the next working day, as deadline planning counts it). A virtual group has no dates."""
    until = from_day + timedelta(days=days)
    entries: list[CalendarEntry] = []
    for cadence in (settings.triage_meeting, settings.review_group_meetings):
        if cadence is None or cadence.kind == "virtual":
            continue
        day = next_meeting(cadence, from_day - timedelta(days=1), calendar)
        while day <= until:
            entries.append(
                CalendarEntry(
                    uid=f"{settings.code}.meeting.{_slug(cadence.group)}.{day.isoformat()}"
                    "@safeguarding-review-orchestrator",
                    case_ref=settings.code,
                    title=cadence.group,
                    kind="meeting",
                    on=day,
                    sequence=0,
                    owner=settings.review_group,
                    statutory=False,
                )
            )
            day = next_meeting(cadence, day, calendar)
    return sorted(entries, key=lambda e: (e.on, e.uid))


def _slug(text: str) -> str:
    return "".join(c.lower() if c.isalnum() else "-" for c in text).strip("-")[:40]
