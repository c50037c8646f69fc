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
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import col, select

from register import db
from register.models import AccessRecord

log = logging.getLogger("register.access_log")

#: Kinds of data a view may show.
REFERRAL = "referral"  # the child's details, the summary, the referrer
FREE_TEXT = "free_text"  # notes, reasons, findings, evidence, action descriptions
PAYLOADS = "payloads"  # decrypted workflow payloads (anything the case holds)

#: Columns of the export, in order.
COLUMNS = ("at", "case_ref", "username", "role", "agency", "via", "data", "what")


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as the interface knows them."""

    username: str
    role: str | None = None
    agency: str | None = None


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


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
    at = _naive_utc(now())
    rows = [
        AccessRecord(
            at=at,
            case_ref=ref,
            username=viewer.username[:80],
            role=viewer.role[:40] if viewer.role else None,
            agency=viewer.agency[:40] if viewer.agency else None,
            via=via[:20],
            data=",".join(data)[:200],
            what=what[:200],
        )
        for ref in dict.fromkeys(case_refs)
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
