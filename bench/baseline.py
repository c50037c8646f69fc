"""The baseline for the lifecycle benchmark: the same Temporal work, no domain logic.

`BaselineWorkflow` runs exactly the activities, local activities, Updates (each with a validator)
and timers that a measured `ReferralWorkflow` run does, in the same places, with trivial bodies:
the activities do nothing, the validator checks only the payload size, and the handler keeps no
case. Its `shape` (activities before the first Update, in each Update's handler, in the background
after each Update as the register projection runs them, and timers) is read from the history of a
real lifecycle run (`shape_from_history`), so the two stay in step when the lifecycle changes.
It upserts no search attributes and carries no case: those are part of what is measured.

A batched projection (`workflows.register_projection.BATCH_PATCH`) waits `REGISTER_LAG` on a
timer before each write: those timers (told apart by their duration) are mirrored too, in the
background, cancelled as the lifecycle's are when the run finishes; so the baseline pays the same
timer-fired workflow tasks. How many writes a case makes depends on how fast its decisions come,
so the shape is read from a case driven at the benchmark's concurrency (`bench.lifecycle`).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ApplicationError

from bench.histories import is_local_activity
from workflows.register_projection import REGISTER_LAG

#: As the lifecycle's limit (safeguarding.decisions.MAX_DECISION_BYTES), without importing it.
MAX_PAYLOAD_BYTES = 64 * 1024
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)
#: Far enough that no baseline timer fires during a benchmark.
IDLE_TIMER = timedelta(days=3)


class BaselineShape(BaseModel):
    """The Temporal work of one lifecycle run."""

    #: Activities before the first Update (run one after another).
    initial_activities: int = Field(ge=0)
    #: Activities each Update's handler runs before it answers.
    per_update: list[int] = Field(min_length=1)
    #: Activities run in the background after each Update (as the register projection does).
    after_update: list[int] = Field(min_length=1)
    #: Local activities before the first Update and after each one (run in the background).
    initial_local: int = Field(0, ge=0)
    local_after_update: list[int] = Field(default_factory=list)
    #: Timers of `REGISTER_LAG` before the first Update and after each one (the batched
    #: projection's wait before a write), run in the background before the next local activity.
    initial_lag_timers: int = Field(0, ge=0)
    lag_timers_after_update: list[int] = Field(default_factory=list)
    #: The other timers (the case's wait for its next alert: never fired in a benchmark),
    #: started before the first Update and after each one. Each start cancels the timer before,
    #: as the case's does when its next alert moves.
    initial_timers: int = Field(0, ge=0)
    timers_after_update: list[int] = Field(default_factory=list)

    @property
    def timers(self) -> int:
        return self.initial_timers + sum(self.timers_after_update)

    @property
    def activities(self) -> int:
        return self.initial_activities + sum(self.per_update) + sum(self.after_update)

    @property
    def local_activities(self) -> int:
        return self.initial_local + sum(self.local_after_update)


class BaselineInput(BaseModel):
    case_ref: str
    shape: BaselineShape


class NoopInput(BaseModel):
    n: int


class NoopResult(BaseModel):
    n: int


@activity.defn
async def bench_noop(input: NoopInput) -> NoopResult:
    return NoopResult(n=input.n)


@workflow.defn
class BaselineWorkflow:
    @workflow.init
    def __init__(self, input: BaselineInput) -> None:
        self._shape = input.shape
        self._lock = asyncio.Lock()
        self._ready = False
        self._changed = False
        self._updates = 0
        self._owed_timers = input.shape.initial_timers  # alert timers to start
        self._timer: asyncio.Task[None] | None = None
        self._owed = 0  # background activities still to run
        self._owed_local = input.shape.initial_local  # and local activities
        self._owed_lag = input.shape.initial_lag_timers  # and lag timers before them
        self._finished = False

    @workflow.run
    async def run(self, input: BaselineInput) -> int:
        for n in range(self._shape.initial_activities):
            await self._noop(n)
        self._ready = True
        background = asyncio.create_task(self._background())
        while self._updates < len(self._shape.per_update):
            while self._owed_timers > 0:  # as the case restarts its alert timer
                self._owed_timers -= 1
                if self._timer is not None:
                    self._timer.cancel()
                self._timer = asyncio.create_task(workflow.sleep(IDLE_TIMER))
            await workflow.wait_condition(lambda: self._changed)
            self._changed = False
        if self._timer is not None:
            self._timer.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._finished = True
        await background
        return self._updates

    async def _background(self) -> None:
        """The case's two background tasks, side by side as in the case: its notices (the
        activities after an Update) and its register projection (lag timers, local activities)."""
        await asyncio.gather(self._deliveries(), self._projection())

    async def _deliveries(self) -> None:
        while True:
            await workflow.wait_condition(lambda: self._owed > 0 or self._finished)
            if self._owed == 0:
                return
            self._owed -= 1
            await self._noop(-1)

    async def _projection(self) -> None:
        while True:
            await workflow.wait_condition(
                lambda: self._owed_local > 0 or self._owed_lag > 0 or self._finished
            )
            if self._owed_lag > 0:
                self._owed_lag -= 1
                if not self._finished:  # the lifecycle's too is cancelled when it finishes
                    with contextlib.suppress(TimeoutError):
                        await workflow.wait_condition(lambda: self._finished, timeout=REGISTER_LAG)
            elif self._owed_local > 0:
                self._owed_local -= 1
                await workflow.execute_local_activity(
                    bench_noop, NoopInput(n=-2), start_to_close_timeout=ACTIVITY_TIMEOUT
                )
            else:
                return

    @workflow.update(name="decide")
    async def decide(self, raw: RawValue) -> dict[str, int]:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            index = self._updates
            for n in range(self._shape.per_update[index]):
                await self._noop(n)
            self._updates += 1
            self._owed += self._shape.after_update[index]
            if index < len(self._shape.local_after_update):
                self._owed_local += self._shape.local_after_update[index]
            if index < len(self._shape.lag_timers_after_update):
                self._owed_lag += self._shape.lag_timers_after_update[index]
            if index < len(self._shape.timers_after_update):
                self._owed_timers += self._shape.timers_after_update[index]
            self._changed = True
        return {"update": index}

    @decide.validator
    def _validate_decide(self, raw: RawValue) -> None:
        if raw.payload.ByteSize() > MAX_PAYLOAD_BYTES:
            raise ApplicationError("too large", type="InvalidDecision", non_retryable=True)
        if self._updates >= len(self._shape.per_update):
            raise ApplicationError("no more updates expected", type="WrongStage")

    async def _noop(self, n: int) -> None:
        await workflow.execute_activity(
            bench_noop,
            NoopInput(n=n),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )


def shape_from_history(history: WorkflowHistory) -> BaselineShape:
    """From a lifecycle history: activities before the first Update; activities scheduled while
    each Update ran (between its acceptance and its completion: the driver sends one Update at a
    time); activities scheduled outside any Update after each one; and timers."""
    initial = initial_local = 0
    per_update: list[int] = []
    after_update: list[int] = []
    local_after_update: list[int] = []
    lag_after_update: list[int] = []
    in_update = False
    timers_after_update: list[int] = []
    initial_timers = initial_lag = 0
    lag = int(REGISTER_LAG.total_seconds())
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            per_update.append(0)
            after_update.append(0)
            local_after_update.append(0)
            lag_after_update.append(0)
            timers_after_update.append(0)
            in_update = True
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            in_update = False
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if in_update:
                per_update[-1] += 1
            elif per_update:
                after_update[-1] += 1
            else:
                initial += 1
        elif is_local_activity(event):
            if local_after_update:
                local_after_update[-1] += 1
            else:
                initial_local += 1
        elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            fires_in = event.timer_started_event_attributes.start_to_fire_timeout
            if fires_in.seconds == lag and fires_in.nanos == 0:
                if lag_after_update:
                    lag_after_update[-1] += 1
                else:
                    initial_lag += 1
            elif timers_after_update:
                timers_after_update[-1] += 1
            else:
                initial_timers += 1
    return BaselineShape(
        initial_activities=initial,
        per_update=per_update,
        after_update=after_update,
        initial_local=initial_local,
        local_after_update=local_after_update,
        initial_lag_timers=initial_lag,
        lag_timers_after_update=lag_after_update,
        initial_timers=initial_timers,
        timers_after_update=timers_after_update,
    )
