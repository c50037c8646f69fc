"""Decision forms generated from DECISION_MODELS, read back into decisions; the referral form."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from starlette.datastructures import FormData

from console import forms
from console.forms import DecisionForm, decision_form, parse_decision_form, parse_referral_form
from console.rendering import template_environment
from safeguarding.decisions import DECISION_ADAPTER, DECISION_MODELS
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import DecisionKind
from tests.console.a11y import broken_descriptions, duplicate_ids, unlabelled_controls
from tests.factories import CHAIR, POLICE_MEMBER, sample_fields

ENGLAND = PartnershipSettings()


def as_form_data(form: DecisionForm, fields: dict[str, Any]) -> FormData:
    items: list[tuple[str, Any]] = []
    for spec in form.fields:
        value = fields.get(spec.name)
        if value is None:
            continue
        if spec.widget == "checkbox":
            if value:
                items.append((spec.name, "yes"))
        elif spec.widget == "yesno":
            items.append((spec.name, "yes" if value else "no"))
        elif spec.widget == "checkboxes":
            items += [(spec.name, v) for v in value]
        elif spec.widget == "people":
            lines = [f"{p['name']}, {p['role']}, {p['agency']}" for p in value]
            items.append((spec.name, "\n".join(lines)))
        elif spec.widget == "requests":
            for i, row in enumerate(value):
                items.append((f"{spec.name}-{i}-agency", row["agency"]))
                items.append((f"{spec.name}-{i}-due_on", row.get("due_on", "")))
        else:
            items.append((spec.name, str(value)))
    return FormData(items)


def render_form(form: DecisionForm, values: dict[str, Any], errors: dict[str, str]) -> str:
    env = template_environment()  # the console's own: its date helpers, its finalize
    template = env.from_string(
        '{% from "_macros.html" import decision_form %}'
        "{{ decision_form('LSCP-2026-1A2B3C', kind, form, values, 'token', 'f-', 'case', errors) }}"
    )
    return template.render(kind=form.kind, form=form, values=values, errors=errors)


@pytest.mark.parametrize("kind", list(DecisionKind), ids=lambda k: k.value)
def test_every_kind_has_a_form_that_reads_back(kind: DecisionKind) -> None:
    form = decision_form(kind, ENGLAND)
    names = {f.name for f in form.fields}
    model = DECISION_MODELS[kind]
    assert "by" not in names and "kind" not in names and "via" not in names
    assert "decision_id" in names
    for name, info in model.model_fields.items():
        if info.is_required() and name not in ("by", "kind", "decision_id"):
            assert name in names, f"{kind.value}: required field {name} has no input"
    fields = sample_fields(kind)
    data = as_form_data(form, fields)
    body, state = parse_decision_form(form, data, POLICE_MEMBER)
    assert state.ok, (state.errors, state.general)
    assert body is not None
    assert body["kind"] == kind.value
    assert body["by"] == POLICE_MEMBER.model_dump(mode="json")
    assert body["decision_id"].startswith("console-")
    assert body["via"] == "console"  # the history records where it came from (issue #11)
    expected = DECISION_ADAPTER.validate_python(
        {
            "kind": kind.value,
            "decision_id": body["decision_id"],
            "by": body["by"],
            "via": "console",
            **fields,
        }
    ).model_dump(mode="json", exclude_none=True)
    assert body == expected

    html = render_form(form, forms.initial_values(form), {})
    assert unlabelled_controls(html) == []
    assert duplicate_ids(html) == []
    assert "novalidate" in html


def test_the_person_comes_from_the_user_never_the_form() -> None:
    form = decision_form(DecisionKind.TRIAGE, ENGLAND)
    data = FormData(
        [("outcome", "serious_incident"), ("by", "x"), ("by-name", "Mallory"), ("by-role", "chair")]
    )
    body, state = parse_decision_form(form, data, POLICE_MEMBER)
    assert state.ok and body is not None
    assert body["by"] == {"name": "Pat Police", "role": "panel_member", "agency": "police"}


def test_problems_are_shown_next_to_their_fields() -> None:
    form = decision_form(DecisionKind.TRIAGE, ENGLAND)
    body, state = parse_decision_form(
        form, FormData([("outcome", "other_review"), ("occurred_on", "yesterday")]), CHAIR
    )
    assert body is None
    assert state.errors["occurred_on"].startswith("Enter a date. Day, month and year")
    body, state = parse_decision_form(form, FormData([("outcome", "other_review")]), CHAIR)
    assert body is None
    assert state.errors == {
        "review_type": "Review type is required when the outcome is other review."
    }
    html = render_form(form, state.values, state.errors)
    assert 'aria-describedby="f-review_type-error f-review_type-help"' in html
    assert 'aria-invalid="true"' in html
    assert broken_descriptions(html) == []
    assert "There is a problem" in html
    assert 'href="#f-review_type"' in html

    body, state = parse_decision_form(form, FormData([]), CHAIR)
    assert state.errors == {"outcome": "Required."}


def test_an_option_the_partnership_does_not_offer_is_not_in_the_form(
    profiles: dict[str, PartnershipSettings],
) -> None:
    liverpool = profiles["LSCP"]
    form = decision_form(DecisionKind.TRIAGE, liverpool)
    outcome = form.field("outcome")
    assert outcome is not None
    assert [c[0] for c in outcome.choices] == [r.value for r in liverpool.routes]
    _, state = parse_decision_form(form, FormData([("outcome", "made_up")]), CHAIR)
    assert state.errors == {"outcome": "Choose from the options given."}


def test_attendees_are_lines_of_name_role_agency(profiles: dict[str, PartnershipSettings]) -> None:
    croydon = profiles["CSCP"]
    form = decision_form(DecisionKind.RAPID_REVIEW_DECISION, croydon)
    attendees = form.field("attendees")
    assert attendees is not None and attendees.required
    assert "The quorum is Children's Social Care" in (attendees.help or "")
    lines = (
        "Dana Reid, chair, Police\nHal Evans, panel member, Health (ICB)\nSam, Panel_Member, CSC"
    )
    body, state = parse_decision_form(
        form, FormData([("recommendation", "local_cspr"), ("attendees", lines)]), CHAIR
    )
    assert state.ok, state.errors
    assert body is not None
    assert body["attendees"] == [
        {"name": "Dana Reid", "role": "chair", "agency": "police"},
        {"name": "Hal Evans", "role": "panel_member", "agency": "health"},
        {"name": "Sam", "role": "panel_member", "agency": "childrens_social_care"},
    ]
    _, state = parse_decision_form(
        form,
        FormData([("recommendation", "local_cspr"), ("attendees", "Dana Reid, boss, Police\nX")]),
        CHAIR,
    )
    assert state.errors["attendees"] == (
        "Line 1: 'boss' is not a role. Line 2: write Name, role, agency."
    )
    _, state = parse_decision_form(form, FormData([("recommendation", "local_cspr")]), CHAIR)
    assert state.errors["attendees"] == "Required."
    # Only meeting decisions ask who attended.
    assert decision_form(DecisionKind.TRIAGE, croydon).field("attendees") is None
    assert decision_form(DecisionKind.QUALITY_ASSURED, croydon).field("attendees") is not None


def test_information_request_rows() -> None:
    form = decision_form(DecisionKind.INFORMATION_REQUESTED, ENGLAND)
    data = FormData(
        [
            ("requests-0-agency", "police"),
            ("requests-0-due_on", "2026-12-01"),
            ("requests-1-agency", ""),
            ("requests-2-agency", "health"),
        ]
    )
    body, state = parse_decision_form(form, data, CHAIR)
    assert state.ok and body is not None
    assert body["requests"] == [{"agency": "police", "due_on": "2026-12-01"}, {"agency": "health"}]
    _, state = parse_decision_form(form, FormData([("requests-1-due_on", "2026-12-01")]), CHAIR)
    assert state.errors["requests"] == "Row 2: choose the agency."
    _, state = parse_decision_form(form, FormData([]), CHAIR)
    assert state.errors["requests"] == "Give at least one."
    html = render_form(form, state.values, state.errors)
    assert unlabelled_controls(html) == []


def test_a_tampered_decision_id_is_replaced() -> None:
    form = decision_form(DecisionKind.CASE_CLOSED, ENGLAND)
    body, _ = parse_decision_form(form, FormData([("decision_id", "../../etc")]), CHAIR)
    assert body is not None and body["decision_id"].startswith("console-")


# --------------------------------------------------------------------------- the referral form


def referral_data(**overrides: str) -> dict[str, str]:
    data = {
        "partnership": "LSCP",
        "received_on": "2026-11-19",
        "harm": "serious_harm",
        "abuse_or_neglect_suspected": "yes",
        "summary": "Admitted with unexplained injuries.",
        "referrer-name": "Rita Shah",
        "referrer-agency": "health",
        "referrer-discussed_with_safeguarding_lead": "yes",
        "children-0-name": "A.B.",
        "children-0-age_years": "3",
        "children-0-sex": "female",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != "-"}


def test_a_valid_referral_form(profiles: dict[str, PartnershipSettings]) -> None:
    sections = forms.referral_sections([("LSCP", "Liverpool")])
    data = FormData([*referral_data().items(), ("agencies_involved", "police")])
    referral, state = parse_referral_form(sections, data, date(2026, 11, 20), profiles)
    assert state.ok, (state.errors, state.general)
    assert referral is not None
    assert referral.children[0].name == "A.B." and referral.children[0].age_years == 3
    assert referral.referrer.discussed_with_safeguarding_lead is True
    assert [a.value for a in referral.agencies_involved] == ["police"]


def test_referral_problems_by_field(profiles: dict[str, PartnershipSettings]) -> None:
    sections = forms.referral_sections([("LSCP", "Liverpool"), ("SSCP", "Salford")])
    today = date(2026, 11, 20)
    cases = {
        "summary": (referral_data(summary="-"), "Required."),
        "received_on": (referral_data(received_on="2026-12-25"), "2026-12-25 is in the future."),
        "children-0-age_years": (
            referral_data(**{"children-0-age_years": "three"}),
            "Enter a whole number.",
        ),
        "children-1-age_years": (
            referral_data(**{"children-1-name": "C.D.", "children-1-age_years": "30"}),
            "Input should be less than or equal to 24.",
        ),
        "incident_on": (
            referral_data(incident_on="2026-11-20", received_on="2026-11-19"),
            "Incident on is after received on.",
        ),
        "late_reason": (
            referral_data(partnership="SSCP", incident_on="2026-11-01"),
            "The referral is 13 day(s) past Salford Safeguarding Children Partnership's limit",
        ),
        "children-0-name": (referral_data(**{"children-0-name": "-"}), "Required."),
        # The safeguarding-lead discussion has no default: it must be answered.
        "referrer-discussed_with_safeguarding_lead": (
            referral_data(**{"referrer-discussed_with_safeguarding_lead": "-"}),
            "Say whether the referrer discussed the case with their safeguarding lead first",
        ),
    }
    for field, (data, message) in cases.items():
        form_data = FormData(list(data.items()))
        referral, state = parse_referral_form(sections, form_data, today, profiles)
        assert referral is None, field
        assert state.errors.get(field, "").startswith(message), (field, state.errors, state.general)


def test_triage_forms_ask_who_attended_and_who_agreed(
    profiles: dict[str, PartnershipSettings],
) -> None:
    """Issue #13, item 3: the form asks what the partnership's decision rules need."""
    croydon = decision_form(DecisionKind.TRIAGE, profiles["CSCP"])
    agreed = croydon.field("agreed_by")
    assert agreed is not None and agreed.widget == "people" and not agreed.required
    assert agreed.help is not None
    assert "Agreed by (when the outcome is serious incident): Children's Social Care" in agreed.help
    assert croydon.field("attendees") is None
    assert croydon.field("criteria_not_met_reason") is not None
    liverpool = decision_form(DecisionKind.TRIAGE, profiles["LSCP"])
    attendees = liverpool.field("attendees")
    assert attendees is not None and attendees.help is not None
    assert "Present: Police, Health (ICB)" in attendees.help
    assert liverpool.field("agreed_by") is None
    outcomes = liverpool.field("outcome")
    assert outcomes is not None and "rapid_review" in [c[0] for c in outcomes.choices]
