"""`Settings`: every SRO_* variable (and DATABASE_URL, TEMPORAL_NAMESPACE) the product reads.

Each field is read from the variable of exactly its alias's name; an empty (or blank) value is
the same as unset, as it always was. `settings()` reads the environment on every call: building
the object takes about 1.5 ms, so it is kept for as long as the variables it reads keep their
values (looking them up costs microseconds); tests change the environment per test and nothing
needs clearing. A
value that cannot be used is refused with a `SettingsError` naming the variable; each interface
turns it into its own refusal (the worker exits, the console and the dev stack say why).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from config.defaults import (
    DEFAULT_OIDC_SCOPES,
    DEFAULT_ORIGINS,
    DEFAULT_TEMPORAL_UI,
    MAX_CACHED_WORKFLOWS,
    TASK_QUEUE,
    SettingsError,
)

_TRUE = {"1", "true", "yes"}
#: README's "no default" (an en dash).
NONE = "\u2013"


def _text(value: Any) -> Any:
    """Surrounding blanks dropped; a blank value is unset."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def _flag(value: Any) -> Any:
    """On for 1/true/yes (any case), off for anything else, as the modules always read them."""
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return value


Text = Annotated[str | None, BeforeValidator(_text)]
Folder = Annotated[Path | None, BeforeValidator(_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]


def _field(variable: str, meaning: str, default: Any = None, *, shown: str = NONE) -> Any:
    """A field read from `variable`; `meaning` and `shown` (the default as README shows it) make
    its row in README's table (`python -m config` prints the table)."""
    return Field(
        default, validation_alias=variable, description=meaning, json_schema_extra={"shown": shown}
    )


class Settings(BaseModel):
    """The process environment. README's "Configuration" table has a row per field. Read by
    pydantic-settings (`config/sourced.py`), or, on the command line, validated directly from
    the same variables (`config.read_directly`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    # Where things are, and the worker
    task_queue: Annotated[str, BeforeValidator(lambda v: _text(v) or TASK_QUEUE)] = _field(
        "SRO_TASK_QUEUE",
        "task queue of the worker and the command line",
        TASK_QUEUE,
        shown=f"`{TASK_QUEUE}`",
    )
    max_cached_workflows: int = _field(
        "SRO_MAX_CACHED_WORKFLOWS",
        "cases a worker keeps in memory between decisions; others are replayed from history "
        "when needed (BENCHMARKS.md: memory and query latency with 10,000 open cases)",
        MAX_CACHED_WORKFLOWS,
        shown=str(MAX_CACHED_WORKFLOWS),
    )
    profiles: Folder = _field(
        "SRO_PROFILES", "the folder of partnership profiles", shown="`profiles`"
    )
    metrics_address: Text = _field(
        "SRO_METRICS_ADDRESS",
        "host:port where the worker serves Prometheus metrics (`/metrics`): the SDK's and the "
        "cases' figures; unset: none",
    )
    data_dir: Annotated[Path, BeforeValidator(lambda v: _text(v) or "data")] = _field(
        "SRO_DATA_DIR",
        "local data: dev server database, logs, outbox, register (kept 0700, files 0600)",
        Path("data"),
        shown="`data`",
    )
    outbox: Folder = _field(
        "SRO_OUTBOX",
        "where the default notification sink writes",
        shown="`$SRO_DATA_DIR/outbox`",
    )
    database_url: Text = _field(
        "DATABASE_URL",
        "the register's database (`postgresql://...` through psycopg 3)",
        shown="SQLite `$SRO_DATA_DIR/register.db`",
    )
    namespace: Annotated[str, BeforeValidator(lambda v: _text(v) or "default")] = _field(
        "TEMPORAL_NAMESPACE",
        "the namespace the console links to in the Web UI (the connection reads it through "
        "envconfig, above)",
        "default",
        shown="`default`",
    )

    # Who is using the command line
    user_name: Text = _field("SRO_USER_NAME", "who is deciding, for the command line: name")
    user_role: Text = _field("SRO_USER_ROLE", "who is deciding, for the command line: role")
    user_agency: Text = _field("SRO_USER_AGENCY", "who is deciding, for the command line: agency")

    # Email (activities/notifications.py `SmtpConfig` checks them together)
    smtp_host: Text = _field(
        "SRO_SMTP_HOST", "the mail server; unset: notices go to the outbox folder"
    )
    smtp_port: Text = _field(
        "SRO_SMTP_PORT", "the mail server's port", shown="587 with STARTTLS, else 25"
    )
    smtp_starttls: Text = _field(
        "SRO_SMTP_STARTTLS", "1/0: STARTTLS before logging in", shown="1 when a user is set"
    )
    smtp_user: Text = _field("SRO_SMTP_USER", "log in to the mail server as this user")
    smtp_password: str | None = _field("SRO_SMTP_PASSWORD", "the mail server password")
    smtp_from: Text = _field(
        "SRO_SMTP_FROM",
        "the From header of notices (set a real address of the partnership's)",
        shown="`no-reply@sro.local`",
    )
    smtp_timeout: Text = _field(
        "SRO_SMTP_TIMEOUT", "seconds for each exchange with the mail server (1-120)", shown="10"
    )

    # The web console
    console_users: Folder = _field(
        "SRO_CONSOLE_USERS",
        "the console's users file (`python -m console.users`)",
        shown="required (`make run`: demo users)",
    )
    console_demo_users: Flag = _field(
        "SRO_CONSOLE_DEMO_USERS",
        "1: the demo users (a published password), only on a loopback address",
        False,
        shown="off (`make run`: 1)",
    )
    console_host: Text = _field(
        "SRO_CONSOLE_HOST", "the address the console listens on", shown="127.0.0.1"
    )
    console_port: int | None = _field("SRO_CONSOLE_PORT", "the console's port", shown="8000")
    console_secret: Text = _field(
        "SRO_CONSOLE_SECRET",
        "the session-signing secret (32+ characters)",
        shown="`$SRO_DATA_DIR/console-secret`",
    )
    console_session_minutes: int | None = _field(
        "SRO_CONSOLE_SESSION_MINUTES",
        "a console session's absolute lifetime (minutes)",
        shown="720",
    )
    console_idle_minutes: int | None = _field(
        "SRO_CONSOLE_IDLE_MINUTES", "a console session's idle timeout (minutes)", shown="30"
    )
    console_trusted_proxies: Text = _field(
        "SRO_CONSOLE_TRUSTED_PROXIES",
        "reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For is "
        "believed",
    )
    console_https_only: Flag = _field(
        "SRO_CONSOLE_HTTPS_ONLY", "1: the session cookie only over HTTPS", False, shown="off"
    )
    temporal_ui: Annotated[str, BeforeValidator(lambda v: _text(v) or DEFAULT_TEMPORAL_UI)] = (
        _field(
            "SRO_TEMPORAL_UI",
            "the Temporal Web UI the console links to",
            DEFAULT_TEMPORAL_UI,
            shown=DEFAULT_TEMPORAL_UI,
        )
    )

    # Single sign-on (console/sso.py, security/provider_tokens.py)
    oidc_issuer: Text = _field(
        "SRO_OIDC_ISSUER",
        "the identity provider's issuer URL (its `/.well-known/openid-configuration` is read): "
        "turns on single sign-on for the console and access tokens at the codec server",
    )
    oidc_client_id: Text = _field(
        "SRO_OIDC_CLIENT_ID", "the console's client (application) id at the identity provider"
    )
    oidc_client_secret: str | None = _field(
        "SRO_OIDC_CLIENT_SECRET", "the console's client secret at the identity provider"
    )
    oidc_scopes: Annotated[str, BeforeValidator(lambda v: _text(v) or DEFAULT_OIDC_SCOPES)] = (
        _field(
            "SRO_OIDC_SCOPES",
            "the scopes the console asks for at sign-in (space-separated)",
            DEFAULT_OIDC_SCOPES,
            shown=f"`{DEFAULT_OIDC_SCOPES}`",
        )
    )
    oidc_mapping: Folder = _field(
        "SRO_OIDC_MAPPING",
        "the claims-to-role mapping file (groups to role, agency and partnerships; see "
        "[Deploying for a partnership](#deploying-for-a-partnership))",
        shown="required with `SRO_OIDC_ISSUER`",
    )
    oidc_audience: Text = _field(
        "SRO_OIDC_AUDIENCE",
        "the audience the codec server requires in the provider's access tokens",
        shown="`SRO_OIDC_CLIENT_ID`",
    )
    console_url: Text = _field(
        "SRO_CONSOLE_URL",
        "the console's public address (`https://...`): the provider's redirect URI is "
        "`<SRO_CONSOLE_URL>/auth/callback`",
        shown="the address each request came to",
    )

    # The codec server and the encryption keys
    codec_keys: Text = _field(
        "SRO_CODEC_KEYS",
        "encryption keys, `id=base64key,...` (see [Keys](#keys))",
        shown="`$SRO_DATA_DIR/codec-keys.json`",
    )
    codec_key_id: Text = _field(
        "SRO_CODEC_KEY_ID", "the current key's id", shown="the last of `SRO_CODEC_KEYS`"
    )
    codec_keys_file: Folder = _field(
        "SRO_CODEC_KEYS_FILE", "a JSON key file instead of `SRO_CODEC_KEYS`"
    )
    codec_token: Text = _field(
        "SRO_CODEC_TOKEN", "the codec server's token", shown="`$SRO_DATA_DIR/codec-token`"
    )
    codec_host: Annotated[str, BeforeValidator(lambda v: _text(v) or "127.0.0.1")] = _field(
        "SRO_CODEC_HOST", "the codec server's address", "127.0.0.1", shown="127.0.0.1"
    )
    codec_port: int | None = _field("SRO_CODEC_PORT", "the codec server's port", shown="8234")
    codec_allowed_origins: str = _field(
        "SRO_CODEC_ALLOWED_ORIGINS",
        "origins the codec server answers",
        DEFAULT_ORIGINS,
        shown="the Web UI on 127.0.0.1/localhost:8233",
    )
    codec_trust_local_user: Flag = _field(
        "SRO_CODEC_TRUST_LOCAL_USER",
        "the codec server decodes, without the token, for loopback connections from its own user",
        False,
        shown="off (`make run`: 1)",
    )
    codec_console_sessions: Flag = _field(
        "SRO_CODEC_CONSOLE_SESSIONS",
        "the codec server decodes for people signed in to the console who may see personal data "
        "(it then reads the console's `SRO_CONSOLE_*`, `DATABASE_URL` and data folder)",
        False,
        shown="off (`make run`: 1)",
    )

    # The dev stack (`make run`)
    temporal_port: int | None = _field(
        "SRO_TEMPORAL_PORT", "the dev stack's Temporal server port", shown="7233"
    )
    ui_port: int | None = _field("SRO_UI_PORT", "the dev stack's Web UI port", shown="8233")
    dev_retention_days: int = _field(
        "SRO_DEV_RETENTION_DAYS",
        "how many days the dev stack's namespace keeps a closed case's workflow history (the "
        "register keeps the case: see [Namespace retention](#namespace-retention))",
        30,
        shown="30",
    )

    @field_validator("dev_retention_days", mode="before")
    @classmethod
    def _retention_days(cls, value: Any) -> Any:
        text = str(value).strip()
        if not text.isdigit() or not 1 <= int(text) <= 3650:
            raise ValueError(
                f"SRO_DEV_RETENTION_DAYS must be a whole number of days, 1 to 3650, not {text!r}"
            )
        return int(text)

    @field_validator("max_cached_workflows", mode="before")
    @classmethod
    def _whole_above_zero(cls, value: Any) -> Any:
        text = str(value).strip()
        if not text.isdigit() or int(text) < 1:
            raise ValueError(
                f"SRO_MAX_CACHED_WORKFLOWS must be a whole number above 0, not {text!r}"
            )
        return int(text)

    @field_validator("console_port", "codec_port", "temporal_port", "ui_port", mode="before")
    @classmethod
    def _port(cls, value: Any, info: Any) -> Any:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        name = _variable(info.field_name)
        try:
            port = int(text)
        except ValueError:
            raise ValueError(f"{name}={text!r} is not a port number") from None
        if not 1 <= port <= 65535:
            raise ValueError(f"{name}={port} is not a port number (1-65535)")
        return port

    @field_validator("metrics_address", mode="after")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"SRO_METRICS_ADDRESS={value!r} is not host:port (e.g. 0.0.0.0:9464)")
        return value

    @field_validator("console_session_minutes", "console_idle_minutes", mode="before")
    @classmethod
    def _minutes(cls, value: Any, info: Any) -> Any:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        name = _variable(info.field_name)
        try:
            minutes = int(text)
        except ValueError:
            raise ValueError(f"{name} must be a whole number of minutes, not {text!r}") from None
        if minutes <= 0:
            raise ValueError(f"{name} must be at least 1 minute")
        return minutes

    def environ(self, prefix: str) -> dict[str, str]:
        """The set variables starting with `prefix`, by name, as text (for the functions that
        take an environment mapping, e.g. the SMTP settings and the CLI's SRO_USER_*)."""
        found: dict[str, str] = {}
        for name, info in type(self).model_fields.items():
            variable = str(info.validation_alias)
            value = getattr(self, name)
            if variable.startswith(prefix) and value is not None:
                found[variable] = str(value)
        return found


def _variable(field_name: str) -> str:
    return str(Settings.model_fields[field_name].validation_alias)


def table() -> list[str]:
    """README's table of the variables, a row per field."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for info in Settings.model_fields.values():
        extra = info.json_schema_extra
        shown = extra.get("shown", NONE) if isinstance(extra, dict) else NONE
        rows.append(f"| `{info.validation_alias}` | {shown} | {info.description} |")
    return rows


def variables() -> tuple[str, ...]:
    """Every variable `Settings` reads, in field order."""
    return tuple(_variable(name) for name in Settings.model_fields)


_VARIABLES = variables()


@lru_cache(maxsize=64)
def _variables_of(fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_variable(name) for name in fields)


def values_now(*fields: str) -> tuple[str | None, ...]:
    """The variables behind these `Settings` fields as they are now, as text, unvalidated: a key
    for caching what is built from them (a sealer, the register's place) where `settings()`,
    which reads all of them, would cost tens of microseconds per payload or row."""
    return tuple(os.environ.get(name) for name in _variables_of(fields))


def settings() -> Settings:
    """The settings from the environment as it is now, or a `SettingsError` naming the first
    variable that cannot be used."""
    import config  # the package, loaded already: its `read_directly` says how to read

    return _settings_for(tuple(os.environ.get(name) for name in _VARIABLES), config.direct_reading)


@lru_cache(maxsize=16)
def _settings_for(values: tuple[str | None, ...], direct: bool) -> Settings:
    """Built for these values of the variables (the key only: `Settings` reads the environment,
    which holds exactly these values now). A refusal is not kept."""
    try:
        if direct:
            given = {name: v for name, v in zip(_VARIABLES, values, strict=True) if v}
            return Settings.model_validate(given)
        from config.sourced import EnvironmentSettings

        return EnvironmentSettings()
    except ValidationError as err:
        first = err.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, ValueError):
            raise SettingsError(str(cause)) from None
        where = ".".join(str(part) for part in first["loc"])
        raise SettingsError(f"{where}: {first['msg']}") from None
