"""The tests' clock (tests/clock.py): `frozen_now` and a time-skipping server follow SRO_TEST_NOW,
and the named moments are the awkward ones they claim to be. tests/test_clock_matrix.py runs this
file under every moment too, as proof that the pin took."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from safeguarding.calendar import WorkingCalendar
from safeguarding.clock import is_british_summer_time, uk_local, uk_today
from tests import clock

NOW = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)


def test_frozen_now_is_the_pinned_moment_and_stands_still(frozen_now: datetime) -> None:
    pinned = clock.pinned()
    if pinned:
        assert frozen_now in pinned
    else:
        assert abs(frozen_now - datetime.now(UTC).replace(microsecond=0)) < timedelta(minutes=1)
    time.sleep(0.01)
    assert datetime.now(UTC) == frozen_now  # the wall clock is frozen for the whole test


async def test_a_time_skipping_server_starts_at_the_pinned_moment(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    current = await time_skipping_env.get_current_time()
    pinned = clock.pinned()
    if pinned:  # moved forward to the earliest, then on with real time (this file's first tests)
        assert timedelta(0) <= current - min(pinned) < timedelta(minutes=2)
    else:
        await asyncio.sleep(0)
        assert abs(current - datetime.now(UTC)) < timedelta(minutes=2)


def test_moments_are_in_the_future_and_the_short_list_is_part_of_the_full_one() -> None:
    short = clock.moments(NOW)
    full = clock.moments(NOW, full=True)
    assert short.items() <= full.items()
    assert all(moment > NOW for moment in full.values())
    assert len(short) < len(full)


def test_the_moments_are_the_awkward_ones_they_are_named_after() -> None:
    found = clock.moments(NOW, full=True)
    weekdays = {uk_local(found[f"{d}-09:30"]).strftime("%a").lower() for d in clock.WEEKDAYS}
    assert weekdays == set(clock.WEEKDAYS)
    assert uk_local(found["monday-09:00"]).strftime("%a %H:%M") == "Mon 09:00"
    # One second either side of midnight UK time, in summer (UTC still reads the first day).
    before, after = found["summer-23:59:59"], found["summer-00:00:01"]
    assert after - before == timedelta(seconds=2)
    assert uk_today(after) == uk_today(before) + timedelta(days=1)
    assert before.date() == after.date()
    # Either side of the changes to and from British Summer Time.
    assert not is_british_summer_time(found["bst-starts-00:59:59Z"])
    assert is_british_summer_time(found["bst-started-01:00:01Z"])
    assert is_british_summer_time(found["bst-ends-00:59:59Z"])
    assert not is_british_summer_time(found["bst-ended-01:00:01Z"])
    # A bank holiday (a weekday that is not a working day) and the working day before it.
    calendar = WorkingCalendar()
    holiday = uk_today(found["bank-holiday-09:00"])
    assert holiday.weekday() < 5 and not calendar.is_working_day(holiday)
    assert uk_today(found["new-year-00:00:01"]) == date(2027, 1, 1)
    assert uk_today(found["new-year-eve-23:59:59"]) == date(2026, 12, 31)


def test_parse_moment_reads_utc_unless_told_otherwise() -> None:
    assert clock.parse_moment("2027-03-28T00:59:59") == datetime(2027, 3, 28, 0, 59, 59, tzinfo=UTC)
    assert clock.parse_moment("2027-07-01T23:59:59+01:00") == datetime(
        2027, 7, 1, 22, 59, 59, tzinfo=UTC
    )


def test_years_since_covers_a_new_year_during_the_test(frozen_now: datetime) -> None:
    today = uk_today(frozen_now)
    assert clock.uk_years_since(today) == {today.year}
    assert clock.uk_years_since(date(today.year - 1, 12, 31)) == {today.year - 1, today.year}
