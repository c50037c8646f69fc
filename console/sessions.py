"""Server-side console sessions, kept in the register's database (table `console_sessions`).

The cookie carries only a random token (32 bytes, URL-safe); the row is keyed by an HMAC of it
under the console secret, so a copy of the database is no key to anyone's session. A session
ends when its user signs out, when an administrator revokes it (`python -m console.users revoke
NAME`), after its absolute lifetime (default 12 h) and after it was idle too long (default
30 min). An ended session is never revived: the cookie is then worth nothing.

The app reads and writes `request.session` (a dict) as with Starlette's signed-cookie sessions;
`ServerSessions` loads it before the request and stores it after. A change of the "user" key is
a sign-in or a sign-out: the old session ends and a new token is issued (no session fixation).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from register import db
from register.models import ConsoleSession

log = logging.getLogger("console.sessions")

#: Defaults: the absolute lifetime of a session and how long it may sit idle.
ABSOLUTE_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(minutes=30)
#: `last_seen_at` is written at most this often (not one database write per page).
TOUCH_EVERY = timedelta(seconds=60)
#: Ended sessions of signed-in users are kept this long (who was signed in when), then purged.
KEEP_ENDED = timedelta(days=7)
PURGE_EVERY = timedelta(minutes=10)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class SessionPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    absolute: timedelta = Field(ABSOLUTE_LIFETIME, gt=timedelta(0))
    idle: timedelta = Field(IDLE_TIMEOUT, gt=timedelta(0))


@dataclass
class Loaded:
    token: str
    username: str | None
    data: dict[str, Any]
    last_seen_at: datetime


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class SessionStore:
    """The `console_sessions` table. Synchronous (SQLAlchemy): the middleware calls it in a
    thread."""

    def __init__(
        self,
        secret: str,
        policy: SessionPolicy | None = None,
        *,
        url: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._key = secret.encode()
        self.policy = policy or SessionPolicy()
        # Resolved once: the sessions stay where the console started, whatever the env says later.
        self.url = db.database_url(url)
        self._clock = clock
        self._last_purge: datetime | None = None
        db.ensure_schema(url)

    def now(self) -> datetime:
        return _naive_utc(self._clock())

    def _hash(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    def open(self, username: str | None, data: dict[str, Any]) -> str:
        """A new session; returns its token (for the cookie)."""
        now = self.now()
        token = secrets.token_urlsafe(32)
        with db.session(self.url) as s:
            s.add(
                ConsoleSession(
                    token_hash=self._hash(token),
                    username=username,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self.policy.absolute,
                    data=json.dumps(data),
                )
            )
        self._maybe_purge(now)
        return token

    def load(self, token: str) -> Loaded | None:
        """The live session with this token (None: unknown, ended, expired or idle too long)."""
        if not _TOKEN.match(token):
            return None
        now = self.now()
        with db.session(self.url) as s:
            row = s.get(ConsoleSession, self._hash(token))
            if row is None or row.revoked_at is not None:
                return None
            why = None
            if now >= row.expires_at:
                why = "expired"
            elif now - row.last_seen_at > self.policy.idle:
                why = "idle"
            if why is not None:
                row.revoked_at, row.revoked_why = now, why
                return None
            try:
                data = json.loads(row.data)
            except ValueError:
                data = {}
            return Loaded(
                token, row.username, data if isinstance(data, dict) else {}, row.last_seen_at
            )

    def lookup_user(self, token: str) -> str | None:
        """Who is signed in with this token, if the session is live (the rules of `load`); None
        otherwise. Read-only, for the codec server (security/console_sign_in.py): it notes no
        visit, so decoding in the Web UI (which re-decodes whenever a page refreshes) never
        keeps an unattended console signed in, and it ends nothing (the console does that).
        A person signed in with the identity provider is not a users-file user of the same name:
        their sessions are not looked up here (the codec server takes their access tokens)."""
        if not _TOKEN.match(token):
            return None
        now = self.now()
        with db.session(self.url) as s:
            row = s.get(ConsoleSession, self._hash(token))
            if row is None or row.revoked_at is not None or row.username is None:
                return None
            if now >= row.expires_at or now - row.last_seen_at > self.policy.idle:
                return None
            if _signed_in_with_provider(row.data):
                return None
            return row.username

    def save(self, loaded: Loaded, data: dict[str, Any]) -> None:
        """Store changed data, and note the visit (at most once per TOUCH_EVERY)."""
        now = self.now()
        changed = data != loaded.data
        if not changed and now - loaded.last_seen_at < TOUCH_EVERY:
            return
        values: dict[str, Any] = {"last_seen_at": now}
        if changed:
            values["data"] = json.dumps(data)
        with db.session(self.url) as s:
            s.execute(
                update(ConsoleSession)
                .where(col(ConsoleSession.token_hash) == self._hash(loaded.token))
                .where(col(ConsoleSession.revoked_at).is_(None))
                .values(**values)
            )

    def end(self, token: str, why: str) -> None:
        with db.session(self.url) as s:
            s.execute(
                update(ConsoleSession)
                .where(col(ConsoleSession.token_hash) == self._hash(token))
                .where(col(ConsoleSession.revoked_at).is_(None))
                .values(revoked_at=self.now(), revoked_why=why[:20])
            )

    def revoke_user(self, username: str) -> int:
        """End every session of this user; returns how many were not ended yet."""
        return revoke_sessions(username, self.url, self.now())

    def live_sessions(self, username: str) -> list[ConsoleSession]:
        now = self.now()
        with db.session(self.url) as s:
            rows = s.exec(
                select(ConsoleSession)
                .where(col(ConsoleSession.username) == username)
                .where(col(ConsoleSession.revoked_at).is_(None))
                .where(col(ConsoleSession.expires_at) > now)
                .where(col(ConsoleSession.last_seen_at) >= now - self.policy.idle)
            ).all()
            return list(rows)

    def _maybe_purge(self, now: datetime) -> None:
        if self._last_purge is not None and now - self._last_purge < PURGE_EVERY:
            return
        self._last_purge = now
        try:
            self.purge(now)
        except Exception:  # housekeeping must never stop a sign-in
            log.exception("could not purge old console sessions")

    def purge(self, now: datetime | None = None) -> int:
        """Delete anonymous sessions no longer live and ended sessions older than KEEP_ENDED."""
        now = now or self.now()
        stale = now - self.policy.idle
        with db.session(self.url) as s:
            result = s.execute(
                delete(ConsoleSession).where(
                    or_(
                        col(ConsoleSession.username).is_(None)
                        & (
                            (col(ConsoleSession.last_seen_at) < stale)
                            | col(ConsoleSession.revoked_at).is_not(None)
                            | (col(ConsoleSession.expires_at) <= now)
                        ),
                        col(ConsoleSession.expires_at) < now - KEEP_ENDED,
                        col(ConsoleSession.revoked_at) < now - KEEP_ENDED,
                    )
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _signed_in_with_provider(data: str) -> bool:
    """A session of a person signed in with the identity provider (console/routes/sso.py)."""
    try:
        loaded = json.loads(data)
    except ValueError:
        return False
    return isinstance(loaded, dict) and "sso" in loaded


def revoke_sessions(username: str, url: str | None = None, now: datetime | None = None) -> int:
    """End every session of this user (an administrator's revoke: `console.users revoke`).
    Returns how many were not ended yet. Needs no secret: rows are found by user name."""
    db.ensure_schema(url)
    moment = _naive_utc(now or datetime.now(UTC))
    with db.session(url) as s:
        result = s.execute(
            update(ConsoleSession)
            .where(col(ConsoleSession.username) == username)
            .where(col(ConsoleSession.revoked_at).is_(None))
            .values(revoked_at=moment, revoked_why="revoked")
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class ServerSessions:
    """ASGI middleware: `scope["session"]` from the session store, written back on response."""

    def __init__(
        self,
        app: ASGIApp,
        store: SessionStore,
        *,
        cookie: str,
        https_only: bool = False,
        skip_prefixes: tuple[str, ...] = ("/static/", "/healthz"),
    ) -> None:
        self.app = app
        self.store = store
        self.cookie = cookie
        self.https_only = https_only
        self.skip_prefixes = skip_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefixes):
            scope["session"] = {}
            await self.app(scope, receive, send)
            return
        token = _cookie_value(scope, self.cookie)
        loaded = await asyncio.to_thread(self.store.load, token) if token else None
        session: dict[str, Any] = dict(loaded.data) if loaded else {}
        if loaded and loaded.username:
            session["user"] = loaded.username
        scope["session"] = session
        # The app sees whether a cookie named a session that has ended (to say so).
        scope["session_ended"] = bool(token) and loaded is None

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                header = await asyncio.to_thread(self._store, token, loaded, session)
                if header is not None:
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"set-cookie", header.encode())]
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _store(
        self, token: str | None, loaded: Loaded | None, session: dict[str, Any]
    ) -> str | None:
        """Persist the session; the Set-Cookie header value when the cookie must change."""
        user = session.get("user")
        user = user if isinstance(user, str) else None
        data = {k: v for k, v in session.items() if k != "user"}
        before = loaded.username if loaded else None
        if loaded is not None and user == before:
            self.store.save(loaded, data)
            return None
        if loaded is not None:  # signed in, signed out or removed: this token is done
            self.store.end(loaded.token, "signed_out" if user is None else "signed_in")
        if user is None and not data:
            return self._cookie("", 0) if token else None
        new = self.store.open(user, data)
        return self._cookie(new, int(self.store.policy.absolute.total_seconds()))

    def _cookie(self, value: str, max_age: int) -> str:
        parts = [f"{self.cookie}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
        parts.append("SameSite=Lax")
        if self.https_only:
            parts.append("Secure")
        return "; ".join(parts)


def _cookie_value(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                continue
            if name in jar:
                return jar[name].value
    return None
