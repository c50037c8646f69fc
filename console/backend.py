"""How the console reads and changes cases: only through the workflow, by the gateway.

`CaseBackend` is what the web app needs; `TemporalBackend` is the real one, on the gateway's
`CaseClient`: Temporal visibility for the caseload (the search attributes hold no personal
data), the `status` and `referral` queries for a case, the `decide` Update for a decision (the
workflow's validators have the last word), and a workflow start for a new referral. The unit
tests use a fake with the same shape. The errors are the gateway's, under the console's names.
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
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError

from console.escalations import TemporalEscalations
from gateway import errors
from gateway.cases import CaseClient
from gateway.connection import connect as default_connect
from gateway.refs import case_ref_of, visibility_query
from safeguarding.case import CaseStatus, DecisionResult
from safeguarding.deadlines import DeadlineState
from safeguarding.ids import CaseRef
from safeguarding.referral import Referral
from safeguarding.vocabulary import Route, Stage
from workflows import search_attributes as sa

#: How long the console waits for a case to answer a query or an Update.
QUERY_TIMEOUT = timedelta(seconds=5)
UPDATE_TIMEOUT = timedelta(seconds=30)
#: Cases queried at once for the caseload's deadline states.
QUERY_CONCURRENCY = 8


_PARTNERSHIP_CODE = re.compile(r"[A-Za-z0-9_]{1,16}")


#: The console's names for the gateway's errors (the pages catch these).
BackendError = errors.GatewayError
CaseNotFound = errors.NotFound
#: The case's personal data has been disposed of (its key destroyed): a page says so.
CaseDisposed = errors.Disposed
#: The case exists but cannot answer yet (still opening).
CaseNotReady = errors.NotReady
#: Temporal, or the worker, did not answer.
BackendUnavailable = errors.Unavailable
#: The workflow refused a decision: `kind` is the ApplicationError type (WrongStage...).
Refused = errors.Refused


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
    #: Who owes the next step: the next deadline's owner, else the first outstanding task's
    #: (a role or agency, never a person's name: safeguarding/personal.py).
    next_owner: str | None = None


def next_owner(status: CaseStatus) -> str | None:
    """Who owes a case its next step (a role or agency)."""
    if status.next_deadline is not None:
        return status.next_deadline.owner
    return status.tasks[0].owed_by if status.tasks else None


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


class TemporalBackend(TemporalEscalations):
    """The real thing. The client connects on first use, in the serving event loop. Issue 13,
    item 12: professional disagreements too (`TemporalEscalations`)."""

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
        self._cases: CaseClient | None = None
        self._lock: asyncio.Lock | None = None
        self._only_this_queue = only_this_queue

    async def client(self) -> Client:
        return (await self.cases()).client

    async def cases(self) -> CaseClient:
        if self._cases is not None:
            return self._cases
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._cases is None:
                try:
                    client = await (self._connect or default_connect)()
                except Exception as err:
                    raise BackendUnavailable(
                        f"cannot reach Temporal ({type(err).__name__}); is `make run` running?"
                    ) from None
                self._cases = CaseClient(client, self.task_queue)
            return self._cases

    # ------------------------------------------------------------------ reading

    async def list_cases(self, where: CaseFilter) -> list[CaseRow]:
        cases = await self.cases()
        query = caseload_query(where, self.task_queue if self._only_this_queue else None)
        rows: list[CaseRow] = []
        try:
            async for execution in cases.list(query, limit=where.limit):
                row = _row(execution.id, execution)
                if where.admits(row.partnership):  # defence in depth: never trust the query alone
                    rows.append(row)
        except errors.GatewayError as err:
            words = getattr(err.__cause__, "message", None) or err.message
            raise BackendUnavailable(f"Temporal refused the caseload search: {words}") from None
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
            row.next_owner = next_owner(status)
            upcoming = status.next_deadline
            if upcoming is not None:
                row.next_deadline_on = upcoming.due_on
                row.next_deadline_title = upcoming.title
                row.next_deadline_state = upcoming.state
            else:
                row.next_deadline_on = None

        await asyncio.gather(*(fill(row) for row in rows if row.running))

    async def status(self, case_ref: str) -> CaseStatus:
        cases = await self.cases()
        try:
            return await cases.status(case_ref, timeout=self.query_timeout)
        except errors.GatewayError as err:
            raise _query_error(err, case_ref, self.query_timeout) from None

    async def referral(self, case_ref: str) -> Referral:
        cases = await self.cases()
        try:
            return await cases.referral(case_ref, timeout=self.query_timeout)
        except errors.GatewayError as err:
            raise _query_error(err, case_ref, self.query_timeout) from None

    # ------------------------------------------------------------------ changing

    async def decide(self, case_ref: str, body: dict[str, Any]) -> DecisionResult:
        cases = await self.cases()
        try:
            return await cases.decide(case_ref, body, timeout=self.update_timeout)
        except errors.Closed:
            raise Refused("Closed", f"case {case_ref} is closed") from None
        except errors.Refused:
            raise
        except errors.NoAnswer:
            raise BackendUnavailable(
                f"case {case_ref} did not answer in time (is the worker running?). The decision "
                "may or may not have been applied: send the form again (it applies once)."
            ) from None
        except errors.NotFound:
            raise CaseNotFound(f"no case {case_ref}") from None
        except errors.GatewayError as err:
            raise _refused_request(err) from None

    async def start(self, referral: Referral) -> str:
        cases = await self.cases()
        try:
            started = await cases.start(referral, details=static_details(referral))
        except errors.Conflict as err:
            raise BackendUnavailable(err.message) from None
        except errors.GatewayError as err:
            raise _refused_request(err) from None
        return started.ref


def _row(workflow_id: str, execution: Any) -> CaseRow:
    """A caseload line from visibility alone (the case's own query adds the rest)."""
    attrs = execution.typed_search_attributes
    stage, route = attrs.get(sa.REVIEW_STAGE), attrs.get(sa.REVIEW_ROUTE)
    next_deadline = attrs.get(sa.NEXT_DEADLINE)
    case_ref = case_ref_of(workflow_id)
    return CaseRow(
        case_ref=case_ref,
        partnership=attrs.get(sa.PARTNERSHIP) or CaseRef.partnership(case_ref),
        stage=_member(Stage, stage),
        route=_member(Route, route),
        running=execution.status is not None and execution.status.name == "RUNNING",
        started_at=execution.start_time,
        next_deadline_on=sa.due_on(next_deadline) if next_deadline else None,
        overdue=attrs.get(sa.OVERDUE),
    )


def _query_error(err: errors.GatewayError, case_ref: str, waited: timedelta) -> BackendError:
    """A failed query in the console's words."""
    if isinstance(err, errors.NotReady):
        return CaseNotReady(f"case {case_ref} is still opening; try again")
    if isinstance(err, errors.Disposed):
        return err  # its personal data disposed of: the page says so (console/errors.py)
    if isinstance(err, errors.NoAnswer):
        return _no_worker(case_ref, waited)
    if isinstance(err, errors.NotFound | errors.Closed):
        return CaseNotFound(f"no case {case_ref}")
    if isinstance(err.__cause__, WorkflowQueryFailedError | WorkflowQueryRejectedError):
        return BackendUnavailable(f"case {err.message}")  # "X could not answer: ..."
    return _refused_request(err)


def _refused_request(err: errors.GatewayError) -> BackendError:
    words = getattr(err.__cause__, "message", None) or err.message
    return BackendUnavailable(f"Temporal refused the request: {words}")


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
