"""Writing access-log rows without the ORM, for `sro status` (typed dozens of times a day: it
must not load SQLAlchemy and Alembic to say who looked). The table is `register.models.
AccessRecord`'s (migration 0006); `register.access_log` reads it and writes it for the console and
the codec server. SQLite through the standard library, PostgreSQL through psycopg 3.

A register that does not exist yet, or has not been migrated, is an error here (never created
empty): the caller withholds the personal data and says to run `sro register upgrade`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from config import settings

#: Kinds of data a view may show.
REFERRAL = "referral"  # the child's details, the summary, the referrer
FREE_TEXT = "free_text"  # notes, reasons, findings, evidence, action descriptions
PAYLOADS = "payloads"  # decrypted workflow payloads (anything the case holds)
SUBJECT_ACCESS = "subject_access"  # a subject access export or search (everything held)

_INSERT = (
    "INSERT INTO access_log (at, case_ref, username, role, agency, via, data, what) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as the interface knows them."""

    username: str
    role: str | None = None
    agency: str | None = None


Row = tuple[datetime, str | None, str, str | None, str | None, str, str, str]


def rows(
    viewer: Viewer,
    case_refs: Iterable[str | None],
    *,
    via: str,
    data: Sequence[str],
    what: str,
    at: datetime,
) -> list[Row]:
    """The rows of one view (one per case), as naive UTC, every column cut to its width."""
    at = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
    return [
        (
            at,
            ref,
            viewer.username[:80],
            viewer.role[:40] if viewer.role else None,
            viewer.agency[:40] if viewer.agency else None,
            via[:20],
            ",".join(data)[:200],
            what[:200],
        )
        for ref in dict.fromkeys(case_refs)
    ]


def insert(new: list[Row], url: str | None = None) -> None:
    """Insert the rows (raises on any failure)."""
    kind, target = _target(url)
    if kind == "sqlite":
        if not Path(target).is_file():
            raise FileNotFoundError(f"no register at {target}: run `sro register upgrade`")
        # The format SQLAlchemy stores a naive DateTime in on SQLite.
        flat = [(r[0].strftime("%Y-%m-%d %H:%M:%S.%f"), *r[1:]) for r in new]
        with closing(sqlite3.connect(target, timeout=30)) as connection, connection:
            connection.executemany(_INSERT, flat)
        return
    import psycopg

    with psycopg.connect(target) as pg, pg.cursor() as cursor:
        cursor.executemany(_INSERT.replace("?", "%s"), new)


def _target(url: str | None) -> tuple[str, str]:
    """("sqlite", path) or ("postgresql", a libpq URL), as `register.db.database_url` reads
    DATABASE_URL."""
    url = url or settings().database_url or ""
    if not url:
        return "sqlite", str(settings().data_dir / "register.db")
    if url.startswith("sqlite:///"):
        return "sqlite", url.removeprefix("sqlite:///")
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql", "postgresql://" + url.removeprefix(prefix)
    raise ValueError("DATABASE_URL is neither sqlite:/// nor postgresql://")
