"""Server-side sessions (console/sessions.py): sign-out and an administrator's revoke end them,
they have an absolute lifetime and an idle timeout, and the cookie holds only a random id."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from console import users as users_cli
from console.app import SESSION_COOKIE
from register import db
from register.models import ConsoleSession
from tests.console.conftest import Clock, csrf_of, sign_in


def cookie_of(client: TestClient) -> str:
    value = client.cookies.get(SESSION_COOKIE)
    assert value, "no session cookie"
    return value


def with_cookie(client: TestClient, value: str) -> TestClient:
    """Another browser that presents a captured cookie."""
    other = TestClient(client.app, follow_redirects=False)
    other.cookies.set(SESSION_COOKIE, value)
    return other


def test_signing_out_ends_the_session_and_a_captured_cookie_is_worthless(
    app_client: Callable[..., TestClient],
) -> None:
    client = sign_in(app_client(), "cora")
    captured = cookie_of(client)
    assert with_cookie(client, captured).get("/cases").status_code == 200
    page = client.get("/cases")
    assert client.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    replayed = with_cookie(client, captured)
    response = replayed.get("/cases")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert "Your session has ended" in replayed.get("/login").text


def test_the_cookie_carries_only_an_unguessable_id(app_client: Callable[..., TestClient]) -> None:
    client = app_client()
    client.get("/login")
    before = cookie_of(client)
    sign_in(client, "cora")
    value = cookie_of(client)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)  # 32 random bytes, nothing else
    assert "cora" not in value
    assert value != before  # a new id on sign-in: no session fixation
    assert with_cookie(client, before).get("/cases").status_code == 303
    # The database holds a keyed hash of the id, never the id itself.
    with db.session() as s:
        rows = s.exec(select(ConsoleSession).where(col(ConsoleSession.username) == "cora")).all()
    assert rows and all(r.token_hash != value and len(r.token_hash) == 64 for r in rows)
    assert set(cookie_headers(client, "/login")) <= {"httponly", "samesite=lax", "path=/"}


def cookie_headers(client: TestClient, path: str) -> list[str]:
    """The flags of a fresh anonymous session's cookie."""
    fresh = TestClient(client.app, follow_redirects=False)
    header = fresh.get(path).headers["set-cookie"]
    return [p.strip().lower() for p in header.split(";")[1:] if not p.strip().startswith("Max")]


def test_an_administrator_revokes_every_session_of_a_user(
    app_client: Callable[..., TestClient], capsys: pytest.CaptureFixture[str]
) -> None:
    users_cli.main(["revoke", "pat"])  # other tests' sessions of pat (one database for all)
    capsys.readouterr()
    laptop = sign_in(app_client(), "pat")
    phone = sign_in(app_client(), "pat")
    other = sign_in(app_client(), "hal")
    assert users_cli.main(["revoke", "pat"]) == 0
    assert "Ended 2 session(s) of pat" in capsys.readouterr().out
    for client in (laptop, phone):
        assert client.get("/cases").status_code == 303
    assert other.get("/cases").status_code == 200
    sign_in(laptop, "pat")  # signing in again works
    assert laptop.get("/cases").status_code == 200


def test_an_idle_session_ends(app_client: Callable[..., TestClient], clock: Clock) -> None:
    client = sign_in(app_client(), "cora")
    for _ in range(4):  # active every 25 minutes: still signed in after 100 minutes
        clock.now += timedelta(minutes=25)
        assert client.get("/cases").status_code == 200
    clock.now += timedelta(minutes=31)
    response = client.get("/cases")
    assert response.status_code == 303
    assert "Your session has ended" in client.get("/login").text


def test_a_session_has_an_absolute_lifetime(
    app_client: Callable[..., TestClient], clock: Clock
) -> None:
    client = sign_in(app_client(), "cora")
    started = clock.now
    while clock.now - started < timedelta(hours=12) - timedelta(minutes=20):
        clock.now += timedelta(minutes=20)
        assert client.get("/cases").status_code == 200, clock.now - started
    clock.now = started + timedelta(hours=12)
    assert client.get("/cases").status_code == 303


def test_a_tampered_or_unknown_cookie_is_a_signed_out_visitor(
    app_client: Callable[..., TestClient],
) -> None:
    client = app_client()
    for value in ("x" * 43, "not a token", "", "eyJ1c2VyIjogImNvcmEifQ=="):
        assert with_cookie(client, value).get("/cases").status_code == 303


def test_the_session_store_on_sqlite_and_postgresql(register_url: str) -> None:
    """The same rules on both databases the register runs on: idle, absolute, revoke, purge."""
    from datetime import UTC, datetime

    from console.sessions import SessionPolicy, SessionStore, revoke_sessions

    now = [datetime(2026, 11, 20, 10, 0, tzinfo=UTC)]
    store = SessionStore(
        "k" * 40,
        SessionPolicy(absolute=timedelta(hours=12), idle=timedelta(minutes=30)),
        url=register_url,
        clock=lambda: now[0],
    )
    ann = store.open("ann", {"csrf": "t"})
    bob = store.open("bob", {})
    visitor = store.open(None, {"csrf": "v"})
    loaded = store.load(ann)
    assert loaded is not None and loaded.username == "ann" and loaded.data == {"csrf": "t"}
    store.save(loaded, {"csrf": "t", "flash": [{"text": "hello", "lines": []}]})
    assert store.load(ann).data["flash"][0]["text"] == "hello"  # type: ignore[union-attr]
    assert len(store.live_sessions("ann")) == 1
    assert revoke_sessions("ann", register_url, now[0]) == 1
    assert store.load(ann) is None and store.live_sessions("ann") == []
    now[0] += timedelta(minutes=31)
    assert store.load(bob) is None  # idle too long
    assert store.load(visitor) is None
    assert store.purge() >= 1  # the anonymous one goes at once; signed-in rows stay a week
    now[0] += timedelta(days=8)
    assert store.purge() == 2
    assert store.load("x" * 43) is None and store.load("short") is None


def test_lookup_user_is_read_only_and_follows_the_same_rules(register_url: str) -> None:
    """What the codec server asks (security/console_sign_in.py): who is signed in with a token,
    without noting a visit (Web UI decodes are not console activity) or ending anything."""
    from datetime import UTC, datetime

    from console.sessions import SessionPolicy, SessionStore, revoke_sessions

    now = [datetime(2026, 11, 20, 10, 0, tzinfo=UTC)]
    store = SessionStore(
        "k" * 40,
        SessionPolicy(absolute=timedelta(hours=1), idle=timedelta(minutes=30)),
        url=register_url,
        clock=lambda: now[0],
    )
    ann, bob, visitor = store.open("ann", {}), store.open("bob", {}), store.open(None, {})

    def row(token: str) -> ConsoleSession:
        with db.session(register_url) as s:
            found = s.get(ConsoleSession, store._hash(token))
            assert found is not None
            return found

    assert store.lookup_user(ann) == "ann" and store.lookup_user(visitor) is None
    assert store.lookup_user("x" * 43) is None and store.lookup_user("short") is None
    other = SessionStore("o" * 40, url=register_url)  # another secret: no one's session
    assert other.lookup_user(ann) is None
    store.end(bob, "signed_out")
    assert store.lookup_user(bob) is None
    now[0] += timedelta(minutes=29)
    assert store.lookup_user(ann) == "ann"
    assert row(ann).last_seen_at == datetime(2026, 11, 20, 10, 0)  # no visit noted
    now[0] += timedelta(minutes=2)  # idle for 31 minutes
    assert store.lookup_user(ann) is None
    assert row(ann).revoked_at is None  # ended by the console at its next visit, not here
    assert store.load(ann) is None and row(ann).revoked_why == "idle"
    carl = store.open("carl", {})
    for minutes in (25, 25, 9):  # active in the console all along...
        now[0] += timedelta(minutes=minutes)
        loaded = store.load(carl)
        assert loaded is not None
        store.save(loaded, {})
    assert store.lookup_user(carl) == "carl"
    now[0] += timedelta(minutes=1)  # ...but the absolute lifetime (1 h) ends it
    assert store.lookup_user(carl) is None
    dora = store.open("dora", {})
    assert store.lookup_user(dora) == "dora"
    # Signed in with the identity provider: not the users file's "erin" (console/routes/sso.py).
    assert store.lookup_user(store.open("erin", {"sso": {"username": "erin"}})) is None
    assert revoke_sessions("dora", register_url, now[0]) == 1  # an administrator's revoke
    assert store.lookup_user(dora) is None
