"""Issue 13, item 12: professional disagreements in the review group's oversight, from the
register's `escalations` and `escalation_stages` (each escalation's workflow writes them).

The bi-monthly summary shows every escalation open on or after its start date: the stage it is
at (or was resolved at), the time it spent at each stage, whether it is resolved, and whether it
reached the partnership's oversight threshold (Croydon: stage 3 and above, "The SPRG has
oversight of: Stage 3 and above Escalations"). Pure functions of rows, as `reports.figures`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Connection, select

from register.models import EscalationRecord, EscalationStageRecord


class EscalationRow(NamedTuple):
    escalation_ref: str
    partnership: str
    linked_case_ref: str | None
    raised_with: str
    opened_at: datetime
    stage: int
    stage_name: str
    formal: bool
    oversight_from_stage: int
    overseen: bool
    resolved_at: datetime | None


class StageRow(NamedTuple):
    escalation_ref: str
    stage: int
    name: str
    entered_at: datetime
    left_at: datetime | None
    left_because: str | None


def load_escalations(
    connection: Connection, partnership: str | None = None
) -> tuple[list[EscalationRow], list[StageRow]]:
    """The escalations (one partnership's, or all) and their stages, as plain rows."""
    e = EscalationRecord.__table__.c  # type: ignore[attr-defined]
    s = EscalationStageRecord.__table__.c  # type: ignore[attr-defined]
    chosen = select(*(e[name] for name in EscalationRow._fields))
    stages = select(*(s[name] for name in StageRow._fields))
    if partnership is not None:
        chosen = chosen.where(e.partnership == partnership)
        refs = select(e.escalation_ref).where(e.partnership == partnership)
        stages = stages.where(s.escalation_ref.in_(refs))
    rows = [EscalationRow._make(r) for r in connection.execute(chosen.order_by(e.escalation_ref))]
    stage_rows = [
        StageRow._make(r) for r in connection.execute(stages.order_by(s.escalation_ref, s.stage))
    ]
    return rows, stage_rows


@dataclass(frozen=True)
class StageTime:
    stage: int
    name: str
    days: int
    #: Still at this stage on the report date.
    current: bool


@dataclass(frozen=True)
class EscalationLine:
    escalation_ref: str
    linked_case_ref: str | None
    raised_with: str
    raised_on: date
    stage: int
    stage_name: str
    formal: bool
    overseen: bool
    resolved_on: date | None
    stages: list[StageTime]

    @property
    def resolved(self) -> bool:
        return self.resolved_on is not None

    @property
    def days_open(self) -> int:
        return sum(s.days for s in self.stages)


@dataclass(frozen=True)
class OversightFigures:
    escalations: list[EscalationLine]
    #: Open and resolved escalations by the stage they are at (or were resolved at).
    by_stage: list[tuple[int, int, int]]
    #: The oversight threshold(s) of the partnerships shown.
    thresholds: list[int]

    @property
    def overseen(self) -> int:
        return sum(e.overseen for e in self.escalations)


def _days(start: datetime, end: datetime) -> int:
    return max(0, (end.date() - start.date()).days)


def oversight(
    rows: list[EscalationRow], stages: list[StageRow], since: date, as_of: date
) -> OversightFigures:
    """Every escalation raised by `as_of` and not resolved before `since`."""
    by_ref: dict[str, list[StageRow]] = {}
    for stage in stages:
        by_ref.setdefault(stage.escalation_ref, []).append(stage)
    end_of_day = datetime.combine(as_of, datetime.max.time())
    lines = []
    for row in rows:
        resolved_on = row.resolved_at.date() if row.resolved_at else None
        if row.opened_at.date() > as_of or (resolved_on is not None and resolved_on < since):
            continue
        times = [
            StageTime(
                stage=s.stage,
                name=s.name,
                days=_days(s.entered_at, s.left_at or end_of_day),
                current=s.left_at is None,
            )
            for s in by_ref.get(row.escalation_ref, [])
        ]
        lines.append(
            EscalationLine(
                escalation_ref=row.escalation_ref,
                linked_case_ref=row.linked_case_ref,
                raised_with=row.raised_with,
                raised_on=row.opened_at.date(),
                stage=row.stage,
                stage_name=row.stage_name,
                formal=row.formal,
                overseen=row.overseen,
                resolved_on=resolved_on,
                stages=times,
            )
        )
    lines.sort(key=lambda e: (e.resolved, -e.stage, e.raised_on, e.escalation_ref))
    open_at: Counter[int] = Counter(e.stage for e in lines if not e.resolved)
    resolved_at: Counter[int] = Counter(e.stage for e in lines if e.resolved)
    return OversightFigures(
        escalations=lines,
        by_stage=[(n, open_at[n], resolved_at[n]) for n in sorted({*open_at, *resolved_at})],
        thresholds=sorted({r.oversight_from_stage for r in rows}),
    )


def stage_times(line: EscalationLine) -> str:
    """`1: 2 days; 2: 5 days; 3: 1 day (now)`."""
    return "; ".join(
        f"{t.stage}: {t.days} day{'s' if t.days != 1 else ''}" + (" (now)" if t.current else "")
        for t in line.stages
    )


__all__ = [
    "EscalationLine",
    "EscalationRow",
    "OversightFigures",
    "StageRow",
    "StageTime",
    "load_escalations",
    "oversight",
    "stage_times",
]
