"""The console against a careless or hostile user: the author of a decision is the signed-in
account, never a form field; control and bidirectional characters are shown, never obeyed;
an oversized form comes back as the form page with the reason."""

from __future__ import annotations

import json
import logging
import re

import pytest

from console.display import finalize, neutralise
from tests.console.conftest import csrf_of
from tests.console.fakes import FakeBackend
from tests.console.test_pages import TRIAGE_ATTENDEES, Client, chair, decide, start

# --------------------------------------------------------------------------- the author


def test_the_author_is_the_signed_in_user_whatever_the_form_says(
    as_user: Client, backend: FakeBackend, caplog: pytest.LogCaptureFixture
) -> None:
    case_ref = start(backend)
    client = as_user("pat")
    url = f"/cases/{case_ref}/decide/triage"
    page = client.get(url)
    someone_else = {"name": "Dana Chair", "role": "chair", "agency": "police"}
    with caplog.at_level(logging.INFO, logger="console"):
        response = client.post(
            url,
            data={
                "csrf_token": csrf_of(page.text),
                "outcome": "serious_incident",
                "attendees": TRIAGE_ATTENDEES,
                "by": json.dumps(someone_else),
                "by-name": "Dana Chair",
                "by.name": "Dana Chair",
                "by[role]": "chair",
                "decision_id": re.search(r'name="decision_id" value="([^"]+)"', page.text)[1],  # type: ignore[index]
            },
        )
    assert response.status_code == 303, response.text
    (sent,) = backend.sent
    assert sent["by"] == {"name": "Pat Police", "role": "panel_member", "agency": "police"}
    history = backend.cases[case_ref].status(backend.now()).history
    assert [h.by.name for h in history if h.decision_kind == "triage" and h.by] == ["Pat Police"]
    # The console's own record ties the decision to the account that signed in.
    lines = [r.getMessage() for r in caplog.records if r.name == "console"]
    assert f"decision {sent['decision_id']} (triage) on {case_ref} recorded for user pat" in lines


# --------------------------------------------------------------------------- display

HOSTILE = "Ann\u202eexe.gpj\u2066x\u2069\u200f\x1b[31m\x00end"


def test_neutralise_shows_controls_and_bidi_as_escapes() -> None:
    shown = neutralise(HOSTILE)
    assert shown == "Ann\\u202eexe.gpj\\u2066x\\u2069\\u200f\\x1b[31m\\x00end"
    assert neutralise("line one\r\nline two\tand a tab") == "line one\nline two\tand a tab"
    assert neutralise("Zoë Ñúñez — ok") == "Zoë Ñúñez — ok"
    for char in ["\u202a", "\u202b", "\u202c", "\u202d", "\u2067", "\u2068", "\u200e", "\x7f"]:
        assert neutralise(char).startswith("\\")
    assert finalize(None) is None and finalize(3) == 3


def test_names_and_free_text_are_shown_neutralised(as_user: Client, backend: FakeBackend) -> None:
    case_ref = start(
        backend,
        children=[{"name": HOSTILE, "age_years": 3, "sex": "female"}],
        referrer={"name": "Rita\u202eReferrer", "agency": "health"},
        summary="Admitted\x1b[2J with \u2066injuries\u2069.",
    )
    decide(backend, case_ref, "triage", chair(), outcome="serious_incident", note="Seen\u202e ok")
    html = as_user("cora").get(f"/cases/{case_ref}").text
    for raw in ("\u202e", "\u2066", "\u2069", "\u200f", "\x1b", "\x00"):
        assert raw not in html, repr(raw)
    assert "Ann\\u202eexe.gpj" in html
    assert "Rita\\u202eReferrer" in html
    assert "Admitted\\x1b[2J with \\u2066injuries\\u2069." in html
    assert "Seen\\u202e ok" in html


def test_a_typed_value_shown_again_is_neutralised_too(
    as_user: Client, backend: FakeBackend
) -> None:
    case_ref = start(backend)
    client = as_user("dana")
    url = f"/cases/{case_ref}/decide/triage"
    page = client.get(url)
    response = client.post(
        url,
        data={"csrf_token": csrf_of(page.text), "outcome": "", "note": "a\u202eb\r\nsecond line"},
    )
    assert response.status_code == 422
    assert "\u202e" not in response.text
    assert "a\\u202eb\nsecond line" in response.text


# --------------------------------------------------------------------------- oversized forms


@pytest.mark.parametrize(
    "data",
    [
        {"note": "x" * (1024 * 1024 + 10)},  # over 1 MiB: was a raw JSON 400 from Starlette
        {f"field{n}": "x" for n in range(1200)},  # more fields than Starlette reads
        {"note": "x" * (300 * 1024)},  # over the console's own limit
    ],
    ids=["huge-field", "many-fields", "over-limit"],
)
def test_an_oversized_decision_form_shows_the_form_with_the_reason(
    as_user: Client, backend: FakeBackend, data: dict[str, str]
) -> None:
    case_ref = start(backend)
    client = as_user("dana")
    url = f"/cases/{case_ref}/decide/triage"
    page = client.get(url)
    response = client.post(url, data={"csrf_token": csrf_of(page.text), "outcome": "x", **data})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "The form was too large to read" in response.text
    assert "nothing was recorded" in response.text
    assert '<form method="post"' in response.text and "Triage decision" in response.text
    assert backend.sent == []


def test_an_oversized_referral_or_sign_in_shows_its_form(
    as_user: Client, backend: FakeBackend
) -> None:
    client = as_user("cora")
    page = client.get("/referrals/new")
    response = client.post(
        "/referrals", data={"csrf_token": csrf_of(page.text), "summary": "x" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert "The form was too large to read" in response.text
    assert "Check and open the case" in response.text  # the referral form's button
    assert backend.started == []

    fresh = as_user("rob")
    fresh.post("/logout", data={"csrf_token": csrf_of(fresh.get("/cases").text)})
    login = fresh.post("/login", data={"username": "rob", "password": "p" * (2 * 1024 * 1024)})
    assert login.status_code == 413
    assert "The form was too large to read" in login.text
    assert 'action="/login"' in login.text
