"""The baseline workflow's input, shape, constants and no-op activity (`bench.baseline`), in a
module of their own: the workflow imports them passed through the sandbox, as the lifecycle's
workflow does its models, so neither rebuilds pydantic models for every run."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.common import RetryPolicy

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
