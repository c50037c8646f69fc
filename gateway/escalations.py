"""The typed client for professional disagreements (`ProfessionalDisagreementWorkflow`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowExecution, WorkflowHandle
from temporalio.common import SearchAttributePair
from temporalio.service import RPCError

from gateway.cases import change, executions, raw_body
from gateway.config import task_queue as default_task_queue
from gateway.errors import Closed, GatewayError, Refused, from_rpc
from gateway.reading import DEFAULT_TIMEOUT, ask
from gateway.refs import escalation_workflow_id, new_escalation_ref
from gateway.starting import Started, StartPlan, start_unique
from safeguarding.escalation import Disagreement, EscalationStatus
from workflows import search_attributes as sa
from workflows.escalation import EscalationInput, ProfessionalDisagreementWorkflow


class EscalationClient:
    def __init__(self, client: Client, task_queue: str | None = None) -> None:
        self.client = client
        self.task_queue = task_queue or default_task_queue()

    def _handle(self, ref: str) -> WorkflowHandle[ProfessionalDisagreementWorkflow, Any]:
        return self.client.get_workflow_handle_for(
            ProfessionalDisagreementWorkflow.run, escalation_workflow_id(ref)
        )

    async def raise_(
        self,
        disagreement: Disagreement,
        *,
        year: int,
        details: str,
        new_ref: Callable[[str, int], str] = new_escalation_ref,
    ) -> Started:
        """Raise a disagreement under a fresh reference; it starts at stage 1."""
        partnership = disagreement.partnership
        plan = StartPlan(
            run=ProfessionalDisagreementWorkflow.run,
            new_ref=lambda: new_ref(partnership, year),
            make_input=lambda ref: EscalationInput(escalation_ref=ref, disagreement=disagreement),
            workflow_id=escalation_workflow_id,
            summary=lambda ref: f"Escalation {ref} — {partnership}",
            details=details,
            search_attributes=[
                SearchAttributePair(sa.PARTNERSHIP, partnership),
                SearchAttributePair(sa.ESCALATION_STAGE, 1),
            ],
            what="escalation reference",
        )
        return await start_unique(self.client, plan, self.task_queue)

    async def decide(
        self, ref: str, body: dict[str, Any], *, timeout: timedelta = DEFAULT_TIMEOUT
    ) -> EscalationStatus:
        """Resolve or escalate (the `decide` Update). An escalation that has ended refuses."""
        handle, raw = self._handle(ref), raw_body(self.client, body)

        async def update() -> EscalationStatus:
            # `@workflow.update(name=...)` on an async method types its result as the
            # coroutine (an SDK typing gap); the call itself returns the result.
            return await handle.execute_update(
                ProfessionalDisagreementWorkflow.decide,  # type: ignore[arg-type]
                raw,
                id=str(body["decision_id"]),
                rpc_timeout=timeout,
            )

        try:
            return await change(ref, update)
        except Closed:
            raise await self._ended(ref) from None

    async def send_decision(
        self, ref: str, body: dict[str, Any], *, timeout: timedelta = DEFAULT_TIMEOUT
    ) -> None:
        handle, raw = self._handle(ref), raw_body(self.client, body)
        try:
            await change(
                ref,
                lambda: handle.signal(
                    ProfessionalDisagreementWorkflow.decision_signal, raw, rpc_timeout=timeout
                ),
            )
        except Closed:
            raise await self._ended(ref) from None

    async def _ended(self, ref: str) -> GatewayError:
        """A decision for an escalation whose workflow has ended: refused as the workflow
        refuses one that arrives between its resolution and its end."""
        try:
            description = await self._handle(ref).describe()
        except RPCError as err:
            return from_rpc(err, ref)
        status = description.status.name.lower() if description.status else "closed"
        if status == "completed":
            return Refused("WrongStage", "the escalation is already resolved", ref=ref)
        return Closed(f"escalation {ref} has ended ({status}); it takes no more decisions", ref=ref)

    async def status(self, ref: str, *, timeout: timedelta = DEFAULT_TIMEOUT) -> EscalationStatus:
        handle = self._handle(ref)
        return await ask(
            ref,
            lambda: handle.query(ProfessionalDisagreementWorkflow.status, rpc_timeout=timeout),
            self.client,
        )

    def list(self, query: str, *, limit: int) -> AsyncIterator[WorkflowExecution]:
        return executions(self.client, query, limit=limit)
