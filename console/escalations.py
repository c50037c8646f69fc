"""Issue 13, item 12: professional disagreements in the console, through the gateway's
`EscalationClient` (as `sro escalation` does): list them (by partnership, and those under the
review group's oversight), raise one, move it on a stage, resolve it. The escalation's workflow
has the last word on every change.

`EscalationBackend` is what the pages need; `TemporalEscalations` is the real one, mixed into
`TemporalBackend`. The listing comes from Temporal visibility (no personal data); the stage
from the `EscalationStage` search attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel
from temporalio.client import Client

from gateway import errors
from gateway.escalations import EscalationClient
from gateway.refs import escalation_ref_of, escalation_visibility_query
from safeguarding.clock import uk_today
from safeguarding.escalation import Disagreement, EscalationStatus
from workflows import search_attributes as sa

_PARTNERSHIP_CODE = re.compile(r"[A-Za-z0-9_]{1,16}")
QUERY_TIMEOUT = timedelta(seconds=5)
UPDATE_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class EscalationFilter:
    partnership: str | None = None
    #: Only those at or above their partnership's oversight threshold.
    oversight: bool = False
    include_closed: bool = False
    #: The partnerships the user may see (None: all).
    visible: tuple[str, ...] | None = None
    limit: int = 200

    def admits(self, partnership: str | None) -> bool:
        if partnership is None:
            return False
        if self.visible is not None and partnership not in self.visible:
            return False
        return self.partnership is None or partnership == self.partnership


class EscalationRow(BaseModel):
    """One line of the list: nothing personal."""

    escalation_ref: str
    partnership: str
    stage: int | None
    running: bool
    started_at: datetime
    #: The partnership's oversight threshold (from its profile).
    oversight_from_stage: int | None = None

    @property
    def overseen(self) -> bool:
        return (
            self.stage is not None
            and self.oversight_from_stage is not None
            and self.stage >= self.oversight_from_stage
        )


class EscalationBackend(Protocol):
    async def list_escalations(
        self, where: EscalationFilter, thresholds: dict[str, int]
    ) -> list[EscalationRow]: ...

    async def escalation(self, ref: str) -> EscalationStatus: ...

    async def raise_escalation(self, disagreement: Disagreement) -> str: ...

    async def escalation_decide(self, ref: str, body: dict[str, Any]) -> EscalationStatus: ...


def escalations_query(where: EscalationFilter, task_queue: str | None) -> str:
    """`sro escalation list`'s query, limited to the user's partnerships (and the task queue)."""
    asked = where.partnership if where.partnership and where.admits(where.partnership) else None
    query = escalation_visibility_query(partnership=asked, include_closed=where.include_closed)
    if where.visible is not None and asked is None:
        codes = [c for c in where.visible if _PARTNERSHIP_CODE.fullmatch(c)]
        if not codes:
            return query + f" AND {sa.PARTNERSHIP.name} = '-'"  # sees nothing
        either = " OR ".join(f"{sa.PARTNERSHIP.name} = '{code}'" for code in codes)
        query += f" AND ({either})"
    if task_queue:
        query += f" AND TaskQueue = '{task_queue}'"
    return query


def filtered(
    rows: list[EscalationRow], where: EscalationFilter, thresholds: dict[str, int]
) -> list[EscalationRow]:
    """The rows the filter admits, with their thresholds, highest stage first."""
    kept = []
    for row in rows:
        if not where.admits(row.partnership):  # defence in depth: never the query alone
            continue
        row.oversight_from_stage = thresholds.get(row.partnership)
        if where.oversight and not row.overseen:
            continue
        kept.append(row)
    kept.sort(key=lambda r: (not r.running, -(r.stage or 0), r.started_at, r.escalation_ref))
    return kept


def details(disagreement: Disagreement) -> str:
    """The Web UI's static details: no personal data (not the concern, not who raised it)."""
    text = (
        f"Professional disagreement raised by {disagreement.raised_by.agency.label} with "
        f"{disagreement.raised_with.label}, on {disagreement.raised_on}.\n"
    )
    if disagreement.linked_case_ref:
        text += f"Concerns case {disagreement.linked_case_ref}.\n"
    return text + "Raised from the web console."


class TemporalEscalations:
    """The real escalation backend, for `TemporalBackend` (which gives `client()`)."""

    task_queue: str
    _only_this_queue: bool

    async def client(self) -> Client:  # pragma: no cover - TemporalBackend's
        raise NotImplementedError

    async def _escalations(self) -> EscalationClient:
        return EscalationClient(await self.client(), self.task_queue)

    async def list_escalations(
        self, where: EscalationFilter, thresholds: dict[str, int]
    ) -> list[EscalationRow]:
        client = await self._escalations()
        query = escalations_query(where, self.task_queue if self._only_this_queue else None)
        rows = []
        try:
            async for execution in client.list(query, limit=where.limit):
                attrs = execution.typed_search_attributes
                rows.append(
                    EscalationRow(
                        escalation_ref=escalation_ref_of(execution.id),
                        partnership=attrs.get(sa.PARTNERSHIP) or "",
                        stage=attrs.get(sa.ESCALATION_STAGE),
                        running=execution.status is not None and execution.status.name == "RUNNING",
                        started_at=execution.start_time,
                    )
                )
        except errors.GatewayError as err:
            words = getattr(err.__cause__, "message", None) or err.message
            raise errors.Unavailable(f"Temporal refused the escalations search: {words}") from None
        return filtered(rows, where, thresholds)

    async def escalation(self, ref: str) -> EscalationStatus:
        client = await self._escalations()
        try:
            return await client.status(ref, timeout=QUERY_TIMEOUT)
        except errors.Closed:
            raise errors.NotFound(f"no escalation {ref}") from None
        except errors.NoAnswer:
            raise errors.Unavailable(
                f"escalation {ref} did not answer; is the worker running?"
            ) from None

    async def raise_escalation(self, disagreement: Disagreement) -> str:
        client = await self._escalations()
        year = (disagreement.raised_on or uk_today(datetime.now(UTC))).year
        started = await client.raise_(disagreement, year=year, details=details(disagreement))
        return started.ref

    async def escalation_decide(self, ref: str, body: dict[str, Any]) -> EscalationStatus:
        client = await self._escalations()
        try:
            return await client.decide(ref, body, timeout=UPDATE_TIMEOUT)
        except errors.NoAnswer:
            raise errors.Unavailable(
                f"escalation {ref} did not answer in time (is the worker running?). The "
                "decision may or may not have been applied: send the form again (it applies "
                "once)."
            ) from None


__all__ = [
    "EscalationBackend",
    "EscalationFilter",
    "EscalationRow",
    "TemporalEscalations",
    "escalations_query",
    "filtered",
]
