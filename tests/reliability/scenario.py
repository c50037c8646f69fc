"""Driving many rapid reviews through a fault, then counting what survived it.

Each case is a Liverpool (LSCP) referral taken through a rapid review to closure by nine decisions
(`PLAN`); the information request emails three agencies. The cases run concurrently, as a
coordinator and panel members would send them: every decision is an Update `decide` with its
decision id as the Update id, sent again with the same id when the call times out or the server
cannot be reached (the CLI tells a person to do exactly that). The first decision sent under the
fault goes through the command line itself (`sro decide CASE --file ...`), re-run on exit 1.

`run_fault` holds every case at `gate_at` decisions, injects the fault, lets the cases carry on
sending into it, removes the fault after the outage and waits for every case to close. Then it
counts, from the workflows, the register and the mail server, what was lost or duplicated (the
goal is nothing) and how long recovery took, and returns those figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from activities.notifications import message_id
from register import db
from register.models import CaseRecord, DecisionRecord, HistoryRecord
from safeguarding.case import CaseStatus, DecisionResult, HistoryKind
from safeguarding.clock import uk_today
from safeguarding.decisions import Person
from safeguarding.vocabulary import Route, Stage
from starter import cli
from tests.factories import (
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    HEALTH_MEMBER,
    POLICE_MEMBER,
    RAPID_REVIEW_CORE,
    people,
    referral,
    triage_participants,
)
from tests.reliability.stack import Mailbox, wait_for
from workflows import search_attributes as sa
from workflows.referral import ReferralInput, ReferralResult, ReferralWorkflow, workflow_id

PARTNERSHIP = "LSCP"
AGENCIES = ("police", "health", "childrens_social_care")

#: A rapid review, start to closure: (kind, who, fields).
PLAN: list[tuple[str, Person, dict[str, Any]]] = [
    # Attended as Liverpool's triage asks (the partners and the LSCP Safeguarding Manager).
    ("triage", CHAIR, {"outcome": "serious_incident", **triage_participants()}),
    # Text the rules accept but a database or terminal might choke on (NUL, escapes, RTL).
    (
        "notification_submitted",
        CSC_MEMBER,
        {"reference": "SIN-2026-0042", "note": "Sent late \x00 \x1b[2J \u202eevil\u202c ☃"},
    ),
    ("information_requested", COORDINATOR, {"requests": [{"agency": a} for a in AGENCIES]}),
    ("information_returned", POLICE_MEMBER, {"agency": "police"}),
    ("information_returned", HEALTH_MEMBER, {"agency": "health"}),
    ("information_returned", CSC_MEMBER, {"agency": "childrens_social_care"}),
    (
        "rapid_review_decision",
        CHAIR,
        # Liverpool's Rapid Review core membership attends.
        {"recommendation": "no_further_review", "attendees": people(*RAPID_REVIEW_CORE)},
    ),
    ("rapid_review_sent", COORDINATOR, {}),
    ("panel_response", COORDINATOR, {"panel_agrees": True, "outcome": "no_further_review"}),
    ("case_closed", CHAIR, {}),
]
#: The decision whose notices are emails (one per agency).
EMAILING = 2

#: How long one attempt at an Update may take before it is sent again (same id).
UPDATE_RPC_TIMEOUT = timedelta(seconds=10)
CLI_TIMEOUT_SECONDS = 5
RETRY_PAUSE = 0.5
#: Transient answers a person would simply retry.
RETRYABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
}


def cases_wanted(default: int = 5) -> int:
    """RELIABILITY_CASES cases per fault (default 5; RELIABILITY.md's figures use more)."""
    return max(1, int(os.environ.get("RELIABILITY_CASES", default)))


def outage_seconds(default: float = 3.0) -> float:
    """How long each fault lasts (RELIABILITY_OUTAGE seconds)."""
    return max(0.0, float(os.environ.get("RELIABILITY_OUTAGE", default)))


# --------------------------------------------------------------------------- sending


@dataclass
class Sent:
    decision_id: str
    kind: str
    via: str
    started: float
    finished: float | None = None
    attempts: int = 0
    duplicate_answer: bool = False


@dataclass
class CaseRun:
    case_ref: str
    payloads: list[dict[str, Any]]
    sent: list[Sent] = field(default_factory=list)

    @property
    def handle_id(self) -> str:
        return workflow_id(self.case_ref)

    def expected_ids(self) -> list[str]:
        return [p["decision_id"] for p in self.payloads]

    def expected_notices(self) -> list[str]:
        emailing = self.payloads[EMAILING]["decision_id"]
        return [f"{self.case_ref}:{emailing}:{agency}" for agency in AGENCIES]


def plan_payloads(case_ref: str) -> list[dict[str, Any]]:
    payloads = []
    for number, (kind, by, fields) in enumerate(PLAN, start=1):
        payload: dict[str, Any] = {
            "kind": kind,
            "decision_id": f"rel-{case_ref}-{number}",
            "by": by.model_dump(mode="json"),
        }
        payload.update(json.loads(json.dumps(fields)))
        payloads.append(payload)
    return payloads


class Sender:
    """Sends decisions the way a person with the command line would: wait, and on a timeout or an
    unreachable server send the same decision (same id) again."""

    def __init__(self, client: Client, folder: Path) -> None:
        self.client = client
        self.folder = folder
        #: The command line runs in threads of its own (asyncio.run in each), all at once.
        self.pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="sro")

    async def by_update(self, run: CaseRun, payload: dict[str, Any]) -> Sent:
        sent = Sent(payload["decision_id"], payload["kind"], "update", time.monotonic())
        run.sent.append(sent)
        handle: WorkflowHandle[Any, Any] = self.client.get_workflow_handle(run.handle_id)
        while True:
            sent.attempts += 1
            try:
                result = await handle.execute_update(
                    "decide",
                    payload,
                    id=payload["decision_id"],
                    result_type=DecisionResult,
                    rpc_timeout=UPDATE_RPC_TIMEOUT,
                )
            except WorkflowUpdateFailedError:
                raise  # a refusal: nothing about a fault should make a good decision refused
            except RPCTimeoutOrCancelledError:
                pass
            except RPCError as err:
                if err.status is RPCStatusCode.NOT_FOUND and "complete" in err.message.lower():
                    break  # the case closed: the earlier attempt was applied (checked later)
                if err.status not in RETRYABLE:
                    raise
            else:
                sent.duplicate_answer = result.duplicate
                break
            await asyncio.sleep(RETRY_PAUSE)
        sent.finished = time.monotonic()
        return sent

    async def by_cli(self, run: CaseRun, payload: dict[str, Any]) -> Sent:
        """`sro decide CASE --file decision.json --timeout 5`, run again (same file, so the same
        decision id) while it exits 1 ("did not answer" / "cannot reach Temporal")."""
        sent = Sent(payload["decision_id"], payload["kind"], "cli", time.monotonic())
        run.sent.append(sent)
        path = self.folder / f"{payload['decision_id']}.json"
        path.write_text(json.dumps(payload))
        argv = ["decide", run.case_ref, "--file", str(path), "--timeout", str(CLI_TIMEOUT_SECONDS)]
        while True:
            sent.attempts += 1
            code = await asyncio.get_running_loop().run_in_executor(self.pool, cli.main, argv)
            if code == 0:
                break
            if code != 1:
                raise AssertionError(f"sro decide {run.case_ref} exited {code} (refused?)")
            await asyncio.sleep(RETRY_PAUSE)
        sent.finished = time.monotonic()
        return sent


# --------------------------------------------------------------------------- a fault


@dataclass
class Fault:
    name: str
    #: What was done, for RELIABILITY.md.
    how: str
    inject: Callable[[], Awaitable[None]]
    remove: Callable[[], Awaitable[None]]
    #: Cases hold after this many decisions until the fault is in place.
    gate_at: int
    #: Inject this long after the held decisions are let go (so they are in flight); None:
    #: inject first, then let them go (so they are sent into the fault).
    inject_after: float | None = None
    #: Wait until the emails already queued have arrived before the fault (so it hits the
    #: decisions, not a send in flight).
    settle_mail: bool = False
    #: A duplicate email with the same Message-ID is allowed (worker killed between the server's
    #: acceptance and the sent-marker: the documented window); it is still counted.
    duplicate_email_window: bool = False


@dataclass
class Figures:
    fault: str
    how: str
    cases: int
    outage_s: float
    decisions_sent: int = 0
    decisions_applied_once: int = 0
    decisions_lost: int = 0
    decisions_duplicated: int = 0
    decisions_retried: int = 0
    cli_reruns: int = 0
    refused: int = 0
    register_decisions: int = 0
    register_lost: int = 0
    register_duplicated: int = 0
    emails_expected: int = 0
    emails_delivered: int = 0
    emails_lost: int = 0
    emails_duplicated: int = 0
    #: Attempts at sending a notice beyond the first (from the workflows' histories).
    email_send_retries: int = 0
    workflow_task_failures: int = 0
    workflow_task_timeouts: int = 0
    longest_decision_wait_s: float = 0.0
    recovered_s: float = 0.0
    all_closed_s: float = 0.0
    last_email_s: float = 0.0
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    def record(self) -> None:
        """Print; and append to $RELIABILITY_FIGURES (JSON lines) when set."""
        line = json.dumps(asdict(self))
        print(f"reliability figures: {line}")
        target = os.environ.get("RELIABILITY_FIGURES")
        if target:
            with Path(target).open("a", encoding="utf-8") as out:
                out.write(line + "\n")


class Drive:
    def __init__(
        self,
        client: Client,
        queue: str,
        folder: Path,
        database_url: str,
        mailbox: Mailbox,
    ) -> None:
        self.client = client
        self.queue = queue
        self.sender = Sender(client, folder)
        self.database_url = database_url
        self.mailbox = mailbox

    async def open(self, count: int) -> list[CaseRun]:
        today = uk_today(datetime.now(UTC))
        runs = []
        for _ in range(count):
            case_ref = f"{PARTNERSHIP}-{today.year}-{uuid.uuid4().hex[:6].upper()}"
            made = referral(today, partnership=PARTNERSHIP)
            await self.client.start_workflow(
                ReferralWorkflow.run,
                ReferralInput(case_ref=case_ref, referral=made),
                id=workflow_id(case_ref),
                task_queue=self.queue,
                static_summary=f"Referral {case_ref} — {PARTNERSHIP}",
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.PARTNERSHIP, PARTNERSHIP),
                        SearchAttributePair(sa.REVIEW_STAGE, Stage.REFERRAL_RECEIVED.value),
                    ]
                ),
            )
            runs.append(CaseRun(case_ref, plan_payloads(case_ref)))
        return runs

    async def _walk(
        self, run: CaseRun, fault: Fault, arrived: list[int], gate: asyncio.Event
    ) -> None:
        for number, payload in enumerate(run.payloads):
            if number == fault.gate_at:
                arrived.append(1)
                await gate.wait()
                await self.sender.by_cli(run, payload)
            else:
                await self.sender.by_update(run, payload)

    async def run_fault(self, fault: Fault, cases: int, outage: float) -> Figures:
        began = time.monotonic()
        figures = Figures(fault=fault.name, how=fault.how, cases=cases, outage_s=0.0)
        runs = await self.open(cases)
        arrived: list[int] = []
        gate = asyncio.Event()
        walks = [asyncio.create_task(self._walk(r, fault, arrived, gate)) for r in runs]
        try:
            while len(arrived) < cases:
                for walk in walks:
                    if walk.done():
                        walk.result()  # a failure before the fault: raise it now
                await asyncio.sleep(0.05)
            if fault.settle_mail:
                await self._mail_settled(runs, fault.gate_at)
            if fault.inject_after is None:
                await fault.inject()
                injected = time.monotonic()
                gate.set()
            else:
                gate.set()
                await asyncio.sleep(fault.inject_after)
                await fault.inject()
                injected = time.monotonic()
            await asyncio.sleep(outage)
            await fault.remove()
            removed = time.monotonic()
            figures.outage_s = round(removed - injected, 2)
            in_flight = [s for r in runs for s in r.sent if s.finished is None]
            await asyncio.wait_for(asyncio.gather(*walks), timeout=300)
        finally:
            for walk in walks:
                walk.cancel()
            self.sender.pool.shutdown(wait=False, cancel_futures=True)
        figures.recovered_s = round(
            max((s.finished or removed) - removed for s in in_flight) if in_flight else 0.0, 2
        )
        results = await asyncio.wait_for(
            asyncio.gather(*(self._result(r) for r in runs)), timeout=300
        )
        figures.all_closed_s = round(time.monotonic() - removed, 2)
        await self.count(runs, results, fault, figures)
        expected = {message_id(n) for r in runs for n in r.expected_notices()}
        last_email = max(
            (a.at for a in self.mailbox.arrivals if a.message_id in expected), default=0
        )
        figures.last_email_s = round(max(last_email - removed, 0.0), 2)
        figures.wall_s = round(time.monotonic() - began, 2)
        return figures

    async def _mail_settled(self, runs: list[CaseRun], decisions_made: int) -> None:
        if decisions_made <= EMAILING:
            return
        expected = {message_id(n) for r in runs for n in r.expected_notices()}

        async def arrived() -> bool:
            return expected <= set(self.mailbox.counts())

        await wait_for(arrived, timeout=120, what="the emails before the fault")

    async def _result(self, run: CaseRun) -> ReferralResult:
        handle = self.client.get_workflow_handle(run.handle_id, result_type=ReferralResult)
        while True:
            try:
                result: ReferralResult = await handle.result(rpc_timeout=timedelta(seconds=30))
                return result
            except RPCError as err:
                if err.status not in RETRYABLE:
                    raise
            except RPCTimeoutOrCancelledError:
                pass
            await asyncio.sleep(RETRY_PAUSE)

    # ------------------------------------------------------------------ counting

    async def count(
        self, runs: list[CaseRun], results: list[ReferralResult], fault: Fault, f: Figures
    ) -> None:
        f.decisions_sent = sum(len(r.payloads) for r in runs)
        all_sent = [s for r in runs for s in r.sent]
        f.decisions_retried = sum(1 for s in all_sent if s.attempts > 1 and s.via == "update")
        f.cli_reruns = sum(s.attempts - 1 for s in all_sent if s.via == "cli")
        f.longest_decision_wait_s = round(max((s.finished or 0) - s.started for s in all_sent), 2)
        for run, result in zip(runs, results, strict=True):
            await self._count_case(run, result, f)
        self._count_register(runs, f)
        self._count_mail(runs, fault, f)

    async def _count_case(self, run: CaseRun, result: ReferralResult, f: Figures) -> None:
        expected = run.expected_ids()
        if result.closed_at is None or result.decisions != len(expected):
            f.problems.append(f"{run.case_ref}: ended {result!r}")
        if result.route is not Route.LEARNING_ONLY:  # no further review: the learning only
            f.problems.append(f"{run.case_ref}: route {result.route}")
        handle = self.client.get_workflow_handle(run.handle_id)
        status: CaseStatus = await handle.query(ReferralWorkflow.status)
        if status.stage is not Stage.CLOSED:
            f.problems.append(f"{run.case_ref}: stage {status.stage}")
        applied = Counter(e.decision_id for e in status.history if e.kind is HistoryKind.DECISION)
        for decision_id in expected:
            times = applied.get(decision_id, 0)
            if times == 1:
                f.decisions_applied_once += 1
            elif times == 0:
                f.decisions_lost += 1
                f.problems.append(f"{run.case_ref}: decision {decision_id} lost")
            else:
                f.decisions_duplicated += times - 1
                f.problems.append(f"{run.case_ref}: decision {decision_id} applied {times} times")
        unexpected = set(applied) - set(expected)
        if unexpected:
            f.problems.append(
                f"{run.case_ref}: unexpected decisions {sorted(map(str, unexpected))}"
            )
        refusals = [e.text for e in status.history if e.kind is HistoryKind.REFUSED]
        f.refused += len(refusals)
        f.problems += [f"{run.case_ref}: {text}" for text in refusals]
        sends: set[int] = set()
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                scheduled = event.activity_task_scheduled_event_attributes
                if scheduled.activity_type.name == "send_notice":
                    sends.add(event.event_id)
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                started = event.activity_task_started_event_attributes
                if started.scheduled_event_id in sends:
                    f.email_send_retries += started.attempt - 1
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                f.workflow_task_failures += 1
                failure = event.workflow_task_failed_event_attributes.failure.message
                f.problems.append(f"{run.case_ref}: workflow task failed: {failure[:300]}")
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                f.workflow_task_timeouts += 1

    def _count_register(self, runs: list[CaseRun], f: Figures) -> None:
        with db.session(self.database_url) as session:
            for run in runs:
                expected = run.expected_ids()
                rows = session.exec(
                    select(DecisionRecord.decision_id).where(
                        DecisionRecord.case_ref == run.case_ref
                    )
                ).all()
                entries = Counter(
                    session.exec(
                        select(HistoryRecord.decision_id).where(
                            HistoryRecord.case_ref == run.case_ref,
                            HistoryRecord.kind == HistoryKind.DECISION.value,
                        )
                    ).all()
                )
                case = session.get(CaseRecord, run.case_ref)
                if case is None or case.stage != Stage.CLOSED.value or case.closed_at is None:
                    f.problems.append(f"{run.case_ref}: register has the case as {case!r}")
                for decision_id in expected:
                    if decision_id not in rows:
                        f.register_lost += 1
                        f.problems.append(f"{run.case_ref}: register lacks {decision_id}")
                    else:
                        f.register_decisions += 1
                    if entries.get(decision_id, 0) > 1:
                        f.register_duplicated += entries[decision_id] - 1
                        f.problems.append(f"{run.case_ref}: register repeats {decision_id}")
                extra = set(rows) - set(expected)
                if extra:
                    f.problems.append(f"{run.case_ref}: register has extra {sorted(extra)}")

    def _count_mail(self, runs: list[CaseRun], fault: Fault, f: Figures) -> None:
        arrived = self.mailbox.counts()
        for run in runs:
            for notice_id in run.expected_notices():
                f.emails_expected += 1
                times = arrived.get(message_id(notice_id), 0)
                if times == 0:
                    f.emails_lost += 1
                    f.problems.append(f"email {notice_id} never arrived")
                    continue
                f.emails_delivered += 1
                if times > 1:
                    f.emails_duplicated += times - 1
                    if not fault.duplicate_email_window or times > 2:
                        f.problems.append(f"email {notice_id} arrived {times} times")
