"""3. Scale: many open cases on one worker. 4. Scale-out: the same on two workers.

Open cases are started as `sro refer` starts them (bounded concurrency), then left idle on their
reminder timers (days away). Measured: how fast they open, the worker's memory once they are idle
(VmRSS, and VmHWM, the peak), the latency of the `status` query (what `sro status` does) over a
random sample (first on cases the worker has not cached, then on the same cases again), the
visibility listings `sro list` runs, and the annual report where the register exists.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from bench.histories import Handling, handling
from bench.report import Results, heading, percentile, say, table
from bench.routes import CaseRefs, decision_payloads, longest_steps, referral, send_all, start_case
from bench.stack import DevServer, WorkerProcess, start_profiler, stop_profiler
from gateway.refs import visibility_query
from safeguarding.case import CaseStatus, HistoryKind
from workflows.referral import ReferralWorkflow

MEMORY_LIMIT_MB = 1536.0
QUERY_P95_LIMIT_MS = 100.0
LIST_LIMIT_S = 1.0
REPORT_LIMIT_S = 2.0
#: `sro list` shows at most this many rows unless told otherwise.
CLI_LIST_LIMIT = 500

T = TypeVar("T")


async def bounded(concurrency: int, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def open_many(
    client: Client,
    queue: str,
    refs: CaseRefs,
    partnership: str,
    today: date,
    n: int,
    concurrency: int,
) -> tuple[list[str], float]:
    made = referral(partnership, today)

    async def start() -> str:
        handle = await start_case(client, queue, refs.new(), made)
        return handle.id

    started = time.perf_counter()
    ids = await bounded(concurrency, [start] * n)
    return ids, time.perf_counter() - started


async def wait_settled(client: Client, queue: str, n: int, timeout: float) -> float:
    """Until every case on the queue has reached triage (its worker has opened it)."""
    query = f"TaskQueue = '{queue}' AND ReviewStage = 'triage'"
    started = time.perf_counter()
    while True:
        counted = (await client.count_workflows(query)).count
        if counted >= n:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"only {counted} of {n} cases reached triage in {timeout:.0f} s")
        await asyncio.sleep(1.0)


async def query_latencies(client: Client, ids: list[str]) -> tuple[list[float], list[str]]:
    """Status queries one after another: milliseconds each (failed ones too), and failures."""
    timings, failures = [], []
    for workflow_id in ids:
        started = time.perf_counter()
        try:
            status: CaseStatus = await client.get_workflow_handle(workflow_id).query(
                ReferralWorkflow.status
            )
        except (WorkflowQueryFailedError, RPCError) as err:
            failures.append(f"{workflow_id}: {str(err)[:100]}")
        else:
            if status.stage.value != "triage":
                failures.append(f"{workflow_id}: at {status.stage.value}, not triage")
        timings.append(1000 * (time.perf_counter() - started))
    return timings, failures


def _latency_row(name: str, timings: list[float]) -> list[Any]:
    return [
        name,
        len(timings),
        percentile(timings, 50),
        percentile(timings, 95),
        percentile(timings, 99),
        max(timings),
        statistics.fmean(timings),
    ]


async def _timed(probe: Callable[[], Awaitable[int]], repeat: int = 3) -> tuple[float, int]:
    """Median seconds of `repeat` runs, and what the probe counted."""
    timings, counted = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        counted = await probe()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), counted


async def listings(client: Client, partnership: str, n: int) -> list[list[Any]]:
    async def listed(query: str, limit: int) -> int:
        return len([e async for e in client.list_workflows(query, limit=limit)])

    async def counted(query: str) -> int:
        return (await client.count_workflows(query)).count

    triage = visibility_query(stage="triage")
    probes: list[tuple[str, Callable[[], Awaitable[int]]]] = [
        ("sro list --stage triage", lambda: listed(triage, CLI_LIST_LIMIT)),
        (f"sro list --stage triage --limit {n}", lambda: listed(triage, n)),
        (
            f"sro list --partnership {partnership}",
            lambda: listed(visibility_query(partnership=partnership), CLI_LIST_LIMIT),
        ),
        ("sro list --overdue", lambda: listed(visibility_query(overdue=True), CLI_LIST_LIMIT)),
        ("count: ReviewStage = 'triage'", lambda: counted(triage)),
    ]
    rows = []
    for name, probe in probes:
        seconds, rows_seen = await _timed(probe)
        rows.append([name, rows_seen, 1000 * seconds])
    return rows


def annual_report(database_url: str, partnership: str, today: date) -> tuple[str, float | None]:
    """The annual report from the register the worker kept (what `sro report annual` and the
    console build): load the partnership's rows, compute the figures, render the document.
    Median of 3. "not available" where this tree has no register or reports yet."""
    try:
        db: Any = importlib.import_module("register.db")
        crud: Any = importlib.import_module("register.crud")
        figures: Any = importlib.import_module("reports.figures")
        documents: Any = importlib.import_module("reports.documents")
    except ImportError as err:
        return f"not available (no register/reports in this tree: {err.name})", None
    try:
        year = figures.ReportingYear(today.year if today.month >= 4 else today.year - 1)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            with db.session(database_url) as session:
                data = figures.load(session, partnership, reports=["annual"])
                text = documents.to_markdown(
                    documents.annual_document(figures.annual(data, year, today, partnership))
                )
            timings.append(time.perf_counter() - started)
        with db.session(database_url) as session:
            held = crud.counts(session)
    except Exception as err:  # the register is being built: report, do not stop the run
        return f"not available ({type(err).__name__}: {str(err)[:120]})", None
    seconds = statistics.median(timings)
    return (
        f"{seconds:.2f} s for {year.label} over a register of {held.get('cases', 0):,} cases, "
        f"{held.get('history', 0):,} history rows ({len(text):,} characters of markdown)",
        seconds,
    )


async def run_scale(
    client: Client,
    server: DevServer,
    workdir: Path,
    refs: CaseRefs,
    partnership: str,
    today: date,
    results: Results,
    *,
    open_cases: int,
    start_concurrency: int,
    query_samples: int,
    profile_dir: Path | None = None,
    max_cached: int | None = None,
) -> None:
    cache = "" if max_cached is None else f" (diagnosis: max_cached_workflows={max_cached})"
    heading(f"3. Scale: {open_cases:,} open cases on one worker process{cache}")
    worker = WorkerProcess(
        workdir, server.address, "bench-scale", "bench-scale-w1", max_cached=max_cached
    )
    try:
        await worker.wait_polling(client)
        empty = worker.memory()
        profiler = (
            start_profiler(worker.pid, profile_dir / "worker-opening.txt") if profile_dir else None
        )
        cpu0, server0 = worker.cpu(), server.cpu()
        ids, start_s = await open_many(
            client, worker.queue, refs, partnership, today, open_cases, start_concurrency
        )
        say(f"started {len(ids):,} cases in {start_s:.1f} s ({len(ids) / start_s:.0f}/s)")
        settle_s = await wait_settled(client, worker.queue, len(ids), timeout=60 + open_cases / 5)
        stop_profiler(profiler)
        opened_s = start_s + settle_s
        open_cpu_ms = 1000 * (worker.cpu() - cpu0) / len(ids)
        open_server_ms = 1000 * (server.cpu() - server0) / len(ids)
        say(
            f"all at triage {settle_s:.1f} s later: {opened_s:.1f} s in all "
            f"({len(ids) / opened_s:.0f} cases opened/s); per case: worker CPU "
            f"{open_cpu_ms:.0f} ms, server CPU {open_server_ms:.0f} ms"
        )
        await asyncio.sleep(5)  # idle on their timers
        idle = worker.memory()
        sample = random.Random(7).sample(ids, min(query_samples, len(ids)))
        cold, cold_failed = await query_latencies(client, sample)
        warm, warm_failed = await query_latencies(client, sample[-min(len(sample), 500) :])
        after = worker.memory()
        failed = cold_failed + warm_failed
        for line in failed[:5]:
            say(f"  query failed: {line}")
        say(
            table(
                [
                    ["worker polling, no cases", empty.rss_mb, empty.hwm_mb],
                    [f"{len(ids):,} cases open and idle", idle.rss_mb, idle.hwm_mb],
                    [f"after {len(cold) + len(warm)} status queries", after.rss_mb, after.hwm_mb],
                ],
                ["worker memory", "VmRSS MiB", "VmHWM MiB (peak)"],
            )
        )
        say(
            table(
                [
                    _latency_row("status, not cached (replayed)", cold),
                    _latency_row("status, same cases again", warm),
                ],
                ["query latency (one at a time)", "n", "p50 ms", "p95 ms", "p99 ms", "max", "mean"],
            )
        )
        if failed:
            say(f"{len(failed)} of {len(cold) + len(warm)} status queries failed")
        listed = await listings(client, partnership, len(ids))
        say(table(listed, ["visibility (median of 3)", "rows", "ms"]))
        report_text, report_s = annual_report(worker.database_url, partnership, today)
        say(f"annual report: {report_text}")
    finally:
        worker.stop()
    gc_stats = worker.stats().get("gc", {})
    say(f"worker garbage collection (generations 0, 1, 2): {gc_stats}")
    peak = max(idle.hwm_mb, after.hwm_mb)
    results.sections["scale"] = {
        "open_cases": len(ids),
        "start_s": start_s,
        "settle_s": settle_s,
        "open_worker_cpu_ms": open_cpu_ms,
        "open_server_cpu_ms": open_server_ms,
        "memory_mb": {"empty": empty.__dict__, "idle": idle.__dict__, "after": after.__dict__},
        "query_ms": {
            "cold": _latency_row("cold", cold)[1:],
            "warm": _latency_row("warm", warm)[1:],
        },
        "listings": listed,
        "annual_report": report_text,
        "query_failures": failed,
        "worker_gc": gc_stats,
    }
    results.target(
        f"3. worker memory, {len(ids):,} open cases",
        f"<= {MEMORY_LIMIT_MB:.0f} MiB",
        f"{idle.rss_mb:.0f} MiB RSS idle, {peak:.0f} MiB peak",
        peak <= MEMORY_LIMIT_MB,
    )
    p95 = percentile(cold, 95)
    results.target(
        "3. status query p95 (not cached)",
        f"<= {QUERY_P95_LIMIT_MS:.0f} ms",
        f"{p95:.0f} ms (p50 {percentile(cold, 50):.0f}, cached p95 {percentile(warm, 95):.0f}); "
        f"{len(failed)} failed",
        p95 <= QUERY_P95_LIMIT_MS and not failed,
    )
    cli_list_ms = listed[0][2]
    results.target(
        "3. sro list --stage triage",
        f"<= {LIST_LIMIT_S:.0f} s",
        f"{cli_list_ms:.0f} ms ({listed[0][1]} rows); all {listed[1][1]:,}: {listed[1][2]:.0f} ms",
        cli_list_ms <= 1000 * LIST_LIMIT_S,
    )
    results.target(
        "3. annual report",
        f"<= {REPORT_LIMIT_S:.0f} s",
        report_text if report_s is None else f"{report_s:.2f} s",
        None if report_s is None else report_s <= REPORT_LIMIT_S,
    )


async def run_scaleout(
    client: Client,
    server: DevServer,
    workdir: Path,
    refs: CaseRefs,
    partnership: str,
    today: date,
    results: Results,
    *,
    open_cases: int,
    cases: int,
    start_concurrency: int,
    concurrency: int,
    max_cached: int | None = None,
) -> None:
    heading(
        f"4. Scale-out: {open_cases:,} open cases and {cases} driven to closed on two worker "
        "processes sharing one task queue"
    )
    queue = "bench-scaleout"
    workers = [
        WorkerProcess(workdir, server.address, queue, f"bench-out-w{n}", max_cached=max_cached)
        for n in (1, 2)
    ]
    try:
        for worker in workers:
            await worker.wait_polling(client)
        cpu0 = [w.cpu() for w in workers]
        ids, start_s = await open_many(
            client, queue, refs, partnership, today, open_cases, start_concurrency
        )
        settle_s = await wait_settled(client, queue, len(ids), timeout=60 + open_cases / 5)
        opened_s = start_s + settle_s
        say(f"{len(ids):,} cases opened in {opened_s:.1f} s ({len(ids) / opened_s:.0f}/s)")

        steps = longest_steps(today)

        async def drive() -> str:
            case_ref = refs.new()
            handle = await start_case(client, queue, case_ref, referral(partnership, today))
            await send_all(handle, decision_payloads(case_ref, steps))
            result = await handle.result()
            if result.decisions != len(steps):
                raise AssertionError(f"{case_ref}: {result.decisions} decisions")
            return handle.id

        started = time.perf_counter()
        driven = await bounded(concurrency, [drive] * cases)
        drive_s = time.perf_counter() - started
        say(f"{cases} cases driven through the longest route in {drive_s:.1f} s")

        # Every decision of every driven case is in its case history exactly once.
        async def decisions_once(workflow_id: str) -> bool:
            try:
                status: CaseStatus = await client.get_workflow_handle(workflow_id).query(
                    ReferralWorkflow.status
                )
            except (WorkflowQueryFailedError, RPCError) as err:
                say(f"  status query of {workflow_id} failed: {str(err)[:100]}")
                return False
            applied = [e.decision_id for e in status.history if e.kind is HistoryKind.DECISION]
            return len(applied) == len(steps) == len(set(applied))

        once = await bounded(16, [partial(decisions_once, w) for w in driven])
        memories = [w.memory() for w in workers]
        cpus = [w.cpu() - c for w, c in zip(workers, cpu0, strict=True)]

        async def fetch(workflow_id: str) -> Handling:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
            return handling(list(history.events))

        started = time.perf_counter()
        handled = await bounded(32, [partial(fetch, w) for w in [*ids, *driven]])
        fetch_s = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.stop()
    stats = [w.stats() for w in workers]

    tasks: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    for h in handled:
        tasks.update(h.workflow_tasks)
        activities.update(h.activities)
        activities.update(h.local_activities)
    both = sum(1 for h in handled if len(h.workflow_tasks) > 1)
    scheduled = sum(h.scheduled + sum(h.local_activities.values()) for h in handled)
    executed = [sum(s["activities"].values()) for s in stats]
    rows = [
        [
            w.identity,
            tasks[w.identity],
            activities[w.identity],
            executed[n],
            cpus[n],
            memories[n].rss_mb,
            memories[n].hwm_mb,
            max(stats[n].get("gc", {}).get("longest_ms", [0.0]) or [0.0]),
        ]
        for n, w in enumerate(workers)
    ]
    say(
        table(
            rows,
            [
                "worker",
                "workflow tasks",
                "activities (histories)",
                "activities (own count)",
                "CPU s",
                "RSS MiB",
                "peak MiB",
                "longest GC pause ms",
            ],
        )
    )
    problems = {
        "workflow tasks failed or timed out": sum(h.failed_tasks for h in handled),
        "activities retried": sum(h.retried for h in handled),
        "activities scheduled but not completed": sum(h.scheduled - h.completed for h in handled),
        "activities executed minus recorded in histories": sum(executed) - scheduled,
        "driven cases not closed": sum(1 for h in handled[len(ids) :] if not h.closed),
        "driven cases whose decisions are not each applied once": once.count(False),
        "workflow tasks by an unknown identity": sum(
            c for i, c in tasks.items() if i not in {w.identity for w in workers}
        ),
    }
    say(
        f"{len(handled):,} histories read in {fetch_s:.1f} s; {both:,} cases were handled by "
        f"both workers over their lives (sticky queues keep a case on one worker while it is "
        f"cached)"
    )
    say(table([[k, v] for k, v in problems.items()], ["check", "count (0 = ok)"]))
    spread = min(tasks[w.identity] for w in workers) / max(1, max(tasks.values()))
    ok = not any(problems.values())
    results.sections["scaleout"] = {
        "open_cases": len(ids),
        "driven": cases,
        "opened_s": opened_s,
        "drive_s": drive_s,
        "workers": rows,
        "problems": problems,
        "cases_on_both": both,
    }
    results.target(
        "4. two workers: work spreads, nothing twice",
        "both busy; 0 duplicates",
        f"task split {spread:.2f} (smaller/larger); problems {sum(problems.values())}",
        ok and spread > 0.2,
    )
