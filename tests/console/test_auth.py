"""Sign-in, sessions, CSRF and rate limiting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from console.auth import LoginLimiter, csrf_valid, load_secret
from console.users import load_users, verify_password
from tests.console.conftest import PASSWORD, csrf_of, sign_in


def test_pages_need_a_signed_in_user(app_client: Callable[..., TestClient]) -> None:
    client = app_client()
    for path in ("/", "/cases", "/my-decisions", "/referrals/new", "/reports"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    assert client.get("/healthz").json() == {"ok": True}


def test_sign_in_sets_a_safe_session_cookie_and_signs_out(
    app_client: Callable[..., TestClient],
) -> None:
    client = app_client()
    page = client.get("/login")
    assert page.status_code == 200
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    response = client.post(
        "/login",
        data={
            "username": "cora",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/my-decisions",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/my-decisions"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/cases")
    assert home.status_code == 200
    assert "Cora Coordinator" in home.text

    out = client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert out.status_code == 303
    assert client.get("/cases").status_code == 303


def test_an_open_redirect_is_not_followed(app_client: Callable[..., TestClient]) -> None:
    client = app_client()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "cora",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/"


def test_a_wrong_password_is_refused_without_saying_which_part(
    app_client: Callable[..., TestClient],
) -> None:
    client = app_client()
    for username in ("cora", "nobody"):
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"username": username, "password": "wrong", "csrf_token": csrf_of(page.text)},
        )
        assert response.status_code == 401
        assert "The user name or password is not right." in response.text


def test_sign_in_is_rate_limited(app_client: Callable[..., TestClient]) -> None:
    client = app_client(LoginLimiter(per_user=3, window=600))
    for _ in range(3):
        page = client.get("/login")
        client.post(
            "/login",
            data={"username": "pat", "password": "wrong", "csrf_token": csrf_of(page.text)},
        )
    page = client.get("/login")
    blocked = client.post(
        "/login", data={"username": "pat", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.text
    # Another user is not affected.
    sign_in(client, "hal")


def test_limiter_forgets_old_failures() -> None:
    now = [0.0]
    limiter = LoginLimiter(per_user=2, per_address=100, window=60, clock=lambda: now[0])
    limiter.failed("pat", "1.2.3.4")
    limiter.failed("pat", "1.2.3.4")
    assert limiter.retry_after("pat", "1.2.3.4") > 0
    assert limiter.retry_after("hal", "5.6.7.8") == 0
    now[0] = 61
    assert limiter.retry_after("pat", "1.2.3.4") == 0


def test_every_post_needs_the_session_csrf_token(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("cora")
    for path in ("/referrals", "/logout", "/cases/LSCP-2026-1A2B3C/decide/triage"):
        missing = client.post(path, data={})
        assert missing.status_code == 403, path
        assert "security token" in missing.text
        wrong = client.post(path, data={"csrf_token": "x" * 43})
        assert wrong.status_code == 403, path
    # The login form is protected too (no token, no sign-in).
    fresh = TestClient(client.app, follow_redirects=False)
    assert fresh.post("/login", data={"username": "cora", "password": PASSWORD}).status_code == 403


def test_csrf_compare() -> None:
    assert csrf_valid({"csrf": "abc" * 10}, "abc" * 10)
    assert not csrf_valid({"csrf": "abc" * 10}, "abd" * 10)
    assert not csrf_valid({}, "")
    assert not csrf_valid({"csrf": "abc" * 10}, None)


def test_security_headers(as_user: Callable[[str], TestClient]) -> None:
    response = as_user("cora").get("/cases")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_secret_is_generated_once_and_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SRO_CONSOLE_SECRET", raising=False)
    first = load_secret(tmp_path)
    assert len(first) >= 32
    assert load_secret(tmp_path) == first
    assert (tmp_path / "console-secret").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("SRO_CONSOLE_SECRET", "y" * 40)
    assert load_secret(tmp_path) == "y" * 40


def test_a_removed_user_loses_their_session(users_path: Path, tmp_path: Path) -> None:
    from console.app import ConsoleSettings, create_app
    from tests.console.fakes import FakeBackend

    own = tmp_path / "users.toml"
    own.write_text(users_path.read_text())
    app = create_app(
        ConsoleSettings(users_file=own, secret="z" * 40),
        FakeBackend({}, lambda: None),  # type: ignore[arg-type,return-value]
    )
    client = sign_in(TestClient(app, follow_redirects=False), "eve")
    assert client.get("/cases").status_code == 200
    text = own.read_text()
    start = text.index('username = "eve"')
    block_start = text.rindex("[[users]]", 0, start)
    block_end = text.find("[[users]]", start)
    own.write_text(text[:block_start] + (text[block_end:] if block_end != -1 else ""))
    import os

    os.utime(own, (1, 1))  # a new modification time, whatever the clock's resolution
    assert "eve" not in load_users(own)
    assert client.get("/cases").status_code == 303


def test_verify_password() -> None:
    assert not verify_password(None, PASSWORD)
