"""Projecting a case into the register (the relational record reports read).

The workflow calls `record_case`, as a local activity, after each batch of changes with a
`CaseSnapshot` (see `safeguarding.projection`): the case row, the deadlines and actions that
changed, and the history entries the register has not acknowledged. The write is idempotent
(`register.crud`), so Temporal's retries never duplicate a row. If the register is unreachable
the activity raises and Temporal retries it (no limit on attempts); the case goes on taking
decisions meanwhile.

The database work is blocking (SQLAlchemy), so it runs in a thread, off the worker's event loop.
On first use in a process the register is migrated to the newest schema.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import BaseModel
from temporalio import activity

from register import crud, db
from safeguarding.projection import CaseSnapshot

log = logging.getLogger(__name__)


class RecordCaseInput(BaseModel):
    snapshot: CaseSnapshot


class RecordCaseResult(BaseModel):
    case_ref: str
    #: The register holds the case's history up to (not including) this index.
    history_upto: int
    #: False when the register already held a newer snapshot (this one's rows were not needed).
    current: bool
    history_added: int
    decisions_added: int


def record(snapshot: CaseSnapshot, url: str | None = None) -> RecordCaseResult:
    """Write a snapshot to the register (blocking)."""
    db.ensure_schema(url)
    with db.session(url) as session:
        done = crud.record_snapshot(session, snapshot)
    return RecordCaseResult(
        case_ref=done.case_ref,
        history_upto=snapshot.history_upto,
        current=done.current,
        history_added=done.history_added,
        decisions_added=done.decisions_added,
    )


@activity.defn
async def record_case(input: RecordCaseInput) -> RecordCaseResult:
    result = await asyncio.to_thread(record, input.snapshot)
    # Case reference and counts only: never anything about the child.
    log.info(
        "register: case %s, history to %d (+%d entries, +%d decisions)%s",
        result.case_ref,
        result.history_upto,
        result.history_added,
        result.decisions_added,
        "" if result.current else "; a newer snapshot was already there",
    )
    return result
