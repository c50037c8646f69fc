"""Issue #13, items 2, 3, 5, 7 and 8, on the three shipped profiles: the statutory test of a
Serious Incident Notification at triage, who must attend or agree a decision, the
safeguarding-lead discussion and Salford's quality assurance before triage, the local
authority's notice to the partnership (Liverpool), and a Rapid Review without a notification
(Liverpool's cases of serious concern). `Walk` plays the workflow's part (test_partnership_rules).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from safeguarding.case import HistoryKind
from safeguarding.case_file import FIRST_EDITION
from safeguarding.deadlines import DeadlineKind, DeadlineState
from safeguarding.decisions import InvalidDecision
from safeguarding.profiles import profile_for
from safeguarding.referral import Referral, notification_criteria_unmet, referral_problems
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import Agency, DecisionKind, Role, Route, Stage
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    HEALTH_MEMBER,
    LEGAL_MEMBER,
    PARTNERS,
    POLICE_MEMBER,
    RAPID_REVIEW_CORE,
    TRIAGE_ATTENDEES,
    decision,
    people,
    referral,
    triage_participants,
)
from tests.safeguarding.test_partnership_rules import (
    CROYDON,
    LIVERPOOL,
    PARTNERSHIPS,
    RECEIVED,
    SALFORD,
    Walk,
    same_referral,
)

TRIAGE_DAY = date(2026, 12, 22)


def walk(code: str, **referral_fields: Any) -> Walk:
    return Walk(code, same_referral(code, **referral_fields)).quality_assured().on(TRIAGE_DAY)


def notify(w: Walk, **fields: Any) -> Walk:
    return w.decide(
        "triage", BUSINESS_MANAGER, outcome="serious_incident", **triage_participants(), **fields
    )


# ====================================================================== item 2: the statutory test


@pytest.mark.parametrize("code", PARTNERSHIPS)
@pytest.mark.parametrize(
    ("fields", "criterion"),
    [
        ({"abuse_or_neglect_suspected": False}, "abuse or neglect is not known or suspected"),
        ({"harm": "other"}, "the child neither died nor was seriously harmed"),
        (
            {"where_harmed": "elsewhere"},
            "the child was harmed neither in the local authority's area nor outside England "
            "while normally resident in it",
        ),
    ],
)
def test_a_notification_that_fails_a_criterion_is_refused_naming_it(
    code: str, fields: dict[str, Any], criterion: str
) -> None:
    w = walk(code, **fields)
    refused = w.refuse(
        "triage", BUSINESS_MANAGER, outcome="serious_incident", **triage_participants()
    )
    assert refused.reason == "criteria_not_met"
    assert refused.message == (
        "the statutory criteria for a Serious Incident Notification are not met: "
        f"{criterion}. Notify only with criteria_not_met_reason (e.g. on the National Panel's "
        "advice)"
    )
    # Other routes are open as before.
    w.decide(
        "triage",
        BUSINESS_MANAGER,
        outcome="no_further_action",
        advice="Supervision",
        **triage_participants(),
    )
    assert w.stage() is Stage.CLOSED


def test_every_failing_criterion_is_named_at_once() -> None:
    unmet = notification_criteria_unmet(
        referral(RECEIVED, harm="other", abuse_or_neglect_suspected=False, where_harmed="elsewhere")
    )
    assert len(unmet) == 3


@pytest.mark.parametrize("code", PARTNERSHIPS)
@pytest.mark.parametrize("where", [None, "in_area", "outside_england_normally_resident"])
def test_harm_in_the_area_or_abroad_while_resident_here_is_notifiable(
    code: str, where: str | None
) -> None:
    w = notify(walk(code, where_harmed=where, harm="death"))
    assert w.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION
    assert w.case.notified_outside_criteria is None


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_a_recorded_reason_notifies_outside_the_criteria_and_the_history_says_so(
    code: str,
) -> None:
    w = notify(
        walk(code, abuse_or_neglect_suspected=False),
        criteria_not_met_reason="Notified on the National Panel's advice",
    )
    assert w.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION
    assert w.case.notified_outside_criteria == (
        "abuse or neglect is not known or suspected. Reason: Notified on the National "
        "Panel's advice"
    )
    assert (
        "Notified although the statutory criteria are not met (abuse or neglect is not known "
        "or suspected); reason: Notified on the National Panel's advice"
    ) in w.history(HistoryKind.NOTICE)
    entry = next(h for h in w.case.history if h.decision_kind == "triage")
    assert entry.why == "Notified on the National Panel's advice"


def test_a_care_leaver_is_notified_for_their_death_only() -> None:
    leaver = {"children": [{"name": "Young Person B", "age_years": 20, "care_leaver": True}]}
    assert notification_criteria_unmet(referral(RECEIVED, harm="death", **leaver)) == []
    assert notification_criteria_unmet(referral(RECEIVED, harm="serious_harm", **leaver)) == [
        "a care leaver's death is notified, not serious harm"
    ]


def test_the_reason_belongs_to_a_notification_only() -> None:
    with pytest.raises(InvalidDecision, match="criteria_not_met_reason only applies"):
        decision(
            "triage", CHAIR, outcome="no_further_action", advice="a", criteria_not_met_reason="b"
        )


def test_cases_opened_under_the_first_rules_keep_them() -> None:
    w = walk(LIVERPOOL, abuse_or_neglect_suspected=False)
    w.case.edition = FIRST_EDITION
    notify(w)
    assert w.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION


# ====================================================================== item 3: attend and agree


def test_croydon_notifies_only_with_the_three_partners_agreement() -> None:
    w = walk(CROYDON)
    refused = w.refuse("triage", BUSINESS_MANAGER, outcome="serious_incident")
    assert refused.reason == "not_agreed"
    assert refused.message == (
        "Croydon Safeguarding Children Partnership's partners must agree this triage decision: "
        "Children's Social Care (local authority), Health (ICB), Police not among those who "
        "agreed (agreed_by; needed: Children's Social Care (local authority), Health (ICB), "
        "Police)"
    )
    refused = w.refuse(
        "triage",
        BUSINESS_MANAGER,
        outcome="serious_incident",
        agreed_by=people(HEALTH_MEMBER, CSC_MEMBER),
    )
    assert refused.message.startswith(
        "Croydon Safeguarding Children Partnership's partners must agree this triage decision: "
        "Police not among"
    )
    w.decide("triage", BUSINESS_MANAGER, outcome="serious_incident", agreed_by=people(*PARTNERS))
    assert w.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION
    entry = next(h for h in w.case.history if h.decision_kind == "triage")
    assert "agreed_by=Dana Chair (Police), Hal Health (Health (ICB))" in entry.text


def test_croydon_screening_outside_a_notification_needs_no_agreement() -> None:
    w = walk(CROYDON).decide("triage", BUSINESS_MANAGER, outcome="case_of_concern")
    assert w.stage() is Stage.CASE_OF_CONCERN


def test_whoever_decides_agrees_for_their_own_agency() -> None:
    chair = CHAIR.model_copy(update={"role": Role.BUSINESS_MANAGER})  # a police officer
    w = walk(CROYDON).decide(
        "triage",
        chair,
        outcome="serious_incident",
        agreed_by=people(HEALTH_MEMBER, CSC_MEMBER),
    )
    assert w.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION


def test_salford_notifies_with_the_partners_agreement() -> None:
    w = walk(SALFORD)
    assert w.refuse("triage", CHAIR, outcome="serious_incident").reason == "not_agreed"
    w.decide("triage", CHAIR, outcome="serious_incident", agreed_by=people(*PARTNERS[1:]))
    assert w.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION


def test_liverpool_triage_is_attended_by_the_three_partners_and_the_safeguarding_manager() -> None:
    w = walk(LIVERPOOL)
    refused = w.refuse("triage", CHAIR, outcome="no_further_action", advice="a")
    assert refused.reason == "not_quorate"
    assert "list the attendees" in refused.message
    refused = w.refuse(
        "triage", CHAIR, outcome="no_further_action", advice="a", attendees=people(*PARTNERS)
    )
    assert refused.message.startswith(
        "the meeting was not quorate: Partnership business team not present"
    )
    w.decide("triage", CHAIR, outcome="serious_incident", attendees=people(*TRIAGE_ATTENDEES))
    assert w.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION


def test_liverpool_rapid_review_needs_its_core_membership() -> None:
    w = Walk(LIVERPOOL).notified().on(date(2027, 1, 12))
    refused = w.refuse(
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=people(*PARTNERS),
    )
    assert refused.reason == "not_quorate"
    assert refused.message.startswith(
        "the meeting was not quorate: Legal services, Partnership business team not present"
    )
    w.decide(
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=people(*RAPID_REVIEW_CORE),
    )
    assert w.stage() is Stage.NATIONAL_PANEL_RESPONSE


def test_participation_is_described_for_forms_and_messages() -> None:
    assert profile_for(CROYDON).participation(DecisionKind.TRIAGE) == (
        "agreed by (when the outcome is serious_incident): Children's Social Care (local "
        "authority), Health (ICB), Police"
    )


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ({"triage": {}}, "names who must be present or who must agree"),
        (
            {"triage": {"agree": ["police"], "outcomes": ["sometimes"]}},
            "decision_rules.triage.outcomes: sometimes is not a triage outcome",
        ),
        (
            {"case_closed": {"agree": ["police"], "outcomes": ["serious_incident"]}},
            "decision_rules.case_closed: a case_closed has no outcome",
        ),
    ],
)
def test_a_decision_rule_that_cannot_be_applied_is_refused(
    rules: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        PartnershipSettings.model_validate({"decision_rules": rules})


# ====================================================================== item 5: before triage


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_the_safeguarding_lead_discussion_must_be_answered(code: str) -> None:
    settings = profile_for(code)
    data = referral(RECEIVED, partnership=code).model_dump(mode="json")
    del data["referrer"]["discussed_with_safeguarding_lead"]
    unanswered = Referral.model_validate(data)
    problems = referral_problems(unanswered, settings, RECEIVED)
    assert [(p.field, p.message) for p in problems] == [
        (
            "referrer.discussed_with_safeguarding_lead",
            "say whether the referrer discussed the case with their safeguarding lead first "
            "(yes or no)",
        )
    ]
    assert unanswered.referrer.discussed_with_safeguarding_lead  # old payloads still read
    for answer in (True, False):
        data["referrer"]["discussed_with_safeguarding_lead"] = answer
        assert referral_problems(Referral.model_validate(data), settings, RECEIVED) == []


def test_salford_triage_waits_for_the_prsg_members_quality_assurance() -> None:
    w = Walk(SALFORD).on(TRIAGE_DAY)
    refused = w.refuse("triage", CHAIR, outcome="other_review", review_type="local_case_review")
    assert refused.reason == "guard_failed"
    assert refused.message == (
        "Salford Safeguarding Children Partnership has each referral quality-assured by the "
        "referring agency's member of the Practice Review Subgroup (PRSG) before triage: "
        "record referral_quality_assured first"
    )
    # Only the referring agency's own member (the referral is from health).
    refused = w.refuse("referral_quality_assured", POLICE_MEMBER)
    assert refused.reason == "not_authorised"
    assert refused.message.endswith("this one is from Health (ICB)")
    w.decide("referral_quality_assured", HEALTH_MEMBER)
    assert w.case.referral_quality_assured_on == TRIAGE_DAY
    assert w.case.referral_quality_assured_by == HEALTH_MEMBER
    assert w.refuse("referral_quality_assured", HEALTH_MEMBER).reason == "conflict"
    w.decide("triage", CHAIR, outcome="other_review", review_type="local_case_review")
    assert w.stage() is Stage.OTHER_REVIEW


@pytest.mark.parametrize("code", [LIVERPOOL, CROYDON])
def test_elsewhere_triage_does_not_wait_for_quality_assurance(code: str) -> None:
    w = Walk(code).on(TRIAGE_DAY)
    refused = w.refuse("referral_quality_assured", HEALTH_MEMBER)
    assert refused.reason == "not_offered"
    assert refused.message.endswith("does not quality-assure referrals before triage")
    w.decide(
        "triage",
        BUSINESS_MANAGER,
        outcome="other_review",
        review_type="local_case_review",
        **triage_participants(),
    )
    assert w.stage() is Stage.OTHER_REVIEW


# ====================================================================== item 7: the LA's notice


def test_liverpool_tracks_the_local_authoritys_notice_to_the_lscp() -> None:
    w = notify(walk(LIVERPOOL))
    notice = w.deadline("la-notice")
    assert notice.kind is DeadlineKind.LA_NOTICE
    assert notice.title == "Local authority's notice of the incident to the LSCP"
    assert notice.owner == Agency.CHILDRENS_SOCIAL_CARE.label
    assert notice.statutory
    # Aware Mon 21 Dec 2026: 5 working days is Wed 30 Dec (the same as the notification).
    assert notice.due_on == w.due("notification") == date(2026, 12, 30)
    w.on(date(2026, 12, 23)).decide("notification_submitted", CSC_MEMBER, reference="SIN-1")
    assert w.state("la-notice") is DeadlineState.ON_TRACK  # a separate duty
    w.on(date(2026, 12, 24)).decide("la_notice_received", COORDINATOR)
    assert w.state("la-notice") is DeadlineState.MET
    assert w.case.la_notice_on == date(2026, 12, 24)
    assert w.refuse("la_notice_received", COORDINATOR).reason == "conflict"


@pytest.mark.parametrize("code", [CROYDON, SALFORD])
def test_elsewhere_the_notice_is_not_tracked(code: str) -> None:
    w = notify(walk(code))
    assert "la-notice" not in w.case.deadlines
    refused = w.refuse("la_notice_received", COORDINATOR)
    assert refused.reason == "not_offered"
    assert refused.message.endswith("does not track the local authority's notice")


def test_a_police_member_cannot_record_the_local_authoritys_notice() -> None:
    w = notify(walk(LIVERPOOL))
    assert w.refuse("la_notice_received", POLICE_MEMBER).reason == "not_authorised"
    w.decide("la_notice_received", CSC_MEMBER)


# ====================================================================== item 8: serious concern


def test_liverpool_takes_a_case_of_serious_concern_to_a_rapid_review() -> None:
    w = walk(LIVERPOOL, abuse_or_neglect_suspected=False)
    w.decide("triage", CHAIR, outcome="rapid_review", attendees=people(*TRIAGE_ATTENDEES))
    assert w.stage() is Stage.RAPID_REVIEW
    assert w.case.route is Route.SERIOUS_CONCERN
    assert "notification" not in w.case.deadlines
    assert "la-notice" not in w.case.deadlines
    review = w.deadline("rapid-review")
    assert review.title == "Rapid Review completed (case of serious concern)"
    assert not review.statutory
    # Convened within 15 working days of the triage (Tue 22 Dec 2026): Fri 15 Jan 2027.
    assert review.due_on == date(2027, 1, 15)
    w.on(date(2027, 1, 5)).decide(
        "information_requested", COORDINATOR, requests=[{"agency": "police"}]
    )
    w.on(date(2027, 1, 12)).decide(
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=people(*RAPID_REVIEW_CORE),
    )
    # No notification, so no National Panel response: straight to the Local CSPR.
    assert w.stage() is Stage.CSPR_LEAD_REVIEWER
    assert str(w.case.route) == Route.LOCAL_CSPR.value
    assert w.case.cspr is not None and w.case.cspr.decided_on == date(2027, 1, 12)
    # The review group's decision initiated the review: its 6 months count from it (item 1).
    assert w.case.cspr.clock_from == date(2027, 1, 12)
    assert w.case.cspr.initiated_by == "rapid_review_decision"
    # Not notified, so not sent to the Panel: the review is done when decided (item 6).
    assert w.state("rapid-review") is DeadlineState.MET
    assert w.due("cspr-publication") == date(2027, 7, 12)


def test_a_serious_concern_review_may_end_with_learning_only() -> None:
    w = walk(LIVERPOOL)
    w.decide("triage", CHAIR, outcome="rapid_review", attendees=people(*TRIAGE_ATTENDEES))
    w.on(date(2027, 1, 12)).decide(
        "rapid_review_decision",
        CHAIR,
        recommendation="no_further_review",
        attendees=people(*RAPID_REVIEW_CORE, LEGAL_MEMBER),
    )
    assert w.stage() is Stage.ACTION_PLAN_MONITORING
    assert w.case.route is Route.LEARNING_ONLY


@pytest.mark.parametrize("code", [CROYDON, SALFORD])
def test_a_rapid_review_without_a_notification_is_liverpools_route_only(code: str) -> None:
    refused = walk(code).refuse(
        "triage", BUSINESS_MANAGER, outcome="rapid_review", **triage_participants()
    )
    assert refused.reason == "not_offered"


def test_a_notice_for_a_case_not_notified_is_refused() -> None:
    w = walk(LIVERPOOL)
    w.decide("triage", CHAIR, outcome="rapid_review", attendees=people(*TRIAGE_ATTENDEES))
    refused = w.refuse("la_notice_received", COORDINATOR)
    assert refused.reason == "conflict"
    assert refused.message == (
        "the local authority's notice is not awaited on this case (not notified)"
    )
