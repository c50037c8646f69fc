"""The same referral through Liverpool's, Croydon's and Salford's profiles, end to end on the
time-skipping server: what differs between partnerships comes from their profile files."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from safeguarding.calendar import WorkingCalendar
from safeguarding.case import CaseStatus, DecisionResult, HistoryKind
from safeguarding.clock import uk_today
from safeguarding.decisions import Person
from safeguarding.planning import next_meeting
from safeguarding.profiles import profile_for
from safeguarding.vocabulary import Agency, Role, Route, Stage
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    RAPID_REVIEW_CORE,
    decision,
    opened_status,
    people,
    referral,
    triage_participants,
)
from workflows.referral import (
    ReferralInput,
    ReferralOptions,
    ReferralResult,
    ReferralWorkflow,
    workflow_id,
)

Handle = WorkflowHandle[ReferralWorkflow, ReferralResult]
HEALTH_CHAIR = Person(name="Hana Health", role=Role.CHAIR, agency=Agency.HEALTH)
CSC = Person(name="Cara Social", role=Role.PANEL_MEMBER, agency=Agency.CHILDRENS_SOCIAL_CARE)
POLICE = Person(name="Pete Police", role=Role.PANEL_MEMBER, agency=Agency.POLICE)


class Partnerships:
    def __init__(self, env: WorkflowEnvironment, queue: str) -> None:
        self.env = env
        self.queue = queue
        self.handles: list[Handle] = []

    async def refer(self, partnership: str, **overrides: Any) -> Handle:
        today = uk_today(await self.env.get_current_time())
        case_ref = f"{partnership}-{today.year}-{uuid.uuid4().hex[:6].upper()}"
        handle = await self.env.client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref,
                referral=referral(today, partnership=partnership, **overrides),
                options=ReferralOptions(search_attributes=False),
            ),
            id=workflow_id(case_ref),
            task_queue=self.queue,
        )
        self.handles.append(handle)
        if profile_for(partnership).referral_quality_assurance:  # Salford: before triage
            await decide(handle, "referral_quality_assured", BUSINESS_MANAGER)
        return handle


@pytest_asyncio.fixture
async def partnerships(
    time_skipping_env: WorkflowEnvironment, outbox: Path
) -> AsyncIterator[Partnerships]:
    queue = f"profiles-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[ReferralWorkflow],
        activities=ALL_ACTIVITIES,
    ):
        started = Partnerships(time_skipping_env, queue)
        yield started
        for handle in started.handles:
            with contextlib.suppress(RPCError):  # already closed
                await handle.terminate("test finished")


async def decide(handle: Handle, kind: str, by: Person, **fields: Any) -> DecisionResult:
    if kind == "triage":  # attended and agreed as every shipped profile asks
        fields = {**triage_participants(), **fields}
    result: DecisionResult = await handle.execute_update(
        "decide", decision(kind, by, **fields), result_type=DecisionResult
    )
    return result


async def refusal(handle: Handle, kind: str, by: Person, **fields: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await decide(handle, kind, by, **fields)
    assert isinstance(failed.value.cause, ApplicationError)
    return failed.value.cause


async def status(handle: Handle) -> CaseStatus:
    return await opened_status(handle, CaseStatus)


async def test_each_partnership_names_its_own_groups(partnerships: Partnerships) -> None:
    names = {}
    for code in ("LSCP", "CSCP", "SSCP"):
        handle = await partnerships.refer(code)
        by = BUSINESS_MANAGER if code == "CSCP" else CHAIR
        result = await decide(handle, "triage", by, outcome="serious_incident")
        rapid = (
            next(d for d in result.deadlines if d.deadline_id in ("rapid-review",))
            if (code != "CSCP")
            else None
        )
        state = await status(handle)
        names[code] = (state.partnership_name, state.deadlines[0].owner, rapid)
    assert names["LSCP"][0] == "Liverpool Safeguarding Children Partnership"
    assert names["LSCP"][1] == "SPRG weekly triage"
    assert names["CSCP"][1] == "CSCP Business Manager screening"
    assert names["SSCP"][1] == "the Virtual Panel"
    # Croydon counts the rapid review from the notification: no rapid review deadline yet.
    assert names["CSCP"][2] is None
    assert names["LSCP"][2] is not None


async def test_routes_differ(partnerships: Partnerships) -> None:
    liverpool = await partnerships.refer("LSCP", harm="other")
    refused = await refusal(liverpool, "triage", CHAIR, outcome="case_of_concern")
    assert refused.type == "RouteNotOffered"
    assert "case_of_concern" in refused.message and "serious_incident" in refused.message

    croydon = await partnerships.refer("CSCP", harm="other")
    result = await decide(croydon, "triage", BUSINESS_MANAGER, outcome="case_of_concern")
    assert result.stage is Stage.CASE_OF_CONCERN

    salford = await partnerships.refer("SSCP", harm="other")
    result = await decide(
        salford,
        "triage",
        CHAIR,
        outcome="other_review",
        review_type="seriously_good_outcome_review",
    )
    assert result.stage is Stage.OTHER_REVIEW
    refused = await refusal(
        liverpool,
        "triage",
        CHAIR,
        outcome="other_review",
        review_type="seriously_good_outcome_review",
    )
    assert refused.type == "RouteNotOffered"


async def test_croydon_screening_and_quoracy(partnerships: Partnerships) -> None:
    croydon = await partnerships.refer("CSCP", harm="other")
    refused = await refusal(croydon, "triage", CHAIR, outcome="case_of_concern")
    assert refused.type == "NotAuthorised"
    result = await decide(croydon, "triage", BUSINESS_MANAGER, outcome="case_of_concern")
    # The approach is agreed at the next SPRG meeting: a deadline on the bi-monthly cycle.
    meeting = next(d for d in result.deadlines if d.deadline_id == "meeting-approach_chosen")
    assert meeting.kind == "meeting" and "SPRG" in meeting.title
    profile = profile_for("CSCP")
    assert profile.review_group_meetings is not None
    today = uk_today(await partnerships.env.get_current_time())
    expected = next_meeting(profile.review_group_meetings, today, WorkingCalendar())
    assert meeting.due_on == expected
    assert expected.weekday() == 1 and 8 <= expected.day <= 14  # the 2nd Tuesday

    approach = {"approach": "appreciative_inquiry", "agencies": ["education"]}
    refused = await refusal(croydon, "approach_chosen", HEALTH_CHAIR, **approach)
    assert refused.type == "NotQuorate" and "list the attendees" in refused.message
    not_quorate = [HEALTH_CHAIR.model_dump(mode="json"), CSC.model_dump(mode="json")]
    refused = await refusal(
        croydon, "approach_chosen", HEALTH_CHAIR, attendees=not_quorate, **approach
    )
    assert refused.type == "NotQuorate" and "Police not present" in refused.message
    quorate = [*not_quorate, POLICE.model_dump(mode="json")]
    result = await decide(croydon, "approach_chosen", HEALTH_CHAIR, attendees=quorate, **approach)
    assert result.stage is Stage.CASE_OF_CONCERN_REVIEW
    state = await status(croydon)
    assert next(d for d in state.deadlines if d.deadline_id == "meeting-approach_chosen").state == (
        "met"
    )


async def test_salford_flags_a_late_referral(partnerships: Partnerships) -> None:
    today = uk_today(await partnerships.env.get_current_time())
    late = await partnerships.refer(
        "SSCP",
        incident_on=(today - timedelta(days=8)).isoformat(),
        late_reason="The hospital only suspected abuse after a scan",
    )
    state = await status(late)
    notes = [e.text for e in state.history if e.kind is HistoryKind.NOTICE]
    assert any("Late referral: 3 day(s) past the 5-day limit" in t for t in notes)
    assert any("only suspected abuse after a scan" in t for t in notes)
    in_time = await partnerships.refer("SSCP", incident_on=today.isoformat())
    state = await status(in_time)
    assert not any("Late referral" in e.text for e in state.history)


async def test_liverpool_monitors_multi_agency_plans_in_its_qa_group(
    partnerships: Partnerships,
) -> None:
    handle = await partnerships.refer("LSCP", harm="other")
    triaged = await decide(
        handle, "triage", CHAIR, outcome="other_review", review_type="multi_agency_audit"
    )
    assert triaged.stage is Stage.OTHER_REVIEW
    completed = await decide(handle, "other_review_completed", CHAIR, findings="Audit done")
    assert completed.stage is Stage.ACTION_PLAN_MONITORING
    today = uk_today(await partnerships.env.get_current_time())
    for action_id, scope in (("M1", "multi_agency"), ("S1", "single_agency")):
        await decide(
            handle,
            "action_added",
            COORDINATOR,
            action_id=action_id,
            recommendation="r",
            description="d",
            lead_agency="childrens_social_care",
            due_on=(today + timedelta(days=10)).isoformat(),
            outcome_measure="m",
            scope=scope,
        )
    state = await status(handle)
    monitors = {a.action_id: a.monitored_by for a in state.actions}
    assert monitors == {
        "M1": "LSCP Quality Assurance Group",
        "S1": "Safeguarding Practice Review Group (SPRG)",
    }
    await partnerships.env.sleep(timedelta(days=16))
    state = await status(handle)
    escalations = {e.deadline_id: e.text for e in state.history if e.kind is HistoryKind.ESCALATION}
    assert "LSCP Quality Assurance Group" in escalations["action-M1"]
    assert "Safeguarding Practice Review Group (SPRG)" in escalations["action-S1"]
    done = await decide(handle, "action_updated", CSC_MEMBER, action_id="S1", status="complete")
    # One of the two actions is done: the plan is still monitored, and cannot close yet.
    assert done.stage is Stage.ACTION_PLAN_MONITORING
    state = await status(handle)
    finished = {a.action_id: a.status.finished for a in state.actions}
    assert finished == {"M1": False, "S1": True}
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, "case_closed", CHAIR)
    assert isinstance(refused.value.cause, ApplicationError)
    assert (await status(handle)).stage is Stage.ACTION_PLAN_MONITORING
    await decide(handle, "action_updated", CSC_MEMBER, action_id="M1", status="complete")
    closed = await decide(handle, "case_closed", CHAIR)
    assert closed.stage is Stage.CLOSED
    assert (await handle.result()).route is Route.OTHER_REVIEW


# ---------------------------------------------------------------- issue #13 (statutory triage)


async def test_the_statutory_triage_rules_refuse_through_the_workflow(
    partnerships: Partnerships,
) -> None:
    """Croydon's partners agree a notification; the statutory criteria are tested (a reason
    recorded notifies all the same); Salford's triage waits for quality assurance."""
    croydon = await partnerships.refer("CSCP", abuse_or_neglect_suspected=False)
    refused = await refusal(
        croydon, "triage", BUSINESS_MANAGER, outcome="serious_incident", agreed_by=[]
    )
    assert refused.type == "NotAgreed"
    assert "Police not among those who agreed" in refused.message
    refused = await refusal(croydon, "triage", BUSINESS_MANAGER, outcome="serious_incident")
    assert refused.type == "CriteriaNotMet"
    assert "abuse or neglect is not known or suspected" in refused.message
    reason = "Notified on the National Panel's advice"
    result = await decide(
        croydon,
        "triage",
        BUSINESS_MANAGER,
        outcome="serious_incident",
        criteria_not_met_reason=reason,
    )
    assert result.stage is Stage.SERIOUS_INCIDENT_NOTIFICATION
    notes = [h.text for h in (await status(croydon)).history if h.kind is HistoryKind.NOTICE]
    assert any(reason in text for text in notes)

    today = uk_today(await partnerships.env.get_current_time())
    salford = await partnerships.env.client.start_workflow(
        ReferralWorkflow.run,
        ReferralInput(
            case_ref=f"SSCP-{today.year}-{uuid.uuid4().hex[:6].upper()}",
            referral=referral(today, partnership="SSCP"),
            options=ReferralOptions(search_attributes=False),
        ),
        id=workflow_id(f"SSCP-{today.year}-{uuid.uuid4().hex[:6].upper()}"),
        task_queue=partnerships.queue,
    )
    partnerships.handles.append(salford)
    refused = await refusal(salford, "triage", CHAIR, outcome="no_further_action", advice="a")
    assert refused.type == "GuardFailed" and "referral_quality_assured" in refused.message


async def test_liverpool_serious_concern_and_the_local_authoritys_notice(
    partnerships: Partnerships,
) -> None:
    liverpool = await partnerships.refer("LSCP")
    result = await decide(liverpool, "triage", CHAIR, outcome="rapid_review")
    assert result.stage is Stage.RAPID_REVIEW
    assert [d.deadline_id for d in result.deadlines] == ["rapid-review"]
    result = await decide(
        liverpool,
        "rapid_review_decision",
        CHAIR,
        recommendation="no_further_review",
        attendees=people(*RAPID_REVIEW_CORE),
    )
    assert result.stage is Stage.ACTION_PLAN_MONITORING
    assert (await status(liverpool)).route is Route.LEARNING_ONLY

    notified = await partnerships.refer("LSCP")
    result = await decide(notified, "triage", CHAIR, outcome="serious_incident")
    assert "la-notice" in [d.deadline_id for d in result.deadlines]
    result = await decide(notified, "la_notice_received", CSC)
    assert result.stage is Stage.SERIOUS_INCIDENT_NOTIFICATION
    met = {d.deadline_id: d.state.value for d in (await status(notified)).deadlines}
    assert met["la-notice"] == "met"
