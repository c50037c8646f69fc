"""`sro register ...` and `sro report ...`: the register and the reports read from it.

    sro register upgrade                       migrate the register to the newest schema
    sro register rebuild [--partnership CODE]  re-project every case from its workflow
    sro register info                          where the register is, its revision, row counts
    sro register access-log --case REF         who has been shown the case's personal data
    sro register subject-access --case REF     everything held about a case (JSON and HTML)
    sro register find-person --name NAME       every case naming a person
    sro register hold|holds|dispose ...        legal holds and the disposal run (disposal_cli.py)
    sro report summary --since DATE            bi-monthly review summary (.md .html .csv)
    sro report annual --year 2026-27           annual report figures (.md .html .csv + chart PNG)
    sro report calendar --out deadlines.ics    upcoming deadlines and meetings (iCalendar)
    sro report learning add|list               7-minute briefings and training produced

The register is DATABASE_URL (PostgreSQL or SQLite), by default SQLite in the data folder
(`$SRO_DATA_DIR/register.db`). Reports go to `--out` (default `$SRO_DATA_DIR/reports`).
The flags are in starter/parser.py; `starter.cli` loads this module (and the database stack)
only for these commands.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from config import settings
from gateway.errors import GatewayError
from gateway.rebuild import rebuild, visibility_query
from register import access_log, crud, db
from reports import calendar as ics
from reports import documents, figures, files
from safeguarding.clock import uk_today
from starter import disposal_cli
from starter.common import CliError, normalise_case_ref
from starter.parser import FORMATS
from starter.session import open_client

COMMANDS = ("register", "report")


def reports_dir() -> Path:
    return settings().data_dir / "reports"


async def dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "register":
            if args.register_command == "rebuild":
                return await cmd_rebuild(args)
            if args.register_command == "access-log":
                return await asyncio.to_thread(cmd_access_log, args)
            if args.register_command in ("subject-access", "find-person"):
                from starter import subject_access

                if args.register_command == "find-person":
                    return await subject_access.cmd_find_person(args)
                return await subject_access.cmd_subject_access(args)
            if args.register_command in disposal_cli.COMMANDS:
                return await disposal_cli.dispatch(args)
            return await asyncio.to_thread(
                cmd_upgrade if args.register_command == "upgrade" else cmd_info
            )
        return await asyncio.to_thread(_report, args)
    except SQLAlchemyError as err:
        raise CliError(
            f"the register at {db.describe()} failed: {str(err).splitlines()[0][:300]}", code=1
        ) from None


def _report(args: argparse.Namespace) -> int:
    if args.report_command == "learning":
        return cmd_learning(args)
    if args.report_command == "calendar":
        return cmd_calendar(args)
    return cmd_summary(args) if args.report_command == "summary" else cmd_annual(args)


def _today() -> date:
    return uk_today(datetime.now(UTC))


# ====================================================================== register


def cmd_access_log(args: argparse.Namespace) -> int:
    """Export a case's access log (issue 14) as CSV or JSON."""
    case_ref = normalise_case_ref(args.case_ref)
    rows = access_log.entries(case_ref)
    text = access_log.to_json(rows) if args.format == "json" else access_log.to_csv(rows)
    if args.out is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"{len(rows)} access(es) to {case_ref} written to {args.out}")
    return 0


def cmd_upgrade() -> int:
    before = db.current_revision()
    after = db.upgrade()
    where = db.describe()
    if before == after:
        print(f"The register at {where} is at the newest revision ({after}).")
    else:
        print(f"The register at {where} migrated from {before or 'empty'} to {after}.")
    return 0


def cmd_info() -> int:
    print(f"Register: {db.describe()}")
    print(f"Revision: {db.current_revision() or 'none (run `sro register upgrade`)'}")
    print(f"Newest:   {db.head_revision()}")
    if db.current_revision() is None:
        return 0
    with db.session() as session:
        for name, count in crud.counts(session).items():
            print(f"  {name:<17}{count:>8}")
    return 0


def _visibility_query(task_queue: str | None, partnership: str | None = None) -> str:
    try:
        return visibility_query(task_queue, partnership)
    except ValueError as err:
        raise CliError(str(err)) from None


async def cmd_rebuild(args: argparse.Namespace) -> int:
    cases = [normalise_case_ref(c) for c in args.cases or []]
    client = await open_client()
    try:
        done = await rebuild(
            client,
            partnership=args.partnership,
            cases=cases,
            task_queue=args.task_queue,
            limit=args.limit,
            timeout=args.timeout,
        )
    except ValueError as err:  # a --task-queue or --partnership that cannot be asked for
        raise CliError(str(err)) from None
    except GatewayError as err:
        words = getattr(err.__cause__, "message", None) or err.message
        raise CliError(f"Temporal refused to list the cases: {words}", code=1) from None
    print(
        f"Rebuilt {done.cases} case{'s' if done.cases != 1 else ''} into {db.describe()}: "
        f"{done.history_added} history entries and {done.decisions_added} decisions were "
        f"missing and are now recorded."
        + (f" {done.disposed} disposed case(s) skipped." if done.disposed else "")
    )
    if done.failed:
        raise CliError(
            f"{len(done.failed)} case(s) did not answer (is the worker running?)",
            code=1,
            details=done.failed,
        )
    return 0


# ====================================================================== reports


def _load(partnership: str | None, report: figures.Report) -> figures.RegisterData:
    """What one report needs from the register (not the whole case history)."""
    db.ensure_schema()
    with db.session() as session:
        return figures.load(session, partnership, reports=[report])


def _written(paths: list[Path]) -> None:
    for path in paths:
        print(f"wrote {path}")


def warn_if_future(what: str, day: date, today: date) -> None:
    """A report of a period that has not begun yet counts nothing: say so, do not refuse (a
    business team may prepare next period's template)."""
    if day > today:
        print(
            f"warning: {what} {day} is after today ({today}): the report counts nothing yet "
            f"for the days to come",
            file=sys.stderr,
        )


def cmd_summary(args: argparse.Namespace) -> int:
    since = date.fromisoformat(args.since)
    as_of = date.fromisoformat(args.as_of) if args.as_of else _today()
    warn_if_future("the period starts on", since, _today())
    warn_if_future("--as-of", as_of, _today())
    data = _load(args.partnership, "summary")
    out: Path = args.out or reports_dir()
    formats = args.formats or list(FORMATS)
    _written(files.write_summary(data, since, as_of, args.partnership, out, formats))
    return 0


def cmd_annual(args: argparse.Namespace) -> int:
    year: figures.ReportingYear = args.year
    as_of = date.fromisoformat(args.as_of) if args.as_of else min(_today(), year.end)
    warn_if_future(f"the reporting year {year.label} starts on", year.start, _today())
    warn_if_future("--as-of", as_of, _today())
    data = _load(args.partnership, "annual")
    out: Path = args.out or reports_dir()
    formats = args.formats or list(FORMATS)
    _written(files.write_annual(data, year, as_of, args.partnership, out, formats))
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    from_day = date.fromisoformat(args.from_day) if args.from_day else _today()
    entries = figures.upcoming(_load(args.partnership, "calendar"), from_day)
    entries = sorted([*entries, *_meetings(args.partnership, from_day)], key=lambda e: e.on)
    name = "Safeguarding review deadlines" + (f" ({args.partnership})" if args.partnership else "")
    text = ics.calendar(entries, now=datetime.now(UTC), name=name)
    path = files.write_text(args.out, text)
    print(f"wrote {path} ({len(entries)} event{'s' if len(entries) != 1 else ''})")
    return 0


def _meetings(partnership: str | None, from_day: date) -> list[figures.CalendarEntry]:
    """The partnerships' triage and review-group meetings, from their profiles."""
    from safeguarding.calendar import WorkingCalendar  # the holiday data: only this report
    from safeguarding.profiles import load_profiles

    profiles = load_profiles()
    codes = [partnership] if partnership else sorted(profiles)
    return [
        entry
        for code in codes
        if code in profiles
        for entry in ics.meetings(
            profiles[code], WorkingCalendar(profiles[code].closure_days), from_day
        )
    ]


def cmd_learning(args: argparse.Namespace) -> int:
    db.ensure_schema()
    if args.learning_command == "add":
        case_ref = normalise_case_ref(args.case) if args.case else None
        with db.session() as session:
            added = crud.add_learning_output(
                session,
                kind=args.kind,
                title=args.title,
                produced_on=date.fromisoformat(args.on),
                case_ref=case_ref,
                partnership=args.partnership,
                recorded_by=args.by_name or settings().user_name or None,
            )
        what = "7-minute briefing" if args.kind == "briefing" else "training"
        print(f"{'Recorded' if added else 'Already recorded'}: {what} {args.title!r} on {args.on}.")
        return 0
    with db.session() as session:
        recorded = figures.learning_outputs(session, args.partnership)
    outputs = [o for o in recorded if args.year is None or o.produced_on in args.year]
    if not outputs:
        print("No learning outputs recorded.")
        return 0
    for o in outputs:
        print(
            documents.learning_line(o.produced_on, o.kind, o.title)
            + (f" [{o.case_ref}]" if o.case_ref else "")
        )
    return 0
