"""The gateway's typed clients on a real Temporal dev server (search attributes registered),
with the production worker in this process on a task queue of its own."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

import worker
from gateway import errors
from gateway.cases import CaseClient
from gateway.refs import new_case_ref, workflow_id
from safeguarding.case import CaseStatus
from safeguarding.clock import uk_today
from security.codec import ENCODING
from tests.factories import CHAIR, decision, referral, triage_participants

pytestmark = pytest.mark.integration


@pytest.fixture
def queue() -> str:
    return f"gateway-{secrets.token_hex(4)}"


@pytest_asyncio.fixture
async def cases(dev_server_env: WorkflowEnvironment, queue: str) -> AsyncIterator[CaseClient]:
    async with worker.build_worker(dev_server_env.client, queue):
        yield CaseClient(dev_server_env.client, queue)


def refs_drawn(*refs: str) -> Iterator[str]:
    yield from refs


async def opened(cases: CaseClient, case_ref: str) -> CaseStatus:
    deadline = time.monotonic() + 30
    while True:
        try:
            return await cases.status(case_ref, timeout=timedelta(seconds=5))
        except errors.NotReady:
            assert time.monotonic() < deadline, f"{case_ref} never opened"
            await asyncio.sleep(0.2)


async def test_the_start_loop_draws_again_when_a_reference_is_taken(cases: CaseClient) -> None:
    made = referral(uk_today(datetime.now(UTC)), partnership="LSCP")
    taken = new_case_ref("LSCP", made.received_on.year)
    first = await cases.start(made, details="test", new_ref=lambda _p, _y: taken)
    assert first.ref == taken
    free = new_case_ref("LSCP", made.received_on.year)
    drawn = refs_drawn(taken, taken, free)
    second = await cases.start(made, details="test", new_ref=lambda _p, _y: next(drawn))
    assert second.ref == free and second.workflow_id == workflow_id(free)
    assert second.task_queue == cases.task_queue

    with pytest.raises(errors.Conflict, match="after 5 tries"):
        await cases.start(made, details="test", new_ref=lambda _p, _y: taken)


async def test_a_case_opened_by_the_gateway_records_no_patch_marker(
    cases: CaseClient, dev_server_env: WorkflowEnvironment
) -> None:
    """Issue 16, round 11: the gateway opens a case lean by its input, so its history holds no
    patch marker and no `TemporalChangeVersion` upsert (each a history event, the upsert a
    visibility write too, for every case)."""
    made = referral(uk_today(datetime.now(UTC)), partnership="LSCP")
    case_ref = (await cases.start(made, details="test")).ref
    await opened(cases, case_ref)
    history = await dev_server_env.client.get_workflow_handle(workflow_id(case_ref)).fetch_history()
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    assert "core_patch" not in markers  # (a local activity's marker is the register's write)
    upserts = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    upserted = [key for found in upserts for key in found.indexed_fields]
    assert "TemporalChangeVersion" not in upserted


async def test_decide_by_method_sends_an_encrypted_raw_value(
    cases: CaseClient, dev_server_env: WorkflowEnvironment
) -> None:
    made = referral(uk_today(datetime.now(UTC)), partnership="LSCP")
    case_ref = (await cases.start(made, details="test")).ref
    await opened(cases, case_ref)
    assert (await cases.referral(case_ref)) == made

    body: dict[str, Any] = decision(
        "triage", CHAIR, outcome="serious_incident", **triage_participants()
    ).model_dump(mode="json", exclude_none=True)
    result = await cases.decide(case_ref, body)
    assert result.decision_id == body["decision_id"] and not result.duplicate
    # The decision id is the Update id: sent again, the server answers with the first result.
    assert await cases.decide(case_ref, body) == result

    # The RawValue went through the client's codec: the Update's input is sealed in history.
    history = await dev_server_env.client.get_workflow_handle(workflow_id(case_ref)).fetch_history()
    accepted = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.args
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert accepted, "no Update accepted"
    assert all(p.metadata["encoding"] == ENCODING for args in accepted for p in args.payloads)

    with pytest.raises(errors.Refused) as refused:
        await cases.decide(case_ref, {**body, "decision_id": "another-triage"})
    assert refused.value.kind not in ("", "Refused")  # the workflow's own reason code


async def test_not_found_and_not_ready(
    cases: CaseClient, dev_server_env: WorkflowEnvironment, queue: str
) -> None:
    with pytest.raises(errors.NotFound):
        await cases.status(new_case_ref("LSCP", 2026), timeout=timedelta(seconds=5))
    with pytest.raises(errors.NotFound):
        await cases.require(new_case_ref("LSCP", 2026))

    # A worker with the workflows but no activities: the case cannot load its settings yet.
    opening_queue = f"{queue}-opening"
    async with worker.build_worker(dev_server_env.client, opening_queue, activities=[]):
        opening = CaseClient(dev_server_env.client, opening_queue)
        made = referral(uk_today(datetime.now(UTC)), partnership="LSCP")
        case_ref = (await opening.start(made, details="test")).ref
        with pytest.raises(errors.NotReady):
            await opening.status(case_ref, timeout=timedelta(seconds=5))
        await dev_server_env.client.get_workflow_handle(workflow_id(case_ref)).terminate("test")
