"""Temporal's failures as the few things an interface tells its user.

Every interface catches these, never `RPCError` or `WorkflowUpdateFailedError`: what a NOT_FOUND
or a timed-out Update means is decided here, once. The original error stays as `__cause__`.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.any_pb2 import Any as AnyProto
from temporalio.api.errordetails.v1 import QueryFailedFailure
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

#: The ApplicationError type a workflow's query raises while it is still opening.
NOT_READY_TYPE = "NotReady"


class GatewayError(Exception):
    """Something to tell the user in a sentence. `ref` names the case or escalation."""

    def __init__(self, message: str, *, ref: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.ref = ref


class NotFound(GatewayError):
    """No such workflow."""


class NotReady(GatewayError):
    """The workflow exists but cannot answer yet (still opening)."""


class Refused(GatewayError):
    """The workflow refused: `kind` is the ApplicationError type (WrongStage, Closed...)."""

    def __init__(self, kind: str, message: str, *, ref: str = "") -> None:
        super().__init__(message, ref=ref)
        self.kind = kind


class Closed(Refused):
    """The workflow has ended and takes no more decisions."""

    def __init__(self, message: str, *, ref: str = "") -> None:
        super().__init__("Closed", message, ref=ref)


class Disposed(GatewayError):
    """The case's personal data has been disposed of: its key is destroyed, its history can no
    longer be read (DATA-PROTECTION.md section 5)."""


class Conflict(GatewayError):
    """No unused reference found: every try collided with an existing workflow id."""


class Unavailable(GatewayError):
    """Temporal refused or could not be reached."""


class Unreachable(Unavailable):
    """No Temporal server answered at the address (the connection or the call failed)."""


class NoAnswer(Unavailable):
    """The server answered but no worker did in time; an Update may or may not have applied."""


class SearchRefused(Unavailable):
    """The server refused a visibility query (a search attribute not registered)."""


class InvalidQuery(GatewayError, ValueError):
    """A visibility query asked for with a value that cannot go into the query text."""


_NO_ANSWER = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)


def from_rpc(err: RPCError, ref: str, *, waiting: bool = False) -> GatewayError:
    """A failed call about one workflow. With `waiting` (a query or an Update that waits for
    a worker), a deadline or cancellation means no worker answered; otherwise the server."""
    if err.status is RPCStatusCode.NOT_FOUND:
        if "completed" in err.message.lower():
            return Closed(f"{ref} is closed", ref=ref)
        return NotFound(f"no {ref}", ref=ref)
    if waiting and err.status in _NO_ANSWER:
        return NoAnswer(f"{ref} did not answer in time", ref=ref)
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return Unreachable(f"Temporal did not answer: {err.message}", ref=ref)
    return Unavailable(f"Temporal refused the request: {err.message}", ref=ref)


def from_update_failure(err: WorkflowUpdateFailedError, ref: str) -> Refused:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return Refused(cause.type or "Refused", cause.message, ref=ref)
    return Refused("Refused", str(cause), ref=ref)


async def from_query_failure(
    err: WorkflowQueryFailedError, ref: str, converter: DataConverter | None
) -> GatewayError:
    """A query that failed in the workflow. The failure is encrypted ("Encoded failure"), so
    its type is read from the failure the server attaches, decoded with the client's converter.
    A server that attaches none leaves the text: the workflows' queries fail only as NotReady."""
    kind = await _failure_type(err, converter)
    if kind in (NOT_READY_TYPE, None):
        return NotReady(f"{ref} is still opening; try again", ref=ref)
    return Unavailable(f"{ref} could not answer: {err.message}", ref=ref)


async def _failure_type(
    err: WorkflowQueryFailedError, converter: DataConverter | None
) -> str | None:
    rpc = err.__context__
    if converter is None or not isinstance(rpc, RPCError):
        return None
    for detail in _details(rpc):
        failed = QueryFailedFailure()
        if not detail.Unpack(failed) or not failed.HasField("failure"):
            continue
        try:
            decoded = await converter.decode_failure(failed.failure)
        except Exception:  # a failure we cannot decrypt says nothing about its type
            return None
        return decoded.type if isinstance(decoded, ApplicationError) else type(decoded).__name__
    return None


def _details(rpc: RPCError) -> Sequence[AnyProto]:
    try:
        return list(rpc.grpc_status.details)
    except Exception:  # a status that does not parse carries no details worth reading
        return []
