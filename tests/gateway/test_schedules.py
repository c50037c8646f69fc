"""The scheduled reports as Temporal Schedules, on a real dev server: created once however often
the dev stack starts, listed with their next runs, paused and unpaused, and a triggered run
writing the report files from the register."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.scheduled import reporting_period
from gateway import errors, schedules
from tests.factories import eventually
from worker import build_worker


def test_the_periods_reported() -> None:
    assert reporting_period("summary", date(2027, 3, 1))[:2] == (date(2027, 1, 1), date(2027, 3, 1))
    since, until, year = reporting_period("annual", date(2027, 5, 1))
    assert (since, until, year and year.label) == (date(2026, 4, 1), date(2027, 3, 31), "2026-27")
    assert reporting_period("annual", date(2027, 2, 1))[2].label == "2025-26"  # type: ignore[union-attr]


@pytest.mark.integration
async def test_schedules_are_created_once_listed_paused_and_run(
    dev_server_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = dev_server_env.client
    queue = f"it-schedules-{uuid.uuid4()}"
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'register.db'}")
    try:
        assert await schedules.ensure(client, queue) == list(schedules.IDS)
        assert await schedules.ensure(client, queue) == []  # the dev stack starting again
        listed = {s.schedule_id: s for s in await schedules.listed(client)}
        assert set(listed) == set(schedules.IDS)
        assert all(s.next_runs and not s.paused for s in listed.values())
        assert listed["sro-annual-report"].next_runs[0].month == 5

        await schedules.act(client, "sro-annual-report", "pause", "not this year")
        paused = {s.schedule_id: s for s in await schedules.listed(client)}["sro-annual-report"]
        assert paused.paused and paused.note == "not this year"
        await schedules.act(client, "sro-annual-report", "unpause")
        with pytest.raises(errors.NotFound, match="the schedules are"):
            await schedules.act(client, "sro-nonsense", "trigger")

        async with build_worker(client, queue):
            await schedules.act(client, "sro-summary-bimonthly", "trigger")
            handle = client.get_schedule_handle("sro-summary-bimonthly")
            described = await eventually(
                handle.describe, lambda d: bool(d.info.recent_actions), what="a run started"
            )
            run = described.info.recent_actions[0].action
            workflow = client.get_workflow_handle(run.workflow_id)  # type: ignore[attr-defined]
            result = await workflow.result()
            assert (await workflow.describe()).status is WorkflowExecutionStatus.COMPLETED

            # The nightly reconciliation: wired to this worker's queue (no cases on it here;
            # the repair itself is the rebuild's: tests/starter/test_register_cli.py).
            await schedules.act(client, "sro-register-reconcile", "trigger")
            nightly = client.get_schedule_handle("sro-register-reconcile")
            described = await eventually(
                nightly.describe, lambda d: bool(d.info.recent_actions), what="a run started"
            )
            started = described.info.recent_actions[0].action
            reconciled = await client.get_workflow_handle(
                started.workflow_id  # type: ignore[attr-defined]
            ).result()
            assert (reconciled["cases"], reconciled["failed"]) == (0, [])
        written = [tmp_path / "data" / "reports" / f for f in result["files"]]
        assert written and all(p.is_file() for p in written), result
        assert {p.suffix for p in written} == {".md", ".html", ".csv"}
        # Each partnership's own report, mailed to its business manager (no mail server here:
        # into the outbox folder), once.
        assert set(result["by_partnership"]) == {"CSCP", "ENGLAND", "LSCP", "SSCP"}
        assert all(
            f.endswith(("-LSCP.md", "-LSCP.html", "-LSCP.csv"))
            for f in result["by_partnership"]["LSCP"]
        )
        assert result["mailed"]["LSCP"] == ["safeguarding-manager@liverpool.example.org"]
        mails = sorted((tmp_path / "data" / "outbox").glob("*.eml"))
        assert len(mails) == 4
        assert any(b"[LSCP] Bi-monthly summary" in m.read_bytes() for m in mails)
    finally:
        for schedule_id in schedules.IDS:
            with contextlib.suppress(Exception):  # another test may never have made them
                await client.get_schedule_handle(schedule_id).delete()
