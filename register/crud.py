"""Writing to the register, idempotently.

`record_snapshot` writes one `CaseSnapshot` in one transaction:

- the case row is upserted by `case_ref`, but only if the snapshot is at least as new as the
  row it replaces (`history_count`): a late retry of an older snapshot changes nothing;
- if it was, the children, deadlines and actions in the snapshot are upserted by their natural
  keys (`case_ref` + `child_no` / `deadline_id` / `action_id`);
- history entries are inserted with ON CONFLICT DO NOTHING on (`case_ref`, `seq`), and the
  decisions among them on (`case_ref`, `decision_id`): an entry never changes once made.

So the same call twice, or a retry after a timeout that had in fact committed, adds and changes
nothing. SQLite and PostgreSQL both speak INSERT ... ON CONFLICT; nothing else is supported. On
PostgreSQL the whole write is one statement (`_postgresql_record_sql`), in its transaction: three
round trips to a server that may be across a network, where there were about twelve.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Dialect, Table, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from register import models, sealing
from register.learning import LEARNING_KINDS
from safeguarding.escalation_projection import EscalationSnapshot
from safeguarding.projection import CaseSnapshot, HistoryRow, is_decision

#: Rows per INSERT statement (well under SQLite's limit on bound parameters).
CHUNK = 200


@dataclass(frozen=True)
class Recorded:
    """What one write did."""

    case_ref: str
    #: False when the register already held a newer snapshot of the case (its rows were kept).
    current: bool
    history_added: int
    decisions_added: int


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):
        raise RuntimeError(f"the register supports SQLite and PostgreSQL, not {name}")
    return name


def _insert(dialect: str, target: Table) -> Any:
    """The dialect's INSERT, which has `on_conflict_do_*` on both supported databases."""
    return postgresql.insert(target) if dialect == "postgresql" else sqlite.insert(target)


# Each statement is built once per dialect and table and executed with a list of rows
# (executemany): a statement built per call with `.values(rows)` differs in shape from call to
# call, so SQLAlchemy compiled it afresh every time (BENCHMARKS.md: 9.8 -> 3.2 ms a write).


@cache
def _upsert_statement(dialect: str, name: str, keys: tuple[str, ...]) -> Any:
    target = table(name)
    stmt = _insert(dialect, target)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c.name: stmt.excluded[c.name] for c in target.columns if c.name not in keys},
    )


@cache
def _sqlite_insert_new_sql(
    name: str, keys: tuple[str, ...], columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[Any, ...]]:
    """SQLite's insert-new (PostgreSQL's is `_postgresql_insert_new_sql`): one fixed text with
    ON CONFLICT DO NOTHING on the keys, and each column's own conversion to what SQLite stores
    (its SQLAlchemy type's bind processor: times as the same text SQLAlchemy writes and reads).
    As on PostgreSQL, only the columns given are written (every caller gives every column its
    rows need: the sealing of a row needs its key columns anyway)."""
    target = table(name)
    processors = tuple(
        target.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
    )
    sql = (
        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    )
    return sql, processors


@cache
def _postgresql_insert_new_sql(name: str, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """PostgreSQL's insert-new for many rows in one statement and one parameter: the rows as a
    JSON array, read back into rows of the table's own types by `json_populate_recordset`, ON
    CONFLICT DO NOTHING on the keys. One fixed text, parsed and planned once, and one value to
    send (the JSON, made in C), where a row a parameter set cost a millisecond or so of the
    worker's CPU a write (issue 16). Only the columns given are written (the others keep their
    defaults)."""
    listed = ", ".join(columns)
    return (
        f"INSERT INTO {name} ({listed}) SELECT {listed} "
        f"FROM json_populate_recordset(NULL::{name}, %s::json) "
        f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    )


@cache
def _case_statement(dialect: str) -> Any:
    target = table("cases")
    stmt = _insert(dialect, target)
    return stmt.on_conflict_do_update(
        index_elements=["case_ref"],
        set_={c.name: stmt.excluded[c.name] for c in target.columns if c.name != "case_ref"},
        where=target.c.history_count <= stmt.excluded.history_count,
    ).returning(target.c.case_ref)


#: Stands in for NUL, which PostgreSQL text cannot hold and the rules let through in free text.
NUL_STAND_IN = "\ufffd"


def to_db(value: Any) -> Any:
    """Times are stored as naive UTC, so both databases hold and return the same values. A NUL
    character is stored as U+FFFD: otherwise PostgreSQL refuses the write on every retry, and the
    case (which waits for the register before it ends) would never close."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", NUL_STAND_IN)
    return value


def _values(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [{k: to_db(v) for k, v in row.model_dump().items()} for row in rows]


def _chunks(values: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


# Every write goes through `_upsert`, `_insert_new`, `_upsert_case` or (a snapshot on PostgreSQL)
# `_record_snapshot_postgresql`, which seal the table's personal columns (register/sealing.py):
# a write function added later seals by using them.


def _upsert(session: Session, name: str, keys: list[str], values: list[dict[str, Any]]) -> None:
    if not values:
        return
    values = list(sealing.seal_rows(name, values))
    stmt = _upsert_statement(_dialect(session), name, tuple(keys))
    for chunk in _chunks(values):
        session.execute(stmt, list(chunk))


def _insert_new(session: Session, name: str, keys: list[str], values: list[dict[str, Any]]) -> int:
    """Insert the rows not there yet; returns how many were added."""
    if not values:
        return 0
    values = list(sealing.seal_rows(name, values))
    if _dialect(session) == "postgresql":
        return _insert_new_postgresql(session, name, keys, values)
    return _insert_new_sqlite(session, name, keys, values)


def _insert_new_sqlite(
    session: Session, name: str, keys: list[str], values: list[dict[str, Any]]
) -> int:
    """`_sqlite_insert_new_sql` through sqlite3 itself (executemany), in the session's
    transaction, counted by its rowcount (the rows inserted: a conflict changes none).
    SQLAlchemy's executemany with RETURNING cost the worker about as much CPU again as SQLite's
    own work."""
    columns = tuple(values[0])
    sql, processors = _sqlite_insert_new_sql(name, tuple(keys), columns, session.get_bind().dialect)
    rows = [
        tuple(
            value if process is None else process(value)
            for value, process in zip((row[c] for c in columns), processors, strict=True)
        )
        for row in values
    ]
    with closing(_driver(session).cursor()) as cursor:
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)


def _insert_new_postgresql(
    session: Session, name: str, keys: list[str], values: list[dict[str, Any]]
) -> int:
    """`_postgresql_insert_new_sql`, counted by its rowcount (ON CONFLICT DO NOTHING: only the
    rows inserted). Through psycopg itself: SQLAlchemy adds nothing to one fixed statement. The
    rows' values are plain (`to_db`: naive UTC times, no NUL), so JSON carries them exactly."""
    sql = _postgresql_insert_new_sql(name, tuple(keys), tuple(values[0]))
    added = 0
    with _driver(session).cursor() as cursor:
        for chunk in _chunks(values):
            cursor.execute(sql, [json.dumps(list(chunk), default=_json_value, ensure_ascii=False)])
            added += int(cursor.rowcount)
    return added


def _driver(session: Session) -> Any:
    """The database driver's own connection under the session, in the session's transaction."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    return driver


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a register value")


def _upsert_case(session: Session, snap: CaseSnapshot) -> bool:
    """Upsert the case row if the snapshot is at least as new; True if it was."""
    (values,) = sealing.seal_rows("cases", _values([snap.case]))
    return session.execute(_case_statement(_dialect(session)), values).first() is not None


def decision_values(rows: Iterable[HistoryRow]) -> list[dict[str, Any]]:
    values = [
        {
            "case_ref": r.case_ref,
            "decision_id": r.decision_id,
            "seq": r.seq,
            "kind": r.decision_kind,
            "decided_at": r.at,
            "occurred_on": r.occurred_on,
            "by_name": r.by_name,
            "by_role": r.by_role,
            "by_agency": r.by_agency,
            "via": r.via,
            "stage": r.stage,
            "what": r.text,
            "why": r.why,
        }
        for r in rows
        if is_decision(r)
    ]
    return [{k: to_db(v) for k, v in row.items()} for row in values]


#: A snapshot's own rows, upserted by their natural keys while its case row is current.
_CASE_ROWS = (
    ("children", ("case_ref", "child_no")),
    ("deadlines", ("case_ref", "deadline_id")),
    ("actions", ("case_ref", "action_id")),
    ("case_learning", ("case_ref", "learning_id")),
)
#: Its entries, inserted if new and counted.
_ENTRIES = (("history", ("case_ref", "seq")), ("decisions", ("case_ref", "decision_id")))
_ENTRY_TABLES = tuple(name for name, _ in _ENTRIES)


def _snapshot_rows(snap: CaseSnapshot) -> dict[str, list[dict[str, Any]]]:
    """The rows of `_CASE_ROWS` and `_ENTRIES` as values to write, by table."""
    return {
        "children": _values(snap.children),
        "deadlines": _values(snap.deadlines),
        "actions": _values(snap.actions),
        "case_learning": _values(snap.learning),
        "history": _values(snap.history),
        "decisions": decision_values(snap.history),
    }


def record_snapshot(session: Session, snap: CaseSnapshot) -> Recorded:
    """Write a case snapshot (see the module's doc). The caller commits."""
    if _dialect(session) == "postgresql":
        return _record_snapshot_postgresql(session, snap)
    rows = _snapshot_rows(snap)
    current = _upsert_case(session, snap)
    if current:
        for name, keys in _CASE_ROWS:
            _upsert(session, name, list(keys), rows[name])
    history_added, decisions_added = [
        _insert_new(session, name, list(keys), rows[name]) for name, keys in _ENTRIES
    ]
    return Recorded(
        case_ref=snap.case.case_ref,
        current=current,
        history_added=history_added,
        decisions_added=decisions_added,
    )


#: (table, key columns, columns written) for each table a statement writes, in order.
_Shape = tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]


@cache
def _postgresql_record_sql(shape: _Shape) -> str:
    """A whole snapshot in one PostgreSQL statement: each table's rows a JSON parameter read
    back by `json_populate_recordset`, written by a data-modifying WITH query of its own (the
    case row first, conditional on its `history_count`; the case's other rows only if it was
    written; the entries if new, counted). One statement a write, where a statement a table,
    and a row a statement for the upserts, took about twelve round trips (issue 16); the
    statements of a WITH query see one snapshot and all run, whatever the final SELECT reads."""
    queries = []
    for name, keys, columns in shape:
        listed = ", ".join(columns)
        source = f"SELECT {listed} FROM json_populate_recordset(NULL::{name}, %s::json)"
        conflict = f"ON CONFLICT ({', '.join(keys)})"
        changed = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in keys)
        if name == "cases":
            body = (
                f"INSERT INTO cases ({listed}) {source} {conflict} DO UPDATE SET {changed} "
                "WHERE cases.history_count <= EXCLUDED.history_count RETURNING 1"
            )
        elif name in _ENTRY_TABLES:
            body = f"{_postgresql_insert_new_sql(name, keys, columns)} RETURNING 1"
        else:
            # A table of keys alone would have nothing to change.
            update = f"DO UPDATE SET {changed}" if changed else "DO NOTHING"
            body = (
                f"INSERT INTO {name} ({listed}) {source} WHERE EXISTS (SELECT FROM written_cases) "
                f"{conflict} {update}"
            )
        queries.append(f"written_{name} AS ({body})")
    written = {name for name, _, _ in shape}
    counts = ", ".join(
        f"(SELECT count(*) FROM written_{name})" if name in written else "0"
        for name in ("cases", *_ENTRY_TABLES)
    )
    return f"WITH {', '.join(queries)} SELECT {counts}"


def _record_snapshot_postgresql(session: Session, snap: CaseSnapshot) -> Recorded:
    """`record_snapshot` on PostgreSQL: `_postgresql_record_sql`, through psycopg itself."""
    tables: list[tuple[str, tuple[str, ...], list[dict[str, Any]]]] = [
        ("cases", ("case_ref",), list(sealing.seal_rows("cases", _values([snap.case]))))
    ]
    rows = _snapshot_rows(snap)
    for name, keys in _CASE_ROWS:
        if rows[name]:
            # One row a key, the last (as the upserts one by one did): an upsert of a WITH
            # query refuses to change a row twice.
            last = {tuple(row[k] for k in keys): row for row in rows[name]}
            tables.append((name, keys, list(sealing.seal_rows(name, list(last.values())))))
    for name, keys in _ENTRIES:
        if rows[name]:
            tables.append((name, keys, list(sealing.seal_rows(name, rows[name]))))
    sql = _postgresql_record_sql(tuple((n, k, tuple(v[0])) for n, k, v in tables))
    params = [json.dumps(v, default=_json_value, ensure_ascii=False) for _, _, v in tables]
    with _driver(session).cursor() as cursor:
        cursor.execute(sql, params)
        counts = cursor.fetchone()
    assert counts is not None  # the final SELECT makes exactly one row
    cases, history_added, decisions_added = counts
    return Recorded(
        case_ref=snap.case.case_ref,
        current=cases == 1,
        history_added=int(history_added),
        decisions_added=int(decisions_added),
    )


def history_count(session: Session, case_ref: str) -> int:
    """How many history entries of the case the register holds."""
    target = table("history")
    found = session.execute(
        select(func.count()).select_from(target).where(target.c.case_ref == case_ref)
    ).scalar_one()
    return int(found)


# --------------------------------------------------------------------------- escalations


@cache
def _escalation_statement(dialect: str) -> Any:
    target = table("escalations")
    stmt = _insert(dialect, target)
    return stmt.on_conflict_do_update(
        index_elements=["escalation_ref"],
        set_={c.name: stmt.excluded[c.name] for c in target.columns if c.name != "escalation_ref"},
        where=target.c.history_count <= stmt.excluded.history_count,
    ).returning(target.c.escalation_ref)


def record_escalation(session: Session, snap: EscalationSnapshot) -> bool:
    """Issue 13, item 12: write an escalation's row and its stages, idempotently, only if the
    snapshot is at least as new as the row it replaces; True if it was. The caller commits."""
    (values,) = _values([snap.escalation])
    current = session.execute(_escalation_statement(_dialect(session)), values).first() is not None
    if current:
        _upsert(session, "escalation_stages", ["escalation_ref", "stage"], _values(snap.stages))
    return current


# --------------------------------------------------------------------------- learning outputs


def add_learning_output(
    session: Session,
    *,
    kind: str,
    title: str,
    produced_on: date,
    case_ref: str | None = None,
    partnership: str | None = None,
    recorded_by: str | None = None,
) -> bool:
    """Record a 7-minute briefing or a training produced; False if it was recorded before."""
    if kind not in LEARNING_KINDS:
        raise ValueError(f"kind must be one of {', '.join(LEARNING_KINDS)}")
    if partnership is None and case_ref:
        cases = table("cases")
        partnership = session.execute(
            select(cases.c.partnership).where(cases.c.case_ref == case_ref)
        ).scalar_one_or_none()
    outputs = table("learning_outputs")
    # The title is sealed; its keyed hash is the key. A hash made before a key rotation is
    # under the old key: look for the title under every key of the ring.
    recorded = session.execute(
        select(func.count())
        .select_from(outputs)
        .where(
            outputs.c.kind == kind,
            outputs.c.title_key.in_(sealing.lookups("learning_outputs", "title", title)),
            outputs.c.case_ref == (case_ref or ""),
            outputs.c.produced_on == produced_on,
        )
    ).scalar_one()
    if recorded:
        return False
    values = {
        "kind": kind,
        "title": title,
        "case_ref": case_ref or "",
        "produced_on": produced_on,
        "partnership": partnership,
        "recorded_by": recorded_by,
    }
    keys = ["kind", "title_key", "case_ref", "produced_on"]
    return _insert_new(session, "learning_outputs", keys, [values]) == 1


# --------------------------------------------------------------------------- reading


def rows(session: Session, name: str, *where: Any) -> list[dict[str, Any]]:
    """Every row of a table as plain dicts, in primary-key order, personal text opened. (A
    condition on a sealed column compares the sealed token: filter those after reading.)"""
    target = table(name)
    stmt = select(target)
    if where:
        stmt = stmt.where(and_(*where))
    stmt = stmt.order_by(*target.primary_key.columns)
    return sealing.open_rows(name, (r._mapping for r in session.execute(stmt)))


def counts(session: Session) -> dict[str, int]:
    """Rows in each table."""
    found = {}
    for name in (*models.PROJECTED_TABLES, "learning_outputs", *models.ESCALATION_TABLES):
        found[name] = int(
            session.execute(select(func.count()).select_from(table(name))).scalar_one()
        )
    return found
