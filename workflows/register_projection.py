"""The register projection: a case's history and rows, sent to the register in the background.

A small helper the referral workflow owns (as samples-python's `UpdatableTimer`), so the workflow
reads as the review process. The workflow stays the source of truth: the register acknowledges
how much of the history it holds (`upto`), and a case continuing as new carries what it has not
acknowledged.

Batched (`BATCH_PATCH`): after a change the projection waits `REGISTER_LAG` on a timer before it
writes, so a decision's reply never waits for the register (a local activity started in the
decision's workflow task would hold its reply until the write commits), and one write carries
every change of a burst of decisions. What is pending is the case's own history since `upto`,
so it lives in workflow state: it survives replay and continue-as-new (`Case.carry_over`), and
nothing acknowledged to a sender is lost. Closing and continuing as new write at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.register_io import RecordCaseInput, RecordCaseResult, record_case
    from safeguarding import projection
    from safeguarding.case import Case

#: Runs started before the register existed replay without projecting (workflow.patched).
REGISTER_PATCH = "register-projection"
#: Local retries longer apart than this wait on a durable timer, so a decision waits at most
#: about a second for a register that is down (RELIABILITY.md measured 8 s at 5 s).
REGISTER_LOCAL_RETRY = timedelta(seconds=1)
#: Runs started before batching write after every change, in the changing workflow task.
BATCH_PATCH = "register-batched"
#: The register follows a change within about this long (plus the write): the bound on its lag.
REGISTER_LAG = timedelta(seconds=2)


class RegisterProjection:
    """Sends one case's changes to the register (the `record_case` local activity) whenever its
    history grows, and knows how far the register has caught up."""

    def __init__(
        self,
        registered_upto: int,
        lock: asyncio.Lock,
        timeout: timedelta,
        retry: RetryPolicy,
        patched: Callable[[str], bool] = workflow.patched,
    ) -> None:
        #: History entries of the case the register has acknowledged.
        self.upto = registered_upto
        self._lock = lock  # the workflow's case lock: a snapshot never holds half a decision
        self._timeout = timeout
        self._retry = retry
        self._patched = patched  # the workflow's (it may take patches for granted)
        self._acknowledged: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._hurry = 0  # callers waiting for the register (catch-up): write without the lag
        self._writing = False  # a write is under way (it may be retrying: the register down)
        self._unregistered: tuple[int, int, int] = (-1, -1, 0)  # count, upto, bytes
        self._before_write: Callable[[], None] = lambda: None

    def start(
        self,
        projecting: Callable[[], Coroutine[Any, Any, None]],
        before_write: Callable[[], None] | None = None,
    ) -> None:
        """Start projecting in the background, with `projecting` (the workflow's `project`
        call); not for runs started before the register existed. Batched runs call
        `before_write` in the workflow task of each write (the workflow publishes its search
        attributes there: one upsert for the batch)."""
        if before_write is not None:
            self._before_write = before_write
        if self._patched(REGISTER_PATCH):
            self._task = asyncio.create_task(projecting())

    @property
    def batched(self) -> bool:
        """Writes wait `REGISTER_LAG` and carry the workflow's search attributes with them."""
        return self._task is not None and self._patched(BATCH_PATCH)

    @property
    def publishes_next(self) -> bool:
        """A change made now is published by the next write, within `REGISTER_LAG`: batched,
        and no write under way (one may be retrying while the register is down; the workflow
        then publishes at once, so operators never wait for the register)."""
        return self.batched and not self._writing

    @property
    def running(self) -> bool:
        return self._task is not None

    async def project(self, case: Case) -> None:
        """Whenever the case history grows (a decision applied, alerts fired, a refusal or notice
        recorded), send the register a snapshot with the entries it has not acknowledged and
        the rows that changed. A local activity: it runs on this worker, off the server's
        activity queue, and retries without limit while the register is down (retries more than
        a few seconds apart wait on a durable timer)."""
        while True:
            await workflow.wait_condition(lambda: self._stopping or self.upto < case.history_count)
            if self.upto >= case.history_count:
                return  # stopping, and the register has everything
            if not (self._stopping or self._hurry) and self.batched:
                # Let the change's reply go, and more changes gather, before writing.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._stopping or self._hurry > 0,
                        timeout=REGISTER_LAG,
                        timeout_summary="register follows the case",
                    )
            async with self._lock:  # between batches: never half a decision
                if self.batched:
                    self._before_write()
                snapshot = projection.only_changed(
                    projection.snapshot(
                        case, since=self.upto, limit=projection.MAX_HISTORY_PER_SNAPSHOT
                    ),
                    self._acknowledged,
                )
            self._writing = True
            try:
                result = await self._write(snapshot)
            finally:
                self._writing = False
            projection.acknowledge(snapshot, self._acknowledged)
            self.upto = max(self.upto, result.history_upto)

    async def _write(self, snapshot: projection.CaseSnapshot) -> RecordCaseResult:
        return await workflow.execute_local_activity(
            record_case,
            RecordCaseInput(snapshot=snapshot),
            start_to_close_timeout=self._timeout,
            retry_policy=self._retry,
            # Retries more than a few seconds apart wait on a timer, not in the task.
            local_retry_threshold=REGISTER_LOCAL_RETRY,
            summary="record the case in the register",
        )

    async def catch_up(self, case: Case, within: timedelta) -> None:
        """Give the register up to `within` to acknowledge the whole history so far."""
        if self._task is None:
            return
        self._hurry += 1
        try:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.upto >= case.history_count, timeout=within
                )
        finally:
            self._hurry -= 1

    def unregistered_bytes(self, case: Case) -> int:
        """Bytes of the history entries the register has not acknowledged (0 when not
        projecting). Measured again only when the history or the register's position moved."""
        if self._task is None:
            return 0
        count, upto, size = self._unregistered
        if (count, upto) != (case.history_count, self.upto):
            count, upto = case.history_count, self.upto
            size = case.unregistered_size(upto)
            self._unregistered = (count, upto, size)
        return size

    async def stop(self) -> None:
        """Wait until the register has the whole history, then stop projecting."""
        if self._task is not None:
            self._stopping = True
            await self._task
