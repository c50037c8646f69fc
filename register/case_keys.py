"""The register's `case_keys` table (migration 0009), read and written without the ORM: the
codec of every process (worker, console, codec server, `sro`) meets it on the hot path, and
`sro status` must not load SQLAlchemy for it. SQLite through the standard library, PostgreSQL
through psycopg 3 (DATABASE_URL read as `register.access_write` reads it).

A row holds a case's data key *wrapped* (sealed) by the key ring, never in clear: the wrapping
is `security.case_keys`'s. `wrapped` NULL is a tombstone: the key was destroyed by a disposal
run (crypto-shredding, DATA-PROTECTION.md section 5), and it stays so the codec can answer
"disposed" rather than "unknown key". Rows are cached in the process for `TTL` seconds (a
tombstone too), at most `MAX_CACHED`; a key destroyed in this process is forgotten at once.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from register.access_write import _target
from register.sqlite_locks import SQLITE_WAIT, when_unlocked

_T = TypeVar("_T")

#: How long a row read from the register is trusted (a key destroyed by another process is
#: still usable here for at most this long).
TTL = 300.0
MAX_CACHED = 4096
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a naive DateTime on SQLite

_COLUMNS = "key_id, wrapped, wrapped_by, created_at, destroyed_at, destroyed_by_run"
_SELECT_KEY = f"SELECT {_COLUMNS} FROM case_keys WHERE key_id = ?"


@dataclass(frozen=True)
class CaseKeyRow:
    key_id: str
    #: The data key sealed by the ring key `wrapped_by` (None: destroyed).
    wrapped: bytes | None
    wrapped_by: str
    created_at: datetime
    destroyed_at: datetime | None = None
    destroyed_by_run: str | None = None


class NewRow(Protocol):
    @property
    def key_id(self) -> str: ...
    @property
    def wrapped(self) -> bytes | None: ...
    @property
    def wrapped_by(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


@lru_cache(maxsize=4096)  # the codec asks for every payload of a case
def key_id(case_ref: str) -> str:
    """`ck-` and the first 16 hex digits of SHA-256 of the reference: the table is not a list
    of cases."""
    return "ck-" + hashlib.sha256(case_ref.encode()).hexdigest()[:16]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class _Cache:
    def __init__(self) -> None:
        self._rows: OrderedDict[tuple[str, str], tuple[float, CaseKeyRow]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, where: str, found: str, *, stale: bool = False) -> CaseKeyRow | None:
        """A row read lately; with `stale`, one read at any time (the register is down)."""
        entry = self._rows.get((where, found))  # a dict read needs no lock
        if entry is None or (entry[0] < time.monotonic() and not stale):
            return None
        return entry[1]

    def put(self, where: str, row: CaseKeyRow) -> None:
        with self._lock:
            self._rows[(where, row.key_id)] = (time.monotonic() + TTL, row)
            self._rows.move_to_end((where, row.key_id))
            while len(self._rows) > MAX_CACHED:
                self._rows.popitem(last=False)

    def forget(self, found: str | None = None) -> None:
        with self._lock:
            for cached in [k for k in self._rows if found is None or k[1] == found]:
                del self._rows[cached]


_cache = _Cache()


def forget(found: str | None = None) -> None:
    """Drop a key's row (every key's, with None) from this process's cache."""
    _cache.forget(found)


_targets: dict[tuple[str | None, ...], tuple[str, str]] = {}


def _where(url: str | None) -> tuple[str, str]:
    """`_target`, remembered by the two variables it depends on: reading every setting costs
    tens of microseconds, and the codec asks per payload."""
    if url is not None:
        return _target(url)
    from config.environment import values_now  # loaded already: the codec read the ring

    variables = values_now("database_url", "data_dir")
    found = _targets.get(variables)
    if found is None:
        found = _targets[variables] = _target(None)
    return found


class SqlCaseKeyStore:
    """The store `security.case_keys.CaseKeys` reads and writes (its `CaseKeyStore`)."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url

    def key_id(self, case_ref: str) -> str:
        return key_id(case_ref)

    def cached(self, found: str) -> CaseKeyRow | None:
        """The row of a key if this process read it lately (no I/O)."""
        return _cache.get(_where(self._url)[1], found)

    def fetch(self, found: str) -> CaseKeyRow | None:
        """The row of a key (cached), or None if there is none (nor any register or table
        yet: a first key creates them). A register that cannot be reached raises."""
        kind, target = _where(self._url)
        cached = _cache.get(target, found)
        if cached is not None:
            return cached
        if kind == "sqlite" and not Path(target).is_file():
            return None

        def read() -> tuple[Any, ...] | None:
            with _connect(kind, target) as cursor:
                cursor.execute(_sql(kind, _SELECT_KEY), (found,))
                fetched: tuple[Any, ...] | None = cursor.fetchone()
                return fetched

        try:
            raw = _once_more_if_dropped(kind, target, read)
        except (sqlite3.OperationalError, _undefined_table()) as err:
            if "case_keys" not in str(err):
                return _stale(target, found, err)
            return None
        except Exception as err:
            return _stale(target, found, err)
        if raw is None:
            return None
        row = _row(raw)
        _cache.put(target, row)
        return row

    def insert_if_absent(self, row: NewRow) -> CaseKeyRow:
        """Insert the row unless the key exists; returns the row that is there (a lost race
        reads the winner's key back; a tombstone stays a tombstone). One transaction."""
        kind, target = _where(self._url)
        try:
            raw = _once_more_if_dropped(kind, target, lambda: self._insert(kind, target, row))
        except (sqlite3.OperationalError, _undefined_table()) as err:
            if "case_keys" not in str(err):
                raise
            # A register not migrated yet (a first run, a test's scratch file): bring it up.
            from register import db

            db.ensure_schema(self._url)
            raw = self._insert(kind, target, row)
        found = _row(raw)
        _cache.put(target, found)
        return found

    def _insert(self, kind: str, target: str, row: NewRow) -> tuple[Any, ...]:
        values = (row.key_id, row.wrapped, row.wrapped_by, _time(kind, row.created_at))
        insert = (
            "INSERT INTO case_keys (key_id, wrapped, wrapped_by, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (key_id) DO NOTHING"
        )
        with _connect(kind, target, create=True, write=True) as cursor:
            cursor.execute(_sql(kind, insert), values)
            cursor.execute(_sql(kind, _SELECT_KEY), (row.key_id,))
            raw: tuple[Any, ...] | None = cursor.fetchone()
        assert raw is not None
        return raw

    def rows(self) -> list[CaseKeyRow]:
        """Every key, tombstones included (for rotation)."""
        kind, target = _where(self._url)
        with _connect(kind, target) as cursor:
            cursor.execute(f"SELECT {_COLUMNS} FROM case_keys ORDER BY key_id")
            return [_row(raw) for raw in cursor.fetchall()]

    def rewrap(self, found: str, wrapped: bytes, wrapped_by: str, was: bytes) -> bool:
        """Replace a live key's wrapping, if it is still `was` (never a destroyed one)."""
        kind, target = _where(self._url)
        update = "UPDATE case_keys SET wrapped = ?, wrapped_by = ? WHERE key_id = ? AND wrapped = ?"
        with _connect(kind, target) as cursor:
            cursor.execute(_sql(kind, update), (wrapped, wrapped_by, found, was))
            changed = bool(cursor.rowcount == 1)
        _cache.forget(found)
        return changed


def _stale(target: str, found: str, err: Exception) -> CaseKeyRow:
    """While the register is down, a row this process read before is still used (a case goes
    on through an outage longer than `TTL`); with none, the error stands."""
    row = _cache.get(target, found, stale=True)
    if row is None:
        raise err
    return row


def _sql(kind: str, statement: str) -> str:
    return statement if kind == "sqlite" else statement.replace("?", "%s")


def _time(kind: str, at: datetime) -> Any:
    return at.strftime(_SQLITE_TIME) if kind == "sqlite" else at


def _parse_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _row(raw: tuple[Any, ...]) -> CaseKeyRow:
    created = _parse_time(raw[3])
    assert created is not None
    return CaseKeyRow(
        key_id=raw[0],
        wrapped=bytes(raw[1]) if raw[1] is not None else None,
        wrapped_by=raw[2],
        created_at=created,
        destroyed_at=_parse_time(raw[4]),
        destroyed_by_run=raw[5],
    )


def _undefined_table() -> type[Exception]:
    try:
        import psycopg.errors

        return psycopg.errors.UndefinedTable
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return sqlite3.OperationalError


#: A writer waiting for SQLite's lock sleeps this long between tries. SQLite's own busy
#: handler backs off to 100 ms sleeps: a new case's key waited 75 ms on average behind the
#: register's writes (BENCHMARKS.md, issue 16 round 4) for a lock held a few milliseconds.
_SQLITE_RETRY_SLEEP = 0.002
#: How long any statement waits for a lock before it fails (a name of its own: tests shorten it).
_SQLITE_WAIT = SQLITE_WAIT
#: Connections a thread keeps open to each kind of register (one per register it reads): on
#: PostgreSQL opening one per key read cost the database server a new backend process each
#: time; on SQLite it read the whole schema again.
MAX_KEPT_CONNECTIONS = 4


class _Kept(threading.local):
    def __init__(self) -> None:
        self.connections: OrderedDict[str, Any] = OrderedDict()
        #: SQLite: (the file's device and inode when opened, the connection), by path.
        self.sqlite: OrderedDict[str, tuple[tuple[int, int], sqlite3.Connection]] = OrderedDict()


_kept = _Kept()


@contextmanager
def _connect(kind: str, target: str, *, create: bool = False, write: bool = False) -> Iterator[Any]:
    """A cursor whose work is committed when it closes. A missing SQLite register is an error
    unless `create` (a first key is written before the worker's first projection). `write`: one
    transaction, which on SQLite takes the write lock at once, waiting in short steps for it.
    Otherwise, on PostgreSQL, each statement is a transaction of its own on the autocommit
    connection (every other use is one statement): a key read is one round trip, not three."""
    if kind == "sqlite":
        try:
            identity = _file_identity(target)
        except FileNotFoundError:
            if not create:
                raise FileNotFoundError(
                    f"no register at {target}: run `sro register upgrade`"
                ) from None
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            identity = None  # connecting creates it
        with _sqlite(target, identity, write) as connection:
            if write:
                _begin_immediate(connection)
            with connection:
                yield connection.cursor()
        return
    with (
        _postgresql(target) as connection,
        connection.transaction() if write else nullcontext(),
        connection.cursor() as cursor,
    ):
        yield cursor


def _file_identity(target: str) -> tuple[int, int]:
    found = Path(target).stat()
    return found.st_dev, found.st_ino


@contextmanager
def _sqlite(target: str, identity: tuple[int, int] | None, write: bool) -> Iterator[Any]:
    """This thread's kept connection to the register file, else a new one. A new connection
    reads the register's whole schema before its first statement (about 0.45 ms of CPU, against
    5 us for a read on a kept one: issue 16), and a client opened two a case. Kept only while
    the file is the one it opened (a register replaced at the same path gets a new connection)
    and after a clean use."""
    kept = _kept.sqlite
    held = kept.pop(target, None)
    if held is not None and held[0] != identity:
        held[1].close()
        held = None
    connection = held[1] if held is not None else sqlite3.connect(target, timeout=_SQLITE_WAIT)
    healthy = False
    try:
        # Writers wait in short steps of their own (`_begin_immediate`); readers on SQLite's.
        wait_ms = 0 if write else int(_SQLITE_WAIT * 1000)
        connection.execute(f"PRAGMA busy_timeout = {wait_ms}")
        yield connection
        healthy = not connection.in_transaction
    finally:
        if healthy:
            kept[target] = (identity or _file_identity(target), connection)
            while len(kept) > MAX_KEPT_CONNECTIONS:
                kept.popitem(last=False)[1][1].close()
        else:
            connection.close()


def _begin_immediate(connection: sqlite3.Connection) -> None:
    """Take the write lock, trying again every `_SQLITE_RETRY_SLEEP` for `_SQLITE_WAIT`."""
    when_unlocked(lambda: connection.execute("BEGIN IMMEDIATE"), _SQLITE_WAIT, _SQLITE_RETRY_SLEEP)


@contextmanager
def _postgresql(target: str) -> Iterator[Any]:
    """This thread's kept connection to the register, else a new one. One that fails with a
    connection error is closed (the register restarted, say): the next use connects afresh."""
    import psycopg

    kept = _kept.connections
    connection = kept.pop(target, None)
    if connection is None or connection.closed:
        connection = psycopg.connect(target, autocommit=True)
    healthy = False  # kept only after a clean use or a statement's own error
    try:
        yield connection
        healthy = True
    except psycopg.Error as err:
        healthy = not isinstance(err, psycopg.OperationalError) and not connection.broken
        raise
    finally:
        if healthy and not connection.closed:
            kept[target] = connection  # the most recently used last
            while len(kept) > MAX_KEPT_CONNECTIONS:
                kept.popitem(last=False)[1].close()
        else:
            connection.close()


def _once_more_if_dropped(kind: str, target: str, read: Callable[[], _T]) -> _T:
    """`read()` (an idempotent statement: a key read, an insert that does nothing if the key
    is there), tried once more on a fresh connection if a kept PostgreSQL connection had been
    dropped (a register restarted since this thread last used it)."""
    if kind == "sqlite" or target not in _kept.connections:
        return read()
    import psycopg

    try:
        return read()
    except psycopg.OperationalError:
        return read()


def disposed_of(case_ref: str, url: str | None = None) -> str | None:
    """ "This case's personal data has been disposed of (when, which run)" if its key is
    destroyed, else None (also when the register cannot say)."""
    forget(key_id(case_ref))  # destroyed by another process a moment ago, maybe
    try:
        row = SqlCaseKeyStore(url).fetch(key_id(case_ref))
    except Exception:  # the question is asked after another failure: do not hide that one
        return None
    if row is None or row.wrapped is not None:
        return None
    when = f" on {row.destroyed_at:%Y-%m-%d}" if row.destroyed_at else ""
    return (
        f"{case_ref}: this case's personal data has been disposed of{when} (disposal run "
        f"{row.destroyed_by_run}, rule personal_data); its history can no longer be read"
    )
