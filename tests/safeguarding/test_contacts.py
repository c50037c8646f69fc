"""Who gets a notice: the partnership's [contacts] and the pure rule from a notice to addresses."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from safeguarding.calendar import WorkingCalendar
from safeguarding.case import Case, Effects, Notice
from safeguarding.clock import uk_moment
from safeguarding.contacts import DEFAULT_KEY, KNOWN_KEYS, Recipients, recipients_for
from safeguarding.escalation import Disagreement, Escalation
from safeguarding.planning import plan_deadline
from safeguarding.profiles import load_profiles, profile_for
from safeguarding.referral import Referral
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import Agency
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    decision,
    referral,
    triage_participants,
)

RECEIVED = date(2026, 11, 2)  # a Monday
LSCP = profile_for("LSCP")

#: Personal data in a referral and a disagreement: must never reach a notice or an email.
CHILD_NAME = "Zebedee Quillfeather-Marchbanks"
PERSONAL: tuple[str, ...] = (
    CHILD_NAME,
    "Zebedee",
    "Quillfeather",
    "2023-05-01",
    "Gypsy or Irish Traveller",
    "Rowena Referrerly",
    "broken ribs",
    "Thistlewood Close",
)


def sensitive_referral(partnership: str = "LSCP") -> Referral:
    return referral(
        RECEIVED,
        partnership=partnership,
        referrer={"name": "Rowena Referrerly", "agency": "health"},
        children=[
            {
                "name": CHILD_NAME,
                "date_of_birth": "2023-05-01",
                "age_years": 3,
                "sex": "male",
                "ethnicity": "Gypsy or Irish Traveller",
                "child_protection_plan": True,
            }
        ],
        summary=f"{CHILD_NAME} admitted with broken ribs; lives at 4 Thistlewood Close.",
    )


class NoticeMaker:
    """Drives cases the way the workflow does and keeps every notice they send."""

    def __init__(self, settings: PartnershipSettings) -> None:
        self.settings = settings
        self.calendar = WorkingCalendar(settings.closure_days)
        self.notices: list[Notice] = []

    def open(self, case_ref: str, ref: Referral) -> Case:
        case, effects = Case.open(case_ref, ref, self.settings, uk_moment(RECEIVED, time(10)))
        self.carry_out(case, effects, uk_moment(RECEIVED, time(10)))
        return case

    def carry_out(self, case: Case, effects: Effects, now: datetime) -> None:
        requests = effects.deadline_requests
        while requests:
            plans = [plan_deadline(r, self.settings, self.calendar) for r in requests]
            case.open_deadlines(requests, plans, now)
            requests = case.follow_up_requests()
        self.notices += effects.notices

    def decide(self, case: Case, day: date, kind: str, **fields: Any) -> None:
        now = uk_moment(day, time(11))
        if kind == "triage":  # attended and agreed as every shipped profile asks
            fields = {**triage_participants(), **fields}
            if self.settings.referral_quality_assurance:  # Salford: quality-assured first
                self.decide(case, day, "referral_quality_assured")
        made = decision(kind, fields.pop("by", BUSINESS_MANAGER), **fields)
        case.check(made, now)
        self.carry_out(case, case.apply(made, now, "update"), now)

    def days_pass(self, case: Case, start: date, days: int) -> date:
        """Fire every alert due over the days, at midnight and 09:00 as the timers would."""
        day = start
        for _ in range(days):
            day += timedelta(days=1)
            for at in (time(0, 30), time(9, 30)):
                self.notices += case.fire_due_alerts(uk_moment(day, at))
        return day


def notices_of_every_kind(code: str = "LSCP") -> list[Notice]:
    """Reminders, escalations, second escalations (of statutory deadlines and of actions),
    information requests, and a professional disagreement's notices, all from a referral and a
    disagreement full of personal data."""
    settings = profile_for(code)
    maker = NoticeMaker(settings)
    serious = maker.open(f"{code}-2026-1A2B3C", sensitive_referral(code))
    maker.decide(serious, RECEIVED, "triage", outcome="serious_incident", note=CHILD_NAME)
    day = maker.days_pass(serious, RECEIVED, 14)
    maker.decide(serious, day, "notification_submitted", by=CSC_MEMBER, reference="SIN-1")
    maker.decide(
        serious,
        day,
        "information_requested",
        by=COORDINATOR,
        requests=[{"agency": "police"}, {"agency": "health"}, {"agency": "education"}],
    )
    maker.days_pass(serious, day, 20)

    other = maker.open(f"{code}-2026-4D5E6F", sensitive_referral(code))
    maker.decide(
        other, RECEIVED, "triage", outcome="other_review", review_type="multi_agency_audit"
    )
    maker.decide(other, RECEIVED, "other_review_completed", findings=f"About {CHILD_NAME}.")
    for action_id, scope, agency in (
        ("A1", "single_agency", "police"),
        ("A2", "multi_agency", "health"),
    ):
        maker.decide(
            other,
            RECEIVED,
            "action_added",
            action_id=action_id,
            recommendation=f"Learning from {CHILD_NAME}",
            description="Joint briefing",
            lead_agency=agency,
            due_on=(RECEIVED + timedelta(days=21)).isoformat(),
            outcome_measure="Re-audit",
            scope=scope,
        )
    maker.days_pass(other, RECEIVED, 40)

    now = uk_moment(RECEIVED, time(10))
    disagreement = Disagreement(
        partnership=code,
        raised_by=CHAIR,
        raised_with="police",
        concern=f"Strategy discussion about {CHILD_NAME} at 4 Thistlewood Close",
        raised_on=RECEIVED,
    )
    escalation, _, notices = Escalation.open(f"{code}-ESC-2026-ABC123", disagreement, settings, now)
    for _ in range(2):
        notices += escalation.time_out(now)[1]
    return maker.notices + notices


# ---------------------------------------------------------------------- the shipped profiles


@pytest.mark.parametrize("code", ["LSCP", "CSCP", "SSCP", "ENGLAND"])
def test_every_shipped_profile_has_example_addresses_and_a_default(code: str) -> None:
    contacts = profile_for(code).contacts
    assert DEFAULT_KEY in contacts
    for key in ("review_group", "review_group_chair", "business_manager", "executive"):
        assert key in contacts, key
    for agency in ("police", "health", "childrens_social_care", "education"):
        assert agency in contacts, agency
    addresses = [a for group in contacts.values() for a in group]
    assert all(a.endswith("example.org") for a in addresses), "real addresses are filled locally"


@pytest.mark.parametrize("code", ["LSCP", "CSCP", "SSCP", "ENGLAND"])
def test_every_notice_a_case_sends_has_its_own_address_in_the_shipped_profiles(code: str) -> None:
    settings = profile_for(code)
    notices = notices_of_every_kind(code)
    kinds = {n.kind for n in notices if "-ESC-" not in n.case_ref}
    assert kinds == {"reminder", "escalation", "second_escalation", "information_request"}
    for notice in notices:
        found = recipients_for(notice, settings)
        assert found.addresses, notice
        if "-ESC-" in notice.case_ref and notice.notice_id.split(":")[-1].startswith("stage-"):
            # The people at each escalation stage ("the practitioners") have no mailbox of their
            # own: the business team gets those and passes them on.
            continue
        assert found.unmatched == (), (notice.audience, notice.recipients)
        assert not found.used_default


def test_liverpool_notices_go_to_the_right_people() -> None:
    notices = notices_of_every_kind("LSCP")

    def to(kind: str, deadline_id: str) -> tuple[str, ...]:
        notice = next(n for n in notices if n.kind == kind and n.deadline_id == deadline_id)
        return recipients_for(notice, LSCP).addresses

    lv = "@liverpool.example.org"
    assert to("reminder", "notification") == (f"sprg-csc{lv}",)
    assert to("escalation", "notification") == (f"sprg-chair{lv}", f"safeguarding-manager{lv}")
    assert to("second_escalation", "notification") == (f"lscp-executive{lv}",)
    assert to("information_request", "information-police") == (f"sprg-police{lv}",)
    assert to("information_request", "information-education") == (f"sprg-education{lv}",)
    assert to("reminder", "information-health") == (f"sprg-health{lv}",)
    assert to("reminder", "action-A1") == (f"sprg-police{lv}",)
    # Single-agency plans: the SPRG (same name, so its address); multi-agency: the QA Group.
    assert to("escalation", "action-A1") == (f"sprg{lv}", f"safeguarding-manager{lv}")
    assert to("escalation", "action-A2") == (f"qa-group{lv}", f"safeguarding-manager{lv}")


# ---------------------------------------------------------------------- the rule


def notice(audience: str, recipients: tuple[str, ...] = (), **fields: Any) -> Notice:
    data: dict[str, Any] = {
        "notice_id": "LSCP-2026-1A2B3C:x:reminder",
        "case_ref": "LSCP-2026-1A2B3C",
        "partnership": "LSCP",
        "kind": "reminder",
        "audience": audience,
        "subject": "[LSCP-2026-1A2B3C] Reminder",
        "body": "body",
        "recipients": recipients,
    }
    data.update(fields)
    return Notice.model_validate(data)


def settings(**contacts: Any) -> PartnershipSettings:
    return PartnershipSettings(
        code="TSCP",
        review_group="Case Review Group",
        review_group_chair="Chair of the Case Review Group",
        business_manager="TSCP Business Manager",
        single_agency_plan_monitor="Case Review Group",
        contacts=contacts,
    )


BOOK = {
    "default": "team@t.example.org",
    "review_group": "crg@t.example.org",
    "review_group_chair": ["chair@t.example.org", "deputy@t.example.org"],
    "business_manager": "bm@t.example.org",
    "police": "police@t.example.org",
}


def test_audience_names_are_looked_up_ignoring_case_and_spacing() -> None:
    found = recipients_for(
        notice("chair of the  CASE review group ; TSCP Business Manager"), settings(**BOOK)
    )
    assert found == Recipients(
        addresses=("chair@t.example.org", "deputy@t.example.org", "bm@t.example.org"),
        matched=("review_group_chair", "business_manager"),
        unmatched=(),
        used_default=False,
    )


def test_structured_recipients_win_over_the_audience_text() -> None:
    found = recipients_for(notice("Someone else entirely", ("police",)), settings(**BOOK))
    assert found.addresses == ("police@t.example.org",)
    assert not found.used_default


def test_agencies_by_label_or_as_the_review_group_member() -> None:
    book = settings(**BOOK)
    assert recipients_for(notice("Police"), book).addresses == ("police@t.example.org",)
    member = notice("Police member of the Case Review Group")
    assert recipients_for(member, book).addresses == ("police@t.example.org",)


def test_a_role_without_an_address_uses_the_role_of_the_same_name() -> None:
    found = recipients_for(notice("x", ("single_agency_plan_monitor",)), settings(**BOOK))
    assert found.addresses == ("crg@t.example.org",)
    assert found.matched == ("review_group",)


def test_an_unknown_audience_goes_to_the_default_contact() -> None:
    found = recipients_for(notice("the practitioners; TSCP Business Manager"), settings(**BOOK))
    assert found.addresses == ("bm@t.example.org", "team@t.example.org")
    assert found.unmatched == ("the practitioners",)
    assert found.used_default
    unknown_key = recipients_for(notice("x", ("executive",)), settings(**BOOK))
    assert unknown_key.addresses == ("team@t.example.org",)


def test_a_quoted_audience_name_can_have_its_own_address() -> None:
    book = settings(**BOOK, **{"The Practitioners": "practice@t.example.org"})
    found = recipients_for(notice("the practitioners"), book)
    assert found.addresses == ("practice@t.example.org",)
    assert found.matched == ("The Practitioners",)


def test_no_contacts_means_nobody_and_says_so() -> None:
    found = recipients_for(notice("TSCP Business Manager"), settings())
    assert found.lost
    assert found.unmatched == ("TSCP Business Manager",)


def test_addresses_are_distinct_and_in_order() -> None:
    book = settings(**{**BOOK, "business_manager": "crg@t.example.org"})
    found = recipients_for(
        notice("Case Review Group; TSCP Business Manager; Case Review Group"), book
    )
    assert found.addresses == ("crg@t.example.org",)


def test_resolution_is_deterministic() -> None:
    n = notice("the practitioners; Chair of the Case Review Group; Police")
    assert len({recipients_for(n, settings(**BOOK)) for _ in range(5)}) == 1


# ---------------------------------------------------------------------- the profile table


@pytest.mark.parametrize(
    ("contacts", "problem"),
    [
        ({"police": "p@t.example.org"}, "default"),
        ({"default": "t@t.example.org", "polce": "p@t.example.org"}, "unknown key 'polce'"),
        ({"default": "not an address"}, "is not an email address"),
        ({"default": "Team <t@t.example.org>"}, "is not an email address"),
        ({"default": []}, "at least 1"),
        (
            {
                "default": "t@t.example.org",
                "The Practitioners": "a@t.example.org",
                "the  practitioners": "b@t.example.org",
            },
            "the same name",
        ),
    ],
)
def test_bad_contacts_are_refused(contacts: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(**contacts)
    assert problem in str(refused.value)


def test_one_address_or_a_list() -> None:
    book = settings(default="t@t.example.org", police=["a@t.example.org", "a@t.example.org"])
    assert book.contacts == {"default": ["t@t.example.org"], "police": ["a@t.example.org"]}


def test_known_keys_are_settings_fields_or_agencies() -> None:
    fields = set(PartnershipSettings.model_fields)
    assert KNOWN_KEYS - fields - {a.value for a in Agency} == {DEFAULT_KEY}


def test_every_profile_still_loads() -> None:
    assert {"LSCP", "CSCP", "SSCP", "ENGLAND"} <= set(load_profiles())


def test_notices_of_every_kind_carry_no_personal_data() -> None:
    for n in notices_of_every_kind("LSCP"):
        text = n.model_dump_json()
        for personal in PERSONAL:
            assert personal not in text, (personal, n.notice_id)
