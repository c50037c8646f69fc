"""Subject access in the register (issue 14, point 4): every row it holds about one case, and
every case whose text names a person.

`CASE_TABLES` says, for every table, how its rows belong to a case; `NOT_ABOUT_A_CASE` lists the
tables that hold nothing about one (a test checks that every table is in one or the other, so a
table added later is either exported or said not to be). Rows are exported whole: every column,
as the register holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from register import db, sealing
from register.models import (
    AccessRecord,
    ActionRecord,
    CaseLearningRecord,
    CaseRecord,
    ChildRecord,
    DeadlineRecord,
    DecisionRecord,
    DisposalRecord,
    EscalationRecord,
    EscalationStageRecord,
    HistoryRecord,
    LearningOutput,
    LegalHold,
)
from safeguarding.subject_access import PersonQuery, text_mentions

#: Table name -> (model, the column naming the case), in the bundle's order.
CASE_TABLES: dict[str, tuple[Any, str]] = {
    "cases": (CaseRecord, "case_ref"),
    "children": (ChildRecord, "case_ref"),
    "decisions": (DecisionRecord, "case_ref"),
    "history": (HistoryRecord, "case_ref"),
    "deadlines": (DeadlineRecord, "case_ref"),
    "actions": (ActionRecord, "case_ref"),
    "case_learning": (CaseLearningRecord, "case_ref"),
    "learning_outputs": (LearningOutput, "case_ref"),
    "escalations": (EscalationRecord, "linked_case_ref"),
    "access_log": (AccessRecord, "case_ref"),
    # Issue 14, point 3: the case's legal holds and its disposal record (what was removed).
    "legal_holds": (LegalHold, "case_ref"),
    "disposals": (DisposalRecord, "case_ref"),
}
#: Rows reached through another table's rows: (table, model, key column, parent table).
CHILD_TABLES = (("escalation_stages", EscalationStageRecord, "escalation_ref", "escalations"),)
#: Tables that hold nothing about a case, and why.
NOT_ABOUT_A_CASE = {
    "console_sessions": "console sign-ins: an account and its session, no case",
    "alembic_version": "the schema's revision",
    "case_keys": "each case's data key, wrapped by the key ring: a key, not data about anyone",
}
#: Each table's order within a case.
_ORDER = {
    "children": "child_no",
    "decisions": "seq",
    "history": "seq",
    "deadlines": "deadline_id",
    "actions": "action_id",
    "case_learning": "learning_id",
    "learning_outputs": "produced_on",
    "escalations": "escalation_ref",
    "access_log": "id",
}


def plain(value: Any) -> Any:
    """A column's value as JSON holds it (dates and times in ISO 8601, UTC as stored)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(record: Any) -> dict[str, Any]:
    return {name: plain(getattr(record, name)) for name in type(record).model_fields}


def case_rows(session: Session, case_ref: str) -> dict[str, list[dict[str, Any]]]:
    """Every row the register holds about the case, table by table, every column."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table, (model, key) in CASE_TABLES.items():
        query = select(model).where(getattr(model, key) == case_ref)
        if table in _ORDER:
            query = query.order_by(col(getattr(model, _ORDER[table])))
        found[table] = [_row(r) for r in session.exec(query).all()]
    for table, model, key, parent in CHILD_TABLES:
        refs = [r[key] for r in found[parent]]
        query = select(model).where(col(getattr(model, key)).in_(refs))
        found[table] = [_row(r) for r in session.exec(query).all()] if refs else []
    return found


def read_case(case_ref: str, *, url: str | None = None) -> dict[str, list[dict[str, Any]]]:
    db.ensure_schema(url)
    with db.session(url) as session:
        return case_rows(session, case_ref)


@dataclass(frozen=True)
class RegisterHit:
    """A case whose register rows name the person: where (table.column), never the text."""

    case_ref: str
    where: tuple[str, ...]


def _text_columns(model: Any) -> list[str]:
    """The text columns to search: sealed ones are opened as the rows load (register/sealing.py),
    so the search runs here, in the process, one batch of rows at a time; a keyed hash (a
    learning output's `title_key`) is not text."""
    skip = {"case_ref", "linked_case_ref", *sealing.LOOKUPS.get(model.__tablename__, {})}
    return [
        name
        for name, info in model.model_fields.items()
        if info.annotation in (str, str | None) and name not in skip
    ]


def _scan(session: Session, query: PersonQuery) -> Iterator[tuple[str, str]]:
    """(case reference, "table.column") for every text column that names the person."""
    for table, (model, key) in CASE_TABLES.items():
        columns = _text_columns(model)
        rows = select(model).where(getattr(model, key).is_not(None))
        for record in session.exec(rows.execution_options(yield_per=500)):
            for column in columns:
                for what in text_mentions(getattr(record, column), query):
                    yield getattr(record, key), f"{table}.{column} ({what})"
    for table, model, key, parent in CHILD_TABLES:
        parent_model, parent_key = CASE_TABLES[parent]
        joined = select(model, getattr(parent_model, parent_key)).join(
            parent_model, getattr(parent_model, key) == getattr(model, key)
        )
        for record, case_ref in session.exec(joined):
            for column in _text_columns(model):
                for what in text_mentions(getattr(record, column), query):
                    if case_ref:
                        yield case_ref, f"{table}.{column} ({what})"


@dataclass(frozen=True)
class RegisterSearch:
    hits: list[RegisterHit]
    #: How many cases the register holds (every one was searched).
    cases_searched: int


def find_person(query: PersonQuery, *, url: str | None = None) -> RegisterSearch:
    """Every case whose register text names the person (every text column of every table
    about a case: notes, reasons, evidence, names of professionals...)."""
    db.ensure_schema(url)
    where: dict[str, dict[str, None]] = {}
    with db.session(url) as session:
        for case_ref, found in _scan(session, query):
            where.setdefault(case_ref, {})[found] = None
        searched = len(session.exec(select(CaseRecord.case_ref)).all())
    hits = [RegisterHit(ref, tuple(places)) for ref, places in sorted(where.items())]
    return RegisterSearch(hits, searched)


__all__ = [
    "CASE_TABLES",
    "CHILD_TABLES",
    "NOT_ABOUT_A_CASE",
    "RegisterHit",
    "RegisterSearch",
    "case_rows",
    "find_person",
    "plain",
    "read_case",
]
