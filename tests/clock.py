"""One clock for the tests that depend on today's date, the weekday or the hour of day.

A test never reads the date once at import (a module-level `TODAY` is wrong for every test that
runs after midnight): it asks the `frozen_now` fixture (tests/conftest.py), which fixes "now" for
the whole test and freezes this process's wall clock there (time-machine), so the code under test
(the command line's `datetime.now(UTC)`) and the test agree on today.

SRO_TEST_NOW pins that moment: one ISO 8601 moment (UTC unless it says otherwise), or several
separated by commas, in which case every test that uses `frozen_now` runs once at each. A
time-skipping test server (`time_skipping_env`) skips its clock forward to the earliest of them
before the file's first test, so the workflow tests that read today from the server run on that
day and hour too (a server's clock only moves forward: the moment must be in the future). Real
servers (the dev server, PostgreSQL) keep the real clock: tests against them read the date when
they run and accept either side of a midnight that falls during the test.

`moments()` names the clocks worth trying (each weekday, just before and after midnight UK time,
a bank-holiday week, both British Summer Time changeovers, New Year); tests/test_clock_matrix.py
runs the time-sensitive test files under them.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta

from safeguarding.calendar import WorkingCalendar
from safeguarding.clock import uk_moment, uk_today

ENV = "SRO_TEST_NOW"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def pinned() -> list[datetime]:
    """The moments SRO_TEST_NOW pins (none: the real clock)."""
    text = os.environ.get(ENV, "").strip()
    return [parse_moment(part) for part in text.split(",") if part.strip()]


def uk_years_since(start: date) -> set[int]:
    """The UK years from `start` (read when a test began) to now: a reference numbered by the
    year may carry either when the test runs across New Year."""
    return set(range(start.year, uk_today(datetime.now(UTC)).year + 1))


def _next_weekday(after: date, weekday: int) -> date:
    return after + timedelta(days=(weekday - after.weekday()) % 7 or 7)


def _last_sunday(year: int, month: int) -> date:
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _next_date(after: date, found: list[date]) -> date:
    return min(day for day in found if day > after)


def moments(after: datetime, *, full: bool = False) -> dict[str, datetime]:
    """Named future moments (after `after`) that a date-dependent test could trip over. The short
    list (`full=False`) has the riskiest: a Monday morning (a Wednesday meeting's reminder window),
    a Friday evening, one second either side of midnight UK time in summer (UTC still says the
    day before) and on the day British Summer Time starts. `full=True` adds every weekday at
    09:30, the week of the next bank holiday, the hour British Summer Time ends and New Year."""
    start = uk_today(after) + timedelta(days=1)
    year = start.year
    spring = _next_date(start, [_last_sunday(y, 3) for y in (year, year + 1)])
    autumn = _next_date(start, [_last_sunday(y, 10) for y in (year, year + 1)])
    summer = _next_date(start, [date(y, 7, 1) for y in (year, year + 1)])
    found: dict[str, datetime] = {
        "monday-09:00": uk_moment(_next_weekday(start, 0), time(9)),
        "friday-17:30": uk_moment(_next_weekday(start, 4), time(17, 30)),
        "summer-23:59:59": uk_moment(summer, time(23, 59, 59)),
        "summer-00:00:01": uk_moment(summer + timedelta(days=1), time(0, 0, 1)),
        "bst-starts-00:59:59Z": datetime.combine(spring, time(0, 59, 59), tzinfo=UTC),
        "bst-started-01:00:01Z": datetime.combine(spring, time(1, 0, 1), tzinfo=UTC),
    }
    if full:
        monday = _next_weekday(start, 0)
        for n, name in enumerate(WEEKDAYS):
            found[f"{name}-09:30"] = uk_moment(monday + timedelta(days=n), time(9, 30))
        calendar = WorkingCalendar()
        holiday = start
        while calendar.is_working_day(holiday) or holiday.weekday() >= 5:
            holiday += timedelta(days=1)
        found["bank-holiday-09:00"] = uk_moment(holiday, time(9))
        found["before-bank-holiday-16:00"] = uk_moment(holiday - timedelta(days=1), time(16))
        found["bst-ends-00:59:59Z"] = datetime.combine(autumn, time(0, 59, 59), tzinfo=UTC)
        found["bst-ended-01:00:01Z"] = datetime.combine(autumn, time(1, 0, 1), tzinfo=UTC)
        new_year = date(start.year + 1, 1, 1)
        found["new-year-eve-23:59:59"] = uk_moment(new_year - timedelta(days=1), time(23, 59, 59))
        found["new-year-00:00:01"] = uk_moment(new_year, time(0, 0, 1))
    return found
