"""An iCalendar (RFC 5545) feed of upcoming deadlines and review-group meetings, for
coordinators to subscribe to or import.

One all-day event per open deadline: its UID is stable (case and deadline), so a calendar that
subscribes updates an event when the deadline moves (SEQUENCE counts the extensions) instead of
adding another. The summary carries the case reference and the deadline's title only: never
anything about the child. Lines end in CRLF and are folded at 75 octets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from reports.figures import CalendarEntry

PRODID = "-//Safeguarding Review Orchestrator//Deadlines//EN"
LINE_OCTETS = 75


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    size = 0
    limit = LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            out.append(current)
            current, size = " ", 1  # a continuation line starts with one space
        current += char
        size += octets
    out.append(current)
    return "\r\n".join(out)


def _date(day: object) -> str:
    return f"{day:%Y%m%d}"


def calendar(entries: Iterable[CalendarEntry], *, now: datetime, name: str) -> str:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
        "X-WR-TIMEZONE:Europe/London",
    ]
    for entry in entries:
        kind = "Meeting" if entry.kind == "meeting" else "Deadline"
        description = f"{kind} owed by {entry.owner}."
        if entry.statutory:
            description += " Statutory timescale."
        lines += [
            "BEGIN:VEVENT",
            f"UID:{entry.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_date(entry.on)}",
            f"DTEND;VALUE=DATE:{_date(entry.on + timedelta(days=1))}",
            f"SUMMARY:{escape(f'[{entry.case_ref}] {entry.title}')}",
            f"DESCRIPTION:{escape(description)}",
            f"CATEGORIES:{escape(kind.upper())}",
            f"SEQUENCE:{entry.sequence}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
