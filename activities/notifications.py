"""The one way notices leave the system: reminders, escalations and information requests, by email.

Each notice becomes one RFC 5322 message (`build_message`) addressed to the people and groups in
the partnership's `[contacts]` (safeguarding/contacts.py; read from the current profile when the
message is sent, so a changed address applies to running cases too).

- **SMTP** when `SRO_SMTP_HOST` is set (see `SmtpConfig.from_env` for the other variables).
- **Outbox folder** otherwise (`make run`-style local use): the message is written as
  `<notice id>.eml` into SRO_OUTBOX (default `$SRO_DATA_DIR/outbox`), atomically, and never
  rewritten, so a retried activity writes it once.

Exactly once across retries: the message has a stable Message-ID derived from the notice id, and
once the mail server has accepted it a sent-marker (`$SRO_DATA_DIR/sent/<notice id>.json`) is
written atomically; every attempt reads the marker first and sends only to addresses not yet
accepted. The one window left: a worker that dies after the server accepted the message and
before the marker is written sends it again on the retry. Both copies carry the same Message-ID,
so mail systems that de-duplicate on it (and people's mail clients threading on it) see one
message. Several workers must share the data folder (or run one worker) for the markers to count.

Failures: a connection that fails, a timeout or a temporary (4xx) reply raises, so Temporal retries
with backoff; addresses already accepted are not sent to again. A permanent (5xx) refusal does
not block the workflow and loses nothing: the message is written to the outbox folder as a dead
letter (`<notice id>.undeliverable.eml`, with the server's reply in `X-SRO-Undeliverable`
headers), logged as an error, and the activity completes. So is a notice with no address at all.

Subjects are built by the domain as "[<case ref>] ..." and never carry child data; a subject that
does not have that shape is refused outright (`UnsafeSubject`, not retried). Logs carry the case
reference, the notice kind and the contact keys, never a body.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy as email_policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, field_validator
from temporalio import activity
from temporalio.exceptions import ApplicationError

from config import Settings, settings
from safeguarding.case import Notice
from safeguarding.contacts import Recipients, recipients_for
from safeguarding.profiles import ProfileError, load_profiles
from safeguarding.settings import PartnershipSettings

log = logging.getLogger(__name__)

MESSAGE_ID_DOMAIN = "sro.local"
DEFAULT_FROM = "Safeguarding Review Orchestrator <no-reply@sro.local>"
SUBJECT_MAX = 200
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_CASE_REF = re.compile(r"^[A-Z][A-Za-z0-9_-]{1,63}$")

Transport = Literal["smtp", "outbox", "dead_letter"]


class SendNoticeInput(BaseModel):
    notice: Notice


class SendNoticeResult(BaseModel):
    notice_id: str
    #: The addresses the message went to (accepted by the mail server, or on the outbox file).
    delivered_to: list[str] = Field(default_factory=list)
    already_sent: bool
    transport: Transport = "outbox"
    #: The file written: the outbox message, or the dead letter.
    file: str | None = None
    #: Addresses the mail server refused for good (the message is also a dead letter).
    undeliverable: list[str] = Field(default_factory=list)

    @field_validator("delivered_to", mode="before")
    @classmethod
    def _legacy(cls, value: Any) -> Any:
        # Results recorded before email (in running cases' histories) held the file path here.
        return [value] if isinstance(value, str) else value


# --------------------------------------------------------------------------- configuration


class SmtpConfigError(ValueError):
    """An SRO_SMTP_* variable that cannot be used; the message names it."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    starttls: bool
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpConfig | None:
        """The mail server from the environment, or None (write to the outbox folder):

        SRO_SMTP_HOST      the server; unset or empty: no email, the outbox folder instead
        SRO_SMTP_PORT      default 587 with STARTTLS, 25 without
        SRO_SMTP_STARTTLS  1/0 (default: 1 when SRO_SMTP_USER is set, so a password never goes
                           in clear; 0 otherwise)
        SRO_SMTP_USER, SRO_SMTP_PASSWORD   log in (after STARTTLS) when the user is set
        SRO_SMTP_FROM      the From header (default "Safeguarding Review Orchestrator
                           <no-reply@sro.local>"; set a real address of the partnership's)
        SRO_SMTP_TIMEOUT   seconds for each exchange with the server (default 10)
        """
        env = settings().environ("SRO_SMTP_") if env is None else env
        host = env.get("SRO_SMTP_HOST", "").strip()
        if not host:
            return None
        user = env.get("SRO_SMTP_USER", "").strip() or None
        starttls = _flag(env, "SRO_SMTP_STARTTLS", default=user is not None)
        port_text = env.get("SRO_SMTP_PORT", "").strip()
        port = 587 if starttls else 25
        if port_text:
            if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
                raise SmtpConfigError(f"SRO_SMTP_PORT={port_text!r} is not a port number")
            port = int(port_text)
        sender = env.get("SRO_SMTP_FROM", "").strip() or DEFAULT_FROM
        if "@" not in parseaddr(sender)[1] or "\n" in sender or "\r" in sender:
            raise SmtpConfigError(f"SRO_SMTP_FROM={sender!r} is not an email address")
        timeout_text = env.get("SRO_SMTP_TIMEOUT", "").strip() or "10"
        try:
            timeout = float(timeout_text)
        except ValueError:
            raise SmtpConfigError(f"SRO_SMTP_TIMEOUT={timeout_text!r} is not seconds") from None
        if not 0 < timeout <= 120:
            raise SmtpConfigError(f"SRO_SMTP_TIMEOUT={timeout_text!r}: use 1 to 120 seconds")
        return cls(
            host=host,
            port=port,
            starttls=starttls,
            sender=sender,
            user=user,
            password=env.get("SRO_SMTP_PASSWORD") or None,
            timeout=timeout,
        )


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SmtpConfigError(f"{name}={raw!r}: use 1 or 0")


def data_dir() -> Path:
    return settings().data_dir


def outbox_dir(current: Settings | None = None) -> Path:
    current = current or settings()
    return current.outbox or current.data_dir / "outbox"


def sent_dir() -> Path:
    return data_dir() / "sent"


def _file_stem(notice_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", notice_id)


def message_id(notice_id: str) -> str:
    """The same for every attempt at one notice, so receivers can de-duplicate on it."""
    digest = hashlib.sha256(notice_id.encode()).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


# --------------------------------------------------------------------------- the message


class UnsafeSubject(ValueError):
    """A subject that is not the domain's "[<case ref>] ..." line."""


def checked_subject(notice: Notice) -> str:
    """The notice's subject, if it has the shape the domain builds: "[<case ref>] <text>" on one
    printable line. Anything else might carry what the domain never puts there (a child's name
    pasted in by a future change), so it is refused rather than sent."""
    subject = notice.subject
    prefix = f"[{notice.case_ref}] "
    if not _CASE_REF.match(notice.case_ref):
        raise UnsafeSubject(f"notice {notice.notice_id}: case reference has an unexpected shape")
    if not subject.startswith(prefix) or len(subject) <= len(prefix):
        raise UnsafeSubject(f"notice {notice.notice_id}: subject does not start with {prefix!r}")
    if len(subject) > SUBJECT_MAX or not subject.isprintable():
        raise UnsafeSubject(
            f"notice {notice.notice_id}: subject is not one printable line of at most "
            f"{SUBJECT_MAX} characters"
        )
    return subject


class _HeaderClasses(HeaderRegistry):
    """The modern email policy's header registry, each header class made once. The standard
    registry makes a new class (`type(...)`) every time a header is set or counted, twenty-odd
    a message; the classes hold no state, so one for each header name serves every message."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made

    def map_to_type(self, name: str, cls: type[BaseHeader]) -> None:
        super().map_to_type(name, cls)
        self._made.pop(name.lower(), None)


#: The policy a notice's email is built with: the standard library's modern policy (its header
#: checks and folding), with the header classes made once (`_HeaderClasses`).
MESSAGE_POLICY = email_policy.default.clone(header_factory=_HeaderClasses())


@lru_cache(maxsize=512)
def _parsed_header(name: str, value: str) -> str:
    """The header as the modern email policy stores it, parsed once for each value. The From,
    the To and the kind repeat from notice to notice, and parsing them (the policy's header
    registry) was a third of building a message. The policy checks the value as it would on
    assignment (a line break is refused); a parsed header is never changed (folding it for
    sending makes new strings), so messages can share it."""
    stored: str = MESSAGE_POLICY.header_store_parse(name, value)[1]
    return stored


def build_message(
    notice: Notice, addresses: tuple[str, ...] | list[str], sender: str = DEFAULT_FROM
) -> EmailMessage:
    """The email for a notice: the same headers whether it is sent or written to the outbox."""
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["Message-ID"] = message_id(notice.notice_id)
    message["Date"] = formatdate(usegmt=True)
    message["From"] = _parsed_header("From", sender)
    to = ", ".join(addresses) if addresses else "undisclosed-recipients:;"
    message["To"] = _parsed_header("To", to)
    message["Subject"] = checked_subject(notice)
    message["Auto-Submitted"] = _parsed_header("Auto-Submitted", "auto-generated")
    message["X-SRO-Notice-Id"] = notice.notice_id
    message["X-SRO-Case-Ref"] = notice.case_ref
    message["X-SRO-Partnership"] = _parsed_header("X-SRO-Partnership", notice.partnership)
    message["X-SRO-Kind"] = _parsed_header("X-SRO-Kind", notice.kind)
    lines = [notice.body, "", f"For: {notice.audience}"]
    if notice.due_on is not None:
        lines.append(f"Due: {notice.due_on.isoformat()}")
    lines += [
        "",
        "-- ",
        "Sent automatically by the Safeguarding Review Orchestrator for "
        f"{notice.partnership} (notice {notice.notice_id}).",
        "The case record has the details. Please do not reply to this message.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


# --------------------------------------------------------------------------- files


def _write_atomically(target: Path, data: bytes) -> None:
    """Write a whole file or nothing: a crash never leaves half a message or marker."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class SentRecord(BaseModel):
    """The sent-marker: what the mail server has accepted (or refused for good) for a notice."""

    notice_id: str
    message_id: str
    delivered_to: list[str] = Field(default_factory=list)
    #: Permanently refused addresses, with the server's reply.
    refused: dict[str, str] = Field(default_factory=dict)
    complete: bool = False
    updated_at: datetime | None = None


def _marker_path(notice_id: str) -> Path:
    return sent_dir() / f"{_file_stem(notice_id)}.json"


def read_marker(notice_id: str) -> SentRecord | None:
    path = _marker_path(notice_id)
    try:
        return SentRecord.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None


def _write_marker(record: SentRecord) -> None:
    record.updated_at = datetime.now(UTC)
    _write_atomically(_marker_path(record.notice_id), record.model_dump_json(indent=2).encode())


def _dead_letter(mail_id: str, message: EmailMessage, why: dict[str, str]) -> Path:
    """Keep an undeliverable message in the outbox folder, with why, for a person to act on."""
    for who, reason in why.items():
        message["X-SRO-Undeliverable"] = f"{who}: {' '.join(reason.split())}"[:900]
    target = outbox_dir() / f"{_file_stem(mail_id)}.undeliverable.eml"
    _write_atomically(target, message.as_bytes())
    return target


# --------------------------------------------------------------------------- addresses


def _addresses(notice: Notice) -> Recipients:
    """Resolve the notice's recipients under the partnership's current profile."""
    try:
        profiles = load_profiles()
    except ProfileError as err:
        # A profile broke after the worker started: retry until someone fixes it.
        raise ApplicationError(
            f"cannot read the partnership profiles to address notice {notice.notice_id}: {err}",
            type="ProfilesUnreadable",
        ) from None
    settings = profiles.get(notice.partnership)
    if settings is None:
        log.error(
            "notice %s for case %s: no profile for %s",
            notice.kind,
            notice.case_ref,
            notice.partnership,
        )
        settings = PartnershipSettings()  # no contacts: the message is kept, not lost
    recipients = recipients_for(notice, settings)
    if recipients.unmatched and recipients.used_default:
        log.warning(
            "notice %s for case %s: no address for %s; sent to %s's default contact",
            notice.kind,
            notice.case_ref,
            "; ".join(repr(u) for u in recipients.unmatched),
            notice.partnership,
        )
    return recipients


# --------------------------------------------------------------------------- the activity


@dataclass(frozen=True)
class Outgoing:
    """One message ready to leave, a notice's or a scheduled report's (activities/report_mail.py):
    delivered by the same outbox, SMTP, sent-marker and dead-letter rules."""

    #: Stable across attempts: the Message-ID, the outbox file and the sent-marker derive from it.
    mail_id: str
    #: Builds the message for these addresses and this From (a fresh Date on every attempt).
    build: Callable[[tuple[str, ...], str], EmailMessage]
    recipients: Recipients
    #: What the log calls it ("notice reminder for case X"): never anything about a child.
    label: str
    #: Who it was for when nobody has an address (the dead letter says so).
    audience: str


def _notice_outgoing(notice: Notice) -> Outgoing:
    return Outgoing(
        mail_id=notice.notice_id,
        build=lambda addresses, sender: build_message(notice, addresses, sender),
        recipients=_addresses(notice),
        label=f"notice {notice.kind} for case {notice.case_ref}",
        audience=notice.audience,
    )


@activity.defn
async def send_notice(input: SendNoticeInput) -> SendNoticeResult:
    notice = input.notice
    try:
        config = SmtpConfig.from_env()
        checked_subject(notice)
    except SmtpConfigError as err:
        # Retried: the worker picks up a corrected environment when it is restarted.
        raise ApplicationError(str(err), type="SmtpConfiguration") from None
    except UnsafeSubject as err:
        raise ApplicationError(str(err), type="UnsafeSubject", non_retryable=True) from None
    return await deliver(notice.notice_id, lambda: _notice_outgoing(notice), config)


async def deliver(
    mail_id: str, outgoing: Callable[[], Outgoing], config: SmtpConfig | None
) -> SendNoticeResult:
    """Send a message once across retries: to the outbox folder without a mail server, else by
    SMTP. `outgoing` is called only when something is left to send (it reads the profile, which
    may have broken since: a message already sent is not held up by that)."""
    if config is None:
        # Off the event loop: building the message and writing it (with an fsync) take
        # milliseconds, in which the worker would otherwise run no workflow task.
        return await asyncio.to_thread(_outbox_once, mail_id, outgoing)
    return await _by_smtp(mail_id, outgoing, config)


def _outbox_once(mail_id: str, outgoing: Callable[[], Outgoing]) -> SendNoticeResult:
    current = settings()  # read once: reading the settings costs tens of microseconds
    target = outbox_dir(current) / f"{_file_stem(mail_id)}.eml"
    if target.exists():
        return SendNoticeResult(
            notice_id=mail_id, already_sent=True, transport="outbox", file=str(target)
        )
    return _to_outbox(target, outgoing(), current.smtp_from or DEFAULT_FROM)


def _to_outbox(target: Path, mail: Outgoing, sender: str) -> SendNoticeResult:
    recipients = mail.recipients
    if recipients.lost:
        log.warning("%s: no address for %r and no default contact", mail.label, mail.audience)
    message = mail.build(recipients.addresses, sender)
    _write_atomically(target, message.as_bytes())
    log.info(
        "%s to %s written to the outbox",
        mail.label,
        ", ".join(recipients.matched) or "the default contact",
    )
    return SendNoticeResult(
        notice_id=mail.mail_id,
        delivered_to=list(recipients.addresses),
        already_sent=False,
        transport="outbox",
        file=str(target),
    )


#: How often a send in progress tells Temporal the worker is alive. The workflow's heartbeat
#: timeout is a few times this: a worker that dies mid-send is noticed in seconds, and the notice
#: retried on another, rather than after the whole start-to-close timeout.
HEARTBEAT_EVERY = 2.0

T = TypeVar("T")


async def _heartbeating(work: Awaitable[T]) -> T:
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
        if done:
            return task.result()
        activity.heartbeat()


async def _by_smtp(
    mail_id: str, outgoing: Callable[[], Outgoing], config: SmtpConfig
) -> SendNoticeResult:
    record = read_marker(mail_id)
    if record is not None and record.complete:
        return _result(record, already_sent=True)
    mail = outgoing()
    record = record or SentRecord(notice_id=mail_id, message_id=message_id(mail_id))
    recipients = mail.recipients
    message = mail.build(recipients.addresses, config.sender)
    if recipients.lost:
        return _nobody_to_send_to(mail, record, message)
    done = set(record.delivered_to) | set(record.refused)
    remaining = [a for a in recipients.addresses if a not in done]
    if not remaining:
        record.complete = True
        _write_marker(record)
        return _result(record, already_sent=True)
    try:
        refused = await _heartbeating(asyncio.to_thread(_smtp_send, config, message, remaining))
    except _Permanent as err:
        refused = {address: (err.code, err.reply) for address in remaining}
    except (OSError, smtplib.SMTPException) as err:
        # Not reached the server, or it said "not now": Temporal retries with backoff.
        raise ApplicationError(
            f"{mail.label} ({mail.mail_id}) not sent (will retry): {_describe(err)}",
            type="SmtpUnavailable",
        ) from None
    accepted = [a for a in remaining if a not in refused]
    permanent = {a: f"{code} {reply}" for a, (code, reply) in refused.items() if code >= 500}
    temporary = {a: f"{code} {reply}" for a, (code, reply) in refused.items() if code < 500}
    dead: Path | None = None
    if permanent:
        # Kept before the marker says so: a crash in between rewrites the same dead letter.
        dead = _dead_letter(mail.mail_id, message, {**record.refused, **permanent})
        log.error(
            "%s: refused for good for %d address(es) (%s); kept as a dead letter in %s",
            mail.label,
            len(permanent),
            "; ".join(f"{a}: {r}" for a, r in permanent.items()),
            dead,
        )
    # Written only now that the server has accepted the message for `accepted`. A crash just
    # before this line is the one way a message goes out twice (same Message-ID; see the top).
    record.delivered_to += accepted
    record.refused.update(permanent)
    record.complete = not temporary
    _write_marker(record)
    if accepted:
        log.info(
            "%s emailed to %s (%d address(es))",
            mail.label,
            ", ".join(recipients.matched) or "the default contact",
            len(accepted),
        )
    if temporary:
        raise ApplicationError(
            f"{mail.label} ({mail.mail_id}): {len(temporary)} address(es) refused for now "
            f"({'; '.join(temporary.values())}); will retry those",
            type="SmtpUnavailable",
        )
    return _result(record, already_sent=False, file=str(dead) if dead else None)


def _nobody_to_send_to(
    mail: Outgoing, record: SentRecord, message: EmailMessage
) -> SendNoticeResult:
    reason = f"no address for {mail.audience!r} and no default contact"
    dead = _dead_letter(mail.mail_id, message, {"(nobody)": reason})
    record.refused["(nobody)"] = reason
    record.complete = True
    _write_marker(record)
    log.error("%s: %s; kept as a dead letter in %s", mail.label, reason, dead)
    return _result(record, already_sent=False, file=str(dead))


def _result(record: SentRecord, *, already_sent: bool, file: str | None = None) -> SendNoticeResult:
    return SendNoticeResult(
        notice_id=record.notice_id,
        delivered_to=list(record.delivered_to),
        already_sent=already_sent,
        transport="smtp" if record.delivered_to else "dead_letter",
        file=file,
        undeliverable=list(record.refused),
    )


# --------------------------------------------------------------------------- SMTP


class _Permanent(Exception):
    """The server refused the message itself for good (sender or content): every address."""

    def __init__(self, code: int, reply: str) -> None:
        super().__init__(f"{code} {reply}")
        self.code = code
        self.reply = reply


def _reply(raw: bytes | str) -> str:
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())


def _smtp_send(
    config: SmtpConfig, message: EmailMessage, to: list[str]
) -> dict[str, tuple[int, str]]:
    """Send (blocking; run in a thread). Returns the addresses the server refused, with its
    reply; raises `_Permanent` for a permanent refusal of the whole message, and smtplib's or
    the socket's errors for anything to retry."""
    with smtplib.SMTP(
        config.host, config.port, timeout=config.timeout, local_hostname=socket.gethostname()
    ) as smtp:
        smtp.ehlo()
        if config.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if config.user:
            smtp.login(config.user, config.password or "")
        try:
            refused = smtp.send_message(message, from_addr=config.envelope_sender, to_addrs=to)
        except smtplib.SMTPRecipientsRefused as err:
            refused = err.recipients
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as err:
            if err.smtp_code >= 500:
                raise _Permanent(err.smtp_code, _reply(err.smtp_error)) from None
            raise
    return {address: (code, _reply(reply)) for address, (code, reply) in refused.items()}


def _describe(err: BaseException) -> str:
    if isinstance(err, smtplib.SMTPResponseException):
        return f"{type(err).__name__}: {err.smtp_code} {_reply(err.smtp_error)}"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
