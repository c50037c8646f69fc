"""The portfolio in figures, from Temporal's visibility (the search attributes: no personal
data): open cases by stage and those overdue. The worker publishes them as metrics."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client
from temporalio.service import RPCError

from gateway.errors import from_rpc
from safeguarding.vocabulary import Stage
from workflows import search_attributes as sa

_OPEN = "WorkflowType = 'ReferralWorkflow' AND ExecutionStatus = 'Running'"


@dataclass(frozen=True)
class Portfolio:
    by_stage: dict[str, int]
    overdue: int


async def portfolio(client: Client) -> Portfolio:
    """One count per stage (visibility counts are cheap and need no listing) and one of the
    cases flagged overdue."""
    try:
        by_stage = {
            stage.value: (
                await client.count_workflows(f"{_OPEN} AND {sa.REVIEW_STAGE.name} = '{stage}'")
            ).count
            for stage in Stage
            if stage is not Stage.CLOSED
        }
        overdue = (await client.count_workflows(f"{_OPEN} AND {sa.OVERDUE.name} = true")).count
    except RPCError as err:
        raise from_rpc(err, "the portfolio's counts") from err
    return Portfolio(by_stage=by_stage, overdue=overdue)
