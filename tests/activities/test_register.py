"""The `record_case` activity on SQLite and PostgreSQL: a retry adds nothing, a first use
migrates the register, an unreachable register raises (so Temporal retries), writes at once
share a transaction and a bad one fails alone."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.register import RecordCaseInput, RecordCaseResult, record_case
from register import crud, db
from safeguarding.projection import CaseSnapshot
from tests.register.seeding import case_a, snapshots


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


def test_writes_from_many_cases_at_once_share_transactions_and_all_land(
    register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: threads writing at once (as the worker's local activities do) each get
    their own result, and the register holds exactly what one-at-a-time writes would."""
    from activities import register as activity

    commits = 0
    real_session = db.session

    @contextlib.contextmanager
    def counting_session(url: str | None = None) -> Iterator[Session]:
        nonlocal commits
        with real_session(url) as session:
            yield session
        commits += 1

    monkeypatch.setattr(db, "session", counting_session)
    snaps = list(snapshots())
    with ThreadPoolExecutor(max_workers=len(snaps)) as pool:
        results = list(pool.map(lambda s: activity.record(s, register_url), snaps))
    assert [r.case_ref for r in results] == [s.case.case_ref for s in snaps]
    assert [r.history_added for r in results] == [len(s.history) for s in snaps]
    assert all(r.current for r in results)
    assert 1 <= commits <= len(snaps)
    with real_session(register_url) as session:
        counts = crud.counts(session)
    assert counts["cases"] == len(snaps)
    assert counts["history"] == sum(len(s.history) for s in snaps)


def test_one_bad_snapshot_in_a_shared_transaction_fails_alone(
    register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from activities import register as activity

    good, bad = case_a().snapshot(), snapshots()[1]
    real = crud.record_snapshot

    def failing_for_bad(session: Session, snap: CaseSnapshot) -> crud.Recorded:
        if snap.case.case_ref == bad.case.case_ref:
            raise RuntimeError("this row cannot be written")
        return real(session, snap)

    monkeypatch.setattr(crud, "record_snapshot", failing_for_bad)
    writer = activity._Writer(register_url)
    futures: list[Future[RecordCaseResult]] = [Future(), Future()]
    writer._write([(good, futures[0]), (bad, futures[1])])
    assert futures[0].result().history_added == len(good.history)
    with pytest.raises(RuntimeError, match="cannot be written"):
        futures[1].result()
    with db.session(register_url) as session:
        assert crud.counts(session)["cases"] == 1
