"""UK local time from the statutory BST rule, without a time-zone database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from safeguarding.clock import (
    is_british_summer_time,
    uk_local,
    uk_moment,
    uk_offset,
    uk_today,
)

HOUR = timedelta(hours=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)),
        (utc(2027, 3, 28, 1), utc(2027, 10, 31, 1)),
    ],
)
def test_bst_starts_and_ends_at_one_am_utc_on_the_last_sundays(
    starts: datetime, ends: datetime
) -> None:
    assert starts.weekday() == 6 and ends.weekday() == 6
    second = timedelta(seconds=1)
    assert not is_british_summer_time(starts - second)
    assert is_british_summer_time(starts)
    assert is_british_summer_time(ends - second)
    assert not is_british_summer_time(ends)
    assert uk_offset(starts - second) == timedelta(0)
    assert uk_offset(starts) == HOUR
    assert uk_offset(ends - second) == HOUR
    assert uk_offset(ends) == timedelta(0)


def test_clocks_go_forward_and_back_on_the_wall() -> None:
    # 29 Mar 2026: 00:59:59 GMT is followed by 02:00 BST.
    assert uk_local(utc(2026, 3, 29, 0, 59, 59)) == datetime(2026, 3, 29, 0, 59, 59)
    assert uk_local(utc(2026, 3, 29, 1)) == datetime(2026, 3, 29, 2)
    # 25 Oct 2026: 01:59:59 BST is followed by 01:00 GMT.
    assert uk_local(utc(2026, 10, 25, 0, 59, 59)) == datetime(2026, 10, 25, 1, 59, 59)
    assert uk_local(utc(2026, 10, 25, 1)) == datetime(2026, 10, 25, 1)


def test_uk_local_accepts_any_time_zone() -> None:
    new_york = timezone(timedelta(hours=-4))
    assert uk_local(datetime(2026, 7, 1, 8, tzinfo=new_york)) == datetime(2026, 7, 1, 13)


def test_uk_moment_at_nine_in_winter_and_summer() -> None:
    assert uk_moment(date(2026, 12, 21), time(9)) == utc(2026, 12, 21, 9)
    assert uk_moment(date(2026, 7, 1), time(9)) == utc(2026, 7, 1, 8)
    assert uk_moment(date(2027, 3, 29), time(9)) == utc(2027, 3, 29, 8)  # day after BST starts
    assert uk_moment(date(2027, 10, 31), time(9)) == utc(2027, 10, 31, 9)  # BST has ended


def test_uk_moment_at_midnight_around_the_changes() -> None:
    assert uk_moment(date(2026, 3, 29), time(0)) == utc(2026, 3, 29, 0)  # still GMT
    assert uk_moment(date(2026, 3, 30), time(0)) == utc(2026, 3, 29, 23)  # BST
    assert uk_moment(date(2026, 10, 25), time(0)) == utc(2026, 10, 24, 23)  # still BST
    assert uk_moment(date(2026, 10, 26), time(0)) == utc(2026, 10, 26, 0)  # GMT


def test_uk_moment_in_the_gap_hour_resolves_forwards() -> None:
    # 01:30 on 29 Mar 2026 does not exist on UK clocks: it resolves to 02:30 BST.
    moment = uk_moment(date(2026, 3, 29), time(1, 30))
    assert moment == utc(2026, 3, 29, 1, 30)
    assert uk_local(moment) == datetime(2026, 3, 29, 2, 30)


def test_uk_moment_in_the_repeated_hour_takes_the_first() -> None:
    # 01:30 on 25 Oct 2026 happens twice; the first (BST) is chosen.
    assert uk_moment(date(2026, 10, 25), time(1, 30)) == utc(2026, 10, 25, 0, 30)


def test_uk_moment_agrees_with_the_time_zone_database_for_two_years() -> None:
    try:
        london = ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:
        pytest.skip("no time-zone database on this machine")
    day = date(2026, 1, 1)
    while day < date(2028, 1, 1):
        for at in (time(0), time(9), time(23, 59)):
            expected = datetime.combine(day, at, tzinfo=london).astimezone(UTC)
            assert uk_moment(day, at) == expected, (day, at)
            assert uk_local(expected) == datetime.combine(day, at)
        day += timedelta(days=1)


def test_uk_today_near_midnight_in_summer() -> None:
    assert uk_today(utc(2026, 7, 1, 22, 59)) == date(2026, 7, 1)
    assert uk_today(utc(2026, 7, 1, 23, 0)) == date(2026, 7, 2)
    assert uk_today(utc(2026, 7, 1, 23, 30)) == date(2026, 7, 2)


def test_uk_today_near_midnight_in_winter() -> None:
    assert uk_today(utc(2026, 12, 31, 23, 59)) == date(2026, 12, 31)
    assert uk_today(utc(2027, 1, 1, 0, 0)) == date(2027, 1, 1)
