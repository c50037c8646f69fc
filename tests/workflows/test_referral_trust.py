"""Issue #11 on the time-skipping server: no single input wedges a case, and only a client
holding a key from the ring can write to one (decisions, signals, new cases, escalation news)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from activities.deadlines import PlanDeadlinesInput, PlanDeadlinesResult
from activities.deadlines import plan_deadlines as real_plan_deadlines
from gateway.connection import data_converter
from safeguarding import horizon
from safeguarding.case import CaseStatus, HistoryKind
from safeguarding.deadlines import OnDate
from safeguarding.vocabulary import Stage
from tests.factories import CHAIR, COORDINATOR, decision, eventually, referral
from tests.workflows.test_referral import Cases, Handle, deadline, decide, refused, status
from workflows.referral import ReferralInput, ReferralOptions, ReferralWorkflow, workflow_id
from workflows.referral_io import EscalationNote


@activity.defn(name="plan_deadlines")
async def plan_deadlines_failing_on_fixed_dates(input: PlanDeadlinesInput) -> PlanDeadlinesResult:
    """Planning as it is, except that a deadline set for a given date cannot be planned (as a
    bug or a calendar the activity cannot compute would make it)."""
    if any(isinstance(r.rule, OnDate) for r in input.requests):
        raise ApplicationError("the calendar ends here", type="PlanningFailed", non_retryable=True)
    return await real_plan_deadlines(input)


ACTIVITIES = [a for a in ALL_ACTIVITIES if a is not real_plan_deadlines]


@pytest_asyncio.fixture
async def cases(time_skipping_env: WorkflowEnvironment, outbox: Any) -> AsyncIterator[Cases]:
    """Cases on a worker whose client has the worker's converter (it marks what it cannot
    decrypt, as `worker.py`'s does)."""
    env = time_skipping_env
    worker_client = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=data_converter(worker=True),
    )
    queue = f"trust-{uuid.uuid4().hex[:8]}"
    async with Worker(
        worker_client, task_queue=queue, workflows=[ReferralWorkflow], activities=ALL_ACTIVITIES
    ):
        started = Cases(env, queue)
        yield started
        await started.terminate_open()


def without_key(env: WorkflowEnvironment) -> Client:
    """A client of the same server that does not hold the key: plain JSON payloads."""
    return Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=pydantic_data_converter,
    )


def refusals(state: CaseStatus) -> list[str]:
    return [e.text for e in state.history if e.kind is HistoryKind.REFUSED]


async def wait_for(handle: Handle, predicate: Any, what: str) -> CaseStatus:
    """Signals are fire-and-forget: wait until their effect shows in the case's status."""
    state: CaseStatus = await eventually(lambda: status(handle), predicate, what=what)
    return state


# --------------------------------------------------------------------------- poison decisions


async def test_a_date_beyond_the_horizon_is_refused_naming_the_field(cases: Cases) -> None:
    handle = await cases.start()
    await decide(handle, "triage", CHAIR, outcome="serious_incident")
    today = await cases.today()
    for far in ("9999-12-31", (horizon.latest(today) + timedelta(days=1)).isoformat()):
        cause = await refused(
            handle,
            "deadline_extended",
            CHAIR,
            deadline_id="notification",
            new_due_on=far,
            reason="Agreed with the National Panel",
        )
        assert cause.type == "InvalidDecision"
        assert f"new_due_on: {far} is too far ahead" in cause.message
    cause = await refused(
        handle, "notification_submitted", COORDINATOR, reference="NP-1", occurred_on="0001-01-01"
    )
    assert "occurred_on: 0001-01-01 is too far in the past" in cause.message
    # The case takes its next decision at once; the latest date allowed is accepted.
    result = await decide(
        handle,
        "deadline_extended",
        CHAIR,
        deadline_id="notification",
        new_due_on=horizon.latest(today).isoformat(),
        reason="Agreed with the National Panel",
    )
    assert next(d for d in result.deadlines if d.deadline_id == "notification").due_on == (
        horizon.latest(today)
    )
    assert (await decide(handle, "notification_submitted", COORDINATOR, reference="NP-1")).stage


async def test_a_decision_whose_deadlines_cannot_be_planned_is_refused_and_undone(
    time_skipping_env: WorkflowEnvironment, outbox: Any
) -> None:
    """Planning that fails for good comes back as a refusal (not a hung case): the case is
    as it was before the decision, the refusal is in its history, the next decision goes on."""
    queue = f"unplannable-{uuid.uuid4().hex[:8]}"
    started = Cases(time_skipping_env, queue)
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[ReferralWorkflow],
        activities=[*ACTIVITIES, plan_deadlines_failing_on_fixed_dates],
    ):
        handle = await started.start()
        await decide(handle, "triage", CHAIR, outcome="serious_incident")
        before = await status(handle)
        due = deadline(before, "notification").due_on
        cause = await refused(
            handle,
            "deadline_extended",
            CHAIR,
            decision_id="extend-1",
            deadline_id="notification",
            new_due_on=(due + timedelta(days=7)).isoformat(),
            reason="Agreed with the National Panel",
        )
        assert cause.type == "InvalidDecision"
        assert "could not be planned: the calendar ends here" in cause.message
        after = await status(handle)
        assert deadline(after, "notification").due_on == due
        assert deadline(after, "notification").extended == 0
        assert after.stage is before.stage
        assert any("could not be planned" in t for t in refusals(after))
        decided = [e.decision_id for e in after.history if e.kind is HistoryKind.DECISION]
        assert "extend-1" not in decided
        # Not taken as applied: the same id may be sent again once planning works.
        result = await decide(handle, "notification_submitted", COORDINATOR, reference="NP-1")
        assert result.stage is Stage.RAPID_REVIEW
        await started.terminate_open()


async def test_the_same_decision_id_with_other_content_is_a_conflict(cases: Cases) -> None:
    handle = await cases.start()
    first = await decide(handle, "triage", CHAIR, decision_id="t-1", outcome="serious_incident")
    again = await decide(handle, "triage", CHAIR, decision_id="t-1", outcome="serious_incident")
    assert again.duplicate and again.stage is first.stage
    cause = await refused(handle, "triage", CHAIR, decision_id="t-1", outcome="case_of_concern")
    assert cause.type == "Conflict"
    assert "already used for a different triage decision" in cause.message


async def test_an_implausible_referral_does_not_open_a_case(cases: Cases) -> None:
    """Started some way other than sro or the console (which check first)."""
    # (Far from today either way: the test server's clock may leap years while it waits.)
    today = await cases.today()
    for received, why in (
        (date(1, 1, 1), "is more than 5 years ago"),
        (date(9999, 1, 1), "is in the future"),
    ):
        made = referral(today).model_copy(update={"received_on": received})
        case_ref = f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}"
        handle = await cases.env.client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref, referral=made, options=ReferralOptions(search_attributes=False)
            ),
            id=workflow_id(case_ref),
            task_queue=cases.queue,
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "InvalidStart"
        assert f"received_on: {received} {why}" in cause.message


# --------------------------------------------------------------------------- only key holders


async def test_a_decision_without_the_key_is_refused_and_recorded(cases: Cases) -> None:
    handle = await cases.start()
    await status(handle)
    raw = without_key(cases.env).get_workflow_handle(handle.id)
    forged = decision("triage", CHAIR, decision_id="forged-1", outcome="serious_incident")
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await raw.execute_update("decide", forged.model_dump(mode="json"))
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidDecision"
    # Its reason is encrypted like every failure: only a key holder reads it (the history).
    assert cause.message == "Encoded failure"
    await raw.signal("decision", forged.model_dump(mode="json"))
    state = await wait_for(handle, lambda s: len(refusals(s)) >= 2, "both refusals recorded")
    assert state.stage is Stage.TRIAGE
    assert all("not encrypted with a key from the ring" in t for t in refusals(state))
    assert not [e for e in state.history if e.kind is HistoryKind.DECISION]
    # The same decision from a key holder is applied.
    assert (await decide(handle, "triage", CHAIR, outcome="serious_incident")).stage is (
        Stage.SERIOUS_INCIDENT_NOTIFICATION
    )


async def test_a_forged_ciphertext_in_a_signal_does_not_wedge_the_case(cases: Cases) -> None:
    handle = await cases.start()
    await status(handle)
    raw = without_key(cases.env).get_workflow_handle(handle.id)
    forged = Payload(
        metadata={"encoding": b"binary/encrypted", "encryption-key-id": b"nobody"},
        data=b"\x00" * 64,
    )
    await raw.signal("decision", RawValue(forged))
    await raw.signal("escalation", RawValue(forged))
    state = await wait_for(handle, lambda s: len(refusals(s)) >= 2, "refusals recorded")
    assert all("not encrypted with a key from the ring" in t for t in refusals(state))
    assert (await decide(handle, "triage", CHAIR, outcome="serious_incident")).stage is (
        Stage.SERIOUS_INCIDENT_NOTIFICATION
    )


async def test_a_case_started_without_the_key_fails_at_once(cases: Cases) -> None:
    today = await cases.today()
    case_ref = f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}"
    handle = await without_key(cases.env).start_workflow(
        "ReferralWorkflow",
        {"case_ref": case_ref, "referral": referral(today).model_dump(mode="json")},
        id=workflow_id(case_ref),
        task_queue=cases.queue,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await cases.env.client.get_workflow_handle(handle.id).result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "Unsealed"
    assert "not encrypted with a key from the ring" in cause.message


async def test_escalation_news_is_checked_and_attributed(cases: Cases) -> None:
    handle = await cases.start()
    await status(handle)
    ours = f"ENGLAND-ESC-2026-{uuid.uuid4().hex[:6].upper()}"

    async def send(**fields: Any) -> None:
        await handle.signal("escalation", fields)

    await send(escalation_ref=ours, text=f"Professional disagreement {ours} resolved")
    theirs = f"CSCP-ESC-2026-{uuid.uuid4().hex[:6].upper()}"
    await send(escalation_ref=theirs, text="raised", raised=True)
    await send(escalation_ref=ours, text="raised", raised=True, sent_by="escalation-OTHER")
    await send(escalation_ref=ours, text="\u202eevil", raised=True)
    state = await wait_for(handle, lambda s: len(refusals(s)) >= 4, "four refusals recorded")
    texts = refusals(state)
    assert any(f"{ours} was never raised on this case" in t for t in texts)
    assert any(f"{theirs} is not ENGLAND's" in t for t in texts)
    assert any("sent_by" in t for t in texts)
    assert any("control or formatting characters" in t for t in texts)
    note = EscalationNote(
        escalation_ref=ours,
        text=f"Professional disagreement {ours} raised",
        sent_by=f"escalation-{ours}",
        raised=True,
    )
    await handle.signal("escalation", note.model_dump(mode="json"))
    expected = f"Professional disagreement {ours} raised (from escalation-{ours})"
    await wait_for(handle, lambda s: expected in [e.text for e in s.history], "news recorded")
