"""The worker: runs referral workflows and their activities on the task queue.

python worker.py            # connection from the environment (see gateway/connection.py)
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from activities.reconcile import RegisterReconciler
from config import SettingsError, settings
from config.defaults import MAX_CACHED_WORKFLOWS as MAX_CACHED_WORKFLOWS
from gateway.connection import connect, connect_config, task_queue
from gateway.errors import GatewayError
from gateway.portfolio import portfolio
from gateway.rebuild import rebuild
from safeguarding.model import build_all
from safeguarding.profiles import ProfileError, load_profiles
from security.files import private_data_dir
from workflows.disposal import DisposalWorkflow
from workflows.escalation import ProfessionalDisagreementWorkflow
from workflows.referral import ReferralWorkflow
from workflows.sandbox import DirectContextSandbox
from workflows.scheduled import RegisterReconciliationWorkflow, ScheduledReportWorkflow

WORKFLOWS = [
    ReferralWorkflow,
    ProfessionalDisagreementWorkflow,
    ScheduledReportWorkflow,
    DisposalWorkflow,
    RegisterReconciliationWorkflow,
]


def max_cached_workflows() -> int:
    """Workflows kept in memory between tasks: SRO_MAX_CACHED_WORKFLOWS, else
    `MAX_CACHED_WORKFLOWS` (config/environment.py says why 500)."""
    try:
        return settings().max_cached_workflows
    except SettingsError as err:
        raise SystemExit(str(err)) from None


def build_worker(
    client: Client,
    queue: str | None = None,
    *,
    workflows: Sequence[type] = WORKFLOWS,
    activities: Sequence[Callable[..., Any]] = ALL_ACTIVITIES,
) -> Worker:
    build_all()  # the models' validators, outside the workflow sandbox (safeguarding/model.py)
    # The nightly reconciliation rebuilds the register through this worker's own client.
    queue = queue or task_queue()
    reconciler = RegisterReconciler(functools.partial(rebuild, client), queue)
    return Worker(
        client,
        task_queue=queue,
        workflows=workflows,
        activities=[*activities, reconciler.reconcile_register],
        max_cached_workflows=max_cached_workflows(),
        # The SDK's sandbox, without its exec for every payload's context (workflows/sandbox.py).
        workflow_runner=DirectContextSandbox(),
    )


#: How often the worker counts the portfolio for its metrics (visibility counts: cheap).
PORTFOLIO_EVERY = 60.0


def metrics_runtime(address: str | None) -> Runtime | None:
    """A runtime serving Prometheus metrics on `address` (SRO_METRICS_ADDRESS): the SDK's own
    (workflow and activity task latencies, failures, polls) and the cases' (workflows/metrics.py,
    `publish_portfolio`). None: the default runtime, no endpoint."""
    if not address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


async def publish_portfolio(client: Client, meter: MetricMeter, every: float) -> None:
    """Open cases by stage and the overdue ones, as gauges, every `every` seconds. A failed
    count is logged and tried again next time: metrics never stop the worker."""
    by_stage = meter.create_gauge("sro_open_cases", "open cases by stage")
    overdue = meter.create_gauge("sro_overdue_cases", "open cases with a deadline overdue")
    while True:
        try:
            counted = await portfolio(client)
        except GatewayError as err:
            logging.warning("portfolio metrics not counted: %s", err)
        else:
            for stage, count in counted.by_stage.items():
                by_stage.set(count, {"stage": stage})
            overdue.set(counted.overdue)
        await asyncio.sleep(every)


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
    try:
        settings()
    except SettingsError as err:
        print(f"worker not started: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    private_data_dir()  # the register, the outbox and the sent-markers hold case data
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        codes = check_profiles()
    except ProfileError as err:
        print(f"worker not started: a partnership profile is refused\n{err}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.info("partnership profiles: %s", ", ".join(codes))
    address = settings().metrics_address
    runtime = metrics_runtime(address)
    client = await connect(worker=True, runtime=runtime)
    worker = build_worker(client)
    counting = None
    if runtime is not None:
        logging.info("metrics on http://%s/metrics", address)
        counting = asyncio.create_task(
            publish_portfolio(client, runtime.metric_meter, PORTFOLIO_EVERY)
        )
    settle_memory()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    target = connect_config()["target_host"]
    logging.info("worker polling %s on %s (namespace %s)", task_queue(), target, client.namespace)
    async with worker:
        await stop.wait()
    if counting is not None:
        counting.cancel()
    logging.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
