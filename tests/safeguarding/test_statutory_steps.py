"""Issue #13 items 1, 4, 6, 9 and 10, on Liverpool's, Croydon's and Salford's shipped profiles:
the Local CSPR's clock from the decision to initiate the review, a care leaver's next step, the
Rapid Review sent to the National Panel and what follows, the family's and practitioners'
involvement, and publication. First-edition cases keep the rules they opened with."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from safeguarding.case_file import FIRST_EDITION
from safeguarding.deadlines import DeadlineKind, DeadlineState
from safeguarding.decisions import InvalidDecision
from safeguarding.projection import case_row
from safeguarding.vocabulary import (
    Agency,
    CareLeaverNextStep,
    DecisionKind,
    InvolvementMilestone,
    InvolvementOutcome,
    OtherReviewType,
    Route,
    Stage,
)
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    HEALTH_MEMBER,
    LEAD_REVIEWER,
    care_leaver_referral,
    decision,
)
from tests.safeguarding.test_case import Driver
from tests.safeguarding.test_partnership_rules import (
    CROYDON,
    PARTNERSHIPS,
    RECEIVED,
    Walk,
    same_referral,
)

RR_DAY = date(2027, 1, 12)
SENT_DAY = date(2027, 1, 13)
RESPONSE_DAY = date(2027, 2, 26)


def rapid_reviewed(code: str, recommendation: str = "local_cspr", send: bool = True) -> Walk:
    walk = Walk(code).notified()
    walk.on(RR_DAY).decide(
        "rapid_review_decision", CHAIR, recommendation=recommendation, **walk.meeting_attendees()
    )
    if send:
        walk.on(SENT_DAY).decide("rapid_review_sent", COORDINATOR)
    return walk


def to_publication(code: str) -> Walk:
    walk = rapid_reviewed(code)
    walk.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    walk.on(date(2027, 3, 1)).decide(
        "lead_reviewer_appointed", BUSINESS_MANAGER, lead_reviewer="Lee Reviewer"
    )
    return through_cspr(walk)


def through_cspr(walk: Walk) -> Walk:
    walk.on(date(2027, 3, 15)).decide(
        "terms_of_reference_agreed", CHAIR, **walk.meeting_attendees()
    )
    walk.on(date(2027, 4, 5)).decide("agency_information_received", LEAD_REVIEWER)
    walk.involved(date(2027, 4, 6))
    walk.on(date(2027, 5, 3)).decide("involvement_completed", LEAD_REVIEWER)
    walk.on(date(2027, 6, 1)).decide("draft_report_received", LEAD_REVIEWER)
    walk.on(date(2027, 6, 8)).decide("quality_assured", CHAIR, **walk.meeting_attendees())
    return walk.on(date(2027, 6, 9)).decide("final_report_sent", COORDINATOR)


# ====================================================================== item 1: the clock


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_the_lcspr_clock_counts_from_the_rapid_review_decision(code: str) -> None:
    walk = rapid_reviewed(code)
    walk.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    assert walk.case.cspr is not None
    assert walk.case.cspr.clock_from == RR_DAY
    assert walk.case.cspr.initiated_by == "rapid_review_decision"
    # Six calendar months after the decision of 12 January, not after the reply of 26 February.
    assert walk.due("cspr-publication") == date(2027, 7, 12)
    assert walk.deadline("cspr-publication").basis == "6 calendar months after 2027-01-12"
    row = case_row(walk.case)
    assert (row.cspr_clock_from, row.cspr_initiated_by) == (RR_DAY, "rapid_review_decision")
    assert row.rapid_review_sent_on == SENT_DAY


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_a_panel_that_disagrees_keeps_the_clock_when_the_partners_keep_their_decision(
    code: str,
) -> None:
    walk = rapid_reviewed(code)
    walk.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=False, outcome="local_cspr"
    )
    assert walk.due("cspr-publication") == date(2027, 7, 12)


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_a_changed_decision_after_the_panel_starts_the_clock_when_it_is_made(code: str) -> None:
    walk = rapid_reviewed(code, recommendation="no_further_review")
    walk.on(date(2027, 3, 10)).decide(
        "panel_response",
        COORDINATOR,
        panel_agrees=False,
        outcome="local_cspr",
        occurred_on="2027-02-26",
        decision_changed_on="2027-03-09",
    )
    assert walk.case.cspr is not None
    assert walk.case.cspr.clock_from == date(2027, 3, 9)
    assert walk.case.cspr.initiated_by == "decision_changed_after_panel_response"
    assert walk.due("cspr-publication") == date(2027, 9, 9)
    # Without the day given, the changed decision is taken to be the day of the response.
    again = rapid_reviewed(code, recommendation="no_further_review")
    again.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=False, outcome="local_cspr"
    )
    assert again.due("cspr-publication") == date(2027, 8, 26)


def test_decision_changed_on_is_refused_when_nothing_changed_or_out_of_range() -> None:
    walk = rapid_reviewed(CROYDON)
    walk.on(RESPONSE_DAY)
    refused = walk.refuse(
        "panel_response",
        COORDINATOR,
        panel_agrees=True,
        outcome="local_cspr",
        decision_changed_on="2027-02-26",
    )
    assert refused.reason == "invalid"
    assert "only when the partners changed their decision" in refused.message
    other = rapid_reviewed(CROYDON, recommendation="no_further_review").on(RESPONSE_DAY)
    refused = other.refuse(
        "panel_response",
        COORDINATOR,
        panel_agrees=False,
        outcome="local_cspr",
        decision_changed_on="2027-02-20",
    )
    assert "must be between the Panel's response (2027-02-26) and today" in refused.message


def test_first_edition_cases_keep_counting_from_the_panels_response() -> None:
    d = Driver(edition=FIRST_EDITION).rapid_reviewed(send=False)
    assert d.state("rapid-review") is DeadlineState.MET  # met at the decision, as before
    assert d.deadline("rapid-review").title == "Rapid Review completed"
    d.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )  # no sending needed
    assert d.due("cspr-publication") == date(2027, 8, 26)
    assert d.case.cspr is not None
    assert d.case.cspr.initiated_by == "panel_response"
    assert case_row(d.case).cspr_clock_from == RESPONSE_DAY


# ====================================================================== item 6: to the Panel


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_the_rapid_review_is_sent_then_the_panels_response_is_reminded_and_chased(
    code: str,
) -> None:
    walk = rapid_reviewed(code, send=False)
    assert walk.deadline("rapid-review").open  # the 15 working days run to the sending
    refused = walk.on(RESPONSE_DAY).refuse(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    assert refused.reason == "conflict"
    assert "(rapid_review_sent)" in refused.message
    walk.on(SENT_DAY).decide("rapid_review_sent", COORDINATOR)
    assert walk.deadline("rapid-review").met_on == SENT_DAY
    assert walk.refuse("rapid_review_sent", COORDINATOR).reason == "conflict"
    chase = walk.deadline("panel-response")
    assert chase.kind is DeadlineKind.PANEL_RESPONSE
    assert chase.owner == walk.settings.business_manager
    assert chase.basis == "15 working days after 2027-01-13"
    assert chase.due_on == date(2027, 2, 3)
    fired = walk.fire_all(chase)
    kinds = [n.kind for n in fired if n.deadline_id == "panel-response"]
    assert kinds == ["reminder", "escalation", "second_escalation"]  # reminded, then chased
    walk.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    assert walk.state("panel-response") is DeadlineState.MISSED  # the Panel answered late


def test_the_rapid_review_cannot_be_sent_before_it_decided() -> None:
    walk = rapid_reviewed(CROYDON, send=False).on(SENT_DAY)
    refused = walk.refuse("rapid_review_sent", COORDINATOR, occurred_on="2027-01-11")
    assert refused.reason == "invalid"
    assert "before the Rapid Review decided (2027-01-12)" in refused.message


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_a_panel_request_for_more_information_is_a_task_and_moves_the_chase(code: str) -> None:
    walk = rapid_reviewed(code).on(date(2027, 1, 20))
    walk.decide("panel_information_requested", COORDINATOR, request_id="PI1", asked_for="GP notes")
    request = walk.deadline("panel-information-PI1")
    assert request.kind is DeadlineKind.PANEL_INFORMATION
    assert request.due_on == date(2027, 1, 27)  # 5 working days
    tasks = [t.task for t in walk.case.status(walk.now).tasks]
    assert "Further information for the National Panel (PI1)" in tasks
    assert walk.refuse(
        "panel_information_requested", COORDINATOR, request_id="PI1", asked_for="again"
    ).reason == ("conflict")
    walk.decide(
        "panel_information_requested",
        COORDINATOR,
        request_id="PI2",
        asked_for="School attendance",
        due_on="2027-02-15",
    )
    assert walk.due("panel-information-PI2") == date(2027, 2, 15)
    walk.on(date(2027, 1, 25)).decide("panel_information_sent", COORDINATOR, request_id="PI1")
    assert walk.state("panel-information-PI1") is DeadlineState.MET
    # The Panel's response is now awaited 15 working days from what was sent last.
    assert walk.due("panel-response") == date(2027, 2, 15)
    refused = walk.refuse("panel_information_sent", COORDINATOR, request_id="PI9")
    assert "no National Panel request 'PI9'; requests: PI1, PI2" in refused.message
    walk.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="no_further_review"
    )
    assert walk.state("panel-information-PI2") is DeadlineState.WITHDRAWN


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_a_national_review_tracks_the_partnerships_contributions(code: str) -> None:
    walk = rapid_reviewed(code)
    walk.on(RESPONSE_DAY).decide(
        "panel_response",
        COORDINATOR,
        panel_agrees=True,
        outcome="no_further_review",
        national_review=True,
    )
    assert walk.stage() is Stage.ACTION_PLAN_MONITORING
    assert walk.case.national_review is not None
    walk.decide(
        "national_review_contribution_requested",
        COORDINATOR,
        contribution_id="NR1",
        description="Chronologies for the national review",
        lead_agency="health",
        due_on="2027-04-01",
    )
    contribution = walk.deadline("national-review-NR1")
    assert contribution.owner == Agency.HEALTH.label
    assert contribution.due_on == date(2027, 4, 1)
    refused = walk.refuse("case_closed", CHAIR, **walk.meeting_attendees())
    assert refused.reason == "guard_failed"
    assert "no contribution to a national review outstanding" in refused.message
    walk.on(date(2027, 3, 30)).decide(
        "national_review_contribution_made", HEALTH_MEMBER, contribution_id="NR1"
    )
    assert walk.state("national-review-NR1") is DeadlineState.MET
    walk.decide("case_closed", CHAIR, **walk.meeting_attendees())
    assert walk.stage() is Stage.CLOSED


def test_contributions_need_a_national_review() -> None:
    walk = rapid_reviewed(CROYDON)
    walk.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="no_further_review"
    )
    # Not offered to people where they do not apply (no national review, no Local CSPR).
    assert walk.case.status(walk.now).decisions_allowed == [
        DecisionKind.ACTION_ADDED,
        DecisionKind.ACTION_UPDATED,
        DecisionKind.CASE_CLOSED,
        # The learning loop (item 11) runs alongside the action plan.
        DecisionKind.LEARNING_PLANNED,
        DecisionKind.LEARNING_DISSEMINATED,
        DecisionKind.LEARNING_IMPACT_RECORDED,
        DecisionKind.DEADLINE_EXTENDED,
    ]
    refused = walk.refuse("national_review_contribution_made", COORDINATOR, contribution_id="NR1")
    assert refused.reason == "guard_failed"
    assert "the National Panel commissioned a national review" in refused.message


# ====================================================================== item 4: care leaver


@pytest.mark.parametrize("code", PARTNERSHIPS)
@pytest.mark.parametrize("step", list(CareLeaverNextStep))
def test_a_care_leavers_case_waits_for_the_partnerships_next_step(
    code: str, step: CareLeaverNextStep
) -> None:
    walk = Walk(code, care_leaver_referral(RECEIVED, partnership=code))
    walk.triaged()
    walk.on(date(2026, 12, 23)).decide("notification_submitted", COORDINATOR, reference="CL-1")
    assert walk.stage() is Stage.CARE_LEAVER_NEXT_STEP
    assert not walk.case.closed
    tasks = [t.task for t in walk.case.status(walk.now).tasks]
    assert any("Safeguarding Adults Review" in t for t in tasks)
    walk.on(date(2027, 1, 8)).decide(
        "care_leaver_next_step", CHAIR, next_step=step.value, reason="Agreed by the partners"
    )
    assert walk.case.care_leaver_step is not None
    assert walk.case.care_leaver_step.decided_on == date(2027, 1, 8)
    assert walk.case.care_leaver_step.reason == "Agreed by the partners"
    assert walk.case.route is Route.CARE_LEAVER_NOTIFICATION
    row = case_row(walk.case)
    assert (row.care_leaver_next_step, row.care_leaver_next_step_on) == (
        step.value,
        date(2027, 1, 8),
    )
    if step is CareLeaverNextStep.LOCAL_REVIEW:
        assert walk.stage() is Stage.OTHER_REVIEW
        assert walk.case.other_review_type is OtherReviewType.LOCAL_CASE_REVIEW
    else:
        assert walk.stage() is Stage.CLOSED
    if step is CareLeaverNextStep.SAFEGUARDING_ADULTS_REVIEW:
        board = walk.settings.safeguarding_adults_board
        referred = f"Referred to the {board} for a Safeguarding Adults Review on 2027-01-08"
        assert any(h.text == referred for h in walk.case.history)


def test_croydons_board_is_named_from_its_seed() -> None:
    walk = Walk(CROYDON, care_leaver_referral(RECEIVED, partnership=CROYDON))
    assert walk.settings.safeguarding_adults_board == "Croydon Safeguarding Adults Board (CSAB)"


def test_a_care_leavers_next_step_needs_a_reason_and_the_chair_or_business_manager() -> None:
    with pytest.raises(InvalidDecision, match="reason: Field required"):
        decision("care_leaver_next_step", CHAIR, next_step="no_further_action")
    walk = Walk(CROYDON, care_leaver_referral(RECEIVED, partnership=CROYDON)).triaged()
    walk.on(date(2026, 12, 23)).decide("notification_submitted", COORDINATOR, reference="CL-1")
    refused = walk.refuse(
        "care_leaver_next_step", COORDINATOR, next_step="no_further_action", reason="x"
    )
    assert refused.reason == "not_authorised"


def test_a_first_edition_care_leavers_case_still_closes_on_notification() -> None:
    d = Driver(care_leaver_referral(RECEIVED), edition=FIRST_EDITION)
    d.on(date(2026, 12, 22)).decide("triage", CHAIR, outcome="serious_incident")
    d.on(date(2026, 12, 23)).decide("notification_submitted", COORDINATOR, reference="CL-1")
    assert d.stage() is Stage.CLOSED


# ====================================================================== items 9 and 10


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_involvement_is_recorded_milestone_by_milestone(code: str) -> None:
    walk = rapid_reviewed(code)
    walk.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    walk.on(date(2027, 3, 1)).decide(
        "lead_reviewer_appointed", BUSINESS_MANAGER, lead_reviewer="Lee Reviewer"
    )
    walk.on(date(2027, 3, 15)).decide(
        "terms_of_reference_agreed", CHAIR, **walk.meeting_attendees()
    )
    walk.on(date(2027, 4, 5)).decide("agency_information_received", LEAD_REVIEWER)
    assert walk.stage() is Stage.CSPR_INVOLVEMENT
    tasks = [t.task for t in walk.case.status(walk.now).tasks]
    assert "Ask the family for their views (record them given or declined)" in tasks
    refused = walk.refuse("involvement_completed", LEAD_REVIEWER)
    assert refused.reason == "conflict"
    assert "family_told, family_views, practitioners_involved" in refused.message
    walk.decide("involvement_recorded", LEAD_REVIEWER, milestone="family_told")
    walk.decide("involvement_recorded", LEAD_REVIEWER, milestone="family_views", outcome="declined")
    walk.decide("involvement_recorded", LEAD_REVIEWER, milestone="practitioners_involved")
    walk.decide("involvement_completed", LEAD_REVIEWER)
    assert walk.stage() is Stage.CSPR_DRAFT_REPORT
    assert walk.case.cspr is not None
    views = walk.case.cspr.involvement[InvolvementMilestone.FAMILY_VIEWS]
    assert views.outcome is InvolvementOutcome.DECLINED
    assert case_row(walk.case).family_views == "declined"
    assert case_row(walk.case).family_told_on == date(2027, 4, 5)


def test_an_outcome_must_fit_its_milestone() -> None:
    with pytest.raises(InvalidDecision, match="outcome shown does not fit family_views"):
        decision("involvement_recorded", LEAD_REVIEWER, milestone="family_views", outcome="shown")


def test_involvement_needs_a_local_cspr() -> None:
    walk = rapid_reviewed(CROYDON)
    walk.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="no_further_review"
    )
    refused = walk.refuse("involvement_recorded", LEAD_REVIEWER, milestone="family_told")
    assert refused.reason == "guard_failed"


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_publication_needs_its_checks_and_records_where_when_and_how_long(code: str) -> None:
    walk = to_publication(code)
    assert walk.stage() is Stage.CSPR_PUBLICATION
    published = {"location": "partnership website", "available_until": "2028-07-01"}
    walk.on(date(2027, 7, 1))
    refused = walk.refuse("published", COORDINATOR, **published)
    assert refused.reason == "conflict"
    assert "anonymisation_checked" in refused.message
    assert "Offer to show the family the report before publication" in refused.message
    # Croydon's SPRG members tell their press offices first (its profile says so).
    assert ("communications_notified" in refused.message) == (code == CROYDON)
    tasks = [t.task for t in walk.case.status(walk.now).tasks]
    assert "Check the report's anonymisation and redaction (anonymisation_checked)" in tasks
    walk.decide("anonymisation_checked", CHAIR, redactions_made=True)
    walk.decide(
        "involvement_recorded", LEAD_REVIEWER, milestone="family_shown_report", outcome="shown"
    )
    if code == CROYDON:
        assert "communications_notified" in walk.refuse("published", COORDINATOR).message
        walk.decide("communications_notified", COORDINATOR, agencies=["police", "health"])
    refused = walk.refuse("published", COORDINATOR, location="partnership website")
    assert refused.reason == "invalid"
    assert "available_until" in refused.message
    refused = walk.refuse(
        "published", COORDINATOR, location="partnership website", available_until="2028-01-01"
    )
    assert "at least 12 months (until 2028-07-01 or later)" in refused.message
    walk.decide("published", COORDINATOR, **published)
    assert walk.stage() is Stage.ACTION_PLAN_MONITORING
    row = case_row(walk.case)
    assert (row.published_location, row.published_until) == (
        "partnership website",
        date(2028, 7, 1),
    )
    assert row.anonymisation_checked_on == date(2027, 7, 1)
    assert row.family_shown_report == "shown"
    assert (row.communications_notified_on is not None) == (code == CROYDON)
    tasks = [t.task for t in walk.case.status(walk.now).tasks]
    assert "Record the safeguarding partners' response to the findings" in tasks
    assert "Give the practitioners feedback on the review's outcome" in tasks
    walk.decide("partners_response_recorded", CHAIR, summary="Accepted in full")
    walk.decide("involvement_recorded", LEAD_REVIEWER, milestone="practitioners_feedback")
    tasks = [t.task for t in walk.case.status(walk.now).tasks]
    assert "Record the safeguarding partners' response to the findings" not in tasks
    assert case_row(walk.case).partners_response_on == date(2027, 7, 1)
    assert case_row(walk.case).practitioners_feedback_on == date(2027, 7, 1)


def test_the_publication_minimum_is_a_profile_setting() -> None:
    base = Walk(CROYDON).settings
    assert base.publication_minimum_months == 12
    assert base.communications_before_publication
    with pytest.raises(ValidationError):
        base.model_validate({**base.model_dump(), "publication_minimum_months": -1})


def test_first_edition_cases_publish_without_the_new_checks() -> None:
    d = Driver(edition=FIRST_EDITION).rapid_reviewed(send=False)
    d.on(RESPONSE_DAY).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    d.on(date(2027, 3, 1)).decide(
        "lead_reviewer_appointed", BUSINESS_MANAGER, lead_reviewer="Lee Reviewer"
    )
    for kind, by in (
        ("terms_of_reference_agreed", CHAIR),
        ("agency_information_received", LEAD_REVIEWER),
        ("involvement_completed", LEAD_REVIEWER),
        ("draft_report_received", LEAD_REVIEWER),
        ("quality_assured", CHAIR),
        ("final_report_sent", BUSINESS_MANAGER),
    ):
        d.decide(kind, by)
    d.on(date(2027, 7, 1)).decide("published", COORDINATOR)
    assert d.stage() is Stage.ACTION_PLAN_MONITORING


def test_every_new_kind_has_a_default_authority() -> None:
    settings = Walk(CROYDON).settings
    for kind in (
        DecisionKind.RAPID_REVIEW_SENT,
        DecisionKind.CARE_LEAVER_NEXT_STEP,
        DecisionKind.INVOLVEMENT_RECORDED,
        DecisionKind.PARTNERS_RESPONSE_RECORDED,
    ):
        assert settings.authorities[kind]
    assert same_referral(CROYDON).partnership == CROYDON
