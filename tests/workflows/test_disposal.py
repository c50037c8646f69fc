"""The disposal run as a workflow (issue 14, point 3): started through the gateway, one activity
per case; a held case is refused and recorded; a second run finds nothing left to do."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.disposal import dispose_case, find_due_disposals
from gateway.disposal import DisposalClient
from register import db, disposal
from tests.register.seeding import REF, seed
from workflows.disposal import DisposalWorkflow

LATER = date(2052, 1, 1)


async def test_a_disposal_run_disposes_of_due_cases_and_refuses_a_held_one(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'register.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    db.ensure_schema(url)
    with db.session(url) as session:
        seed(session)
    disposal.set_hold(REF["D"], by="bm", reason="complaint under investigation", url=url)
    queue = f"disposal-{uuid.uuid4().hex[:8]}"
    runs = DisposalClient(time_skipping_env.client, queue)
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[DisposalWorkflow],
        activities=[find_due_disposals, dispose_case],
    ):
        handle = await runs.start(by="Bea Manager", today=LATER, partnership="LSCP")
        result = await runs.result(handle)
        assert REF["C"] in result.disposed and REF["I"] in result.disposed
        assert result.refused == [REF["D"]]
        assert await handle.query(DisposalWorkflow.progress) == {
            "due": len(result.disposed) + 1,
            "disposed": len(result.disposed),
            "refused": 1,
        }
        again = await runs.result(await runs.start(by="Bea Manager", today=LATER))
    assert (again.disposed, again.refused) == ([REF["H"]], [REF["D"]])  # H: Croydon's
    assert disposal.personal_text_left(REF["C"], url) == []
    assert disposal.personal_text_left(REF["D"], url)
    by_rule = {(r.rule, r.outcome) for r in disposal.disposals(REF["C"], url)}
    assert by_rule == {("personal_data", "disposed"), ("professional_names", "disposed")}
    assert {r.by for r in disposal.disposals(REF["D"], url)} == {"Bea Manager"}
    db.forget(url)
