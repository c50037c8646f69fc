"""Connecting to Temporal: one place, for the worker, the command line, the console and the tools.

Connection settings and the task queue: gateway/config.py (import-light, for messages and help).

Every payload is encrypted (AES-GCM, keys from SRO_CODEC_KEYS or a key file: security/keys.py):
every client, worker, test and replayer gets its data converter from `data_converter()`. A
case's payloads are sealed with the case's own key, kept wrapped by the ring in the register
(`register/case_keys.py`, `security/case_keys.py`): the register is the key store.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Self

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.common import RawValue
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    SerializationContext,
)
from temporalio.runtime import Runtime

from gateway.config import DEFAULT_ADDRESS, TASK_QUEUE, connect_config, task_queue
from register.case_keys import SqlCaseKeyStore
from security.case_keys import CaseKeys
from security.codec import EncryptionCodec
from security.keys import KeyRing, key_ring_from_env
from security.marks import UNSEALED, Unsealed

__all__ = [
    "DEFAULT_ADDRESS",
    "TASK_QUEUE",
    "SealedPayloadConverter",
    "connect",
    "connect_config",
    "data_converter",
    "task_queue",
]


class SealedPayloadConverter(PydanticPayloadConverter):
    """The pydantic converter, refusing to read a payload the codec marked as not sealed by a
    key from the ring into a typed value (a new case's input, a typed signal). A `RawValue` (a
    decision) is handed over as it is, and an untyped read (the workflow reading a decision it
    took raw) is let through: the workflow looks at the mark itself, refuses and records the
    refusal, or, replaying a run from before it refused such payloads, applies it as it did
    then (`SEALED_PATCH`)."""

    def from_payloads(
        self, payloads: Sequence[Payload], type_hints: list[type] | None = None
    ) -> list[object]:
        hints = list(type_hints or [])
        for index, payload in enumerate(payloads):
            hint = hints[index] if index < len(hints) else None
            if payload.metadata.get(UNSEALED) and hint not in (RawValue, None):
                raise Unsealed(
                    "refused: the payload is not encrypted with a key from the ring "
                    "(holding the key is what lets a client write)"
                )
        return super().from_payloads(payloads, type_hints)


#: Cases whose converters `CaseDataConverter` keeps (a worker's cached cases, and more).
MAX_REMEMBERED_CASES = 4096


class CaseDataConverter(DataConverter):
    """The SDK's `DataConverter`, its `with_context` remembered by case. The SDK asks for a
    converter in context for every workflow activation and every activity's payloads; for a
    case's workflow the answer differs from this converter only by the codec's case key, so
    the copy made for a case (a dataclass copy: tens of microseconds) is made once."""

    _by_case: OrderedDict[str | None, Self]
    _lock: threading.Lock

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "_by_case", OrderedDict())
        object.__setattr__(self, "_lock", threading.Lock())

    def with_context(self, context: SerializationContext) -> Self:
        codec = self.payload_codec
        if not isinstance(codec, EncryptionCodec):
            return super().with_context(context)
        case = codec.case_for(context)
        remembered = self._by_case
        found = remembered.get(case)  # a dict read needs no lock
        if found is not None:
            return found
        found = super().with_context(context)
        if (
            found.payload_converter is not self.payload_converter
            or found.failure_converter is not self.failure_converter
            or found.external_storage is not self.external_storage
        ):
            return found  # parts of their own in this context: not the case's alone
        with self._lock:
            remembered[case] = found
            while len(remembered) > MAX_REMEMBERED_CASES:
                remembered.popitem(last=False)
        return found


def data_converter(
    ring: KeyRing | None = None, *, worker: bool = False, seal_cases: bool = True
) -> CaseDataConverter:
    """Pydantic models in, encrypted payloads out. Failure messages and stack traces are
    encrypted too (a refusal names the person refused; an error may quote its input).
    A worker's converter marks payloads it cannot decrypt instead of failing on them
    (`EncryptionCodec`); workflows refuse every payload not sealed by a key from the ring.
    The register (DATABASE_URL, as it is when a key is needed) keeps the case keys. Without
    `seal_cases` (replayers, and the recorder of tests/histories) case-sealed payloads still
    open but everything is sealed with the ring: a replay's commands are thrown away and must
    not create keys, and a recorded history must replay from the repository with the ring."""
    ring = ring or key_ring_from_env()
    codec = EncryptionCodec(
        ring,
        mark_unsealed=True,
        mark_unreadable=worker,
        # Keys are made where cases start, never by a worker (security/case_keys.py).
        case_keys=CaseKeys(ring, SqlCaseKeyStore(), create=not worker),
        seal_cases=seal_cases,
    )
    return CaseDataConverter(
        payload_converter_class=SealedPayloadConverter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(*, worker: bool = False, runtime: Runtime | None = None) -> Client:
    """A client with the encrypting pydantic data converter (a worker's, with `worker`), on
    `runtime` if given (the worker's, exporting metrics)."""
    return await Client.connect(
        **connect_config(), data_converter=data_converter(worker=worker), runtime=runtime
    )
