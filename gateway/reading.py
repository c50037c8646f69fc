"""Reading a case: its status, and the mapping of a query's failures to gateway errors.

Apart from gateway/cases.py on purpose: `sro status` is typed dozens of times a day, and this
module loads neither the workflow's module graph nor the domain's rules (the status query goes
by the name the workflow declares it with, `workflows.names`), so the command answers in about
the time a bare client takes (BENCHMARKS.md, section 6). `CaseClient` is a `CaseReader`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError

from gateway.errors import (
    Disposed,
    GatewayError,
    NoAnswer,
    Unavailable,
    from_query_failure,
    from_rpc,
)
from gateway.refs import workflow_id
from register.case_keys import disposed_of
from safeguarding.case_views import CaseStatus
from security.case_keys import CaseDisposed
from workflows.names import STATUS_QUERY

DEFAULT_TIMEOUT = timedelta(seconds=30)
#: A status not answered by then may be a disposed case's (its history no longer replays).
DISPOSED_CHECK_AFTER = 1.0
_T = TypeVar("_T")


async def ask(
    ref: str,
    call: Callable[[], Awaitable[_T]],
    client: Client,
) -> _T:
    """A query, its failures as gateway errors."""
    try:
        return await call()
    except WorkflowQueryFailedError as err:
        raise await from_query_failure(err, ref, client.data_converter) from err
    except WorkflowQueryRejectedError as err:
        raise Unavailable(f"{ref} did not answer: {err}", ref=ref) from err
    except RPCTimeoutOrCancelledError as err:
        raise NoAnswer(f"{ref} did not answer in time", ref=ref) from err
    except RPCError as err:
        # The server gives up on a query no worker picks up as CANCELLED ("Timeout expired").
        raise from_rpc(err, ref, waiting=True) from err


class CaseReader:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def status(self, case_ref: str, *, timeout: timedelta = DEFAULT_TIMEOUT) -> CaseStatus:
        """The case's status. A disposed case cannot replay to answer (its key is destroyed):
        when the query fails, or has not answered within `DISPOSED_CHECK_AFTER`, the register
        is asked whether the case was disposed of, and that is said instead of a time-out. The
        quick answer of a live case never waits for the register."""
        handle = self.client.get_workflow_handle(workflow_id(case_ref))
        query = asyncio.ensure_future(
            ask(
                case_ref,
                lambda: handle.query(STATUS_QUERY, result_type=CaseStatus, rpc_timeout=timeout),
                self.client,
            )
        )
        try:
            return await asyncio.wait_for(asyncio.shield(query), DISPOSED_CHECK_AFTER)
        except TimeoutError:
            disposed = await asyncio.to_thread(disposed_of, case_ref)
            if disposed is not None:
                query.cancel()
                raise Disposed(disposed, ref=case_ref) from None
            return await _disposed_or(query, case_ref)
        except (CaseDisposed, GatewayError):
            return await _disposed_or(query, case_ref)


async def _disposed_or(query: asyncio.Future[CaseStatus], case_ref: str) -> CaseStatus:
    """The query's answer, or its failure, as `Disposed` if the case was disposed of."""
    try:
        return await query
    except CaseDisposed as err:
        raise Disposed(str(err), ref=case_ref) from err
    except GatewayError as err:
        disposed = await asyncio.to_thread(disposed_of, case_ref)
        if disposed is not None:
            raise Disposed(disposed, ref=case_ref) from err
        raise
