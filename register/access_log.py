"""The access log: every view of a case's personal data, in the register (issue 14).

Written by the console (a case's page, its action plan), `sro status` and the codec server (the
Temporal Web UI's decodes); read by the console's access-log page (business managers) and
`sro register access-log`. A row says who (the account, role and agency as the interface knows
them), when, which case, which kind of data and where; never the child's personal data.

Writing is **fail-closed** for the caller: `record` returns False (and logs why) when the row
cannot be written, and the caller then withholds the personal data rather than show it
unrecorded (DATA-PROTECTION.md says why). It never raises.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from sqlmodel import col, select

from register import access_write, db
from register.access_write import FREE_TEXT, PAYLOADS, REFERRAL, SUBJECT_ACCESS, Viewer
from register.models import AccessRecord

__all__ = [
    "COLUMNS",
    "FREE_TEXT",
    "PAYLOADS",
    "REFERRAL",
    "SUBJECT_ACCESS",
    "Viewer",
    "as_dicts",
    "entries",
    "record",
    "to_csv",
    "to_json",
]

log = logging.getLogger("register.access_log")

#: Columns of the export, in order.
COLUMNS = ("at", "case_ref", "username", "role", "agency", "via", "data", "what")


def record(
    viewer: Viewer,
    case_refs: Iterable[str | None],
    *,
    via: str,
    data: Sequence[str],
    what: str,
    url: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> bool:
    """Record one view per case; True once written. False (logged, never raised) when the
    register cannot take it: the caller must then withhold the personal data."""
    rows = [
        AccessRecord(
            at=at, case_ref=ref, username=user, role=role, agency=agency, via=v, data=d, what=w
        )
        for at, ref, user, role, agency, v, d, w in access_write.rows(
            viewer, case_refs, via=via, data=data, what=what, at=now()
        )
    ]
    try:
        db.ensure_schema(url)
        with db.session(url) as s:
            s.add_all(rows)
    except Exception:
        log.exception(
            "access log not written (%s by %s via %s): personal data withheld",
            what,
            viewer.username,
            via,
        )
        return False
    return True


def entries(case_ref: str, *, url: str | None = None) -> list[AccessRecord]:
    """A case's access log, oldest first (times in UTC, timezone-aware)."""
    db.ensure_schema(url)
    with db.session(url) as s:
        query = (
            select(AccessRecord)
            .where(AccessRecord.case_ref == case_ref)
            .order_by(col(AccessRecord.at), col(AccessRecord.id))
        )
        rows = list(s.exec(query).all())
    for row in rows:  # detached: read as UTC, not as the machine's local time
        row.at = row.at.replace(tzinfo=UTC)
    return rows


def as_dicts(rows: Iterable[AccessRecord]) -> list[dict[str, str | None]]:
    return [
        {
            "at": row.at.astimezone(UTC).isoformat(),
            "case_ref": row.case_ref,
            "username": row.username,
            "role": row.role,
            "agency": row.agency,
            "via": row.via,
            "data": row.data,
            "what": row.what,
        }
        for row in rows
    ]


def to_json(rows: Iterable[AccessRecord]) -> str:
    return json.dumps(as_dicts(rows), indent=2)


def to_csv(rows: Iterable[AccessRecord]) -> str:
    """CSV with text a spreadsheet would run as a formula escaped (README: reports)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in as_dicts(rows):
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def _cell(value: str | None) -> str:
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
