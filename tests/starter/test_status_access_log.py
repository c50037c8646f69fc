"""`sro status` records that it showed a case's free text in the register's access log, and
withholds the free text when it cannot (issue 14)."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path

import pytest

from register import access_log
from safeguarding.case_records import CaseStatus
from safeguarding.personal import HIDDEN
from safeguarding.profiles import load_profiles
from starter import access, cli
from tests.console.conftest import NOW, Clock
from tests.console.fakes import FakeBackend
from tests.console.test_pages import chair, decide, start

NOTE = "NOTE-Zebedee"


def a_status() -> CaseStatus:
    backend = FakeBackend(load_profiles(), Clock(NOW))
    case_ref = start(backend)
    decide(backend, case_ref, "triage", chair(), outcome="serious_incident", note=NOTE)
    return asyncio.run(backend.status(case_ref))


def test_the_view_is_recorded_with_who_the_command_line_says(
    monkeypatch: pytest.MonkeyPatch, register_url: str
) -> None:
    # Without the ORM (sro status stays quick): SQLite and PostgreSQL.
    monkeypatch.setenv("SRO_USER_NAME", "Cora Coordinator")
    monkeypatch.setenv("SRO_USER_ROLE", "coordinator")
    status = a_status()
    assert access.shown(status) is status
    [row] = access_log.entries(status.case_ref, url=register_url)
    assert (row.username, row.role, row.via, row.data) == (
        "Cora Coordinator",
        "coordinator",
        "sro",
        "free_text",
    )


def test_free_text_is_withheld_when_the_view_cannot_be_recorded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent/register.db")
    status = a_status()
    assert NOTE in status.model_dump_json()
    shown = access.shown(status)
    assert NOTE not in shown.model_dump_json()
    assert HIDDEN in shown.model_dump_json()
    assert "access log cannot be written" in capsys.readouterr().err


def test_sro_register_access_log_exports_a_cases_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case_ref = f"LSCP-2026-{secrets.token_hex(3).upper()}"  # the register is the process's
    viewer = access_log.Viewer("cora", "coordinator", "partnership")
    assert access_log.record(
        viewer, [case_ref], via="console", data=("referral",), what="case page"
    )
    assert access_log.record(
        viewer, [case_ref.replace("LSCP", "CSCP")], via="console", data=("x",), what="other"
    )
    assert cli.run(["register", "access-log", "--case", case_ref.lower(), "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["case_ref"], row["username"], row["what"]) == (case_ref, "cora", "case page")
    out = tmp_path / "log.csv"
    assert cli.run(["register", "access-log", "--case", case_ref, "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(access_log.COLUMNS) and len(lines) == 2
