"""The referral: its validation and the facts the case reads from it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from safeguarding.referral import MAX_CHILDREN, InvalidReferral, parse_referral
from safeguarding.vocabulary import Agency
from tests.factories import care_leaver_referral, referral, referral_data

RECEIVED = date(2026, 12, 21)


def child(name: str = "Child A", **fields: Any) -> dict[str, Any]:
    return {"name": name, **fields}


def refusal(raw: Any, **kwargs: Any) -> str:
    with pytest.raises(InvalidReferral) as info:
        parse_referral(raw, **kwargs)
    return str(info.value)


def test_a_valid_referral_parses() -> None:
    parsed = parse_referral(referral_data(RECEIVED), today=RECEIVED)
    assert parsed == referral(RECEIVED)
    assert parsed.partnership == "ENGLAND"
    assert parsed.referrer.agency is Agency.HEALTH
    assert parsed.referrer.discussed_with_safeguarding_lead is True
    assert parsed.children[0].looked_after is False
    assert parsed.agencies_involved == [
        Agency.HEALTH,
        Agency.POLICE,
        Agency.CHILDRENS_SOCIAL_CARE,
    ]


def test_awareness_defaults_to_the_day_received() -> None:
    assert referral(RECEIVED).aware_on == RECEIVED
    assert referral(RECEIVED, la_aware_on="2026-12-18").aware_on == date(2026, 12, 18)


@pytest.mark.parametrize("raw", [None, [], "referral", 1])
def test_a_referral_must_be_an_object(raw: Any) -> None:
    assert refusal(raw).startswith("a referral must be a JSON object, not ")


# ------------------------------------------------------------------ children


@pytest.mark.parametrize("count", range(1, MAX_CHILDREN + 1))
def test_one_to_four_children(count: int) -> None:
    children = [child(f"Child {i}") for i in range(count)]
    assert len(parse_referral(referral_data(RECEIVED, children=children)).children) == count


def test_no_children_is_refused() -> None:
    message = refusal(referral_data(RECEIVED, children=[]))
    assert "children: List should have at least 1 item" in message


def test_five_children_is_refused() -> None:
    children = [child(f"Child {i}") for i in range(MAX_CHILDREN + 1)]
    message = refusal(referral_data(RECEIVED, children=children))
    assert "children: List should have at most 4 items" in message


def test_a_care_leaver_is_18_to_24() -> None:
    parsed = parse_referral(
        referral_data(RECEIVED, children=[child(age_years=18, care_leaver=True)])
    )
    assert parsed.care_leaver
    assert parse_referral(
        referral_data(RECEIVED, children=[child(age_years=24, care_leaver=True)])
    ).care_leaver
    # The age may be unknown.
    assert parse_referral(referral_data(RECEIVED, children=[child(care_leaver=True)])).care_leaver


def test_a_care_leaver_under_18_is_refused() -> None:
    message = refusal(referral_data(RECEIVED, children=[child(age_years=17, care_leaver=True)]))
    assert "children.0: a care leaver is aged 18 to 24; age_years is under 18" in message


def test_a_child_aged_18_or_more_must_be_a_care_leaver() -> None:
    message = refusal(referral_data(RECEIVED, children=[child(age_years=18)]))
    assert "children.0: a child is under 18; for 18 to 24 set care_leaver" in message


def test_aged_25_or_more_is_out_of_scope() -> None:
    message = refusal(referral_data(RECEIVED, children=[child(age_years=25, care_leaver=True)]))
    assert "children.0.age_years: Input should be less than or equal to 24" in message
    assert "age_years" in refusal(referral_data(RECEIVED, children=[child(age_years=-1)]))


def test_a_care_leaver_is_notified_on_their_own() -> None:
    mixed = [child("Child A", age_years=4), child("Young Person B", age_years=19, care_leaver=True)]
    message = refusal(referral_data(RECEIVED, children=mixed))
    assert "a care leaver's death is notified on its own, not with children" in message


def test_care_leaver_property() -> None:
    assert not referral(RECEIVED).care_leaver
    assert care_leaver_referral(RECEIVED).care_leaver
    two = [child("A", age_years=20, care_leaver=True), child("B", age_years=22, care_leaver=True)]
    assert referral(RECEIVED, children=two).care_leaver


def test_the_problem_names_the_child() -> None:
    children = [child("Child A", age_years=3), child("Child B", age_years=19)]
    message = refusal(referral_data(RECEIVED, children=children))
    assert "children.1: a child is under 18" in message


# ------------------------------------------------------------------ dates


def test_dates_in_order_are_accepted() -> None:
    parsed = parse_referral(
        referral_data(RECEIVED, incident_on="2026-12-17", la_aware_on="2026-12-18"),
        today=RECEIVED,
    )
    assert parsed.incident_on == date(2026, 12, 17)
    assert parsed.aware_on == date(2026, 12, 18)


def test_incident_after_received_is_refused() -> None:
    message = refusal(referral_data(RECEIVED, incident_on="2026-12-22"))
    assert "incident_on is after received_on" in message


def test_awareness_after_received_is_refused() -> None:
    message = refusal(referral_data(RECEIVED, la_aware_on="2026-12-22"))
    assert "la_aware_on is after received_on" in message


def test_awareness_before_the_incident_is_refused() -> None:
    message = refusal(referral_data(RECEIVED, incident_on="2026-12-18", la_aware_on="2026-12-17"))
    assert "la_aware_on is before incident_on" in message


def test_received_in_the_future_is_refused_when_today_is_given() -> None:
    message = refusal(referral_data(RECEIVED), today=date(2026, 12, 20))
    assert message == "referral refused: received_on: 2026-12-21 is in the future"
    assert parse_referral(referral_data(RECEIVED), today=RECEIVED).received_on == RECEIVED
    assert parse_referral(referral_data(RECEIVED)).received_on == RECEIVED


# ------------------------------------------------------------------ plausibility (issue #11)


def test_received_implausibly_long_ago_is_refused_when_today_is_given() -> None:
    message = refusal(referral_data(date(1926, 12, 21)), today=RECEIVED)
    assert "received_on: 1926-12-21 is more than 5 years ago (the earliest allowed is" in message
    assert refusal(referral_data(date(1, 1, 1)), today=RECEIVED).startswith(
        "referral refused: received_on: 0001-01-01 is more than 5 years ago"
    )
    five_years = date(2021, 12, 21)
    assert parse_referral(referral_data(five_years), today=RECEIVED).received_on == five_years


def test_an_incident_or_awareness_before_any_child_could_live_is_refused() -> None:
    message = refusal(referral_data(RECEIVED, incident_on="1990-01-01"))
    assert "incident_on 1990-01-01 is more than 25 years before received_on" in message
    message = refusal(referral_data(RECEIVED, la_aware_on="1066-10-14"))
    assert "la_aware_on 1066-10-14 is more than 25 years before received_on" in message


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"date_of_birth": "2027-01-01"}, "children.0.date_of_birth: 2027-01-01 is after the"),
        (
            {"date_of_birth": "2020-01-01", "age_years": 3},
            "children.0.age_years: 3 does not match date_of_birth 2020-01-01 (age 6 then)",
        ),
        ({"date_of_birth": "1990-01-01"}, "makes them 36; a care leaver is under 25"),
        ({"date_of_birth": "2005-01-01"}, "makes them 21; for 18 to 24 set care_leaver"),
        (
            {"date_of_birth": "2015-01-01", "care_leaver": True},
            "makes them 11; a care leaver is aged 18 to 24",
        ),
        ({"age_years": True}, "children.0.age_years: must be a whole number of years"),
        ({"age_years": False}, "children.0.age_years: must be a whole number of years"),
    ],
)
def test_implausible_child_details_are_refused_naming_the_field(
    fields: dict[str, Any], problem: str
) -> None:
    data = referral_data(RECEIVED, children=[child(**fields)])
    assert problem in refusal(data)


def test_a_plausible_date_of_birth_is_accepted() -> None:
    born = date(2023, 12, 22)  # 2 on the day received, 3 the next day
    parsed = parse_referral(
        referral_data(RECEIVED, children=[child(date_of_birth=born.isoformat(), age_years=2)])
    )
    assert parsed.children[0].date_of_birth == born
    # Aged 3 at the incident, 4 when it was received: either age is right.
    both = referral_data(
        RECEIVED,
        incident_on="2026-12-01",
        children=[child(date_of_birth="2022-12-10", age_years=3)],
    )
    assert parse_referral(both).children[0].age_years == 3
    assert parse_referral({**both, "children": [child(date_of_birth="2022-12-10", age_years=4)]})


# ------------------------------------------------------------------ other fields


def test_every_problem_is_listed_by_field() -> None:
    message = refusal(
        referral_data(
            RECEIVED,
            partnership="lscp",
            harm="bruising",
            summary="",
            referrer={"name": "R", "agency": "fire_service"},
        )
    )
    assert message.startswith("referral refused: ")
    assert "partnership: String should match pattern" in message
    assert "harm: Input should be 'death', 'serious_harm' or 'other'" in message
    assert "summary: String should have at least 1 character" in message
    assert "referrer.agency: Input should be " in message


def test_missing_fields_are_named() -> None:
    data = referral_data(RECEIVED)
    del data["abuse_or_neglect_suspected"]
    del data["received_on"]
    message = refusal(data)
    assert "abuse_or_neglect_suspected: Field required" in message
    assert "received_on: Field required" in message


def test_unexpected_fields_are_refused() -> None:
    message = refusal(referral_data(RECEIVED, nhs_number="943 476 5919"))
    assert "nhs_number: Extra inputs are not permitted" in message
    with_address = referral_data(RECEIVED, children=[child(address="1 High Street")])
    assert "children.0.address: Extra inputs are not permitted" in refusal(with_address)


def test_oversize_summary_is_refused() -> None:
    message = refusal(referral_data(RECEIVED, summary="x" * 4001))
    assert "summary: String should have at most 4000 characters" in message


@pytest.mark.parametrize("code", ["LSCP", "CSCP", "S2", "SALFORD_SCP"])
def test_partnership_codes(code: str) -> None:
    assert parse_referral(referral_data(RECEIVED, partnership=code)).partnership == code


@pytest.mark.parametrize("code", ["L", "lscp", "1LSCP", "L SCP", "A" * 17])
def test_bad_partnership_codes(code: str) -> None:
    assert "partnership: " in refusal(referral_data(RECEIVED, partnership=code))
