"""`sro escalation raise|resolve|escalate|status|list`: professional disagreements, through
the gateway's EscalationClient. The concern stays in the payload: never in ids or listings."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from config import settings
from gateway.cases import CaseClient
from gateway.errors import (
    Closed,
    GatewayError,
    NoAnswer,
    NotFound,
    NotReady,
    Refused,
    SearchRefused,
)
from gateway.escalations import EscalationClient
from gateway.refs import (
    PARTNERSHIP_PATTERN,
    escalation_ref_of,
    escalation_visibility_query,
    escalation_workflow_id,
    workflow_id,
)
from safeguarding.calendar import WorkingCalendar
from safeguarding.clock import uk_today
from safeguarding.decisions import MAX_DECISION_BYTES, InvalidDecision, validation_problems
from safeguarding.escalation import (
    Disagreement,
    EscalationStatus,
    StageRecord,
    parse_escalation_decision,
)
from safeguarding.profiles import ProfileError, profile_for
from safeguarding.settings import PartnershipSettings
from starter.common import (
    PROG,
    CliError,
    cli_error,
    moment,
    new_decision_id,
    no_worker,
    normalise_case_ref,
    normalise_escalation_ref,
    person_payload,
    print_json,
    server_words,
    table,
)
from starter.flags import problems
from starter.session import open_client
from workflows import search_attributes as sa


async def dispatch(args: argparse.Namespace) -> int:
    command = args.escalation_command
    if command == "raise":
        return await cmd_escalation_raise(args, datetime.now(UTC))
    if command in ("resolve", "escalate"):
        return await cmd_escalation_decide(args)
    if command == "status":
        return await cmd_escalation_status(args)
    return await cmd_escalation_list(args)


def escalation_error(err: GatewayError, ref: str, timeout: float) -> CliError:
    """A failed call about one escalation, in the command line's words."""
    if isinstance(err, NoAnswer):
        return no_worker(ref, timeout)
    if isinstance(err, NotFound):
        return CliError(f"no escalation {ref} (no workflow {escalation_workflow_id(ref)})")
    return cli_error(err)


# ====================================================================== raise


#: Disagreement and decision fields as the flags that set them, for error messages.
_ESCALATION_FLAGS = {
    "partnership": "--partnership",
    "raised_with": "--with",
    "concern": "--concern",
    "raised_on": "--raised-on",
    "linked_case_ref": "--case",
    "raised_by.name": "--by-name",
    "raised_by.role": "--by-role",
    "raised_by.agency": "--by-agency",
    "by.name": "--by-name",
    "by.role": "--by-role",
    "by.agency": "--by-agency",
    "decision_id": "--decision-id",
    "outcome": "--outcome",
    "reason": "--reason",
}

_WHO_HINT = (
    "say who with --by-name/--by-role/--by-agency (or SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY)"
)


def _as_flags(problems: list[str]) -> list[str]:
    """`raised_with: Field required` -> `--with: Field required`."""
    lines = []
    for line in problems:
        where, sep, what = line.partition(": ")
        where = where.removeprefix("resolve.").removeprefix("escalate.")  # the union's tag
        flag = _ESCALATION_FLAGS.get(where)
        lines.append(f"{flag}: {what}" if sep and flag else line)
    if any(line.startswith("--by-") for line in lines):
        lines.append(_WHO_HINT)
    return lines


def disagreement_payload(
    args: argparse.Namespace, today: date, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The raw disagreement from the flags (not yet validated)."""
    env = settings().environ("SRO_USER_") if env is None else env
    raw: dict[str, Any] = {
        "raised_by": person_payload(args, env),
        "raised_on": args.raised_on or today.isoformat(),
    }
    if args.partnership is not None:
        raw["partnership"] = args.partnership.strip().upper()
    if args.raised_with is not None:
        raw["raised_with"] = args.raised_with
    if args.concern is not None:
        raw["concern"] = args.concern
    if args.linked_case_ref is not None:
        raw["linked_case_ref"] = normalise_case_ref(args.linked_case_ref)
    return raw


def check_disagreement(
    raw: dict[str, Any], today: date
) -> tuple[Disagreement, PartnershipSettings]:
    """The disagreement validated, and its partnership's settings: before connecting."""
    try:
        disagreement = Disagreement.model_validate(raw)
    except ValidationError as err:
        raise CliError(
            "the disagreement is not valid; nothing was started:",
            details=_as_flags(validation_problems(err)),
        ) from None
    if disagreement.raised_on is not None and disagreement.raised_on > today:
        raise CliError(f"--raised-on: {disagreement.raised_on} is in the future")
    try:
        settings = profile_for(disagreement.partnership)
    except ProfileError as err:
        raise CliError(f"the disagreement is not valid; nothing was started: {err}") from None
    case_ref = disagreement.linked_case_ref
    if case_ref is not None and case_ref.split("-", 1)[0] != disagreement.partnership:
        raise CliError(
            f"--case {case_ref} belongs to {case_ref.split('-', 1)[0]}, not "
            f"{disagreement.partnership}; raise the escalation under the case's partnership"
        )
    return disagreement, settings


def stage_one_hint(settings: PartnershipSettings, today: date) -> tuple[str, date | None]:
    """What stage 1 is and when its time runs out (the workflow computes the same on the same
    calendar; this is the expected date, `status` shows the one it set)."""
    policy = settings.escalation_policy
    first = policy.stage(1)
    text = f"Stage 1: {first.name} ({first.who})"
    if first.working_days is None:
        return text + ", with no time limit.", None
    due = WorkingCalendar(settings.closure_days).add_working_days(today, first.working_days)
    text += f", to be resolved within {first.working_days} working days: by {due}."
    if len(policy.stages) > 1:
        text += f" Unresolved by then, it moves to stage 2 ({policy.stage(2).name}) by itself."
    return text, due


def _escalation_details(disagreement: Disagreement) -> str:
    # No personal data: not the concern, not even who raised it.
    text = (
        f"Professional disagreement raised by {disagreement.raised_by.agency.label} with "
        f"{disagreement.raised_with.label}, on {disagreement.raised_on}.\n"
    )
    if disagreement.linked_case_ref:
        text += f"Concerns case {disagreement.linked_case_ref}.\n"
    return text + f"Started with `{PROG} escalation raise`. See `{PROG} escalation status`."


async def _check_case_exists(cases: CaseClient, case_ref: str) -> None:
    try:
        await cases.require(case_ref)
    except NotFound:
        raise CliError(
            f"--case: no case {case_ref} (no workflow {workflow_id(case_ref)}); nothing was started"
        ) from None


async def cmd_escalation_raise(args: argparse.Namespace, now: datetime) -> int:
    today = uk_today(now)
    disagreement, settings = check_disagreement(disagreement_payload(args, today), today)
    hint, due = stage_one_hint(settings, today)
    if args.dry_run:
        body = disagreement.model_dump(mode="json")
        if args.json:
            print_json({"valid": True, "started": False, "disagreement": body})
        else:
            print("The disagreement is valid (dry run: nothing was started):")
            print(json.dumps(body, indent=2, ensure_ascii=False))
            print(hint)
        return 0

    client = await open_client()
    if disagreement.linked_case_ref is not None:
        await _check_case_exists(CaseClient(client), disagreement.linked_case_ref)
    started = await EscalationClient(client).raise_(
        disagreement,
        year=(disagreement.raised_on or today).year,
        details=_escalation_details(disagreement),
    )
    ref, queue, partnership = started.ref, started.task_queue, disagreement.partnership
    policy = settings.escalation_policy
    if args.json:
        print_json(
            {
                "escalation_ref": ref,
                "workflow_id": started.workflow_id,
                "run_id": started.run_id,
                "partnership": partnership,
                "task_queue": queue,
                "stage": 1,
                "stage_name": policy.stage(1).name,
                "expected_due_on": due.isoformat() if due else None,
                "linked_case_ref": disagreement.linked_case_ref,
            }
        )
        return 0
    print(f"Escalation {ref} raised for {partnership} with {disagreement.raised_with.label}.")
    print(f"  workflow {started.workflow_id} on task queue {queue}")
    print(f"  {hint}")
    print(
        f"  {settings.name} is told if it reaches stage {policy.partnership_notified_from_stage}; "
        f"{settings.review_group} then oversees it."
    )
    if disagreement.linked_case_ref:
        print(f"  Case {disagreement.linked_case_ref}'s history records it.")
    print("Next:")
    steps = [
        (f"{PROG} escalation status {ref}", "stage, time limit, history"),
        (f"{PROG} escalation resolve {ref} --outcome ...", "resolved: this ends it"),
        (f"{PROG} escalation escalate {ref} --reason ...", "move it up a stage now"),
    ]
    width = max(len(command) for command, _ in steps)
    for command, what in steps:
        print(f"  {command.ljust(width)}   {what}")
    return 0


# ====================================================================== resolve, escalate


def escalation_decision_payload(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The raw resolve/escalate decision from the flags, with `by` from the environment when
    the flags do not say and a fresh decision id unless given. Not yet validated."""
    env = settings().environ("SRO_USER_") if env is None else env
    payload: dict[str, Any] = {
        "action": args.action,
        "decision_id": args.decision_id or new_decision_id(),
        "by": person_payload(args, env),
    }
    field = "outcome" if args.action == "resolve" else "reason"
    if getattr(args, field) is not None:
        payload[field] = getattr(args, field)
    return payload


def validate_escalation_decision(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        decision = parse_escalation_decision(payload)
    except InvalidDecision as err:
        raise CliError(
            f"the {payload.get('action')} decision is not valid; nothing was sent:",
            details=_as_flags(problems(err, str(payload.get("action")))),
        ) from None
    body = decision.model_dump(mode="json")
    if len(json.dumps(body).encode()) > MAX_DECISION_BYTES:
        raise CliError(f"the decision is larger than {MAX_DECISION_BYTES} bytes")
    return body


def _due_text(status: EscalationStatus) -> str:
    return f"by {status.due_on}" if status.due_on else "no time limit (the policy's last stage)"


async def cmd_escalation_decide(args: argparse.Namespace) -> int:
    ref = normalise_escalation_ref(args.escalation_ref)
    body = validate_escalation_decision(escalation_decision_payload(args))
    decision_id = body["decision_id"]
    if args.dry_run:
        if args.json:
            print_json({"escalation_ref": ref, "sent": False, "decision": body})
        else:
            print(
                f"The decision is well formed (dry run: nothing was sent to {ref}; the "
                f"escalation itself checks its stage):"
            )
            print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0

    escalations = EscalationClient(await open_client())
    timeout = timedelta(seconds=args.timeout)
    try:
        if args.signal:
            await escalations.send_decision(ref, body, timeout=timeout)
            _print_sent_signal(args, ref, decision_id)
            return 0
        status = await escalations.decide(ref, body, timeout=timeout)
    except Refused as err:
        print(f"refused ({err.kind}): {err.message}", file=sys.stderr)
        return 2
    except NoAnswer:
        raise CliError(
            f"{ref} did not answer within {args.timeout:g} s (is the worker running?). "
            f"The decision may or may not have been applied: re-send it with "
            f"--decision-id {decision_id} (it applies once), then check "
            f"`{PROG} escalation status {ref}`.",
            code=1,
        ) from None
    except GatewayError as err:
        raise escalation_error(err, ref, args.timeout) from None
    _print_decided(args, status, ref, decision_id)
    return 0


def _print_sent_signal(args: argparse.Namespace, ref: str, decision_id: str) -> None:
    if args.json:
        print_json({"escalation_ref": ref, "decision_id": decision_id, "sent": "signal"})
        return
    print(f"Sent {args.action} to {ref} as a signal (decision id {decision_id}).")
    print(
        f"A signal gets no answer: if the escalation refuses it, the refusal shows in "
        f"its history (`{PROG} escalation status {ref}`)."
    )


def _print_decided(
    args: argparse.Namespace, status: EscalationStatus, ref: str, decision_id: str
) -> None:
    if args.json:
        print_json(status.model_dump(mode="json"))
        return
    if status.resolved:
        print(f"Escalation {ref} resolved at stage {status.stage} ({status.stage_name}).")
    else:
        print(
            f"Escalation {ref} is now at stage {status.stage}: {status.stage_name} "
            f"({status.who}), {_formal(status.formal)}; to be resolved {_due_text(status)}."
        )
        if status.partnership_notified:
            print(f"  {status.partnership_name} has been told; {status.overseen_by} oversees it.")
    print(f"  decision id: {decision_id}")


# ====================================================================== status


def _formal(formal: bool) -> str:
    return "formal" if formal else "informal"


_LEFT_BECAUSE = {"resolved": "resolved", "timed_out": "time ran out", "escalated": "escalated"}


def _stage_row(record: StageRecord) -> list[str]:
    return [
        str(record.stage),
        record.name,
        _formal(record.formal),
        record.who,
        moment(record.entered_at),
        str(record.due_on) if record.due_on else "-",
        moment(record.left_at) if record.left_at else "-",
        _LEFT_BECAUSE.get(record.left_because or "", "-"),
    ]


def render_escalation(status: EscalationStatus) -> list[str]:
    lines = [f"Escalation {status.escalation_ref} — {status.partnership_name}"]
    facts = [
        ("Stage", f"{status.stage}, {status.stage_name} ({_formal(status.formal)})"),
        ("With", status.who),
    ]
    if status.resolved:
        facts.append(("State", f"resolved at stage {status.stage}"))
        if status.resolution:
            facts.append(("Resolution", status.resolution))
    else:
        facts.append(("State", "open"))
        facts.append(("Due", str(status.due_on) if status.due_on else "no time limit"))
    facts += [
        ("Raised by", status.raised_by.describe()),
        ("Raised with", status.raised_with.label),
        ("Partnership notified", "yes" if status.partnership_notified else "no"),
        ("Overseen by", status.overseen_by),
        ("Linked case", status.linked_case_ref or "none"),
    ]
    width = max(len(k) for k, _ in facts) + 1
    lines += [f"  {(k + ':').ljust(width)} {v}" for k, v in facts]

    lines.append("")
    lines.append("Stages")
    header = ["STAGE", "NAME", "FORMAL", "WHO", "ENTERED", "DUE", "LEFT", "WHY"]
    lines += table([header] + [_stage_row(r) for r in status.stages])

    lines.append("")
    lines.append("History")
    lines += [f"  {moment(h.at)}  {h.text}" for h in status.history]
    return lines


async def cmd_escalation_status(args: argparse.Namespace) -> int:
    ref = normalise_escalation_ref(args.escalation_ref)
    escalations = EscalationClient(await open_client())
    try:
        status = await escalations.status(ref, timeout=timedelta(seconds=args.timeout))
    except NotReady as err:
        raise CliError(f"{ref} could not answer: {server_words(err)}", code=1) from None
    except Closed:
        raise escalation_error(NotFound("", ref=ref), ref, args.timeout) from None
    except GatewayError as err:
        raise escalation_error(err, ref, args.timeout) from None
    if args.json:
        print(status.model_dump_json(indent=2))
    else:
        print("\n".join(render_escalation(status)))
    return 0


# ====================================================================== list


async def cmd_escalation_list(args: argparse.Namespace) -> int:
    partnership = args.partnership.strip().upper() if args.partnership else None
    settings: PartnershipSettings | None = None
    if args.oversight:
        if partnership is None:
            raise CliError(
                "--oversight needs --partnership CODE: the threshold stage is the partnership's"
            )
        if not PARTNERSHIP_PATTERN.match(partnership):
            raise CliError(f"--partnership: not a partnership code: {partnership[:20]!r}")
        try:
            settings = profile_for(partnership)
        except ProfileError as err:
            raise CliError(f"--partnership: {err}") from None
    threshold = settings.escalation_policy.oversight_threshold if settings else None
    query = escalation_visibility_query(
        partnership=partnership, min_stage=threshold, include_closed=args.all
    )
    escalations = EscalationClient(await open_client())
    rows: list[dict[str, Any]] = []
    try:
        async for execution in escalations.list(query, limit=args.limit):
            attrs = execution.typed_search_attributes
            rows.append(
                {
                    "escalation_ref": escalation_ref_of(execution.id),
                    "workflow_id": execution.id,
                    "status": execution.status.name if execution.status else None,
                    "stage": attrs.get(sa.ESCALATION_STAGE),
                    "partnership": attrs.get(sa.PARTNERSHIP),
                    "started_at": execution.start_time.isoformat(),
                    "closed_at": execution.close_time.isoformat() if execution.close_time else None,
                }
            )
    except SearchRefused as err:
        raise CliError(
            f"Temporal refused the search ({server_words(err)}); are the search attributes "
            f"registered (EscalationStage, Partnership)?",
            code=1,
        ) from None
    rows.sort(key=lambda r: (-(r["stage"] or 0), r["started_at"], r["escalation_ref"]))
    if args.json:
        print_json(rows)
        return 0
    if settings is not None:
        print(
            f"Escalations {settings.review_group} oversees: stage {threshold} and above "
            f"({settings.name})"
        )
    if not rows:
        print(
            "No escalations match."
            if args.all
            else "No open escalations match (--all includes resolved ones)."
        )
        return 0
    header = ["ESCALATION", "STAGE", "PARTNERSHIP", "RAISED"]
    if args.all:
        header.append("STATUS")
    grid = [header]
    for r in rows:
        stage = r["stage"]
        row = [
            r["escalation_ref"],
            str(stage) if stage is not None else "-",
            r["partnership"] or "-",
            moment(datetime.fromisoformat(r["started_at"])),
        ]
        if args.all:
            row.append((r["status"] or "-").lower())
        grid.append(row)
    print("\n".join(table(grid, indent="")))
    suffix = "" if len(rows) < args.limit else f" (the first {args.limit}; see --limit)"
    print(f"{len(rows)} escalation{'s' if len(rows) != 1 else ''}{suffix}")
    return 0
