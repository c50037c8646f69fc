"""Crypto-shredding on a real server (issue 14, point 3): a case's payloads in its Temporal
history are sealed with its own key; once the disposal run has destroyed that key, a client
cannot decode them (`CaseDisposed`), the codec server shows the Web UI a placeholder, and
`sro status`'s reader says the case's personal data has been disposed of."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from google.protobuf import json_format
from starlette.testclient import TestClient
from temporalio.api.common.v1 import Payloads
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from gateway.connection import data_converter
from gateway.errors import Disposed
from gateway.reading import CaseReader
from register import case_keys, db, disposal
from register.case_keys import SqlCaseKeyStore
from safeguarding.case import CaseStatus
from safeguarding.clock import uk_today
from security import codec_server
from security.case_keys import CaseKeys
from security.codec import CASE_KEY, DISPOSED, ENCODING, KEY_ID, CaseDisposed, EncryptionCodec
from security.keys import key_ring_from_env
from tests.factories import opened_status, referral
from tests.security.test_personal_data import payloads_in, raw_history
from worker import WORKFLOWS
from workflows.referral import ReferralInput, ReferralOptions, ReferralWorkflow, workflow_id

TOKEN = "case-keys-test-token-0001"


async def test_a_disposed_cases_history_cannot_be_decoded(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'register.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    db.ensure_schema(url)
    client = time_skipping_env.client
    queue = f"case-keys-{uuid.uuid4().hex[:8]}"
    case_ref = f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}"
    today = uk_today(await time_skipping_env.get_current_time())
    async with Worker(client, task_queue=queue, workflows=WORKFLOWS, activities=ALL_ACTIVITIES):
        handle = await client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref,
                referral=referral(today),
                options=ReferralOptions(search_attributes=False),
            ),
            id=workflow_id(case_ref),
            task_queue=queue,
        )
        await opened_status(handle, CaseStatus)  # its first activities have run
        await handle.terminate("test finished")

    events = await raw_history(client, handle.id)
    sealed = [p for e in events for p in payloads_in(e) if p.metadata.get("encoding") == ENCODING]
    # Its input, its activities' inputs and results: every one under the case's key.
    assert len(sealed) >= 3
    assert {p.metadata.get(CASE_KEY) for p in sealed} == {case_keys.key_id(case_ref).encode()}
    assert not any(KEY_ID in p.metadata for p in sealed)
    assert await client.data_converter.payload_codec.decode(sealed)  # type: ignore[union-attr]

    done = disposal.dispose(
        case_ref, {"personal_data": "test rule"}, run_id="r-test", by="bm", url=url
    )
    assert done.outcome == "disposed"

    # This client (same process: its cache was told) and a new one both refuse.
    for codec in (client.data_converter.payload_codec, data_converter().payload_codec):
        assert codec is not None
        with pytest.raises(CaseDisposed):
            await codec.decode(sealed[:1])

    # The codec server answers the Web UI with a placeholder, not an error.
    ring = key_ring_from_env()
    shown = EncryptionCodec(ring, case_keys=CaseKeys(ring, SqlCaseKeyStore()), show_disposed=True)
    app = codec_server.build_app(shown, TOKEN, ["http://127.0.0.1:8233"])
    with TestClient(app) as web:
        body = json_format.MessageToJson(Payloads(payloads=sealed[:2]))
        answer = web.post(f"/{TOKEN}/decode", content=body)
    assert answer.status_code == 200, answer.text
    decoded = json_format.Parse(answer.text, Payloads()).payloads
    assert [p.data for p in decoded] == [f'"{DISPOSED}"'.encode()] * 2

    # `sro status` and the console read the status through this: it says what happened (the
    # worker cannot replay the case to answer: its history no longer opens).
    async with Worker(client, task_queue=queue, workflows=WORKFLOWS, activities=ALL_ACTIVITIES):
        with pytest.raises(Disposed, match="personal data has been disposed of"):
            await CaseReader(client).status(case_ref, timeout=timedelta(seconds=10))
    db.forget(url)
