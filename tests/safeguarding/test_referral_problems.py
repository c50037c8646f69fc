"""`referral_problems`: what stops a referral opening a case with a partnership, by field. The
interfaces ask it before they start a case; the workflow refuses an implausible date itself."""

from __future__ import annotations

from datetime import date

import pytest

from safeguarding.profiles import profile_for
from safeguarding.referral import ReferralProblem, referral_problem, referral_problems
from tests.factories import referral

TODAY = date(2026, 12, 21)
SALFORD = profile_for("SSCP")  # 5 days from the incident to the referral


def fields(problems: list[ReferralProblem]) -> list[str]:
    return [p.field for p in problems]


def test_a_complete_referral_has_no_problems() -> None:
    for code in ("LSCP", "CSCP", "SSCP"):
        assert referral_problems(referral(TODAY, partnership=code), profile_for(code), TODAY) == []


def test_a_late_referral_needs_its_reason() -> None:
    late = referral(TODAY, partnership="SSCP", incident_on="2026-12-08")  # 13 days
    [problem] = referral_problems(late, SALFORD, TODAY)
    assert problem.field == "late_reason"
    assert problem.message.startswith(
        "the referral is 8 day(s) past Salford Safeguarding Children Partnership's limit of "
        "5 days after the incident"
    )
    assert str(problem).startswith("late_reason: the referral is 8 day(s) past")
    explained = referral(
        TODAY, partnership="SSCP", incident_on="2026-12-08", late_reason="Disclosed later."
    )
    assert referral_problems(explained, SALFORD, TODAY) == []


@pytest.mark.parametrize("incident_on", ["2026-12-16", "2026-12-21"])
def test_a_referral_within_the_limit_needs_no_reason(incident_on: str) -> None:
    in_time = referral(TODAY, partnership="SSCP", incident_on=incident_on)
    assert referral_problems(in_time, SALFORD, TODAY) == []


def test_no_time_limit_no_late_referral() -> None:
    liverpool = profile_for("LSCP")
    assert liverpool.referral_time_limit_days is None
    old = referral(TODAY, partnership="LSCP", incident_on="2026-01-02")
    assert referral_problems(old, liverpool, TODAY) == []


def test_received_in_the_future_or_too_long_ago() -> None:
    future = referral(date(2026, 12, 22), partnership="SSCP")
    assert fields(referral_problems(future, SALFORD, TODAY)) == ["received_on"]
    assert referral_problem(future, TODAY) == "received_on: 2026-12-22 is in the future"
    ancient = referral(date(1990, 1, 1), partnership="SSCP")
    [problem] = referral_problems(ancient, SALFORD, TODAY)
    assert problem.field == "received_on" and "years ago" in problem.message
    assert referral_problem(ancient, TODAY) == str(problem)


def test_another_partnerships_settings_are_refused() -> None:
    problems = referral_problems(referral(TODAY, partnership="LSCP"), SALFORD, TODAY)
    assert fields(problems) == ["partnership"]


def test_every_problem_is_reported_at_once() -> None:
    bad = referral(date(2026, 12, 22), partnership="SSCP", incident_on="2026-12-01")
    assert fields(referral_problems(bad, SALFORD, TODAY)) == ["received_on", "late_reason"]
