"""Writing the reports a Schedule asks for (workflows/scheduled.py): the bi-monthly summary of
the two months to today, or the annual report of the last reporting year that has ended, from
the register, into `$SRO_DATA_DIR/reports/scheduled` (kept private, as every report)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

from dateutil.relativedelta import relativedelta
from temporalio import activity

from activities.scheduled_io import (
    WRITE_SCHEDULED_REPORT,
    ScheduledReportInput,
    ScheduledReportResult,
)
from config import settings
from register import db
from reports import figures, files
from reports.years import ReportingYear
from safeguarding.clock import uk_today
from safeguarding.profiles import load_profiles
from security.files import private_data_dir

__all__ = ["WRITE_SCHEDULED_REPORT", "reporting_period", "write_scheduled_report"]


def reporting_period(report: str, today: date) -> tuple[date, date, ReportingYear | None]:
    """The summary: the two months to today. The annual report: the last reporting year (1 April
    to 31 March) that has ended by today."""
    if report == "summary":
        return today - relativedelta(months=2), today, None
    year = ReportingYear(today.year - 1 if today.month >= 4 else today.year - 2)
    return year.start, year.end, year


def _write(
    input: ScheduledReportInput, today: date, out: Path, partnerships: list[str]
) -> ScheduledReportResult:
    """The report asked for, and each partnership's own when it was asked for all of them (what
    is mailed to a partnership holds its own cases only)."""
    since, as_of, year = reporting_period(input.report, today)
    db.ensure_schema()

    def write(partnership: str | None) -> list[str]:
        with db.session() as session:
            data = figures.load(session, partnership, reports=[input.report])
        if year is None:
            paths = files.write_summary(data, since, as_of, partnership, out)
        else:
            paths = files.write_annual(data, year, as_of, partnership, out)
        return [str(p.relative_to(out.parent)) for p in paths]

    written = write(input.partnership)
    if input.partnership:
        by_partnership = {input.partnership: written}
    else:
        by_partnership = {code: write(code) for code in partnerships}
    return ScheduledReportResult(
        report=input.report,
        since=since,
        as_of=as_of,
        files=list(dict.fromkeys([*written, *(f for fs in by_partnership.values() for f in fs)])),
        by_partnership=by_partnership,
    )


@activity.defn(name=WRITE_SCHEDULED_REPORT)
async def write_scheduled_report(input: ScheduledReportInput) -> ScheduledReportResult:
    private_data_dir()
    out = settings().data_dir / "reports" / "scheduled"
    partnerships = sorted(load_profiles()) if input.partnership is None else []
    return await asyncio.to_thread(_write, input, uk_today(datetime.now(UTC)), out, partnerships)
