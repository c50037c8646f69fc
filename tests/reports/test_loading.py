"""How the figures read the register: plain rows (not ORM objects) holding the very values and
types the ORM objects held, on SQLite and PostgreSQL, and, read for one report, only what that
report uses, with the same figures and documents as reading everything."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, get_type_hints

import pytest
from sqlmodel import Session, SQLModel, col, select

from register import db
from register.models import (
    ActionRecord,
    CaseRecord,
    ChildRecord,
    DeadlineRecord,
    DecisionRecord,
    HistoryRecord,
)
from reports import calendar as ics
from reports import documents, figures
from reports.figures import ReportingYear
from tests.register.seeding import REF, seed

YEAR = ReportingYear.parse("2026-27")
END = date(2027, 3, 31)
SINCE = date(2027, 1, 1)

#: Each list of `RegisterData`, its row type and the table it is read from.
TABLES: tuple[tuple[str, Any, type[SQLModel]], ...] = (
    ("cases", figures.CaseRow, CaseRecord),
    ("children", figures.ChildRow, ChildRecord),
    ("deadlines", figures.DeadlineRow, DeadlineRecord),
    ("actions", figures.ActionRow, ActionRecord),
    ("decisions", figures.DecisionRow, DecisionRecord),
    ("history", figures.HistoryRow, HistoryRecord),
)


@pytest.mark.parametrize(("name", "row", "model"), TABLES)
def test_rows_are_columns_of_their_table_with_its_types(
    name: str, row: Any, model: type[SQLModel]
) -> None:
    hints = get_type_hints(row)
    for column in row._fields:
        assert column in model.model_fields, f"{name}.{column}"
        assert hints[column] == model.model_fields[column].annotation, f"{name}.{column}"


def _orm_values(
    session: Session, model: Any, fields: tuple[str, ...], partnership: str | None
) -> list[tuple[tuple[Any, type], ...]]:
    """What the ORM objects held (how `load` read the register before): value and type."""
    stmt = select(model)
    if partnership is not None:
        chosen = select(CaseRecord.case_ref).where(CaseRecord.partnership == partnership)
        stmt = stmt.where(col(model.case_ref).in_(chosen))
    return sorted(
        (tuple((getattr(o, f), type(getattr(o, f))) for f in fields) for o in session.exec(stmt)),
        key=repr,
    )


@pytest.mark.parametrize("partnership", ["LSCP", None])
def test_plain_rows_hold_what_the_orm_objects_held(
    register_url: str, partnership: str | None
) -> None:
    with db.session(register_url) as session:
        seed(session)
    with db.session(register_url) as session:
        data = figures.load(session, partnership)
        for name, row, model in TABLES:
            read = getattr(data, name)
            assert read and all(type(r) is row for r in read), name
            values = sorted((tuple((v, type(v)) for v in r) for r in read), key=repr)
            assert values == _orm_values(session, model, row._fields, partnership), name
    assert [c.case_ref for c in data.cases] == sorted(c.case_ref for c in data.cases)
    assert [(h.case_ref, h.seq) for h in data.history] == sorted(
        (h.case_ref, h.seq) for h in data.history
    )
    # Times come back naive (stored as naive UTC), dates as dates, on both databases.
    a = data.case(REF["A"])
    assert a is not None and a.closed_at is None and a.received_on == date(2026, 6, 1)
    assert all(h.at.tzinfo is None for h in data.history)
    for d in data.deadlines:
        assert type(d.due_on) is date and (d.met_on is None or type(d.met_on) is date)


def _documents(data: figures.RegisterData, report: str) -> list[str]:
    if report == "annual":
        fig = figures.annual(data, YEAR, END, "LSCP")
        doc = documents.annual_document(fig, chart="timeliness.png")
        return [documents.to_markdown(doc), documents.to_html(doc), documents.annual_csv(fig)]
    if report == "summary":
        summary = figures.summary(data, SINCE, END, "LSCP")
        doc = documents.summary_document(summary)
        return [documents.to_markdown(doc), documents.to_html(doc), documents.summary_csv(summary)]
    entries = figures.upcoming(data, SINCE)
    return [ics.calendar(entries, now=datetime(2027, 1, 1, tzinfo=UTC), name="LSCP")]


def test_read_for_one_report_gives_the_same_figures_and_reads_less(register_url: str) -> None:
    with db.session(register_url) as session:
        seed(session)
        everything = figures.load(session, "LSCP")
        annual = figures.load(session, "LSCP", reports=["annual"])
        summary = figures.load(session, "LSCP", reports=["summary"])
        calendar = figures.load(session, "LSCP", reports=["calendar"])
    assert figures.annual(annual, YEAR, END) == figures.annual(everything, YEAR, END)
    assert figures.summary(summary, SINCE, END, "LSCP") == figures.summary(
        everything, SINCE, END, "LSCP"
    )
    assert figures.upcoming(calendar, SINCE) == figures.upcoming(everything, SINCE)
    for report, data in (("annual", annual), ("summary", summary), ("calendar", calendar)):
        assert _documents(data, report) == _documents(everything, report), report

    # The annual report reads no history and only the decisions it counts.
    assert annual.history == [] and len(everything.history) > 20
    assert {d.kind for d in annual.decisions} == {"outcome_shared"}
    assert len(annual.decisions) < len(everything.decisions)
    # The summary reads the escalations of the history, and no children.
    assert {h.kind for h in summary.history} == {"escalation"}
    assert summary.history == [h for h in everything.history if h.kind in figures.ESCALATION_KINDS]
    assert summary.children == []
    # The calendar reads only the open deadlines.
    assert calendar.deadlines == [d for d in everything.deadlines if d.outcome == "open"]
    assert not (calendar.cases or calendar.decisions or calendar.actions or calendar.history)


def test_a_report_is_refused_from_rows_read_for_another(register_url: str) -> None:
    with db.session(register_url) as session:
        seed(session)
        calendar = figures.load(session, "LSCP", reports=["calendar"])
        with pytest.raises(ValueError, match="no such report: yearly"):
            figures.load(session, "LSCP", reports=["yearly"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"read for calendar, not the annual report"):
        figures.annual(calendar, YEAR, END)
    with pytest.raises(ValueError, match=r"not the summary report"):
        figures.summary(calendar, SINCE, END)
