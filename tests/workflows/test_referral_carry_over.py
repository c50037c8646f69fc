"""A long case on the time-skipping server: many runs (continue-as-new forced early) of action
updates with the most evidence a decision allows. It keeps taking decisions, a decision id from an
earlier run is still a duplicate, what each run carries stays small, and the register (SQLite in
a scratch folder) holds every history entry once, numbered without a gap, with every piece of
evidence in full. With the register down the case carries what the register has not
acknowledged, and holds back continuing as new once that is a lot, until the register is back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

import workflows.referral_run as referral_run
from activities import ALL_ACTIVITIES
from activities.register import RecordCaseInput, RecordCaseResult, record, record_case
from gateway.connection import data_converter
from safeguarding.case import RECENT_EVIDENCE, CaseStatus, DecisionResult
from safeguarding.clock import uk_today
from safeguarding.decisions import Person
from safeguarding.projection import CaseSnapshot
from tests.factories import CHAIR, COORDINATOR, POLICE_MEMBER, decision, referral
from tests.workflows.test_referral_register import held_by_the_case, rebuilt_from_query, rows_of
from workflows.referral import (
    ReferralInput,
    ReferralOptions,
    ReferralResult,
    ReferralWorkflow,
    workflow_id,
)

Handle = WorkflowHandle[ReferralWorkflow, ReferralResult]

EVIDENCE_CHARS = 4_000
#: Each run's carried input (opened) stays under this; it was growing by about 9 KB an update.
CARRIED_BOUND = 200 * 1024

pytestmark = pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)


def evidence(n: int) -> str:
    head = f"progress report {n}: "
    return head + "x" * (EVIDENCE_CHARS - len(head))


class Register:
    """The projection's activity, which a test can take down and bring back."""

    def __init__(self) -> None:
        self.down = False

    @activity.defn(name="record_case")
    async def record_case(self, input: RecordCaseInput) -> RecordCaseResult:
        if self.down:
            raise RuntimeError("the register is down")
        return record(input.snapshot)


class LongCase:
    def __init__(self, env: WorkflowEnvironment, queue: str) -> None:
        self.env = env
        self.queue = queue
        self.ids: set[str] = set()
        self.evidence: dict[str, str] = {}

    async def today(self) -> date:
        return uk_today(await self.env.get_current_time())

    async def start(self, events: int) -> Handle:
        case_ref = f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}"
        self.handle = await self.env.client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref,
                referral=referral(await self.today()),
                options=ReferralOptions(
                    search_attributes=False, continue_as_new_after_events=events
                ),
            ),
            id=workflow_id(case_ref),
            task_queue=self.queue,
        )
        self.first_run = self.handle.result_run_id or ""
        return self.handle

    async def decide(self, kind: str, by: Person, **fields: Any) -> DecisionResult:
        made = decision(kind, by, **fields)
        result: DecisionResult = await self.handle.execute_update(
            "decide", made, result_type=DecisionResult
        )
        self.ids.add(made.decision_id)
        return result

    async def into_action_plan(self, actions: list[str]) -> None:
        await self.decide("triage", CHAIR, outcome="other_review", review_type="multi_agency_audit")
        await self.decide("other_review_completed", CHAIR, findings="Audit complete")
        due = (await self.today() + timedelta(days=365)).isoformat()
        for action_id in actions:
            await self.decide(
                "action_added",
                COORDINATOR,
                action_id=action_id,
                recommendation="Share information at the front door",
                description="Joint briefing",
                lead_agency="police",
                due_on=due,
                outcome_measure="Re-audit",
            )

    async def update(self, n: int, action_id: str) -> DecisionResult:
        decision_id = f"upd-{n:04d}"
        self.evidence[decision_id] = evidence(n)
        return await self.decide(
            "action_updated",
            POLICE_MEMBER,
            decision_id=decision_id,
            action_id=action_id,
            evidence=self.evidence[decision_id],
        )

    async def close(self, actions: list[str]) -> ReferralResult:
        for action_id in actions:
            await self.decide(
                "action_updated", POLICE_MEMBER, action_id=action_id, status="complete"
            )
        await self.decide("case_closed", CHAIR)
        return await self.handle.result()

    async def status(self) -> CaseStatus:
        return await self.handle.query(ReferralWorkflow.status)

    async def run_id(self) -> str:
        return (await self.handle.describe()).run_id or ""

    async def runs(self) -> list[WorkflowHistory]:
        """Every run's history, from the first, following continue-as-new."""
        found, run_id = [], self.first_run
        while run_id:
            history = await self.env.client.get_workflow_handle(
                self.handle.id, run_id=run_id
            ).fetch_history()
            found.append(history)
            last = history.events[-1]
            run_id = (
                last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
                else ""
            )
        return found


def lean_markers(history: WorkflowHistory) -> int:
    return sum(
        1
        for e in history.events
        if e.marker_recorded_event_attributes.marker_name == "core_patch"
        and referral_run.LEAN_PATCHES.encode()
        in e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data
    )


async def carried_bytes(history: WorkflowHistory) -> int:
    """The run's carried input as it opens (the codec compresses it: its sealed size would hide
    how much the case carries)."""
    codec = data_converter(seal_cases=False).payload_codec
    assert codec is not None
    sealed = history.events[0].workflow_execution_started_event_attributes.input.payloads
    return sum(p.ByteSize() for p in await codec.decode(sealed))


async def assert_runs_replay(runs: list[WorkflowHistory], *, unsandboxed: bool = False) -> None:
    """Each run replays with the current code (the same commands, the patch included)."""
    options: dict[str, Any] = (
        {"workflow_runner": UnsandboxedWorkflowRunner()} if unsandboxed else {}
    )
    replayer = Replayer(
        workflows=[ReferralWorkflow], data_converter=data_converter(seal_cases=False), **options
    )
    for history in runs:
        await replayer.replay_workflow(history)


def assert_register_complete(long: LongCase, url: str, result: ReferralResult) -> None:
    found = rows_of(url, result.case_ref)
    (case,) = found["cases"]
    seqs = [h["seq"] for h in found["history"]]
    assert seqs == list(range(case["history_count"])), "every entry once, numbered without a gap"
    assert case["runs"] == result.runs and case["stage"] == "closed"
    decided = [h["decision_id"] for h in found["history"] if h["kind"] == "decision"]
    assert sorted(decided) == sorted(long.ids) and len(decided) == result.decisions
    assert sorted(d["decision_id"] for d in found["decisions"]) == sorted(long.ids)
    text = {h["decision_id"]: h["text"] for h in found["history"] if h["kind"] == "decision"}
    missing = [i for i, given in long.evidence.items() if given not in text[i]]
    assert not missing, f"evidence not in full in the register: {missing}"


@pytest_asyncio.fixture
async def worker(
    time_skipping_env: WorkflowEnvironment, outbox: Path
) -> AsyncIterator[Callable[..., Any]]:
    """`async with worker(register, unsandboxed=...) as long:` a worker on a fresh queue."""

    def make(register: Register, *, unsandboxed: bool = False) -> Any:
        queue = f"carry-{uuid.uuid4().hex[:8]}"
        others = [a for a in ALL_ACTIVITIES if a is not record_case]
        options: dict[str, Any] = {"workflow_runner": UnsandboxedWorkflowRunner()}

        class Running:
            async def __aenter__(self) -> LongCase:
                self.worker = Worker(
                    time_skipping_env.client,
                    task_queue=queue,
                    workflows=[ReferralWorkflow],
                    activities=[*others, register.record_case],
                    **(options if unsandboxed else {}),
                )
                await self.worker.__aenter__()
                return LongCase(time_skipping_env, queue)

            async def __aexit__(self, *exc: Any) -> None:
                await self.worker.__aexit__(*exc)

        return Running()

    yield make


async def test_a_long_case_with_the_most_evidence_lives_on_run_after_run(
    worker: Any, register_url: str, tmp_path: Path
) -> None:
    actions = ["A1", "A2"]
    async with worker(Register()) as long:
        await long.start(events=100)
        await long.into_action_plan(actions)
        first = await long.update(0, "A1")
        assert not first.duplicate
        for n in range(1, 90):
            await long.update(n, actions[n % 2])
        status = await long.status()
        assert status.runs >= 5

        # A decision from the first run is still recognised, with a short answer.
        again = await long.update(0, "A1")
        assert again.duplicate and again.decision_id == "upd-0000"
        assert again.stage == status.stage and "recorded earlier" in again.message
        # The same id for another kind of decision is a conflict.
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await long.decide("case_closed", CHAIR, decision_id="upd-0000")
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.type == "Conflict"

        # The status shows the recent timeline and each action's latest evidence.
        assert status.history_from > 0
        assert status.history[-1].at >= status.history[0].at
        a1 = next(a for a in status.actions if a.action_id == "A1")
        assert a1.evidence == [evidence(n) for n in range(0, 90, 2)][-RECENT_EVIDENCE:]
        assert a1.earlier_evidence == 45 - RECENT_EVIDENCE

        result = await long.close(actions)
        runs = await long.runs()
        snapshot = await long.handle.query("register", result_type=CaseSnapshot)

    assert result.runs == len(runs) >= 6
    assert result.decisions == len(long.ids)
    # The first run asked for the lean paths (its input, from an older client, does not say);
    # each run continued from it is lean by its input (`ReferralInput.lean`) and asks nothing.
    assert [lean_markers(h) for h in runs] == [1] + [0] * (len(runs) - 1)
    sizes = [await carried_bytes(h) for h in runs]
    assert max(sizes) < CARRIED_BOUND, sizes
    # Once its recent timeline is full it grows only by the decision ids (about 20 bytes each).
    assert sizes[-1] - sizes[2] < 4 * 1024, sizes
    assert_register_complete(long, register_url, result)
    # `sro register rebuild` writes what the case still holds: the same rows as the register's.
    assert snapshot.history_from > 0
    found = rows_of(register_url, result.case_ref)
    assert rebuilt_from_query(snapshot, tmp_path) == held_by_the_case(found, snapshot)
    await assert_runs_replay(runs)


async def test_with_the_register_down_the_case_carries_what_it_lacks_and_then_waits_for_it(
    worker: Any, register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The register goes down while decisions keep coming. The case carries to its next runs the
    entries the register has not acknowledged; once those come to more than the limit (lowered
    here to a few updates' worth), it stays in its run, still taking decisions, until the
    register is back; then it continues as new and the register gets everything once."""
    monkeypatch.setattr(referral_run, "MAX_UNREGISTERED_CARRIED_BYTES", 40_000)
    register = Register()
    actions = ["A1"]
    async with worker(register, unsandboxed=True) as long:
        env = long.env
        await long.start(events=60)
        await long.into_action_plan(actions)
        register.down = True
        n = 0
        for n in range(1, 6):  # 22 KB not acknowledged: carried over
            await long.update(n, "A1")
        await env.sleep(timedelta(minutes=2))  # the catch-up gives up after a minute
        for n in range(6, 30):
            await long.update(n, "A1")
        await env.sleep(timedelta(minutes=2))
        held = await long.run_id()
        assert (await long.status()).runs >= 2, "it continued while the register lagged a little"

        # Far behind now: it stays in this run, and still takes decisions.
        for n in range(30, 35):
            await long.update(n, "A1")
            await env.sleep(timedelta(minutes=2))
        assert await long.run_id() == held
        length = (await long.handle.describe()).raw_description.workflow_execution_info
        assert length.history_length > 60

        register.down = False  # back: the projection's next retry gets through
        for _ in range(12):
            await env.sleep(timedelta(minutes=5))
            if await long.run_id() != held:
                break
        assert await long.run_id() != held, "it did not continue once the register was back"
        await long.update(35, "A1")
        result = await long.close(actions)
        runs = await long.runs()

    # The run that waited had been carried the five updates the register had not acknowledged.
    waited = next(h for h in runs if h.run_id == held)
    assert runs.index(waited) > 0 and await carried_bytes(waited) > 5 * EVIDENCE_CHARS
    patches = [
        e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data
        for e in waited.events
        if e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    assert any(referral_run.CARRY_BOUND_PATCH.encode() in p for p in patches), patches
    assert_register_complete(long, register_url, result)
    await assert_runs_replay(runs, unsandboxed=True)
