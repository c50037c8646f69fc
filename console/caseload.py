"""The caseload's columns: how each is shown, sorted and exported (issue 15, item 1).

One table of columns serves the page (its headers link to a server-side sort), and the CSV
export, which writes exactly the rows and order the page shows, each text cell made safe for
spreadsheets (`reports.cells.csv_text`, as every report CSV). A caseload row holds nothing
personal (`CaseRow`: references, stages, dates, roles and agencies), so the export needs no
personal-data check beyond the partnerships the user may see, which bound the query itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from console import dates
from console.backend import CaseRow
from console.labels import option_label
from console.rendering import state_words
from reports.cells import csv_text
from safeguarding.vocabulary import Route, Stage

_STAGE_ORDER = {stage: i for i, stage in enumerate(Stage)}
#: The states in the order a manager reads them: the worst first.
_STATE_ORDER = {"overdue": 0, "missed": 1, "due_soon": 2, "on_track": 3, "met": 4}


def row_state(row: CaseRow) -> tuple[str, str]:
    """(css class, words) for a caseload row's state."""
    if not row.running:
        return "closed", "Closed"
    if row.overdue:
        return "overdue", "Overdue"
    if row.next_deadline_state is not None:
        return row.next_deadline_state.value, state_words(row.next_deadline_state)
    if row.next_deadline_on is None:
        return "none", "No deadline"
    return "unknown", "Not known"


def _state_rank(row: CaseRow) -> int:
    return _STATE_ORDER.get(row_state(row)[0], 9)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    #: The value sorted on (None: always after the rest, whichever the direction).
    sort_key: Callable[[CaseRow], Any]
    #: The cell as the CSV writes it.
    text: Callable[[CaseRow], str]


def _route_words(row: CaseRow) -> str:
    return option_label(Route(row.route)) if row.route else ""


COLUMNS: tuple[Column, ...] = (
    Column("case", "Case", lambda r: r.case_ref, lambda r: r.case_ref),
    Column("partnership", "Partnership", lambda r: r.partnership, lambda r: r.partnership),
    Column(
        "opened",
        "Opened",
        lambda r: r.started_at,
        lambda r: dates.uk_numeric(dates.uk_day_of(r.started_at)),
    ),
    Column(
        "stage",
        "Stage",
        lambda r: _STAGE_ORDER.get(r.stage) if r.stage else None,
        lambda r: r.stage.label if r.stage else "",
    ),
    Column("route", "Route", lambda r: _route_words(r) or None, _route_words),
    Column(
        "deadline",
        "Next deadline",
        lambda r: r.next_deadline_on,
        lambda r: dates.uk_numeric(r.next_deadline_on) if r.next_deadline_on else "",
    ),
    Column(
        "owner",
        "Who owes the next step",
        lambda r: (r.next_owner or "").lower() or None,
        lambda r: r.next_owner or "",
    ),
    Column("state", "State", _state_rank, lambda r: row_state(r)[1]),
)
BY_KEY = {c.key: c for c in COLUMNS}


def default_order(row: CaseRow) -> tuple[bool, bool, str, str]:
    """Open cases first, soonest deadline first."""
    due = row.next_deadline_on.isoformat() if row.next_deadline_on else ""
    return (not row.running, row.next_deadline_on is None, due, row.case_ref)


def sort_rows(rows: list[CaseRow], column: str | None, descending: bool) -> list[CaseRow]:
    """The rows by `column` (a key of BY_KEY; None: the default order). Rows without a value
    come last either way; ties keep the default order."""
    ordered = sorted(rows, key=default_order)
    if column is None:
        return ordered[::-1] if descending else ordered
    key = BY_KEY[column].sort_key
    known = [r for r in ordered if key(r) is not None]
    unknown = [r for r in ordered if key(r) is None]
    return sorted(known, key=key, reverse=descending) + unknown


def header_links(
    filters: dict[str, str], column: str | None, descending: bool
) -> list[dict[str, str]]:
    """Each header: its words, the link that sorts by it (the other way when it is the sort
    already) and its aria-sort."""
    kept = {k: v for k, v in filters.items() if v}
    headers = []
    for c in COLUMNS:
        current = c.key == column
        flip = "asc" if current and descending else "desc" if current else "asc"
        headers.append(
            {
                "key": c.key,
                "header": c.header,
                "href": "/cases?" + urlencode({**kept, "sort": c.key, "order": flip}),
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    return headers


def to_csv(rows: list[CaseRow]) -> str:
    """The rows as shown, one CSV line each, text cells spreadsheet-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS] + ["Next deadline (what)"])
    for row in rows:
        cells = [c.text(row) for c in COLUMNS] + [row.next_deadline_title or ""]
        writer.writerow([csv_text(cell) for cell in cells])
    return out.getvalue()
