"""From a deadline request to a due date and alert moments on the working calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from safeguarding.calendar import WorkingCalendar
from safeguarding.deadlines import (
    DeadlineKind,
    DeadlineRequest,
    MonthsAfter,
    NextMeeting,
    OnDate,
    WorkingDaysAfter,
    WorkingDaysBefore,
)
from safeguarding.planning import (
    MORNING,
    due_date,
    next_meeting,
    plan_deadline,
    plan_for_due_date,
)
from safeguarding.settings import MeetingCadence, PartnershipSettings

DEFAULTS = PartnershipSettings()


def weekly(weekday: int) -> MeetingCadence:
    return MeetingCadence(group="Triage", kind="weekly", weekday=weekday)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_morning_is_nine() -> None:
    assert (MORNING.hour, MORNING.minute) == (9, 0)


# ------------------------------------------------------------------ due dates


def test_due_date_for_each_rule(calendar: WorkingCalendar) -> None:
    assert due_date(WorkingDaysAfter(start=date(2026, 12, 21), days=5), calendar) == date(
        2026, 12, 30
    )
    assert due_date(MonthsAfter(start=date(2026, 8, 31), months=6), calendar) == date(2027, 2, 28)
    assert due_date(WorkingDaysBefore(target=date(2027, 3, 31), days=7), calendar) == date(
        2027, 3, 18
    )
    assert due_date(OnDate(due=date(2027, 6, 5)), calendar) == date(2027, 6, 5)


@pytest.mark.parametrize(
    ("start", "weekday", "expected"),
    [
        # Weekly triage on Tuesdays: a referral on Monday 21 Dec goes to Tuesday 22 Dec.
        (date(2026, 12, 21), 1, date(2026, 12, 22)),
        # A referral on the meeting day itself waits for the next week's meeting.
        (date(2026, 12, 22), 1, date(2026, 12, 29)),
        # From a Saturday to the next Wednesday.
        (date(2027, 1, 9), 2, date(2027, 1, 13)),
        # Friday 25 Dec is Christmas, Monday 28 Dec Boxing Day observed: Tuesday 29 Dec.
        (date(2026, 12, 21), 4, date(2026, 12, 29)),
        # Monday meetings: Easter Monday 2027 moves to Tuesday 30 Mar.
        (date(2027, 3, 24), 0, date(2027, 3, 30)),
        # A Saturday "meeting" is held on the next working day.
        (date(2027, 1, 4), 5, date(2027, 1, 11)),
    ],
)
def test_due_date_at_the_next_meeting(
    calendar: WorkingCalendar, start: date, weekday: int, expected: date
) -> None:
    assert due_date(NextMeeting(start=start, meetings=weekly(weekday)), calendar) == expected


def test_a_meeting_on_a_closure_day_moves_to_the_next_working_day() -> None:
    closed = WorkingCalendar([date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)])
    assert due_date(NextMeeting(start=date(2026, 12, 22), meetings=weekly(1)), closed) == date(
        2027, 1, 4
    )


def test_closure_days_move_working_day_rules_but_not_fixed_dates() -> None:
    closed = WorkingCalendar([date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)])
    assert due_date(WorkingDaysAfter(start=date(2026, 12, 21), days=5), closed) == date(2027, 1, 5)
    assert due_date(OnDate(due=date(2026, 12, 30)), closed) == date(2026, 12, 30)


# ------------------------------------------------------------------ alert moments


def test_plan_in_winter(calendar: WorkingCalendar) -> None:
    plan = plan_for_due_date("notification", date(2026, 12, 30), DEFAULTS, calendar)
    assert plan.deadline_id == "notification"
    assert plan.due_on == date(2026, 12, 30)
    # Reminder 09:00 GMT two working days before: Tue 29 (1), [28, 27, 26, 25], Thu 24 (2).
    assert plan.remind_at == utc(2026, 12, 24, 9)
    # Escalation when the due day ends: midnight GMT.
    assert plan.escalate_at == utc(2026, 12, 31, 0)
    # Second escalation 09:00 five working days after: 31, [1 Jan], 4, 5, 6, 7 Jan.
    assert plan.escalate_again_at == utc(2027, 1, 7, 9)


def test_plan_in_summer_is_an_hour_earlier_in_utc(calendar: WorkingCalendar) -> None:
    plan = plan_for_due_date("x", date(2026, 7, 1), DEFAULTS, calendar)
    assert plan.remind_at == utc(2026, 6, 29, 8)  # 09:00 BST Mon 29 Jun
    assert plan.escalate_at == utc(2026, 7, 1, 23)  # midnight BST at the end of Wed 1 Jul
    assert plan.escalate_again_at == utc(2026, 7, 8, 8)  # 09:00 BST Wed 8 Jul


def test_plan_across_the_end_of_bst(calendar: WorkingCalendar) -> None:
    # Due Fri 23 Oct 2026; BST ends on Sun 25 Oct.
    plan = plan_for_due_date("x", date(2026, 10, 23), DEFAULTS, calendar)
    assert plan.remind_at == utc(2026, 10, 21, 8)
    assert plan.escalate_at == utc(2026, 10, 23, 23)
    assert plan.escalate_again_at == utc(2026, 10, 30, 9)  # GMT by then


def test_plan_for_a_due_date_on_a_weekend(calendar: WorkingCalendar) -> None:
    plan = plan_for_due_date("action-A1", date(2027, 6, 5), DEFAULTS, calendar)  # Saturday
    assert plan.remind_at == utc(2027, 6, 3, 8)  # Thursday
    assert plan.escalate_at == utc(2027, 6, 5, 23)  # end of Saturday
    assert plan.escalate_again_at == utc(2027, 6, 11, 8)  # Friday, 5 working days on


def test_reminder_and_second_escalation_follow_the_settings(calendar: WorkingCalendar) -> None:
    settings = PartnershipSettings(
        reminder_working_days_before=5, second_escalation_working_days_after=10
    )
    plan = plan_for_due_date("x", date(2027, 1, 14), settings, calendar)
    assert plan.remind_at == utc(2027, 1, 7, 9)
    assert plan.escalate_at == utc(2027, 1, 15, 0)
    assert plan.escalate_again_at == utc(2027, 1, 28, 9)


def test_zero_day_settings_keep_the_alerts_in_order(calendar: WorkingCalendar) -> None:
    settings = PartnershipSettings(
        reminder_working_days_before=0, second_escalation_working_days_after=0
    )
    # Due on a Saturday: the reminder is never after the due day, the second escalation
    # never before the escalation.
    plan = plan_for_due_date("x", date(2027, 6, 5), settings, calendar)
    assert plan.remind_at == utc(2027, 6, 5, 8)
    assert plan.escalate_at == utc(2027, 6, 5, 23)
    assert plan.escalate_again_at == utc(2027, 6, 7, 8)
    weekday = plan_for_due_date("x", date(2027, 6, 8), settings, calendar)
    assert weekday.remind_at == utc(2027, 6, 8, 8)
    assert weekday.escalate_again_at == utc(2027, 6, 9, 8)


def test_alerts_are_always_in_order(calendar: WorkingCalendar) -> None:
    day = date(2026, 12, 1)
    for offset in range(120):
        due = date.fromordinal(day.toordinal() + offset)
        plan = plan_for_due_date("x", due, DEFAULTS, calendar)
        assert plan.remind_at < plan.escalate_at < plan.escalate_again_at


def test_plan_deadline_uses_the_request_rule(calendar: WorkingCalendar) -> None:
    request = DeadlineRequest(
        deadline_id="rapid-review",
        kind=DeadlineKind.RAPID_REVIEW,
        title="Rapid Review completed",
        owner="Safeguarding Practice Review Group",
        statutory=True,
        rule=WorkingDaysAfter(start=date(2026, 12, 21), days=15),
    )
    plan = plan_deadline(request, DEFAULTS, calendar)
    assert plan.deadline_id == "rapid-review"
    assert plan.due_on == date(2027, 1, 14)
    assert plan.remind_at == utc(2027, 1, 12, 9)
    assert plan.escalate_at == utc(2027, 1, 15, 0)
    assert plan.escalate_again_at == utc(2027, 1, 21, 9)  # 15, 18, 19, 20, 21 Jan


# ------------------------------------------------------------------ next meeting, by cadence

LIVERPOOL_SPRG = MeetingCadence(
    group="SPRG", kind="every_n_weeks", interval=5, first_meeting=date(2026, 1, 7)
)
CROYDON_SPRG = MeetingCadence(
    group="SPRG", kind="every_n_months", interval=2, first_meeting=date(2026, 1, 13)
)


@pytest.mark.parametrize(
    ("after", "weekday", "expected"),
    [
        (date(2027, 1, 4), 2, date(2027, 1, 6)),  # Monday to Wednesday
        (date(2027, 1, 6), 2, date(2027, 1, 13)),  # on the meeting day: the next week's
        (date(2027, 1, 7), 2, date(2027, 1, 13)),
        (date(2027, 1, 9), 6, date(2027, 1, 11)),  # a Sunday meeting is held on Monday
        (date(2027, 1, 11), 6, date(2027, 1, 18)),
    ],
)
def test_next_weekly_meeting(
    calendar: WorkingCalendar, after: date, weekday: int, expected: date
) -> None:
    assert next_meeting(weekly(weekday), after, calendar) == expected


def test_a_weekly_meeting_may_take_its_day_from_the_first_meeting(
    calendar: WorkingCalendar,
) -> None:
    thursdays = MeetingCadence(group="Triage", kind="weekly", first_meeting=date(2026, 1, 1))
    assert next_meeting(thursdays, date(2027, 1, 4), calendar) == date(2027, 1, 7)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (date(2025, 12, 1), date(2026, 1, 7)),  # before the anchor: the anchor itself
        (date(2026, 1, 6), date(2026, 1, 7)),
        (date(2026, 1, 7), date(2026, 2, 11)),  # on a meeting day: five weeks on
        (date(2026, 1, 8), date(2026, 2, 11)),
        (date(2026, 11, 18), date(2026, 12, 23)),
        (date(2026, 12, 23), date(2027, 1, 27)),  # across Christmas, still five weeks
        (date(2027, 2, 1), date(2027, 3, 3)),
    ],
)
def test_liverpool_sprg_every_five_weeks_from_the_anchor(
    calendar: WorkingCalendar, after: date, expected: date
) -> None:
    assert next_meeting(LIVERPOOL_SPRG, after, calendar) == expected
    assert (expected - date(2026, 1, 7)).days % 35 == 0  # a whole number of 5-week cycles


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (date(2025, 12, 1), date(2026, 1, 13)),
        (date(2026, 1, 13), date(2026, 3, 10)),  # 2nd Tuesday of March
        (date(2026, 3, 11), date(2026, 5, 12)),  # 2nd Tuesday of May
        (date(2026, 10, 1), date(2026, 11, 10)),
        (date(2026, 12, 22), date(2027, 1, 12)),  # bi-monthly across the year's end
        (date(2027, 1, 12), date(2027, 3, 9)),
    ],
)
def test_croydon_sprg_every_two_months_on_the_second_tuesday(
    calendar: WorkingCalendar, after: date, expected: date
) -> None:
    held = next_meeting(CROYDON_SPRG, after, calendar)
    assert held == expected
    assert held.weekday() == 1 and 8 <= held.day <= 14  # the 2nd Tuesday
    assert held.month % 2 == 1  # January, March, May...: six a year


def test_monthly_on_a_fifth_weekday_falls_back_to_the_last(calendar: WorkingCalendar) -> None:
    # The 5th Thursday of Oct 2026 (the 29th) anchors; November has only four.
    fifth = MeetingCadence(
        group="G", kind="every_n_months", interval=1, first_meeting=date(2026, 10, 29)
    )
    assert next_meeting(fifth, date(2026, 10, 29), calendar) == date(2026, 11, 26)


@pytest.mark.parametrize(
    ("after", "days", "expected"),
    [
        (date(2027, 1, 4), 5, date(2027, 1, 11)),
        # From Mon 21 Dec 2026: 22, 23, 24, [25, 26, 27, 28], 29, 30, 31, [1 Jan], 4, 5, 6, 7.
        (date(2026, 12, 21), 10, date(2027, 1, 7)),
        # From Maundy Thursday 2027: [Good Friday, Easter Monday] then Tuesday 30 March.
        (date(2027, 3, 25), 1, date(2027, 3, 30)),
    ],
)
def test_virtual_panel_decides_within_working_days(
    calendar: WorkingCalendar, after: date, days: int, expected: date
) -> None:
    panel = MeetingCadence(group="Virtual Panel", kind="virtual", within_working_days=days)
    assert next_meeting(panel, after, calendar) == expected


def test_a_published_schedule_wins_while_it_has_dates(calendar: WorkingCalendar) -> None:
    # Croydon's cadence says 12 Jan 2027; the circulated schedule says 19 Jan and 16 Mar.
    published = CROYDON_SPRG.model_copy(
        update={"scheduled": [date(2027, 3, 16), date(2027, 1, 19), date(2026, 11, 3)]}
    )
    assert next_meeting(published, date(2026, 12, 22), calendar) == date(2027, 1, 19)
    assert next_meeting(published, date(2027, 1, 19), calendar) == date(2027, 3, 16)
    # Past the last published date, the cadence again.
    assert next_meeting(published, date(2027, 3, 16), calendar) == date(2027, 5, 11)


@pytest.mark.parametrize(
    ("cadence", "after", "expected"),
    [
        # Every 5 weeks from Mon 22 Feb 2027 falls on Easter Monday 29 Mar: held Tuesday.
        (
            MeetingCadence(
                group="G", kind="every_n_weeks", interval=5, first_meeting=date(2027, 2, 22)
            ),
            date(2027, 3, 1),
            date(2027, 3, 30),
        ),
        # Weekly on Mondays: Boxing Day (observed) Mon 28 Dec 2026 is held on Tuesday.
        (weekly(0), date(2026, 12, 22), date(2026, 12, 29)),
        # Good Friday 2027 is followed by Easter Monday: Friday's meeting is held Tuesday.
        (weekly(4), date(2027, 3, 22), date(2027, 3, 30)),
        # A published date on Christmas Day 2026 is held on Tuesday 29 Dec.
        (
            MeetingCadence(group="G", kind="weekly", weekday=2, scheduled=[date(2026, 12, 25)]),
            date(2026, 12, 21),
            date(2026, 12, 29),
        ),
    ],
)
def test_a_meeting_on_a_bank_holiday_moves_to_the_next_working_day(
    calendar: WorkingCalendar, cadence: MeetingCadence, after: date, expected: date
) -> None:
    assert next_meeting(cadence, after, calendar) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Mondays: a decision on Easter Monday itself (a bank holiday) is taken at that
        # meeting, held on Tuesday 30 March, not a week later.
        (date(2027, 3, 29), date(2027, 3, 30)),
        (date(2027, 3, 27), date(2027, 3, 30)),  # the Saturday before
        (date(2027, 3, 30), date(2027, 4, 5)),  # at the moved meeting: the next one
    ],
)
def test_a_moved_meeting_is_still_the_next_one_after_a_closed_day(
    calendar: WorkingCalendar, after: date, expected: date
) -> None:
    assert next_meeting(weekly(0), after, calendar) == expected


def test_the_christmas_meeting_held_late_counts_after_boxing_day(
    calendar: WorkingCalendar,
) -> None:
    # Friday meetings: Christmas Day's is held on Tue 29 Dec 2026. A decision awaited from
    # Saturday 26 Dec is due at that meeting, not at New Year's Day's (held Mon 4 Jan).
    assert next_meeting(weekly(4), date(2026, 12, 26), calendar) == date(2026, 12, 29)
    # Every 5 weeks from Fri 20 Nov 2026 also lands on Christmas Day.
    five_weekly = MeetingCadence(
        group="G", kind="every_n_weeks", interval=5, first_meeting=date(2026, 11, 20)
    )
    assert next_meeting(five_weekly, date(2026, 12, 27), calendar) == date(2026, 12, 29)


def test_closure_days_move_meetings_too() -> None:
    closed = WorkingCalendar([date(2027, 1, 12), date(2027, 1, 13)])
    assert next_meeting(CROYDON_SPRG, date(2026, 12, 22), closed) == date(2027, 1, 14)
    # Decided on the (closed) meeting day itself: the meeting is still to be held.
    assert next_meeting(CROYDON_SPRG, date(2027, 1, 12), closed) == date(2027, 1, 14)
