"""Partnership settings: England-wide defaults, overrides and who may make each decision."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from safeguarding import settings as settings_module
from safeguarding.case import Case
from safeguarding.settings import Authority, PartnershipSettings, default_authorities, shared
from safeguarding.vocabulary import Agency, DecisionKind, Role
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    HEALTH_MEMBER,
    LEAD_REVIEWER,
    POLICE_MEMBER,
    referral,
)


def may(kind: DecisionKind, role: Role, agency: Agency) -> bool:
    return any(a.allows(role, agency) for a in PartnershipSettings().authorities[kind])


def test_statutory_defaults() -> None:
    s = PartnershipSettings()
    assert s.code == "ENGLAND"
    assert s.notification_working_days == 5
    assert s.rapid_review_working_days == 15
    assert s.rapid_review_counted_from == "awareness"
    assert s.cspr_publication_months == 6
    assert s.final_report_working_days_before_publication == 7
    assert s.reminder_working_days_before == 2
    assert s.second_escalation_working_days_after == 5
    assert s.closure_days == []
    assert s.triage_working_days == 5
    assert s.triage_meeting is None
    assert s.review_group_meetings is None
    assert s.quorum == []


def test_escalation_audience_is_the_chair_and_the_business_manager() -> None:
    s = PartnershipSettings(review_group_chair="SPRG Chair", business_manager="LSCP Manager")
    assert s.escalation_audience() == "SPRG Chair; LSCP Manager"
    assert PartnershipSettings().escalation_audience() == (
        "Chair of the Safeguarding Practice Review Group; Partnership Business Manager"
    )


def test_a_partnership_profile_overrides_the_defaults() -> None:
    s = PartnershipSettings.model_validate(
        {
            "code": "CSCP",
            "name": "Croydon Safeguarding Children Partnership",
            "review_group": "SPRG",
            "rapid_review_counted_from": "notification",
            "closure_days": ["2026-12-29", "2026-12-30", "2026-12-31"],
        }
    )
    assert s.code == "CSCP"
    assert s.rapid_review_counted_from == "notification"
    assert s.closure_days == [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
    assert s.authorities == default_authorities()


@pytest.mark.parametrize(
    "override",
    [
        {"code": "lscp"},
        {"code": "X"},
        {"rapid_review_counted_from": "referral"},
        {"notification_working_days": -1},
        {"rapid_review_working_days": 251},
        {"cspr_publication_months": 0},
        {"cspr_publication_months": 37},
        {"triage_meeting": {"group": "Triage", "kind": "weekly", "weekday": 7}},
        {"triage_meeting": {"group": "Triage", "kind": "weekly"}},
        {"review_group_meetings": {"group": "SPRG", "kind": "every_n_weeks", "interval": 5}},
        {"meeting_decisions": ["quality_assured"]},
        {"quorum": ["police"]},
        {"routes": []},
        {"unknown_setting": True},
        {"closure_days": ["2026-12-29"] * 401},
    ],
)
def test_bad_settings_are_refused(override: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PartnershipSettings.model_validate(override)


def test_settings_are_frozen() -> None:
    with pytest.raises(ValidationError):
        PartnershipSettings().code = "LSCP"  # type: ignore[misc]


def test_settings_round_trip_through_json() -> None:
    s = PartnershipSettings(code="LSCP", closure_days=[date(2026, 12, 29)])
    assert PartnershipSettings.model_validate_json(s.model_dump_json()) == s


def test_equal_settings_share_one_instance() -> None:
    first = PartnershipSettings(code="SHAREA", closure_days=[date(2026, 12, 29)])
    again = PartnershipSettings.model_validate_json(first.model_dump_json())
    other = PartnershipSettings(code="SHAREB")
    assert again is not first
    assert shared(first) is first
    assert shared(again) is first
    assert shared(other) is other


def test_shared_settings_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_module, "MAX_SHARED_SETTINGS", 2)
    kept = [shared(PartnershipSettings(code=f"BOUND{n}")) for n in range(3)]
    assert len(settings_module._shared) <= 2
    # The oldest was let go: an equal copy now becomes the shared one.
    copy = PartnershipSettings(code="BOUND0")
    assert shared(copy) is copy and copy is not kept[0]


def test_cases_opened_and_read_back_hold_the_shared_settings() -> None:
    opened_at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    one, _ = Case.open("SHR-1", referral(date(2026, 12, 1)), PartnershipSettings(), opened_at)
    two, _ = Case.open("SHR-2", referral(date(2026, 12, 1)), PartnershipSettings(), opened_at)
    assert two.settings is one.settings
    carried = Case.model_validate_json(two.model_dump_json())
    assert carried.settings is one.settings


# ------------------------------------------------------------------ authorities


def test_authority_allows_roles_from_any_or_listed_agencies() -> None:
    anyone = Authority(roles=[Role.CHAIR, Role.BUSINESS_MANAGER])
    assert anyone.allows(Role.CHAIR, Agency.POLICE)
    assert anyone.allows(Role.BUSINESS_MANAGER, Agency.PARTNERSHIP)
    assert not anyone.allows(Role.PANEL_MEMBER, Agency.POLICE)
    csc_only = Authority(roles=[Role.PANEL_MEMBER], agencies=[Agency.CHILDRENS_SOCIAL_CARE])
    assert csc_only.allows(Role.PANEL_MEMBER, Agency.CHILDRENS_SOCIAL_CARE)
    assert not csc_only.allows(Role.PANEL_MEMBER, Agency.HEALTH)
    assert not csc_only.allows(Role.CHAIR, Agency.CHILDRENS_SOCIAL_CARE)


def test_authority_describes_itself() -> None:
    assert Authority(roles=[Role.CHAIR, Role.BUSINESS_MANAGER]).describe() == (
        "chair or business manager"
    )
    assert Authority(
        roles=[Role.PANEL_MEMBER], agencies=[Agency.CHILDRENS_SOCIAL_CARE, Agency.HEALTH]
    ).describe() == ("panel member from Children's Social Care (local authority) or Health (ICB)")


def test_an_authority_needs_a_role() -> None:
    with pytest.raises(ValidationError):
        Authority(roles=[])


def test_default_authorities_cover_every_decision() -> None:
    authorities = default_authorities()
    assert set(authorities) == set(DecisionKind)
    assert all(authorities[kind] for kind in DecisionKind)


def test_only_the_chair_makes_the_rapid_review_decision() -> None:
    assert may(DecisionKind.RAPID_REVIEW_DECISION, CHAIR.role, CHAIR.agency)
    for person in (POLICE_MEMBER, HEALTH_MEMBER, COORDINATOR, BUSINESS_MANAGER, LEAD_REVIEWER):
        assert not may(DecisionKind.RAPID_REVIEW_DECISION, person.role, person.agency)


def test_the_local_authority_or_the_business_team_records_the_notification() -> None:
    kind = DecisionKind.NOTIFICATION_SUBMITTED
    assert may(kind, COORDINATOR.role, COORDINATOR.agency)
    assert may(kind, BUSINESS_MANAGER.role, BUSINESS_MANAGER.agency)
    assert may(kind, CSC_MEMBER.role, CSC_MEMBER.agency)
    assert may(kind, Role.CHAIR, Agency.CHILDRENS_SOCIAL_CARE)
    assert not may(kind, POLICE_MEMBER.role, POLICE_MEMBER.agency)
    assert not may(kind, CHAIR.role, CHAIR.agency)  # a police chair


def test_lead_reviewer_progresses_the_review_but_does_not_quality_assure_it() -> None:
    for kind in (
        DecisionKind.AGENCY_INFORMATION_RECEIVED,
        DecisionKind.INVOLVEMENT_COMPLETED,
        DecisionKind.DRAFT_REPORT_RECEIVED,
    ):
        assert may(kind, LEAD_REVIEWER.role, LEAD_REVIEWER.agency)
    assert not may(DecisionKind.QUALITY_ASSURED, LEAD_REVIEWER.role, LEAD_REVIEWER.agency)
    assert not may(DecisionKind.PUBLISHED, LEAD_REVIEWER.role, LEAD_REVIEWER.agency)


def test_panel_members_triage_and_update_actions_but_do_not_close_cases() -> None:
    assert may(DecisionKind.TRIAGE, HEALTH_MEMBER.role, HEALTH_MEMBER.agency)
    assert may(DecisionKind.ACTION_UPDATED, HEALTH_MEMBER.role, HEALTH_MEMBER.agency)
    assert not may(DecisionKind.CASE_CLOSED, HEALTH_MEMBER.role, HEALTH_MEMBER.agency)
    assert not may(DecisionKind.DEADLINE_EXTENDED, HEALTH_MEMBER.role, HEALTH_MEMBER.agency)
    assert not may(DecisionKind.TRIAGE, COORDINATOR.role, COORDINATOR.agency)


def test_each_settings_object_has_its_own_authorities() -> None:
    first, second = PartnershipSettings(), PartnershipSettings()
    assert first.authorities is not second.authorities
    assert first.authorities == second.authorities
