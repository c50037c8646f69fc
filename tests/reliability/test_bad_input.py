"""Malformed and hostile referrals and decisions (hypothesis: hostile.py) thrown at every way in:
the domain parsers, the command line with files as people give them, the workflow's Update
validator and its Signal on the time-skipping server, and the register's writer.

Each is refused with a clear message (one printable line per problem, naming the field, or the
limit for oversized input), never a traceback; no workflow task fails or sticks; a refused
decision leaves the case exactly as it was, and a valid decision still works afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from activities.register import record
from gateway.connection import data_converter
from register import db
from register.models import DecisionRecord
from safeguarding.case import Case, CaseStatus, DecisionResult, HistoryKind
from safeguarding.clock import uk_today
from safeguarding.decisions import (
    MAX_DECISION_BYTES,
    InvalidDecision,
    Person,
    parse_decision,
)
from safeguarding.projection import snapshot
from safeguarding.referral import MAX_REFERRAL_BYTES, InvalidReferral, parse_referral
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import DecisionKind, Role, Stage
from starter import cli
from tests.conftest import binary
from tests.factories import CHAIR, EVENTUALLY_TIMEOUT, referral, triage_participants
from tests.reliability.hostile import (
    ANY_CHARACTER,
    RECEIVED_ON,
    Hostile,
    hostile_decisions,
    hostile_referrals,
    oversized_decision,
    oversized_referral,
    raw_files,
    valid_decision,
    valid_referral,
)
from workflows.referral import (
    ReferralInput,
    ReferralOptions,
    ReferralResult,
    ReferralWorkflow,
    workflow_id,
)

#: A clear error is short: it names what is wrong, it does not echo the input back.
MESSAGE_MAX = 4_000
CASE_REF = "LSCP-2026-ABCDEF"
QUERY_RETRY = {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}
#: RELIABILITY_EXAMPLE_FACTOR=10 runs ten times the examples (RELIABILITY.md's figures).
FACTOR = max(1, int(os.environ.get("RELIABILITY_EXAMPLE_FACTOR", "1")))


def examples(count: int) -> int:
    return count * FACTOR


PURE = settings(max_examples=examples(250), deadline=None)
CLI = settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
WORKFLOW = settings(
    max_examples=examples(50),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def clear(message: str, hostile: Hostile) -> None:
    """A refusal people can read: short, printable line by line, naming the field."""
    assert message.strip(), "an empty refusal"
    assert len(message) <= MESSAGE_MAX, f"a refusal of {len(message)} characters"
    assert "Traceback" not in message
    for line in message.splitlines():
        assert line.isprintable(), f"unprintable refusal line {line!r}"
    if hostile.field is not None:
        assert hostile.field in message, f"{hostile.field!r} not named in {message!r}"


# --------------------------------------------------------------------------- the parsers


@PURE
@given(hostile=hostile_referrals(any_day=True))
def test_parse_referral_refuses_hostile_input_clearly(hostile: Hostile) -> None:
    try:
        parse_referral(hostile.payload, today=hostile.today)
    except InvalidReferral as err:
        clear(str(err), hostile)
    else:
        assert not hostile.must_fail, f"accepted a {hostile.how} referral"


@PURE
@given(hostile=hostile_decisions())
def test_parse_decision_refuses_hostile_input_clearly(hostile: Hostile) -> None:
    try:
        parse_decision(hostile.payload)
    except InvalidDecision as err:
        clear(str(err), hostile)
    else:
        assert not hostile.must_fail, f"accepted a {hostile.how} decision"


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def sro(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Sro:
    for name in ("SRO_USER_NAME", "SRO_USER_ROLE", "SRO_USER_AGENCY"):
        monkeypatch.delenv(name, raising=False)
    # Nothing here may reach Temporal: a port nobody listens on.
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:9")
    return Sro(tmp_path, capsys)


@dataclass
class Sro:
    folder: Path
    capsys: pytest.CaptureFixture[str]

    def file(self, content: bytes) -> str:
        path = self.folder / f"{uuid.uuid4().hex}.json"
        path.write_bytes(content)
        return str(path)

    def __call__(self, *argv: str) -> tuple[int, str]:
        self.capsys.readouterr()
        code = cli.main(list(argv))
        return code, self.capsys.readouterr().err


def as_json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


@CLI
@given(hostile=hostile_referrals())
def test_sro_refer_refuses_hostile_referral_files(sro: Sro, hostile: Hostile) -> None:
    code, err = sro("refer", "--file", sro.file(as_json(hostile.payload)), "--dry-run")
    if hostile.must_fail:
        assert code == 2, err
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("error: "), err
        clear(err, hostile)


@CLI
@given(hostile=hostile_decisions())
def test_sro_decide_refuses_hostile_decision_files(sro: Sro, hostile: Hostile) -> None:
    payload = hostile.payload
    # The command line makes up a decision id when the file has none (or an empty one).
    fills_in_the_id = isinstance(payload, dict) and not payload.get("decision_id", "")
    code, err = sro("decide", CASE_REF, "--file", sro.file(as_json(payload)), "--dry-run")
    if hostile.must_fail and not (fills_in_the_id and hostile.field == "decision_id"):
        assert code == 2, err
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("error: "), err
        clear(err, hostile)


@CLI
@given(content=raw_files, command=st.sampled_from(["refer", "decide"]))
def test_sro_refuses_files_that_are_not_json_objects(
    sro: Sro, content: bytes, command: str
) -> None:
    path = sro.file(content)
    argv = ["refer", "--file", path] if command == "refer" else ["decide", CASE_REF, "--file", path]
    code, err = sro(*argv, "--dry-run")
    assert code == 2, err
    assert err.startswith("error: "), err
    clear(err, Hostile(content, True, None, "raw"))


def test_sro_refuses_oversized_files_stating_the_limit(sro: Sro) -> None:
    big_referral = as_json(oversized_referral())
    assert len(big_referral) > MAX_REFERRAL_BYTES
    code, err = sro("refer", "--file", sro.file(big_referral), "--dry-run")
    assert code == 2
    assert f"larger than {MAX_REFERRAL_BYTES} bytes" in err
    big_decision = as_json(oversized_decision())
    code, err = sro("decide", CASE_REF, "--file", sro.file(big_decision), "--dry-run")
    assert code == 2
    assert f"larger than {MAX_DECISION_BYTES} bytes" in err
    # A text field longer than its own limit, given as a flag, is refused with that limit.
    code, err = sro(
        *("decide", CASE_REF, "triage", "--outcome", "serious_incident", "--note", "A" * 5000),
        *("--by-name", "Dana Chair", "--by-role", "chair", "--by-agency", "police", "--dry-run"),
    )
    assert code == 2
    assert "note: String should have at most 4000 characters" in err


# --------------------------------------------------------------------------- the workflow


@dataclass
class OpenCase:
    env: WorkflowEnvironment
    handle: WorkflowHandle[ReferralWorkflow, ReferralResult]
    queue: str

    async def status(self) -> CaseStatus:
        # A query can time out on a busy machine, or while the case continues as new (hundreds
        # of refused signals make it do so): ask again, for as long as a busy machine may need.
        deadline = asyncio.get_running_loop().time() + EVENTUALLY_TIMEOUT
        while True:
            try:
                return await self.handle.query(ReferralWorkflow.status)
            except RPCError as err:
                if err.status not in QUERY_RETRY or asyncio.get_running_loop().time() > deadline:
                    raise
            await asyncio.sleep(0.5)

    async def opened(self) -> CaseStatus:
        """The status once the case has finished opening: the case answers queries while its
        deadlines are still being planned (an activity) and its opening notices sent, and those
        would show up as changes in the first test to compare a status before and after."""
        deadline = asyncio.get_running_loop().time() + EVENTUALLY_TIMEOUT
        previous: CaseStatus | None = None
        while True:
            status = await self.status()
            pending = (await self.handle.describe()).raw_description.pending_activities
            if status.deadlines and not pending and status == previous:
                return status
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the case never finished opening: {status!r}")
            previous = status
            await asyncio.sleep(0.1)

    async def workflow_task_failures(self) -> list[str]:
        """Every failed workflow task in every run of the case (it may have continued as new)."""
        found = []
        run_id = (await self.handle.describe()).run_id
        while run_id:
            run = self.env.client.get_workflow_handle(self.handle.id, run_id=run_id)
            run_id = ""
            async for event in run.fetch_history_events():
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                    started = event.workflow_execution_started_event_attributes
                    run_id = started.continued_execution_run_id
                elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    found.append(event.workflow_task_failed_event_attributes.failure.message)
        return found


@pytest_asyncio.fixture(scope="module")
async def open_case(
    time_skipping_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OpenCase]:
    """One case waiting for its triage, on a worker of its own: every hostile decision is sent
    to it, and it must come out of them untouched."""
    queue = f"hostile-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SRO_OUTBOX", str(tmp_path_factory.mktemp("outbox")))
        async with Worker(
            time_skipping_env.client,
            task_queue=queue,
            workflows=[ReferralWorkflow],
            activities=ALL_ACTIVITIES,
        ):
            today = uk_today(await time_skipping_env.get_current_time())
            case_ref = f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}"
            handle = await time_skipping_env.client.start_workflow(
                ReferralWorkflow.run,
                ReferralInput(
                    case_ref=case_ref,
                    referral=referral(today, partnership="LSCP"),
                    options=ReferralOptions(search_attributes=False),
                ),
                id=workflow_id(case_ref),
                task_queue=queue,
            )
            case = OpenCase(time_skipping_env, handle, queue)
            assert (await case.opened()).stage is Stage.TRIAGE
            yield case
            await handle.terminate("test finished")


def unchanged(before: CaseStatus, after: CaseStatus, refusals: int = 0) -> None:
    """Nothing about the case changed but (for a signal) the refusals recorded (and a note that
    the case continued as new, if it did)."""
    assert after.stage is before.stage
    assert after.decisions_allowed == before.decisions_allowed
    assert after.deadlines == before.deadlines
    assert after.history[: len(before.history)] == before.history
    added = [e for e in after.history[len(before.history) :] if e.kind is not HistoryKind.CONTINUED]
    assert len(added) == refusals, added
    assert all(e.kind is HistoryKind.REFUSED for e in added), added


async def refused_update(case: OpenCase, payload: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await case.handle.execute_update("decide", payload, result_type=DecisionResult)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def signal_refused(case: OpenCase, payload: Any) -> str:
    """Signal `decision`; wait for its refusal in the history; return the refusal's text."""
    before = await case.status()
    await case.handle.signal("decision", payload)
    deadline = asyncio.get_running_loop().time() + EVENTUALLY_TIMEOUT
    while asyncio.get_running_loop().time() < deadline:
        after = await case.status()
        added = after.history[len(before.history) :]
        if any(e.kind is HistoryKind.REFUSED for e in added):
            unchanged(before, after, refusals=1)
            return next(e.text for e in added if e.kind is HistoryKind.REFUSED)
        await case.env.sleep(timedelta(milliseconds=50))
    raise AssertionError("the signal was never recorded")


@WORKFLOW
@given(hostile=hostile_decisions(refused_only=True))
async def test_update_validator_refuses_hostile_decisions(
    open_case: OpenCase, hostile: Hostile
) -> None:
    before = await open_case.status()
    cause = await refused_update(open_case, hostile.payload)
    assert cause.type == "InvalidDecision", cause
    assert cause.non_retryable
    clear(cause.message, hostile)
    unchanged(before, await open_case.status())


@settings(WORKFLOW, max_examples=examples(25))
@given(hostile=hostile_decisions(refused_only=True))
async def test_hostile_signals_are_recorded_as_refused(
    open_case: OpenCase, hostile: Hostile
) -> None:
    text = await signal_refused(open_case, hostile.payload)
    assert text.startswith("Refused: ")
    clear(text, hostile)


#: Payloads that are not JSON at all, as any client could send them.
RAW_PAYLOADS = [
    Payload(metadata={"encoding": b"json/plain"}, data=b"{not json"),
    Payload(metadata={"encoding": b"json/plain"}, data=b"\xff\xfe\x00garbage"),
    Payload(metadata={"encoding": b"json/plain"}, data=b"[" * 5000 + b"]" * 5000),
    Payload(metadata={"encoding": b"binary/plain"}, data=b"\x00\x01\x02"),
    Payload(metadata={"encoding": b"binary/null"}),
    Payload(metadata={"encoding": b"application/x-evil"}, data=b"{}"),
    Payload(metadata={}, data=b'{"kind": "triage"}'),
]


async def test_payloads_that_are_not_json_are_refused(open_case: OpenCase) -> None:
    for payload in RAW_PAYLOADS:
        before = await open_case.status()
        cause = await refused_update(open_case, RawValue(payload))
        assert cause.type == "InvalidDecision", cause
        clear(cause.message, Hostile(payload, True, None, "raw"))
        unchanged(before, await open_case.status())
        text = await signal_refused(open_case, RawValue(payload))
        clear(text, Hostile(payload, True, None, "raw"))


async def test_oversized_decisions_are_refused_stating_the_limit(open_case: OpenCase) -> None:
    for kind in (DecisionKind.TRIAGE, DecisionKind.CASE_CLOSED):
        payload = oversized_decision(kind)
        before = await open_case.status()
        cause = await refused_update(open_case, payload)
        assert cause.type == "InvalidDecision"
        assert f"the limit is {MAX_DECISION_BYTES} bytes" in cause.message, cause.message
        unchanged(before, await open_case.status())
        text = await signal_refused(open_case, payload)
        assert f"the limit is {MAX_DECISION_BYTES} bytes" in text
        assert len(text) < 200  # the refusal, not the decision, goes into the history


async def test_decisions_out_of_range_are_refused_by_the_case(open_case: OpenCase) -> None:
    """Well formed, but dated in the future or before the referral: refused, named."""
    today = uk_today(await open_case.env.get_current_time())
    for occurred_on in (today + timedelta(days=1), RECEIVED_ON.replace(year=1900)):
        payload = {
            **valid_decision(DecisionKind.TRIAGE, "h-dated"),
            "occurred_on": str(occurred_on),
        }
        before = await open_case.status()
        cause = await refused_update(open_case, payload)
        assert cause.type == "InvalidDecision"
        assert "occurred_on" in cause.message
        unchanged(before, await open_case.status())


async def test_after_all_that_the_case_is_unharmed(open_case: OpenCase) -> None:
    """Runs after the hostile tests above (file order): no workflow task failed or is failing,
    and the case still takes a valid decision."""
    description = await open_case.handle.describe()
    assert description.raw_description.pending_workflow_task.attempt <= 1
    assert await open_case.workflow_task_failures() == []
    result = await open_case.handle.execute_update(
        "decide",
        # Attended as Liverpool's triage asks.
        {**valid_decision(DecisionKind.TRIAGE, "h-valid-at-last"), **triage_participants()},
        result_type=DecisionResult,
    )
    assert result.stage is Stage.SERIOUS_INCIDENT_NOTIFICATION
    status = await open_case.status()
    refusals = sum(1 for e in status.history if e.kind is HistoryKind.REFUSED)
    print(f"hostile input: {refusals} refusals recorded over {status.runs} run(s) of the case")
    applied = [e for e in status.history if e.kind is HistoryKind.DECISION]
    assert [e.decision_id for e in applied] == ["h-valid-at-last"]


async def test_a_case_started_with_an_invalid_referral_is_refused() -> None:
    """A start that bypasses `sro refer` and the console (which check first): the case fails at
    once with the reason, rather than its first workflow task failing on every retry."""
    # A test server of its own: a workflow whose first task keeps failing stops the shared
    # time-skipping server from skipping time for the tests after it, even once terminated.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=data_converter(),
    )
    queue = f"hostile-start-{uuid.uuid4().hex[:8]}"
    case_ref = f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}"
    async with (
        env,
        Worker(
            env.client, task_queue=queue, workflows=[ReferralWorkflow], activities=ALL_ACTIVITIES
        ),
    ):
        handle = await env.client.start_workflow(
            "ReferralWorkflow",
            {"case_ref": case_ref, "referral": oversized_referral()},
            id=workflow_id(case_ref),
            task_queue=queue,
        )
        try:
            failures: list[Any] = []
            deadline = asyncio.get_running_loop().time() + EVENTUALLY_TIMEOUT
            while asyncio.get_running_loop().time() < deadline:
                description = await handle.describe()
                failures = [
                    e
                    async for e in handle.fetch_history_events()
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
                ]
                if failures or description.status != WorkflowExecutionStatus.RUNNING:
                    break
                await asyncio.sleep(0.1)
            assert failures == [], failures[0].workflow_task_failed_event_attributes.failure.message
            assert description.status == WorkflowExecutionStatus.FAILED
            with pytest.raises(WorkflowFailureError) as failed:
                await handle.result()
            cause = failed.value.cause
            assert isinstance(cause, ApplicationError) and cause.type == "InvalidStart"
            assert cause.message.startswith("case not started: referral.")
            assert len(cause.message) <= MESSAGE_MAX
        finally:
            with contextlib.suppress(RPCError):  # already failed, as it should
                await handle.terminate("test finished")


# --------------------------------------------------------------------------- the register


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.text(ANY_CHARACTER, min_size=1, max_size=200).filter(str.strip),
    name=st.text(ANY_CHARACTER, min_size=1, max_size=40).filter(str.strip),
)
@example(
    text='Emoji \U0001f600, RTL \u202eevil, "quotes", \\ \x01 and NUL \x00',
    name="Zo\u00eb \U0001f600",
)
def test_hostile_but_valid_text_reaches_the_register(
    register_url: str, text: str, name: str
) -> None:
    """Text the rules accept (control characters, NUL, RTL overrides, emoji) must not poison the
    register: a write that can never succeed would hold the case open for ever (the workflow waits
    for the register before it ends) and stall the register for it."""
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    made = parse_referral(
        {**valid_referral(), "summary": text, "children": [{"name": name, "age_years": 3}]}
    )
    case, _ = Case.open(
        f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}", made, PartnershipSettings(), now
    )
    by = Person(name=name, role=Role.CHAIR, agency=CHAIR.agency)
    decision = parse_decision(
        {**valid_decision(DecisionKind.TRIAGE, "h-text"), "by": by.model_dump(), "note": text}
    )
    case.apply(decision, now + timedelta(hours=1), "update")
    done = record(snapshot(case), register_url)
    assert done.history_upto == len(case.history)
    with db.session(register_url) as session:
        [row] = session.exec(
            select(DecisionRecord).where(DecisionRecord.case_ref == case.case_ref)
        ).all()
    assert row.why is not None and row.by_name
    if "\x00" not in text + name:
        assert (row.why, row.by_name) == (text, name)
