"""An iCalendar (RFC 5545) feed of upcoming deadlines and review-group meetings, for
coordinators to subscribe to or import, written by the `icalendar` library (escaping, folding
at 75 octets, CRLF line ends are its job).

One all-day event per open deadline: its UID is stable (case and deadline), so a calendar that
subscribes updates an event when the deadline moves (SEQUENCE counts the extensions) instead of
adding another. The summary carries the case reference and the deadline's title only: never
anything about the child.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from reports.figures import CalendarEntry

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
