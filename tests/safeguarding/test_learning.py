"""Issue 13, item 11: the learning loop, on Liverpool's, Croydon's and Salford's shipped profiles.

Learning outputs are planned (owned by the partnership's learning group, due by a date, with the
usual reminder), disseminated, then their impact recorded at a re-audit; where the profile says
so (`learning_before_closure`) a statutory-edition case cannot close until its learning is
disseminated. First-edition cases (opened before the statutory rules) close as they always did.
"""

from __future__ import annotations

from datetime import date

import pytest

from safeguarding import machine
from safeguarding.case_file import FIRST_EDITION
from safeguarding.deadlines import DeadlineKind, DeadlineState
from safeguarding.vocabulary import DecisionKind, LearningSource, LearningStatus, Stage
from tests.factories import BUSINESS_MANAGER, CHAIR, COORDINATOR, POLICE_MEMBER
from tests.safeguarding.test_partnership_rules import PARTNERSHIPS, Walk

WAITS_FOR_LEARNING = {"LSCP": True, "CSCP": True, "SSCP": False}


def planned(walk: Walk, learning_id: str = "B1", due_on: date = date(2027, 3, 1)) -> Walk:
    return walk.decide(
        "learning_planned",
        COORDINATOR,
        learning_id=learning_id,
        output="briefing",
        title="Safe sleep",
        due_on=due_on.isoformat(),
    )


def closing(walk: Walk) -> dict[str, object]:
    return walk.meeting_attendees()


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_a_learning_output_is_owned_by_the_learning_group_with_a_due_date(code: str) -> None:
    walk = planned(Walk(code).in_action_plan().on(date(2027, 1, 12)))
    output = walk.case.learning["B1"]
    assert output.owner == walk.settings.learning_group
    assert output.source is LearningSource.OTHER_REVIEW  # the case's route
    assert output.status is LearningStatus.PLANNED
    deadline = walk.deadline("learning-B1")
    assert deadline.kind is DeadlineKind.LEARNING
    assert deadline.owner == walk.settings.learning_group
    assert deadline.due_on == date(2027, 3, 1)
    # The reminder goes to the learning group; the title carries no free text.
    reminders = [n for n in walk.fire_all(deadline) if n.kind == "reminder"]
    assert reminders and reminders[0].audience == walk.settings.learning_group
    assert "Safe sleep" not in reminders[0].subject
    status = walk.case.status(walk.now)
    assert [o.learning_id for o in status.learning] == ["B1"]


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_dissemination_meets_the_deadline_and_a_reaudit_records_the_impact(code: str) -> None:
    walk = planned(Walk(code).in_action_plan().on(date(2027, 1, 12)))
    walk.on(date(2027, 2, 10)).decide(
        "learning_disseminated",
        BUSINESS_MANAGER,
        learning_id="B1",
        reach="All agencies; 240 practitioners",
        reaudit_due_on="2027-08-31",
    )
    output = walk.case.learning["B1"]
    assert output.status is LearningStatus.DISSEMINATED
    assert output.disseminated_on == date(2027, 2, 10)
    assert walk.state("learning-B1") is DeadlineState.MET
    reaudit = walk.deadline("reaudit-B1")
    assert reaudit.kind is DeadlineKind.LEARNING_IMPACT
    assert reaudit.owner == walk.settings.quality_assurance_group
    assert reaudit.due_on == date(2027, 8, 31)
    # A review-group member reports the impact in their agency.
    walk.on(date(2027, 8, 20)).decide(
        "learning_impact_recorded",
        POLICE_MEMBER,
        learning_id="B1",
        impact="Re-audit: safe sleep discussed at 9 of 10 visits",
    )
    assert walk.case.learning["B1"].status is LearningStatus.IMPACT_RECORDED
    assert walk.case.learning["B1"].impact_on == date(2027, 8, 20)
    assert walk.state("reaudit-B1") is DeadlineState.MET


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_learning_decisions_are_refused_with_the_reason(code: str) -> None:
    walk = Walk(code).in_action_plan().on(date(2027, 1, 12))
    unknown = walk.refuse("learning_disseminated", COORDINATOR, learning_id="B9")
    assert unknown.reason == "conflict" and "no learning output 'B9'" in unknown.message
    past = walk.refuse(
        "learning_planned",
        COORDINATOR,
        learning_id="B1",
        output="training",
        title="Neglect",
        due_on="2027-01-01",
    )
    assert past.reason == "invalid" and "due_on 2027-01-01 is past" in past.message
    planned(walk)
    again = walk.refuse(
        "learning_planned", CHAIR, learning_id="B1", output="audit", title="X", due_on="2027-05-01"
    )
    assert again.reason == "conflict" and "already exists" in again.message
    early = walk.refuse("learning_impact_recorded", COORDINATOR, learning_id="B1", impact="x")
    assert early.reason == "conflict" and "not been disseminated" in early.message
    member = walk.refuse("learning_disseminated", POLICE_MEMBER, learning_id="B1")
    assert member.reason == "not_authorised"


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_the_case_waits_for_its_learning_where_the_profile_says_so(code: str) -> None:
    walk = planned(Walk(code).in_action_plan().on(date(2027, 1, 12)))
    walk.on(date(2027, 1, 13))
    if WAITS_FOR_LEARNING[code]:
        refused = walk.refuse("case_closed", CHAIR, **closing(walk))
        assert refused.reason == "guard_failed"
        assert machine.Fact.LEARNING_DISSEMINATED.value in refused.message
        assert not any("Close the case" in t.task for t in walk.case.tasks(walk.now))
        walk.decide("learning_disseminated", COORDINATOR, learning_id="B1")
    walk.decide("case_closed", CHAIR, **closing(walk))
    assert walk.stage() is Stage.CLOSED


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_a_first_edition_case_closes_as_it_always_did(code: str) -> None:
    walk = Walk(code)
    walk.case.edition = FIRST_EDITION
    walk.in_action_plan().on(date(2027, 1, 12))
    planned(walk)
    walk.on(date(2027, 1, 13)).decide("case_closed", CHAIR, **closing(walk))
    assert walk.stage() is Stage.CLOSED
    assert walk.deadline("learning-B1").withdrawn_at is not None


def test_learning_is_allowed_from_the_panel_response_until_closure() -> None:
    for stage in machine.LEARNING_STAGES:
        assert DecisionKind.LEARNING_PLANNED in machine.decisions_allowed(stage)
    for stage in (Stage.TRIAGE, Stage.RAPID_REVIEW, Stage.CLOSED):
        assert DecisionKind.LEARNING_PLANNED not in machine.decisions_allowed(stage)


def test_the_source_follows_a_local_cspr() -> None:
    walk = planned(Walk("LSCP").in_cspr().on(date(2027, 3, 2)), due_on=date(2027, 9, 1))
    assert walk.case.learning["B1"].source is LearningSource.CSPR
