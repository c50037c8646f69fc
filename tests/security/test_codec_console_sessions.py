"""The codec server decodes for a person signed in to the web console (issue 11, item 3): the
console's session cookie is accepted only while the session is live and only for a user whose
role sees personal data on every case; each answer is logged with who it was for."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient as ConsoleClient
from google.protobuf import json_format
from sqlmodel import select
from starlette.testclient import TestClient
from temporalio.api.common.v1 import Payload, Payloads

from console.app import SESSION_COOKIE, ConsoleSettings, create_app
from console.sessions import SessionPolicy, SessionStore, revoke_sessions
from console.users import ConsoleRole, User, render_users
from register import db
from register.models import ConsoleSession
from safeguarding.profiles import load_profiles
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import Agency
from security import codec_server, console_sign_in
from security.codec import EncryptionCodec
from security.console_sign_in import ConsoleSignIn, UsersFile
from security.keys import KeyRing
from starter import devstack
from tests.console.conftest import NOW, PASSWORD, Clock, csrf_of, sign_in
from tests.console.fakes import FakeBackend

TOKEN = "s3cret-token-for-tests"
UI = "http://127.0.0.1:8233"
SECRET = "c" * 40
CODEC = EncryptionCodec(KeyRing(keys={"k1": b"K" * 32}, current="k1"))
CHILD = "Olwen Fairweather"
#: username: (role, partnerships)
PEOPLE = {
    "cora": (ConsoleRole.COORDINATOR, ["*"]),
    "bea": (ConsoleRole.BUSINESS_MANAGER, ["*"]),
    "dana": (ConsoleRole.CHAIR, ["LSCP", "CSCP", "SSCP", "ENGLAND"]),
    "pat": (ConsoleRole.PANEL_MEMBER, ["*"]),
    "lee": (ConsoleRole.LEAD_REVIEWER, ["*"]),
    "rob": (ConsoleRole.READ_ONLY, ["*"]),
    "cath": (ConsoleRole.COORDINATOR, ["CSCP"]),
}


def write_users(path: Path, people: dict[str, tuple[ConsoleRole, list[str]]]) -> Path:
    digest = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    users = [
        User(
            username=name,
            display_name=name.title(),
            role=role,
            agency=Agency.PARTNERSHIP,
            partnerships=codes,
            password_hash=digest,
        )
        for name, (role, codes) in people.items()
    ]
    path.write_text(render_users(users))
    return path


@pytest.fixture(scope="module")
def profiles() -> dict[str, PartnershipSettings]:
    return load_profiles()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def users_path(tmp_path: Path) -> Path:
    return write_users(tmp_path / "users.toml", PEOPLE)


@pytest.fixture
def console(
    users_path: Path, profiles: dict[str, PartnershipSettings], clock: Clock
) -> Callable[[], ConsoleClient]:
    """A new browser on the real console (its sessions in the test's register)."""
    settings = ConsoleSettings(users_file=users_path, secret=SECRET, profiles=profiles)
    app = create_app(settings, FakeBackend(profiles, clock), now=clock)
    return lambda: ConsoleClient(app, follow_redirects=False)


@pytest.fixture
def codec(
    users_path: Path, profiles: dict[str, PartnershipSettings], clock: Clock
) -> Iterator[TestClient]:
    """The codec server, reading the console's session store as `python -m security.codec_server`
    does (same secret, same register, the console's users file and idle timeout)."""
    store = SessionStore(SECRET, SessionPolicy(), clock=clock)
    sign_in_check = ConsoleSignIn(store.lookup_user, UsersFile(users_path).get, profiles)
    app = codec_server.build_app(CODEC, TOKEN, [UI], console=sign_in_check)
    with TestClient(app) as client:
        yield client


def body() -> str:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=f'"{CHILD}"'.encode())
    return json_format.MessageToJson(Payloads(payloads=[CODEC.encrypt(plain), plain]))


def decode(
    codec: TestClient, cookie: str | None, *, origin: str | None = UI, path: str = "/decode"
) -> tuple[int, str]:
    headers = {"Content-Type": "application/json", "X-Namespace": "default"}
    if origin:
        headers["Origin"] = origin
    if cookie is not None:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    answer = codec.post(path, content=body(), headers=headers)
    return answer.status_code, answer.text


def cookie_of(browser: ConsoleClient) -> str:
    value = browser.cookies.get(SESSION_COOKIE)
    assert value
    return value


def signed_in(console: Callable[[], ConsoleClient], username: str) -> tuple[ConsoleClient, str]:
    browser = sign_in(console(), username)
    return browser, cookie_of(browser)


# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize("username", ["cora", "bea", "dana"])
def test_a_live_session_of_a_user_who_sees_personal_data_decodes(
    console: Callable[[], ConsoleClient],
    codec: TestClient,
    username: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, cookie = signed_in(console, username)
    caplog.set_level(logging.INFO, logger="security.codec_server.access")
    status, text = decode(codec, cookie)
    assert status == 200, text
    decoded = json_format.Parse(text, Payloads()).payloads
    assert [p.data for p in decoded] == [f'"{CHILD}"'.encode()] * 2
    # Attributed: who, in which role, how many payloads, which endpoint; never the child.
    role = PEOPLE[username][0].value
    lines = [r.getMessage() for r in caplog.records if r.name == "security.codec_server.access"]
    assert lines == [f"endpoint=decode payloads=2 user={username} role={role}"]
    assert CHILD not in caplog.text


def test_the_cookie_is_the_consoles(console: Callable[[], ConsoleClient]) -> None:
    assert console_sign_in.SESSION_COOKIE == SESSION_COOKIE


# --------------------------------------------------------------------------- refused


def refused(
    codec: TestClient, cookie: str, *, origin: str | None = UI, path: str = "/decode"
) -> str:
    """Why the codec server refuses this cookie (and that it shows nothing of the child)."""
    status, text = decode(codec, cookie, origin=origin, path=path)
    assert status == 403, text
    assert CHILD not in text
    error: str = json.loads(text)["error"]
    return error


def test_a_signed_out_session_is_refused(
    console: Callable[[], ConsoleClient], codec: TestClient
) -> None:
    browser, cookie = signed_in(console, "cora")
    page = browser.get("/cases")
    assert browser.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    assert refused(codec, cookie) == "no live console session"


def test_a_revoked_session_is_refused(
    console: Callable[[], ConsoleClient], codec: TestClient
) -> None:
    _, cookie = signed_in(console, "bea")
    assert decode(codec, cookie)[0] == 200
    assert revoke_sessions("bea") >= 1  # `python -m console.users revoke bea`
    assert refused(codec, cookie) == "no live console session"


def test_an_idle_session_is_refused_and_decoding_does_not_keep_it_alive(
    console: Callable[[], ConsoleClient], codec: TestClient, clock: Clock
) -> None:
    _, cookie = signed_in(console, "cora")
    with db.session() as s:
        before = [r.last_seen_at for r in s.exec(select(ConsoleSession)).all()]
    # The Web UI decodes on every refresh: that is not activity in the console.
    for minutes in (10, 20, 29):
        clock.now = NOW + timedelta(minutes=minutes)
        assert decode(codec, cookie)[0] == 200
    with db.session() as s:
        assert [r.last_seen_at for r in s.exec(select(ConsoleSession)).all()] == before
    clock.now = NOW + timedelta(minutes=31)
    assert refused(codec, cookie) == "no live console session"


def test_a_session_past_its_absolute_lifetime_is_refused(
    console: Callable[[], ConsoleClient], codec: TestClient, clock: Clock
) -> None:
    browser, cookie = signed_in(console, "dana")
    while clock.now - NOW < timedelta(hours=12) - timedelta(minutes=20):
        clock.now += timedelta(minutes=20)
        assert browser.get("/cases").status_code == 200  # active in the console all along
        assert decode(codec, cookie)[0] == 200
    clock.now = NOW + timedelta(hours=12)
    assert refused(codec, cookie) == "no live console session"


@pytest.mark.parametrize(
    "cookie", ["x" * 43, "not a token", "eyJ1c2VyIjogImNvcmEifQ==", TOKEN, "A" * 500]
)
def test_an_unknown_token_is_refused(codec: TestClient, cookie: str) -> None:
    assert refused(codec, cookie) == "no live console session"


def test_a_visitor_who_has_not_signed_in_is_refused(
    console: Callable[[], ConsoleClient], codec: TestClient
) -> None:
    browser = console()
    browser.get("/login")  # an anonymous session (the sign-in form's CSRF token)
    assert refused(codec, cookie_of(browser)) == "no live console session"


@pytest.mark.parametrize(
    ("username", "why"),
    [
        ("rob", "the read-only role may not see personal data on every case"),
        ("pat", "the panel member role may not see personal data on every case"),
        ("lee", "the lead reviewer role may not see personal data on every case"),
        # A coordinator of one partnership: the Web UI shows every partnership's cases.
        ("cath", "the user may not see every partnership's cases"),
    ],
)
def test_users_who_may_not_see_every_childs_data_are_refused(
    console: Callable[[], ConsoleClient], codec: TestClient, username: str, why: str
) -> None:
    browser, cookie = signed_in(console, username)
    assert browser.get("/cases").status_code == 200  # signed in to the console all right
    assert refused(codec, cookie) == why


def test_a_user_removed_from_the_users_file_is_refused_at_once(
    console: Callable[[], ConsoleClient], codec: TestClient, users_path: Path
) -> None:
    _, cookie = signed_in(console, "cora")
    assert decode(codec, cookie)[0] == 200
    write_users(users_path, {k: v for k, v in PEOPLE.items() if k != "cora"})
    assert refused(codec, cookie) == "no live console session"
    _, other = signed_in(console, "bea")
    assert decode(codec, other)[0] == 200
    users_path.write_text("not [ toml")  # unreadable: nobody, rather than the last roles known
    assert refused(codec, other) == "no live console session"


# --------------------------------------------------------------------------- the other rules


def test_origin_rules_still_apply_to_a_console_session(
    console: Callable[[], ConsoleClient], codec: TestClient
) -> None:
    _, cookie = signed_in(console, "cora")
    for origin in ("https://evil.example", "http://127.0.0.1:9999", "null"):
        answer = codec.post(
            "/decode",
            content=body(),
            headers={"Origin": origin, "Cookie": f"{SESSION_COOKIE}={cookie}"},
        )
        assert answer.status_code == 403
        assert answer.json() == {"error": "origin not allowed"}
        assert "access-control-allow-origin" not in answer.headers
    # Browsers send Origin with every POST: a cookie without one is not the Web UI's request.
    assert refused(codec, cookie, origin=None) == (
        "a console session is accepted only from the Web UI's origin"
    )
    # The Web UI's preflight for a request with credentials.
    preflight = codec.options(
        "/decode", headers={"Origin": UI, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == UI
    assert preflight.headers["access-control-allow-credentials"] == "true"
    status, _ = decode(codec, cookie)
    assert status == 200


def test_a_console_session_decodes_but_never_encodes(
    console: Callable[[], ConsoleClient], codec: TestClient
) -> None:
    _, cookie = signed_in(console, "cora")
    assert refused(codec, cookie, path="/encode") == "a console session may decode, not encode"


def test_the_shared_token_still_works_and_a_wrong_one_is_refused_whatever_the_cookie(
    console: Callable[[], ConsoleClient], codec: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="security.codec_server.access")
    assert decode(codec, None, path=f"/{TOKEN}/decode")[0] == 200
    bearer = {"Authorization": f"Bearer {TOKEN}", "Origin": UI}
    assert codec.post("/encode", content=body(), headers=bearer).status_code == 200
    assert "endpoint=decode payloads=2 by=shared_token" in caplog.text
    assert "endpoint=encode payloads=2 by=shared_token" in caplog.text
    _, cookie = signed_in(console, "cora")
    assert refused(codec, cookie, path="/wrong-token/decode") == "missing or wrong token"
    # The session token is a cookie, not a Bearer token: the Web UI cannot read an HttpOnly
    # cookie to send one, and Bearer stays the shared token's (and, later, the provider's).
    answer = codec.post("/decode", content=body(), headers={"Authorization": f"Bearer {cookie}"})
    assert answer.status_code == 403 and answer.json() == {"error": "missing or wrong token"}
    status, text = decode(codec, "x" * 43, path=f"/{TOKEN}/decode")
    assert status == 200, text  # the token decides; a stale cookie beside it does not matter
    assert decode(codec, None)[0] == 403


def test_this_users_own_browser_still_decodes_with_a_stale_cookie(
    users_path: Path,
    profiles: dict[str, PartnershipSettings],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dev stack: after signing out of the console, the Web UI in the stack user's own
    browser still decodes (trusted as the local user), and is logged as such."""
    monkeypatch.setattr(codec_server, "same_local_user", lambda client, server: True)
    store = SessionStore(SECRET, SessionPolicy(), clock=clock)
    check = ConsoleSignIn(store.lookup_user, UsersFile(users_path).get, profiles)
    app = codec_server.build_app(CODEC, TOKEN, [UI], trust_local_user=True, console=check)
    with TestClient(app) as client:
        assert decode(client, "x" * 43)[0] == 200


def test_a_session_store_that_cannot_be_read_refuses(
    users_path: Path, profiles: dict[str, PartnershipSettings]
) -> None:
    def broken(token: str) -> str | None:
        raise OSError("the register is down")

    check = ConsoleSignIn(broken, UsersFile(users_path).get, profiles)
    app = codec_server.build_app(CODEC, TOKEN, [UI], console=check)
    with TestClient(app) as client:
        assert refused(client, "x" * 43) == "console sessions cannot be checked now"


# --------------------------------------------------------------------------- configuration


def test_configured_from_the_consoles_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, users_path: Path
) -> None:
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SRO_CONSOLE_SECRET", raising=False)
    monkeypatch.delenv("SRO_CONSOLE_USERS", raising=False)
    monkeypatch.delenv("SRO_CONSOLE_DEMO_USERS", raising=False)
    # Without a users file only the dev stack (which asks) on loopback gets the demo users.
    with pytest.raises(ValueError, match="SRO_CONSOLE_USERS"):
        console_sign_in.from_env("127.0.0.1", ["LSCP"])
    monkeypatch.setenv("SRO_CONSOLE_DEMO_USERS", "1")
    with pytest.raises(ValueError, match="SRO_CONSOLE_USERS"):
        console_sign_in.from_env("0.0.0.0", ["LSCP"])
    assert console_sign_in.users_path_from_env("127.0.0.1").name == "users.example.toml"
    monkeypatch.setenv("SRO_CONSOLE_USERS", str(users_path))
    check = console_sign_in.from_env("0.0.0.0", ["LSCP"])
    # No console has run: nobody is signed in, and the console's secret is not created here
    # (the console creates it; two writers could leave them with different secrets).
    assert check.check("x" * 43) == "no live console session"
    assert not (tmp_path / "data" / "console-secret").exists()
    monkeypatch.setenv("SRO_CONSOLE_SECRET", "short")
    with pytest.raises(ValueError, match="SRO_CONSOLE_SECRET"):
        console_sign_in.from_env("127.0.0.1", ["LSCP"])
    monkeypatch.setenv("SRO_CONSOLE_SECRET", SECRET)
    monkeypatch.setenv("SRO_CONSOLE_IDLE_MINUTES", "soon")
    with pytest.raises(ValueError, match="SRO_CONSOLE_IDLE_MINUTES"):
        console_sign_in.from_env("127.0.0.1", ["LSCP"])


def test_the_codec_server_does_not_start_half_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SRO_CODEC_CONSOLE_SESSIONS", "1")
    monkeypatch.delenv("SRO_CONSOLE_USERS", raising=False)
    monkeypatch.delenv("SRO_CONSOLE_DEMO_USERS", raising=False)
    assert codec_server.main(["--host", "0.0.0.0", "--port", "1"]) == 2
    assert "codec server not started" in capsys.readouterr().err


def test_the_dev_stack_turns_it_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_CODEC_CONSOLE_SESSIONS", raising=False)
    settings = devstack.Settings(
        data_dir=tmp_path, port=7233, ui_port=8233, task_queue="q", startup_timeout=5
    )
    env = devstack.codec_environment(settings, 8301)
    assert env["SRO_CODEC_CONSOLE_SESSIONS"] == "1"
    assert env["SRO_CONSOLE_DEMO_USERS"] == "1"  # as the console's own (loopback only)
    assert env["SRO_DATA_DIR"] == str(tmp_path)  # where the console keeps its secret
