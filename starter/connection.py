"""Connecting to Temporal: one place, used by the worker, the command line and the tools.

Connection settings come from the environment through temporalio's envconfig (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, or a TOML profile via TEMPORAL_PROFILE /
TEMPORAL_CONFIG_FILE), defaulting to the local dev server at localhost:7233.

Every payload is encrypted (AES-GCM, keys from SRO_CODEC_KEYS or a key file: security/keys.py):
every client, worker, test and replayer gets its data converter from `data_converter()`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.envconfig import ClientConfig

from security.codec import EncryptionCodec
from security.keys import KeyRing, key_ring_from_env

DEFAULT_ADDRESS = "localhost:7233"


def connect_config() -> dict[str, Any]:
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if not config.get("target_host"):
        config["target_host"] = DEFAULT_ADDRESS
    return config


def data_converter(ring: KeyRing | None = None) -> DataConverter:
    """Pydantic models in, encrypted payloads out. Failure messages and stack traces are
    encrypted too (a refusal names the person refused; an error may quote its input)."""
    codec = EncryptionCodec(ring or key_ring_from_env())
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect() -> Client:
    """A client with the encrypting pydantic data converter."""
    return await Client.connect(**connect_config(), data_converter=data_converter())
