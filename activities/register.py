"""Projecting a case into the register (the relational record reports read).

The workflow calls `record_case`, as a local activity, after each batch of changes with a
`CaseSnapshot` (see `safeguarding.projection`): the case row, the deadlines and actions that
changed, and the history entries the register has not acknowledged. The write is idempotent
(`register.crud`), so Temporal's retries never duplicate a row. If the register is unreachable
the activity raises and Temporal retries it (no limit on attempts); the case goes on taking
decisions meanwhile.

Writes from many cases at once share transactions (group commit, `_Writer`): whoever finds no
write under way writes every snapshot waiting at that moment in one transaction, so a busy
worker pays one commit (and one fsync) for many cases, and SQLite's writers never wait on each
other's locks. If a shared transaction fails, each of its snapshots is written again on its
own, so one case's bad row never holds up the others.

The database work is blocking (SQLAlchemy), so it runs in a thread, off the worker's event loop.
On first use in a process the register is migrated to the newest schema.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future

from temporalio import activity

from activities.register_io import (
    RECORD_CASE,
    RECORD_ESCALATION,
    RecordCaseInput,
    RecordCaseResult,
    RecordEscalationInput,
    RecordEscalationResult,
)
from register import crud, db
from safeguarding.projection import CaseSnapshot

log = logging.getLogger(__name__)

__all__ = [
    "RecordCaseInput",
    "RecordCaseResult",
    "RecordEscalationInput",
    "RecordEscalationResult",
    "record",
    "record_case",
    "record_escalation",
]

#: Most snapshots written in one shared transaction.
MAX_BATCH = 64


def _result(snapshot: CaseSnapshot, done: crud.Recorded) -> RecordCaseResult:
    return RecordCaseResult(
        case_ref=done.case_ref,
        history_upto=snapshot.history_upto,
        current=done.current,
        history_added=done.history_added,
        decisions_added=done.decisions_added,
    )


_Waiting = tuple[CaseSnapshot, "Future[RecordCaseResult]"]


class _Writer:
    """Group commit for one register (leader and followers, no thread of its own)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._mutex = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._writing = False

    def record(self, snapshot: CaseSnapshot) -> RecordCaseResult:
        mine: Future[RecordCaseResult] = Future()
        with self._mutex:
            self._waiting.append((snapshot, mine))
            lead = not self._writing
            self._writing = True
        if lead:
            self._write_until_none_waiting()
        return mine.result()  # a follower waits for the leader's transaction

    def _write_until_none_waiting(self) -> None:
        while True:
            with self._mutex:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                if not batch:
                    self._writing = False
                    return
            try:
                self._write(batch)
            except BaseException as err:  # never leave a follower waiting for nobody
                with self._mutex:
                    stranded, self._waiting = batch + self._waiting, []
                    self._writing = False
                for _, future in stranded:
                    if not future.done():
                        future.set_exception(err)
                raise

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            db.ensure_schema(self._url)
            with db.session(self._url) as session:
                done = [crud.record_snapshot(session, snapshot) for snapshot, _ in batch]
        except Exception as err:
            if len(batch) == 1:
                batch[0][1].set_exception(err)
                return
            for waiting in batch:  # alone, so only the failing snapshot fails
                self._write([waiting])
            return
        for (snapshot, future), recorded in zip(batch, done, strict=True):
            future.set_result(_result(snapshot, recorded))


_writers: dict[str, _Writer] = {}
_writers_lock = threading.Lock()


def record(snapshot: CaseSnapshot, url: str | None = None) -> RecordCaseResult:
    """Write a snapshot to the register (blocking), sharing a transaction with any other
    snapshots waiting to be written to the same register."""
    resolved = db.database_url(url)
    with _writers_lock:
        writer = _writers.get(resolved)
        if writer is None:
            writer = _writers[resolved] = _Writer(resolved)
    return writer.record(snapshot)


@activity.defn(name=RECORD_CASE)
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


# --------------------------------------------------------------------- issue 13, item 12


def record_escalation_now(input: RecordEscalationInput, url: str | None = None) -> bool:
    """Write an escalation's rows (blocking); False if a newer snapshot was there."""
    resolved = db.database_url(url)
    db.ensure_schema(resolved)
    with db.session(resolved) as session:
        return crud.record_escalation(session, input.snapshot)


@activity.defn(name=RECORD_ESCALATION)
async def record_escalation(input: RecordEscalationInput) -> RecordEscalationResult:
    current = await asyncio.to_thread(record_escalation_now, input)
    ref = input.snapshot.escalation.escalation_ref
    # The reference and the stage only: never the concern.
    log.info(
        "register: escalation %s at stage %d%s",
        ref,
        input.snapshot.escalation.stage,
        "" if current else "; a newer snapshot was already there",
    )
    return RecordEscalationResult(escalation_ref=ref, current=current)
