"""A worker process for the benchmarks: `python -m bench.workerproc --queue Q --identity NAME`.

It is the project's worker (`worker.build_worker`) with two additions that change nothing it
does: its client carries a named identity (so each workflow task and activity in a history says
which process handled it) and an activity interceptor that counts the activities this process
executed, written as JSON to --stats every second and on exit. With --baseline it also runs the
baseline workflow and its no-op activity on the same queue (for the lifecycle comparison).

Connection and encryption key from the environment (TEMPORAL_ADDRESS, SRO_CODEC_KEYS_FILE), and
the data converter from gateway.connection, as for worker.py. Stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity, client
from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from activities import ALL_ACTIVITIES
from bench.baseline import BaselineWorkflow, bench_noop
from gateway.connection import connect_config, data_converter
from worker import WORKFLOWS, build_worker, settle_memory


class ActivityCounter(client.Interceptor, Interceptor):
    """Counts activity executions by type (a client interceptor that workers also use)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Counting(next, self.counts)


class _Counting(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, counts: Counter[str]) -> None:
        super().__init__(next)
        self._counts = counts

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        self._counts[activity.info().activity_type] += 1
        return await super().execute_activity(input)


@activity.defn(name="record_case")
async def stub_record_case(input: dict[str, Any]) -> dict[str, Any]:
    """Diagnosis only (--stub-register): answers as the register would, writes nothing."""
    snapshot = input["snapshot"]
    return {
        "case_ref": snapshot["case"]["case_ref"],
        "history_upto": snapshot["history_upto"],
        "current": True,
        "history_added": 0,
        "decisions_added": 0,
    }


class GcPauses:
    """How long the garbage collector stopped this process, by generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.total = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info.get("generation", 0)
        paused = time.perf_counter() - self._started
        self.count[generation] += 1
        self.total[generation] += paused
        self.longest[generation] = max(self.longest[generation], paused)

    def as_dict(self) -> dict[str, Any]:
        return {
            "collections": self.count,
            "total_ms": [round(1000 * t, 1) for t in self.total],
            "longest_ms": [round(1000 * t, 1) for t in self.longest],
        }


GC = GcPauses()


def _write_stats(path: Path, identity: str, counter: ActivityCounter) -> None:
    body = {
        "identity": identity,
        "pid": os.getpid(),
        "activities": dict(counter.counts),
        "gc": GC.as_dict(),
    }
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body))
    temporary.replace(path)


async def main(args: argparse.Namespace) -> None:
    counter = ActivityCounter()
    connected = await Client.connect(
        **connect_config(),
        data_converter=data_converter(),
        identity=args.identity,
        interceptors=[counter],
    )
    if args.max_cached is not None:
        os.environ["SRO_MAX_CACHED_WORKFLOWS"] = str(args.max_cached)
    activities = [*ALL_ACTIVITIES, bench_noop] if args.baseline else [*ALL_ACTIVITIES]
    if args.stub_register:
        activities = [stub_record_case if _name(a) == "record_case" else a for a in activities]
    worker = build_worker(
        connected,
        args.queue,
        workflows=[*WORKFLOWS, BaselineWorkflow] if args.baseline else WORKFLOWS,
        activities=activities,
    )
    settle_memory()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stats = Path(args.stats)
    async with worker:
        print(f"{args.identity}: polling {args.queue} (pid {os.getpid()})", flush=True)
        while not stop.is_set():
            _write_stats(stats, args.identity, counter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
    _write_stats(stats, args.identity, counter)
    print(f"{args.identity}: stopped", flush=True)


def _name(fn: Callable[..., Any]) -> str:
    defn = activity._Definition.from_callable(fn)
    return defn.name if defn and defn.name else getattr(fn, "__name__", "")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.workerproc")
    parser.add_argument("--queue", required=True)
    parser.add_argument("--identity", required=True)
    parser.add_argument("--stats", required=True, help="JSON file for the activity counts")
    parser.add_argument("--baseline", action="store_true", help="also run the baseline workflow")
    parser.add_argument(
        "--max-cached",
        type=int,
        help="diagnosis: the worker's max_cached_workflows (default: worker.MAX_CACHED_WORKFLOWS)",
    )
    parser.add_argument(
        "--stub-register",
        action="store_true",
        help="diagnosis: a record_case that writes nothing instead of the register's",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
