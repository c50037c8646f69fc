"""On the real dev server (the time-skipping test server has no custom search attributes): a case
publishes its stage, route, partnership and deadlines as search attributes an operator can query,
and nothing an operator sees (ids, search attributes, summaries, current details, memo) carries the
child's name or the referral's account of what happened."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any, TypeVar

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowHandle
from temporalio.common import TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from safeguarding.clock import uk_local, uk_today
from tests.factories import CHAIR, EVENTUALLY_TIMEOUT, decision, referral, triage_participants
from worker import build_worker
from workflows import search_attributes as sa
from workflows.referral import (
    ReferralInput,
    ReferralOptions,
    ReferralResult,
    ReferralWorkflow,
    workflow_id,
)

pytestmark = pytest.mark.integration

CHILD_NAME = "Child A"
SUMMARY = "Admitted to hospital with unexplained injuries."
VISIBILITY_TIMEOUT = EVENTUALLY_TIMEOUT

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], what: str) -> T:
    """Poll until ok(probe()) (visibility and upserts are eventually consistent), ~10 s at most."""
    deadline = time.monotonic() + VISIBILITY_TIMEOUT
    while True:
        value = await probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {VISIBILITY_TIMEOUT:.0f} s waiting for {what}: {value!r}")
        await asyncio.sleep(0.2)


def _stage(description: WorkflowExecutionDescription) -> str | None:
    return description.typed_search_attributes.get(sa.REVIEW_STAGE)


async def _listed(client: Client, query: str) -> list[str]:
    return [execution.id async for execution in client.list_workflows(query)]


def _search_attribute_texts(attributes: TypedSearchAttributes) -> list[str]:
    return [f"{pair.key.name}={pair.value}" for pair in attributes]


async def _operator_texts(
    handle: WorkflowHandle[Any, Any], description: WorkflowExecutionDescription
) -> dict[str, str]:
    """Everything about the case that the Web UI or `temporal workflow describe/list` shows."""
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    raw_attributes = description.raw_description.workflow_execution_info.search_attributes
    return {
        "workflow id": description.id,
        "typed search attributes": " ".join(
            _search_attribute_texts(description.typed_search_attributes)
        ),
        "raw search attributes": " ".join(
            f"{name}={payload.data.decode(errors='replace')}"
            for name, payload in raw_attributes.indexed_fields.items()
        ),
        "static summary": await description.static_summary() or "",
        "static details": await description.static_details() or "",
        "current details": metadata.current_details,
        "memo": repr(await description.memo()),
    }


async def test_case_is_searchable_by_stage_without_personal_data(
    dev_server_env: WorkflowEnvironment, outbox: Path
) -> None:
    client = dev_server_env.client
    queue = f"it-search-attributes-{uuid.uuid4()}"
    today = uk_today(datetime.now(UTC))
    case_ref = f"LSCP-{today.year:04d}-{secrets.token_hex(3).upper()}"
    case = referral(today, partnership="LSCP")
    assert (case.partnership, case.children[0].name, case.summary) == ("LSCP", CHILD_NAME, SUMMARY)

    async with build_worker(client, queue):
        handle: WorkflowHandle[ReferralWorkflow, ReferralResult] = await client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref,
                referral=case,
                options=ReferralOptions(search_attributes=True),
            ),
            id=workflow_id(case_ref),
            task_queue=queue,
            # The kind of summary an operator sees in the Web UI: case reference and partnership.
            static_summary=f"Referral {case_ref} — {case.partnership}",
        )
        try:
            await handle.execute_update(
                "decide",
                decision("triage", CHAIR, outcome="serious_incident", **triage_participants()),
            )

            described = await eventually(
                handle.describe,
                lambda d: _stage(d) == "serious_incident_notification",
                "ReviewStage to become serious_incident_notification",
            )
            attributes = described.typed_search_attributes
            assert attributes.get(sa.REVIEW_STAGE) == "serious_incident_notification"
            assert attributes.get(sa.REVIEW_ROUTE) == "serious_incident"
            assert attributes.get(sa.PARTNERSHIP) == "LSCP"
            next_deadline = attributes.get(sa.NEXT_DEADLINE)
            assert isinstance(next_deadline, datetime)
            assert next_deadline.date() >= today
            assert attributes.get(sa.OVERDUE) is False

            query = "ReviewStage = 'serious_incident_notification' AND Partnership = 'LSCP'"
            found = await eventually(
                lambda: _listed(client, query),
                lambda ids: handle.id in ids,
                f"list_workflows({query!r}) to find {handle.id}",
            )
            assert handle.id in found
            # The route is searchable too, and a different stage does not match.
            assert handle.id in await _listed(client, "ReviewRoute = 'serious_incident'")
            assert handle.id not in await _listed(client, "ReviewStage = 'triage'")

            # NextDeadline is the moment the next deadline is missed (the end of its due day, UK
            # time), so `NextDeadline < now` means overdue, never a day early.
            status = await handle.query(ReferralWorkflow.status)
            upcoming = min(
                (d for d in status.deadlines if d.state.value != "met"), key=lambda d: d.due_on
            )
            assert next_deadline == upcoming.escalate_at
            assert uk_local(next_deadline).date() == upcoming.due_on + timedelta(days=1)
            assert uk_local(next_deadline).time() == time_of_day(0, 0)
            # The case's timer says which alert of which deadline it waits for.
            timers = [
                event.user_metadata.summary
                async for event in handle.fetch_history_events()
                if event.HasField("timer_started_event_attributes")
            ]
            said = await client.data_converter.decode(timers[-1:])
            assert said[0].startswith("reminder: ") and ", due " in said[0], said

            texts = await _operator_texts(handle, described)
            assert "Serious Incident Notification" in texts["current details"]
            assert case_ref in texts["workflow id"]
            for where, text in texts.items():
                for secret in (CHILD_NAME, SUMMARY):
                    assert secret.lower() not in text.lower(), f"{secret!r} is in the {where}"
        finally:
            await handle.terminate("integration test finished")
