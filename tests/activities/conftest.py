"""The mail fixtures: a scratch data folder, SRO_SMTP_* pointing at a free port, and a real
SMTP server listening there (tests/activities/mail_server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.activities.mail_server import MailServer, Recorder
from tests.ports import free_port


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outbox: Path) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("SRO_DATA_DIR", str(folder))
    monkeypatch.delenv("SRO_PROFILES", raising=False)
    monkeypatch.delenv("SRO_SMTP_FROM", raising=False)
    for name in ("HOST", "PORT", "USER", "PASSWORD", "STARTTLS", "TIMEOUT"):
        monkeypatch.delenv(f"SRO_SMTP_{name}", raising=False)
    return folder


@pytest.fixture
def mail_port(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """SRO_SMTP_* pointing at a local port (nothing listens there yet)."""
    port = free_port()
    monkeypatch.setenv("SRO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SRO_SMTP_PORT", str(port))
    monkeypatch.setenv("SRO_SMTP_FROM", "LSCP Reviews <reviews@liverpool.example.org>")
    monkeypatch.setenv("SRO_SMTP_TIMEOUT", "5")
    return port


@pytest.fixture
def mail(mail_port: int) -> Iterator[Recorder]:
    server = MailServer(mail_port).start()
    try:
        yield server.recorder
    finally:
        server.stop()
