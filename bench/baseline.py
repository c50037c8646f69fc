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

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

# Passed through the sandbox, as the lifecycle's workflow passes through its models: a workflow
# module's own imports are otherwise run again for every run the worker starts.
with workflow.unsafe.imports_passed_through():
    from bench.baseline_io import (
        ACTIVITY_RETRY,
        ACTIVITY_TIMEOUT,
        IDLE_TIMER,
        MAX_PAYLOAD_BYTES,
        BaselineInput,
        BaselineShape,
        NoopInput,
        NoopResult,
        bench_noop,
        shape_from_history,
    )
    from workflows.register_projection import REGISTER_LAG


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


__all__ = [
    "BaselineInput",
    "BaselineShape",
    "BaselineWorkflow",
    "NoopInput",
    "NoopResult",
    "bench_noop",
    "shape_from_history",
]
