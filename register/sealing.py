"""The register's personal free text, sealed at rest (issue 14; DATA-PROTECTION.md section 1).

`SEALED` names the columns that hold people's words: a copy of `register.db` or a PostgreSQL
dump holds them only as sealed tokens (`security/sealing.py`: AES-256-GCM with the key ring the
payload codec uses, bound to the table, the column and the row's primary key, so a value moved
to another row does not open). Reports and searches on the other columns (codes, dates, counts,
agencies, professionals' names) work in SQL as before.

Where it happens, so that no caller seals by hand:

- **writes**: `register/crud.py` seals every row it inserts or upserts (`seal_rows`), at the two
  statements every write goes through; an ORM write of a watched model is sealed on flush.
- **reads**: an ORM read of a watched model (`select(DecisionRecord)`, `session.get`) opens on
  load (`watch`, from `register/models.py`); a Core read opens with `open_rows` / `open_tuples`
  (`crud.rows`, the reports' plain-row readers).

Why not a SQLAlchemy TypeDecorator: a type sees one value, never its row, so it could not bind
the case and the row to the ciphertext. Row-level hooks can, at the cost of the Core readers
calling `open_*` (three of them).

A value that is not a sealed token (a row written before migration 0010 sealed the register, or
a disposal's marker `disposed: personal data`) is read as it is. The key ring comes from the
configuration every process that reads or writes the register already has for the codec
(`SRO_CODEC_KEYS`, `SRO_CODEC_KEYS_FILE` or the local key file): the worker, the console, `sro`
and the codec server. A process without it can still read the rows' other columns; sealing or
opening then fails with `SealError` (never a silent plaintext write).

A learning output's title is part of its natural key (adding the same output again is a no-op):
a sealed value differs every time, so the key holds `title_key`, a keyed hash of the title
(`LOOKUPS`), and the title itself is sealed beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, event, select, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel

from config import SettingsError
from config.environment import values_now
from safeguarding.case_records import HistoryEntry
from safeguarding.case_views import Action, LearningOutputRecord
from safeguarding.personal import personal_fields
from safeguarding.projection import ActionRow, HistoryRow, LearningRow
from security.keys import KeyError_, key_ring_from_env
from security.sealing import Sealer, SealError, is_sealed

_ROW_KEYS = {"case_ref", "action_id", "learning_id", "seq"}


def _classified(model: Any, row: Any) -> tuple[str, ...]:
    """The row's columns `safeguarding.personal` classes as personal in the domain model."""
    return tuple(sorted((personal_fields(model) & set(row.model_fields)) - _ROW_KEYS))


#: Table -> its sealed columns. From `safeguarding.personal` where a domain model maps onto the
#: table; the decisions' `what` and `why` are their history entries' `text` and `why`.
SEALED: dict[str, tuple[str, ...]] = {
    "cases": ("notified_outside_criteria",),  # the one free text of the case (a reason)
    "decisions": ("what", "why"),
    "history": _classified(HistoryEntry, HistoryRow),
    "actions": _classified(Action, ActionRow),
    "case_learning": _classified(LearningOutputRecord, LearningRow),
    "learning_outputs": ("title",),
}
#: Table -> {lookup column: the sealed column it is a keyed hash of}.
LOOKUPS: dict[str, dict[str, str]] = {"learning_outputs": {"title_key": "title"}}


# --------------------------------------------------------------------------- the key ring


def sealer() -> Sealer:
    """The process's sealer, for the key ring configured now (built once per configuration)."""
    # Keyed by the variables the ring is read from, not by `settings()`: reading the settings
    # costs about 45 us, and this runs for every row a reader opens.
    key = values_now("codec_keys", "codec_key_id", "codec_keys_file", "data_dir")
    found = _sealers.get(key)
    if found is None:
        try:
            found = Sealer(key_ring_from_env())
        except (KeyError_, SettingsError) as err:
            raise SealError(
                f"the register's free text is sealed with the key ring: {err}"
            ) from None
        if len(_sealers) >= 8:
            _sealers.clear()
        _sealers[key] = found
    return found


_sealers: dict[tuple[str | None, ...], Sealer] = {}


# --------------------------------------------------------------------------- rows


@cache
def primary_key(table: str) -> tuple[str, ...]:
    return tuple(c.name for c in SQLModel.metadata.tables[table].primary_key.columns)


def _part(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def context(table: str, column: str, row: Mapping[str, Any]) -> bytes:
    """What a value is bound to: its table, column and row (the primary key's values)."""
    parts = [f"{table}.{column}", *(_part(row[k]) for k in primary_key(table))]
    return "\x00".join(parts).encode()


def seal_rows(table: str, rows: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """The rows with their personal columns sealed and their lookups filled (new dicts; the
    rows as given for a table with nothing sealed)."""
    columns = SEALED.get(table)
    if not columns or not rows:
        return rows
    with_sealer = sealer()
    lookups = LOOKUPS.get(table, {})
    done = []
    for row in rows:
        row = dict(row)
        for lookup, source in lookups.items():
            if not is_sealed(row[source]):
                row[lookup] = with_sealer.lookup(row[source], f"{table}.{source}".encode())
        for column in columns:
            value = row.get(column)
            if isinstance(value, str) and not is_sealed(value):
                row[column] = with_sealer.seal(value, context(table, column, row))
        done.append(row)
    return done


def lookups(table: str, column: str, text: str) -> list[str]:
    """The keyed hashes a lookup column may hold for `text` (one per key of the ring)."""
    return sealer().lookups(text, f"{table}.{column}".encode())


def open_value(
    table: str, column: str, value: Any, row: Mapping[str, Any], with_sealer: Sealer | None = None
) -> Any:
    if not is_sealed(value):
        return value
    try:
        return (with_sealer or sealer()).open(value, context(table, column, row))
    except SealError as err:
        where = ", ".join(f"{k}={row[k]}" for k in primary_key(table))
        raise SealError(f"{table}.{column} of {where}: {err}") from None


def open_rows(table: str, rows: Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """Rows read with every column (or at least the primary key), their sealed values opened."""
    columns = SEALED.get(table, ())
    opened = []
    with_sealer = None
    for row in rows:
        found = dict(row)
        for column in columns:
            if is_sealed(found.get(column)):
                with_sealer = with_sealer or sealer()
                found[column] = open_value(table, column, found[column], found, with_sealer)
        opened.append(found)
    return opened


def read_columns(table: str, names: Sequence[str]) -> tuple[str, ...]:
    """The columns to read for `names` so their sealed values can be opened: `names` and, if
    one of them is sealed, the primary-key columns not among them, after them."""
    if not set(names) & set(SEALED.get(table, ())):
        return tuple(names)
    return (*names, *(k for k in primary_key(table) if k not in names))


def open_tuples(
    table: str, names: Sequence[str], rows: Iterable[Sequence[Any]], keep: int | None = None
) -> list[tuple[Any, ...]]:
    """Plain rows of the columns `names` (from `read_columns`), their sealed values opened,
    each cut to its first `keep` values (the columns asked for)."""
    sealed = [(i, n) for i, n in enumerate(names) if n in SEALED.get(table, ())]
    if not sealed:
        return [tuple(r)[:keep] for r in rows]
    opened = []
    with_sealer = None
    for row in rows:
        values = list(row)
        named = dict(zip(names, values, strict=True))
        for i, name in sealed:
            if is_sealed(values[i]):
                with_sealer = with_sealer or sealer()
                values[i] = open_value(table, name, values[i], named, with_sealer)
        opened.append(tuple(values[:keep]))
    return opened


# --------------------------------------------------------------------------- rows already held


def seal_held(
    connection: Connection, table: str, columns: Sequence[str], *, unseal: bool = False
) -> int:
    """Seal the values of `columns` that are not sealed yet (a register written before sealing:
    migration 0010), or with `unseal` open every sealed one (its downgrade); returns how many
    rows changed. The ring is needed only when there is something to do."""
    keys = primary_key(table)
    t = sa_table(table, *(sa_column(n) for n in {*keys, *columns}))
    pending = []
    for found in connection.execute(select(*(t.c[n] for n in (*keys, *columns)))):
        row = dict(found._mapping)
        todo = [n for n in columns if isinstance(row[n], str) and is_sealed(row[n]) == unseal]
        if todo:
            pending.append({**row, **({n: open_value(table, n, row[n], row) for n in todo})})
    if not pending:
        return 0
    changed = pending if unseal else seal_rows(table, pending)
    statement = (
        update(t)
        .where(*(t.c[k] == bindparam(f"key_{k}") for k in keys))
        .values({n: bindparam(f"new_{n}") for n in columns})
    )
    connection.execute(
        statement,
        [
            {**{f"key_{k}": r[k] for k in keys}, **{f"new_{n}": r[n] for n in columns}}
            for r in changed
        ],
    )
    return len(changed)


# --------------------------------------------------------------------------- the ORM


def watch(*models: type[SQLModel]) -> None:
    """Seal on flush and open on load every instance of these models (their sealed columns)."""
    for model in models:
        if SEALED.get(str(model.__tablename__)):
            event.listen(model, "load", _opened)
            event.listen(model, "refresh", _refreshed)
            event.listen(model, "before_insert", _seal_instance)
            event.listen(model, "before_update", _seal_instance)
            event.listen(model, "after_insert", _open_instance)
            event.listen(model, "after_update", _open_instance)


def _table(instance: Any) -> str:
    return str(type(instance).__tablename__)


def _open_in_place(instance: Any) -> None:
    table = _table(instance)
    state = instance.__dict__
    for column in SEALED[table]:
        if is_sealed(state.get(column)):
            row = {k: state.get(k) for k in primary_key(table)}
            # As if read so: the instance is not marked changed, so nothing is written back.
            set_committed_value(instance, column, open_value(table, column, state[column], row))


def _opened(instance: Any, _context: Any) -> None:
    _open_in_place(instance)


def _refreshed(instance: Any, _context: Any, _attrs: Any) -> None:
    _open_in_place(instance)


def _seal_instance(_mapper: Any, _connection: Any, instance: Any) -> None:
    table = _table(instance)
    names = {*primary_key(table), *SEALED[table], *LOOKUPS.get(table, {}).values()}
    (row,) = seal_rows(table, [{n: getattr(instance, n) for n in names}])
    for name in (*SEALED[table], *LOOKUPS.get(table, {})):
        if row.get(name) != getattr(instance, name, None):
            setattr(instance, name, row[name])


def _open_instance(_mapper: Any, _connection: Any, instance: Any) -> None:
    _open_in_place(instance)


__all__ = [
    "LOOKUPS",
    "SEALED",
    "context",
    "lookups",
    "open_rows",
    "open_tuples",
    "open_value",
    "read_columns",
    "seal_held",
    "seal_rows",
    "sealer",
    "watch",
]
