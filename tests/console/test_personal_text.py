"""Free text that may name the child or family (notes, findings, evidence, action descriptions)
is shown only to the roles that see the referral's personal fields, and every view of personal
data is recorded in the register's access log (issue 14)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from register import access_log
from safeguarding.personal import HIDDEN
from tests.console.fakes import FakeBackend
from tests.console.test_pages import TODAY, Client, chair, decide, start
from tests.factories import action_fields

SECRETS = ("NOTE-Zebedee", "FINDINGS-Zebedee", "DESC-Zebedee", "EVIDENCE-Zebedee")


def case_with_free_text(backend: FakeBackend) -> str:
    case_ref = start(backend, agencies_involved=["police"])
    decide(backend, case_ref, "triage", chair(), outcome="other_review",
           review_type="multi_agency_audit", note=SECRETS[0])  # fmt: skip
    decide(backend, case_ref, "other_review_completed", chair(), findings=SECRETS[1])
    fields = action_fields("A1", TODAY + timedelta(days=60), lead_agency="police")
    decide(backend, case_ref, "action_added", chair(), **{**fields, "description": SECRETS[2]})
    decide(backend, case_ref, "action_updated", chair(), action_id="A1", evidence=SECRETS[3])
    return case_ref


def pages(client: TestClient, case_ref: str) -> str:
    case = client.get(f"/cases/{case_ref}")
    actions = client.get(f"/cases/{case_ref}/actions")
    assert case.status_code == actions.status_code == 200
    return str(case.text + actions.text)


@pytest.mark.parametrize("username", ["rob", "eve"])  # read-only; panel member, not involved
def test_free_text_is_hidden_from_those_who_may_not_see_personal_data(
    as_user: Client, backend: FakeBackend, username: str
) -> None:
    case_ref = case_with_free_text(backend)
    html = pages(as_user(username), case_ref)
    for secret in SECRETS:
        assert secret not in html
    assert HIDDEN in html
    assert "Other review completed" in html  # what was decided, and by whom, is still shown
    assert "Dana Chair" in html or "chair" in html.lower()
    # Nothing personal was shown, so nothing is recorded.
    assert access_log.entries(case_ref) == []


def test_a_coordinator_sees_the_free_text_and_the_view_is_recorded(
    as_user: Client, backend: FakeBackend
) -> None:
    case_ref = case_with_free_text(backend)
    html = pages(as_user("cora"), case_ref)
    for secret in SECRETS:
        assert secret in html
    assert HIDDEN not in html
    rows = access_log.entries(case_ref)
    assert [(r.username, r.role, r.via, r.what) for r in rows] == [
        ("cora", "coordinator", "console", "case page"),
        ("cora", "coordinator", "console", "action plan"),
    ]
    assert rows[0].data == "referral,free_text"
    # The log holds no personal data of the child.
    dumped = access_log.to_json(rows) + access_log.to_csv(rows)
    for secret in (*SECRETS, "Child A", "Rita Referrer"):
        assert secret not in dumped


def test_an_involved_panel_member_sees_the_free_text(as_user: Client, backend: FakeBackend) -> None:
    case_ref = case_with_free_text(backend)
    html = pages(as_user("pat"), case_ref)  # police is involved
    assert all(secret in html for secret in SECRETS)
    assert {r.username for r in access_log.entries(case_ref)} == {"pat"}


def test_personal_data_is_withheld_when_the_view_cannot_be_recorded(
    as_user: Client, backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_ref = case_with_free_text(backend)
    monkeypatch.setattr(access_log, "record", lambda *a, **k: False)
    html = pages(as_user("cora"), case_ref)
    assert 'id="personal-data-unlogged"' in html
    for secret in (*SECRETS, "Child A"):
        assert secret not in html


def test_only_the_business_manager_reads_a_cases_access_log(
    as_user: Client, backend: FakeBackend
) -> None:
    case_ref = case_with_free_text(backend)
    as_user("cora").get(f"/cases/{case_ref}")
    bea = as_user("bea")
    case_page = bea.get(f"/cases/{case_ref}").text
    assert f'href="/cases/{case_ref}/access-log"' in case_page
    log_page = bea.get(f"/cases/{case_ref}/access-log")
    assert log_page.status_code == 200
    assert "cora" in log_page.text and "case page" in log_page.text
    for username in ("cora", "rob", "pat"):
        assert as_user(username).get(f"/cases/{case_ref}/access-log").status_code == 403
    assert f"/cases/{case_ref}/access-log" not in as_user("cora").get(f"/cases/{case_ref}").text


def test_the_register_summarys_themes_only_for_roles_that_see_personal_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The themes are the action plans' recommendations: free text, across many cases.
    from console import reports
    from register import db
    from tests.register.seeding import FRONT_DOOR, seed

    url = f"sqlite:///{tmp_path / 'register.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    db.upgrade(url)
    with db.session(url) as session:
        seed(session)
    try:
        shown = reports.register_reports(None, date(2027, 1, 10), personal=True)
        hidden = reports.register_reports(None, date(2027, 1, 10), personal=False)
    finally:
        db.forget(url)
    assert FRONT_DOOR in repr(shown.documents)
    assert FRONT_DOOR not in repr(hidden.documents)
    assert reports.THEMES_HIDDEN in repr(hidden.documents)
