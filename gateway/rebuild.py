"""Re-projecting cases from their workflows into the register: `sro register rebuild` and the
nightly reconciliation (workflows/scheduled.py, which gets `rebuild` from worker.py: activities
do not import the gateway). What a case's workflow holds is the truth; the register follows it.
"""

from __future__ import annotations

import asyncio
import re
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TextIO

from temporalio.client import Client

from gateway.cases import CaseClient, executions
from gateway.refs import REFERRAL_WORKFLOW_TYPE, case_ref_of, workflow_id
from register import crud, db, disposal
from safeguarding.projection import CaseSnapshot
from workflows import search_attributes as sa

REBUILD_CONCURRENCY = 8


@dataclass
class Rebuilt:
    cases: int = 0
    history_added: int = 0
    decisions_added: int = 0
    failed: list[str] = field(default_factory=list)
    #: Cases skipped because they have been disposed of (issue 14).
    disposed: int = 0


def visibility_query(task_queue: str | None, partnership: str | None = None) -> str:
    """The cases to rebuild, as Temporal's visibility finds them: a partnership's only when
    asked (its `Partnership` search attribute), so Temporal lists no other partnership's."""
    clauses = [f"WorkflowType = '{REFERRAL_WORKFLOW_TYPE}'"]
    if task_queue:
        if "'" in task_queue:
            raise ValueError("--task-queue: a queue name has no quotes")
        clauses.append(f"TaskQueue = '{task_queue}'")
    if partnership:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,15}", partnership):
            raise ValueError(
                f"--partnership: {partnership!r} is not a partnership code (e.g. LSCP)"
            )
        clauses.append(f"{sa.PARTNERSHIP.name} = '{partnership}'")
    return " AND ".join(clauses)


class Progress:
    """`done of total` on standard error as a rebuild goes: on a terminal, one line rewritten;
    otherwise a line at every tenth, so a log of a long rebuild shows it moving."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self._step = max(1, total // 10)

    def one(self) -> None:
        self.done += 1
        if self.stream.isatty():
            end = "\n" if self.done == self.total else ""
            print(f"\rrebuilding: {self.done} of {self.total} cases", end=end, file=self.stream)
        elif self.done % self._step == 0 or self.done == self.total:
            print(f"rebuilding: {self.done} of {self.total} cases", file=self.stream)


async def rebuild(
    client: Client,
    *,
    partnership: str | None = None,
    cases: list[str] | None = None,
    task_queue: str | None = None,
    limit: int = 100_000,
    timeout: float = 30.0,
    url: str | None = None,
    stream: TextIO | None = None,
) -> Rebuilt:
    """Project every case (or the ones asked for) from its workflow into the register."""
    await asyncio.to_thread(db.ensure_schema, url)
    if cases:
        workflow_ids = [workflow_id(c) for c in cases]
    else:
        seen: dict[str, None] = {}  # one entry per workflow, whatever its runs
        query = visibility_query(task_queue, partnership)
        async for execution in executions(client, query, limit=limit):
            seen.setdefault(execution.id, None)
        workflow_ids = sorted(seen)
    done = Rebuilt()
    progress = Progress(len(workflow_ids), stream)
    gate = asyncio.Semaphore(REBUILD_CONCURRENCY)
    cases_ = CaseClient(client)
    # Issue 14: a disposed case is never re-projected (its history may still be in Temporal).
    disposed = await asyncio.to_thread(disposal.disposed_cases, url)

    async def one(id_: str) -> None:
        case_ref = case_ref_of(id_)
        if case_ref in disposed:
            done.disposed += 1
            return
        async with gate:
            try:
                snapshot = await cases_.snapshot(case_ref, timeout=timedelta(seconds=timeout))
            except Exception as err:  # one case that cannot answer does not stop the rest
                # The server's words (kept as the cause), not the gateway's summary.
                done.failed.append(f"{case_ref}: {_short(err.__cause__ or err)}")
                return
            if partnership and snapshot.case.partnership != partnership:
                return  # a case from before it carried its partnership as a search attribute
            recorded = await asyncio.to_thread(_write, snapshot, url)
            progress.one()
        done.cases += 1
        done.history_added += recorded.history_added
        done.decisions_added += recorded.decisions_added

    await asyncio.gather(*(one(w) for w in workflow_ids))
    done.failed.sort()
    return done


def _write(snapshot: CaseSnapshot, url: str | None) -> crud.Recorded:
    with db.session(url) as session:
        return crud.record_snapshot(session, snapshot)


def _short(err: BaseException) -> str:
    text = getattr(err, "message", None) or str(err) or type(err).__name__
    return str(text).splitlines()[0][:200]
