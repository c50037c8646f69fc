"""1. Lifecycle throughput: N referrals through the longest route against the baseline.

Both run on the same server, the same worker process and the same task queue, driven the same
way: `concurrency` cases at a time, each sending its decisions one after another as Updates and
waiting for each, then for the result. Rounds alternate (baseline first, then lifecycle first) so
a change in the machine's load hits both. Reported per case: wall time (the throughput), and CPU
seconds of the worker, the server and this driver process, which are steadier than wall time on
a shared machine.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from temporalio.client import Client

from bench.baseline import BaselineInput, BaselineShape, BaselineWorkflow, shape_from_history
from bench.histories import HistoryCounts
from bench.machine import processes_cpu_seconds, thread_cpu_seconds
from bench.report import Results, heading, say, table
from bench.routes import CaseRefs, decision_payloads, longest_steps, referral, send_all, start_case
from bench.stack import DevServer, WorkerProcess, start_profiler, stop_profiler
from workflows.referral import ReferralOptions

TARGET_RATIO = 1.25
#: The two kinds, in the order of the first round.
KINDS = ("baseline", "lifecycle")


@dataclass
class Lap:
    kind: str
    cases: int
    wall: float
    worker_cpu: float
    server_cpu: float
    driver_cpu: float
    #: The worker's CPU by thread name (`machine.thread_cpu_seconds`).
    worker_threads: dict[str, float] = field(default_factory=dict)
    #: The register's PostgreSQL processes (0 with SQLite: its CPU is the worker's).
    register_cpu: float = 0.0
    #: When the lap started and ended (seconds since the epoch: `bench.together` lines up the
    #: laps of two processes).
    started: float = 0.0
    ended: float = 0.0

    @property
    def per_case_ms(self) -> float:
        return 1000 * self.wall / self.cases

    @property
    def throughput(self) -> float:
        return self.cases / self.wall


class Lifecycle:
    def __init__(
        self,
        client: Client,
        server: DevServer,
        worker: WorkerProcess,
        refs: CaseRefs,
        partnership: str,
        today: date,
        profile_dir: Path | None = None,
        options: ReferralOptions | None = None,
    ) -> None:
        self.client = client
        self.server = server
        self.worker = worker
        self.refs = refs
        self.partnership = partnership
        self.today = today
        self.steps = longest_steps(today)
        self.profile_dir = profile_dir
        self.options = options
        self._laps = 0

    async def one_lifecycle(self) -> str:
        case_ref = self.refs.new()
        handle = await start_case(
            self.client,
            self.worker.queue,
            case_ref,
            referral(self.partnership, self.today),
            self.options,
        )
        await send_all(handle, decision_payloads(case_ref, self.steps))
        result = await handle.result()
        if result.decisions != len(self.steps):
            raise AssertionError(f"{case_ref}: {result.decisions} decisions applied")
        return handle.id

    async def one_baseline(self, shape: BaselineShape) -> str:
        case_ref = self.refs.new()
        handle = await self.client.start_workflow(
            BaselineWorkflow.run,
            BaselineInput(case_ref=case_ref, shape=shape),
            id=f"baseline-{case_ref}",
            task_queue=self.worker.queue,
        )
        await send_all(handle, decision_payloads(case_ref, self.steps))
        updates = await handle.result()
        if updates != len(self.steps):
            raise AssertionError(f"baseline {case_ref}: {updates} updates")
        return handle.id

    def _profile(self, kind: str) -> subprocess.Popen[bytes] | None:
        if self.profile_dir is None:
            return None
        self._laps += 1
        return start_profiler(self.worker.pid, self.profile_dir / f"worker-{kind}-{self._laps}.txt")

    async def lap(
        self,
        kind: str,
        n: int,
        concurrency: int,
        one: Callable[[], Awaitable[str]],
        *,
        profile: bool = True,
    ) -> Lap:
        gate = asyncio.Semaphore(concurrency)

        async def bounded() -> str:
            async with gate:
                return await one()

        profiler = self._profile(kind) if profile else None
        started_at = time.time()
        worker0, server0, driver0 = self.worker.cpu(), self.server.cpu(), time.process_time()
        threads0 = thread_cpu_seconds(self.worker.pid)
        register0 = processes_cpu_seconds("postgres")
        started = time.perf_counter()
        await asyncio.gather(*(bounded() for _ in range(n)))
        wall = time.perf_counter() - started
        stop_profiler(profiler)
        threads = thread_cpu_seconds(self.worker.pid)
        return Lap(
            kind,
            n,
            wall,
            self.worker.cpu() - worker0,
            self.server.cpu() - server0,
            time.process_time() - driver0,
            {name: spent - threads0.get(name, 0.0) for name, spent in threads.items()},
            processes_cpu_seconds("postgres") - register0,
            started_at,
            time.time(),
        )


def _sum(laps: list[Lap], kind: str) -> Lap:
    mine = [lap for lap in laps if lap.kind == kind]
    return Lap(
        kind,
        sum(lap.cases for lap in mine),
        sum(lap.wall for lap in mine),
        sum(lap.worker_cpu for lap in mine),
        sum(lap.server_cpu for lap in mine),
        sum(lap.driver_cpu for lap in mine),
        {
            name: sum(lap.worker_threads.get(name, 0.0) for lap in mine)
            for name in {name for lap in mine for name in lap.worker_threads}
        },
        sum(lap.register_cpu for lap in mine),
    )


async def run(
    life: Lifecycle,
    results: Results,
    *,
    cases: int,
    rounds: int,
    concurrency: int,
    kinds: tuple[str, ...] = KINDS,
) -> None:
    heading(
        f"1. Lifecycle throughput: {cases} cases x {rounds} round(s) per kind, "
        f"{concurrency} at a time"
    )
    # Probe cases: warm the worker (sandbox imports) and give the histories the baseline's shape
    # and the comparison come from. `concurrency` lifecycle cases at once, as in the laps (how
    # many register writes a case makes depends on how fast its decisions come); the one with
    # the median number of local activities (register writes) is the shape.
    probe_ids = await asyncio.gather(*(life.one_lifecycle() for _ in range(concurrency)))
    probes = [await life.client.get_workflow_handle(i).fetch_history() for i in probe_ids]
    probes.sort(key=lambda h: HistoryCounts.of(h).local_activities)
    probe = probes[len(probes) // 2]
    writes = [HistoryCounts.of(h).local_activities for h in probes]
    say(f"register writes per probe case ({len(probes)} at once): {writes}")
    shape = shape_from_history(probe)
    # The baseline's lag timers fire only in a run as slow as the probe's (one baseline alone
    # finishes before its first lag timer fires, so it would mirror fewer): `concurrency`
    # baseline runs at once too, the median by timers compared.
    base_ids = await asyncio.gather(*(life.one_baseline(shape) for _ in range(concurrency)))
    bases = [await life.client.get_workflow_handle(i).fetch_history() for i in base_ids]
    bases.sort(key=lambda h: HistoryCounts.of(h).timers)
    base = bases[len(bases) // 2]
    ours, theirs = HistoryCounts.of(probe), HistoryCounts.of(base)
    say(
        table(
            [
                ["activities", ours.activities, theirs.activities],
                ["local activities", ours.local_activities, theirs.local_activities],
                ["updates (validated)", ours.updates, theirs.updates],
                ["timers", ours.timers, theirs.timers],
                ["search-attribute upserts", ours.upserts, theirs.upserts],
                ["workflow tasks", ours.workflow_tasks, theirs.workflow_tasks],
                ["history events", ours.events, theirs.events],
                ["history bytes", ours.bytes, theirs.bytes],
            ],
            ["one run", "lifecycle", "baseline"],
        )
    )
    same = (ours.activities, ours.local_activities, ours.updates, ours.timers) == (
        theirs.activities,
        theirs.local_activities,
        theirs.updates,
        theirs.timers,
    )
    say(f"baseline does the same activities, updates and timers: {'yes' if same else 'NO'}")
    if not same:  # where they part: the shapes read from both histories
        say(f"  lifecycle's shape: {shape.model_dump_json()}")
        say(f"  baseline's shape:  {shape_from_history(base).model_dump_json()}")

    # Warm-up laps, one of each kind, not measured: the first lap after the probes (the driver
    # reads their histories, and the machine idles for a moment) took 5 to 10% less CPU a case
    # than the laps after it, in every process and for either kind, so the kind measured first
    # (the baseline) looked cheaper: over 8 runs of each order, the ratio was 0.095 lower with
    # the lifecycle first; with these laps, 0.016 (BENCHMARKS.md, issue 16 round 10).
    everything: dict[str, Callable[[], Awaitable[str]]] = {
        "baseline": lambda: life.one_baseline(shape),
        "lifecycle": life.one_lifecycle,
    }
    runs = {kind: one for kind, one in everything.items() if kind in kinds}
    warm_up = min(cases, 2 * concurrency)
    for kind, one in runs.items():
        await life.lap(kind, warm_up, concurrency, one, profile=False)  # figures dropped
    say(f"  warm-up: {warm_up} cases of each kind, not measured")

    laps: list[Lap] = []
    for r in range(rounds):
        order = ["baseline", "lifecycle"] if r % 2 == 0 else ["lifecycle", "baseline"]
        for kind in (k for k in order if k in runs):
            lap = await life.lap(kind, cases, concurrency, runs[kind])
            laps.append(lap)
            if len(runs) == 1:  # for `bench.together`
                print("LAP " + json.dumps({**lap.__dict__, "worker_threads": {}}), flush=True)
            say(
                f"  round {r + 1} {kind:<9} {lap.cases} cases in {lap.wall:6.1f} s "
                f"({lap.throughput:5.1f} cases/s)"
            )
    # Lap by lap: the same work takes more or less CPU as the machine's speed moves (BENCHMARKS.md,
    # issue 16 rounds 8 and 9), and the server and driver, doing nearly the same for either kind,
    # show how far a lap's figures are the machine's.
    say(
        table(
            [
                [
                    f"{n + 1} {lap.kind}",
                    lap.per_case_ms,
                    1000 * lap.worker_cpu / lap.cases,
                    1000 * lap.server_cpu / lap.cases,
                    1000 * lap.driver_cpu / lap.cases,
                ]
                for n, lap in enumerate(laps)
            ],
            ["lap", "wall ms/case", "worker CPU", "server CPU", "driver CPU"],
        )
    )
    if len(runs) == 1:
        return  # one kind: `bench.together` compares it with the other's process
    base_lap, life_lap = _sum(laps, "baseline"), _sum(laps, "lifecycle")

    def per_case(lap: Lap) -> list[float]:
        return [
            lap.per_case_ms,
            lap.throughput,
            1000 * lap.worker_cpu / lap.cases,
            1000 * lap.server_cpu / lap.cases,
            1000 * lap.driver_cpu / lap.cases,
        ]

    ours_row, base_row = per_case(life_lap), per_case(base_lap)
    ratios = [o / b if b else float("nan") for o, b in zip(ours_row, base_row, strict=True)]
    ratios[1] = base_row[1] / ours_row[1]  # throughput: baseline over ours, so >1 is slower
    say(
        table(
            [["lifecycle", *ours_row], ["baseline", *base_row], ["ratio (cost)", *ratios]],
            [
                "",
                "wall ms/case",
                "cases/s",
                "worker CPU ms/case",
                "server CPU ms/case",
                "driver CPU ms/case",
            ],
        )
    )
    names = sorted(
        set(life_lap.worker_threads) | set(base_lap.worker_threads),
        key=lambda name: -life_lap.worker_threads.get(name, 0.0),
    )
    say(
        table(
            [
                [
                    name,
                    1000 * life_lap.worker_threads.get(name, 0.0) / life_lap.cases,
                    1000 * base_lap.worker_threads.get(name, 0.0) / base_lap.cases,
                ]
                for name in names
                if life_lap.worker_threads.get(name) or base_lap.worker_threads.get(name)
            ],
            ["worker thread", "lifecycle CPU ms/case", "baseline CPU ms/case"],
        )
    )
    if life_lap.register_cpu:
        each = 1000 * life_lap.register_cpu / life_lap.cases
        say(f"register (PostgreSQL) CPU: {each:.1f} ms/case")
    results.sections["lifecycle"] = {
        "cases_per_round": cases,
        "rounds": rounds,
        "concurrency": concurrency,
        "shape": shape.model_dump(),
        "one_run": {"lifecycle": ours.__dict__, "baseline": theirs.__dict__},
        "laps": [lap.__dict__ for lap in laps],
        "lifecycle": dict(
            zip(
                ["wall_ms", "cases_s", "worker_ms", "server_ms", "driver_ms"], ours_row, strict=True
            )
        ),
        "baseline": dict(
            zip(
                ["wall_ms", "cases_s", "worker_ms", "server_ms", "driver_ms"], base_row, strict=True
            )
        ),
        "ratio_wall": ratios[0],
        "ratio_worker_cpu": ratios[2],
    }
    results.target(
        "1. lifecycle / baseline (wall time per case)",
        f"<= {TARGET_RATIO}",
        f"{ratios[0]:.2f} (worker CPU {ratios[2]:.2f})",
        ratios[0] <= TARGET_RATIO,
    )
