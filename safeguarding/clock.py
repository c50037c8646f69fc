"""UK local time, from the statutory rule: British Summer Time runs from 01:00 UTC on the last
Sunday of March to 01:00 UTC on the last Sunday of October (since 1996; before, it ended on the
first Sunday on or after 23 October from 1981 to 1989 and on or after 22 October to 1995). Pure
arithmetic with no time-zone database, so workflow code may use it (`uk_today(workflow.now())`)
and replay stays stable. It agrees with the time-zone database's Europe/London from 1981 on
(tests/safeguarding/test_clock.py checks 1990 to 2100); earlier years had other rules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache

#: English month abbreviations, as strftime's `%b` gives them in the C and English locales.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_month_year(day: date, *, padded: bool = False) -> str:
    """`4 Dec 2026` (`04 Dec 2026` padded): strftime's `%-d %b %Y` without strftime, which
    imports `time` on every call; in the workflow sandbox, through the sandbox's importer."""
    number = f"{day.day:02d}" if padded else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


@cache
def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@cache
def _summer_time_ends(year: int) -> date:
    if year >= 1996:
        return _last_sunday(year, 10)
    # Before the EU's common end date: the Sunday on or after 23 (1981-89) or 22 October (1990-95).
    earliest = date(year, 10, 23 if year <= 1989 else 22)
    return earliest + timedelta(days=(6 - earliest.weekday()) % 7)


def is_british_summer_time(moment: datetime) -> bool:
    utc = moment.astimezone(UTC)
    start = datetime.combine(_last_sunday(utc.year, 3), time(1), tzinfo=UTC)
    end = datetime.combine(_summer_time_ends(utc.year), time(1), tzinfo=UTC)
    return start <= utc < end


def uk_offset(moment: datetime) -> timedelta:
    return timedelta(hours=1) if is_british_summer_time(moment) else timedelta(0)


def uk_local(moment: datetime) -> datetime:
    """The UK wall-clock time of a moment, as a naive datetime."""
    utc = moment.astimezone(UTC)
    return (utc + uk_offset(utc)).replace(tzinfo=None)


def uk_today(moment: datetime) -> date:
    return uk_local(moment).date()


def uk_moment(day: date, at: time) -> datetime:
    """The UTC moment of a UK wall-clock time (a gap hour resolves forwards)."""
    naive = datetime.combine(day, at)
    for offset in (timedelta(hours=1), timedelta(0)):
        candidate = (naive - offset).replace(tzinfo=UTC)
        if uk_offset(candidate) == offset:
            return candidate
    # In the gap (01:00-02:00 on the day BST starts) read the time as GMT: 01:30 is 02:30 BST.
    return naive.replace(tzinfo=UTC)
