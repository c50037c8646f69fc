"""The worker's sandbox (`workflows/sandbox.py`): every serialization and store context it gives
without the SDK's `exec` is the one the SDK gives, for each kind of command and for a real case
sealed with its own key; and on the installed SDK the shortcut is really taken."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.api.enums.v1 import CommandType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import _runner as sdk_runner

with workflow.unsafe.imports_passed_through():
    from activities import ALL_ACTIVITIES
    from tests.factories import CHAIR, CSC_MEMBER
    from tests.workflows.test_referral import Cases, decide, status
    from workflows.referral import ReferralWorkflow
    from workflows.sandbox import DirectContextInstance, DirectContextSandbox

#: (what was asked, the command's type or "none", the shortcut's answer equals the SDK's)
ASKED: list[tuple[str, str, bool]] = []
#: Calls the shortcut could not take (the SDK's path used instead).
FELL_BACK: list[str] = []


def _command(command_info: Any) -> str:
    if command_info is None:
        return "none"
    return CommandType.Name(command_info.command_type)


class _CheckedInstance(DirectContextInstance):
    """Answers as the worker's sandbox does, and checks each answer against the SDK's."""

    def get_serialization_context(self, command_info: Any) -> Any:
        return self._checked("context", "get_serialization_context", command_info)

    def get_external_store_context(self, command_info: Any) -> Any:
        return self._checked("store", "get_external_store_context", command_info)

    def _checked(self, kind: str, method: str, command_info: Any) -> Any:
        if self.in_sandbox() is None:
            FELL_BACK.append(kind)
        mine = getattr(DirectContextInstance, method)(self, command_info)
        sdks = getattr(sdk_runner._Instance, method)(self, command_info)
        ASKED.append((kind, _command(command_info), mine == sdks))
        return mine


@dataclass(frozen=True)
class _CheckedSandbox(DirectContextSandbox):
    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _CheckedInstance(det, self.runner_class, self.restrictions)


@activity.defn
async def echo(text: str) -> str:
    return text


@workflow.defn
class ChildForContexts:
    @workflow.run
    async def run(self, text: str) -> str:
        await workflow.wait_condition(lambda: self._told, timeout=timedelta(seconds=30))
        return text

    def __init__(self) -> None:
        self._told = False

    @workflow.signal
    def tell(self, _: str) -> None:
        self._told = True


@workflow.defn
class EveryCommandForContexts:
    """An activity, a local activity, a timer with a summary, a child workflow signalled as an
    external workflow, and an Update's reply: each command that carries payloads."""

    def __init__(self) -> None:
        self._replies = 0

    @workflow.run
    async def run(self, text: str) -> str:
        said = await workflow.execute_activity(
            echo, text, start_to_close_timeout=timedelta(seconds=10), summary="echo"
        )
        said += await workflow.execute_local_activity(
            echo, text, start_to_close_timeout=timedelta(seconds=10), summary="echo locally"
        )
        await workflow.sleep(timedelta(seconds=1), summary="a moment")
        child = await workflow.start_child_workflow(
            ChildForContexts.run, text, id=f"{workflow.info().workflow_id}-child"
        )
        await workflow.get_external_workflow_handle(child.id).signal(ChildForContexts.tell, text)
        said += await child
        await workflow.wait_condition(lambda: self._replies > 0)
        return said

    @workflow.update
    def reply(self, text: str) -> str:
        self._replies += 1
        return text.upper()


@asynccontextmanager
async def checked_worker(
    env: WorkflowEnvironment, workflows: list[type], activities: Sequence[Callable[..., Any]]
) -> AsyncIterator[str]:
    """A worker in the checking sandbox on a queue of its own (yielded), the record cleared."""
    ASKED.clear()
    FELL_BACK.clear()
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=workflows,
        activities=activities,
        workflow_runner=_CheckedSandbox(),
    ):
        yield queue


async def test_each_command_gets_the_sdks_context(time_skipping_env: WorkflowEnvironment) -> None:
    async with checked_worker(
        time_skipping_env, [EveryCommandForContexts, ChildForContexts], [echo]
    ) as queue:
        handle = await time_skipping_env.client.start_workflow(
            EveryCommandForContexts.run, "x", id=f"contexts-{uuid.uuid4().hex}", task_queue=queue
        )
        assert await handle.execute_update(EveryCommandForContexts.reply, "y") == "Y"
        assert await handle.result() == "xxx"

    assert FELL_BACK == []  # the installed SDK keeps what the shortcut relies on
    assert [asked for asked in ASKED if not asked[2]] == []
    commands = Counter(command for _, command, _ in ASKED)
    for command in (
        "none",
        "COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK",
        "COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION",
        "COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION",
    ):
        assert commands[command] > 0, (command, commands)
    assert {kind for kind, _, _ in ASKED} == {"context", "store"}


async def test_a_case_sealed_with_its_own_key_reads_the_same(
    time_skipping_env: WorkflowEnvironment, outbox: Path
) -> None:
    async with checked_worker(time_skipping_env, [ReferralWorkflow], ALL_ACTIVITIES) as queue:
        cases = Cases(time_skipping_env, queue)
        handle = await cases.start()
        await decide(handle, "triage", CHAIR, outcome="serious_incident")
        await decide(handle, "notification_submitted", CSC_MEMBER, reference="SIN-2026-0042")
        assert (await status(handle)).stage.value == "rapid_review"
        await cases.terminate_open()

    assert FELL_BACK == []
    assert ASKED and all(same for _, _, same in ASKED)
    assert Counter(command for _, command, _ in ASKED)["COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK"] > 0


async def test_the_worker_runs_workflows_in_this_sandbox(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    from worker import build_worker

    runner = build_worker(time_skipping_env.client, "sandbox-unused").config()["workflow_runner"]
    assert isinstance(runner, DirectContextSandbox)
    # The SDK's own restrictions, unchanged.
    assert runner.restrictions == sdk_runner.SandboxedWorkflowRunner().restrictions
