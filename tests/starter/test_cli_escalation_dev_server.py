"""`sro escalation` as people run it: real subprocesses against the real dev server, with the
worker running in this process on a task queue of its own. A Croydon (CSCP) disagreement linked
to a referral case goes up two stages, shows in the review group's oversight list, is resolved,
and the case's history records it."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

import worker
from safeguarding.clock import uk_today
from safeguarding.escalation import ESCALATION_REF_PATTERN
from tests.clock import uk_years_since
from tests.factories import EVENTUALLY_TIMEOUT, referral
from tests.starter.test_cli_dev_server import Sro, cli_env, ok
from workflows import search_attributes as sa

pytestmark = pytest.mark.integration

CONCERN = "Police have not shared the strategy discussion notes for Child A."
PRACTITIONER = {
    "SRO_USER_NAME": "Pat Practitioner",
    "SRO_USER_ROLE": "practitioner",
    "SRO_USER_AGENCY": "health",
}
MANAGER = ("--by-name", "Mo Manager", "--by-role", "manager", "--by-agency", "health")


async def eventually(
    check: Callable[[], Awaitable[Any]], what: str, seconds: float = EVENTUALLY_TIMEOUT
) -> Any:
    """Poll `check` until it returns something truthy (visibility and signals take a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:g} s")
        await asyncio.sleep(0.3)


async def test_escalation_round_trip(
    dev_server_env: WorkflowEnvironment, outbox: Path, tmp_path: Path
) -> None:
    client = dev_server_env.client
    queue = f"sro-esc-{uuid.uuid4().hex[:8]}"
    sro = Sro({**cli_env(client.service_client.config.target_host, queue, outbox), **PRACTITIONER})
    today = uk_today(datetime.now(UTC))
    referral_file = tmp_path / "referral.json"
    referral_file.write_text(
        json.dumps(referral(today, partnership="CSCP").model_dump(mode="json"))
    )

    async with worker.build_worker(client, queue):
        # ------------------------------------------------------------ a Croydon case
        case_ref = json.loads(ok(await sro("refer", "--file", str(referral_file), "--json")))[
            "case_ref"
        ]
        prefix, year, _ = case_ref.split("-")
        assert prefix == "CSCP" and int(year) in uk_years_since(today)  # even across New Year

        # ------------------------------------------------------------ raise, linked to it
        out = ok(
            await sro(
                "escalation", "raise", "--partnership", "cscp", "--with", "police",
                "--concern", CONCERN, "--case", case_ref,
            )
        )  # fmt: skip
        found = re.match(r"Escalation (\S+) raised for CSCP with Police\.", out)
        assert found, out
        ref = found.group(1)
        assert re.match(ESCALATION_REF_PATTERN, ref)
        assert ref.startswith(tuple(f"CSCP-ESC-{year}-" for year in uk_years_since(today)))
        assert "Stage 1: Practitioner to practitioner (the practitioners)" in out
        assert "within 2 working days" in out
        assert CONCERN not in out

        handle = client.get_workflow_handle(f"escalation-{ref}")
        described = await handle.describe()
        assert await described.static_summary() == f"Escalation {ref} — CSCP"
        details = await described.static_details() or ""
        assert "Child A" not in details and "Pat" not in details
        assert f"Concerns case {case_ref}" in details
        attrs = described.typed_search_attributes
        assert attrs.get(sa.PARTNERSHIP) == "CSCP"
        assert attrs.get(sa.ESCALATION_STAGE) == 1

        # ------------------------------------------------------------ status: stage 1, due
        async def status_json() -> dict[str, Any] | None:
            result = await sro("escalation", "status", ref, "--json", "--timeout", "5")
            return json.loads(result.stdout) if result.returncode == 0 else None

        status = await eventually(status_json, "the escalation never answered `status`")
        assert status["stage"] == 1
        assert status["stage_name"] == "Practitioner to practitioner"
        assert status["formal"] is False
        assert status["due_on"] is not None and status["due_on"] > today.isoformat()
        assert status["partnership_notified"] is False
        assert status["linked_case_ref"] == case_ref
        assert status["raised_by"]["name"] == "Pat Practitioner"
        assert status["resolved"] is False

        readable = ok(await sro("escalation", "status", ref.lower()))
        assert readable.splitlines()[0] == (
            f"Escalation {ref} — Croydon Safeguarding Children Partnership"
        )
        assert "Stage:                1, Practitioner to practitioner (informal)" in readable
        assert f"Due:                  {status['due_on']}" in readable
        assert "Partnership notified: no" in readable
        assert f"Linked case:          {case_ref}" in readable
        assert CONCERN not in readable

        # Listed for the partnership at once, but not yet overseen by its review group.
        async def listed(*flags: str) -> list[dict[str, Any]]:
            rows = json.loads(ok(await sro("escalation", "list", *flags, "--json")))
            return [r for r in rows if r["escalation_ref"] == ref]

        rows = await eventually(
            lambda: listed("--partnership", "CSCP"), "the escalation never showed in the list"
        )
        assert rows[0]["stage"] == 1
        assert await listed("--partnership", "CSCP", "--oversight") == []
        assert await listed("--partnership", "LSCP") == []

        # ------------------------------------------------------------ escalate twice
        out = ok(await sro("escalation", "escalate", ref, "--reason", "No reply", *MANAGER))
        assert out.startswith(f"Escalation {ref} is now at stage 2: Line managers")
        assert "informal" in out

        out = ok(
            await sro(
                "escalation", "escalate", ref, "--reason", "Still no notes", *MANAGER,
                "--decision-id", "esc-2",
            )
        )  # fmt: skip
        assert out.startswith(f"Escalation {ref} is now at stage 3: Safeguarding leads")
        assert "formal;" in out
        assert "Croydon Safeguarding Children Partnership has been told" in out
        # Re-sending the same decision id applies it once.
        again = ok(
            await sro(
                "escalation", "escalate", ref, "--reason", "Still no notes", *MANAGER,
                "--decision-id", "esc-2",
            )
        )  # fmt: skip
        assert "now at stage 3" in again

        status = json.loads(ok(await sro("escalation", "status", ref, "--json")))
        assert status["stage"] == 3
        assert status["formal"] is True
        assert status["partnership_notified"] is True
        assert status["overseen_by"] == "Safeguarding Practice Review Group (SPRG)"
        assert [s["left_because"] for s in status["stages"]] == ["escalated", "escalated", None]

        # ------------------------------------------------------------ the review group's list
        async def overseen() -> list[dict[str, Any]]:
            return [r for r in await listed("--partnership", "CSCP", "--oversight") if r["stage"]]

        rows = await eventually(overseen, "the escalation never showed in --oversight")
        assert rows[0]["stage"] == 3
        assert rows[0]["partnership"] == "CSCP"
        table = ok(await sro("escalation", "list", "--partnership", "CSCP", "--oversight"))
        assert table.splitlines()[0] == (
            "Escalations Safeguarding Practice Review Group (SPRG) oversees: stage 3 and above "
            "(Croydon Safeguarding Children Partnership)"
        )
        assert any(line.startswith(f"{ref}  3") for line in table.splitlines())

        # ------------------------------------------------------------ resolve, then not again
        out = ok(await sro("escalation", "resolve", ref, "--outcome", "Notes shared", *MANAGER))
        assert out.startswith(f"Escalation {ref} resolved at stage 3 (Safeguarding leads).")

        status = json.loads(ok(await sro("escalation", "status", ref, "--json")))
        assert status["resolved"] is True
        assert status["resolution"] == "Notes shared"
        readable = ok(await sro("escalation", "status", ref))
        assert "State:                resolved at stage 3" in readable

        refused = await sro("escalation", "resolve", ref, "--outcome", "Again", *MANAGER)
        assert refused.returncode == 2, refused
        assert refused.stderr.startswith("refused (WrongStage): "), refused.stderr
        assert "resolved" in refused.stderr
        assert refused.stdout == ""

        # ------------------------------------------------------------ the case's history
        async def case_history() -> list[str] | None:
            case = json.loads(ok(await sro("status", case_ref, "--json")))
            texts = [h["text"] for h in case["history"] if ref in h["text"]]
            return texts if any("resolved" in t for t in texts) else None

        texts = await eventually(case_history, "the case's history never recorded the escalation")
        assert any("raised" in t for t in texts)
        assert all(CONCERN not in t for t in texts)

        # ------------------------------------------------------------ resolved: --all lists it
        async def closed() -> list[dict[str, Any]]:
            return [
                r
                for r in await listed("--partnership", "CSCP", "--all")
                if r["status"] == "COMPLETED"
            ]

        await eventually(closed, "the resolved escalation never showed in --all")
        assert await listed("--partnership", "CSCP") == []

        # ------------------------------------------------------------ an unknown escalation
        unknown = await sro("escalation", "status", "CSCP-ESC-2026-000000")
        assert unknown.returncode == 2
        assert unknown.stderr.strip() == (
            "error: no escalation CSCP-ESC-2026-000000 "
            "(no workflow escalation-CSCP-ESC-2026-000000)"
        )
