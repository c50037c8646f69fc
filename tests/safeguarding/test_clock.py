"""UK local time from the statutory BST rule, without a time-zone database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from safeguarding.clock import (
    is_british_summer_time,
    uk_local,
    uk_moment,
    uk_offset,
    uk_today,
)
from tests.conftest import missing

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


# ------------------------------------------------------------------ against the time-zone database
# The hand-written rule against zoneinfo's Europe/London, any moment from 1990 to 2100, most
# often within two hours of a change (the changeover hours are where a rule goes wrong).

FIRST_YEAR, LAST_YEAR = 1990, 2100


def _london() -> ZoneInfo:
    try:
        return ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:
        missing("no time-zone database on this machine (apt-get install tzdata or pip tzdata)")


def _changes(year: int) -> tuple[datetime, datetime]:
    """When the time-zone database says summer time starts and ends in `year` (UTC)."""
    london = _london()
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(london).utcoffset()
    while moment.year == year:  # day by day, then hour by hour, then second by second
        step = timedelta(days=1)
        nxt = moment + step
        while nxt.astimezone(london).utcoffset() != offset and step > timedelta(seconds=1):
            step /= 60 if step <= timedelta(hours=1) else 24
            nxt = moment + step
        if nxt.astimezone(london).utcoffset() != offset and step == timedelta(seconds=1):
            found.append(nxt)
            offset = nxt.astimezone(london).utcoffset()
        moment = nxt
    start, end = found
    return start, end


near_a_change = st.builds(
    lambda year, spring, seconds: (
        datetime.combine(_last_sunday_of(year, 3 if spring else 10), time(1), tzinfo=UTC)
        + timedelta(seconds=seconds)
    ),
    st.integers(FIRST_YEAR, LAST_YEAR),
    st.booleans(),
    st.integers(-2 * 3600, 2 * 3600),
)
any_moment = st.datetimes(
    min_value=datetime(FIRST_YEAR, 1, 1), max_value=datetime(LAST_YEAR, 12, 31, 23, 59, 59)
).map(lambda naive: naive.replace(tzinfo=UTC))


def _last_sunday_of(year: int, month: int) -> date:
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@given(moment=st.one_of(near_a_change, any_moment))
@example(moment=utc(2026, 3, 29, 0, 59, 59))
@example(moment=utc(2026, 3, 29, 1))
@example(moment=utc(2026, 10, 25, 0, 59, 59))
@example(moment=utc(2026, 10, 25, 1))
@example(moment=utc(1994, 10, 23, 0, 30))  # BST ended a week before the last Sunday then
@example(moment=utc(1995, 10, 22, 1, 30))
@example(moment=utc(2100, 12, 31, 23, 59, 59))
def test_uk_local_time_agrees_with_the_time_zone_database(moment: datetime) -> None:
    london = moment.astimezone(_london())
    assert uk_offset(moment) == london.utcoffset(), moment
    assert is_british_summer_time(moment) == bool(london.dst()), moment
    assert uk_local(moment) == london.replace(tzinfo=None), moment
    assert uk_today(moment) == london.date(), moment


wall_clock = st.one_of(
    # any wall-clock time, and the hours around the changes (the gap and the repeated hour)
    st.datetimes(min_value=datetime(FIRST_YEAR, 1, 1), max_value=datetime(LAST_YEAR, 12, 31)),
    near_a_change.map(lambda moment: moment.replace(tzinfo=None) + timedelta(hours=0.5)),
)


@given(local=wall_clock)
@example(local=datetime(2026, 3, 29, 1, 30))  # does not exist: read as GMT (02:30 BST)
@example(local=datetime(2026, 10, 25, 1, 30))  # happens twice: the first (BST) is chosen
@example(local=datetime(2026, 3, 29, 0, 0))
@example(local=datetime(1994, 10, 23, 1, 30))
def test_uk_moment_agrees_with_the_time_zone_database(local: datetime) -> None:
    # zoneinfo's fold=0 takes the earlier offset: the first of a repeated hour, and a time in
    # the gap read with the offset before the change (GMT), as uk_moment documents.
    expected = local.replace(tzinfo=_london()).astimezone(UTC)
    assert uk_moment(local.date(), local.time()) == expected, local


@pytest.mark.parametrize("year", [FIRST_YEAR, 1994, 1995, 1996, 2026, 2027, 2038, LAST_YEAR])
def test_the_changes_fall_when_the_time_zone_database_says(year: int) -> None:
    second = timedelta(seconds=1)
    for change in _changes(year):
        assert is_british_summer_time(change) != is_british_summer_time(change - second)
        assert change.hour == 1 and change.minute == 0 and change.weekday() == 6
