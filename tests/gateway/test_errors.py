"""Temporal's failures as the gateway's errors: one mapping for every interface."""

from __future__ import annotations

import pytest
from google.protobuf.any_pb2 import Any as AnyProto
from temporalio.api.common.v1 import GrpcStatus
from temporalio.api.errordetails.v1 import QueryFailedFailure
from temporalio.api.failure.v1 import Failure
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from gateway import errors, refs
from gateway.connection import TASK_QUEUE, data_converter
from gateway.refs import (
    ESCALATION_WORKFLOW_TYPE,
    REFERRAL_WORKFLOW_TYPE,
    escalation_workflow_id,
    visibility_query,
)
from safeguarding.escalation import ESCALATION_REF_PATTERN
from workflows import escalation, referral, referral_io


def rpc(status: RPCStatusCode, message: str = "boom", raw: bytes = b"") -> RPCError:
    return RPCError(message, status, raw)


@pytest.mark.parametrize(
    ("status", "message", "waiting", "expected"),
    [
        (RPCStatusCode.NOT_FOUND, "workflow not found", False, errors.NotFound),
        (RPCStatusCode.NOT_FOUND, "workflow execution already completed", False, errors.Closed),
        (RPCStatusCode.CANCELLED, "Timeout expired", True, errors.NoAnswer),
        (RPCStatusCode.DEADLINE_EXCEEDED, "deadline", True, errors.NoAnswer),
        (RPCStatusCode.DEADLINE_EXCEEDED, "deadline", False, errors.Unreachable),
        (RPCStatusCode.UNAVAILABLE, "connection refused", False, errors.Unreachable),
        (RPCStatusCode.PERMISSION_DENIED, "no", False, errors.Unavailable),
    ],
)
def test_rpc_errors(
    status: RPCStatusCode, message: str, waiting: bool, expected: type[errors.GatewayError]
) -> None:
    mapped = errors.from_rpc(rpc(status, message), "LSCP-2026-1A2B3C", waiting=waiting)
    assert type(mapped) is expected
    assert mapped.ref == "LSCP-2026-1A2B3C"


def test_closed_is_a_refusal_of_kind_closed() -> None:
    mapped = errors.from_rpc(rpc(RPCStatusCode.NOT_FOUND, "already completed"), "X")
    assert isinstance(mapped, errors.Refused) and mapped.kind == "Closed"


def test_a_refused_update_keeps_the_workflows_type_and_message() -> None:
    failed = WorkflowUpdateFailedError(ApplicationError("not at this stage", type="WrongStage"))
    mapped = errors.from_update_failure(failed, "X")
    assert (mapped.kind, mapped.message) == ("WrongStage", "not at this stage")
    other = errors.from_update_failure(WorkflowUpdateFailedError(RuntimeError("odd")), "X")
    assert (other.kind, other.message) == ("Refused", "odd")


async def query_failed(exception: BaseException | None) -> WorkflowQueryFailedError:
    """A query failure as the client sees it: "Encoded failure" (the failure converter
    encrypts the message), the full failure only in the gRPC status's details."""
    status = GrpcStatus(code=RPCStatusCode.INVALID_ARGUMENT, message="Encoded failure")
    if exception is not None:
        failure = Failure()
        await data_converter().encode_failure(exception, failure)
        detail = AnyProto()
        detail.Pack(QueryFailedFailure(failure=failure))
        status.details.append(detail)
    cause = rpc(RPCStatusCode.INVALID_ARGUMENT, "Encoded failure", status.SerializeToString())
    try:
        try:
            raise cause
        except RPCError:
            raise WorkflowQueryFailedError("Encoded failure") from None
    except WorkflowQueryFailedError as err:
        err.__context__ = cause  # what the SDK's `raise ... ` inside `except RPCError` leaves
        return err


async def test_a_case_still_opening_is_read_from_the_encrypted_failure_type() -> None:
    opening = ApplicationError("the case is still opening; try again", type="NotReady")
    mapped = await errors.from_query_failure(await query_failed(opening), "X", data_converter())
    assert isinstance(mapped, errors.NotReady)


async def test_another_query_failure_is_not_taken_for_opening() -> None:
    broken = ApplicationError("something else", type="Broken")
    mapped = await errors.from_query_failure(await query_failed(broken), "X", data_converter())
    assert type(mapped) is errors.Unavailable
    assert "could not answer" in mapped.message


async def test_without_the_failure_a_query_failure_is_still_opening() -> None:
    # An older server sends only the text; the workflows' queries fail only while opening.
    mapped = await errors.from_query_failure(await query_failed(None), "X", data_converter())
    assert isinstance(mapped, errors.NotReady)


def test_conventions_agree_with_the_workflows() -> None:
    assert TASK_QUEUE == referral.TASK_QUEUE
    assert referral.ReferralWorkflow.__name__ == REFERRAL_WORKFLOW_TYPE
    assert escalation.ProfessionalDisagreementWorkflow.__name__ == ESCALATION_WORKFLOW_TYPE
    assert escalation_workflow_id("CSCP-ESC-2026-1A2B3C") == escalation.escalation_workflow_id(
        "CSCP-ESC-2026-1A2B3C"
    )
    assert refs.workflow_id("LSCP-2026-1A2B3C") == referral_io.workflow_id("LSCP-2026-1A2B3C")
    assert refs.CASE_REF_PATTERN.pattern == referral_io.CASE_REF_PATTERN
    assert refs.ESCALATION_REF_PATTERN.pattern == ESCALATION_REF_PATTERN


def test_only_a_plain_partnership_code_reaches_a_query() -> None:
    with pytest.raises(errors.InvalidQuery, match="not a partnership code"):
        visibility_query(partnership="LSCP' OR 1=1")
