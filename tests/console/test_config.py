"""The console's start-up settings: demo users (a published password) only in the dev stack and
only on loopback; everything else needs a users file."""

from __future__ import annotations

from pathlib import Path

import pytest

import console.__main__ as entry
from console.app import ConsoleConfigError, is_loopback, settings_from_env
from console.users import DEMO_USERS_FILE
from starter import devstack


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SRO_CONSOLE_USERS", "SRO_CONSOLE_DEMO_USERS", "SRO_CONSOLE_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("flag", "host"),
    [
        ("", "127.0.0.1"),  # loopback, but not the dev stack
        ("1", "0.0.0.0"),  # the dev stack's flag, but reachable from the network
        ("1", "192.168.1.20"),
        ("1", None),  # an address we cannot know (uvicorn's factory): refused
        ("", "0.0.0.0"),
    ],
)
def test_demo_users_are_refused_outside_the_dev_stack_on_loopback(
    monkeypatch: pytest.MonkeyPatch, flag: str, host: str | None
) -> None:
    monkeypatch.setenv("SRO_CONSOLE_DEMO_USERS", flag)
    with pytest.raises(ConsoleConfigError, match="set SRO_CONSOLE_USERS to a users file"):
        settings_from_env(host)
    # Naming the demo file explicitly is the same published password.
    monkeypatch.setenv("SRO_CONSOLE_USERS", str(DEMO_USERS_FILE))
    with pytest.raises(ConsoleConfigError, match="published password"):
        settings_from_env(host)


def test_demo_users_run_in_the_dev_stack_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRO_CONSOLE_DEMO_USERS", "1")
    for host in ("127.0.0.1", "::1", "localhost"):
        settings = settings_from_env(host)
        assert settings.demo_users and settings.users_file == DEMO_USERS_FILE


def test_a_users_file_is_used_on_any_address(
    monkeypatch: pytest.MonkeyPatch, users_path: Path
) -> None:
    monkeypatch.setenv("SRO_CONSOLE_USERS", str(users_path))
    settings = settings_from_env("0.0.0.0")
    assert settings.users_file == users_path and not settings.demo_users


def test_the_console_does_not_start_with_demo_users_on_the_network(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the console started")

    monkeypatch.setattr("uvicorn.run", never)
    assert entry.main(["--host", "0.0.0.0", "--port", "8123"]) == 2
    message = capsys.readouterr().err
    assert "console not started" in message and "SRO_CONSOLE_USERS" in message


def test_the_dev_stack_asks_for_demo_users(tmp_path: Path) -> None:
    settings = devstack.Settings(
        data_dir=tmp_path, port=7233, ui_port=8233, task_queue="q", startup_timeout=5
    )
    assert devstack.console_environment(settings)["SRO_CONSOLE_DEMO_USERS"] == "1"
    assert devstack.HOST == "127.0.0.1"


def test_trusted_proxies_and_session_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, users_path: Path
) -> None:
    monkeypatch.setenv("SRO_CONSOLE_USERS", str(users_path))
    settings = settings_from_env("0.0.0.0")
    assert settings.trusted_proxies == ()  # nobody's X-Forwarded-For by default
    assert (settings.session_max_age, settings.session_idle) == (12 * 3600, 30 * 60)
    monkeypatch.setenv("SRO_CONSOLE_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")
    monkeypatch.setenv("SRO_CONSOLE_SESSION_MINUTES", "480")
    monkeypatch.setenv("SRO_CONSOLE_IDLE_MINUTES", "15")
    settings = settings_from_env("0.0.0.0")
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.0.2.7")
    assert (settings.session_max_age, settings.session_idle) == (480 * 60, 15 * 60)
    monkeypatch.setenv("SRO_CONSOLE_TRUSTED_PROXIES", "the-proxy")
    with pytest.raises(ConsoleConfigError, match="not an address or network"):
        settings_from_env("0.0.0.0")


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback(None)
