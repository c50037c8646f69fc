"""Decisions' shape: parsing untrusted input into one model per kind, with clear errors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from safeguarding.decisions import (
    DECISION_MODELS,
    ActionUpdated,
    CaseClosed,
    CsprMilestone,
    InformationRequested,
    InvalidDecision,
    Person,
    TriageDecision,
    parse_decision,
)
from safeguarding.vocabulary import (
    Agency,
    DecisionKind,
    OtherReviewType,
    Role,
    TriageOutcome,
)
from tests.factories import (
    CHAIR,
    COORDINATOR,
    HEALTH_MEMBER,
    action_fields,
    decision,
    decision_data,
    sample_fields,
)


def refusal(raw: Any) -> str:
    with pytest.raises(InvalidDecision) as info:
        parse_decision(raw)
    return str(info.value)


# ------------------------------------------------------------------ valid decisions


@pytest.mark.parametrize("kind", list(DecisionKind))
def test_every_kind_parses_into_its_model(kind: DecisionKind) -> None:
    parsed = parse_decision(decision_data(kind.value, CHAIR, **sample_fields(kind)))
    assert parsed.kind is kind
    assert type(parsed) is DECISION_MODELS[kind]
    assert parsed.by == CHAIR
    assert parsed.occurred_on is None
    assert parsed.note is None


def test_decision_models_cover_every_kind() -> None:
    assert set(DECISION_MODELS) == set(DecisionKind)


def test_fields_are_typed() -> None:
    parsed = parse_decision(
        decision_data(
            "triage",
            CHAIR,
            decision_id="triage-2026-12-22",
            outcome="other_review",
            review_type="serious_offence_review",
            occurred_on="2026-12-22",
            la_aware_on="2026-12-20",
            note="Discussed at weekly triage.",
        )
    )
    assert isinstance(parsed, TriageDecision)
    assert parsed.decision_id == "triage-2026-12-22"
    assert parsed.outcome is TriageOutcome.OTHER_REVIEW
    assert parsed.review_type is OtherReviewType.SERIOUS_OFFENCE_REVIEW
    assert parsed.occurred_on == date(2026, 12, 22)
    assert parsed.la_aware_on == date(2026, 12, 20)


def test_a_parsed_decision_is_accepted_again_unchanged() -> None:
    first = decision("action_added", COORDINATOR, **action_fields("A1", date(2027, 6, 1)))
    assert parse_decision(first) == first


def test_decisions_are_frozen() -> None:
    parsed = decision("case_closed", CHAIR)
    assert isinstance(parsed, CaseClosed)
    with pytest.raises(ValidationError):
        parsed.note = "changed"  # type: ignore[misc]


def test_information_requests_default_their_due_date() -> None:
    parsed = decision(
        "information_requested",
        COORDINATOR,
        requests=[{"agency": "health"}, {"agency": "police", "due_on": "2027-01-08"}],
    )
    assert isinstance(parsed, InformationRequested)
    assert [(r.agency, r.due_on) for r in parsed.requests] == [
        (Agency.HEALTH, None),
        (Agency.POLICE, date(2027, 1, 8)),
    ]


@pytest.mark.parametrize(
    "kind",
    [
        "terms_of_reference_agreed",
        "agency_information_received",
        "involvement_completed",
        "draft_report_received",
        "quality_assured",
        "final_report_sent",
    ],
)
def test_cspr_milestones_other_than_appointment_need_no_lead_reviewer(kind: str) -> None:
    parsed = decision(kind, CHAIR)
    assert isinstance(parsed, CsprMilestone)
    assert parsed.kind.value == kind


def test_person_describes_role_and_agency() -> None:
    assert HEALTH_MEMBER.describe() == "Hal Health (panel member, Health (ICB))"
    assert Person(name="X", role=Role.CHAIR, agency=Agency.POLICE).describe() == (
        "X (chair, Police)"
    )


# ------------------------------------------------------------------ refusals: the envelope


@pytest.mark.parametrize("raw", [None, "triage", 42, ["triage"]])
def test_a_decision_must_be_an_object(raw: Any) -> None:
    message = refusal(raw)
    assert message.startswith("a decision must be a JSON object, not ")
    assert type(raw).__name__ in message


def test_missing_kind_lists_the_kinds() -> None:
    message = refusal({"decision_id": "d1", "by": CHAIR.model_dump(mode="json")})
    assert message.startswith("kind: missing; one of ")
    for kind in DecisionKind:
        assert kind.value in message


def test_unknown_kind_is_named_and_truncated() -> None:
    message = refusal(decision_data("escalate_to_ofsted", CHAIR))
    assert message.startswith("kind: unknown decision 'escalate_to_ofsted'; one of triage, ")
    long = refusal(decision_data("x" * 500, CHAIR))
    assert "'" + "x" * 40 + "'" in long
    assert "x" * 41 not in long


@pytest.mark.parametrize("kind", [["triage"], {"kind": "triage"}, 7, True])
def test_a_kind_that_is_not_text_is_refused_clearly(kind: Any) -> None:
    # Untrusted JSON may carry any type here; it must be refused, never crash the parser.
    raw = {**decision_data("triage", CHAIR, outcome="serious_incident"), "kind": kind}
    message = refusal(raw)
    assert message.startswith("kind: unknown decision ")


def test_missing_field_is_named() -> None:
    assert refusal(decision_data("triage", CHAIR)) == (
        "triage decision refused: outcome: Field required"
    )
    assert "reference: Field required" in refusal(decision_data("notification_submitted", CHAIR))


def test_missing_decision_id_and_by_are_named() -> None:
    message = refusal({"kind": "case_closed"})
    assert message.startswith("case_closed decision refused: ")
    assert "decision_id: Field required" in message
    assert "by: Field required" in message


def test_unknown_option_names_the_field_and_the_options() -> None:
    message = refusal(decision_data("triage", CHAIR, outcome="maybe"))
    assert message.startswith("triage decision refused: outcome: Input should be ")
    for outcome in TriageOutcome:
        assert f"'{outcome.value}'" in message


def test_problems_inside_nested_people_are_located() -> None:
    message = refusal(
        decision_data(
            "rapid_review_decision",
            CHAIR,
            recommendation="local_cspr",
            attendees=[CHAIR.model_dump(mode="json"), {"name": "Z", "role": "boss"}],
        )
    )
    assert "attendees.1.role: Input should be " in message
    assert "attendees.1.agency: Field required" in message


def test_unexpected_fields_are_refused() -> None:
    message = refusal(decision_data("case_closed", CHAIR, child_name="Child A"))
    assert message == "case_closed decision refused: child_name: Extra inputs are not permitted"


def test_every_problem_is_listed() -> None:
    message = refusal(
        decision_data("triage", CHAIR, decision_id="has space", outcome="maybe", note="x" * 4001)
    )
    assert "decision_id: String should match pattern" in message
    assert "outcome: Input should be" in message
    assert "note: String should have at most 4000 characters" in message
    assert message.count("; ") >= 2


def test_bad_dates_are_named() -> None:
    message = refusal(decision_data("publication_planned", CHAIR, planned_on="next spring"))
    assert message.startswith("publication_planned decision refused: planned_on: ")


# ------------------------------------------------------------------ refusals: conditional rules


def test_other_review_needs_a_review_type() -> None:
    message = refusal(decision_data("triage", CHAIR, outcome="other_review"))
    assert "review_type is required when the outcome is other_review" in message


def test_review_type_only_with_other_review() -> None:
    message = refusal(
        decision_data("triage", CHAIR, outcome="case_of_concern", review_type="local_case_review")
    )
    assert "review_type only applies when the outcome is other_review" in message


def test_no_further_action_needs_advice() -> None:
    message = refusal(decision_data("triage", CHAIR, outcome="no_further_action"))
    assert "advice is required when the outcome is no_further_action" in message
    empty = refusal(decision_data("triage", CHAIR, outcome="no_further_action", advice=""))
    assert "advice: String should have at least 1 character" in empty


def test_lead_reviewer_appointed_needs_the_lead_reviewer() -> None:
    message = refusal(decision_data("lead_reviewer_appointed", CHAIR))
    assert message == (
        "lead_reviewer_appointed decision refused: decision: "
        "lead_reviewer is required for lead_reviewer_appointed"
    )
    parsed = decision("lead_reviewer_appointed", CHAIR, lead_reviewer="Lee Reviewer")
    assert isinstance(parsed, CsprMilestone)
    assert parsed.lead_reviewer == "Lee Reviewer"


def test_an_agency_appears_once_in_information_requests() -> None:
    message = refusal(
        decision_data(
            "information_requested",
            COORDINATOR,
            requests=[{"agency": "health"}, {"agency": "police"}, {"agency": "health"}],
        )
    )
    assert "each agency may appear only once in requests" in message


def test_information_requests_are_not_empty_nor_endless() -> None:
    assert "requests: List should have at least 1 item" in refusal(
        decision_data("information_requested", COORDINATOR, requests=[])
    )
    many = [{"agency": a.value} for a in Agency] * 2
    assert "requests: List should have at most 20 items" in refusal(
        decision_data("information_requested", COORDINATOR, requests=many)
    )


def test_action_update_must_change_something() -> None:
    message = refusal(decision_data("action_updated", CHAIR, action_id="A1"))
    assert "give at least one of status, rag or evidence" in message
    parsed = decision("action_updated", CHAIR, action_id="A1", rag="amber")
    assert isinstance(parsed, ActionUpdated)


def test_approach_needs_at_least_one_agency() -> None:
    message = refusal(
        decision_data("approach_chosen", CHAIR, approach="policy_review", agencies=[])
    )
    assert "agencies: List should have at least 1 item" in message


@pytest.mark.parametrize(
    ("kind", "field", "limit"),
    [
        ("not_published", "reasons", 4000),
        ("outcome_shared", "summary", 4000),
        ("notification_submitted", "reference", 200),
    ],
)
def test_oversize_text_is_refused(kind: str, field: str, limit: int) -> None:
    message = refusal(decision_data(kind, CHAIR, **{field: "x" * (limit + 1)}))
    assert f"{field}: String should have at most {limit} characters" in message
    parsed = parse_decision(decision_data(kind, CHAIR, **{field: "x" * limit}))
    assert getattr(parsed, field) == "x" * limit


def test_oversize_person_name_is_refused() -> None:
    by = {"name": "n" * 201, "role": "chair", "agency": "police"}
    message = refusal({"kind": "case_closed", "decision_id": "d1", "by": by})
    assert "by.name: String should have at most 200 characters" in message


def test_decision_id_rules() -> None:
    for bad in ("", " leading", "-dash", "a" * 81, "semi;colon"):
        assert "decision_id: " in refusal(decision_data("case_closed", CHAIR, decision_id=bad))
    for good in ("a", "triage:2026-12-22", "SR.1_2-3", "a" * 80):
        assert parse_decision(decision_data("case_closed", CHAIR, decision_id=good))
