"""Working days and UK local time.

Working days follow England and Wales bank holidays (`holidays.UK(subdiv="ENG")`, with substitute
days) plus a partnership's own closure days. This module does I/O-free arithmetic but imports the
`holidays` data, so it runs in activities and tools, never inside workflow code: a new release of
the holiday data must not change a running case on replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import holidays
from dateutil.relativedelta import relativedelta

CLOSURE_NAME = "Partnership closure day"


class WorkingCalendar:
    """England and Wales bank holidays plus a partnership's closure days."""

    def __init__(self, closure_days: Iterable[date] = ()) -> None:
        self._days = holidays.country_holidays("GB", subdiv="ENG")
        # `update` loads each year's bank holidays first, so a closure never hides one.
        self._days.update({day: CLOSURE_NAME for day in closure_days})

    def is_working_day(self, day: date) -> bool:
        return bool(self._days.is_working_day(day))

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (before, for negative n); `start` is day 0. With
        n = 0: `start` if it is a working day, else the next working day (planning rolls a date
        forward this way)."""
        result: date = self._days.get_nth_working_day(start, n)
        return result

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        if end <= start:
            return 0
        count: int = self._days.get_working_days_count(start + timedelta(days=1), end)
        return count

    def holiday_name(self, day: date) -> str | None:
        name = self._days.get(day)
        return str(name) if name else None


def add_months(start: date, months: int) -> date:
    """Calendar months, clamped to the month's end (31 Aug + 6 months = 28/29 Feb)."""
    result: date = start + relativedelta(months=months)
    return result
