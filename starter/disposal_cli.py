"""`sro register hold|holds|dispose`: legal holds and the disposal run (issue 14, point 3).

    sro register hold --case REF --reason "police investigation"      put a case on hold
    sro register hold --case REF --reason "investigation closed" --lift
    sro register holds [--case REF]          holds (set and lifted) and disposals recorded
    sro register dispose --dry-run           closed cases whose retention has run out
    sro register dispose --run               start the disposal run (a workflow) and wait

Who is `SRO_USER_NAME`, else the operating-system user (as `sro status` records views).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, date, datetime

from activities.disposal import due_cases
from activities.disposal_io import DisposalRunInput
from gateway.disposal import DisposalClient, new_run_id
from gateway.errors import GatewayError
from register import disposal
from safeguarding.clock import uk_today
from starter.access import viewer
from starter.common import CliError, normalise_case_ref
from starter.session import open_client

COMMANDS = ("hold", "holds", "dispose")


async def dispatch(args: argparse.Namespace) -> int:
    if args.register_command == "hold":
        return await asyncio.to_thread(cmd_hold, args)
    if args.register_command == "holds":
        return await asyncio.to_thread(cmd_holds, args)
    return await cmd_dispose(args)


def _who() -> str:
    return viewer().username[:80]


def cmd_hold(args: argparse.Namespace) -> int:
    case_ref = normalise_case_ref(args.case_ref)
    try:
        if args.lift:
            disposal.lift_hold(case_ref, by=_who(), why=args.reason)
            print(f"{case_ref}: legal hold lifted")
        else:
            disposal.set_hold(case_ref, by=_who(), reason=args.reason)
            print(f"{case_ref}: under a legal hold (no disposal until it is lifted)")
    except disposal.Refused as err:
        raise CliError(str(err), code=1) from None
    return 0


def cmd_holds(args: argparse.Namespace) -> int:
    case_ref = normalise_case_ref(args.case_ref) if args.case_ref else None
    found = disposal.holds(case_ref)
    for h in found:
        state = (
            f"lifted {h.lifted_at:%Y-%m-%d %H:%M} by {h.lifted_by}: {h.lifted_why}"
            if h.lifted_at
            else "IN FORCE"
        )
        print(
            f"{h.case_ref}  hold set {h.set_at:%Y-%m-%d %H:%M} by {h.set_by}: {h.reason}; {state}"
        )
    records = disposal.disposals(case_ref)
    for r in records:
        print(
            f"{r.case_ref}  {r.outcome} {r.rule} {r.at:%Y-%m-%d %H:%M} by {r.by} (run {r.run_id})"
        )
        print(f"    rule: {r.rule_text}\n    {r.detail}")
    if not found and not records:
        print("No legal holds and no disposals recorded.")
    return 0


async def cmd_dispose(args: argparse.Namespace) -> int:
    today = date.fromisoformat(args.on) if args.on else uk_today(datetime.now(UTC))
    cases = [normalise_case_ref(c) for c in args.cases or []]
    input = DisposalRunInput(
        run_id=new_run_id(today),
        by=_who(),
        today=today,
        partnership=args.partnership,
        case_refs=cases,
    )
    if args.dry_run:
        found = await asyncio.to_thread(due_cases, input)
        for case in found.cases:
            held = "  REFUSED: legal hold" if case.held else ""
            print(f"{case.case_ref}  {', '.join(case.rules)}{held}")
        print(f"{len(found.cases)} case(s) due on {today}" + (" (and more)" if found.more else ""))
        return 0
    client = await open_client()
    runs = DisposalClient(client)
    try:
        handle = await runs.start(
            by=input.by,
            today=today,
            partnership=input.partnership,
            case_refs=cases,
            run_id=input.run_id,
        )
        print(f"Disposal run {input.run_id} started ({handle.id}); waiting for it...")
        result = await runs.result(handle)
    except GatewayError as err:
        raise CliError(f"the disposal run failed: {err.message}", code=1) from None
    print(
        f"Disposal run {result.run_id}: {len(result.disposed)} case(s) disposed of, "
        f"{len(result.refused)} refused (legal hold)."
        + (" More were due: run again." if result.more else "")
    )
    for ref in result.refused:
        print(f"  refused: {ref}")
    return 0
