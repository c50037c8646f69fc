"""Starting and following a disposal run (`DisposalWorkflow`, issue 14 point 3) for `sro`."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from activities.disposal_io import DisposalRunInput
from gateway.config import task_queue as default_task_queue
from gateway.errors import from_rpc
from workflows.disposal import DisposalRunResult, DisposalWorkflow, disposal_workflow_id


def new_run_id(today: date) -> str:
    """A run's id: the day it applies the schedule for, and a random part."""
    return f"{today.isoformat()}-{secrets.token_hex(3)}"


class DisposalClient:
    def __init__(self, client: Client, task_queue: str | None = None) -> None:
        self.client = client
        self.task_queue = task_queue or default_task_queue()

    async def start(
        self,
        *,
        by: str,
        today: date,
        partnership: str | None = None,
        case_refs: list[str] | None = None,
        run_id: str | None = None,
    ) -> WorkflowHandle[DisposalWorkflow, DisposalRunResult]:
        """Start a run; it goes on (and resumes after a worker's restart) without the caller."""
        input = DisposalRunInput(
            run_id=run_id or new_run_id(today),
            by=by,
            today=today,
            partnership=partnership,
            case_refs=case_refs or [],
        )
        try:
            return await self.client.start_workflow(
                DisposalWorkflow.run,
                input,
                id=disposal_workflow_id(input.run_id),
                task_queue=self.task_queue,
                static_summary=f"Disposal run {input.run_id}",
            )
        except RPCError as err:
            raise from_rpc(err, f"disposal run {input.run_id}") from None

    async def result(self, handle: WorkflowHandle[Any, DisposalRunResult]) -> DisposalRunResult:
        try:
            return await handle.result()
        except RPCError as err:
            raise from_rpc(err, f"disposal {handle.id}") from None
