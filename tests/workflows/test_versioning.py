"""Changing workflow code while cases are running: the replay tests catch an incompatible change,
and the documented way to make one (workflow.patched, later deprecate_patch) passes them.

Each variant below is the real ReferralWorkflow with one small change to its run (`ReferralRun`),
registered under the same workflow name (as the next release of the code would be), replayed
against the recorded histories of tests/histories."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker, WorkflowReplayResult

with workflow.unsafe.imports_passed_through():
    from activities import ALL_ACTIVITIES
    from gateway.connection import data_converter
    from safeguarding.case import Case, DeadlineView, Effects
    from safeguarding.clock import uk_today
    from security.keys import KeyRing
    from tests.conftest import TEST_CODEC_KEYS
    from tests.factories import CHAIR, decision, referral
    from tests.histories import files, load
    from workflows.referral import (
        ReferralInput,
        ReferralOptions,
        ReferralResult,
        ReferralWorkflow,
        workflow_id,
    )
    from workflows.referral_run import ReferralRun

#: The id of the example change: "wait a moment before planning deadlines".
PATCH = "pause-before-planning"
PAUSE = timedelta(seconds=1)
RING = KeyRing.parse(TEST_CODEC_KEYS)


class _PausingRun(ReferralRun):
    async def _carry_out(self, effects: Effects) -> list[DeadlineView]:
        await workflow.sleep(PAUSE)
        return await super()._carry_out(effects)


class _UnregisteredRun(ReferralRun):
    async def _project(self, case: Case) -> None:
        return


class _PatchedPausingRun(ReferralRun):
    async def _carry_out(self, effects: Effects) -> list[DeadlineView]:
        if workflow.patched(PATCH):
            await workflow.sleep(PAUSE)
        return await super()._carry_out(effects)


class _DeprecatedPausingRun(ReferralRun):
    async def _carry_out(self, effects: Effects) -> list[DeadlineView]:
        workflow.deprecate_patch(PATCH)
        await workflow.sleep(PAUSE)
        return await super()._carry_out(effects)


@workflow.defn(name="ReferralWorkflow")
class UnguardedPause(ReferralWorkflow):
    """An incompatible change: a new timer before the deadline-planning activity."""

    @workflow.init
    def __init__(self, input: ReferralInput) -> None:
        self._run = _PausingRun(input)

    @workflow.run
    async def run(self, input: ReferralInput) -> ReferralResult:
        return await super().run(input)


@workflow.defn(name="ReferralWorkflow")
class DroppedRegister(ReferralWorkflow):
    """Another: no longer projecting into the register (local activities disappear)."""

    @workflow.init
    def __init__(self, input: ReferralInput) -> None:
        self._run = _UnregisteredRun(input)

    @workflow.run
    async def run(self, input: ReferralInput) -> ReferralResult:
        return await super().run(input)


@workflow.defn(name="ReferralWorkflow")
class PatchedPause(ReferralWorkflow):
    """The same change done safely: runs that started before it keep the old path."""

    @workflow.init
    def __init__(self, input: ReferralInput) -> None:
        self._run = _PatchedPausingRun(input)

    @workflow.run
    async def run(self, input: ReferralInput) -> ReferralResult:
        return await super().run(input)


@workflow.defn(name="ReferralWorkflow")
class DeprecatedPause(ReferralWorkflow):
    """Later, once no run from before the patch is open: the old path removed."""

    @workflow.init
    def __init__(self, input: ReferralInput) -> None:
        self._run = _DeprecatedPausingRun(input)

    @workflow.run
    async def run(self, input: ReferralInput) -> ReferralResult:
        return await super().run(input)


def referral_histories() -> list[WorkflowHistory]:
    recorded = [load(path) for path in files()]
    return [r.history for r in recorded if r.workflow_type == "ReferralWorkflow"]


async def replay(variant: type, history: WorkflowHistory) -> WorkflowReplayResult:
    return await Replayer(
        workflows=[variant], data_converter=data_converter(RING, seal_cases=False)
    ).replay_workflow(history, raise_on_replay_failure=False)


def history_named(name: str) -> WorkflowHistory:
    return next(load(p).history for p in files() if p.name.startswith(f"{name}.json"))


@pytest.mark.parametrize("variant", [UnguardedPause, DroppedRegister])
@pytest.mark.parametrize("route", ["no-further-action", "local-cspr"])
async def test_an_incompatible_change_is_caught(variant: type, route: str) -> None:
    result = await replay(variant, history_named(route))
    assert isinstance(result.replay_failure, workflow.NondeterminismError), result.replay_failure
    # The unchanged code replays the same history.
    assert (await replay(ReferralWorkflow, history_named(route))).replay_failure is None


async def test_a_patched_change_replays_every_recorded_history() -> None:
    for history in referral_histories():
        result = await replay(PatchedPause, history)
        assert result.replay_failure is None, (history.workflow_id, result.replay_failure)


async def test_a_new_run_takes_the_new_path_and_the_patch_can_then_be_deprecated(
    time_skipping_env: WorkflowEnvironment, outbox: Path
) -> None:
    queue = f"patched-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[PatchedPause],
        activities=ALL_ACTIVITIES,
    ):
        today = uk_today(await time_skipping_env.get_current_time())
        case_ref = f"ENGLAND-{today.year}-{uuid.uuid4().hex[:6].upper()}"
        handle = await time_skipping_env.client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref,
                referral=referral(today, harm="other"),
                options=ReferralOptions(search_attributes=False),
            ),
            id=workflow_id(case_ref),
            task_queue=queue,
        )
        await handle.execute_update(
            "decide", decision("triage", CHAIR, outcome="no_further_action", advice="none")
        )
        await handle.result()
        new = await handle.fetch_history()

    # The new run recorded the patch and took the new path: a pause before each planning.
    markers = [
        e.marker_recorded_event_attributes
        for e in new.events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    patches = [m.details["patch-data"].payloads[0].data.decode() for m in markers]
    # Ours, beside the register's own patch (REGISTER_PATCH); patch ids are never personal data.
    assert len([p for p in patches if PATCH in p]) == 1, patches
    pauses = [
        e
        for e in new.events
        if e.HasField("timer_started_event_attributes")
        and e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta() == PAUSE
    ]
    assert len(pauses) == 2  # opening the case, and the triage decision

    assert (await replay(PatchedPause, new)).replay_failure is None
    # Once every run from before the patch has finished, deprecate it: new-path runs replay...
    assert (await replay(DeprecatedPause, new)).replay_failure is None
    # ...but a run from before the patch would not, which is why deprecating must wait.
    old = await replay(DeprecatedPause, history_named("no-further-action"))
    assert isinstance(old.replay_failure, workflow.NondeterminismError)
    # Nor can the old code read the new runs: after the release, roll forward, not back.
    back = await replay(ReferralWorkflow, new)
    assert isinstance(back.replay_failure, workflow.NondeterminismError)
