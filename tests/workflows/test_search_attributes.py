"""`NextDeadline` holds the moment a deadline is missed; `due_on` reads the due day back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from safeguarding.clock import uk_moment
from workflows import search_attributes as sa


@pytest.mark.parametrize("due", [date(2026, 12, 11), date(2027, 7, 14), date(2027, 3, 27)])
def test_the_due_day_is_the_uk_day_before_the_moment_it_is_missed(due: date) -> None:
    missed_at = uk_moment(date.fromordinal(due.toordinal() + 1), time(0, 0))
    assert sa.due_on(missed_at) == due
    # In summer the moment is 23:00 UTC on the due day itself; in winter midnight UTC after it.
    assert missed_at > datetime(due.year, due.month, due.day, tzinfo=UTC)
