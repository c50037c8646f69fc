"""Connecting to Temporal: one place, used by the worker, the command line and the tools.

Connection settings come from the environment through temporalio's envconfig (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, or a TOML profile via TEMPORAL_PROFILE /
TEMPORAL_CONFIG_FILE), defaulting to the local dev server at localhost:7233.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig

DEFAULT_ADDRESS = "localhost:7233"


def connect_config() -> dict[str, Any]:
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if not config.get("target_host"):
        config["target_host"] = DEFAULT_ADDRESS
    return config


async def connect() -> Client:
    """A client with the pydantic data converter (every client, worker and test uses it)."""
    return await Client.connect(**connect_config(), data_converter=pydantic_data_converter)
