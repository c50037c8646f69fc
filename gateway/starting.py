"""The one start loop: a fresh reference each try until one is unused.

A reference is short (6 hex digits a year and partnership) so two starts may draw the same one;
the workflow id policy REJECT_DUPLICATE makes the server refuse the second, and we draw again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from gateway.errors import Conflict, from_rpc

START_TRIES = 5


@dataclass(frozen=True)
class Started:
    ref: str
    workflow_id: str
    run_id: str | None
    task_queue: str


@dataclass(frozen=True)
class StartPlan:
    """How to start one kind of workflow, given a fresh reference."""

    run: Any  # the workflow's run method, e.g. ReferralWorkflow.run
    new_ref: Callable[[], str]
    make_input: Callable[[str], Any]
    workflow_id: Callable[[str], str]
    summary: Callable[[str], str]
    details: str
    search_attributes: Sequence[SearchAttributePair[Any]]
    what: str  # "case reference", for the message when every try collides


async def start_unique(
    client: Client, plan: StartPlan, task_queue: str, *, tries: int = START_TRIES
) -> Started:
    for _attempt in range(tries):
        ref = plan.new_ref()
        try:
            handle = await client.start_workflow(
                plan.run,
                plan.make_input(ref),
                id=plan.workflow_id(ref),
                task_queue=task_queue,
                # A reference is never reused, even after its workflow has closed.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=plan.summary(ref),
                static_details=plan.details,
                # Listed by partnership and stage at once, before a worker has picked it up.
                search_attributes=TypedSearchAttributes(list(plan.search_attributes)),
            )
        except WorkflowAlreadyStartedError:
            continue
        except RPCError as err:
            raise from_rpc(err, ref) from err
        return Started(ref, handle.id, handle.result_run_id, task_queue)
    raise Conflict(f"could not find an unused {plan.what} after {tries} tries")
