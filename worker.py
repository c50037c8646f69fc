"""The worker: runs referral workflows and their activities on the task queue.

python worker.py            # connection from the environment (see starter/connection.py)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from temporalio.client import Client
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from safeguarding.profiles import ProfileError, load_profiles
from starter.connection import connect, connect_config
from workflows.escalation import ProfessionalDisagreementWorkflow
from workflows.referral import TASK_QUEUE, ReferralWorkflow

WORKFLOWS = [ReferralWorkflow, ProfessionalDisagreementWorkflow]


def task_queue() -> str:
    return os.environ.get("SRO_TASK_QUEUE", TASK_QUEUE)


def build_worker(client: Client, queue: str | None = None) -> Worker:
    return Worker(
        client,
        task_queue=queue or task_queue(),
        workflows=WORKFLOWS,
        activities=ALL_ACTIVITIES,
    )


def check_profiles() -> list[str]:
    """Refuse to start on a broken profile: better now than when a referral arrives."""
    return sorted(load_profiles())


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        codes = check_profiles()
    except ProfileError as err:
        print(f"worker not started: a partnership profile is refused\n{err}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.info("partnership profiles: %s", ", ".join(codes))
    client = await connect()
    worker = build_worker(client)
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
