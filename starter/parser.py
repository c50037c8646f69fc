"""The `sro` command line as argparse parsers: every command, its flags and its help.

Declarative, and import-light (no Temporal workflows, no database, no charts): `sro --help`
and a usage error cost only this. The commands themselves are in starter/cases.py,
starter/escalations.py, starter/kinds.py and starter/register_cli.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TypeAlias, get_args

from gateway.refs import PARTNERSHIP_PATTERN
from register.learning import LEARNING_KINDS
from reports.years import ReportingYear
from safeguarding.vocabulary import Agency, Role, Route, Stage
from starter.common import DEFAULT_TIMEOUT, PROG, iso_date

#: The report formats `sro report summary|annual` write.
FORMATS = ("md", "html", "csv")
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


#: Commands whose flags are generated from the pydantic models (about a tenth of a second to
#: build): built only when asked for, listed with their help otherwise.
MODEL_COMMANDS = {"refer": "start a case from a referral", "decide": "make a decision on a case"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (with `command`) one whose model-generated commands other than
    `command` are only named: enough for `sro --help`, `sro status` and usage errors."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Safeguarding Review Orchestrator: start cases, record decisions, follow "
        "deadlines. Connection from TEMPORAL_ADDRESS etc. (default localhost:7233).",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, add in (("refer", _add_refer), ("decide", _add_decide)):
        if command is None or command == name:
            add(commands)
        else:
            new_parser(commands, name, help=MODEL_COMMANDS[name])
    _add_case_queries(commands)
    add_escalation_parsers(commands)
    add_register_parsers(commands)
    _add_schedules(commands)
    _add_keys(commands)
    return parser


def _add_keys(commands: Subcommands) -> None:
    keys = new_parser(
        commands,
        "keys",
        help="the case keys: rewrap them with the key ring's current key",
        description="Each case's payloads are sealed with a data key of its own, kept in the "
        "register wrapped by the key ring (SRO_CODEC_KEYS). After a new current ring key, "
        "`rewrap` wraps every case key with it (the old ring key must still be configured); "
        "then the old one can be retired. Idempotent.",
    )
    sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    new_parser(sub, "rewrap", help="wrap every case key with the ring's current key")


def _add_schedules(commands: Subcommands) -> None:
    schedules = new_parser(
        commands,
        "schedules",
        help="the scheduled reports (Temporal Schedules): list, trigger, pause, unpause",
        description="The bi-monthly summary and the annual report run as Temporal Schedules "
        "(the Web UI shows them under Schedules; `make run` creates them). Their files go to "
        "$SRO_DATA_DIR/reports/scheduled.",
    )
    sub = schedules.add_subparsers(dest="schedules_command", required=True, metavar="ACTION")
    new_parser(sub, "list", help="the schedules, paused or not, and their next runs")
    for action, what in (
        ("trigger", "run it now"),
        ("pause", "stop it running until unpaused"),
        ("unpause", "run it on its calendar again"),
    ):
        one = new_parser(sub, action, help=what)
        one.add_argument("schedule_id", metavar="SCHEDULE", help="e.g. sro-summary-bimonthly")
        if action != "trigger":
            one.add_argument("--note", help="why (the Web UI shows it)")


def _add_refer(commands: Subcommands) -> None:
    from safeguarding.referral import Referral  # the referral model: only `sro refer` builds it
    from safeguarding.vocabulary import HarmLocation

    harms: tuple[str, ...] = get_args(Referral.model_fields["harm"].annotation)

    refer = new_parser(
        commands,
        "refer",
        help=MODEL_COMMANDS["refer"],
        description="Start a case. Give the referral as --file (a JSON object with the fields of "
        "safeguarding.referral.Referral) or as flags. It is checked before anything is sent.",
    )
    refer.add_argument("--file", metavar="REFERRAL.json", help="the referral ('-' for stdin)")
    refer.add_argument("--partnership", help="partnership code, e.g. LSCP")
    refer.add_argument(
        "--received-on", type=iso_date, metavar="YYYY-MM-DD", help="default: today (UK); or today-N"
    )
    refer.add_argument("--incident-on", type=iso_date, metavar="YYYY-MM-DD")
    refer.add_argument(
        "--la-aware-on",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="day the local authority became aware (default: received on)",
    )
    refer.add_argument("--harm", choices=harms)
    refer.add_argument("--abuse-or-neglect-suspected", action=argparse.BooleanOptionalAction)
    refer.add_argument("--referrer-name")
    refer.add_argument("--referrer-agency", choices=[a.value for a in Agency])
    refer.add_argument(
        "--discussed-with-safeguarding-lead",
        action=argparse.BooleanOptionalAction,
        help="required: the referrer discussed it with their safeguarding lead first "
        "(--no-discussed-with-safeguarding-lead: they did not)",
    )
    refer.add_argument(
        "--where-harmed",
        choices=[h.value for h in HarmLocation],
        help="where the child died or was harmed (default: in the area); "
        "outside_england_normally_resident is notifiable too",
    )
    refer.add_argument(
        "--child",
        action="append",
        default=[],
        metavar="NAME[:AGE]",
        help="a child (repeat for siblings, at most 4)",
    )
    refer.add_argument("--child-name", help="a child's name (when it contains a colon)")
    refer.add_argument("--child-age", type=int, help="that child's age in years")
    refer.add_argument(
        "--care-leaver", action="store_true", default=None, help="a care leaver aged 18 to 24"
    )
    refer.add_argument(
        "--agency",
        action="append",
        default=[],
        choices=[a.value for a in Agency],
        help="an agency involved with the family (repeat for more)",
    )
    refer.add_argument("--summary", help="what happened, in the referrer's words")
    refer.add_argument(
        "--late-reason",
        help="why the referral is later than the partnership's time limit (e.g. Salford: 5 days)",
    )
    refer.add_argument(
        "--dry-run", action="store_true", help="check and print the referral, start nothing"
    )
    refer.add_argument("--json", action="store_true", help="machine output")
    refer.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print only the new case's reference (for scripts: CASE=$(sro refer ... -q))",
    )


def _add_decide(commands: Subcommands) -> None:
    # The decision models and the flags generated from them: only `sro decide` builds them.
    from safeguarding.decisions import DECISION_MODELS
    from starter.flags import add_field_flags

    decide = new_parser(
        commands,
        "decide",
        help=MODEL_COMMANDS["decide"],
        description="Make a decision: `sro decide CASE_REF KIND [flags]`; `sro decide CASE_REF "
        "KIND --help` and `sro kinds KIND` list the flags. Or `sro decide CASE_REF --file "
        "decision.json`. Who decides comes from --by-name/--by-role/--by-agency or "
        "SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY.",
    )
    decide.add_argument("case_ref", metavar="CASE_REF")
    decide.set_defaults(kind=None)
    add_send_flags(decide, suppress=False)
    kinds = decide.add_subparsers(dest="kind_command", metavar="KIND")
    for kind, model in DECISION_MODELS.items():
        aliases = [kind.value.replace("_", "-")] if "_" in kind.value else []
        sub = new_parser(
            kinds,
            kind.value,
            aliases=aliases,
            help=kind.label,
            description=f"{kind.label} ({model.__name__}). Fields: `sro kinds {kind.value}`.",
        )
        sub.set_defaults(kind=kind.value)
        add_field_flags(sub, model)
        add_send_flags(sub, suppress=True)


def _add_case_queries(commands: Subcommands) -> None:
    status = new_parser(commands, "status", help="a case's stage, deadlines, tasks and history")
    status.add_argument("case_ref", metavar="CASE_REF")
    status.add_argument("--json", action="store_true", help="the whole status as JSON")
    status.add_argument(
        "--history-limit", type=int, metavar="N", help="show only the last N history entries"
    )
    status.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS")

    listing = new_parser(commands, "list", help="list cases (open ones unless --all)")
    listing.add_argument("--stage", choices=[s.value for s in Stage])
    listing.add_argument("--route", choices=[r.value for r in Route])
    listing.add_argument("--partnership", metavar="CODE")
    listing.add_argument("--overdue", action="store_true", help="only cases with an overdue item")
    listing.add_argument("--all", action="store_true", help="closed and failed cases too")
    listing.add_argument("--limit", type=int, default=500, metavar="N")
    listing.add_argument("--json", action="store_true", help="machine output")

    kinds_cmd = new_parser(commands, "kinds", help="decision kinds and their fields")
    kinds_cmd.add_argument("kind", nargs="?", metavar="KIND")
    kinds_cmd.add_argument("--json", action="store_true", help="machine output")


def add_escalation_parsers(
    commands: Subcommands,
) -> None:
    escalation = new_parser(
        commands,
        "escalation",
        help="professional disagreements under the partnership's escalation policy",
        description="Raise a professional disagreement and follow it through the stages of the "
        "partnership's escalation and resolution policy (its profile sets the stages and their "
        "time limits; an unresolved stage moves up by itself).",
    )
    sub = escalation.add_subparsers(dest="escalation_command", required=True, metavar="ACTION")
    _add_escalation_raise(sub)
    _add_escalation_decisions(sub)
    _add_escalation_queries(sub)


def _add_escalation_raise(sub: Subcommands) -> None:
    raise_ = new_parser(
        sub,
        "raise",
        help="raise a disagreement (it starts at stage 1)",
        description="Raise a professional disagreement with another agency. It is checked "
        "(fields, and that the partnership has a profile) before anything is sent. The concern "
        "stays in the escalation's payload: it is never put in ids, summaries or listings.",
    )
    raise_.add_argument("--partnership", metavar="CODE", help="partnership code, e.g. CSCP")
    raise_.add_argument(
        "--with",
        dest="raised_with",
        choices=[a.value for a in Agency],
        help="the agency the disagreement is with",
    )
    raise_.add_argument("--concern", metavar="TEXT", help="what the disagreement is about")
    raise_.add_argument(
        "--case",
        dest="linked_case_ref",
        metavar="CASE_REF",
        help="the referral case it concerns (its history records the escalation)",
    )
    raise_.add_argument(
        "--raised-on", type=iso_date, metavar="YYYY-MM-DD", help="default: today (UK)"
    )
    add_by_flags(raise_, "who raises it")
    raise_.add_argument(
        "--dry-run", action="store_true", help="check and print the disagreement, start nothing"
    )
    raise_.add_argument("--json", action="store_true", help="machine output")


def _add_escalation_decisions(sub: Subcommands) -> None:
    for action, field, what in (
        ("resolve", "outcome", "how it was resolved"),
        ("escalate", "reason", "why it cannot be resolved at this stage"),
    ):
        parser = new_parser(
            sub,
            action,
            help="resolve it (this ends it)" if action == "resolve" else "move it up a stage now",
            description=f"{action.capitalize()} an escalation: `{PROG} escalation {action} REF "
            f"--{field} TEXT`. Who decides comes from --by-name/--by-role/--by-agency or "
            "SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY.",
        )
        parser.set_defaults(action=action)
        parser.add_argument("escalation_ref", metavar="REF")
        parser.add_argument(f"--{field}", metavar="TEXT", help=f"{what} (required)")
        add_by_flags(parser, "who decides")
        parser.add_argument(
            "--decision-id",
            metavar="ID",
            help="unique id for this decision; re-sending the same id applies it once "
            "(default: a fresh id, printed so you can re-send safely)",
        )
        parser.add_argument(
            "--signal",
            action="store_true",
            help="send as the 'decision' signal (fire and forget; a refusal shows in the history)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and print the decision, send nothing"
        )
        parser.add_argument("--json", action="store_true", help="machine output")
        parser.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT,
            metavar="SECONDS",
            help=f"how long to wait for the escalation to answer (default {DEFAULT_TIMEOUT:g})",
        )


def _add_escalation_queries(sub: Subcommands) -> None:
    status = new_parser(
        sub, "status", help="an escalation's stage, time limit, stages so far and history"
    )
    status.add_argument("escalation_ref", metavar="REF")
    status.add_argument("--json", action="store_true", help="the whole status as JSON")
    status.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS")

    listing = new_parser(
        sub,
        "list",
        help="list escalations (open ones unless --all)",
        description="List escalations from Temporal visibility. --oversight lists those at or "
        "past the stage from which the partnership is told (its profile's "
        "escalation_policy.partnership_notified_from_stage): the ones its review group oversees.",
    )
    listing.add_argument("--partnership", metavar="CODE")
    listing.add_argument(
        "--oversight",
        action="store_true",
        help="only those at or past the partnership's threshold stage (needs --partnership)",
    )
    listing.add_argument("--all", action="store_true", help="resolved and closed ones too")
    listing.add_argument("--limit", type=int, default=500, metavar="N")
    listing.add_argument("--json", action="store_true", help="machine output")


def _partnership(text: str) -> str:
    code = text.strip().upper()
    if not PARTNERSHIP_PATTERN.match(code):
        raise argparse.ArgumentTypeError(f"not a partnership code: {text[:20]!r}")
    return code


def _year(text: str) -> ReportingYear:
    try:
        return ReportingYear.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _title(text: str) -> str:
    title = " ".join(text.split())
    if not 1 <= len(title) <= 200:
        raise argparse.ArgumentTypeError("a title has 1 to 200 characters")
    return title


def add_register_parsers(commands: Subcommands) -> None:
    """`register` and `report`."""
    _add_register(commands)
    _add_report(commands)


def _add_register(commands: Subcommands) -> None:
    sub = new_parser
    register = sub(
        commands,
        "register",
        help="the case register (DATABASE_URL, default SQLite in the data folder)",
        description="The relational register the workflows project into. DATABASE_URL names it "
        "(postgresql://... or sqlite:///...); default $SRO_DATA_DIR/register.db.",
    )
    register_commands = register.add_subparsers(
        dest="register_command", required=True, metavar="COMMAND"
    )
    sub(register_commands, "upgrade", help="run the migrations up to the newest schema")
    sub(register_commands, "info", help="where the register is, its schema revision and rows")
    access = sub(
        register_commands,
        "access-log",
        help="who has been shown a case's personal data (CSV or JSON)",
        description="Export a case's access log: every view of its personal data in the "
        "console, by `sro status` and decoded for the Temporal Web UI (who, when, which kind "
        "of data, where). It holds no personal data of the child.",
    )
    access.add_argument("--case", dest="case_ref", required=True, metavar="CASE_REF")
    access.add_argument("--format", choices=("csv", "json"), default="csv")
    access.add_argument(
        "--out", type=Path, metavar="FILE", help="write to this file (default: standard output)"
    )
    _add_subject_access(register_commands)
    _add_retention(register_commands)
    rebuild = sub(
        register_commands,
        "rebuild",
        help="re-project every case (open and closed) from its workflow",
        description="List the ReferralWorkflow executions (open and closed) in Temporal "
        "visibility and write each case's rows into the register, idempotently. Needs a "
        "worker running (the cases answer the `register` query).",
    )
    rebuild.add_argument("--partnership", type=_partnership, metavar="CODE")
    rebuild.add_argument(
        "--case", dest="cases", action="append", metavar="CASE_REF", help="only these (repeat)"
    )
    rebuild.add_argument(
        "--task-queue", metavar="QUEUE", help="only cases started on this task queue"
    )
    rebuild.add_argument("--limit", type=int, default=100_000, metavar="N")
    rebuild.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long each case may take to answer (default 30)",
    )


def _add_subject_access(register_commands: Subcommands) -> None:
    """`register subject-access` and `register find-person` (issue 14, DATA-PROTECTION.md)."""
    sub = new_parser
    export = sub(
        register_commands,
        "subject-access",
        help="everything held about one case, as JSON and HTML (recorded in the access log)",
        description="Export everything held about a case for a subject access request: every "
        "register row about it (case, children's statistics, decisions, history, deadlines, "
        "actions, learning, escalations, access log) and, when Temporal answers, the referral "
        "and the case's status. The bundle says which sources it includes. Recorded in the "
        "access log first; refused if it cannot be. Files are private (0600).",
    )
    export.add_argument("--case", dest="case_ref", required=True, metavar="CASE_REF")
    export.add_argument(
        "--out", type=Path, metavar="DIR", help="folder (default $SRO_DATA_DIR/subject-access)"
    )
    export.add_argument(
        "--format", dest="formats", action="append", choices=("json", "html"),
        help="json or html (repeat; default both)",
    )  # fmt: skip
    search = sub(
        register_commands,
        "find-person",
        help="every case naming a person (a child, a referrer, a professional...)",
        description="Search the register's text (every text column about a case) and, when "
        "Temporal answers, every case's referral (children's names and dates of birth, the "
        "referrer, the summary) for a person. Says which sources were searched and where each "
        "case names them. Recorded in the access log (never what was searched for).",
    )
    search.add_argument("--name", metavar="NAME", help="the person's name (or surname)")
    search.add_argument("--born", type=iso_date, metavar="YYYY-MM-DD", help="date of birth")
    search.add_argument("--json", action="store_true", help="machine output")
    search.add_argument("--out", type=Path, metavar="FILE.json", help="write the result here")
    for parser in (export, search):
        parser.add_argument(
            "--no-temporal", action="store_true", help="the register only: do not ask Temporal"
        )
        parser.add_argument(
            "--timeout", type=float, default=30.0, metavar="SECONDS",
            help="how long each case may take to answer (default 30)",
        )  # fmt: skip


def _add_retention(register_commands: Subcommands) -> None:
    """Issue 14, point 3: legal holds and the disposal run."""
    sub = new_parser
    hold = sub(
        register_commands,
        "hold",
        help="put a case under a legal hold (no disposal while it lasts), or --lift it",
        description="A legal hold stops the disposal run from removing a case's records, "
        "whatever the retention schedule says. Who (SRO_USER_NAME, else the OS user), when and "
        "why are recorded. The reason must not name the child.",
    )
    hold.add_argument("--case", dest="case_ref", required=True, metavar="CASE_REF")
    hold.add_argument("--reason", required=True, help="why (set) or why lifted (--lift)")
    hold.add_argument("--lift", action="store_true", help="lift the case's hold")
    holds = sub(
        register_commands,
        "holds",
        help="legal holds and disposals recorded (all, or one case's)",
    )
    holds.add_argument("--case", dest="case_ref", metavar="CASE_REF")
    dispose = sub(
        register_commands,
        "dispose",
        help="apply the retention schedule: list what is due (--dry-run) or dispose (--run)",
        description="Find the closed cases whose retention (the profile's [retention]) has run "
        "out. --dry-run lists them, with any legal hold; --run starts the disposal run (a "
        "durable workflow: a worker must be running) and waits for it: each case's personal "
        "data is removed from the register and the disposal recorded, or refused (and "
        "recorded) under a legal hold.",
    )
    mode = dispose.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="list what is due; change nothing")
    mode.add_argument("--run", action="store_true", help="start the disposal run and wait")
    dispose.add_argument("--partnership", type=_partnership, metavar="CODE")
    dispose.add_argument(
        "--case", dest="cases", action="append", metavar="CASE_REF", help="only these (repeat)"
    )
    dispose.add_argument(
        "--on",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="apply the schedule as of this day (default: today, UK)",
    )


def _add_report(commands: Subcommands) -> None:
    sub = new_parser
    report = sub(commands, "report", help="reports from the register")
    report_commands = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")

    def outputs(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--format",
            dest="formats",
            action="append",
            choices=FORMATS,
            help="md, html or csv (repeat for more; default all three)",
        )
        parser.add_argument(
            "--out", type=Path, metavar="DIR", help="folder to write to (default data/reports)"
        )
        parser.add_argument("--partnership", type=_partnership, metavar="CODE")
        parser.add_argument(
            "--as-of", type=iso_date, metavar="YYYY-MM-DD", help="report date (default today)"
        )

    summary = sub(
        report_commands, "summary", help="bi-monthly summary: every review, progress, themes"
    )
    summary.add_argument(
        "--since", type=iso_date, required=True, metavar="YYYY-MM-DD", help="the last report"
    )
    outputs(summary)
    annual = sub(
        report_commands,
        "annual",
        help="annual report figures, with a timeliness chart (PNG)",
    )
    annual.add_argument(
        "--year", type=_year, required=True, metavar="YYYY-YY", help="April to March, e.g. 2026-27"
    )
    outputs(annual)
    cal = sub(
        report_commands,
        "calendar",
        help="upcoming deadlines and meetings as an iCalendar file",
        description="Write an RFC 5545 calendar of open deadlines and review-group meetings due "
        "from --from on, to import or to publish where coordinators subscribe. Each event "
        "names the case and the deadline only.",
    )
    cal.add_argument("--out", type=Path, required=True, metavar="FILE.ics")
    cal.add_argument("--partnership", type=_partnership, metavar="CODE")
    cal.add_argument(
        "--from", dest="from_day", type=iso_date, metavar="YYYY-MM-DD", help="default today"
    )
    learning = sub(
        report_commands, "learning", help="record or list learning outputs (briefings, training)"
    )
    learning_commands = learning.add_subparsers(
        dest="learning_command", required=True, metavar="COMMAND"
    )
    add = sub(learning_commands, "add", help="record a 7-minute briefing or training produced")
    add.add_argument("--kind", choices=LEARNING_KINDS, required=True)
    add.add_argument("--title", type=_title, required=True)
    add.add_argument("--case", metavar="CASE_REF", help="the review it came from")
    add.add_argument("--on", type=iso_date, required=True, metavar="YYYY-MM-DD")
    add.add_argument("--partnership", type=_partnership, metavar="CODE")
    add.add_argument("--by-name", metavar="NAME", help="who records it (default $SRO_USER_NAME)")
    listing = sub(learning_commands, "list", help="learning outputs recorded")
    listing.add_argument("--year", type=_year, metavar="YYYY-YY")
    listing.add_argument("--partnership", type=_partnership, metavar="CODE")


# ====================================================================== plain flags


def add_send_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    def d(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--file",
        default=d(None),
        metavar="DECISION.json",
        help="take the decision from a JSON file ('-' for stdin); flags given override its fields",
    )
    parser.add_argument(
        "--signal",
        action="store_true",
        default=d(False),
        help="send as the 'decision' signal (fire and forget; a refusal shows in the history)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        default=d(False),
        help="validate and print the decision without sending it",
    )
    parser.add_argument("--json", action="store_true", default=d(False), help="machine output")
    parser.add_argument(
        "--timeout",
        type=float,
        default=d(DEFAULT_TIMEOUT),
        metavar="SECONDS",
        help=f"how long to wait for the case to answer (default {DEFAULT_TIMEOUT:g})",
    )


def add_by_flags(parser: argparse.ArgumentParser, who: str) -> None:
    parser.add_argument(
        "--by-name", dest="by__name", metavar="NAME", help=f"{who}: name (default: $SRO_USER_NAME)"
    )
    parser.add_argument(
        "--by-role",
        dest="by__role",
        choices=[r.value for r in Role],
        help=f"{who}: role (default: $SRO_USER_ROLE)",
    )
    parser.add_argument(
        "--by-agency",
        dest="by__agency",
        choices=[a.value for a in Agency],
        help=f"{who}: agency (default: $SRO_USER_AGENCY)",
    )


def new_parser(
    parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, **kwargs: Any
) -> argparse.ArgumentParser:
    return parent.add_parser(name, allow_abbrev=False, **kwargs)
