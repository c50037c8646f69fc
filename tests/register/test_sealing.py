"""The register's personal free text sealed at rest (issue 14; register/sealing.py), on SQLite
and PostgreSQL: the database itself (read with plain SQL) holds none of it, every reader gets the
text back, a value moved to another row does not open, a rotated ring still opens what the old
key sealed, and migration 0010 seals a register written before it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import select

from register import crud, db, disposal, sealing
from register import subject_access as held
from register.models import DecisionRecord, HistoryRecord
from reports import figures
from safeguarding.projection import CaseSnapshot, LearningRow
from safeguarding.subject_access import PersonQuery
from security.keys import KeyRing
from security.sealing import SealError
from tests.conftest import TEST_CODEC_KEYS
from tests.register.seeding import REF, case_a

A = REF["A"]
NAME = "Kestrel Quimby"


def mark(table: str, column: str) -> str:
    return f"{NAME}: {table}.{column}"


def marked_snapshot() -> CaseSnapshot:
    """Case A with a marked text, naming a person, in every sealed column."""
    snap = case_a().snapshot()

    def marks(table: str, extra: str = "") -> dict[str, str]:
        return {c: mark(table, c) + extra for c in sealing.SEALED[table]}

    history = [
        h.model_copy(update=marks("history", f" #{h.seq}")) if h.kind == "decision" else h
        for h in snap.history
    ]
    learning = LearningRow(
        case_ref=A, learning_id="L1", output="briefing", source="review", due_on=date(2027, 1, 9),
        status="planned", disseminated_on=None, reaudit_due_on=None, impact_on=None,
        planned_by_name="Cai", planned_by_role="coordinator", planned_by_agency="partnership",
        **marks("case_learning"),
    )  # fmt: skip
    return snap.model_copy(
        update={
            "case": snap.case.model_copy(update=marks("cases")),
            "actions": [a.model_copy(update=marks("actions")) for a in snap.actions],
            "history": history,
            "learning": [learning],
        }
    )


def whys(history: list[dict[str, Any]]) -> set[str]:
    return {h["why"].split(" #")[0] for h in history if h["kind"] == "decision"}


def raw_text(url: str) -> str:
    """Every value of every table, read with plain SQL (no ORM, nothing opened)."""
    found: list[str] = []
    with db.engine(url).connect() as connection:
        for table in (*sealing.SEALED, "children", "deadlines"):
            for row in connection.exec_driver_sql(f"SELECT * FROM {table}"):
                found.extend(str(v) for v in row)
    return "\n".join(found)


def record(url: str) -> CaseSnapshot:
    snap = marked_snapshot()
    with db.session(url) as session:
        crud.record_snapshot(session, snap)
        crud.add_learning_output(
            session, kind="briefing", title=mark("learning_outputs", "title"),
            produced_on=date(2026, 12, 10), case_ref=A,
        )  # fmt: skip
    return snap


def test_the_database_holds_no_personal_text_and_readers_get_it_back(register_url: str) -> None:
    snap = record(register_url)
    raw = raw_text(register_url)
    assert NAME not in raw and "Quimby" not in raw
    assert raw.count("sro-sealed:1:test-1:") >= len(snap.actions) * 4
    with db.session(register_url) as session:
        (case,) = crud.rows(session, "cases")
        actions = crud.rows(session, "actions")
        decisions = session.exec(select(DecisionRecord).where(DecisionRecord.case_ref == A)).all()
        (output,) = crud.rows(session, "learning_outputs")
        data = figures.load(session, reports=["summary"])
    assert case["notified_outside_criteria"] == mark("cases", "notified_outside_criteria")
    assert {a["recommendation"] for a in actions} == {mark("actions", "recommendation")}
    assert {d.what.split(" #")[0] for d in decisions} == {mark("history", "text")}
    assert output["title"] == mark("learning_outputs", "title")
    assert output["title_key"].startswith("test-1:")  # a keyed hash, never the title
    assert {a.recommendation for a in data.actions} == {mark("actions", "recommendation")}
    assert mark("case_learning", "title") in {r.title for r in data.case_learning}
    assert mark("learning_outputs", "title") in {o.title for o in data.learning}
    themes = figures.summary(data, since=date(2026, 4, 1), as_of=date(2027, 3, 31)).themes
    assert [t.theme for t in themes] == [mark("actions", "recommendation")]
    exported = held.read_case(A, url=register_url)
    assert whys(exported["history"]) == {mark("history", "why")}
    assert exported["case_learning"][0]["reach"] == mark("case_learning", "reach")


def test_find_person_still_finds_a_name_in_sealed_text(register_url: str) -> None:
    record(register_url)
    found = held.find_person(PersonQuery(name="kestrel QUIMBY"), url=register_url)
    (hit,) = found.hits
    assert hit.case_ref == A
    assert {"decisions.what (name)", "actions.description (name)"} <= set(hit.where)


def test_adding_a_learning_output_again_is_a_no_op(register_url: str) -> None:
    record(register_url)
    with db.session(register_url) as session:
        again = crud.add_learning_output(
            session, kind="briefing", title=mark("learning_outputs", "title"),
            produced_on=date(2026, 12, 10), case_ref=A,
        )  # fmt: skip
        assert not again
        assert crud.counts(session)["learning_outputs"] == 1


def test_a_value_moved_to_another_row_does_not_open(register_url: str) -> None:
    record(register_url)
    with db.engine(register_url).begin() as connection:
        (first, sealed), (second, _) = connection.execute(
            text("SELECT seq, why FROM history WHERE why IS NOT NULL ORDER BY seq LIMIT 2")
        ).all()
        connection.execute(
            text("UPDATE history SET why = :w WHERE case_ref = :a AND seq = :s"),
            {"w": sealed, "a": A, "s": second},
        )
    with db.session(register_url) as session, pytest.raises(SealError, match=r"history\.why"):
        crud.rows(session, "history")
    with db.session(register_url) as session, pytest.raises(SealError, match=f"seq={second}"):
        session.exec(select(HistoryRecord).where(HistoryRecord.seq == second)).all()
    with db.session(register_url) as session:  # the row it came from still opens
        (row,) = session.exec(select(HistoryRecord).where(HistoryRecord.seq == first)).all()
        assert row.why is not None and row.why.startswith(mark("history", "why"))


def test_rotation_opens_what_the_old_key_sealed(
    register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(register_url)
    new = KeyRing.generate("test-2")
    monkeypatch.setenv("SRO_CODEC_KEYS", f"{TEST_CODEC_KEYS},test-2={_b64(new)}")
    monkeypatch.setenv("SRO_CODEC_KEY_ID", "test-2")
    with db.session(register_url) as session:
        crud.record_snapshot(session, marked_snapshot())  # the case's rows sealed again
        assert not crud.add_learning_output(  # found under the old key's hash
            session, kind="briefing", title=mark("learning_outputs", "title"),
            produced_on=date(2026, 12, 10), case_ref=A,
        )  # fmt: skip
    raw = raw_text(register_url)
    assert "sro-sealed:1:test-2:" in raw and "sro-sealed:1:test-1:" in raw  # history kept
    with db.session(register_url) as session:
        history = crud.rows(session, "history")
        (case,) = crud.rows(session, "cases")
    assert whys(history) == {mark("history", "why")}
    assert case["notified_outside_criteria"] == mark("cases", "notified_outside_criteria")


def test_disposal_replaces_sealed_text(register_url: str) -> None:
    record(register_url)
    assert disposal.personal_text_left(A, register_url)
    disposal.dispose(A, {"personal_data": "x"}, run_id="r1", by="bm", url=register_url)
    assert disposal.personal_text_left(A, register_url) == []
    assert mark("actions", "description") not in str(held.read_case(A, url=register_url))


def test_the_migration_seals_a_register_written_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0008")
    with db.engine(url).begin() as connection:  # what 0008 held: plain text
        crud.record_snapshot(_session(connection), marked_snapshot())
        for table, columns in sealing.SEALED.items():
            if table != "learning_outputs":
                sealing.seal_held(connection, table, columns, unseal=True)
        connection.execute(
            text("INSERT INTO learning_outputs VALUES ('briefing', :t, :a, :on, 'LSCP', '')"),
            {"t": mark("learning_outputs", "title"), "a": A, "on": date(2026, 12, 10)},
        )
    assert NAME in raw_text(url)
    assert db.upgrade(url) == "0010"
    assert NAME not in raw_text(url)
    with db.session(url) as session:
        (output,) = crud.rows(session, "learning_outputs")
        history = crud.rows(session, "history")
    assert output["title"] == mark("learning_outputs", "title")
    assert whys(history) == {mark("history", "why")}
    command.downgrade(_config(url), "0008")  # and back: plain text again
    assert mark("learning_outputs", "title") in raw_text(url)


def test_a_register_with_text_to_seal_needs_the_ring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0008")
    with db.engine(url).begin() as connection:
        connection.execute(
            text("INSERT INTO learning_outputs VALUES ('briefing', 'T', '', '2026-12-10', '', '')")
        )
    monkeypatch.delenv("SRO_CODEC_KEYS")
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path / "no-keys"))
    with pytest.raises(SealError, match="key ring"):
        db.upgrade(url)
    empty = f"sqlite:///{tmp_path / 'new.db'}"
    assert db.upgrade(empty) == "0010"  # nothing to seal: no ring needed


def _b64(ring: KeyRing) -> str:
    import base64

    return base64.b64encode(ring.current_key).decode()


def _session(connection: Any) -> Any:
    from sqlmodel import Session

    return Session(bind=connection)


def _config(url: str) -> Any:
    return db.alembic_config(url)


def test_every_column_the_disposal_run_removes_is_sealed() -> None:
    """The free text `safeguarding.personal` classes as personal, which the disposal run
    replaces, is the free text sealed at rest."""
    assert set(disposal.ACTION_FREE_TEXT) <= set(sealing.SEALED["actions"])
    assert set(disposal.LEARNING_FREE_TEXT) <= set(sealing.SEALED["case_learning"])
    assert set(disposal.CASE_FREE_TEXT) <= set(sealing.SEALED["cases"])
    assert {"text", "why"} <= set(sealing.SEALED["history"])
