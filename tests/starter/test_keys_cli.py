"""`sro keys rewrap` (issue 14, point 3): after the ring's current key changes, every case key
is wrapped with it, once (a second run changes nothing), and the payloads sealed before still
open with the new ring key alone."""

from __future__ import annotations

import base64

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import WorkflowSerializationContext

from register import case_keys
from register.case_keys import SqlCaseKeyStore
from security.case_keys import CaseKeys
from security.codec import EncryptionCodec
from security.keys import KeyRing, key_ring_from_env
from starter import cli

NEW_KEY = b"N" * 32


async def test_rewrap_wraps_every_case_key_with_the_current_ring_key(
    register_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case_keys.forget()
    old = key_ring_from_env()
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"a child\'s name"')
    case = WorkflowSerializationContext("default", "referral-LSCP-2026-ROTATE")
    sealed = (
        await EncryptionCodec(old, case_keys=CaseKeys(old, SqlCaseKeyStore()))
        .with_context(case)
        .encode([plain])
    )

    both = f"{old.current}={base64.b64encode(old.current_key).decode()},new-1=" + (
        base64.b64encode(NEW_KEY).decode()
    )
    monkeypatch.setenv("SRO_CODEC_KEYS", both)
    monkeypatch.setenv("SRO_CODEC_KEY_ID", "new-1")
    assert await cli._dispatch(cli.build_parser().parse_args(["keys", "rewrap"])) == 0
    assert "1 case key(s) re-wrapped with ring key new-1; 0 already were" in capsys.readouterr().out
    assert await cli._dispatch(cli.build_parser().parse_args(["keys", "rewrap"])) == 0
    assert "0 case key(s) re-wrapped with ring key new-1; 1 already were" in capsys.readouterr().out

    case_keys.forget()
    new_only = KeyRing(keys={"new-1": NEW_KEY}, current="new-1")
    codec = EncryptionCodec(new_only, case_keys=CaseKeys(new_only, SqlCaseKeyStore()))
    assert await codec.decode(sealed) == [plain]
