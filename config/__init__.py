"""The process environment, read in one place: `settings()` (the lowest layer; only pydantic).

Connection settings (TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE ...) are
not here: temporalio's envconfig reads them (gateway/connection.py). README's "Configuration"
table lists every variable `Settings` reads; tests/test_settings.py keeps the two in step.

Importing this package is cheap (`sro --help` never builds the settings): pydantic-settings is
imported by the first `settings()` call, except on the command line (`read_directly`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config.defaults import TASK_QUEUE, SettingsError

if TYPE_CHECKING:
    from config.environment import Settings

__all__ = ["TASK_QUEUE", "Settings", "SettingsError", "read_directly", "settings"]


def settings() -> Settings:
    """The settings from the environment as it is now (config/environment.py), or a
    `SettingsError` naming the first variable that cannot be used."""
    from config.environment import settings as read

    return read()


#: Set by `read_directly()`.
direct_reading = False


def read_directly() -> None:
    """Validate `Settings` from the variables themselves instead of through pydantic-settings,
    for the rest of this process: the command line's choice (starter/entry.py). Each field is
    read from exactly its variable, an empty value being unset, which is all pydantic-settings
    does here (config/sourced.py); importing it costs about 25 ms, 8% of a `sro status` that is
    measured against a bare client (BENCHMARKS.md, section 6). tests/test_settings.py checks
    that both readings give the same settings, or the same refusal."""
    global direct_reading
    direct_reading = True


def __getattr__(name: str) -> Any:
    if name == "Settings":
        from config.environment import Settings

        return Settings
    raise AttributeError(f"module 'config' has no attribute {name!r}")
