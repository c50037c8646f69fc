"""The batched register projection (issue 16): a decision's reply never waits for the register,
the register follows within its lag while the case is open, and while the register is down
decisions are still applied and answered; it catches up, every decision once, when it returns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from activities import ALL_ACTIVITIES
from activities.register import RecordCaseInput, RecordCaseResult, record, record_case
from safeguarding.projection import CaseSnapshot
from tests.factories import BUSINESS_MANAGER, CHAIR, COORDINATOR, eventually
from tests.histories import HERE, load
from tests.workflows.test_referral_register import life, rows_of  # noqa: F401 (fixture)
from workflows.register_projection import REGISTER_LAG

E = EventType
APPROACH = {"approach": "appreciative_inquiry", "agencies": ["education", "health"]}
DECISIONS = ["triage", "approach_chosen", "outcome_shared", "case_closed"]


def is_register_write(event: HistoryEvent) -> bool:
    return (
        event.event_type == E.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == "core_local_activity"
    )


def tasks_answering_and_writing(events: Sequence[HistoryEvent]) -> list[int]:
    """Workflow tasks (by their completion's event id) that both answer a decision and write
    to the register, leaving out the one that completes the case (closing waits for the
    register on purpose: the register has the closed case before the run ends)."""
    found: list[int] = []
    task, answers, writes = 0, False, False
    for event in [*events, HistoryEvent(event_type=E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)]:
        if event.event_type == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            if answers and writes:
                found.append(task)
            task, answers, writes = event.event_id, False, False
        elif event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            answers = True
        elif is_register_write(event):
            writes = True
        elif event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            answers = writes = False
    return found


async def test_decisions_are_answered_before_the_register_writes_them(
    life: Any,  # noqa: F811
    register_url: str,
) -> None:
    calls: list[int] = []

    @activity.defn(name="record_case")
    async def counted(input: RecordCaseInput) -> RecordCaseResult:
        calls.append(input.snapshot.history_upto)
        return record(input.snapshot)

    others = [a for a in ALL_ACTIVITIES if a is not record_case]
    async with life([*others, counted]) as run:
        handle = await run.start()
        await run.decide(handle, "triage", BUSINESS_MANAGER, outcome="case_of_concern")
        await run.decide(handle, "approach_chosen", CHAIR, **APPROACH)
        # Past the lag: the register has both decisions while the case is still open.
        await run.env.sleep(REGISTER_LAG + timedelta(seconds=1))
        found = await eventually(
            lambda: _decisions(register_url, handle.id.removeprefix("referral-")),
            lambda n: n == 2,
            what="the register holding both decisions",
        )
        assert found == 2
        await run.decide(handle, "outcome_shared", COORDINATOR, summary="Shared")
        await run.decide(handle, "case_closed", BUSINESS_MANAGER)
        await handle.result()
        snapshot = await handle.query("register", result_type=CaseSnapshot)
        history = await handle.fetch_history()
    assert tasks_answering_and_writing(history.events) == []
    assert sum(is_register_write(e) for e in history.events) == len(calls) >= 2
    rows = rows_of(register_url, snapshot.case.case_ref)
    assert len(rows["history"]) == snapshot.history_upto
    assert [d["kind"] for d in sorted(rows["decisions"], key=lambda d: d["seq"])] == DECISIONS


async def _decisions(url: str, case_ref: str) -> int:
    return len(rows_of(url, case_ref)["decisions"])


async def test_while_the_register_is_down_decisions_are_answered_and_it_catches_up(
    life: Any,  # noqa: F811
    register_url: str,
) -> None:
    down = True

    @activity.defn(name="record_case")
    async def flaky(input: RecordCaseInput) -> RecordCaseResult:
        if down:
            raise RuntimeError("the register is down")
        return record(input.snapshot)

    others = [a for a in ALL_ACTIVITIES if a is not record_case]
    async with life([*others, flaky]) as run:
        handle = await run.start()
        await run.decide(handle, "triage", BUSINESS_MANAGER, outcome="case_of_concern")
        await run.env.sleep(REGISTER_LAG + timedelta(seconds=1))  # a write is tried, and fails
        await run.decide(handle, "approach_chosen", CHAIR, **APPROACH)
        case_ref = handle.id.removeprefix("referral-")
        assert rows_of(register_url, case_ref)["decisions"] == []
        down = False
        await run.decide(handle, "outcome_shared", COORDINATOR, summary="Shared")
        await run.decide(handle, "case_closed", BUSINESS_MANAGER)
        await handle.result()
    rows = rows_of(register_url, case_ref)
    assert [d["kind"] for d in sorted(rows["decisions"], key=lambda d: d["seq"])] == DECISIONS


def test_the_recorded_batched_route_never_holds_a_reply_for_the_register() -> None:
    """The recorded history of the batched path (tests/histories/register-batched.json.gz):
    its lag timer fired mid-case, and the writes never shared a task with an answer."""
    events = load(HERE / "register-batched.json.gz").history.events
    assert tasks_answering_and_writing(events) == []
    assert sum(is_register_write(e) for e in events) >= 2
    assert any(e.event_type == E.EVENT_TYPE_TIMER_FIRED for e in events)
