"""The data converter every client and worker uses (gateway/connection.py)."""

from __future__ import annotations

import dataclasses

from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    DefaultPayloadConverter,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from gateway.connection import MAX_REMEMBERED_CASES, CaseDataConverter, data_converter
from register.case_keys import key_id
from security.codec import CASE_KEY, KEY_ID, EncryptionCodec
from security.keys import KeyRing

RING = KeyRing(keys={"k": b"K" * 32}, current="k")


def in_workflow(workflow_id: str) -> WorkflowSerializationContext:
    return WorkflowSerializationContext("default", workflow_id)


def plain() -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=b'"Olwen"')


async def test_a_cases_converter_is_made_once_and_seals_with_the_cases_key(
    register_url: str,
) -> None:
    converter = data_converter(RING)
    assert isinstance(converter, CaseDataConverter)
    a = converter.with_context(in_workflow("referral-LSCP-2026-AAAAAA"))
    # The SDK asks for every activation and every activity: the same converter each time.
    assert converter.with_context(in_workflow("referral-LSCP-2026-AAAAAA")) is a
    activity = ActivitySerializationContext(
        "default", "1", "plan", "q", "referral-LSCP-2026-AAAAAA", "ReferralWorkflow", False
    )
    assert converter.with_context(activity) is a
    b = converter.with_context(in_workflow("referral-LSCP-2026-BBBBBB"))
    assert b is not a
    [sealed_a] = await a.payload_codec.encode([plain()])  # type: ignore[union-attr]
    [sealed_b] = await b.payload_codec.encode([plain()])  # type: ignore[union-attr]
    assert sealed_a.metadata[CASE_KEY] == key_id("LSCP-2026-AAAAAA").encode()
    assert sealed_b.metadata[CASE_KEY] == key_id("LSCP-2026-BBBBBB").encode()
    # Not a case's workflow: the converter itself, sealing with the ring.
    other = converter.with_context(in_workflow("escalation-LSCP-2026-AAAAAA-1"))
    assert other is converter
    [by_ring] = await other.payload_codec.encode([plain()])  # type: ignore[union-attr]
    assert by_ring.metadata[KEY_ID] == b"k" and CASE_KEY not in by_ring.metadata


def test_it_remembers_a_bounded_number_of_cases() -> None:
    converter = data_converter(RING)
    for n in range(MAX_REMEMBERED_CASES + 10):
        converter.with_context(in_workflow(f"referral-LSCP-2026-{n:06d}"))
    assert len(converter._by_case) == MAX_REMEMBERED_CASES


class ContextualConverter(DefaultPayloadConverter, WithSerializationContext):
    """A payload converter that depends on its context: a new one in every context."""

    def with_context(self, context: SerializationContext) -> ContextualConverter:
        return ContextualConverter()


def test_a_converter_of_its_own_in_a_context_is_not_remembered() -> None:
    codec = EncryptionCodec(RING)
    converter = CaseDataConverter(payload_converter_class=ContextualConverter, payload_codec=codec)
    context = in_workflow("referral-LSCP-2026-AAAAAA")
    first, second = converter.with_context(context), converter.with_context(context)
    assert first is not second
    # A copy (dataclasses.replace, as the SDK makes) remembers on its own.
    copied = dataclasses.replace(converter)
    assert isinstance(copied, CaseDataConverter)
    assert copied._by_case is not converter._by_case
