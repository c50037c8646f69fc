"""Deadline state, alerts due, the next alert, and moving to a new plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from safeguarding.deadlines import (
    AlertKind,
    Deadline,
    DeadlineKind,
    DeadlinePlan,
    DeadlineRequest,
    DeadlineRule,
    DeadlineState,
    MonthsAfter,
    NextMeeting,
    OnDate,
    WorkingDaysAfter,
    WorkingDaysBefore,
    due_alerts,
    next_alert_at,
)
from safeguarding.settings import MeetingCadence

REMIND = datetime(2026, 12, 24, 9, tzinfo=UTC)
ESCALATE = datetime(2026, 12, 31, 0, tzinfo=UTC)
AGAIN = datetime(2027, 1, 7, 9, tzinfo=UTC)
OPENED = datetime(2026, 12, 21, 10, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def weekly(weekday: int) -> MeetingCadence:
    return MeetingCadence(group="Triage", kind="weekly", weekday=weekday)


def deadline(**overrides: object) -> Deadline:
    fields: dict[str, object] = {
        "deadline_id": "notification",
        "kind": DeadlineKind.NOTIFICATION,
        "title": "Serious Incident Notification to the National Panel",
        "owner": "Children's Social Care (local authority)",
        "statutory": True,
        "basis": "5 working days after 2026-12-21",
        "due_on": date(2026, 12, 30),
        "remind_at": REMIND,
        "escalate_at": ESCALATE,
        "escalate_again_at": AGAIN,
        "opened_at": OPENED,
    }
    fields.update(overrides)
    return Deadline.model_validate(fields)


# ------------------------------------------------------------------ state


def test_state_moves_from_on_track_to_due_soon_to_overdue() -> None:
    d = deadline()
    assert d.open
    assert d.state(OPENED) is DeadlineState.ON_TRACK
    assert d.state(REMIND - SECOND) is DeadlineState.ON_TRACK
    assert d.state(REMIND) is DeadlineState.DUE_SOON
    assert d.state(ESCALATE - SECOND) is DeadlineState.DUE_SOON
    assert d.state(ESCALATE) is DeadlineState.OVERDUE
    assert d.state(AGAIN + timedelta(days=30)) is DeadlineState.OVERDUE


def test_met_on_or_before_the_due_date_is_met() -> None:
    on_time = deadline(met_on=date(2026, 12, 30), met_at=datetime(2026, 12, 30, 17, tzinfo=UTC))
    early = deadline(met_on=date(2026, 12, 22), met_at=datetime(2026, 12, 22, 9, tzinfo=UTC))
    assert on_time.state(AGAIN) is DeadlineState.MET
    assert early.state(OPENED) is DeadlineState.MET
    assert not on_time.open


def test_met_after_the_due_date_is_missed_even_if_recorded_late() -> None:
    late = deadline(met_on=date(2026, 12, 31), met_at=datetime(2026, 12, 31, 10, tzinfo=UTC))
    assert late.state(AGAIN) is DeadlineState.MISSED
    # The day it happened counts, not the moment it was recorded.
    backdated = deadline(met_on=date(2026, 12, 29), met_at=datetime(2027, 1, 4, 9, tzinfo=UTC))
    assert backdated.state(AGAIN) is DeadlineState.MET


def test_withdrawn_wins_over_everything() -> None:
    d = deadline(withdrawn_at=datetime(2026, 12, 23, tzinfo=UTC))
    assert not d.open
    assert d.state(AGAIN) is DeadlineState.WITHDRAWN


# ------------------------------------------------------------------ alerts


def test_no_alert_before_the_reminder() -> None:
    d = deadline()
    assert due_alerts(d, REMIND - SECOND) == []
    assert next_alert_at(d) == REMIND


def test_reminder_then_escalation_then_second_escalation() -> None:
    d = deadline()
    assert due_alerts(d, REMIND) == [AlertKind.REMINDER]
    d.reminded_at = REMIND
    assert due_alerts(d, REMIND + timedelta(hours=1)) == []
    assert next_alert_at(d) == ESCALATE
    assert due_alerts(d, ESCALATE) == [AlertKind.ESCALATION]
    d.escalated_at = ESCALATE
    assert next_alert_at(d) == AGAIN
    assert due_alerts(d, AGAIN - SECOND) == []
    assert due_alerts(d, AGAIN) == [AlertKind.SECOND_ESCALATION]
    d.escalated_again_at = AGAIN
    assert due_alerts(d, AGAIN + timedelta(days=100)) == []
    assert next_alert_at(d) is None


def test_a_reminder_that_would_arrive_after_the_breach_is_dropped() -> None:
    d = deadline()
    assert due_alerts(d, ESCALATE) == [AlertKind.ESCALATION]
    assert due_alerts(d, AGAIN) == [AlertKind.ESCALATION, AlertKind.SECOND_ESCALATION]


def test_closed_deadlines_raise_no_alerts() -> None:
    met = deadline(met_on=date(2026, 12, 22), met_at=datetime(2026, 12, 22, tzinfo=UTC))
    withdrawn = deadline(withdrawn_at=datetime(2026, 12, 22, tzinfo=UTC))
    for d in (met, withdrawn):
        assert due_alerts(d, AGAIN) == []
        assert next_alert_at(d) is None


# ------------------------------------------------------------------ moving to a new plan


def later_plan(days: int) -> DeadlinePlan:
    shift = timedelta(days=days)
    return DeadlinePlan(
        deadline_id="notification",
        due_on=date(2026, 12, 30) + shift,
        remind_at=REMIND + shift,
        escalate_at=ESCALATE + shift,
        escalate_again_at=AGAIN + shift,
    )


def test_apply_plan_moves_dates_and_re_arms_alerts_that_move_into_the_future() -> None:
    d = deadline(reminded_at=REMIND, escalated_at=ESCALATE, escalated_again_at=AGAIN)
    plan = later_plan(14)
    d.apply_plan(plan)
    assert d.due_on == date(2027, 1, 13)
    assert (d.remind_at, d.escalate_at, d.escalate_again_at) == (
        plan.remind_at,
        plan.escalate_at,
        plan.escalate_again_at,
    )
    assert d.reminded_at is None
    assert d.escalated_at is None
    assert d.escalated_again_at is None
    now = ESCALATE + timedelta(hours=10)
    assert d.state(now) is DeadlineState.ON_TRACK
    assert next_alert_at(d) == plan.remind_at
    assert due_alerts(d, plan.remind_at) == [AlertKind.REMINDER]


def test_every_move_of_the_due_date_is_a_revision_and_a_same_date_plan_is_not() -> None:
    d = deadline()
    assert d.revisions == 0
    d.apply_plan(later_plan(0))  # planned again, same day: a calendar has nothing new
    assert d.revisions == 0
    d.apply_plan(later_plan(14))
    d.apply_plan(later_plan(7))  # moved back earlier: still a new revision
    assert d.revisions == 2


def test_apply_plan_keeps_alerts_already_sent_for_moments_not_moved_later() -> None:
    # A two-day move: the reminder fired after the new reminder moment, so it stays sent.
    sent_late = REMIND + timedelta(days=3)
    d = deadline(reminded_at=sent_late)
    d.apply_plan(later_plan(2))
    assert d.reminded_at == sent_late
    assert d.escalated_at is None
    assert next_alert_at(d) == ESCALATE + timedelta(days=2)


def test_apply_plan_keeps_the_reminder_when_only_escalations_move() -> None:
    d = deadline(reminded_at=REMIND)
    plan = DeadlinePlan(
        deadline_id="notification",
        due_on=date(2026, 12, 31),
        remind_at=REMIND,
        escalate_at=ESCALATE + timedelta(days=1),
        escalate_again_at=AGAIN + timedelta(days=1),
    )
    d.apply_plan(plan)
    assert d.reminded_at == REMIND
    assert next_alert_at(d) == plan.escalate_at


# ------------------------------------------------------------------ rules and requests


def test_rules_describe_themselves() -> None:
    assert (
        WorkingDaysAfter(start=date(2026, 12, 21), days=5).describe()
        == "5 working days after 2026-12-21"
    )
    assert (
        MonthsAfter(start=date(2027, 2, 26), months=6).describe()
        == "6 calendar months after 2027-02-26"
    )
    assert (
        WorkingDaysBefore(target=date(2027, 8, 26), days=7).describe()
        == "7 working days before 2027-08-26"
    )
    assert OnDate(due=date(2027, 6, 1)).describe() == "set for 2027-06-01"
    assert (
        NextMeeting(start=date(2026, 12, 21), meetings=weekly(1)).describe()
        == "next meeting of Triage (weekly, Tuesday) after 2026-12-21"
    )


@pytest.mark.parametrize("weekday", [-1, 7])
def test_a_meeting_weekday_is_monday_to_sunday(weekday: int) -> None:
    with pytest.raises(ValidationError):
        weekly(weekday)


@pytest.mark.parametrize(
    ("data", "rule_type"),
    [
        ({"rule": "working_days_after", "start": "2026-12-21", "days": 5}, WorkingDaysAfter),
        ({"rule": "months_after", "start": "2027-02-26", "months": 6}, MonthsAfter),
        ({"rule": "working_days_before", "target": "2027-08-26", "days": 7}, WorkingDaysBefore),
        (
            {
                "rule": "next_meeting",
                "start": "2026-12-21",
                "meetings": {"group": "Triage", "kind": "weekly", "weekday": 1},
            },
            NextMeeting,
        ),
        ({"rule": "on_date", "due": "2027-06-01"}, OnDate),
    ],
)
def test_a_rule_round_trips_through_json_by_its_tag(
    data: dict[str, object], rule_type: type
) -> None:
    request = DeadlineRequest.model_validate(
        {
            "deadline_id": "x",
            "kind": "action",
            "title": "An action",
            "owner": "Health (ICB)",
            "rule": data,
        }
    )
    assert isinstance(request.rule, rule_type)
    assert request.statutory is False
    again = DeadlineRequest.model_validate_json(request.model_dump_json())
    assert again == request


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(DeadlineRule).validate_python({"rule": "whenever", "due": "2027-06-01"})


def test_deadline_round_trips_through_json() -> None:
    d = deadline(reminded_at=REMIND)
    assert Deadline.model_validate_json(d.model_dump_json()) == d
