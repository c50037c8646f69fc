"""1b. The lifecycle's cost as the work grows, on one worker process (issue 16).

- **Concurrency curve**: for 1, 4, 16 and 64 cases driven at once, `max(16, 2c)` lifecycle cases
  through the longest route, then as many baseline runs; cases per second of each and the ratio.
  The baseline's shape is read afresh at each level from the lifecycle cases just run (the
  median by register writes: how many a case makes depends on how fast its decisions come).
- **Memory per open case**: then, on a fresh worker, `--curve-open` cases opened and left idle on
  their timers, then as many baseline runs left waiting for their first Update; the worker's
  resident memory (VmRSS) before and after each, divided by the count. Both fit in the worker's
  workflow cache (500), so this is what a cached case costs.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench.baseline import BaselineInput, BaselineShape, BaselineWorkflow, shape_from_history
from bench.histories import HistoryCounts
from bench.lifecycle import Lifecycle
from bench.report import Results, heading, say, table
from bench.routes import CaseRefs, referral, start_case
from bench.scale import bounded, wait_settled
from bench.stack import DevServer, WorkerProcess

LEVELS = (1, 4, 16, 64)
#: Histories read at each level to choose the baseline's shape from.
SHAPE_SAMPLE = 16


@dataclass
class Point:
    concurrency: int
    cases: int
    ours_s: float
    bare_s: float
    ours_cpu: float
    bare_cpu: float

    @property
    def ours_rate(self) -> float:
        return self.cases / self.ours_s

    @property
    def bare_rate(self) -> float:
        return self.cases / self.bare_s


async def _median_shape(client: Client, ids: list[str]) -> tuple[BaselineShape, int]:
    histories = [await client.get_workflow_handle(i).fetch_history() for i in ids[:SHAPE_SAMPLE]]
    histories.sort(key=lambda h: HistoryCounts.of(h).local_activities)
    middle = histories[len(histories) // 2]
    return shape_from_history(middle), HistoryCounts.of(middle).local_activities


async def _point(life: Lifecycle, concurrency: int, cases: int) -> tuple[Point, int]:
    jobs = [life.one_lifecycle] * cases
    cpu0, started = life.worker.cpu(), time.perf_counter()
    ids = await bounded(concurrency, jobs)
    ours_s, ours_cpu = time.perf_counter() - started, life.worker.cpu() - cpu0
    shape, writes = await _median_shape(life.client, ids)

    async def one_bare() -> str:
        return await life.one_baseline(shape)

    cpu0, started = life.worker.cpu(), time.perf_counter()
    await bounded(concurrency, [one_bare] * cases)
    bare_s, bare_cpu = time.perf_counter() - started, life.worker.cpu() - cpu0
    return Point(concurrency, cases, ours_s, bare_s, ours_cpu, bare_cpu), writes


async def _opened_baselines(client: Client, ids: list[str], timeout: float) -> None:
    """Until each baseline run has had its first workflow task (it waits for an Update)."""
    deadline = time.monotonic() + timeout
    for workflow_id in ids:
        while True:
            described = await client.get_workflow_handle(workflow_id).describe()
            if (
                described.raw_description.workflow_execution_info.history_length >= 4
            ):  # its first task done
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"baseline {workflow_id} did not open")
            await asyncio.sleep(0.2)


async def memory_per_open_case(
    client: Client,
    worker: WorkerProcess,
    refs: CaseRefs,
    partnership: str,
    today: date,
    shape: BaselineShape,
    n: int,
) -> dict[str, float]:
    made = referral(partnership, today)

    async def open_ours() -> str:
        return (await start_case(client, worker.queue, refs.new(), made)).id

    async def open_bare() -> str:
        handle = await client.start_workflow(
            BaselineWorkflow.run,
            BaselineInput(case_ref=refs.new(), shape=shape),
            id=f"baseline-open-{refs.new()}",
            task_queue=worker.queue,
        )
        return handle.id

    gc.collect()
    await asyncio.sleep(2)
    before = worker.memory().rss_mb
    await bounded(16, [open_ours] * n)
    await wait_settled(client, worker.queue, n, timeout=60 + n / 2)
    await asyncio.sleep(3)  # idle on their timers
    ours = worker.memory().rss_mb
    bare_ids = await bounded(16, [open_bare] * n)
    await _opened_baselines(client, bare_ids, timeout=60 + n / 2)
    await asyncio.sleep(3)
    bare = worker.memory().rss_mb
    return {
        "cases": n,
        "rss_before_mb": before,
        "ours_kib_per_case": 1024 * (ours - before) / n,
        "bare_kib_per_case": 1024 * (bare - ours) / n,
    }


async def run(
    client: Client,
    server: DevServer,
    workdir: Path,
    refs: CaseRefs,
    partnership: str,
    today: date,
    results: Results,
    *,
    open_cases: int,
    levels: tuple[int, ...] = LEVELS,
) -> None:
    heading(
        f"1b. The lifecycle as the work grows, one worker: concurrency {levels}; "
        f"memory per open case ({open_cases} open)"
    )
    worker = WorkerProcess(workdir, server.address, "bench-curve", "bench-curve-w0", baseline=True)
    section: dict[str, Any] = {}
    try:
        await worker.wait_polling(client)
        life = Lifecycle(client, server, worker, refs, partnership, today)
        # Warm-up (sandbox imports), and a shape for the waiting baseline runs.
        probe = await life.one_lifecycle()
        shape = shape_from_history(await client.get_workflow_handle(probe).fetch_history())
        await life.one_baseline(shape)
        rows, points = [], []
        for level in levels:
            point, writes = await _point(life, level, max(16, 2 * level))
            points.append(point.__dict__ | {"register_writes_per_case": writes})
            rows.append(
                [
                    level,
                    point.cases,
                    point.ours_rate,
                    point.bare_rate,
                    point.bare_rate / point.ours_rate,
                    1000 * point.ours_cpu / point.cases,
                    1000 * point.bare_cpu / point.cases,
                    writes,
                ]
            )
            say(f"  concurrency {level}: done")
        say(
            table(
                rows,
                [
                    "concurrency",
                    "cases",
                    "lifecycle cases/s",
                    "baseline cases/s",
                    "ratio (cost)",
                    "worker CPU ms/case",
                    "baseline CPU ms/case",
                    "register writes/case",
                ],
            )
        )
        section["curve"] = points
    finally:
        worker.stop()
    # Memory on a fresh worker of its own (the curve's cases would crowd its workflow cache).
    worker = WorkerProcess(
        workdir, server.address, "bench-memory", "bench-memory-w0", baseline=True
    )
    try:
        await worker.wait_polling(client)
        life = Lifecycle(client, server, worker, refs, partnership, today)
        await life.one_lifecycle()  # warm-up
        await life.one_baseline(shape)
        memory = await memory_per_open_case(
            client, worker, refs, partnership, today, shape, open_cases
        )
        say(
            f"memory per open case ({open_cases} each, VmRSS from {memory['rss_before_mb']:.0f} "
            f"MiB): lifecycle {memory['ours_kib_per_case']:.0f} KiB, "
            f"baseline {memory['bare_kib_per_case']:.0f} KiB"
        )
        section["memory"] = memory
        results.sections["curve"] = section
    finally:
        worker.stop()
