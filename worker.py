"""The worker: runs referral workflows and their activities on the task queue.

python worker.py            # connection from the environment (see gateway/connection.py)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from gateway.connection import connect, connect_config, task_queue
from safeguarding.profiles import ProfileError, load_profiles
from security.files import private_data_dir
from workflows.escalation import ProfessionalDisagreementWorkflow
from workflows.referral import ReferralWorkflow

WORKFLOWS = [ReferralWorkflow, ProfessionalDisagreementWorkflow]


#: Workflows kept in memory between tasks. A case takes a few decisions a week, so most of a
#: large caseload is idle: a smaller cache than the SDK's 1,000 halves the worker's memory with
#: 2,500+ open cases and shortens garbage collections, and a case not cached is replayed from
#: its history in tens of milliseconds (BENCHMARKS.md). SRO_MAX_CACHED_WORKFLOWS overrides it.
MAX_CACHED_WORKFLOWS = 500


def max_cached_workflows() -> int:
    value = os.environ.get("SRO_MAX_CACHED_WORKFLOWS", "")
    if not value:
        return MAX_CACHED_WORKFLOWS
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"SRO_MAX_CACHED_WORKFLOWS must be a whole number above 0, not {value!r}")
    return int(value)


def build_worker(
    client: Client,
    queue: str | None = None,
    *,
    workflows: Sequence[type] = WORKFLOWS,
    activities: Sequence[Callable[..., Any]] = ALL_ACTIVITIES,
) -> Worker:
    return Worker(
        client,
        task_queue=queue or task_queue(),
        workflows=workflows,
        activities=activities,
        max_cached_workflows=max_cached_workflows(),
    )


def settle_memory() -> None:
    """Once started: move everything allocated so far (the imports, the profiles, the client)
    out of the garbage collector's sight. Full collections then walk only the cases, which
    keeps their pauses well under the SDK's 2 s deadlock detector with thousands of open
    cases (BENCHMARKS.md measured 1.9 s pauses without it)."""
    gc.collect()
    gc.freeze()


def check_profiles() -> list[str]:
    """Refuse to start on a broken profile: better now than when a referral arrives."""
    return sorted(load_profiles())


async def main() -> None:
    private_data_dir()  # the register, the outbox and the sent-markers hold case data
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        codes = check_profiles()
    except ProfileError as err:
        print(f"worker not started: a partnership profile is refused\n{err}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.info("partnership profiles: %s", ", ".join(codes))
    client = await connect(worker=True)
    worker = build_worker(client)
    settle_memory()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    target = connect_config()["target_host"]
    logging.info("worker polling %s on %s (namespace %s)", task_queue(), target, client.namespace)
    async with worker:
        await stop.wait()
    logging.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
