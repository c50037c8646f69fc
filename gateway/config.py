"""Where Temporal is and which task queue: settings only, no client, no converter (cheap to import).

Connection settings come from the environment through temporalio's envconfig (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, or a TOML profile via TEMPORAL_PROFILE /
TEMPORAL_CONFIG_FILE), defaulting to the local dev server at localhost:7233.
"""

from __future__ import annotations

from typing import Any

from temporalio.envconfig import ClientConfig

from config import TASK_QUEUE as TASK_QUEUE
from config import settings

DEFAULT_ADDRESS = "localhost:7233"


def task_queue() -> str:
    """The task queue the worker polls and every start names (SRO_TASK_QUEUE overrides it)."""
    return settings().task_queue


def connect_config() -> dict[str, Any]:
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if not config.get("target_host"):
        config["target_host"] = DEFAULT_ADDRESS
    return config
