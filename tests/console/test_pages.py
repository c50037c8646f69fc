"""The console's pages on a fake Temporal layer (the real case rules run in process)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from console.app import state_words
from console.backend import CaseFilter, caseload_query
from safeguarding.clock import uk_today
from safeguarding.vocabulary import Route, Stage
from tests.console.a11y import broken_descriptions, duplicate_ids, unlabelled_controls
from tests.console.conftest import NOW, Clock, csrf_of
from tests.console.fakes import FakeBackend
from tests.factories import (
    CHAIR,
    COORDINATOR,
    POLICE_MEMBER,
    action_fields,
    referral,
    triage_participants,
)

TODAY = date(2026, 11, 20)
CHILD = "Child A"
SUMMARY = "Admitted to hospital with unexplained injuries."

Client = Callable[[str], TestClient]


def start(backend: FakeBackend, **overrides: object) -> str:
    overrides.setdefault("partnership", "LSCP")
    received = overrides.pop("received_on", TODAY)
    return asyncio.run(backend.start(referral(received, **overrides)))  # type: ignore[arg-type]


#: Liverpool's triage is attended by the three partners and the LSCP Safeguarding Manager.
TRIAGE_ATTENDEES = (
    "Dana Chair, chair, police\nHal Health, panel member, health\n"
    "Sam Social, panel member, childrens social care\nBea Manager, business manager, partnership"
)


def decide(backend: FakeBackend, case_ref: str, kind: str, by: object, **fields: object) -> None:
    if kind == "triage":  # attended and agreed as every shipped profile asks
        fields = {**triage_participants(), **fields}
    body = {"kind": kind, "decision_id": f"{kind}-{len(backend.sent)}", "by": by, **fields}
    asyncio.run(backend.decide(case_ref, body))


def chair() -> dict[str, str]:
    return CHAIR.model_dump(mode="json")


def coordinator() -> dict[str, str]:
    return COORDINATOR.model_dump(mode="json")


def post_form(client: TestClient, page_url: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(action, data={"csrf_token": csrf_of(page.text), **data})


def check_page(html: str) -> None:
    assert unlabelled_controls(html) == []
    assert broken_descriptions(html) == []
    assert duplicate_ids(html) == []
    assert 'class="skip-link" href="#main"' in html
    assert CHILD not in re.search(r"<title>(.*?)</title>", html, re.S).group(1)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- caseload


def test_caseload_shows_state_and_filters(as_user: Client, backend: FakeBackend) -> None:
    fresh = start(backend)
    late = start(backend, received_on=TODAY - timedelta(days=30))
    croydon = start(backend, partnership="CSCP")
    moved = start(backend)
    decide(backend, moved, "triage", chair(), outcome="serious_incident")

    client = as_user("cora")
    page = client.get("/cases")
    assert page.status_code == 200
    check_page(page.text)
    for case_ref in (fresh, late, croydon, moved):
        assert case_ref in page.text
    row = re.search(rf'<tr data-case="{late}">(.*?)</tr>', page.text, re.S)
    assert row and "Overdue" in row.group(1)
    row = re.search(rf'<tr data-case="{fresh}">(.*?)</tr>', page.text, re.S)
    assert row and "On track" in row.group(1) and "Triage decision" in row.group(1)

    page = client.get("/cases", params={"stage": "serious_incident_notification"})
    assert moved in page.text and fresh not in page.text
    assert backend.filters[-1].stage is Stage.SERIOUS_INCIDENT_NOTIFICATION
    page = client.get("/cases", params={"overdue": "1"})
    assert late in page.text and fresh not in page.text
    page = client.get("/cases", params={"partnership": "CSCP"})
    assert croydon in page.text and fresh not in page.text
    page = client.get("/cases", params={"route": "serious_incident"})
    assert moved in page.text and fresh not in page.text
    assert 'option value="serious_incident" selected' in page.text


def test_the_caseload_shows_only_the_users_partnerships(
    as_user: Client, backend: FakeBackend
) -> None:
    liverpool = start(backend)
    croydon = start(backend, partnership="CSCP")
    page = as_user("cath").get("/cases")
    assert croydon in page.text and liverpool not in page.text
    assert backend.filters[-1].visible == ("CSCP",)
    # Asking for a partnership one cannot see is ignored, not obeyed.
    page = as_user("cath").get("/cases", params={"partnership": "LSCP"})
    assert liverpool not in page.text
    assert "You cannot see that partnership" in page.text
    assert as_user("cath").get(f"/cases/{liverpool}").status_code == 404


def test_caseload_query_is_the_clis_plus_partnerships_and_queue() -> None:
    query = caseload_query(
        CaseFilter(stage=Stage.TRIAGE, route=Route.UNDECIDED, overdue=True, visible=("A", "B")),
        "q1",
    )
    assert query == (
        "WorkflowType = 'ReferralWorkflow' AND ExecutionStatus = 'Running' AND "
        "ReviewStage = 'triage' AND ReviewRoute = 'undecided' AND Overdue = true AND "
        "(Partnership = 'A' OR Partnership = 'B') AND TaskQueue = 'q1'"
    )
    assert "Partnership = 'C'" in caseload_query(CaseFilter(partnership="C", visible=("C",)), None)
    assert "Partnership = '-'" in caseload_query(CaseFilter(visible=()), None)


def test_the_query_itself_keeps_a_restricted_user_to_their_partnerships() -> None:
    """Defence in depth: even if a page passed on a partnership the user cannot see, the query
    (and the fake, through the same CaseFilter.admits) gives nothing from it."""
    other = caseload_query(CaseFilter(partnership="LSCP", visible=("CSCP",)), None)
    assert "Partnership = 'LSCP'" not in other
    assert other.endswith("AND Partnership = '-'")
    own = caseload_query(CaseFilter(partnership="CSCP", visible=("CSCP", "LSCP")), None)
    assert own.endswith("AND Partnership = 'CSCP'") and "LSCP" not in own
    assert caseload_query(CaseFilter(partnership="LSCP"), None).endswith("Partnership = 'LSCP'")
    # A code that is not a plain code never reaches the query text.
    assert "x' OR" not in caseload_query(CaseFilter(visible=("x' OR '1'='1",)), None)
    assert CaseFilter(partnership="LSCP", visible=("CSCP",)).admits("LSCP") is False
    assert CaseFilter(partnership="LSCP", visible=("CSCP",)).admits("CSCP") is False
    assert CaseFilter(visible=("CSCP",)).admits("CSCP") is True
    assert CaseFilter().admits("ANY") is True


def test_the_fake_filters_as_the_real_backend_does(backend: FakeBackend) -> None:
    liverpool = start(backend)
    croydon = start(backend, partnership="CSCP")

    def listed(where: CaseFilter) -> set[str]:
        return {row.case_ref for row in asyncio.run(backend.list_cases(where))}

    assert listed(CaseFilter(partnership="LSCP", visible=("CSCP",))) == set()
    assert listed(CaseFilter(visible=("CSCP",))) == {croydon}
    assert listed(CaseFilter(partnership="LSCP")) == {liverpool}
    assert listed(CaseFilter()) == {liverpool, croydon}


# --------------------------------------------------------------------------- a case


def test_case_page(as_user: Client, backend: FakeBackend) -> None:
    case_ref = start(backend)
    decide(backend, case_ref, "triage", chair(), outcome="serious_incident")
    page = as_user("dana").get(f"/cases/{case_ref}")
    assert page.status_code == 200
    html = page.text
    check_page(html)
    assert f"<title>Case {case_ref} — Safeguarding Review Console</title>" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img"' in html
    assert f'<title id="timeline-{case_ref}-title">Timeline of case {case_ref}</title>' in html
    assert "Triage (passed); Notification (current)" in html
    assert "Triage decision: due" in html and ", met" in html
    assert "Serious Incident Notification to the National Panel" in html
    assert f'href="http://127.0.0.1:8233/namespaces/default/workflows/referral-{case_ref}"' in html
    assert "Decision history" in html and "Dana Chair (chair, Police)" in html
    # What the chair may do now: the notification is the local authority's, not theirs.
    assert "Extend a deadline" in html
    assert "Serious Incident Notification submitted</summary>" not in html
    # The chair sees the child's details.
    assert CHILD in html and SUMMARY in html


def test_a_long_case_page_says_its_earlier_history_is_in_the_register(
    as_user: Client, backend: FakeBackend
) -> None:
    case_ref = start(backend)
    decide(backend, case_ref, "triage", chair(), outcome="serious_incident")
    shown = len(backend.cases[case_ref].history)
    assert f"Full case history ({shown} entries)" in as_user("dana").get(f"/cases/{case_ref}").text
    # A case carried over many runs holds only its latest entries (Case.carry_over).
    backend.cases[case_ref].history_base = 480
    html = as_user("dana").get(f"/cases/{case_ref}").text
    assert (
        f"Case history (the latest {shown} of {480 + shown} entries; earlier ones are in the "
        "register)"
    ) in html


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("cora", True),
        ("dana", True),
        ("pat", True),  # police is involved
        ("eve", False),  # education is not
        ("lee", False),  # not this case's lead reviewer
        ("rob", False),  # read-only
    ],
)
def test_personal_data_only_for_roles_that_need_it(
    as_user: Client, backend: FakeBackend, username: str, sees: bool
) -> None:
    case_ref = start(backend, agencies_involved=["police", "health"])
    html = as_user(username).get(f"/cases/{case_ref}").text
    assert (CHILD in html) is sees
    assert (SUMMARY in html) is sees
    assert ("Rita Referrer" in html) is sees
    assert ('id="personal-data-withheld"' in html) is not sees
    assert "Health (ICB)" in html  # what is not personal is shown to all


def test_unknown_and_malformed_case_refs(as_user: Client) -> None:
    client = as_user("cora")
    assert client.get("/cases/LSCP-2026-000000").status_code == 404
    assert client.get("/cases/not-a-ref").status_code == 404
    assert client.get("/cases/LSCP-2026-000000/decide/flying").status_code == 404


# --------------------------------------------------------------------------- decisions


def test_a_panel_member_records_triage(as_user: Client, backend: FakeBackend) -> None:
    case_ref = start(backend)
    client = as_user("pat")
    mine = client.get("/my-decisions")
    check_page(mine.text)
    assert f'data-case="{case_ref}"' in mine.text
    assert f'id="{case_ref}-triage-outcome"' in mine.text
    response = post_form(
        client,
        "/my-decisions",
        f"/cases/{case_ref}/decide/triage",
        {
            "outcome": "serious_incident",
            "back": "my",
            "by-name": "Someone Else",
            "attendees": TRIAGE_ATTENDEES,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/my-decisions"
    sent = backend.sent[-1]
    assert sent["by"] == {"name": "Pat Police", "role": "panel_member", "agency": "police"}
    page = client.get("/my-decisions").text
    assert "Recorded: Triage decision. Stage now: Serious Incident Notification." in page
    assert "New deadline — Serious Incident Notification to the National Panel: due" in page
    # The flash shows once.
    assert "Recorded: Triage decision" not in client.get("/my-decisions").text


def test_form_errors_are_shown_and_nothing_is_sent(as_user: Client, backend: FakeBackend) -> None:
    case_ref = start(backend)
    client = as_user("dana")
    url = f"/cases/{case_ref}/decide/triage"
    response = post_form(client, url, url, {"outcome": "other_review"})
    assert response.status_code == 422
    assert backend.sent == []
    html = response.text
    check_page(html)
    assert '<p class="error-message" id="f-review_type-error">' in html
    assert "Review type is required when the outcome is other review." in html
    assert 'option value="other_review" selected' in html


def test_a_refusal_is_shown_on_the_form(as_user: Client, backend: FakeBackend) -> None:
    case_ref = start(backend)
    client = as_user("dana")
    url = f"/cases/{case_ref}/decide/triage"
    page = client.get(url)
    decide(backend, case_ref, "triage", chair(), outcome="serious_incident")  # someone was quicker
    response = client.post(url, data={"csrf_token": csrf_of(page.text), "outcome": "other_review",
                                      "review_type": "multi_agency_audit"})  # fmt: skip
    assert response.status_code == 409
    assert "The case refused this decision" in response.text
    assert (
        "WrongStage:</strong> a triage decision is not allowed at stage "
        "&#39;Serious Incident Notification&#39;" in response.text
    )
    assert 'option value="multi_agency_audit" selected' in response.text


def test_a_decision_the_role_may_not_make_is_refused_before_sending(
    as_user: Client, backend: FakeBackend
) -> None:
    case_ref = start(backend)
    decide(backend, case_ref, "triage", chair(), outcome="serious_incident")
    client = as_user("eve")
    url = f"/cases/{case_ref}/decide/rapid_review_decision"
    page = client.get(url)
    assert page.status_code == 403
    assert "may not record “Rapid Review decision”: it needs a chair" in page.text
    token = csrf_of(client.get("/cases").text)
    assert client.post(url, data={"csrf_token": token}).status_code == 403
    # Read-only users decide nothing at all.
    rob = as_user("rob")
    assert rob.get(f"/cases/{case_ref}/decide/triage").status_code == 403
    assert "Read-only users make no decisions." in rob.get("/my-decisions").text
    assert len(backend.sent) == 1


def test_the_workflow_has_the_last_word_on_agency_rules(
    as_user: Client, backend: FakeBackend
) -> None:
    """A panel member may return only their own agency's information: the console offers the
    form, the case refuses another agency's return."""
    case_ref = start(backend)
    decide(backend, case_ref, "triage", chair(), outcome="serious_incident")
    decide(backend, case_ref, "notification_submitted", coordinator(), reference="NP-1")
    decide(backend, case_ref, "information_requested", coordinator(),
           requests=[{"agency": "police"}, {"agency": "health"}])  # fmt: skip
    client = as_user("pat")
    mine = client.get("/my-decisions").text
    assert f'action="/cases/{case_ref}/decide/information_returned"' in mine
    url = f"/cases/{case_ref}/decide/information_returned"
    response = post_form(client, url, url, {"agency": "health"})
    assert response.status_code == 409
    assert "NotAuthorised:</strong> Pat Police (panel member, Police) may return only" in (
        response.text
    )
    response = post_form(client, url, url, {"agency": "police"})
    assert response.status_code == 303
    # Hal (health) still owes theirs; Pat owes nothing more here.
    assert f'data-case="{case_ref}"' not in client.get("/my-decisions").text
    assert f'data-case="{case_ref}"' in as_user("hal").get("/my-decisions").text


# --------------------------------------------------------------------------- referrals


def test_a_referral_with_problems_starts_nothing(as_user: Client, backend: FakeBackend) -> None:
    client = as_user("cora")
    page = client.get("/referrals/new")
    check_page(page.text)
    assert f'id="f-received_on" name="received_on" value="{TODAY:%d/%m/%Y}"' in page.text
    data = {
        "partnership": "LSCP",
        "received_on": TODAY.isoformat(),
        "harm": "serious_harm",
        "abuse_or_neglect_suspected": "yes",
        "referrer-name": "Rita Shah",
        "referrer-agency": "health",
        "referrer-discussed_with_safeguarding_lead": "yes",
        "children-0-name": "A.B.",
        "children-0-age_years": "3",
    }
    response = client.post("/referrals", data={"csrf_token": csrf_of(page.text), **data})
    assert response.status_code == 422
    assert backend.started == []
    check_page(response.text)
    assert '<p class="error-message" id="f-summary-error">' in response.text
    assert 'aria-describedby="f-summary-error f-summary-help"' in response.text
    assert 'value="Rita Shah"' in response.text  # what was typed is kept

    data["summary"] = "Admitted with unexplained injuries."
    response = client.post("/referrals", data={"csrf_token": csrf_of(page.text), **data})
    assert response.status_code == 303
    case_ref = response.headers["location"].removeprefix("/cases/")
    assert case_ref.startswith("LSCP-2026-")
    assert len(backend.started) == 1
    assert f"Case {case_ref} opened for LSCP." in client.get(response.headers["location"]).text


def test_only_the_business_team_records_referrals(as_user: Client, backend: FakeBackend) -> None:
    for username in ("pat", "dana", "rob"):
        client = as_user(username)
        refused = client.get("/referrals/new")
        assert refused.status_code == 403
        assert "may not record referrals" in refused.text
        assert 'href="/referrals/new"' not in client.get("/cases").text
        token = csrf_of(client.get("/cases").text)
        assert client.post("/referrals", data={"csrf_token": token}).status_code == 403
    assert backend.started == []
    assert 'href="/referrals/new"' in as_user("bea").get("/cases").text


def test_a_referral_for_a_partnership_one_cannot_see_is_refused(
    as_user: Client, backend: FakeBackend
) -> None:
    client = as_user("cath")
    page = client.get("/referrals/new")
    assert 'value="CSCP" selected' in page.text  # their only partnership
    response = client.post(
        "/referrals",
        data={"csrf_token": csrf_of(page.text), "partnership": "LSCP", "summary": "x"},
    )
    assert response.status_code == 422
    assert "Choose from the options given." in response.text
    assert backend.started == []


# --------------------------------------------------------------------------- action plan


def test_action_plan_tracker(as_user: Client, backend: FakeBackend) -> None:
    case_ref = start(backend, partnership="ENGLAND")
    decide(backend, case_ref, "triage", chair(), outcome="other_review",
           review_type="multi_agency_audit")  # fmt: skip
    decide(backend, case_ref, "other_review_completed", chair(), findings="Findings.")
    client = as_user("cora")
    url = f"/cases/{case_ref}/actions"
    page = client.get(url)
    check_page(page.text)
    assert "No actions yet." in page.text
    fields = action_fields("A1", TODAY + timedelta(days=60), lead_agency="police")
    response = post_form(
        client, url, f"/cases/{case_ref}/decide/action_added", {**fields, "back": "actions"}
    )
    assert response.status_code == 303 and response.headers["location"] == url
    tracker = client.get(url).text
    assert '<tr data-action="A1">' in tracker
    assert "Not started" in tracker

    pat = as_user("pat")
    tracker = pat.get(url).text
    update = f"/cases/{case_ref}/decide/action_updated?action_id=A1&amp;back=actions"
    assert update in tracker
    form = pat.get(update.replace("&amp;", "&"))
    assert 'option value="A1" selected' in form.text
    assert "closed_by_review_group" not in form.text  # only the chair or manager may close
    response = pat.post(
        f"/cases/{case_ref}/decide/action_updated",
        data={"csrf_token": csrf_of(form.text), "action_id": "A1", "status": "in_progress",
              "rag": "amber", "evidence": "Audit started", "back": "actions"},
    )  # fmt: skip
    assert response.status_code == 303
    tracker = pat.get(url).text
    assert "In progress" in tracker and "Amber" in tracker and "Audit started" in tracker
    assert "earlier (in the case history)" not in tracker
    # An action keeps its latest evidence; the page says how much more its history holds.
    for n in range(4):
        police = POLICE_MEMBER.model_dump(mode="json")
        decide(
            backend, case_ref, "action_updated", police, action_id="A1", evidence=f"Re-audit {n}"
        )
    tracker = pat.get(url).text
    assert "2 earlier (in the case history)" in tracker and "Audit started" not in tracker
    assert all(f"Re-audit {n}" in tracker for n in (1, 2, 3))
    # Health leads nothing here: no update link for Hal.
    assert "action_updated" not in as_user("hal").get(url).text


def test_action_plan_before_monitoring(as_user: Client, backend: FakeBackend) -> None:
    case_ref = start(backend)
    page = as_user("cora").get(f"/cases/{case_ref}/actions").text
    assert "Actions are added once the case reaches action plan monitoring." in page


# --------------------------------------------------------------------------- reports


def test_reports_page(
    as_user: Client, backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console import reports

    start(backend)
    start(backend, received_on=TODAY - timedelta(days=30))
    monkeypatch.setattr(reports, "register_available", lambda: False)
    page = as_user("rob").get("/reports")
    assert page.status_code == 200
    check_page(page.text)
    assert "<strong>2</strong> open, <strong>1</strong> with something overdue" in page.text
    assert 'id="register-not-configured"' in page.text


def test_reports_page_with_a_broken_register(
    as_user: Client, backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console import reports

    monkeypatch.setattr(reports, "register_available", lambda: True)
    client = as_user("cora")  # the sessions' database is chosen when the console starts
    monkeypatch.setenv("DATABASE_URL", "notadriver://nowhere")
    page = client.get("/reports")
    assert page.status_code == 200
    assert "The register could not be read" in page.text


def test_now_is_the_fixed_clock() -> None:
    assert NOW.date() == TODAY


@pytest.mark.parametrize("hours", range(0, 7 * 24, 7))
def test_the_caseload_shows_the_state_the_case_reports_at_any_hour(
    as_user: Client, backend: FakeBackend, clock: Clock, hours: int
) -> None:
    """A week of clocks, every 7 hours: a new Liverpool case is "due soon" from Monday 09:00 to
    its Wednesday triage meeting and "on track" otherwise; the page says what the case says."""
    clock.now = datetime(2026, 11, 23, 0, 30, tzinfo=UTC) + timedelta(hours=hours)  # a Monday
    fresh = asyncio.run(backend.start(referral(uk_today(clock.now), partnership="LSCP")))
    upcoming = asyncio.run(backend.status(fresh)).next_deadline
    assert upcoming is not None
    page = as_user("cora").get("/cases")
    row = re.search(rf'<tr data-case="{fresh}">(.*?)</tr>', page.text, re.S)
    assert row and state_words(upcoming.state) in row.group(1)
