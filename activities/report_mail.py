"""Mailing a scheduled report (workflows/scheduled.py) to the partnership's `report_recipients`:
by the same outbox, SMTP, sent-marker and dead-letter rules as every notice
(activities/notifications.py `deliver`), so one run mails each partnership once however often
the activity is retried.

The mail carries that partnership's own report only (its HTML, CSV and, for the annual report,
the chart), or, where the profile sets `report_attachments = false`, only where the files are.
Its subject and headers name the partnership, the report and the period: nothing about a child.
"""

from __future__ import annotations

import mimetypes
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import (
    Outgoing,
    SmtpConfig,
    SmtpConfigError,
    deliver,
    message_id,
)
from activities.scheduled_io import (
    MAIL_SCHEDULED_REPORT,
    ReportMailInput,
    ReportMailResult,
)
from config import settings
from safeguarding.contacts import addresses_of
from safeguarding.profiles import ProfileError, load_profiles
from safeguarding.settings import PartnershipSettings

__all__ = ["ATTACHED", "MAX_ATTACHED_BYTES", "mail_scheduled_report", "report_message"]

#: What is attached: the Markdown says what the HTML says.
ATTACHED = (".html", ".csv", ".png")
#: Above this the mail says where the files are instead (mail servers refuse large messages).
MAX_ATTACHED_BYTES = 10 * 1024 * 1024
TITLES = {"summary": "Bi-monthly summary", "annual": "Annual report"}


def _reports_dir() -> Path:
    return (settings().data_dir / "reports").resolve()


def _files(input: ReportMailInput) -> list[Path]:
    """The report's files, each checked to be inside the reports folder and still there."""
    root = _reports_dir()
    paths = []
    for name in input.files:
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise ApplicationError(
                f"files: {name!r} is outside the reports folder",
                type="ReportFileOutside",
                non_retryable=True,
            )
        if not path.is_file():
            # Removed since the run wrote it: a retry will not bring it back.
            raise ApplicationError(
                f"files: {name!r} is no longer in the reports folder",
                type="ReportFileMissing",
                non_retryable=True,
            )
        paths.append(path)
    return paths


def report_message(
    input: ReportMailInput,
    profile: PartnershipSettings,
    paths: list[Path],
    addresses: tuple[str, ...],
    sender: str,
) -> EmailMessage:
    """The mail for one partnership's report: the same whether it is sent or kept in the outbox."""
    title = TITLES[input.report]
    period = f"{input.since:%-d %b %Y} to {input.as_of:%-d %b %Y}"
    attach = [p for p in paths if p.suffix in ATTACHED] if profile.report_attachments else []
    if sum(p.stat().st_size for p in attach) > MAX_ATTACHED_BYTES:
        attach = []
    message = EmailMessage()
    message["Message-ID"] = message_id(_mail_id(input))
    message["Date"] = formatdate(usegmt=True)
    message["From"] = sender
    message["To"] = ", ".join(addresses) if addresses else "undisclosed-recipients:;"
    message["Subject"] = f"[{input.partnership}] {title}, {period}"
    message["Auto-Submitted"] = "auto-generated"
    message["X-SRO-Partnership"] = input.partnership
    message["X-SRO-Report"] = input.report
    where = "\n".join(f"  reports/{name}" for name in input.files)
    lines = [
        f"{profile.name}: the {title.lower()}, {period}, is ready.",
        "",
        (f"Attached: {', '.join(p.name for p in attach)}." if attach else "Not attached here."),
        f"The files are in the orchestrator's data folder:\n{where}",
        "",
        "-- ",
        f"Sent automatically by the Safeguarding Review Orchestrator (run {input.run}).",
        "Please do not reply to this message.",
    ]
    message.set_content("\n".join(lines) + "\n")
    for path in attach:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    return message


def _mail_id(input: ReportMailInput) -> str:
    return f"report-{input.run}-{input.partnership}"


def _profile(partnership: str) -> PartnershipSettings:
    try:
        profile = load_profiles().get(partnership)
    except ProfileError as err:
        # A profile broke after the worker started: retry until someone fixes it.
        raise ApplicationError(
            f"cannot read the partnership profiles to mail {partnership}'s report: {err}",
            type="ProfilesUnreadable",
        ) from None
    if profile is None:
        raise ApplicationError(
            f"partnership: no profile for {partnership!r}",
            type="UnknownPartnership",
            non_retryable=True,
        )
    return profile


@activity.defn(name=MAIL_SCHEDULED_REPORT)
async def mail_scheduled_report(input: ReportMailInput) -> ReportMailResult:
    try:
        config = SmtpConfig.from_env()
    except SmtpConfigError as err:
        raise ApplicationError(str(err), type="SmtpConfiguration") from None

    def outgoing() -> Outgoing:
        profile = _profile(input.partnership)
        paths = _files(input)
        return Outgoing(
            mail_id=_mail_id(input),
            build=lambda addresses, sender: report_message(
                input, profile, paths, addresses, sender
            ),
            recipients=addresses_of(profile.report_recipients, profile),
            label=f"{input.report} report for {input.partnership}",
            audience="; ".join(profile.report_recipients),
        )

    sent = await deliver(_mail_id(input), outgoing, config)
    return ReportMailResult(
        partnership=input.partnership,
        delivered_to=sent.delivered_to,
        transport=sent.transport,
        already_sent=sent.already_sent,
    )
