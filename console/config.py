"""The console's settings: what `create_app` is given, and how `python -m console` reads them
from the environment."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from config import Settings, SettingsError, settings
from config.defaults import DEFAULT_TEMPORAL_UI
from console.auth import load_secret
from console.sso import SsoError, SsoSettings, sso_from_settings
from safeguarding.profiles import load_profiles
from safeguarding.settings import PartnershipSettings

SESSION_COOKIE = "sro_console"
#: A session's absolute lifetime and idle timeout (seconds; settings override them).
SESSION_MAX_AGE = 12 * 3600
SESSION_IDLE = 30 * 60
#: Form bodies larger than this are refused (a decision is at most 64 KiB as JSON).
MAX_FORM_BYTES = 256 * 1024


@dataclass
class ConsoleSettings:
    #: The users file (None: no password sign-in, single sign-on only).
    users_file: Path | None
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
    #: Single sign-on with the partnership's identity provider (None: the users file only).
    sso: SsoSettings | None = None


class ConsoleConfigError(ValueError):
    """A console configuration that must not start (said in one clear message)."""


def _seconds(minutes: int | None, default: int) -> int:
    """The minutes configured (default: `default` minutes), as seconds."""
    return (default if minutes is None else minutes) * 60


def _configured() -> Settings:
    """The settings, or a `ConsoleConfigError` naming the variable that cannot be used (a
    session's minutes must be a whole number above 0: config/environment.py says so)."""
    try:
        return settings()
    except SettingsError as err:
        raise ConsoleConfigError(str(err)) from None


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

    configured = _configured()
    try:
        sso = sso_from_settings(configured)
    except SsoError as err:
        raise ConsoleConfigError(f"single sign-on: {err}") from None
    path: Path | None = configured.console_users or DEMO_USERS_FILE
    demo = path is not None and path.resolve() == DEMO_USERS_FILE.resolve()
    if demo and sso is not None and not configured.console_demo_users:
        path, demo = None, False  # single sign-on only: no password sign-in
    if demo:
        asked = configured.console_demo_users
        listen = host or configured.console_host
        if not (asked and is_loopback(listen)):
            raise ConsoleConfigError(
                "no users file: set SRO_CONSOLE_USERS to a users file (create one with "
                "`python -m console.users --file users.toml add NAME ...`). The demo users have "
                "a published password: they run only in the dev stack (`make run`), on a "
                f"loopback address (this console would listen on {listen or 'an unknown address'})."
            )
    given_proxies = configured.console_trusted_proxies or ""
    proxies = tuple(p.strip() for p in given_proxies.split(",") if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConsoleConfigError(
                f"SRO_CONSOLE_TRUSTED_PROXIES: {proxy!r} is not an address or network"
            ) from None
    return ConsoleSettings(
        users_file=path,
        secret=load_secret(configured.data_dir),
        temporal_ui=configured.temporal_ui.rstrip("/"),
        namespace=configured.namespace,
        https_only=configured.console_https_only,
        profiles=load_profiles(),
        session_max_age=_seconds(configured.console_session_minutes, SESSION_MAX_AGE // 60),
        session_idle=_seconds(configured.console_idle_minutes, SESSION_IDLE // 60),
        demo_users=demo,
        trusted_proxies=proxies,
        sso=sso,
    )
