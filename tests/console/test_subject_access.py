"""The console's subject-access download (issue 14, point 4): business managers only, the whole
case with its free text, recorded in the access log first (not sent when it cannot be)."""

from __future__ import annotations

import json

import pytest

from register import access_log
from tests.console.fakes import FakeBackend
from tests.console.test_pages import Client
from tests.console.test_personal_text import SECRETS, case_with_free_text


def test_a_business_manager_downloads_the_bundle_and_it_is_recorded(
    as_user: Client, backend: FakeBackend
) -> None:
    case_ref = case_with_free_text(backend)
    other = case_with_free_text(backend)
    bea = as_user("bea")
    assert f'href="/cases/{case_ref}/subject-access/html"' in bea.get(f"/cases/{case_ref}").text
    got = bea.get(f"/cases/{case_ref}/subject-access/json")
    assert got.status_code == 200
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["cache-control"] == "no-store"
    made = json.loads(got.text)
    assert made["case_ref"] == case_ref and made["referral"]["children"]
    assert all(secret in got.text for secret in SECRETS)
    assert other not in got.text
    assert made["register"]["access_log"][-1]["data"] == "subject_access"
    page = bea.get(f"/cases/{case_ref}/subject-access/html")
    assert page.status_code == 200 and "<h1>Subject access" in page.text
    rows = [r for r in access_log.entries(case_ref) if r.data == "subject_access"]
    assert [(r.username, r.what) for r in rows] == [
        ("bea", "subject access export (json)"),
        ("bea", "subject access export (html)"),
    ]


@pytest.mark.parametrize("username", ["cora", "rob", "pat"])
def test_only_business_managers_export(
    as_user: Client, backend: FakeBackend, username: str
) -> None:
    case_ref = case_with_free_text(backend)
    client = as_user(username)
    assert client.get(f"/cases/{case_ref}/subject-access/json").status_code == 403
    assert "/subject-access/" not in client.get(f"/cases/{case_ref}").text


def test_not_sent_when_the_export_cannot_be_recorded(
    as_user: Client, backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_ref = case_with_free_text(backend)
    monkeypatch.setattr(access_log, "record", lambda *a, **k: False)
    got = as_user("bea").get(f"/cases/{case_ref}/subject-access/json")
    assert got.status_code == 503
    assert SECRETS[0] not in got.text
