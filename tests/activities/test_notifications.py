"""The notification activity against a real SMTP server (aiosmtpd on 127.0.0.1): what arrives,
to whom, once; retries, outages, permanent refusals; the outbox folder without a mail server; and
one referral on the time-skipping server whose deadline escalates by email."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES, notifications
from activities.notifications import (
    DEFAULT_FROM,
    SendNoticeInput,
    SendNoticeResult,
    SmtpConfig,
    SmtpConfigError,
    build_message,
    checked_subject,
    message_id,
    read_marker,
    send_notice,
)
from safeguarding.case import DecisionResult, Notice
from safeguarding.clock import uk_today
from tests.activities.mail_server import Arrived, MailServer, Recorder
from tests.factories import CHAIR, decision, referral, triage_participants
from tests.safeguarding.test_contacts import PERSONAL, notices_of_every_kind
from workflows.referral import ReferralInput, ReferralOptions, ReferralWorkflow, workflow_id

LV = "@liverpool.example.org"
CHAIR_ADDRESS = f"sprg-chair{LV}"
MANAGER_ADDRESS = f"safeguarding-manager{LV}"
CSC_ADDRESS = f"sprg-csc{LV}"


@functools.cache
def liverpool_notices() -> tuple[Notice, ...]:
    return tuple(notices_of_every_kind("LSCP"))


def pick(kind: str, deadline_id: str | None = None, case: str = "") -> Notice:
    return next(
        n
        for n in liverpool_notices()
        if n.kind == kind
        and (deadline_id is None or n.deadline_id == deadline_id)
        and case in n.case_ref
    )


async def send(notice: Notice) -> SendNoticeResult:
    result: SendNoticeResult = await ActivityEnvironment().run(
        send_notice, SendNoticeInput(notice=notice)
    )
    return result


# --------------------------------------------------------------------------- by SMTP


async def test_a_reminder_arrives_once_at_the_right_addresses(mail: Recorder) -> None:
    reminder = pick("reminder", "notification")
    result = await send(reminder)
    assert result.transport == "smtp"
    assert result.delivered_to == [CSC_ADDRESS]
    assert not result.already_sent
    [arrived] = mail.arrived
    assert arrived.rcpt_tos == [CSC_ADDRESS]
    assert arrived.mail_from == "reviews@liverpool.example.org"
    message = arrived.message
    assert message["Subject"] == reminder.subject
    assert message["Subject"].startswith(f"[{reminder.case_ref}] Reminder: ")
    assert message["Message-ID"] == message_id(reminder.notice_id)
    assert message["To"] == CSC_ADDRESS
    assert message["From"] == "LSCP Reviews <reviews@liverpool.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-SRO-Notice-Id"] == reminder.notice_id
    body = message.get_content()
    assert reminder.body in body
    assert f"For: {reminder.audience}" in body


async def test_an_escalation_goes_to_the_chair_and_the_manager(mail: Recorder) -> None:
    escalation = pick("escalation", "notification")
    await send(escalation)
    [arrived] = mail.arrived
    assert arrived.rcpt_tos == [CHAIR_ADDRESS, MANAGER_ADDRESS]
    assert arrived.message["To"] == f"{CHAIR_ADDRESS}, {MANAGER_ADDRESS}"


async def test_a_retried_activity_delivers_once(mail: Recorder, data_dir: Path) -> None:
    reminder = pick("reminder", "notification")
    first = await send(reminder)
    again = await send(reminder)
    assert len(mail.arrived) == 1
    assert not first.already_sent
    assert again.already_sent
    assert again.delivered_to == [CSC_ADDRESS]
    marker = read_marker(reminder.notice_id)
    assert marker is not None and marker.complete
    assert marker.message_id == message_id(reminder.notice_id)
    assert [p.parent.name for p in data_dir.rglob("*.json")] == ["sent"]


async def test_a_slow_send_heartbeats_so_a_dead_worker_is_noticed_in_seconds(
    mail: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from activities import notifications

    real_send = notifications._smtp_send

    def slow_send(*args: Any) -> Any:
        time.sleep(0.35)  # a slow mail server
        return real_send(*args)

    monkeypatch.setattr(notifications, "_smtp_send", slow_send)
    monkeypatch.setattr(notifications, "HEARTBEAT_EVERY", 0.05)
    env = ActivityEnvironment()
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    result: SendNoticeResult = await env.run(
        send_notice, SendNoticeInput(notice=pick("reminder", "notification"))
    )
    assert result.delivered_to == [CSC_ADDRESS] and len(mail.arrived) == 1
    assert len(beats) >= 3


async def test_with_the_server_down_it_raises_to_retry_then_delivers_once(
    mail_port: int, outbox: Path
) -> None:
    reminder = pick("reminder", "notification")
    with pytest.raises(ApplicationError) as failed:
        await send(reminder)
    assert failed.value.type == "SmtpUnavailable"
    assert not failed.value.non_retryable
    assert read_marker(reminder.notice_id) is None
    assert not outbox.exists() or not list(outbox.iterdir())
    server = MailServer(mail_port).start()
    try:
        delivered = await send(reminder)
        again = await send(reminder)
    finally:
        server.stop()
    assert delivered.delivered_to == [CSC_ADDRESS]
    assert again.already_sent
    assert len(server.recorder.arrived) == 1


async def test_a_permanent_refusal_is_kept_as_a_dead_letter(mail: Recorder, outbox: Path) -> None:
    escalation = pick("escalation", "notification")
    mail.refuse_rcpt[CHAIR_ADDRESS] = "550 5.1.1 No such mailbox"
    result = await send(escalation)  # completes: no exception, so no retry loop
    assert result.delivered_to == [MANAGER_ADDRESS]
    assert result.undeliverable == [CHAIR_ADDRESS]
    [arrived] = mail.arrived
    assert arrived.rcpt_tos == [MANAGER_ADDRESS]
    assert result.file is not None
    dead = Path(result.file)
    assert dead.parent == outbox
    assert dead.name.endswith(".undeliverable.eml")
    kept = message_from_bytes(dead.read_bytes(), policy=default_policy)
    assert kept["Message-ID"] == message_id(escalation.notice_id)
    assert kept["Subject"] == escalation.subject
    assert str(kept["X-SRO-Undeliverable"]).strip() == f"{CHAIR_ADDRESS}: 550 5.1.1 No such mailbox"
    again = await send(escalation)
    assert again.already_sent
    assert len(mail.arrived) == 1


async def test_a_message_refused_for_everyone_completes_as_a_dead_letter(
    mail: Recorder, outbox: Path
) -> None:
    second = pick("second_escalation", "notification")
    mail.refuse_data = "554 5.7.1 Message refused"
    result = await send(second)
    assert result.transport == "dead_letter"
    assert result.delivered_to == []
    assert result.undeliverable == [f"lscp-executive{LV}"]
    assert mail.arrived == []
    assert [p.name for p in outbox.iterdir()] == [
        f"{second.notice_id.replace(':', '_')}.undeliverable.eml"
    ]


async def test_a_temporary_refusal_retries_only_who_is_left(mail: Recorder) -> None:
    escalation = pick("escalation", "notification")
    mail.refuse_rcpt[CHAIR_ADDRESS] = "451 4.2.0 Mailbox busy, try later"
    with pytest.raises(ApplicationError) as failed:
        await send(escalation)
    assert not failed.value.non_retryable
    assert [a.rcpt_tos for a in mail.arrived] == [[MANAGER_ADDRESS]]
    mail.refuse_rcpt.clear()
    result = await send(escalation)
    assert [a.rcpt_tos for a in mail.arrived] == [[MANAGER_ADDRESS], [CHAIR_ADDRESS]]
    assert sorted(result.delivered_to) == sorted([CHAIR_ADDRESS, MANAGER_ADDRESS])
    # One message: both copies carry the same Message-ID and headers.
    first, retried = (a.message for a in mail.arrived)
    assert first["Message-ID"] == retried["Message-ID"]
    assert first["To"] == retried["To"]


async def test_an_audience_with_no_address_goes_to_the_default_contact_and_is_logged(
    mail: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    stage = next(n for n in liverpool_notices() if n.notice_id.endswith(":stage-1"))
    with caplog.at_level(logging.WARNING, logger="activities.notifications"):
        result = await send(stage)
    assert result.delivered_to == [f"lscp-business-team{LV}"]
    assert [a.rcpt_tos for a in mail.arrived] == [[f"lscp-business-team{LV}"]]
    assert "default contact" in caplog.text
    assert stage.audience in caplog.text


async def test_a_partnership_without_contacts_loses_nothing(
    mail: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outbox: Path
) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "bare.toml").write_text('code = "LSCP"\nname = "No contacts"\n')
    monkeypatch.setenv("SRO_PROFILES", str(profiles))
    reminder = pick("reminder", "notification")
    result = await send(reminder)
    assert result.transport == "dead_letter"
    assert mail.arrived == []
    assert result.file and Path(result.file).exists()
    assert (await send(reminder)).already_sent


async def test_a_partnership_without_a_profile_loses_nothing(
    mail: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outbox: Path
) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "other.toml").write_text('code = "OSCP"\n')
    monkeypatch.setenv("SRO_PROFILES", str(profiles))
    result = await send(pick("reminder", "notification"))
    assert result.transport == "dead_letter"
    assert result.file and Path(result.file).parent == outbox
    assert mail.arrived == []


async def test_without_a_mail_server_or_an_address_the_eml_is_still_written(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "bare.toml").write_text('code = "LSCP"\n')
    monkeypatch.setenv("SRO_PROFILES", str(profiles))
    result = await send(pick("reminder", "notification"))
    assert result.transport == "outbox" and result.delivered_to == []
    assert result.file is not None
    written = BytesParser(policy=default_policy).parsebytes(Path(result.file).read_bytes())
    assert str(written["To"]) == "undisclosed-recipients:;"


async def test_an_unsafe_subject_is_refused_for_good(mail: Recorder, outbox: Path) -> None:
    reminder = pick("reminder", "notification")
    for subject in (
        f"Reminder about {reminder.case_ref}",
        f"[{reminder.case_ref}] Reminder\nBcc: someone@example.org",
        f"[{reminder.case_ref}] " + "x" * 300,
    ):
        unsafe = reminder.model_copy(update={"subject": subject})
        with pytest.raises(ApplicationError) as refused:
            await send(unsafe)
        assert refused.value.type == "UnsafeSubject"
        assert refused.value.non_retryable
    assert mail.arrived == []
    assert not outbox.exists()


def test_subjects_and_headers_of_every_notice_kind_carry_no_child_data() -> None:
    notices = liverpool_notices()
    kinds = {n.kind for n in notices}
    assert kinds == {"reminder", "escalation", "second_escalation", "information_request"}
    for notice in notices:
        subject = checked_subject(notice)
        assert subject.startswith(f"[{notice.case_ref}] ")
        message = build_message(notice, ["someone@liverpool.example.org"])
        whole = message.as_string()
        for personal in PERSONAL:
            assert personal not in subject, (personal, notice.notice_id)
            assert personal not in whole, (personal, notice.notice_id)


# --------------------------------------------------------------------------- no mail server


async def test_without_a_mail_server_each_message_is_an_eml_file(
    data_dir: Path, outbox: Path
) -> None:
    escalation = pick("escalation", "notification")
    result = await send(escalation)
    assert result.transport == "outbox"
    assert result.delivered_to == [CHAIR_ADDRESS, MANAGER_ADDRESS]
    assert result.file is not None
    written = Path(result.file)
    assert written == outbox / f"{escalation.notice_id.replace(':', '_')}.eml"
    assert [p.name for p in outbox.iterdir()] == [written.name]  # no temporary file left
    message = BytesParser(policy=default_policy).parsebytes(written.read_bytes())
    assert message["Message-ID"] == message_id(escalation.notice_id)
    assert message["Subject"] == escalation.subject
    assert message["To"] == f"{CHAIR_ADDRESS}, {MANAGER_ADDRESS}"
    assert message["From"] == DEFAULT_FROM
    assert message["X-SRO-Notice-Id"] == escalation.notice_id
    assert isinstance(message, EmailMessage)
    assert escalation.body in message.get_content()
    before = written.read_bytes()
    again = await send(escalation)
    assert again.already_sent
    assert written.read_bytes() == before
    assert not (data_dir / "sent").exists()


async def test_the_outbox_is_written_off_the_event_loop(
    data_dir: Path, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building and writing a message (with its fsync) takes milliseconds in which a worker
    running it on the event loop would run no workflow task: it runs in a thread."""
    written_on: list[int] = []
    real = notifications._write_atomically

    def recording(target: Path, data: bytes) -> None:
        written_on.append(threading.get_ident())
        real(target, data)

    monkeypatch.setattr(notifications, "_write_atomically", recording)
    result = await send(pick("reminder", "notification"))
    assert result.transport == "outbox" and result.file and Path(result.file).exists()
    assert written_on and written_on[0] != threading.get_ident()


async def test_the_eml_file_has_the_headers_that_would_be_sent(
    mail_port: int, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reminder = pick("information_request")
    server = MailServer(mail_port).start()
    try:
        await send(reminder)
    finally:
        server.stop()
    monkeypatch.delenv("SRO_SMTP_HOST")
    result = await send(reminder)
    assert result.file is not None
    written = BytesParser(policy=default_policy).parsebytes(Path(result.file).read_bytes())
    [arrived] = server.recorder.arrived
    sent = arrived.message

    def headers(message: Any) -> dict[str, str]:
        return {k: str(v) for k, v in message.items() if k != "Date"}

    assert headers(written) == headers(sent)
    assert written.get_content() == sent.get_content()


# --------------------------------------------------------------------------- configuration


def test_smtp_configuration_from_the_environment() -> None:
    assert SmtpConfig.from_env({}) is None
    plain = SmtpConfig.from_env({"SRO_SMTP_HOST": "mail.example.org"})
    assert plain is not None
    assert (plain.port, plain.starttls, plain.user, plain.sender) == (25, False, None, DEFAULT_FROM)
    secured = SmtpConfig.from_env(
        {"SRO_SMTP_HOST": "mail.example.org", "SRO_SMTP_USER": "sro", "SRO_SMTP_PASSWORD": "s3cret"}
    )
    assert secured is not None
    assert (secured.port, secured.starttls) == (587, True)
    assert "s3cret" not in repr(secured)
    explicit = SmtpConfig.from_env(
        {"SRO_SMTP_HOST": "m", "SRO_SMTP_STARTTLS": "1", "SRO_SMTP_PORT": "2525"}
    )
    assert explicit is not None and (explicit.port, explicit.starttls) == (2525, True)
    for bad in (
        {"SRO_SMTP_PORT": "smtp"},
        {"SRO_SMTP_STARTTLS": "maybe"},
        {"SRO_SMTP_FROM": "nobody"},
        {"SRO_SMTP_TIMEOUT": "0"},
    ):
        with pytest.raises(SmtpConfigError):
            SmtpConfig.from_env({"SRO_SMTP_HOST": "m", **bad})


def test_message_id_is_stable_per_notice() -> None:
    assert message_id("LSCP-2026-1A2B3C:notification:reminder:2026-11-09") == message_id(
        "LSCP-2026-1A2B3C:notification:reminder:2026-11-09"
    )
    assert message_id("a") != message_id("b")
    assert message_id("a").endswith("@sro.local>")
    assert len(message_id("a")) == len("<@sro.local>") + 32


def test_results_recorded_before_email_still_load() -> None:
    legacy = SendNoticeResult.model_validate(
        {"notice_id": "n", "delivered_to": "data/outbox/n.json", "already_sent": False}
    )
    assert legacy.delivered_to == ["data/outbox/n.json"]


# --------------------------------------------------------------------------- end to end


@pytest_asyncio.fixture
async def smtp_worker(
    time_skipping_env: WorkflowEnvironment, mail: Recorder
) -> AsyncIterator[tuple[WorkflowEnvironment, str]]:
    queue = f"test-mail-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[ReferralWorkflow],
        activities=ALL_ACTIVITIES,
    ):
        yield time_skipping_env, queue


async def test_an_overdue_deadline_emails_the_reminder_and_the_escalation_once_each(
    smtp_worker: tuple[WorkflowEnvironment, str], mail: Recorder
) -> None:
    env, queue = smtp_worker
    case_ref = f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}"
    today = uk_today(await env.get_current_time())
    handle = await env.client.start_workflow(
        ReferralWorkflow.run,
        ReferralInput(
            case_ref=case_ref,
            referral=referral(today, partnership="LSCP"),
            options=ReferralOptions(search_attributes=False),
        ),
        id=workflow_id(case_ref),
        task_queue=queue,
    )
    try:
        await handle.execute_update(
            "decide",
            decision("triage", CHAIR, outcome="serious_incident", **triage_participants()),
            result_type=DecisionResult,
        )
        await env.sleep(timedelta(days=20))
        await handle.query(ReferralWorkflow.status)  # the worker has caught up
        about = [
            a
            for a in mail.arrived
            if str(a.message["X-SRO-Notice-Id"]).startswith(f"{case_ref}:notification:")
        ]
        by_kind: dict[str, list[Arrived]] = {}
        for arrived in about:
            by_kind.setdefault(str(arrived.message["X-SRO-Kind"]), []).append(arrived)
        assert [a.rcpt_tos for a in by_kind["reminder"]] == [[CSC_ADDRESS]]
        assert [a.rcpt_tos for a in by_kind["escalation"]] == [[CHAIR_ADDRESS, MANAGER_ADDRESS]]
        assert len(by_kind.get("second_escalation", [])) <= 1
        for arrived in about:
            message = arrived.message
            assert str(message["Subject"]).startswith(f"[{case_ref}] ")
            assert "Child A" not in arrived.raw.decode()
        assert len({a.message["Message-ID"] for a in about}) == len(about)
    finally:
        with contextlib.suppress(RPCError):
            await handle.terminate("test finished")


def _parsed_afresh(message: EmailMessage) -> EmailMessage:
    """The same message with every header parsed anew (nothing shared with other messages)."""
    fresh = EmailMessage()
    for name, value in message.items():
        if name not in ("MIME-Version", "Content-Type", "Content-Transfer-Encoding"):
            fresh[name] = str(value)
    fresh.set_content(message.get_content())
    return fresh


@pytest.mark.parametrize(
    "addresses",
    [
        ("Chair <chair@example.org>",),
        tuple(f"Désirée Ñúñez-{n} <member{n}@example.org>" for n in range(12)),  # folded, encoded
        (),
    ],
)
def test_messages_sharing_parsed_headers_are_the_same_bytes_as_parsed_afresh(
    addresses: tuple[str, ...],
) -> None:
    """Repeated headers (From, To, the kind...) are parsed once and shared between messages:
    folding them for one message changes nothing another sends."""
    reminder = pick("reminder")
    first = build_message(reminder, addresses)
    second = build_message(pick("escalation"), addresses)
    again = build_message(reminder, addresses)
    for message in (first, second, again, first):
        assert message.as_bytes() == _parsed_afresh(message).as_bytes()
    assert str(first["To"]) == str(second["To"])


def test_a_header_value_with_a_line_break_is_still_refused() -> None:
    with pytest.raises(ValueError, match="linefeed"):
        build_message(pick("reminder"), ("Chair <chair@example.org>\r\nBcc: x@example.org",))
