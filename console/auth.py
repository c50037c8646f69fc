"""CSRF tokens, the console secret, sign-in throttling and the client's address.

Sessions are server-side (console/sessions.py): the cookie (HttpOnly, SameSite=Lax, Secure when
SRO_CONSOLE_HTTPS_ONLY is set) holds only a random token. The session holds the user name, a
CSRF token and the sign-in time; every POST must carry the session's CSRF token. The secret
(SRO_CONSOLE_SECRET, or a random one the console writes once into the data folder) keys the
session table's token hashes.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from config import settings

SECRET_FILE_NAME = "console-secret"
MIN_SECRET_LENGTH = 32


def read_secret(data_dir: Path) -> str | None:
    """SRO_CONSOLE_SECRET, or the secret in the data folder if there is a usable one; never
    creates it (the codec server reads it too: a second writer could race the console and leave
    the two with different secrets)."""
    given = settings().console_secret
    if given:
        if len(given) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SRO_CONSOLE_SECRET must have at least {MIN_SECRET_LENGTH} characters"
            )
        return given
    try:
        secret = (data_dir / SECRET_FILE_NAME).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return secret if len(secret) >= MIN_SECRET_LENGTH else None


def load_secret(data_dir: Path) -> str:
    """SRO_CONSOLE_SECRET, or the secret in the data folder (created on first use, mode 0600)."""
    secret = read_secret(data_dir)
    if secret is not None:
        return secret
    path = data_dir / SECRET_FILE_NAME
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


@dataclass
class _Failures:
    count: int
    last: float


class LoginLimiter:
    """A growing delay after failed sign-ins, never a lock-out.

    Failures are counted per user name *and* address (the person mistyping), per address (one
    machine trying many names) and per user name from anywhere (many machines trying one name).
    After `free` failures on a key, the next attempt must wait `base` seconds, doubling with
    each further failure up to that key's cap. The per-user key has a short cap (a minute), so
    an attacker elsewhere can slow the real user down but never lock them out; the caps of the
    other two are long (15 min). A key is forgotten `window` seconds after its last failure and
    a success clears the user's keys.
    """

    def __init__(
        self,
        per_user: int = 3,
        per_address: int = 20,
        window: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        base: float = 5.0,
        cap: float = 900.0,
        per_user_anywhere: int = 10,
        user_cap: float = 60.0,
    ) -> None:
        self.window = window
        self.base = base
        self._clock = clock
        self._rules = {
            "ua": (per_user, cap),
            "a": (per_address, cap),
            "u": (per_user_anywhere, user_cap),
        }
        self._failures: dict[tuple[str, str], _Failures] = {}

    @staticmethod
    def _keys(username: str, address: str) -> list[tuple[str, str]]:
        name = username.lower()
        return [("ua", f"{name}\n{address}"), ("a", address), ("u", name)]

    def _delay(self, rule: str, count: int) -> float:
        free, cap = self._rules[rule]
        if count < free:
            return 0.0
        return float(min(cap, self.base * 2 ** min(count - free, 30)))

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = self._clock()
        wait = 0.0
        for key in self._keys(username, address):
            found = self._failures.get(key)
            if found is None:
                continue
            if now - found.last > self.window:
                del self._failures[key]
                continue
            wait = max(wait, found.last + self._delay(key[0], found.count) - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        for key in self._keys(username, address):
            found = self._failures.get(key)
            if found is None or now - found.last > self.window:
                self._failures[key] = _Failures(1, now)
            else:
                found.count += 1
                found.last = now
        if len(self._failures) > 10_000:  # bound the memory a flood can take
            kept = sorted(self._failures.items(), key=lambda kv: kv[1].last)[-5_000:]
            self._failures = dict(kept)

    def succeeded(self, username: str, address: str = "") -> None:
        for rule, key in self._keys(username, address):
            if rule != "a":
                self._failures.pop((rule, key), None)


def _in_networks(host: str, networks: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for network in networks:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: Request, trusted_proxies: tuple[str, ...] = ()) -> str:
    """The client's address. X-Forwarded-For is believed only when the connection comes from a
    configured proxy, and then read from the right: the first address that is not one of our
    proxies is the client (anything left of it is what the client itself claimed)."""
    peer = request.client.host if request.client else "unknown"
    if not trusted_proxies or not _in_networks(peer, trusted_proxies):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header: count the proxy itself
        if not _in_networks(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer
