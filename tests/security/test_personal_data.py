"""No personal data leaves the payloads: a case with a distinctive referral (child's name, date of
birth, ethnicity, the summary, the referrer's name) runs through decisions, a refused signal, a
refused Update and a professional-disagreement escalation on a real dev server. Its raw history,
read without the codec, holds none of those strings, and neither do the search attributes,
workflow ids, summaries, current details or log lines. Read with the codec, the history does hold
them: the check is not vacuous."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from temporalio import activity
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from activities.partnerships import (
    LoadPartnershipInput,
    LoadPartnershipResult,
    load_partnership_settings,
)
from gateway.connection import data_converter
from safeguarding.case import CaseStatus, DecisionResult
from safeguarding.clock import uk_today
from safeguarding.decisions import Person
from safeguarding.escalation import EscalationStatus
from safeguarding.vocabulary import Agency, Role
from tests.factories import (
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    POLICE_MEMBER,
    decision,
    eventually,
    opened_status,
    referral,
    triage_participants,
)
from worker import WORKFLOWS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

CHILD = "Zephyrine Quillfeather-Marchbanks"
DATE_OF_BIRTH = "2019-02-17"
ETHNICITY = "Kerguelen-Tristanian heritage"
SUMMARY = "Found at 42 Wobbleton Crescent with unexplained bruising to the forearms"
REFERRER = "Ignatius Pemberton-Voss"
CONCERN = "Disagree with closing the Quillfeather case at Wobbleton Crescent"
#: A panel member refused in the Update handler: the refusal names them, in a failure.
REFUSED_PERSON = "Octavia Fernsby-Lachlan"

REFERRAL_DATA = (CHILD, DATE_OF_BIRTH, ETHNICITY, SUMMARY, REFERRER)
PERSONAL = (*REFERRAL_DATA, CONCERN, REFUSED_PERSON, "Wobbleton", "Quillfeather")

#: The case opens only when the test lets it (so an Update reaches the handler before the case
#: has opened, passes the validator, and is refused by the handler: a failure in the history).
OPEN_CASES = asyncio.Event()


@activity.defn(name="load_partnership_settings")
async def gated_settings(input: LoadPartnershipInput) -> LoadPartnershipResult:
    await OPEN_CASES.wait()
    return await load_partnership_settings(input)


class Sro:
    """`python -m starter ...` in a subprocess (the command line as people run it)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.stderr: list[str] = []

    async def __call__(self, *args: str) -> dict[str, Any]:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "starter", *args, "--json"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=90,
        )
        self.stderr.append(done.stderr)
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}{done.stderr}"
        result: dict[str, Any] = json.loads(done.stdout)
        return result


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload anywhere in a protobuf message (inputs, results, failures, metadata)."""
    if isinstance(message, Payload):
        yield message
        return
    for _, value in message.ListFields():
        items: list[Any]
        if isinstance(value, Message):
            items = [value]
        elif hasattr(value, "values"):  # a map
            items = list(value.values())
        elif isinstance(value, (str, bytes, int, float)):
            continue
        else:  # a repeated field
            items = list(value)
        for item in items:
            if isinstance(item, Message):
                yield from payloads_in(item)


async def raw_history(client: Client, workflow_id: str) -> list[Message]:
    """The history as the server stores it (every run), through the raw gRPC service."""
    events: list[Message] = []
    token = b""
    while True:
        page = await client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=client.namespace,
                execution=WorkflowExecution(workflow_id=workflow_id),
                next_page_token=token,
            )
        )
        events += page.history.events
        token = page.next_page_token
        if not token:
            return events


def found_in(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [value for value in PERSONAL if value.encode() in data]


async def test_no_personal_data_outside_the_encrypted_payloads(
    dev_server_env: WorkflowEnvironment,
    outbox: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # The worker logs at INFO (worker.py); our own code is checked down to DEBUG. (The SDK's
    # DEBUG messages quote exceptions, a refusal's reason among them: never run a production
    # worker at DEBUG.)
    caplog.set_level(logging.INFO)
    for ours in ("activities", "workflows", "safeguarding", "register", "starter", "security"):
        caplog.set_level(logging.DEBUG, logger=ours)
    client = dev_server_env.client
    queue = f"personal-data-{uuid.uuid4().hex[:8]}"
    sro = Sro(
        {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "SRO_"))},
            "SRO_CODEC_KEYS": os.environ["SRO_CODEC_KEYS"],
            "TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": client.namespace,
            "SRO_TASK_QUEUE": queue,
            "SRO_OUTBOX": str(outbox),
        }
    )
    today = uk_today(datetime.now(UTC))
    made = referral(
        today,
        partnership="CSCP",
        referrer={"name": REFERRER, "agency": "health"},
        summary=SUMMARY,
        children=[
            {"name": CHILD, "date_of_birth": DATE_OF_BIRTH, "sex": "female", "ethnicity": ETHNICITY}
        ],
    )
    referral_file = tmp_path / "referral.json"
    referral_file.write_text(json.dumps(made.model_dump(mode="json")))
    activities = [
        gated_settings,
        *(a for a in ALL_ACTIVITIES if a is not load_partnership_settings),
    ]
    OPEN_CASES.clear()

    async with Worker(client, task_queue=queue, workflows=WORKFLOWS, activities=activities):
        started = await sro("refer", "--file", str(referral_file))
        case = client.get_workflow_handle(started["workflow_id"])

        async def decide(kind: str, by: Person, **fields: Any) -> DecisionResult:
            result: DecisionResult = await case.execute_update(
                "decide", decision(kind, by, **fields), result_type=DecisionResult
            )
            return result

        # While the case is still opening, an Update passes the validator, then the handler
        # refuses it: the refusal (naming the person) is in the history as a failure.
        refused_by = Person(name=REFUSED_PERSON, role=Role.PANEL_MEMBER, agency=Agency.EDUCATION)
        early = await case.start_update(
            "decide",
            decision("triage", refused_by, outcome="serious_incident"),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=DecisionResult,
        )
        OPEN_CASES.set()
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await early.result()
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.type == "NotAuthorised"
        assert REFUSED_PERSON in failed.value.cause.message  # the client decrypts it

        await opened_status(case, CaseStatus)
        business_manager = Person(
            name="Bea Manager", role=Role.BUSINESS_MANAGER, agency=Agency.PARTNERSHIP
        )
        await decide(  # Croydon's three partners agree a notification
            "triage", business_manager, outcome="serious_incident", **triage_participants()
        )
        # A signal that is refused: recorded in the case's history (a payload).
        await case.signal(
            "decision", decision("published", CHAIR, location="x").model_dump(mode="json")
        )
        await decide("notification_submitted", CSC_MEMBER, reference="SIN-2026-0042")
        await decide("information_requested", COORDINATOR, requests=[{"agency": "police"}])
        await decide("information_returned", POLICE_MEMBER, agency="police")

        raised = await sro(
            "escalation", "raise", "--partnership", "CSCP", "--with", "childrens_social_care",
            "--concern", CONCERN, "--case", started["case_ref"],
            "--by-name", "Tia Teacher", "--by-role", "practitioner", "--by-agency", "education",
        )  # fmt: skip
        escalation = client.get_workflow_handle(raised["workflow_id"])
        await opened_status(escalation, EscalationStatus)
        await escalation.execute_update(
            "decide",
            {
                "action": "escalate",
                "decision_id": "e1",
                "by": {"name": "Max Manager", "role": "manager", "agency": "education"},
                "reason": "No reply.",
            },
            result_type=EscalationStatus,
        )
        await escalation.execute_update(
            "decide",
            {
                "action": "resolve",
                "decision_id": "e2",
                "by": {"name": "Sol Worker", "role": "practitioner", "agency": "education"},
                "outcome": "Agreed.",
            },
            result_type=EscalationStatus,
        )
        await escalation.result()

        def refused_and_told(state: CaseStatus) -> bool:
            return any(e.kind.value == "refused" for e in state.history) and any(
                "resolved at stage" in e.text for e in state.history
            )

        # The signal and the escalation's notes arrive in their own time.
        state = await eventually(
            lambda: case.query("status", result_type=CaseStatus),
            refused_and_told,
            what="the refused signal and the escalation's notes recorded",
        )
        assert refused_and_told(state)

        # ---------------------------------------------------------- operator-facing metadata
        for handle in (case, escalation):
            assert not found_in(handle.id)
            described = await handle.describe()
            attributes = {k.name: v for k, v in described.typed_search_attributes}
            assert attributes, "no search attributes were set"
            assert not found_in(repr(attributes))
            raw_info = described.raw_description.workflow_execution_info
            assert not found_in(raw_info.search_attributes.SerializeToString())
            for text in (await described.static_summary(), await described.static_details()):
                assert text and not found_in(text), text
            metadata = await handle.query(
                "__temporal_workflow_metadata", result_type=WorkflowMetadata
            )
            assert metadata.current_details and not found_in(metadata.current_details)
            assert not found_in(metadata.SerializeToString())

        await case.terminate("test finished")

    # ---------------------------------------------------------- the history without the codec
    codec = data_converter().payload_codec  # the ring, and the case keys in the register
    assert codec is not None
    decoded = b""
    for workflow_id in (case.id, escalation.id):
        events = await raw_history(client, workflow_id)
        stored = b"".join(e.SerializeToString() for e in events)
        assert not found_in(stored), f"plaintext in {workflow_id}'s history: {found_in(stored)}"
        payloads = [p for e in events for p in payloads_in(e)]
        assert payloads and all(
            p.metadata.get("encoding") == b"binary/encrypted"
            for p in payloads
            if p.metadata.get("encoding") not in (b"json/plain", b"binary/null")
        )
        decoded += b"".join(p.SerializeToString() for p in await codec.decode(payloads))
    # With the codec, it is all there: the check above is not vacuous.
    assert set(found_in(decoded)) >= {*REFERRAL_DATA, CONCERN, REFUSED_PERSON}

    # A client without the codec sees only ciphertext.
    plain = await Client.connect(
        client.service_client.config.target_host,
        namespace=client.namespace,
        data_converter=pydantic_data_converter,
    )
    history = await plain.get_workflow_handle(case.id).fetch_history()
    assert not found_in(history.to_json())

    # ---------------------------------------------------------- logs
    captured = capfd.readouterr()
    logs = caplog.text + captured.out + captured.err + "".join(sro.stderr)
    assert caplog.records, "nothing was logged: check the capture"
    leaking = [line for line in logs.splitlines() if found_in(line)]
    assert not leaking, "\n".join(leaking)
