"""The command line as people run it: a real subprocess against a real dev server, with the
worker running in this process on a task queue of its own."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

import worker
from safeguarding.clock import uk_today
from tests.clock import uk_years_since
from tests.factories import EVENTUALLY_TIMEOUT, eventually, referral
from workflows import search_attributes as sa

#: Liverpool's triage is attended by the three partners and the LSCP Safeguarding Manager.
TRIAGE_ATTENDEES = [
    "--attendee", "Dana Chair:chair:police",
    "--attendee", "Hal Health:panel_member:health",
    "--attendee", "Sam Social:panel_member:childrens_social_care",
    "--attendee", "Bea Manager:business_manager:partnership",
]  # fmt: skip

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CHILD_NAME = "Child A"


@pytest.fixture
def dev_env(dev_server_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The session's dev server (tests/conftest.py: the search attributes registered, the
    pydantic data converter); each test here uses a task queue of its own."""
    return dev_server_env


class Sro:
    """Runs `python -m starter ...` in a subprocess without blocking the worker's event loop."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    async def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "starter", *args],
            env={**self.env, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=90,
        )


def cli_env(target: str, queue: str, outbox: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "SRO_"))}
    env["SRO_CODEC_KEYS"] = os.environ["SRO_CODEC_KEYS"]  # the tests' key
    env.update(
        TEMPORAL_ADDRESS=target,
        TEMPORAL_NAMESPACE="default",
        SRO_TASK_QUEUE=queue,
        SRO_OUTBOX=str(outbox),
        SRO_USER_NAME="Dana Chair",
        SRO_USER_ROLE="chair",
        SRO_USER_AGENCY="police",
    )
    return env


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


async def test_refer_decide_status_list(
    dev_env: WorkflowEnvironment, outbox: Path, tmp_path: Path
) -> None:
    queue = f"sro-cli-{uuid.uuid4().hex[:8]}"
    sro = Sro(cli_env(dev_env.client.service_client.config.target_host, queue, outbox))
    today = uk_today(datetime.now(UTC))
    referral_file = tmp_path / "referral.json"
    referral_file.write_text(
        json.dumps(referral(today, partnership="LSCP").model_dump(mode="json"))
    )

    async with worker.build_worker(dev_env.client, queue):
        # ------------------------------------------------------------ refer
        started = json.loads(ok(await sro("refer", "--file", str(referral_file), "--json")))
        case_ref = started["case_ref"]
        # The year the case was opened in (the command line reads the clock itself, later).
        prefix, year, _ = case_ref.split("-")
        assert prefix == "LSCP" and int(year) in uk_years_since(today)
        assert started["workflow_id"] == f"referral-{case_ref}"
        assert started["task_queue"] == queue
        handle = dev_env.client.get_workflow_handle(started["workflow_id"])
        described = await handle.describe()
        assert await described.static_summary() == f"Referral {case_ref} — LSCP"
        details = await described.static_details() or ""
        assert CHILD_NAME not in details and "Rita" not in details

        # ------------------------------------------------------------ decide triage
        out = ok(
            await sro(
                "decide", case_ref, "triage", "--outcome", "serious_incident",
                "--decision-id", "triage-1", *TRIAGE_ATTENDEES,
            )
        )  # fmt: skip
        assert out.splitlines()[0] == "triage recorded; stage is now Serious Incident Notification"
        assert "Serious Incident Notification to the National Panel" in out

        # Re-sending the same decision id applies it once.
        ok(
            await sro(
                "decide", case_ref, "triage", "--outcome", "serious_incident",
                "--decision-id", "triage-1", *TRIAGE_ATTENDEES,
            )
        )  # fmt: skip

        # ------------------------------------------------------------ status --json
        status = json.loads(ok(await sro("status", case_ref, "--json")))
        assert status["stage"] == "serious_incident_notification"
        assert status["route"] == "serious_incident"
        notification = next(d for d in status["deadlines"] if d["deadline_id"] == "notification")
        assert notification["state"] == "on_track"
        assert notification["due_on"] > today.isoformat()
        triages = [h for h in status["history"] if h["decision_kind"] == "triage"]
        assert len(triages) == 1
        assert "notification_submitted" in status["decisions_allowed"]

        readable = ok(await sro("status", case_ref, "--history-limit", "3"))
        assert "Stage:   Serious Incident Notification [serious_incident_notification]" in readable
        assert "History (last 3 of" in readable
        assert CHILD_NAME not in readable

        # ------------------------------------------------------------ a wrong-stage decision
        refused = await sro(
            "decide", case_ref, "panel_response", "--panel-agrees", "--outcome", "local_cspr"
        )
        assert refused.returncode == 2
        assert refused.stderr.startswith(
            "refused (WrongStage): a panel_response decision is not allowed at stage "
            "'Serious Incident Notification'"
        )
        assert refused.stdout == ""

        # ------------------------------------------------------------ not allowed to decide
        refused = await sro(
            "decide", case_ref, "notification_submitted", "--reference", "NP-1",
            "--by-role", "panel_member", "--by-agency", "education",
        )  # fmt: skip
        assert refused.returncode == 2
        assert refused.stderr.startswith("refused (NotAuthorised): ")

        # ------------------------------------------------------------ search attributes
        # They follow the case within REGISTER_LAG (upserted with the register's write).
        described = await eventually(
            handle.describe,
            lambda d: (
                d.typed_search_attributes.get(sa.REVIEW_STAGE) == "serious_incident_notification"
            ),
            what="the stage searchable",
        )
        attrs = described.typed_search_attributes
        assert attrs.get(sa.REVIEW_STAGE) == "serious_incident_notification"
        assert attrs.get(sa.REVIEW_ROUTE) == "serious_incident"
        assert attrs.get(sa.PARTNERSHIP) == "LSCP"
        next_deadline = attrs.get(sa.NEXT_DEADLINE)
        assert next_deadline is not None
        # The moment the deadline is missed: the UK midnight that ends its due day.
        assert sa.due_on(next_deadline).isoformat() == notification["due_on"]
        assert next_deadline > datetime.fromisoformat(notification["due_on"]).replace(tzinfo=UTC)
        assert attrs.get(sa.OVERDUE) is False

        # ------------------------------------------------------------ list (eventually consistent)
        rows: list[dict[str, Any]] = []
        deadline = time.monotonic() + EVENTUALLY_TIMEOUT
        while time.monotonic() < deadline:
            listed = await sro("list", "--stage", "serious_incident_notification", "--json")
            rows = [r for r in json.loads(ok(listed)) if r["case_ref"] == case_ref]
            if rows:
                break
            await asyncio.sleep(0.5)
        assert rows, "the case never showed in `sro list --stage serious_incident_notification`"
        assert rows[0]["next_deadline"] == notification["due_on"]
        assert rows[0]["overdue"] is False

        table = ok(await sro("list", "--stage", "serious_incident_notification"))
        assert table.splitlines()[0].split() == ["CASE", "STAGE", "NEXT", "DEADLINE", "OVERDUE"]
        assert any(line.startswith(case_ref) for line in table.splitlines())
        elsewhere = json.loads(ok(await sro("list", "--stage", "rapid_review", "--json")))
        assert case_ref not in [r["case_ref"] for r in elsewhere]

        # ------------------------------------------------------------ an unknown case
        unknown = await sro("status", "LSCP-2026-000000")
        assert unknown.returncode == 2
        assert unknown.stderr.strip() == (
            "error: no case LSCP-2026-000000 (no workflow referral-LSCP-2026-000000)"
        )


async def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    sro = Sro(cli_env("127.0.0.1:1", "unused", tmp_path))
    result = await sro("status", "LSCP-2026-1A2B3C")
    assert result.returncode == 1
    assert result.stderr == (
        "error: cannot reach Temporal at 127.0.0.1:1: Connection refused — is `make run` running?\n"
    )


async def test_the_dev_stack_sets_the_namespace_retention_deliberately(
    dev_server_env: WorkflowEnvironment,
) -> None:
    # `temporal server start-dev` has no retention flag; `make run` sets it after start-up.
    from datetime import timedelta

    from starter.retention import retention, set_retention

    client = dev_server_env.client
    before = await retention(client)
    try:
        assert await set_retention(client, 30) == timedelta(days=30)
        assert await retention(client) == timedelta(days=30)
    finally:
        await set_retention(client, max(1, before.days))
