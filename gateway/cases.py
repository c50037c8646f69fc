"""The typed client for cases (`ReferralWorkflow`): what every interface does with a case.

Calls go by workflow method, as temporalio/samples-python does, so a renamed query or a changed
result type is a type error here, not a runtime surprise in an interface. Every Temporal failure
leaves as a `gateway.errors` error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowExecution,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import RawValue, SearchAttributePair
from temporalio.service import RPCError, RPCStatusCode

from gateway.config import task_queue as default_task_queue
from gateway.errors import (
    NoAnswer,
    NotFound,
    SearchRefused,
    from_rpc,
    from_update_failure,
)
from gateway.reading import DEFAULT_TIMEOUT, CaseReader, ask
from gateway.refs import new_case_ref, workflow_id
from gateway.starting import Started, StartPlan, start_unique
from safeguarding.case import DecisionResult
from safeguarding.projection import CaseSnapshot
from safeguarding.referral import Referral
from safeguarding.vocabulary import Stage
from workflows import search_attributes as sa
from workflows.referral import ReferralInput, ReferralWorkflow

_T = TypeVar("_T")


def raw_body(client: Client, body: dict[str, Any]) -> RawValue:
    """A decision as the workflow takes it: a RawValue it checks itself (size, sealing). The
    client's payload converter builds it; the codec still encrypts it on the way out."""
    return RawValue(client.data_converter.payload_converter.to_payload(body))


async def change(ref: str, call: Callable[[], Awaitable[_T]]) -> _T:
    """An Update or a signal, its failures as gateway errors."""
    try:
        return await call()
    except WorkflowUpdateFailedError as err:
        raise from_update_failure(err, ref) from err
    except RPCTimeoutOrCancelledError as err:
        raise NoAnswer(
            f"{ref} did not answer in time; the decision may or may not have been applied",
            ref=ref,
        ) from err
    except RPCError as err:
        raise from_rpc(err, ref) from err


async def executions(client: Client, query: str, *, limit: int) -> AsyncIterator[WorkflowExecution]:
    """A visibility listing, its failures as gateway errors."""
    try:
        async for execution in client.list_workflows(query, limit=limit):
            yield execution
    except RPCError as err:
        if err.status is RPCStatusCode.INVALID_ARGUMENT:
            raise SearchRefused(f"Temporal refused the search: {err.message}") from err
        raise from_rpc(err, "the search") from err


class CaseClient(CaseReader):
    def __init__(self, client: Client, task_queue: str | None = None) -> None:
        super().__init__(client)
        self.task_queue = task_queue or default_task_queue()

    def _handle(self, case_ref: str) -> WorkflowHandle[ReferralWorkflow, Any]:
        return self.client.get_workflow_handle_for(ReferralWorkflow.run, workflow_id(case_ref))

    async def start(
        self, referral: Referral, *, details: str, new_ref: Callable[[str, int], str] = new_case_ref
    ) -> Started:
        """Open a case under a fresh reference (retried when one is taken)."""
        plan = StartPlan(
            run=ReferralWorkflow.run,
            new_ref=lambda: new_ref(referral.partnership, referral.received_on.year),
            # Lean: a new case runs on the current paths without a patch marker (workers that
            # know `lean` must be deployed before clients that send it).
            make_input=lambda ref: ReferralInput(case_ref=ref, referral=referral, lean=True),
            workflow_id=workflow_id,
            summary=lambda ref: f"Referral {ref} — {referral.partnership}",
            details=details,
            search_attributes=[
                SearchAttributePair(sa.PARTNERSHIP, referral.partnership),
                SearchAttributePair(sa.REVIEW_STAGE, Stage.REFERRAL_RECEIVED.value),
            ],
            what="case reference",
        )
        return await start_unique(self.client, plan, self.task_queue)

    async def decide(
        self, case_ref: str, body: dict[str, Any], *, timeout: timedelta = DEFAULT_TIMEOUT
    ) -> DecisionResult:
        """Make a decision (the `decide` Update, its id the decision id: re-sent, it applies
        once). Refused (`Refused`, `Closed`) with the workflow's reason."""
        handle, raw = self._handle(case_ref), raw_body(self.client, body)

        async def update() -> DecisionResult:
            # `@workflow.update(name=...)` on an async method types its result as the
            # coroutine (an SDK typing gap); the call itself returns the result.
            return await handle.execute_update(
                ReferralWorkflow.decide,  # type: ignore[arg-type]
                raw,
                id=str(body["decision_id"]),
                rpc_timeout=timeout,
            )

        return await change(case_ref, update)

    async def send_decision(
        self, case_ref: str, body: dict[str, Any], *, timeout: timedelta = DEFAULT_TIMEOUT
    ) -> None:
        """The same decision as a signal: no answer; a refusal shows in the case's history."""
        handle, raw = self._handle(case_ref), raw_body(self.client, body)
        await change(
            case_ref,
            lambda: handle.signal(ReferralWorkflow.decision_signal, raw, rpc_timeout=timeout),
        )

    async def referral(self, case_ref: str, *, timeout: timedelta = DEFAULT_TIMEOUT) -> Referral:
        handle = self._handle(case_ref)
        return await ask(
            case_ref,
            lambda: handle.query(ReferralWorkflow.referral, rpc_timeout=timeout),
            self.client,
        )

    async def snapshot(
        self, case_ref: str, *, timeout: timedelta = DEFAULT_TIMEOUT
    ) -> CaseSnapshot:
        """The whole case as the register's rows (the `register` query)."""
        handle = self._handle(case_ref)
        return await ask(
            case_ref,
            lambda: handle.query(ReferralWorkflow.register, rpc_timeout=timeout),
            self.client,
        )

    async def require(self, case_ref: str) -> None:
        """NotFound unless the case's workflow exists (open or closed)."""
        try:
            await self._handle(case_ref).describe()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:  # describe finds closed cases too
                raise NotFound(f"no {case_ref}", ref=case_ref) from err
            raise from_rpc(err, case_ref) from err

    def list(self, query: str, *, limit: int) -> AsyncIterator[WorkflowExecution]:
        return executions(self.client, query, limit=limit)
