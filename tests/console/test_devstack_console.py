"""`make run` starts the console too (starter/devstack.py): port choice and the banner."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from starter import devstack


def settings(tmp_path: Path) -> devstack.Settings:
    return devstack.Settings(
        data_dir=tmp_path, port=7233, ui_port=8233, task_queue="q", startup_timeout=5
    )


def test_the_console_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_CONSOLE_PORT", raising=False)
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            taken.bind(("127.0.0.1", devstack.DEFAULT_CONSOLE_PORT))
            taken.listen()
        except OSError:
            pass  # something else holds it: the same case
        port = devstack.console_port(settings(tmp_path))
        assert port != devstack.DEFAULT_CONSOLE_PORT
        monkeypatch.setenv("SRO_CONSOLE_PORT", str(devstack.DEFAULT_CONSOLE_PORT))
        with pytest.raises(devstack.DevStackError, match="already in use"):
            devstack.console_port(settings(tmp_path))
    monkeypatch.setenv("SRO_CONSOLE_PORT", "seventy")
    with pytest.raises(devstack.DevStackError, match="is not a port number"):
        devstack.console_port(settings(tmp_path))


def test_the_banner_prints_the_console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_CONSOLE_USERS", raising=False)
    text = devstack.banner(settings(tmp_path), True, "http://127.0.0.1:8000")
    assert "  Web console       http://127.0.0.1:8000" in text
    assert "demo users (console/users.example.toml), password demo-password" in text
    assert devstack.console_command(8001)[1:] == [
        "-m", "console", "--host", "127.0.0.1", "--port", "8001"
    ]  # fmt: skip
