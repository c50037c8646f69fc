"""Reports: a caseload summary the console computes itself (from Temporal visibility, no
personal data), and the register's reports when the register is installed and configured.

The register (the `register` and `reports` packages, DATABASE_URL) is optional. When it is there
the console shows its bi-monthly review summary and the annual report's figures, built by the
same functions as `sro report summary` and `sro report annual`. Anything that goes wrong reading
it is reported in one line; the rest of the page still works.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from console.backend import CaseRow

THEMES_HIDDEN = (
    "Hidden: personal data. The themes are the action plans' recommendations, free text that "
    "may name a child or family: shown only to coordinators, business managers and chairs."
)
#: The bi-monthly summary looks back this far.
SUMMARY_DAYS = 61


@dataclass
class ReportTable:
    header: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()


@dataclass
class ReportSection:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[ReportTable] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)


@dataclass
class ReportDocument:
    title: str
    intro: list[str]
    sections: list[ReportSection]


@dataclass
class RegisterView:
    configured: bool
    documents: list[ReportDocument] = field(default_factory=list)
    problem: str | None = None
    #: The reporting year of the annual figures ("2026-27").
    year: str | None = None


def register_available() -> bool:
    try:
        return all(importlib.util.find_spec(name) is not None for name in ("register", "reports"))
    except (ImportError, ValueError):
        return False


def _figures(partnership: str | None, today: date, personal: bool) -> tuple[Any, Any]:
    """The register's summary and annual figures (blocking: database reads). Without
    `personal`, the summary's themes (the action plans' recommendations: free text,
    safeguarding/personal.py) are left out."""
    from register import db
    from reports import figures

    since = today - timedelta(days=SUMMARY_DAYS)
    year = figures.ReportingYear(today.year if today.month >= 4 else today.year - 1)
    db.ensure_schema()
    with db.session() as session:  # the figures read the rows while the session is open
        data = figures.load(session, partnership, reports=["summary", "annual"])
        summary = figures.summary(data, since, today, partnership)
        if not personal:
            summary = dataclasses.replace(
                summary,
                themes=[],
                reviews=[dataclasses.replace(r, themes=[]) for r in summary.reviews],
            )
        return summary, figures.annual(data, year, today, partnership)


def register_reports(partnership: str | None, today: date, personal: bool = False) -> RegisterView:
    """The register's summary and annual documents for one partnership (None: all). Blocking
    (database reads): call it in a thread. Without `personal`, the summary's themes are left
    out."""
    if not register_available():
        return RegisterView(configured=False)
    try:
        from reports import documents

        summary, annual = _figures(partnership, today, personal)
        docs = [documents.summary_document(summary), documents.annual_document(annual)]
    except Exception as err:
        return RegisterView(
            configured=True, problem=f"The register could not be read ({type(err).__name__})."
        )
    shown = [_document(d) for d in docs]
    if not personal:
        for section in shown[0].sections:
            if section.heading == "Themes":
                section.paragraphs = [THEMES_HIDDEN]
    return RegisterView(configured=True, documents=shown, year=annual.year.label)


#: The report files the reports page offers (issue 15, item 4): name, what it is, media type.
FILES: dict[str, tuple[str, str]] = {
    "timeliness.png": ("Timeliness chart (PNG)", "image/png"),
    "annual.csv": ("Annual figures (CSV)", "text/csv; charset=utf-8"),
    "annual.html": ("Annual figures (HTML, to print or share)", "text/html; charset=utf-8"),
    "summary.csv": ("Review summary (CSV)", "text/csv; charset=utf-8"),
    "summary.html": ("Review summary (HTML, to print or share)", "text/html; charset=utf-8"),
}


@dataclass
class ReportFile:
    content: bytes
    media_type: str
    filename: str


def register_file(
    name: str, partnership: str | None, today: date, personal: bool = False
) -> ReportFile:
    """One of FILES, built as `sro report summary` / `sro report annual` build it, for one
    partnership (None: all). Blocking: call it in a thread. KeyError for a name not in FILES;
    the register's own errors pass through."""
    media_type = FILES[name][1]
    from reports import documents

    summary, annual = _figures(partnership, today, personal)
    stem, _, suffix = name.partition(".")
    label = annual.year.label if stem != "summary" else today.isoformat()
    filename = f"{stem}-{label}" + (f"-{partnership}" if partnership else "") + f".{suffix}"
    if name == "timeliness.png":
        return ReportFile(timeliness_png(annual, partnership), media_type, filename)
    if stem == "annual":
        text = (
            documents.annual_csv(annual)
            if suffix == "csv"
            else documents.to_html(documents.annual_document(annual))
        )
    else:
        text = (
            documents.summary_csv(summary)
            if suffix == "csv"
            else documents.to_html(documents.summary_document(summary))
        )
    return ReportFile(text.encode("utf-8"), media_type, filename)


_CHART_LOCK = threading.Lock()


def timeliness_png(annual: Any, partnership: str | None) -> bytes:
    """The annual report's timeliness chart, as `sro report annual` draws it."""
    from reports import chart, documents

    title = f"Timeliness against statute, {annual.year.label}" + (
        f" ({partnership})" if partnership else ""
    )
    # pyplot keeps global state: one chart at a time, whatever the threads asking.
    with _CHART_LOCK, tempfile.TemporaryDirectory(prefix="sro-chart-") as folder:
        path = chart.timeliness_chart(
            documents.timeliness_for_chart(annual), title, Path(folder) / "timeliness.png"
        )
        return path.read_bytes()


def _document(doc: Any) -> ReportDocument:
    return ReportDocument(
        title=str(doc.title),
        intro=[str(line) for line in doc.intro],
        sections=[
            ReportSection(
                heading=str(section.heading),
                paragraphs=[str(p) for p in section.paragraphs],
                tables=[
                    ReportTable(
                        header=[str(h) for h in table.header],
                        rows=[[str(c) for c in row] for row in table.rows],
                        numeric=frozenset(table.numeric),
                    )
                    for table in section.tables
                ],
                bullets=[str(b) for b in section.bullets],
            )
            for section in doc.sections
        ],
    )


@dataclass
class Summary:
    open_cases: int
    overdue: int
    by_stage: list[tuple[str, int]]
    by_partnership: list[tuple[str, int, int]]  # code, open, overdue


def caseload_summary(rows: list[CaseRow]) -> Summary:
    running = [r for r in rows if r.running]
    stages = Counter(r.stage.label if r.stage else "unknown" for r in running)
    partnerships = sorted({r.partnership for r in running})
    return Summary(
        open_cases=len(running),
        overdue=sum(1 for r in running if r.overdue),
        by_stage=sorted(stages.items(), key=lambda kv: (-kv[1], kv[0])),
        by_partnership=[
            (
                code,
                sum(1 for r in running if r.partnership == code),
                sum(1 for r in running if r.partnership == code and r.overdue),
            )
            for code in partnerships
        ],
    )
