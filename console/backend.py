"""How the console reads and changes cases: only through the workflow.

`CaseBackend` is what the web app needs; `TemporalBackend` is the real one: Temporal visibility
for the caseload (the search attributes hold no personal data), the `status` and `referral`
queries for a case, the `decide` Update for a decision (the workflow's validators have the last
word), and a workflow start for a new referral. The unit tests use a fake with the same shape.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from safeguarding.case import CaseStatus, DecisionResult
from safeguarding.deadlines import DeadlineState
from safeguarding.referral import Referral
from safeguarding.vocabulary import Route, Stage
from starter.cli import WORKFLOW_ID_PREFIX, new_case_ref, visibility_query
from workflows import search_attributes as sa
from workflows.referral import ReferralInput, ReferralWorkflow, workflow_id

#: How long the console waits for a case to answer a query or an Update.
QUERY_TIMEOUT = timedelta(seconds=5)
UPDATE_TIMEOUT = timedelta(seconds=30)
#: Cases queried at once for the caseload's deadline states.
QUERY_CONCURRENCY = 8


_PARTNERSHIP_CODE = re.compile(r"[A-Za-z0-9_]{1,16}")


class BackendError(Exception):
    """Something the user should be told, in one sentence."""


class CaseNotFound(BackendError):
    pass


class CaseNotReady(BackendError):
    """The case exists but cannot answer yet (still opening)."""


class BackendUnavailable(BackendError):
    """Temporal, or the worker, did not answer."""


class Refused(BackendError):
    """The workflow refused a decision: `kind` is the ApplicationError type (WrongStage...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class CaseFilter:
    stage: Stage | None = None
    route: Route | None = None
    partnership: str | None = None
    overdue: bool = False
    include_closed: bool = False
    #: The partnerships the user may see (None: all).
    visible: tuple[str, ...] | None = None
    limit: int = 200

    def admits(self, partnership: str) -> bool:
        """May a case of this partnership be listed? The user's partnerships bound every
        query, a partnership asked for included (one they cannot see gives nothing)."""
        if self.visible is not None and partnership not in self.visible:
            return False
        return self.partnership is None or partnership == self.partnership

    def partnerships(self) -> tuple[str, ...] | None:
        """The partnerships the query may return (None: any)."""
        if self.visible is None:
            return None if self.partnership is None else (self.partnership,)
        return tuple(code for code in self.visible if self.admits(code))


class CaseRow(BaseModel):
    """One line of the caseload: nothing personal."""

    case_ref: str
    partnership: str
    stage: Stage | None
    route: Route | None
    running: bool
    started_at: datetime
    next_deadline_on: date | None = None
    next_deadline_title: str | None = None
    #: The next deadline's state from the case itself (None when the case did not answer).
    next_deadline_state: DeadlineState | None = None
    overdue: bool | None = None


class CaseBackend(Protocol):
    async def list_cases(self, where: CaseFilter) -> list[CaseRow]: ...

    async def status(self, case_ref: str) -> CaseStatus: ...

    async def referral(self, case_ref: str) -> Referral: ...

    async def decide(self, case_ref: str, body: dict[str, Any]) -> DecisionResult: ...

    async def start(self, referral: Referral) -> str: ...


def static_details(referral: Referral) -> str:
    """The Web UI's static details of a case started here: no personal data."""
    return (
        f"Referral from {referral.referrer.agency.label}, received {referral.received_on}.\n"
        "Started from the web console."
    )


def caseload_query(where: CaseFilter, task_queue: str | None) -> str:
    """The visibility query: the CLI's `list` query, limited to the user's partnerships and
    (when set) this deployment's task queue."""
    query = visibility_query(
        stage=where.stage.value if where.stage else None,
        route=where.route.value if where.route else None,
        partnership=where.partnership if where.visible is None else None,
        overdue=where.overdue,
        include_closed=where.include_closed,
    )
    codes = where.partnerships()
    if where.visible is not None and codes is not None:
        # Only plain codes reach the query text (User validates them; this is the backstop).
        codes = tuple(c for c in codes if _PARTNERSHIP_CODE.fullmatch(c))
        if not codes:
            return query + f" AND {sa.PARTNERSHIP.name} = '-'"  # sees nothing
        if len(codes) == 1:
            query += f" AND {sa.PARTNERSHIP.name} = '{codes[0]}'"
        else:
            either = " OR ".join(f"{sa.PARTNERSHIP.name} = '{code}'" for code in codes)
            query += f" AND ({either})"
    if task_queue:
        query += f" AND TaskQueue = '{task_queue}'"
    return query


class TemporalBackend:
    """The real thing. The client connects on first use, in the serving event loop."""

    def __init__(
        self,
        task_queue: str,
        connect: Callable[[], Awaitable[Client]] | None = None,
        *,
        only_this_queue: bool = True,
        query_timeout: timedelta = QUERY_TIMEOUT,
        update_timeout: timedelta = UPDATE_TIMEOUT,
    ) -> None:
        self.task_queue = task_queue
        self.query_timeout = query_timeout
        self.update_timeout = update_timeout
        self._connect = connect
        self._client: Client | None = None
        self._lock: asyncio.Lock | None = None
        self._only_this_queue = only_this_queue

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._client is None:
                try:
                    if self._connect is not None:
                        self._client = await self._connect()
                    else:
                        from starter.connection import connect

                        self._client = await connect()
                except Exception as err:
                    raise BackendUnavailable(
                        f"cannot reach Temporal ({type(err).__name__}); is `make run` running?"
                    ) from None
            return self._client

    # ------------------------------------------------------------------ reading

    async def list_cases(self, where: CaseFilter) -> list[CaseRow]:
        client = await self.client()
        query = caseload_query(where, self.task_queue if self._only_this_queue else None)
        rows: list[CaseRow] = []
        try:
            async for execution in client.list_workflows(query, limit=where.limit):
                attrs = execution.typed_search_attributes
                stage, route = attrs.get(sa.REVIEW_STAGE), attrs.get(sa.REVIEW_ROUTE)
                next_deadline = attrs.get(sa.NEXT_DEADLINE)
                case_ref = execution.id.removeprefix(WORKFLOW_ID_PREFIX)
                partnership = attrs.get(sa.PARTNERSHIP) or case_ref.split("-")[0]
                if not where.admits(partnership):  # defence in depth: never trust the query alone
                    continue
                rows.append(
                    CaseRow(
                        case_ref=case_ref,
                        partnership=partnership,
                        stage=_member(Stage, stage),
                        route=_member(Route, route),
                        running=execution.status is not None and execution.status.name == "RUNNING",
                        started_at=execution.start_time,
                        next_deadline_on=next_deadline.date() if next_deadline else None,
                        overdue=attrs.get(sa.OVERDUE),
                    )
                )
        except RPCError as err:
            raise BackendUnavailable(
                f"Temporal refused the caseload search: {err.message}"
            ) from None
        await self._add_states(rows)
        return rows

    async def _add_states(self, rows: list[CaseRow]) -> None:
        """Each open case's next deadline and its state, from the case itself (its query)."""
        gate = asyncio.Semaphore(QUERY_CONCURRENCY)

        async def fill(row: CaseRow) -> None:
            async with gate:
                try:
                    status = await self.status(row.case_ref)
                except BackendError:
                    return
            row.stage = status.stage
            row.route = status.route
            row.overdue = status.overdue
            upcoming = status.next_deadline
            if upcoming is not None:
                row.next_deadline_on = upcoming.due_on
                row.next_deadline_title = upcoming.title
                row.next_deadline_state = upcoming.state
            else:
                row.next_deadline_on = None

        await asyncio.gather(*(fill(row) for row in rows if row.running))

    async def status(self, case_ref: str) -> CaseStatus:
        result: CaseStatus = await self._query(case_ref, "status", CaseStatus)
        return result

    async def referral(self, case_ref: str) -> Referral:
        result: Referral = await self._query(case_ref, "referral", Referral)
        return result

    async def _query(self, case_ref: str, name: str, result_type: type[Any]) -> Any:
        client = await self.client()
        handle = client.get_workflow_handle(workflow_id(case_ref))
        try:
            return await handle.query(name, result_type=result_type, rpc_timeout=self.query_timeout)
        except WorkflowQueryFailedError as err:
            # The only failure the status query raises is "still opening"; with failure
            # messages encrypted (security/codec.py) the client sees "Encoded failure".
            if "still opening" in str(err.message) or "Encoded failure" in str(err.message):
                raise CaseNotReady(f"case {case_ref} is still opening; try again") from None
            raise BackendUnavailable(f"case {case_ref} could not answer: {err.message}") from None
        except WorkflowQueryRejectedError as err:
            raise BackendUnavailable(f"case {case_ref} did not answer: {err}") from None
        except RPCTimeoutOrCancelledError:
            raise _no_worker(case_ref, self.query_timeout) from None
        except RPCError as err:
            if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
                raise _no_worker(case_ref, self.query_timeout) from None
            if err.status is RPCStatusCode.NOT_FOUND:
                raise CaseNotFound(f"no case {case_ref}") from None
            raise BackendUnavailable(f"Temporal refused the request: {err.message}") from None

    # ------------------------------------------------------------------ changing

    async def decide(self, case_ref: str, body: dict[str, Any]) -> DecisionResult:
        client = await self.client()
        handle = client.get_workflow_handle(workflow_id(case_ref))
        try:
            result: DecisionResult = await handle.execute_update(
                "decide",
                body,
                id=str(body["decision_id"]),
                result_type=DecisionResult,
                rpc_timeout=self.update_timeout,
            )
            return result
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                raise Refused(cause.type or "Refused", cause.message) from None
            raise Refused("Refused", str(cause)) from None
        except RPCTimeoutOrCancelledError:
            raise BackendUnavailable(
                f"case {case_ref} did not answer in time (is the worker running?). The decision "
                "may or may not have been applied: send the form again (it applies once)."
            ) from None
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                if "completed" in err.message.lower():
                    raise Refused("Closed", f"case {case_ref} is closed") from None
                raise CaseNotFound(f"no case {case_ref}") from None
            raise BackendUnavailable(f"Temporal refused the request: {err.message}") from None

    async def start(self, referral: Referral) -> str:
        client = await self.client()
        for _attempt in range(5):
            case_ref = new_case_ref(referral.partnership, referral.received_on.year)
            try:
                await client.start_workflow(
                    ReferralWorkflow.run,
                    ReferralInput(case_ref=case_ref, referral=referral),
                    id=workflow_id(case_ref),
                    task_queue=self.task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    static_summary=f"Referral {case_ref} — {referral.partnership}",
                    static_details=static_details(referral),
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(sa.PARTNERSHIP, referral.partnership),
                            SearchAttributePair(sa.REVIEW_STAGE, Stage.REFERRAL_RECEIVED.value),
                        ]
                    ),
                )
                return case_ref
            except WorkflowAlreadyStartedError:
                continue
            except RPCError as err:
                raise BackendUnavailable(f"Temporal refused the request: {err.message}") from None
        raise BackendUnavailable("could not find an unused case reference after 5 tries")


_E = TypeVar("_E", bound=StrEnum)


def _member(enum: type[_E], value: str | None) -> _E | None:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def _no_worker(case_ref: str, waited: timedelta = QUERY_TIMEOUT) -> BackendUnavailable:
    return BackendUnavailable(
        f"case {case_ref} did not answer within {waited.total_seconds():g} s; "
        "is the worker running?"
    )
