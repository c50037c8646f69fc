"""Turning a deadline request into dates and alert moments, on the working calendar.

Needs the `holidays` data, so only activities call it; the resulting `DeadlinePlan` is recorded in
workflow history and the workflow's timers are set from it.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from safeguarding.calendar import WorkingCalendar, add_months
from safeguarding.clock import uk_moment
from safeguarding.deadlines import (
    DeadlinePlan,
    DeadlineRequest,
    DeadlineRule,
    MonthsAfter,
    NextMeeting,
    WorkingDaysAfter,
    WorkingDaysBefore,
)
from safeguarding.settings import MeetingCadence, PartnershipSettings, PlanningRules

#: The settings planning reads: a partnership's whole settings, or just its planning rules.
Rules = PartnershipSettings | PlanningRules

#: Reminders and second escalations go out at the start of the UK working day.
MORNING = time(9, 0)


def next_meeting(meetings: MeetingCadence, after: date, calendar: WorkingCalendar) -> date:
    """The first meeting held strictly after `after`. A meeting that falls on a day the
    partnership is closed is held on the next working day, so one that fell on a closed day up
    to `after` may still be held after it (Easter Monday's, held on the Tuesday)."""
    if meetings.kind == "virtual":
        return calendar.add_working_days(after, meetings.within_working_days or 0)
    # Meetings falling on or before the last working day up to `after` were held by then.
    held_by = after if calendar.is_working_day(after) else calendar.add_working_days(after, -1)
    upcoming = sorted(d for d in meetings.scheduled if d > held_by)
    if upcoming:
        return calendar.add_working_days(upcoming[0], 0)
    return calendar.add_working_days(_next_by_cadence(meetings, held_by), 0)


def _next_by_cadence(meetings: MeetingCadence, after: date) -> date:
    anchor = meetings.first_meeting
    if meetings.kind == "weekly":
        weekday = meetings.weekday if meetings.weekday is not None else anchor.weekday()  # type: ignore[union-attr]
        return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)
    assert anchor is not None  # the model requires it for these kinds
    if meetings.kind == "every_n_weeks":
        step = timedelta(weeks=meetings.interval)
        if anchor > after:
            return anchor
        periods = (after - anchor) // step + 1
        return anchor + periods * step
    # every_n_months: the same weekday of the month as the anchor (e.g. the 2nd Tuesday).
    nth = (anchor.day - 1) // 7
    months = 0
    while True:
        month_start = add_months(anchor.replace(day=1), months)
        candidate = _nth_weekday(month_start, anchor.weekday(), nth)
        if candidate > after:
            return candidate
        months += meetings.interval


def _nth_weekday(month_start: date, weekday: int, nth: int) -> date:
    first = month_start + timedelta(days=(weekday - month_start.weekday()) % 7)
    candidate = first + timedelta(weeks=nth)
    # A 5th weekday that the month lacks falls back to the month's last one.
    while candidate.month != month_start.month:
        candidate -= timedelta(weeks=1)
    return candidate


def due_date(rule: DeadlineRule, calendar: WorkingCalendar) -> date:
    if isinstance(rule, WorkingDaysAfter):
        return calendar.add_working_days(rule.start, rule.days)
    if isinstance(rule, MonthsAfter):
        return add_months(rule.start, rule.months)
    if isinstance(rule, WorkingDaysBefore):
        return calendar.add_working_days(rule.target, -rule.days)
    if isinstance(rule, NextMeeting):
        return next_meeting(rule.meetings, rule.start, calendar)
    return rule.due


def plan_for_due_date(
    deadline_id: str, due_on: date, settings: Rules, calendar: WorkingCalendar
) -> DeadlinePlan:
    """Reminder at 09:00 some working days before; escalation when the due day ends (midnight
    UK time); second escalation at 09:00 some working days after."""
    remind_on = calendar.add_working_days(due_on, -settings.reminder_working_days_before)
    again_on = calendar.add_working_days(due_on, settings.second_escalation_working_days_after)
    return DeadlinePlan(
        deadline_id=deadline_id,
        due_on=due_on,
        remind_at=uk_moment(min(remind_on, due_on), MORNING),
        escalate_at=uk_moment(due_on + timedelta(days=1), time(0, 0)),
        escalate_again_at=uk_moment(max(again_on, due_on + timedelta(days=1)), MORNING),
    )


def plan_deadline(
    request: DeadlineRequest, settings: Rules, calendar: WorkingCalendar
) -> DeadlinePlan:
    return plan_for_due_date(
        request.deadline_id, due_date(request.rule, calendar), settings, calendar
    )
