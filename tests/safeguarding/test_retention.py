"""The retention schedule (issue 14, point 3): when each rule falls due for a closed case."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from safeguarding.projection import AGE_BANDS
from safeguarding.retention import BAND_YOUNGEST, DisposalRule, RetentionSchedule, due_rules

CLOSED, RECEIVED = date(2027, 3, 1), date(2026, 7, 1)
P, N = DisposalRule.PERSONAL_DATA, DisposalRule.PROFESSIONAL_NAMES


def test_the_bands_are_the_national_statistics_bands() -> None:
    assert set(BAND_YOUNGEST) == set(AGE_BANDS)


def test_personal_data_waits_for_the_youngest_child_to_be_25() -> None:
    schedule = RetentionSchedule()
    assert schedule.due_on(P, CLOSED, RECEIVED, ["16 to 17"]) == date(2035, 7, 1)  # 25 - 16
    assert schedule.due_on(P, CLOSED, RECEIVED, ["16 to 17", "under 1"]) == date(2051, 7, 1)
    assert schedule.due_on(P, CLOSED, RECEIVED, ["18 to 24"]) == date(2034, 3, 1)  # 7 years
    no_floor = RetentionSchedule(until_child_age=None)
    assert no_floor.due_on(P, CLOSED, RECEIVED, ["under 1"]) == date(2034, 3, 1)
    assert schedule.due_on(N, CLOSED, RECEIVED, ["under 1"]) == date(2042, 3, 1)
    assert "not before the youngest child is 25" in schedule.rule_text(P)


def test_due_rules() -> None:
    schedule = RetentionSchedule(until_child_age=None)
    kwargs = {"received_on": RECEIVED, "age_bands": ["11 to 15"]}
    assert due_rules(schedule, closed_on=None, today=date(2099, 1, 1), **kwargs) == []  # type: ignore[arg-type]
    assert due_rules(schedule, closed_on=CLOSED, today=date(2034, 2, 28), **kwargs) == []  # type: ignore[arg-type]
    assert due_rules(schedule, closed_on=CLOSED, today=date(2042, 3, 1), **kwargs) == [P, N]  # type: ignore[arg-type]
    done = frozenset({P})
    assert due_rules(schedule, closed_on=CLOSED, today=date(2042, 3, 1), done=done, **kwargs) == [N]  # type: ignore[arg-type]


def test_names_cannot_go_before_what_was_decided() -> None:
    with pytest.raises(ValidationError, match="who decided would go before"):
        RetentionSchedule(personal_data_years=10, professional_names_years=5)
    with pytest.raises(ValidationError):
        RetentionSchedule(personal_data_years=0)
