"""A notice refused for good (workflows/delivery.py): the notification activity raises a
non-retryable error; the case records that the notice could not be sent, tries it once only,
sends the notices queued behind it and goes on taking decisions."""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from activities.notifications import SendNoticeInput, SendNoticeResult, send_notice
from safeguarding.case import CaseStatus, DecisionResult, HistoryKind
from safeguarding.clock import uk_today
from safeguarding.decisions import Person
from safeguarding.vocabulary import Agency, Role, Stage
from tests.factories import (
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    HEALTH_MEMBER,
    decision,
    eventually,
    opened_status,
    referral,
)
from workflows.referral import (
    ReferralInput,
    ReferralOptions,
    ReferralResult,
    ReferralWorkflow,
    workflow_id,
)

Handle = WorkflowHandle[ReferralWorkflow, ReferralResult]
EDUCATION_MEMBER = Person(name="Ed Teacher", role=Role.PANEL_MEMBER, agency=Agency.EDUCATION)


class Sends:
    """The real notification activity, with one notice made unsendable on its way in: a second
    line in its subject (as a change that pasted a child's name there would make it), which the
    real activity refuses for good (UnsafeSubject, non-retryable)."""

    def __init__(self, spoil: str) -> None:
        self.spoil = spoil
        self.attempts: Counter[str] = Counter()

    def activity(self) -> Any:
        @activity.defn(name="send_notice")
        async def spoiling_send_notice(input: SendNoticeInput) -> SendNoticeResult:
            notice = input.notice
            self.attempts[notice.notice_id] += 1
            if notice.notice_id.endswith(self.spoil):
                notice = notice.model_copy(update={"subject": f"{notice.subject}\nChild A"})
            return await send_notice(SendNoticeInput(notice=notice))

        return spoiling_send_notice


@pytest_asyncio.fixture
async def spoilt(
    time_skipping_env: WorkflowEnvironment, outbox: Path
) -> AsyncIterator[tuple[Handle, Sends]]:
    sends = Sends(spoil=":education")
    queue = f"test-delivery-{uuid.uuid4().hex[:8]}"
    others = [a for a in ALL_ACTIVITIES if a is not send_notice]
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[ReferralWorkflow],
        activities=[*others, sends.activity()],
    ):
        case_ref = f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}"
        today = uk_today(await time_skipping_env.get_current_time())
        handle = await time_skipping_env.client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref,
                referral=referral(today),
                options=ReferralOptions(search_attributes=False),
            ),
            id=workflow_id(case_ref),
            task_queue=queue,
        )
        try:
            yield handle, sends
        finally:
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")


async def decide(handle: Handle, kind: str, by: Person, **fields: Any) -> DecisionResult:
    result: DecisionResult = await handle.execute_update(
        "decide", decision(kind, by, **fields), result_type=DecisionResult
    )
    return result


def not_sent(state: CaseStatus) -> list[str]:
    """The case's notes of notices that could not be sent."""
    return [
        e.text
        for e in state.history
        if e.kind is HistoryKind.NOTICE and "could not be sent" in e.text
    ]


async def test_a_notice_refused_for_good_is_recorded_and_the_case_goes_on(
    spoilt: tuple[Handle, Sends], outbox: Path
) -> None:
    handle, sends = spoilt
    await opened_status(handle, CaseStatus)
    await decide(handle, "triage", CHAIR, outcome="serious_incident")
    await decide(handle, "notification_submitted", CSC_MEMBER, reference="SIN-1")
    # Education's request first in the queue, health's behind it.
    await decide(
        handle,
        "information_requested",
        COORDINATOR,
        requests=[{"agency": "education"}, {"agency": "health"}],
    )

    async def noted() -> list[str]:
        return not_sent(await handle.query(ReferralWorkflow.status))

    notes = await eventually(noted, what="the refused notice recorded in the case")
    (note,) = notes
    refused_id = next(n for n in sends.attempts if n.endswith(":education"))
    assert note.startswith(f"Notice {refused_id} could not be sent:")
    assert "subject is not one printable line" in note
    assert "Child A" not in note  # the refusal does not echo what made the subject unsafe

    async def sent() -> list[str]:
        return sorted(p.name for p in outbox.iterdir()) if outbox.exists() else []

    # The notice behind it still went; the refused one was tried once, never retried.
    files = await eventually(sent, what="health's information request in the outbox")
    assert len(files) == 1 and "health" in files[0], files
    assert sends.attempts[refused_id] == 1
    assert sum(sends.attempts.values()) == 2

    # The case goes on: decisions still apply, and its deadlines still stand.
    await decide(handle, "information_returned", HEALTH_MEMBER, agency="health")
    await decide(handle, "information_returned", EDUCATION_MEMBER, agency="education")
    result = await decide(
        handle,
        "rapid_review_decision",
        CHAIR,
        recommendation="no_further_review",
        attendees=[CHAIR.model_dump(mode="json")],
    )
    assert result.stage is Stage.NATIONAL_PANEL_RESPONSE
    state = await handle.query(ReferralWorkflow.status)
    assert not_sent(state) == [note]
    assert sends.attempts[refused_id] == 1
