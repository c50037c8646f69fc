"""Where the register lives and how its schema gets to the newest migration.

DATABASE_URL names the database: `postgresql://user:pass@host/db` (psycopg 3) or
`sqlite:///path/register.db`. Without it: SQLite in the data folder,
`$SRO_DATA_DIR/register.db` (default `data/register.db`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from config import settings
from register.sqlite_locks import SQLITE_WAIT, when_unlocked

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_at_head: set[str] = set()
_lock = threading.Lock()
_upgrade_lock = threading.Lock()


def database_url(url: str | None = None) -> str:
    """The register's SQLAlchemy URL: the argument, else DATABASE_URL, else SQLite in the data
    folder. `postgres://` and `postgresql://` are read as PostgreSQL through psycopg 3."""
    url = url or settings().database_url or ""
    if not url:
        return f"sqlite:///{settings().data_dir / 'register.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def describe(url: str | None = None) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(database_url(url)).render_as_string(hide_password=True)


def engine(url: str | None = None) -> Engine:
    """One engine per URL per process (thread-safe; engines pool their connections)."""
    resolved = database_url(url)
    with _lock:
        found = _engines.get(resolved)
        if found is None:
            found = _create(resolved)
            _engines[resolved] = found
        return found


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # No pre-ping: a file does not drop connections, and the ping cost a query per write.
        created = create_engine(
            url, connect_args={"timeout": SQLITE_WAIT, "check_same_thread": False}
        )
        event.listen(created, "connect", _sqlite_pragmas)
        return created
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


#: How often the switch to WAL below is tried while another connection holds a lock.
_WAL_RETRY = 0.005


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_WAIT * 1000)}")
    _into_wal(cursor)  # readers (reports) never block the writer
    cursor.close()


def _into_wal(cursor: Any) -> None:
    """Put the register in WAL mode (it stays so: later connections only read the mode).
    Switching needs the file to itself, and SQLite refuses at once, without its busy wait,
    while another connection holds a lock: on a new register that a first case's key and the
    worker open together. So the switch is tried again in short steps for `SQLITE_WAIT`."""
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        when_unlocked(lambda: cursor.execute("PRAGMA journal_mode=WAL"), SQLITE_WAIT, _WAL_RETRY)


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with Session(engine(url), expire_on_commit=False) as s, s.begin():
        yield s


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str | None = None) -> str | None:
    with engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Run the migrations up to `revision`; returns the revision the register is then at."""
    config = alembic_config(url)
    with engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(url)


def ensure_schema(url: str | None = None) -> None:
    """Bring the register to the newest migration, once per process and database."""
    resolved = database_url(url)
    if resolved in _at_head:
        return
    with _upgrade_lock:
        if resolved in _at_head:
            return
        if current_revision(resolved) != head_revision():
            upgrade(resolved)
        _at_head.add(resolved)


def forget(url: str | None = None) -> None:
    """Drop the cached engine and schema check (tests that recreate a database)."""
    resolved = database_url(url)
    with _lock:
        found = _engines.pop(resolved, None)
        _at_head.discard(resolved)
    if found is not None:
        found.dispose()
