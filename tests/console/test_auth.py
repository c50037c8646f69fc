"""Sign-in, sessions, CSRF and rate limiting."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


# --------------------------------------------------------------------------- throttling


def test_wrong_passwords_from_elsewhere_never_lock_the_real_user_out(
    app_client: Callable[..., TestClient],
) -> None:
    now = [0.0]
    limiter = LoginLimiter(clock=lambda: now[0])
    attacker = TestClient(
        app_client(limiter).app, follow_redirects=False, client=("203.0.113.9", 1)
    )
    for _ in range(12):  # patient: waits out every delay
        now[0] += limiter.retry_after("pat", "203.0.113.9")
        page = attacker.get("/login")
        wrong = attacker.post(
            "/login",
            data={"username": "pat", "password": "guess", "csrf_token": csrf_of(page.text)},
        )
        assert wrong.status_code == 401
    # The attacker now waits ever longer; the real user, elsewhere, waits a minute at most.
    assert limiter.retry_after("pat", "203.0.113.9") > 60
    assert 0 < limiter.retry_after("pat", "198.51.100.7") <= 60
    now[0] += 60
    real = TestClient(attacker.app, follow_redirects=False, client=("198.51.100.7", 2))
    sign_in(real, "pat")


def test_the_delay_grows_with_each_failure_and_is_capped() -> None:
    now = [0.0]
    limiter = LoginLimiter(clock=lambda: now[0])
    waits = []
    for _ in range(12):
        limiter.failed("pat", "1.2.3.4")
        waits.append(limiter.retry_after("pat", "1.2.3.4"))
    assert waits[:2] == [0, 0]  # a typo or two costs nothing
    assert waits[2:6] == [5, 10, 20, 40]  # then it doubles
    assert max(waits) == 900  # up to a cap: a delay, never a lock
    limiter.succeeded("pat", "1.2.3.4")
    # After a success the person is free again; the address keeps its own (higher) count.
    assert limiter.retry_after("pat", "1.2.3.4") == 0


def test_forwarded_addresses_are_believed_only_from_configured_proxies(
    settings: Any, backend: Any, clock: Any
) -> None:
    from console.app import create_app

    now = [0.0]
    limiter = LoginLimiter(clock=lambda: now[0])
    behind = dataclasses.replace(settings, trusted_proxies=("10.0.0.0/8",))
    app = create_app(behind, backend, now=clock, limiter=limiter)

    def fail(peer: str, forwarded: str) -> None:
        client = TestClient(app, follow_redirects=False, client=(peer, 1))
        page = client.get("/login")
        client.post(
            "/login",
            data={"username": "pat", "password": "guess", "csrf_token": csrf_of(page.text)},
            headers={"X-Forwarded-For": forwarded},
        )

    # Through our proxy: the address the proxy saw is the one throttled (not the proxy's, not
    # what the client itself put in front).
    for _ in range(3):
        fail("10.0.0.2", "6.6.6.6, 198.51.100.7")
    assert limiter.retry_after("pat", "198.51.100.7") > 0
    assert limiter.retry_after("pat", "10.0.0.2") == 0
    assert limiter.retry_after("pat", "6.6.6.6") == 0
    # Straight from the internet: a forged header changes nothing.
    for n in range(3):
        fail("203.0.113.9", f"192.0.2.{n}")
    assert limiter.retry_after("pat", "203.0.113.9") > 0
    assert all(limiter.retry_after("pat", f"192.0.2.{n}") == 0 for n in range(3))


def test_uvicorn_does_not_rewrite_the_client_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn's own proxy-header handling would believe X-Forwarded-For from 127.0.0.1."""
    import console.__main__ as entry

    seen: dict[str, Any] = {}
    monkeypatch.setattr(entry, "build_app", lambda host: object())
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: seen.update(kw))
    assert entry.main(["--host", "127.0.0.1", "--port", "8123"]) == 0
    assert seen["proxy_headers"] is False
