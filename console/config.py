"""The console's settings: what `create_app` is given, and how `python -m console` reads them
from the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from console.auth import load_secret
from safeguarding.profiles import load_profiles
from safeguarding.settings import PartnershipSettings

DEFAULT_TEMPORAL_UI = "http://127.0.0.1:8233"
SESSION_COOKIE = "sro_console"
#: A session's absolute lifetime and idle timeout (seconds; settings override them).
SESSION_MAX_AGE = 12 * 3600
SESSION_IDLE = 30 * 60
#: Form bodies larger than this are refused (a decision is at most 64 KiB as JSON).
MAX_FORM_BYTES = 256 * 1024


@dataclass
class ConsoleSettings:
    users_file: Path
    secret: str
    temporal_ui: str = DEFAULT_TEMPORAL_UI
    namespace: str = "default"
    https_only: bool = False
    profiles: dict[str, PartnershipSettings] = field(default_factory=dict)
    #: A session's absolute lifetime and idle timeout, in seconds.
    session_max_age: int = SESSION_MAX_AGE
    session_idle: int = SESSION_IDLE
    demo_users: bool = False
    #: The register database that holds the sessions (None: DATABASE_URL or the data folder).
    database_url: str | None = None
    #: Addresses (or networks) of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: tuple[str, ...] = ()
    #: A form body larger than this is refused with the form shown again.
    max_form_bytes: int = MAX_FORM_BYTES


class ConsoleConfigError(ValueError):
    """A console configuration that must not start (said in one clear message)."""


def _minutes(name: str, default: int) -> int:
    """The environment's minutes (default: `default` minutes), as seconds."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default * 60
    try:
        value = int(text)
    except ValueError:
        raise ConsoleConfigError(
            f"{name} must be a whole number of minutes, not {text!r}"
        ) from None
    if value <= 0:
        raise ConsoleConfigError(f"{name} must be at least 1 minute")
    return value * 60


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def settings_from_env(host: str | None = None) -> ConsoleSettings:
    """The console's settings from the environment. `host` is the address it will listen on:
    the demo users (a published password) are allowed only on a loopback address and only
    when the dev stack asks for them (SRO_CONSOLE_DEMO_USERS=1, set by `make run`)."""
    from console.users import DEMO_USERS_FILE

    data_dir = Path(os.environ.get("SRO_DATA_DIR") or "data")
    given = os.environ.get("SRO_CONSOLE_USERS", "").strip()
    path = Path(given) if given else DEMO_USERS_FILE
    demo = path.resolve() == DEMO_USERS_FILE.resolve()
    if demo:
        asked = os.environ.get("SRO_CONSOLE_DEMO_USERS", "").lower() in ("1", "true", "yes")
        listen = host or os.environ.get("SRO_CONSOLE_HOST")
        if not (asked and is_loopback(listen)):
            raise ConsoleConfigError(
                "no users file: set SRO_CONSOLE_USERS to a users file (create one with "
                "`python -m console.users --file users.toml add NAME ...`). The demo users have "
                "a published password: they run only in the dev stack (`make run`), on a "
                f"loopback address (this console would listen on {listen or 'an unknown address'})."
            )
    proxies = tuple(
        p.strip() for p in os.environ.get("SRO_CONSOLE_TRUSTED_PROXIES", "").split(",") if p.strip()
    )
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConsoleConfigError(
                f"SRO_CONSOLE_TRUSTED_PROXIES: {proxy!r} is not an address or network"
            ) from None
    return ConsoleSettings(
        users_file=path,
        secret=load_secret(data_dir),
        temporal_ui=(os.environ.get("SRO_TEMPORAL_UI") or DEFAULT_TEMPORAL_UI).rstrip("/"),
        namespace=os.environ.get("TEMPORAL_NAMESPACE") or "default",
        https_only=os.environ.get("SRO_CONSOLE_HTTPS_ONLY", "").lower() in ("1", "true", "yes"),
        profiles=load_profiles(),
        session_max_age=_minutes("SRO_CONSOLE_SESSION_MINUTES", SESSION_MAX_AGE // 60),
        session_idle=_minutes("SRO_CONSOLE_IDLE_MINUTES", SESSION_IDLE // 60),
        demo_users=demo,
        trusted_proxies=proxies,
    )
