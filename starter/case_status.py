"""`sro status CASE`: a case's stage, deadlines, outstanding work and history.

A module of its own, kept light (no workflow, no domain rules: gateway/reading.py), because
coordinators type it dozens of times a day. The other case commands reuse its error wording and
its rendering (starter/cases.py).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from gateway.errors import Closed, GatewayError, NoAnswer, NotFound, NotReady
from gateway.reading import CaseReader
from gateway.refs import workflow_id
from safeguarding.case_views import CaseStatus, DeadlineView
from safeguarding.text import printable
from starter.common import (
    CliError,
    cli_error,
    moment,
    no_worker,
    normalise_case_ref,
    server_words,
    spaced,
    table,
)
from starter.session import open_client


async def dispatch(args: argparse.Namespace) -> int:
    return await cmd_status(args)


def case_error(err: GatewayError, case_ref: str, timeout: float) -> CliError:
    """A failed call about one case, in the command line's words."""
    if isinstance(err, NoAnswer):
        return no_worker(case_ref, timeout)
    if isinstance(err, Closed):
        return CliError(f"case {case_ref} is closed; it takes no more decisions")
    if isinstance(err, NotFound):
        return CliError(f"no case {case_ref} (no workflow {workflow_id(case_ref)})")
    return cli_error(err)


def deadline_line(d: DeadlineView) -> str:
    return f"{d.due_on}  {spaced(d.state.value):<9}  {d.title} ({d.owner})"


def render_status(status: CaseStatus, history_limit: int | None = None) -> list[str]:
    lines = [f"Case {status.case_ref} — {status.partnership_name}"]
    lines += _facts(status)
    lines += _work(status)
    lines.append("")
    allowed = ", ".join(k.value for k in status.decisions_allowed) or "none (case closed)"
    lines.append(f"Decisions allowed now: {allowed}")
    lines += _history(status, history_limit)
    # Free text (summaries, notes, evidence) may hold control characters: never raw to a terminal.
    return [printable(line) for line in lines]


def _facts(status: CaseStatus) -> list[str]:
    facts = [
        ("Stage", f"{status.stage_label} [{status.stage.value}]"),
        ("Route", spaced(status.route.value)),
        ("Opened", f"{moment(status.opened_at)} (UK)"),
    ]
    if status.closed_at:
        facts.append(("Closed", f"{moment(status.closed_at)} (UK)"))
    facts.append(("Overdue", "YES" if status.overdue else "no"))
    if status.notification_reference:
        facts.append(("Notification ref", status.notification_reference))
    if status.possible_national_importance:
        facts.append(("National importance", "possible"))
    if status.lead_reviewer:
        facts.append(("Lead reviewer", status.lead_reviewer))
    if status.planned_publication_on:
        facts.append(("Planned publication", str(status.planned_publication_on)))
    width = max(len(k) for k, _ in facts) + 1
    return [f"  {(k + ':').ljust(width)} {v}" for k, v in facts]


def _work(status: CaseStatus) -> list[str]:
    """Deadlines, outstanding tasks and the action plan."""
    lines = ["", "Deadlines"]
    if status.deadlines:
        rows = [["DUE", "STATE", "DEADLINE", "OWNER", "ID"]]
        for d in status.deadlines:
            state = spaced(d.state.value)
            if d.met_on:
                state += f" {d.met_on}"
            title = d.title + (" (statutory)" if d.statutory else "")
            if d.extended:
                title += f" (extended {d.extended}x)"
            rows.append([str(d.due_on), state, title, d.owner, d.deadline_id])
        lines += table(rows)
    else:
        lines.append("  none")

    lines.append("")
    lines.append("Outstanding")
    if status.tasks:
        for t in status.tasks:
            when = ""
            if t.due_on:
                when = f", due {t.due_on}" + (f" ({spaced(t.state.value)})" if t.state else "")
            lines.append(f"  - {t.task} — {t.owed_by}{when}")
    else:
        lines.append("  nothing")

    if status.actions:
        lines.append("")
        lines.append("Actions")
        rows = [["ID", "STATUS", "RAG", "DUE", "LEAD", "DESCRIPTION"]]
        for a in status.actions:
            rows.append(
                [
                    a.action_id,
                    spaced(a.status.value),
                    a.rag.value if a.rag else "-",
                    str(a.due_on),
                    a.lead_agency.label,
                    a.description if len(a.description) <= 60 else a.description[:57] + "...",
                ]
            )
        lines += table(rows)
    lines += _learning(status)
    return lines


def _learning(status: CaseStatus) -> list[str]:
    """Issue 13, item 11: the case's learning outputs."""
    if not status.learning:
        return []
    rows = [["ID", "OUTPUT", "STATUS", "DUE", "DISSEMINATED", "RE-AUDIT", "TITLE"]]
    for o in status.learning:
        rows.append(
            [
                o.learning_id,
                o.output.label,
                spaced(o.status.value),
                str(o.due_on),
                str(o.disseminated_on or "-"),
                str(o.impact_on or o.reaudit_due_on or "-"),
                o.title if len(o.title) <= 40 else o.title[:37] + "...",
            ]
        )
    return ["", f"Learning outputs ({status.learning[0].owner})", *table(rows)]


def _history(status: CaseStatus, history_limit: int | None) -> list[str]:
    lines: list[str] = []
    history = status.history
    total = status.history_from + len(history)  # a long case shows only its latest entries
    shown = history[-history_limit:] if history_limit is not None and history_limit >= 0 else None
    lines.append("")
    if shown is not None and len(shown) < total:
        lines.append(f"History (last {len(shown)} of {total})")
    elif status.history_from:
        lines.append(f"History (last {len(history)} of {total})")
        shown = history
    else:
        lines.append("History")
        shown = history
    if status.history_from:
        lines.append(f"  (the first {status.history_from} entries are in the register)")
    lines += [f"  {moment(h.at)}  {h.kind.value:<18} {h.text}" for h in shown]
    if status.runs > 1:
        lines.append(f"  (the case has continued over {status.runs} workflow runs)")
    return lines


async def cmd_status(args: argparse.Namespace) -> int:
    case_ref = normalise_case_ref(args.case_ref)
    reader = CaseReader(await open_client())
    try:
        status = await reader.status(case_ref, timeout=timedelta(seconds=args.timeout))
    except NotReady as err:
        # The status query fails only while the case is opening.
        raise CliError(
            f"{case_ref} could not answer yet (it may still be opening: try again in a moment; "
            f"is the worker running?): {server_words(err)}",
            code=1,
        ) from None
    except GatewayError as err:
        raise case_error(err, case_ref, args.timeout) from None
    from starter.access import shown  # the database stack, only once there is a case to show

    status = await asyncio.to_thread(shown, status)
    if args.json:
        print(status.model_dump_json(indent=2))
    else:
        print("\n".join(render_status(status, args.history_limit)))
    return 0
