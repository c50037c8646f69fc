"""Single sign-on against a real OpenID Connect provider running locally (tests/oidc.py): the
authorisation code flow with PKCE, claims mapped to a role, a person with no role refused, a
sign-in that does not match refused, the provider unreachable, sign-out (and the provider's)."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient

from console.app import ConsoleConfigError, ConsoleSettings, create_app, settings_from_env
from console.sessions import SessionStore
from console.sso import SsoSettings
from console.sso_claims import ClaimsMapping, SsoError, load_mapping, sso_username
from console.users import ConsoleRole
from safeguarding.vocabulary import Agency
from tests.console.conftest import Clock, csrf_of
from tests.console.fakes import FakeBackend
from tests.console.test_pages import TRIAGE_ATTENDEES, check_page, post_form, start
from tests.oidc import CLIENT_ID, CLIENT_SECRET, Provider, run_provider
from tests.ports import free_port

MAPPING = """\
username_claim = "preferred_username"
name_claim = "name"
groups_claim = "groups"

[[groups]]
group = "sro-lscp-coordinators"
role = "coordinator"
agency = "partnership"
partnerships = ["LSCP"]

[[groups]]
group = "sro-cscp-coordinators"
role = "coordinator"
agency = "partnership"
partnerships = ["CSCP"]

[[groups]]
group = "sro-police-panel"
role = "panel_member"
agency = "police"
partnerships = ["LSCP"]
"""

PEOPLE = {
    "ann": {
        "name": "Ann Jones",
        "preferred_username": "Ann.Jones@LA.example",
        "groups": ["staff", "sro-lscp-coordinators", "sro-cscp-coordinators", "sro-police-panel"],
    },
    "pete": {"name": "Pete Police", "preferred_username": "pete", "groups": ["sro-police-panel"]},
    "norole": {"name": "No Role", "preferred_username": "norole", "groups": ["staff"]},
}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with run_provider(PEOPLE) as running:
        yield running


@pytest.fixture(scope="module")
def mapping_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sso") / "sso.toml"
    path.write_text(MAPPING)
    return path


def sso_settings(issuer: str, mapping_path: Path) -> SsoSettings:
    return SsoSettings(
        issuer=issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        mapping=load_mapping(mapping_path),
    )


@pytest.fixture
def sso_client(
    settings: ConsoleSettings,
    backend: FakeBackend,
    clock: Clock,
    provider: Provider,
    mapping_path: Path,
    tmp_path: Path,
) -> Callable[..., TestClient]:
    def make(issuer: str | None = None) -> TestClient:
        given = replace(
            settings,
            sso=sso_settings(issuer or provider.issuer, mapping_path),
            database_url=f"sqlite:///{tmp_path / 'sessions.db'}",
        )
        return TestClient(create_app(given, backend, now=clock), follow_redirects=False)

    return make


def sign_in_with_provider(
    client: TestClient, provider: Provider, sub: str, next: str = "/cases"
) -> httpx2.Response:
    """What a browser does: the console's link, the provider's page, back to the console."""
    start = client.get(f"/login/sso?next={next}")
    assert start.status_code == 302, start.text
    to_provider = start.headers["location"]
    assert to_provider.startswith(f"{provider.issuer}/oauth2/authorize?")
    asked = parse_qs(urlsplit(to_provider).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["code_challenge"][0]
    assert asked["nonce"][0] and asked["state"][0]
    assert asked["redirect_uri"] == ["http://testserver/auth/callback"]
    back = provider.authorize(to_provider, sub)
    assert back.startswith("http://testserver/auth/callback?")
    return client.get(back.removeprefix("http://testserver"))


def test_sign_in_maps_groups_to_a_role_agency_and_partnerships(
    sso_client: Callable[..., TestClient], provider: Provider
) -> None:
    client = sso_client()
    page = client.get("/login")
    assert 'href="/login/sso?next=/"' in page.text and 'name="password"' in page.text
    check_page(page.text)
    done = sign_in_with_provider(client, provider, "ann", next="/my-decisions")
    assert done.status_code == 303 and done.headers["location"] == "/my-decisions"
    assert "set-cookie" in done.headers  # a new session on sign-in (no fixation)
    cases = client.get("/cases")
    assert cases.status_code == 200
    # The first matching group gives the role; the partnerships of every group with that role.
    assert "Ann Jones" in cases.text and "(coordinator," in cases.text
    assert client.get("/referrals/new").status_code == 200  # a coordinator may refer
    user = client.app.state.console  # type: ignore[attr-defined]
    assert user.provider is not None


def test_a_panel_member_is_a_panel_member_of_their_agency(
    sso_client: Callable[..., TestClient], provider: Provider
) -> None:
    client = sso_client()
    assert sign_in_with_provider(client, provider, "pete").status_code == 303
    cases = client.get("/cases")
    assert "Pete Police" in cases.text and "panel member" in cases.text
    assert client.get("/referrals/new").status_code == 403


def test_a_decision_is_recorded_under_the_name_the_provider_gives(
    sso_client: Callable[..., TestClient], provider: Provider, backend: FakeBackend
) -> None:
    case_ref = start(backend)
    client = sso_client()
    sign_in_with_provider(client, provider, "pete")
    response = post_form(
        client,
        "/my-decisions",
        f"/cases/{case_ref}/decide/triage",
        {
            "outcome": "serious_incident",
            "back": "my",
            "by-name": "Someone Else",
            "attendees": TRIAGE_ATTENDEES,  # the triage quorum the partnership asks for
        },
    )
    assert response.status_code == 303, response.text
    assert backend.sent[-1]["by"] == {
        "name": "Pete Police",
        "role": "panel_member",
        "agency": "police",
    }
    # Partnership separation holds: Pete's groups give LSCP only.
    other = start(backend, partnership="CSCP")
    assert client.get(f"/cases/{other}").status_code == 404


def test_claims_that_give_no_role_are_refused_with_a_page(
    sso_client: Callable[..., TestClient], provider: Provider
) -> None:
    client = sso_client()
    refused = sign_in_with_provider(client, provider, "norole")
    assert refused.status_code == 403
    assert "No role in the console" in refused.text and "Traceback" not in refused.text
    check_page(refused.text)
    assert client.get("/cases").status_code == 303  # not signed in


def test_a_callback_that_matches_no_sign_in_here_is_refused(
    sso_client: Callable[..., TestClient], provider: Provider
) -> None:
    client = sso_client()
    start = client.get("/login/sso")
    back = provider.authorize(start.headers["location"], "ann")
    other = sso_client()  # another browser replays the answer: its session started nothing
    refused = other.get(back.removeprefix("http://testserver"))
    assert refused.status_code == 400 and "Sign-in could not be completed" in refused.text
    tampered = back.replace("state=", "state=x")
    assert client.get(tampered.removeprefix("http://testserver")).status_code == 400
    assert client.get("/auth/callback?error=access_denied").status_code == 400
    assert other.get("/cases").status_code == 303


def test_an_unreachable_provider_is_a_page_not_a_stack_trace(
    sso_client: Callable[..., TestClient],
) -> None:
    port = free_port()  # a loopback port nobody listens on
    client = sso_client(f"http://127.0.0.1:{port}")
    refused = client.get("/login/sso")
    assert refused.status_code == 503
    assert "The sign-in service did not answer" in refused.text


def test_the_provider_going_away_mid_sign_in_is_a_page(
    sso_client: Callable[..., TestClient],
) -> None:
    with run_provider(PEOPLE) as short_lived:
        client = sso_client(short_lived.issuer)
        start = client.get("/login/sso")
        back = short_lived.authorize(start.headers["location"], "ann")
    # Gone when the console exchanges the code for the tokens.
    refused = client.get(back.removeprefix("http://testserver"))
    assert refused.status_code == 503 and "did not answer" in refused.text
    assert client.get("/cases").status_code == 303


def test_sign_out_ends_the_session_and_offers_the_providers(
    sso_client: Callable[..., TestClient], provider: Provider
) -> None:
    client = sso_client()
    sign_in_with_provider(client, provider, "ann")
    cases = client.get("/cases")
    cookie = client.cookies.get("sro_console")
    out = client.post("/logout", data={"csrf_token": csrf_of(cases.text)})
    assert out.status_code == 200 and "You are signed out of the console" in out.text
    check_page(out.text)
    href = urlsplit(html.unescape(out.text.split('id="provider-sign-out" href="')[1]).split('"')[0])
    assert f"{href.scheme}://{href.netloc}{href.path}" == f"{provider.issuer}/oauth2/end_session"
    asked = parse_qs(href.query)
    assert asked["client_id"] == [CLIENT_ID]
    assert asked["post_logout_redirect_uri"] == ["http://testserver/login"]
    assert client.get("/cases").status_code == 303
    replay = sso_client()
    replay.cookies.set("sro_console", cookie or "")
    assert replay.get("/cases").status_code == 303  # the copied cookie is worthless


def test_an_administrator_revokes_a_person_signed_in_with_the_provider(
    sso_client: Callable[..., TestClient], provider: Provider
) -> None:
    client = sso_client()
    sign_in_with_provider(client, provider, "ann")
    assert client.get("/cases").status_code == 200
    store = SessionStore("s" * 40, url=client.app.state.console.settings.database_url)  # type: ignore[attr-defined]
    assert store.revoke_user("ann.jones@la.example") == 1
    assert client.get("/cases").status_code == 303


def test_the_mapping_file_is_checked_with_the_field_named(tmp_path: Path) -> None:
    path = tmp_path / "sso.toml"
    path.write_text(MAPPING.replace('role = "panel_member"', 'role = "constable"'))
    with pytest.raises(SsoError, match=r"groups\.2\.role"):
        load_mapping(path)
    path.write_text(MAPPING.replace('partnerships = ["CSCP"]', 'partnerships = ["cscp"]'))
    with pytest.raises(SsoError, match=r"groups\.1\.partnerships"):
        load_mapping(path)
    path.write_text("groups = []\n")
    with pytest.raises(SsoError, match=r"groups"):
        load_mapping(path)


def test_user_names_from_claims_fit_the_session_table() -> None:
    assert sso_username("Ann.Jones@LA.example") == "ann.jones@la.example"
    long = sso_username("a" * 60 + "@example.org")
    assert long is not None and len(long) == 40
    assert sso_username("") is None and sso_username(None) is None
    mapping = ClaimsMapping.model_validate(
        {"groups": [{"group": "g", "role": "chair", "agency": "police", "partnerships": ["*"]}]}
    )
    chair = mapping.user_for({"sub": "abc-123", "groups": "g"})
    assert chair is not None and chair.role is ConsoleRole.CHAIR
    assert chair.agency is Agency.POLICE and chair.username == "abc-123" and chair.sso


def test_settings_name_what_single_sign_on_lacks(
    monkeypatch: pytest.MonkeyPatch, mapping_path: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SRO_OIDC_ISSUER", "https://login.example/tenant/v2.0")
    with pytest.raises(ConsoleConfigError, match="SRO_OIDC_CLIENT_ID"):
        settings_from_env("0.0.0.0")
    monkeypatch.setenv("SRO_OIDC_CLIENT_ID", CLIENT_ID)
    with pytest.raises(ConsoleConfigError, match="SRO_OIDC_MAPPING"):
        settings_from_env("0.0.0.0")
    monkeypatch.setenv("SRO_OIDC_MAPPING", str(mapping_path))
    monkeypatch.setenv("SRO_CONSOLE_URL", "console.example")
    with pytest.raises(ConsoleConfigError, match="SRO_CONSOLE_URL"):
        settings_from_env("0.0.0.0")
    monkeypatch.setenv("SRO_CONSOLE_URL", "https://console.example")
    configured = settings_from_env("0.0.0.0")  # single sign-on only: no users file needed
    assert configured.users_file is None and configured.sso is not None
    assert configured.sso.mapping.groups[0].group == "sro-lscp-coordinators"
    assert configured.sso.callback_url("http://10.0.0.5:8000/") == (
        "https://console.example/auth/callback"
    )


def test_the_example_mapping_file_loads() -> None:
    example = Path(__file__).resolve().parents[2] / "console" / "sso.example.toml"
    mapping = load_mapping(example)
    manager = mapping.user_for({"preferred_username": "bea", "groups": ["SRO Business Managers"]})
    assert manager is not None and manager.role is ConsoleRole.BUSINESS_MANAGER
