"""Sign-in sessions, CSRF tokens and login rate limiting.

Sessions are Starlette's signed cookie sessions (itsdangerous): HttpOnly, SameSite=Lax, Secure
when SRO_CONSOLE_HTTPS_ONLY is set, signed with SRO_CONSOLE_SECRET (or a random secret the
console writes once into the data folder). The session holds the user name, a CSRF token and the
sign-in time; every POST must carry the session's CSRF token.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

SECRET_FILE_NAME = "console-secret"
MIN_SECRET_LENGTH = 32


def load_secret(data_dir: Path) -> str:
    """SRO_CONSOLE_SECRET, or the secret in the data folder (created on first use, mode 0600)."""
    given = os.environ.get("SRO_CONSOLE_SECRET", "").strip()
    if given:
        if len(given) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SRO_CONSOLE_SECRET must have at least {MIN_SECRET_LENGTH} characters"
            )
        return given
    path = data_dir / SECRET_FILE_NAME
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) >= MIN_SECRET_LENGTH:
            return secret
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    return secret


def csrf_token(session: dict[str, Any]) -> str:
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_valid(session: dict[str, Any], given: object) -> bool:
    expected = session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(given)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


class LoginLimiter:
    """At most `per_user` failed sign-ins per user name and `per_address` per client address in
    `window` seconds; further attempts are refused until the oldest failure ages out."""

    def __init__(
        self,
        per_user: int = 5,
        per_address: int = 20,
        window: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_user = per_user
        self.per_address = per_address
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        waits = []
        for key, limit in (
            (f"u:{username.lower()}", self.per_user),
            (f"a:{address}", self.per_address),
        ):
            failures = self._recent(key)
            if len(failures) >= limit:
                waits.append(self.window - (self._clock() - failures[0]))
        return int(max(waits)) + 1 if waits else 0

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        for key in (f"u:{username.lower()}", f"a:{address}"):
            self._recent(key).append(now)
        if len(self._failures) > 10_000:  # bound the memory a flood can take
            self._failures = {k: v for k, v in self._failures.items() if v}

    def succeeded(self, username: str) -> None:
        self._failures.pop(f"u:{username.lower()}", None)
