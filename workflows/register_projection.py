"""The register projection: a case's history and rows, sent to the register in the background.

A small helper the referral workflow owns (as samples-python's `UpdatableTimer`), so the workflow
reads as the review process. The workflow stays the source of truth: decisions and alerts never
wait for the register; the register acknowledges how much of the history it holds (`upto`), and
a case continuing as new carries what it has not acknowledged.
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
    from activities.register_io import RecordCaseInput, record_case
    from safeguarding import projection
    from safeguarding.case import Case

#: Runs started before the register existed replay without projecting (workflow.patched).
REGISTER_PATCH = "register-projection"
#: Local retries longer apart than this wait on a durable timer, so a decision waits at most
#: about a second for a register that is down (RELIABILITY.md measured 8 s at 5 s).
REGISTER_LOCAL_RETRY = timedelta(seconds=1)


class RegisterProjection:
    """Sends one case's changes to the register (the `record_case` local activity) whenever its
    history grows, and knows how far the register has caught up."""

    def __init__(
        self,
        registered_upto: int,
        lock: asyncio.Lock,
        timeout: timedelta,
        retry: RetryPolicy,
    ) -> None:
        #: History entries of the case the register has acknowledged.
        self.upto = registered_upto
        self._lock = lock  # the workflow's case lock: a snapshot never holds half a decision
        self._timeout = timeout
        self._retry = retry
        self._acknowledged: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._unregistered: tuple[int, int, int] = (-1, -1, 0)  # count, upto, bytes

    def start(self, projecting: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Start projecting in the background, with `projecting` (the workflow's `project`
        call); not for runs started before the register existed."""
        if workflow.patched(REGISTER_PATCH):
            self._task = asyncio.create_task(projecting())

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
            async with self._lock:  # between batches: never half a decision
                snapshot = projection.only_changed(
                    projection.snapshot(
                        case, since=self.upto, limit=projection.MAX_HISTORY_PER_SNAPSHOT
                    ),
                    self._acknowledged,
                )
            result = await workflow.execute_local_activity(
                record_case,
                RecordCaseInput(snapshot=snapshot),
                start_to_close_timeout=self._timeout,
                retry_policy=self._retry,
                # Retries more than a few seconds apart wait on a timer, not in the task.
                local_retry_threshold=REGISTER_LOCAL_RETRY,
                summary="record the case in the register",
            )
            projection.acknowledge(snapshot, self._acknowledged)
            self.upto = max(self.upto, result.history_upto)

    async def catch_up(self, case: Case, within: timedelta) -> None:
        """Give the register up to `within` to acknowledge the whole history so far."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self.upto >= case.history_count, timeout=within)

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
