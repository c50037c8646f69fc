"""A scheduled report run whose mail to one partnership cannot be sent: the others are mailed,
and the run fails at the end with ReportNotMailed so the Web UI shows it (issue 15)."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.report_mail import mail_scheduled_report
from activities.scheduled_io import (
    WRITE_SCHEDULED_REPORT,
    ScheduledReportInput,
    ScheduledReportResult,
)
from workflows.scheduled import ScheduledReportWorkflow

WRITTEN = "scheduled/summary-2026-10-05-LSCP.csv"


@activity.defn(name=WRITE_SCHEDULED_REPORT)
async def written(input: ScheduledReportInput) -> ScheduledReportResult:
    """What the register's run wrote: Liverpool's file, and one for a partnership whose profile
    has gone since (its mail is refused for good)."""
    return ScheduledReportResult(
        report="summary",
        since=date(2026, 10, 5),
        as_of=date(2026, 12, 5),
        files=[WRITTEN],
        by_partnership={"LSCP": [WRITTEN], "GONE": [WRITTEN]},
    )


async def test_one_partnership_unmailed_fails_the_run_after_mailing_the_others(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SRO_SMTP_HOST", raising=False)
    monkeypatch.delenv("SRO_PROFILES", raising=False)
    (tmp_path / "reports" / WRITTEN).parent.mkdir(parents=True)
    (tmp_path / "reports" / WRITTEN).write_text("route,count\n")
    queue = f"scheduled-{uuid.uuid4()}"
    client = time_skipping_env.client
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ScheduledReportWorkflow],
        activities=[written, mail_scheduled_report],
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await client.execute_workflow(
                ScheduledReportWorkflow.run,
                ScheduledReportInput(report="summary"),
                id=f"sro-summary-bimonthly-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
            )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "ReportNotMailed"
    assert "not mailed to GONE" in cause.message
    [details] = cause.details
    assert details["mailed"] == {"LSCP": ["safeguarding-manager@liverpool.example.org"]}
    [mail] = (tmp_path / "outbox").glob("*.eml")
    assert b"[LSCP] Bi-monthly summary" in mail.read_bytes()
