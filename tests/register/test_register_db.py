"""The register on SQLite and on a real PostgreSQL server (tests/conftest.py starts one):
migrations, idempotent writes, stale snapshots, learning outputs."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from register import crud, db, models
from safeguarding.projection import snapshot
from tests.factories import POLICE_MEMBER
from tests.register.seeding import REF, case_a, seed


def all_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    with db.session(url) as session:
        return {name: crud.rows(session, name) for name in models.PROJECTED_TABLES}


def test_migrations_build_exactly_the_models_schema(register_url: str) -> None:
    head = db.head_revision()
    assert db.current_revision(register_url) == head == "0010"
    with db.engine(register_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, models.SQLModel.metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert tables >= {
        *models.PROJECTED_TABLES,
        *models.ESCALATION_TABLES,
        "learning_outputs",
        "access_log",
        "alembic_version",
    }
    db.upgrade(register_url)  # again: nothing to do
    assert db.current_revision(register_url) == head


def test_the_same_snapshot_twice_adds_and_changes_nothing(register_url: str) -> None:
    snap = case_a().snapshot()
    with db.session(register_url) as session:
        first = crud.record_snapshot(session, snap)
    before = all_rows(register_url)
    with db.session(register_url) as session:
        again = crud.record_snapshot(session, snap)
    assert first.current and first.history_added == len(snap.history) > 0
    assert first.decisions_added == sum(1 for h in snap.history if h.kind == "decision")
    assert again.current and again.history_added == 0 and again.decisions_added == 0
    assert all_rows(register_url) == before


def test_a_long_history_is_added_once_whatever_its_length(register_url: str) -> None:
    """More entries than one statement takes (`crud.CHUNK`), some repeated, some decisions sent
    twice in the same write: each entry and each decision is added once, and only once."""
    snap = case_a().snapshot()
    rows = [
        r.model_copy(update={"seq": n})
        for n, r in enumerate(snap.history * (2 * crud.CHUNK // len(snap.history) + 1))
    ]
    distinct_decisions = {r.decision_id for r in rows if r.kind == "decision"}
    longer = snap.model_copy(update={"history": rows, "history_upto": len(rows)})
    with db.session(register_url) as session:
        first = crud.record_snapshot(session, longer)
        part = snap.model_copy(update={"history": rows[: crud.CHUNK + 7]})
        again = crud.record_snapshot(session, part)
    assert len(rows) > 2 * crud.CHUNK
    assert first.history_added == len(rows)
    assert first.decisions_added == len(distinct_decisions) > 0
    assert (again.history_added, again.decisions_added) == (0, 0)
    assert len(all_rows(register_url)["history"]) == len(rows)


def test_a_case_in_parts_is_the_same_as_the_case_whole(register_url: str, tmp_path: Any) -> None:
    case = case_a().case
    with db.session(register_url) as session:
        for since in range(0, len(case.history), 7):
            crud.record_snapshot(session, snapshot(case, since=since, limit=7))
    other = f"sqlite:///{tmp_path / 'whole.db'}"
    db.upgrade(other)
    with db.session(other) as session:
        crud.record_snapshot(session, snapshot(case))
    assert all_rows(register_url) == all_rows(other)


def test_an_older_snapshot_never_overwrites_a_newer_one(register_url: str) -> None:
    d = case_a()
    older = d.snapshot()
    d.decide(date(2027, 1, 5), "action_updated", POLICE_MEMBER, action_id="A1", rag="red")
    newer = d.snapshot()
    with db.session(register_url) as session:
        crud.record_snapshot(session, newer)
    with db.session(register_url) as session:
        late = crud.record_snapshot(session, older)  # a retry that arrives late
    assert not late.current and late.history_added == 0
    with db.session(register_url) as session:
        (action,) = crud.rows(session, "actions", crud.table("actions").c.action_id == "A1")
        (case,) = crud.rows(session, "cases")
    assert action["rag"] == "red"
    assert case["history_count"] == newer.case.history_count


def test_a_row_named_twice_in_one_snapshot_is_written_as_its_last(register_url: str) -> None:
    """PostgreSQL writes a snapshot in one statement, whose upserts may not change a row twice:
    a snapshot naming a deadline twice is written as the upserts one by one wrote it."""
    snap = case_a().snapshot()
    first = snap.deadlines[0]
    twice = [first.model_copy(update={"title": "an earlier title"}), *snap.deadlines]
    with db.session(register_url) as session:
        done = crud.record_snapshot(session, snap.model_copy(update={"deadlines": twice}))
    assert done.current
    with db.session(register_url) as session:
        found = crud.rows(
            session, "deadlines", crud.table("deadlines").c.deadline_id == first.deadline_id
        )
    assert [row["title"] for row in found] == [first.title]


def test_times_are_stored_as_utc_and_read_back_unchanged(register_url: str) -> None:
    snap = case_a().snapshot()
    with db.session(register_url) as session:
        crud.record_snapshot(session, snap)
        (case,) = crud.rows(session, "cases")
        history = crud.rows(session, "history")
    opened = snap.case.opened_at.astimezone(UTC).replace(tzinfo=None)
    assert case["opened_at"] == opened
    assert case["received_on"] == date(2026, 6, 1)
    assert [h["at"] for h in history] == [
        h.at.astimezone(UTC).replace(tzinfo=None) for h in snap.history
    ]


def test_sqlite_holds_history_times_as_sqlalchemy_writes_them(tmp_path: Any) -> None:
    """History and decisions go to SQLite through sqlite3 itself (`crud`): their times and days
    are the same text as the rows SQLAlchemy writes (the case row), so SQL compares and orders
    them alike and they read back unchanged."""
    url = f"sqlite:///{tmp_path / 'register.db'}"
    db.upgrade(url)
    snap = case_a().snapshot()
    with db.session(url) as session:
        crud.record_snapshot(session, snap)
        history = crud.rows(session, "history")
    with sqlite3.connect(tmp_path / "register.db") as raw:
        (opened,) = raw.execute("SELECT opened_at FROM cases").fetchone()
        stored = raw.execute("SELECT at, occurred_on FROM history ORDER BY seq").fetchall()
        decided = [at for (at,) in raw.execute("SELECT decided_at FROM decisions")]
    text_time = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"
    assert re.fullmatch(text_time, opened)
    assert stored and all(re.fullmatch(text_time, at) for at, _ in stored)
    assert decided and all(re.fullmatch(text_time, at) for at in decided)
    assert [day for _, day in stored if day is not None] == [
        h.occurred_on.isoformat() for h in snap.history if h.occurred_on is not None
    ]
    assert [h["at"] for h in history] == [
        h.at.astimezone(UTC).replace(tzinfo=None) for h in snap.history
    ]


def test_a_seeded_register_holds_every_part_of_a_case(register_url: str) -> None:
    with db.session(register_url) as session:
        made = seed(session)
        counts = crud.counts(session)
        a = REF["A"]
        decisions = crud.rows(session, "decisions", crud.table("decisions").c.case_ref == a)
        deadlines = crud.rows(session, "deadlines", crud.table("deadlines").c.case_ref == a)
        history = crud.rows(session, "history", crud.table("history").c.case_ref == a)
    assert counts["cases"] == len(made) == 9
    assert counts["learning_outputs"] == 4
    assert counts["children"] == 10
    assert len(decisions) == len(case_a().case.applied)
    assert {(d["kind"], d["by_name"], d["by_role"], d["by_agency"]) for d in decisions} >= {
        ("triage", "Dana Chair", "chair", "police"),
        ("notification_submitted", "Sam Social", "panel_member", "childrens_social_care"),
        ("published", "Bea Manager", "business_manager", "partnership"),
    }
    assert all(isinstance(d["decided_at"], datetime) for d in decisions)
    by_id = {d["deadline_id"]: d for d in deadlines}
    assert by_id["notification"]["outcome"] == "met"
    assert by_id["action-A1"]["escalated_at"] is not None  # overdue: escalated
    assert {h["kind"] for h in history} >= {
        "decision",
        "stage_changed",
        "deadline_opened",
        "deadline_met",
        "escalation",
    }


def test_learning_outputs_are_recorded_once(register_url: str) -> None:
    with db.session(register_url) as session:
        seed(session)
    with db.session(register_url) as session:
        again = crud.add_learning_output(
            session,
            kind="briefing",
            title="Safe sleep: 7-minute briefing",
            produced_on=date(2026, 12, 10),
            case_ref=REF["A"],
        )
        # The title is sealed: filtered after reading, not in SQL.
        (row,) = [
            r
            for r in crud.rows(session, "learning_outputs")
            if r["title"] == "Safe sleep: 7-minute briefing"
        ]
    assert not again
    assert row["partnership"] == "LSCP"  # found from the case


def test_a_new_sqlite_register_opened_while_locked_waits_to_switch_to_wal(tmp_path: Any) -> None:
    """Switching a new register file to WAL needs it to itself, and SQLite refuses at once,
    without its busy wait, while another connection holds a lock: a case key written as the
    first case starts, while another thread opened the register (the benchmark's first cases
    failed with CaseKeyUnavailable about one run in eight). The engine's connection waits."""
    path = tmp_path / "register.db"
    holder = sqlite3.connect(path, timeout=0, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # a fresh file, in SQLite's rollback mode, write-locked
    release = threading.Timer(0.3, holder.rollback)
    release.start()
    try:
        started = time.monotonic()
        url = f"sqlite:///{path}"
        db.forget(url)
        with db.engine(url).connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
        assert time.monotonic() - started >= 0.25  # it waited for the lock, not failed
    finally:
        release.join()
        holder.close()
        db.forget(f"sqlite:///{path}")
