"""The `record_case` activity on SQLite and PostgreSQL: a retry adds nothing, a first use
migrates the register, an unreachable register raises (so Temporal retries), writes at once
share a transaction and a bad one fails alone."""

from __future__ import annotations

import contextlib
import threading
import time
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


def test_writes_arriving_during_a_slow_write_share_the_next_transaction(
    register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit, proved: the first write is held inside its transaction until every other
    case has asked to be written; those then go in one transaction together (two commits for
    all of them), not one commit each. On SQLite and on PostgreSQL."""
    from activities import register as activity

    snaps = list(snapshots())
    first, rest = snaps[0], snaps[1:]
    assert 2 <= len(rest) <= activity.MAX_BATCH
    transactions: list[list[str]] = []  # the cases written in each transaction, committed
    real_session, real_record = db.session, crud.record_snapshot
    in_first, release = threading.Event(), threading.Event()

    @contextlib.contextmanager
    def recording_session(url: str | None = None) -> Iterator[Session]:
        written: list[str] = []
        with real_session(url) as session:
            session.info["written"] = written
            yield session
        transactions.append(written)  # only once the transaction has committed

    def slowed(session: Session, snap: CaseSnapshot) -> crud.Recorded:
        session.info["written"].append(snap.case.case_ref)
        if snap is first:
            in_first.set()
            assert release.wait(60), "the slow first write was never released"
        return real_record(session, snap)

    monkeypatch.setattr(db, "session", recording_session)
    monkeypatch.setattr(crud, "record_snapshot", slowed)
    writer = activity._Writer(register_url)
    with ThreadPoolExecutor(max_workers=len(snaps)) as pool:
        leader = pool.submit(writer.record, first)
        assert in_first.wait(60), "the first write never started"
        followers = [pool.submit(writer.record, snap) for snap in rest]
        deadline = time.monotonic() + 60
        while len(writer._waiting) < len(rest):  # every other case is queued behind it
            assert time.monotonic() < deadline, f"only {len(writer._waiting)} queued"
            time.sleep(0.01)
        assert transactions == []  # nothing committed while the first write is held
        release.set()
        results = [leader.result(timeout=60)] + [f.result(timeout=60) for f in followers]

    assert len(transactions) == 2, transactions  # one commit per write would be len(snaps)
    assert transactions[0] == [first.case.case_ref]
    assert sorted(transactions[1]) == sorted(s.case.case_ref for s in rest)
    assert [r.case_ref for r in results] == [s.case.case_ref for s in snaps]
    assert [r.history_added for r in results] == [len(s.history) for s in snaps]
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
