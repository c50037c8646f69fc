"""The nightly register reconciliation: every case re-projected from its workflow into the
register, so drift (a projection lost to an outage, a row edited by hand) is repaired.

The rebuild itself is the gateway's (`gateway.rebuild.rebuild`, as `sro register rebuild` uses);
activities do not import the gateway, so worker.py hands it in (`RegisterReconciler`).
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from temporalio import activity

from activities.scheduled_io import RECONCILE_REGISTER, ReconcileInput, ReconcileResult


class Rebuilt(Protocol):
    cases: int
    history_added: int
    decisions_added: int
    disposed: int
    failed: list[str]


class RegisterReconciler:
    """`rebuild`: the gateway's, bound to the worker's client; `task_queue`: the worker's, so it
    reconciles the cases this deployment runs."""

    def __init__(self, rebuild: Callable[..., Awaitable[Any]], task_queue: str) -> None:
        self._rebuild = rebuild
        self._task_queue = task_queue

    @activity.defn(name=RECONCILE_REGISTER)
    async def reconcile_register(self, input: ReconcileInput) -> ReconcileResult:
        done: Rebuilt = await self._rebuild(
            partnership=input.partnership,
            cases=input.cases or None,
            task_queue=self._task_queue,
            stream=io.StringIO(),
        )
        return ReconcileResult(
            cases=done.cases,
            history_added=done.history_added,
            decisions_added=done.decisions_added,
            disposed_skipped=done.disposed,
            failed=done.failed[:200],
        )
