"""The worker's metrics: with SRO_METRICS_ADDRESS it serves Prometheus's `/metrics`, the SDK's
own figures and the cases' (decisions applied and refused, the portfolio by stage), with no
personal data. On a real dev server (visibility counts)."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from gateway.connection import data_converter
from safeguarding.clock import uk_today
from tests.factories import CHAIR, decision, eventually, referral
from tests.ports import free_port
from worker import build_worker, metrics_runtime, publish_portfolio
from workflows.referral import ReferralInput, ReferralWorkflow, workflow_id

pytestmark = pytest.mark.integration

CHILD_NAME = "Child A"


def _scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as answer:
        text: str = answer.read().decode()
        return text


async def test_the_worker_serves_the_cases_figures_without_personal_data(
    dev_server_env: WorkflowEnvironment, outbox: object
) -> None:
    address = f"127.0.0.1:{free_port()}"
    runtime = metrics_runtime(address)
    assert runtime is not None
    server = dev_server_env.client.service_client.config.target_host
    client = await Client.connect(server, data_converter=data_converter(), runtime=runtime)
    queue = f"it-metrics-{uuid.uuid4()}"
    today = uk_today(datetime.now(UTC))
    case_ref = f"LSCP-{today.year:04d}-{uuid.uuid4().hex[:6].upper()}"
    async with build_worker(client, queue):
        handle = await client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(case_ref=case_ref, referral=referral(today, partnership="ENGLAND")),
            id=workflow_id(case_ref),
            task_queue=queue,
        )
        try:
            await handle.execute_update(
                "decide", decision("triage", CHAIR, outcome="serious_incident")
            )
            # A refusal the case records (a signal at the wrong stage) is counted; an Update
            # its validator rejects never reaches the case (README: Metrics).
            await handle.signal("decision", decision("case_closed", CHAIR))
            counting = asyncio.create_task(publish_portfolio(client, runtime.metric_meter, 0.2))
            text = await eventually(
                lambda: asyncio.to_thread(_scrape, address),
                lambda t: (
                    'stage="serious_incident_notification"' in t and "sro_decisions_refused" in t
                ),
                what="the cases' figures in /metrics",
            )
            counting.cancel()
        finally:
            await handle.terminate("test finished")
    applied = [line for line in text.splitlines() if line.startswith("sro_decisions_applied{")]
    refused = [line for line in text.splitlines() if line.startswith("sro_decisions_refused{")]
    assert any('type="SignalRefused"' in line for line in refused)
    assert any('kind="triage"' in line and 'partnership="ENGLAND"' in line for line in applied)
    assert any(line.startswith("sro_open_cases{") for line in text.splitlines())
    assert "temporal_workflow_task" in text or "temporal_request" in text  # the SDK's own
    assert CHILD_NAME not in text and case_ref not in text
