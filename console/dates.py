"""Dates as people in England write and read them (issue 15, item 2).

The console shows a day as "4 Dec 2026" and takes one as 04/12/2026 (day first; 4/12/2026,
04-12-2026 and 04.12.2026 too), "4 Dec 2026" / "4 December 2026", or ISO 2026-12-04. A year
must have four digits (04/12/26 is refused: which century?), and a date that is not a day
(31/02/2026) or is written month first (12/25/2026) is refused with what to write instead.
The form fields are plain text inputs: a browser's own date input shows mm/dd/yyyy to anyone
whose browser is set to US English.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from safeguarding.clock import uk_local

EXAMPLE = "04/12/2026"
HINT = f"Day, month and year, for example {EXAMPLE} or 4 Dec 2026."

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d+)")
_WORDS = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d+)")


class BadDate(ValueError):
    """Not a date the console accepts; the message says what to write instead."""


def parse_day(text: str) -> date:
    """The day `text` names (see the module's notes), or BadDate saying why not."""
    text = " ".join(text.split())
    if found := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in found.groups())
        return _day(year, month, day, text)
    if found := _NUMERIC.fullmatch(text):
        day_text, _, month_text, year_text = found.groups()
        year = _year(year_text)
        if int(month_text) > 12 and int(day_text) <= 12:
            raise BadDate(
                f"{text} has no month {int(month_text)}: write the day first, for example "
                f"{EXAMPLE}."
            )
        return _day(year, int(month_text), int(day_text), text)
    if found := _WORDS.fullmatch(text):
        day_text, month_name, year_text = found.groups()
        named = _MONTHS.get(month_name.lower())
        if named is None:
            raise BadDate(f"{month_name!r} is not a month. {HINT}")
        return _day(_year(year_text), named, int(day_text), text)
    raise BadDate(f"Enter a date. {HINT}")


def _year(text: str) -> int:
    if len(text) != 4:
        raise BadDate(f"Write the year in full (four digits). {HINT}")
    return int(text)


def _day(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise BadDate(f"{text} is not a real date. {HINT}") from None


def words(day: date) -> str:
    """4 Dec 2026: how the pages show a day."""
    return f"{day.day} {day:%b %Y}"


_ISO_IN_TEXT = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def uk_dates_in(text: str) -> str:
    """Text the case wrote (its history: "Referral received on 2026-12-04") with each ISO
    date shown as the pages show dates ("4 Dec 2026"); anything not a real date is left."""

    def shown(found: re.Match[str]) -> str:
        try:
            return words(date.fromisoformat(found.group(0)))
        except ValueError:
            return found.group(0)

    return _ISO_IN_TEXT.sub(shown, text)


def uk_numeric(day: date) -> str:
    """04/12/2026: how a form shows a date it holds, and the CSV export writes one."""
    return f"{day:%d/%m/%Y}"


def uk_day_of(moment: datetime) -> date:
    """The day a moment falls on in England."""
    return uk_local(moment).date()


def input_value(value: object) -> str:
    """A date field's value as the form shows it: a date (or ISO text, as defaults and
    prefills hold them) as 04/12/2026; what someone typed, as they typed it."""
    if isinstance(value, date):
        return uk_numeric(value)
    text = "" if value is None else str(value)
    if _ISO.fullmatch(text):
        try:
            return uk_numeric(date.fromisoformat(text))
        except ValueError:
            return text
    return text
