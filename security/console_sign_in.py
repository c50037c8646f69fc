"""Who is signed in to the web console: lets the codec server decode for a *person* (issue 11)
rather than for whoever holds its shared token.

The browser sends the console's session cookie to the codec server when the Web UI is configured
with `codec.includeCredentials: true` and the codec endpoint is on the console's host (the cookie
is host-only and SameSite=Lax). The codec server accepts it if, and only if:

- the session is live in the console's session store (console/sessions.py `lookup_user`: not
  signed out, not revoked, not idle too long, not past its absolute lifetime). The lookup notes
  no visit: the Web UI decodes on every refresh, and counting that as activity would keep an
  unattended console signed in until its absolute lifetime;
- the user is still in the users file and their role sees personal data on every case
  (console/permissions.py PERSONAL_DATA_ROLES: coordinators, business managers, chairs). Panel
  members and lead reviewers see a child's details only on some cases, and a codec request does
  not say which case its payloads come from, so they are refused, as are read-only users;
- the user may see every partnership with a profile, for the same reason: the Web UI shows every
  partnership's cases in the namespace.

Configured from the console's own environment: SRO_CONSOLE_SECRET or the console's secret file in
SRO_DATA_DIR (read, never created here: the console creates it), SRO_CONSOLE_USERS (the demo users
only with SRO_CONSOLE_DEMO_USERS=1 on loopback, as for the console), DATABASE_URL and
SRO_CONSOLE_IDLE_MINUTES.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from config import settings
from console.auth import read_secret
from console.config import is_loopback
from console.permissions import PERSONAL_DATA_ROLES
from console.sessions import IDLE_TIMEOUT, SessionPolicy, SessionStore
from console.users import DEMO_USERS_FILE, User, load_users

log = logging.getLogger(__name__)

#: The console's session cookie (console/app.py SESSION_COOKIE; a test keeps the two equal).
SESSION_COOKIE = "sro_console"
NOT_LIVE = "no live console session"


@dataclass(frozen=True)
class Reader:
    """A signed-in console user the codec server decodes for."""

    username: str
    role: str


class StoreLookup:
    """`lookup_user` on the console's session store, opened at first use: the codec server
    starts before the console, which creates the secret and the sessions table."""

    def __init__(self, data_dir: Path, policy: SessionPolicy, url: str | None = None) -> None:
        self._data_dir = data_dir
        self._policy = policy
        self._url = url
        self._store: SessionStore | None = None
        self._lock = threading.Lock()

    def __call__(self, token: str) -> str | None:
        with self._lock:
            if self._store is None:
                secret = read_secret(self._data_dir)
                if secret is None:  # no console has run yet, so nobody is signed in
                    return None
                self._store = SessionStore(secret, self._policy, url=self._url)
        return self._store.lookup_user(token)


class UsersFile:
    """The console's users file, re-read when it changes (a removed user is refused at once).
    Unlike the console, an unreadable file refuses everyone: no stale role grants decryption."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()

    def get(self, username: str) -> User | None:
        with self._lock:
            try:
                stamp = self.path.stat().st_mtime_ns
                if stamp != self._stamp:
                    self._users = load_users(self.path)
                    self._stamp = stamp
            except Exception:
                log.exception("the console's users file cannot be read: refusing console users")
                self._users, self._stamp = {}, None
            return self._users.get(username)


class ConsoleSignIn:
    """Decides whether a console session cookie lets its user decode (blocking: a database read;
    the codec server calls `check` in a thread)."""

    def __init__(
        self,
        lookup: Callable[[str], str | None],
        users: Callable[[str], User | None],
        partnerships: Iterable[str],
        cookie: str = SESSION_COOKIE,
    ) -> None:
        self._lookup = lookup
        self._users = users
        self._partnerships = frozenset(partnerships)
        self.cookie = cookie

    def check(self, token: str) -> Reader | str:
        """The reader, or why they are refused (said to the caller: no personal data in it)."""
        username = self._lookup(token)
        if username is None:
            return NOT_LIVE
        user = self._users(username)
        if user is None:  # removed from the users file: their sessions are over
            return NOT_LIVE
        if user.role not in PERSONAL_DATA_ROLES:
            return f"the {user.role.label} role may not see personal data on every case"
        if not all(user.may_see(code) for code in self._partnerships):
            return "the user may not see every partnership's cases"
        return Reader(user.username, user.role.value)


def enabled_from_env() -> bool:
    return settings().codec_console_sessions


def _idle_from_env() -> timedelta:
    minutes = settings().console_idle_minutes  # a SettingsError (a ValueError) when unusable
    return IDLE_TIMEOUT if minutes is None else timedelta(minutes=minutes)


def users_path_from_env(host: str) -> Path:
    """SRO_CONSOLE_USERS; the demo users (a published password) only where the console allows
    them: asked for by the dev stack (SRO_CONSOLE_DEMO_USERS=1) and listening on loopback."""
    given = settings().console_users
    if given:
        return given
    asked = settings().console_demo_users
    if not (asked and is_loopback(host)):
        raise ValueError(
            "SRO_CODEC_CONSOLE_SESSIONS needs the console's users file: set SRO_CONSOLE_USERS "
            "(the demo users are accepted only in the dev stack, on a loopback address)"
        )
    return DEMO_USERS_FILE


def from_env(host: str, partnerships: Iterable[str]) -> ConsoleSignIn:
    """Console sign-in for the codec server, configured as the console is (see the module)."""
    data_dir = settings().data_dir
    read_secret(data_dir)  # a bad SRO_CONSOLE_SECRET stops the start, not a request
    policy = SessionPolicy(idle=_idle_from_env())
    users = UsersFile(users_path_from_env(host))
    load_users(users.path)  # a users file that cannot be used stops the start too
    return ConsoleSignIn(StoreLookup(data_dir, policy), users.get, partnerships)
