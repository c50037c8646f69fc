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
from safeguarding.settings import PartnershipSettings

#: Reminders and second escalations go out at the start of the UK working day.
MORNING = time(9, 0)


def due_date(rule: DeadlineRule, calendar: WorkingCalendar) -> date:
    if isinstance(rule, WorkingDaysAfter):
        return calendar.add_working_days(rule.start, rule.days)
    if isinstance(rule, MonthsAfter):
        return add_months(rule.start, rule.months)
    if isinstance(rule, WorkingDaysBefore):
        return calendar.add_working_days(rule.target, -rule.days)
    if isinstance(rule, NextMeeting):
        ahead = (rule.weekday - rule.start.weekday() - 1) % 7 + 1
        return calendar.add_working_days(rule.start + timedelta(days=ahead), 0)
    return rule.due


def plan_for_due_date(
    deadline_id: str, due_on: date, settings: PartnershipSettings, calendar: WorkingCalendar
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
    request: DeadlineRequest, settings: PartnershipSettings, calendar: WorkingCalendar
) -> DeadlinePlan:
    return plan_for_due_date(
        request.deadline_id, due_date(request.rule, calendar), settings, calendar
    )
