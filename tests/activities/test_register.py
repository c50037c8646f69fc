"""The `record_case` activity on SQLite and PostgreSQL: a retry adds nothing, a first use
migrates the register, an unreachable register raises (so Temporal retries)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.register import RecordCaseInput, RecordCaseResult, record_case
from register import crud, db
from tests.register.seeding import case_a


async def test_calling_twice_with_the_same_input_adds_nothing(register_url: str) -> None:
    snap = case_a().snapshot()
    env = ActivityEnvironment()
    first: RecordCaseResult = await env.run(record_case, RecordCaseInput(snapshot=snap))
    with db.session(register_url) as session:
        counts = crud.counts(session)
    again: RecordCaseResult = await env.run(record_case, RecordCaseInput(snapshot=snap))
    with db.session(register_url) as session:
        assert crud.counts(session) == counts
    assert first.history_added == len(snap.history) and first.history_upto == len(snap.history)
    assert (again.history_added, again.decisions_added) == (0, 0)
    assert counts["cases"] == 1 and counts["history"] == len(snap.history)
    assert counts["decisions"] == first.decisions_added > 10
    assert counts["deadlines"] == len(snap.deadlines) and counts["actions"] == 3


async def test_first_use_brings_an_empty_register_to_the_newest_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'register.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    result = await ActivityEnvironment().run(
        record_case, RecordCaseInput(snapshot=case_a().snapshot())
    )
    assert result.current and db.current_revision(url) == db.head_revision()
    db.forget(url)


async def test_an_unreachable_register_raises_for_temporal_to_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A PostgreSQL URL on a port where nothing listens.
    url = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(Exception, match=r"(?i)connect"):
        await ActivityEnvironment().run(record_case, RecordCaseInput(snapshot=case_a().snapshot()))
    db.forget(url)
