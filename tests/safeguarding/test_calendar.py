"""Working days on the real England and Wales bank holidays, plus partnership closure days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from safeguarding.calendar import CLOSURE_NAME, WorkingCalendar, add_months


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


# ------------------------------------------------------------------ bank holidays


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "New Year's Day"),
        (date(2026, 4, 3), "Good Friday"),
        (date(2026, 4, 6), "Easter Monday"),
        (date(2026, 5, 4), "May Day"),
        (date(2026, 5, 25), "Spring Bank Holiday"),
        (date(2026, 8, 31), "Late Summer Bank Holiday"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 28), "Boxing Day (observed)"),
        (date(2027, 1, 1), "New Year's Day"),
        (date(2027, 3, 26), "Good Friday"),
        (date(2027, 3, 29), "Easter Monday"),
        (date(2027, 12, 27), "Christmas Day (observed)"),
        (date(2027, 12, 28), "Boxing Day (observed)"),
    ],
)
def test_england_and_wales_bank_holidays_are_not_working_days(
    calendar: WorkingCalendar, day: date, name: str
) -> None:
    assert not calendar.is_working_day(day)
    assert calendar.holiday_name(day) == name


def test_weekends_are_not_working_days_and_ordinary_weekdays_are(
    calendar: WorkingCalendar,
) -> None:
    assert not calendar.is_working_day(date(2026, 12, 19))  # Saturday
    assert not calendar.is_working_day(date(2026, 12, 20))  # Sunday
    assert calendar.is_working_day(date(2026, 12, 21))  # Monday
    assert calendar.is_working_day(date(2026, 12, 24))  # Christmas Eve is worked
    assert calendar.holiday_name(date(2026, 12, 21)) is None


def test_scottish_only_holidays_do_not_count(calendar: WorkingCalendar) -> None:
    # 2 January and St Andrew's Day are bank holidays in Scotland, not in England.
    assert calendar.is_working_day(date(2026, 1, 2))
    assert calendar.is_working_day(date(2026, 11, 30))


# ------------------------------------------------------------------ counting forwards


def test_five_working_days_from_monday_21_december_2026_is_wednesday_30_december(
    calendar: WorkingCalendar,
) -> None:
    # Day 0 is Mon 21; 22, 23, 24 are days 1-3; 25 (Christmas), 26-27 (weekend) and
    # 28 (Boxing Day observed) are skipped; 29 is day 4 and 30 day 5.
    assert calendar.add_working_days(date(2026, 12, 21), 5) == date(2026, 12, 30)


def test_fifteen_working_days_across_christmas_and_new_year_2026_27(
    calendar: WorkingCalendar,
) -> None:
    assert calendar.add_working_days(date(2026, 12, 21), 15) == date(2027, 1, 14)
    # From the notification two days later, New Year's Day is skipped too.
    assert calendar.add_working_days(date(2026, 12, 23), 15) == date(2027, 1, 18)


def test_easter_2027_is_skipped(calendar: WorkingCalendar) -> None:
    # Thu 25 Mar 2027 + 1 skips Good Friday (26), the weekend and Easter Monday (29).
    assert calendar.add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)
    assert calendar.add_working_days(date(2027, 3, 22), 5) == date(2027, 3, 31)


def test_easter_2026_is_skipped(calendar: WorkingCalendar) -> None:
    # Thu 2 Apr 2026 + 1 skips Good Friday (3 Apr), the weekend and Easter Monday (6 Apr).
    assert calendar.add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert calendar.add_working_days(date(2026, 3, 30), 5) == date(2026, 4, 8)


def test_awareness_on_a_weekend_counts_from_the_weekend_day(calendar: WorkingCalendar) -> None:
    # Sat 19 Dec 2026 is day 0; Mon 21 is day 1, so day 5 is Tue 29 Dec.
    assert calendar.add_working_days(date(2026, 12, 19), 1) == date(2026, 12, 21)
    assert calendar.add_working_days(date(2026, 12, 19), 5) == date(2026, 12, 29)
    assert calendar.add_working_days(date(2026, 12, 20), 5) == date(2026, 12, 29)


def test_zero_working_days_is_the_day_itself_or_the_next_working_day(
    calendar: WorkingCalendar,
) -> None:
    assert calendar.add_working_days(date(2026, 12, 21), 0) == date(2026, 12, 21)
    assert calendar.add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 29)


def test_partnership_closure_days_push_dates_later() -> None:
    closed = WorkingCalendar([date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)])
    for day in (date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)):
        assert not closed.is_working_day(day)
        assert closed.holiday_name(day) == CLOSURE_NAME
    # 22, 23, 24, then 4 Jan (1 Jan is a bank holiday) and 5 Jan.
    assert closed.add_working_days(date(2026, 12, 21), 5) == date(2027, 1, 5)
    assert closed.add_working_days(date(2026, 12, 21), 15) == date(2027, 1, 19)


def test_a_closure_day_does_not_hide_the_bank_holidays_of_its_year() -> None:
    closed = WorkingCalendar([date(2028, 12, 27), date(2026, 12, 25)])
    assert not closed.is_working_day(date(2028, 12, 27))
    assert not closed.is_working_day(date(2028, 12, 25))  # Christmas 2028, loaded with it
    assert closed.holiday_name(date(2028, 12, 26)) == "Boxing Day"
    assert not closed.is_working_day(date(2026, 12, 25))
    name = closed.holiday_name(date(2026, 12, 25))
    assert name is not None and "Christmas Day" in name


def test_closure_days_belong_to_one_calendar_only() -> None:
    WorkingCalendar([date(2026, 12, 29)])
    assert WorkingCalendar().is_working_day(date(2026, 12, 29))


# ------------------------------------------------------------------ counting backwards


def test_seven_working_days_before_a_publication_date_across_easter_2027(
    calendar: WorkingCalendar,
) -> None:
    # Back from Wed 31 Mar 2027: Tue 30 (1), [Mon 29, Fri 26 skipped], Thu 25 (2), Wed 24 (3),
    # Tue 23 (4), Mon 22 (5), Fri 19 (6), Thu 18 (7).
    assert calendar.add_working_days(date(2027, 3, 31), -7) == date(2027, 3, 18)


def test_seven_working_days_before_a_publication_date_across_christmas(
    calendar: WorkingCalendar,
) -> None:
    # Back from Tue 5 Jan 2027: 4 Jan, [1 Jan], 31, 30, 29 Dec, [28, 26-27, 25], 24, 23, 22.
    assert calendar.add_working_days(date(2027, 1, 5), -7) == date(2026, 12, 22)


def test_backwards_from_a_weekend(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(date(2026, 12, 19), -1) == date(2026, 12, 18)


def test_forwards_then_backwards_returns_to_a_working_day(calendar: WorkingCalendar) -> None:
    start = date(2026, 12, 1)
    for offset in range(60):
        day = start + timedelta(days=offset)
        if calendar.is_working_day(day):
            assert calendar.add_working_days(calendar.add_working_days(day, 9), -9) == day


# ------------------------------------------------------------------ counting between


def test_working_days_between(calendar: WorkingCalendar) -> None:
    assert calendar.working_days_between(date(2026, 12, 21), date(2026, 12, 30)) == 5
    assert calendar.working_days_between(date(2026, 12, 21), date(2027, 1, 14)) == 15
    assert calendar.working_days_between(date(2026, 12, 21), date(2026, 12, 21)) == 0
    assert calendar.working_days_between(date(2026, 12, 30), date(2026, 12, 21)) == 0
    assert calendar.working_days_between(date(2026, 12, 24), date(2026, 12, 28)) == 0


# ------------------------------------------------------------------ calendar months


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),  # leap year
        (date(2026, 2, 26), 6, date(2026, 8, 26)),
        (date(2026, 10, 31), 6, date(2027, 4, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 3, 31), 12, date(2027, 3, 31)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


# ------------------------------------------------------------------ the two undo each other
# Any start from 1990 to 2100, up to a working year and a half either way, with partnership
# closure days near the start (where they change the count).

starts = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
closures = st.lists(st.integers(min_value=-40, max_value=40), max_size=8)
counts = st.integers(min_value=-400, max_value=400)


def _calendar(start: date, offsets: list[int]) -> WorkingCalendar:
    return WorkingCalendar(start + timedelta(days=offset) for offset in offsets)


@given(start=starts, offsets=closures, n=counts)
@example(start=date(2026, 12, 24), offsets=[], n=1)  # over Christmas
@example(start=date(2027, 3, 25), offsets=[], n=1)  # over Easter
@example(start=date(2026, 12, 19), offsets=[], n=-1)  # back from a Saturday
@example(start=date(2026, 12, 21), offsets=[1, 2, 3], n=2)  # over closure days
@example(start=date(2100, 12, 31), offsets=[], n=400)  # past the last year of the strategy
@example(start=date(2000, 1, 1), offsets=[], n=0)  # a Saturday: rolls forward to Tue 4 Jan
def test_adding_working_days_then_counting_them_gives_the_count(
    start: date, offsets: list[int], n: int
) -> None:
    calendar = _calendar(start, offsets)
    end = calendar.add_working_days(start, n)
    if n == 0:  # no days: `start`, rolled forward to a working day (planning relies on it)
        assert calendar.is_working_day(end) and end >= start
        assert calendar.working_days_between(start, end) == (0 if end == start else 1)
        return
    assert calendar.is_working_day(end)
    if n > 0:
        assert end > start
        assert calendar.working_days_between(start, end) == n
        assert calendar.working_days_between(start, end - timedelta(days=1)) == n - 1
    else:
        assert end < start
        # Counted from the earlier day, `start` itself counts when it is a working day.
        counted = calendar.working_days_between(end, start)
        assert counted == -n - (0 if calendar.is_working_day(start) else 1)


@given(start=starts, offsets=closures, n=counts)
@example(start=date(2027, 1, 5), offsets=[], n=-7)
@example(start=date(2026, 12, 22), offsets=[-1, 1], n=7)
def test_adding_working_days_and_taking_them_away_returns_to_a_working_day(
    start: date, offsets: list[int], n: int
) -> None:
    calendar = _calendar(start, offsets)
    if calendar.is_working_day(start):
        assert calendar.add_working_days(calendar.add_working_days(start, n), -n) == start


@given(start=starts, offsets=closures, days=st.integers(min_value=1, max_value=600))
@example(start=date(2026, 12, 24), offsets=[], days=5)
def test_counting_working_days_then_adding_them_reaches_the_last_working_day(
    start: date, offsets: list[int], days: int
) -> None:
    calendar = _calendar(start, offsets)
    end = start + timedelta(days=days)
    counted = calendar.working_days_between(start, end)
    last = end
    while last > start and not calendar.is_working_day(last):
        last -= timedelta(days=1)
    if counted:
        assert calendar.add_working_days(start, counted) == last
    else:  # no working day after `start` up to `end`
        assert last == start
