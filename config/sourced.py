"""pydantic-settings reading the process environment into `Settings` (config/environment.py):
each field from exactly its variable (case-sensitive), an empty value being unset."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from config.environment import Settings


class EnvironmentSettings(Settings, BaseSettings):
    model_config = SettingsConfigDict(
        case_sensitive=True,
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
        frozen=True,
    )
