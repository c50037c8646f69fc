"""The process environment, read in one place: `settings()` (the lowest layer; only pydantic).

Connection settings (TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE ...) are
not here: temporalio's envconfig reads them (gateway/connection.py). README's "Configuration"
table lists every variable `Settings` reads; tests/test_settings.py keeps the two in step.

Importing this package is cheap (`sro --help` never builds the settings): pydantic-settings is
imported by the first `settings()` call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config.defaults import TASK_QUEUE, SettingsError

if TYPE_CHECKING:
    from config.environment import Settings

__all__ = ["TASK_QUEUE", "Settings", "SettingsError", "settings"]


def settings() -> Settings:
    """The settings from the environment as it is now (config/environment.py), or a
    `SettingsError` naming the first variable that cannot be used."""
    from config.environment import settings as read

    return read()


def __getattr__(name: str) -> Any:
    if name == "Settings":
        from config.environment import Settings

        return Settings
    raise AttributeError(f"module 'config' has no attribute {name!r}")
