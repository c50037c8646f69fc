"""A scheduled report mailed to the partnership's `report_recipients` (issue 15): once per run and
partnership however often the activity runs, with its own files attached, by a real SMTP server
or into the outbox folder; hostile file names refused with the field named."""

from __future__ import annotations

from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.report_mail import mail_scheduled_report
from activities.scheduled_io import ReportMailInput, ReportMailResult
from tests.activities.mail_server import Recorder
from tests.activities.test_notifications import LV, MANAGER_ADDRESS

STEM = "scheduled/summary-2026-10-05-LSCP"


@pytest.fixture
def report(data_dir: Path) -> ReportMailInput:
    """The files a run wrote for Liverpool (their contents do not matter here)."""
    folder = data_dir / "reports" / "scheduled"
    folder.mkdir(parents=True)
    for suffix in ("md", "html", "csv"):
        (folder / f"summary-2026-10-05-LSCP.{suffix}").write_text(f"the {suffix} report\n")
    return ReportMailInput(
        report="summary",
        partnership="LSCP",
        since=date(2026, 10, 5),
        as_of=date(2026, 12, 5),
        files=[f"{STEM}.{suffix}" for suffix in ("md", "html", "csv")],
        run="sro-summary-bimonthly-2026-12-05T07:00:00Z",
    )


async def run(input: ReportMailInput) -> ReportMailResult:
    result: ReportMailResult = await ActivityEnvironment().run(mail_scheduled_report, input)
    return result


def parsed(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
    assert isinstance(message, EmailMessage)
    return message


def attached(message: EmailMessage) -> list[str]:
    return [part.get_filename() or "" for part in message.iter_attachments()]


async def test_the_report_is_mailed_once_to_the_business_manager(
    mail: Recorder, report: ReportMailInput
) -> None:
    result = await run(report)
    assert (result.transport, result.delivered_to) == ("smtp", [MANAGER_ADDRESS])
    assert (await run(report)).already_sent  # a retried activity sends nothing more
    [arrived] = mail.arrived
    message = parsed(arrived.raw)
    assert message["Subject"] == "[LSCP] Bi-monthly summary, 5 Oct 2026 to 5 Dec 2026"
    assert arrived.rcpt_tos == [MANAGER_ADDRESS]
    # The HTML and the CSV; the Markdown says what the HTML says.
    assert attached(message) == ["summary-2026-10-05-LSCP.html", "summary-2026-10-05-LSCP.csv"]
    body = message.get_body(("plain",))
    assert body is not None and f"reports/{STEM}.html" in body.get_content()


async def test_without_a_mail_server_it_is_kept_in_the_outbox_once(
    data_dir: Path, outbox: Path, report: ReportMailInput
) -> None:
    first = await run(report)
    assert (first.transport, first.delivered_to) == ("outbox", [MANAGER_ADDRESS])
    assert (await run(report)).already_sent
    [written] = outbox.glob("*.eml")
    assert attached(parsed(written.read_bytes())) == [
        "summary-2026-10-05-LSCP.html",
        "summary-2026-10-05-LSCP.csv",
    ]


async def test_a_profile_can_ask_for_no_attachments_and_other_recipients(
    mail: Recorder, report: ReportMailInput, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "lscp.toml").write_text(
        'code = "LSCP"\nreport_recipients = ["executive", "business_manager"]\n'
        "report_attachments = false\n[contacts]\n"
        f'default = "team{LV}"\nexecutive = "exec{LV}"\nbusiness_manager = "{MANAGER_ADDRESS}"\n'
    )
    monkeypatch.setenv("SRO_PROFILES", str(profiles))
    result = await run(report)
    assert result.delivered_to == [f"exec{LV}", MANAGER_ADDRESS]
    [arrived] = mail.arrived
    message = parsed(arrived.raw)
    assert attached(message) == []
    body = message.get_body(("plain",))
    assert body is not None and "Not attached here." in body.get_content()


async def test_files_outside_the_reports_folder_or_gone_are_refused(
    data_dir: Path, outbox: Path, report: ReportMailInput
) -> None:
    with pytest.raises(ValidationError, match="files"):
        ReportMailInput.model_validate(report.model_dump() | {"files": ["../codec-keys.json"]})
    escaping = report.model_copy(update={"files": ["scheduled/.."]})
    with pytest.raises(ApplicationError, match=r"files: 'scheduled/\.\.'") as refused:
        await run(escaping)
    assert refused.value.non_retryable
    gone = report.model_copy(update={"files": ["scheduled/summary-1999-01-01-LSCP.csv"]})
    with pytest.raises(ApplicationError, match="no longer in the reports folder"):
        await run(gone)
    assert list(outbox.glob("*.eml")) == []
