"""`sro refer`, `sro decide`, `sro list`: cases, through the gateway's CaseClient (`sro status`:
starter/case_status.py).

Thin on purpose: flags become the pydantic models in `safeguarding`, validated before anything
connects; the rules live in the workflow. Personal data never goes into ids or summaries.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from config import settings
from gateway.cases import CaseClient
from gateway.errors import (
    Closed,
    GatewayError,
    NoAnswer,
    Refused,
    SearchRefused,
)
from gateway.refs import case_ref_of, visibility_query
from safeguarding.case import DecisionResult
from safeguarding.clock import uk_today
from safeguarding.decisions import (
    DECISION_MODELS,
    MAX_DECISION_BYTES,
    InvalidDecision,
    parse_decision,
)
from safeguarding.fields import shape_of
from safeguarding.profiles import ProfileError, profile_for
from safeguarding.referral import (
    MAX_REFERRAL_BYTES,
    InvalidReferral,
    Referral,
    parse_referral,
    referral_problems,
)
from safeguarding.vocabulary import DecisionKind
from starter.case_status import case_error, deadline_line
from starter.common import (
    PROG,
    USER_ENV,
    CliError,
    new_decision_id,
    normalise_case_ref,
    print_json,
    read_json_file,
    server_words,
    table,
)
from starter.flags import flag, problems
from starter.session import open_client
from workflows import search_attributes as sa


async def dispatch(args: argparse.Namespace) -> int:
    if args.command == "refer":
        return await cmd_refer(args, datetime.now(UTC))
    if args.command == "decide":
        return await cmd_decide(args)
    return await cmd_list(args)


# ====================================================================== refer


_REFERRAL_FLAGS = (
    "partnership",
    "received_on",
    "incident_on",
    "la_aware_on",
    "harm",
    "abuse_or_neglect_suspected",
    "where_harmed",
    "referrer_name",
    "referrer_agency",
    "discussed_with_safeguarding_lead",
    "child",
    "child_name",
    "child_age",
    "care_leaver",
    "agency",
    "summary",
    "late_reason",
)


def _child(text: str) -> dict[str, Any]:
    name, sep, age = text.rpartition(":")
    if not sep:
        return {"name": text.strip()}
    if not age.strip():
        return {"name": name.strip()}
    try:
        return {"name": name.strip(), "age_years": int(age)}
    except ValueError:
        raise CliError(
            "--child takes NAME or NAME:AGE with AGE a whole number; for a name with a colon "
            "use --child-name and --child-age"
        ) from None


def referral_payload(args: argparse.Namespace, today: date) -> dict[str, Any]:
    """The raw referral from --file or the flags (not yet validated)."""
    given = [f for f in _REFERRAL_FLAGS if getattr(args, f) not in (None, [])]
    if args.file is not None:
        if given:
            flags = ", ".join(flag(f) for f in given)
            raise CliError(f"give the referral as --file or as flags, not both (also got {flags})")
        loaded = read_json_file(args.file, what="referral", limit=MAX_REFERRAL_BYTES)
        if not isinstance(loaded, dict):
            raise CliError(f"the referral must be a JSON object, not {type(loaded).__name__}")
        return dict(loaded)

    raw: dict[str, Any] = {"received_on": args.received_on or today.isoformat()}
    simple = (
        "partnership",
        "incident_on",
        "la_aware_on",
        "harm",
        "abuse_or_neglect_suspected",
        "where_harmed",
    )
    for name in simple:
        if getattr(args, name) is not None:
            raw[name] = getattr(args, name)
    if isinstance(raw.get("partnership"), str):
        raw["partnership"] = raw["partnership"].strip().upper()
    referrer: dict[str, Any] = {}
    if args.referrer_name is not None:
        referrer["name"] = args.referrer_name
    if args.referrer_agency is not None:
        referrer["agency"] = args.referrer_agency
    if args.discussed_with_safeguarding_lead is not None:
        referrer["discussed_with_safeguarding_lead"] = args.discussed_with_safeguarding_lead
    if referrer:
        raw["referrer"] = referrer
    children = [_child(c) for c in args.child]
    if args.child_name is not None:
        children.append({"name": args.child_name})
        if args.child_age is not None:
            children[-1]["age_years"] = args.child_age
    elif args.child_age is not None:
        raise CliError("--child-age needs --child-name (or use --child NAME:AGE)")
    if args.care_leaver:
        for child in children:
            child["care_leaver"] = True
    if children:
        raw["children"] = children
    if args.agency:
        raw["agencies_involved"] = args.agency
    if args.summary is not None:
        raw["summary"] = args.summary
    if args.late_reason is not None:
        raw["late_reason"] = args.late_reason
    return raw


def check_partnership_rules(referral: Referral, today: date) -> None:
    """What the partnership asks of a referral (`referral_problems`, the same rule the console
    applies), checked before anything starts."""
    try:
        settings = profile_for(referral.partnership)
    except ProfileError as err:
        raise CliError(f"the referral is not valid; nothing was started: {err}") from None
    problems = referral_problems(referral, settings, today)
    if problems:
        raise CliError(
            "the referral is not valid; nothing was started:",
            details=[f"{p}{_FLAG_HINTS.get(p.field, '')}" for p in problems],
        )


#: Where the command line takes a field the domain says is missing.
_FLAG_HINTS = {
    "late_reason": " (--late-reason, or late_reason in the file)",
    "referrer.discussed_with_safeguarding_lead": (
        " (--discussed-with-safeguarding-lead or --no-discussed-with-safeguarding-lead, or "
        "referrer.discussed_with_safeguarding_lead in the file)"
    ),
}


def _static_details(referral: Referral) -> str:
    # No personal data: not the children, not the summary, not even the referrer's name.
    return (
        f"Referral from {referral.referrer.agency.label}, received {referral.received_on}.\n"
        f"Started with `{PROG} refer`. See `{PROG} status` for the case."
    )


async def cmd_refer(args: argparse.Namespace, now: datetime) -> int:
    today = uk_today(now)
    raw = referral_payload(args, today)
    try:
        referral = parse_referral(raw, today=today)
    except InvalidReferral as err:
        raise CliError(
            "the referral is not valid; nothing was started:", details=problems(err, "referral")
        ) from None
    check_partnership_rules(referral, today)
    if args.dry_run:
        body = referral.model_dump(mode="json")
        if args.json:
            print_json({"valid": True, "started": False, "referral": body})
        else:
            print("The referral is valid (dry run: nothing was started):")
            print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0

    cases = CaseClient(await open_client())
    started = await cases.start(referral, details=_static_details(referral))
    case_ref, queue = started.ref, started.task_queue
    if args.quiet:
        print(case_ref)
        return 0
    if args.json:
        print_json(
            {
                "case_ref": case_ref,
                "workflow_id": started.workflow_id,
                "run_id": started.run_id,
                "partnership": referral.partnership,
                "task_queue": queue,
            }
        )
        return 0
    print(f"Case {case_ref} opened for {referral.partnership}.")
    print(f"  workflow {started.workflow_id} on task queue {queue}")
    print("Next:")
    steps = [
        (f"{PROG} status {case_ref}", "stage, deadlines, decisions allowed now"),
        (f"{PROG} kinds triage", "what a triage decision needs"),
        (f"{PROG} decide {case_ref} triage --outcome ...", "record the triage decision"),
    ]
    width = max(len(command) for command, _ in steps)
    for command, what in steps:
        print(f"  {command.ljust(width)}   {what}")
    return 0


# ====================================================================== decide


def decision_payload(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The raw decision from --file and the flags given (flags win), with `by` from the
    environment and a fresh decision id when neither says. Not yet validated."""
    env = settings().environ("SRO_USER_") if env is None else env
    payload: dict[str, Any] = {}
    if args.file is not None:
        raw = read_json_file(args.file, what="decision", limit=MAX_DECISION_BYTES)
        if not isinstance(raw, dict):
            raise CliError(f"the decision must be a JSON object, not {type(raw).__name__}")
        payload.update(raw)
    if args.kind is not None:
        if "kind" in payload and payload["kind"] != args.kind:
            raise CliError(
                f"the decision file is a {payload['kind']!r} decision, not {args.kind!r}"
            )
        payload["kind"] = args.kind
    if "kind" not in payload:
        raise CliError(f"say which decision: `{PROG} decide CASE_REF KIND ...` (see `sro kinds`)")
    try:
        model = DECISION_MODELS[DecisionKind(payload["kind"])]
    except ValueError:
        known = ", ".join(k.value for k in DecisionKind)
        raise CliError(
            f"unknown decision kind {str(payload['kind'])[:40]!r}; one of {known}"
        ) from None

    for name, field in model.model_fields.items():
        if name == "kind":
            continue
        shape = shape_of(field)
        if shape.kind == "model":
            assert shape.item is not None
            current = payload.get(name)
            if current is not None and not isinstance(current, dict):
                continue  # not an object: validation says so
            nested: dict[str, Any] = dict(current or {})
            for sub in shape.item.model_fields:
                if hasattr(args, f"{name}__{sub}"):
                    nested[sub] = getattr(args, f"{name}__{sub}")
                elif name == "by" and sub not in nested and env.get(USER_ENV.get(sub, "")):
                    nested[sub] = env[USER_ENV[sub]]
            if nested:
                payload[name] = nested
        elif hasattr(args, name):
            payload[name] = getattr(args, name)
    if not payload.get("decision_id"):
        payload["decision_id"] = new_decision_id()
    return payload


def _validate_decision(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        # The case history records that it came from the command line.
        decision = parse_decision({**payload, "via": "sro"})
    except InvalidDecision as err:
        kind = payload.get("kind", "the")
        details = problems(err, "decision")
        if any(line.startswith("by") for line in details):
            details.append(
                "say who decides with --by-name/--by-role/--by-agency "
                "(or SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY)"
            )
        details.append(f"see `{PROG} kinds {kind}` for the fields")
        raise CliError(
            f"the {kind} decision is not valid; nothing was sent:", details=details
        ) from None
    body = decision.model_dump(mode="json", exclude_none=True)
    if len(json.dumps(body).encode()) > MAX_DECISION_BYTES:
        raise CliError(f"the decision is larger than {MAX_DECISION_BYTES} bytes")
    return body


async def cmd_decide(args: argparse.Namespace) -> int:
    case_ref = normalise_case_ref(args.case_ref)
    body = _validate_decision(decision_payload(args))
    decision_id = body["decision_id"]
    if args.dry_run:
        if args.json:
            print_json({"case_ref": case_ref, "sent": False, "decision": body})
        else:
            print(
                f"The decision is well formed (dry run: nothing was sent to {case_ref}; "
                f"the case itself checks the stage and who may decide):"
            )
            print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0

    cases = CaseClient(await open_client())
    if args.signal:
        try:
            await cases.send_decision(case_ref, body, timeout=timedelta(seconds=args.timeout))
        except GatewayError as err:
            raise case_error(err, case_ref, args.timeout) from None
        print_sent_signal(args, body, case_ref)
        return 0
    try:
        result = await cases.decide(case_ref, body, timeout=timedelta(seconds=args.timeout))
    except Refused as err:
        if isinstance(err, Closed):
            raise case_error(err, case_ref, args.timeout) from None
        print(f"refused ({err.kind}): {err.message}", file=sys.stderr)
        return 2
    except NoAnswer:
        raise CliError(
            f"{case_ref} did not answer within {args.timeout:g} s (is the worker running?). "
            f"The decision may or may not have been applied: re-send it with "
            f"--decision-id {decision_id} (it applies once), then check `{PROG} status`.",
            code=1,
        ) from None
    except GatewayError as err:
        raise case_error(err, case_ref, args.timeout) from None
    print_decided(args, result, case_ref, decision_id)
    return 0


def print_sent_signal(args: argparse.Namespace, body: dict[str, Any], case_ref: str) -> None:
    decision_id = body["decision_id"]
    if args.json:
        print_json({"case_ref": case_ref, "decision_id": decision_id, "sent": "signal"})
        return
    print(f"Sent {body['kind']} to {case_ref} as a signal (decision id {decision_id}).")
    print(
        f"A signal gets no answer: if the case refuses it, the refusal shows in its "
        f"history (`{PROG} status {case_ref}`)."
    )


def print_decided(
    args: argparse.Namespace, result: DecisionResult, case_ref: str, decision_id: str
) -> None:
    if args.json:
        print_json(result.model_dump(mode="json"))
        return
    if result.duplicate:
        print(f"Decision {decision_id} was already applied; nothing changed.")
    else:
        print(result.message)
    print(f"  case: {case_ref}  stage: {result.stage.value}  decision id: {result.decision_id}")
    if result.deadlines:
        print("  deadlines:")
        for d in result.deadlines:
            print(f"    {deadline_line(d)}")


# ====================================================================== list


async def cmd_list(args: argparse.Namespace) -> int:
    query = visibility_query(
        stage=args.stage,
        route=args.route,
        partnership=args.partnership.strip().upper() if args.partnership else None,
        overdue=args.overdue,
        include_closed=args.all,
    )
    cases = CaseClient(await open_client())
    rows: list[dict[str, Any]] = []
    try:
        async for execution in cases.list(query, limit=args.limit):
            attrs = execution.typed_search_attributes
            next_deadline = attrs.get(sa.NEXT_DEADLINE)
            due = sa.due_on(next_deadline).isoformat() if next_deadline else None
            rows.append(
                {
                    "case_ref": case_ref_of(execution.id),
                    "workflow_id": execution.id,
                    "status": execution.status.name if execution.status else None,
                    "stage": attrs.get(sa.REVIEW_STAGE),
                    "route": attrs.get(sa.REVIEW_ROUTE),
                    "partnership": attrs.get(sa.PARTNERSHIP),
                    "next_deadline": due,
                    "overdue": attrs.get(sa.OVERDUE),
                    "started_at": execution.start_time.isoformat(),
                }
            )
    except SearchRefused as err:
        raise CliError(
            f"Temporal refused the search ({server_words(err)}); are the search attributes "
            f"registered (ReviewStage, ReviewRoute, Partnership, NextDeadline, Overdue)?",
            code=1,
        ) from None
    rows.sort(key=lambda r: (r["next_deadline"] is None, r["next_deadline"] or "", r["case_ref"]))
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No cases match." if args.all else "No open cases match (--all includes closed).")
        return 0
    header = ["CASE", "STAGE", "NEXT DEADLINE", "OVERDUE"]
    if args.all:
        header.append("STATUS")
    grid = [header]
    for r in rows:
        overdue = {True: "YES", False: "no", None: "-"}[r["overdue"]]
        row = [r["case_ref"], r["stage"] or "-", r["next_deadline"] or "-", overdue]
        if args.all:
            row.append((r["status"] or "-").lower())
        grid.append(row)
    print("\n".join(table(grid, indent="")))
    suffix = "" if len(rows) < args.limit else f" (the first {args.limit}; see --limit)"
    print(f"{len(rows)} case{'s' if len(rows) != 1 else ''}{suffix}")
    return 0
