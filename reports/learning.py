"""Issue 13, item 11: the learning outputs planned from each case's review (`case_learning`, a
projection of the case), in the reports beside the outputs recorded with `sro report learning
add` (`learning_outputs`). An output counts as produced on the day it was disseminated."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import Connection, select

from register import sealing
from register.models import CaseLearningRecord, CaseRecord, LearningOutput
from reports.years import ReportingYear


class CaseLearningRow(NamedTuple):
    case_ref: str
    learning_id: str
    output: str
    title: str
    due_on: date
    status: str
    disseminated_on: date | None
    reaudit_due_on: date | None
    impact_on: date | None


def load_case_learning(
    connection: Connection, partnership: str | None = None
) -> list[CaseLearningRow]:
    c = CaseLearningRecord.__table__.c  # type: ignore[attr-defined]
    names = sealing.read_columns("case_learning", CaseLearningRow._fields)  # to open the title
    stmt = select(*(c[name] for name in names))
    if partnership is not None:
        cases = CaseRecord.__table__.c  # type: ignore[attr-defined]
        stmt = stmt.where(
            c.case_ref.in_(select(cases.case_ref).where(cases.partnership == partnership))
        )
    stmt = stmt.order_by(c.case_ref, c.learning_id)
    found = sealing.open_tuples("case_learning", names, connection.execute(stmt))
    return [CaseLearningRow._make(row) for row in found]


def as_outputs(rows: list[CaseLearningRow], partnership: str | None) -> list[LearningOutput]:
    """The disseminated ones, as the learning outputs the reports already count."""
    return [
        LearningOutput(
            kind=r.output,
            title=r.title,
            case_ref=r.case_ref,
            produced_on=r.disseminated_on,
            partnership=partnership,
        )
        for r in rows
        if r.disseminated_on is not None
    ]


def reaudits(rows: list[CaseLearningRow], year: ReportingYear) -> int:
    """Re-audits (impact on practice) recorded in the year."""
    return sum(r.impact_on in year for r in rows)


def outstanding(rows: list[CaseLearningRow], as_of: date) -> list[tuple[str, str, date, bool]]:
    """Outputs planned and not yet disseminated: (case, what, due, overdue)."""
    return [
        (r.case_ref, f"{r.learning_id} {r.output}", r.due_on, r.due_on < as_of)
        for r in sorted(rows, key=lambda r: (r.due_on, r.case_ref, r.learning_id))
        if r.disseminated_on is None
    ]


__all__ = ["CaseLearningRow", "as_outputs", "load_case_learning", "outstanding", "reaudits"]
