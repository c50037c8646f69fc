"""Record the history of every route, for the replay tests (tests/workflows/test_replay.py).

    python -m tests.histories.record              # every route, into tests/histories/
    python -m tests.histories.record --only local-cspr --out /tmp/histories

Each route runs on the time-skipping test server (timers fire in seconds, the custom search
attributes registered as on a real server) with the production worker (worker.build_worker), then
each run of each workflow is written to `<name>.json.gz` (gzipped to keep the repository small):
a little about it (what it covers, for the coverage test) and its history exactly as Temporal
recorded it (`WorkflowHistory.to_json()`).

Every payload is encrypted with the tests' key (TEST_CODEC_KEYS in tests/conftest.py), so these
files hold no plaintext; the data in them is made up anyway (FAKE_PERSONAL_DATA below), and a test
checks that none of it appears in a file. Re-record when a route, stage or decision is added, and
commit the files: they are what old cases look like to new code.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import logging
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowUpdateFailedError,
)
from temporalio.testing import WorkflowEnvironment

from gateway.connection import data_converter
from safeguarding.case import CaseStatus, DecisionResult
from safeguarding.clock import uk_today
from safeguarding.decisions import Person
from safeguarding.escalation import Disagreement, EscalationStatus
from safeguarding.vocabulary import Agency, Role
from security.keys import KeyRing
from tests.conftest import TEST_CODEC_KEYS
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    HEALTH_MEMBER,
    LEAD_REVIEWER,
    POLICE_MEMBER,
    RAPID_REVIEW_CORE,
    decision,
    eventually,
    opened_status,
    people,
    referral,
    triage_participants,
)
from workflows import search_attributes as sa
from workflows.escalation import (
    EscalationInput,
    ProfessionalDisagreementWorkflow,
    escalation_workflow_id,
)
from workflows.referral import ReferralInput, ReferralOptions, ReferralWorkflow, workflow_id

HERE = Path(__file__).resolve().parent
#: The recorded payloads are encrypted with the tests' key (never used anywhere else).
RING = KeyRing.parse(TEST_CODEC_KEYS)

#: Made-up personal data the recorded cases carry; none of it may appear in a recorded file.
CHILD = "Peregrine Fakename-Recorded"
YOUNG_PERSON = "Ottilie Madeup-Recorded"
REFERRER = "Rosalind Notreal-Recorded"
SUMMARY = "Recorded-history summary: fictional injuries at 9 Imaginary Lane"
CONCERN = "Recorded-history concern about the fictional Fakename household"
FAKE_PERSONAL_DATA = (CHILD, YOUNG_PERSON, REFERRER, SUMMARY, CONCERN, "Imaginary Lane")

TEACHER = Person(name="Tia Teacher", role=Role.PRACTITIONER, agency=Agency.EDUCATION)
SOCIAL_WORKER = Person(
    name="Sol Worker", role=Role.PRACTITIONER, agency=Agency.CHILDRENS_SOCIAL_CARE
)
MANAGER = Person(name="Max Manager", role=Role.MANAGER, agency=Agency.EDUCATION)
HEALTH_CHAIR = Person(name="Hana Health", role=Role.CHAIR, agency=Agency.HEALTH)

Handle = WorkflowHandle[Any, Any]


class Recorder:
    """Starts cases and escalations on the test server and drives them."""

    def __init__(self, env: WorkflowEnvironment, queue: str) -> None:
        self.env = env
        self.queue = queue

    @property
    def client(self) -> Client:
        return self.env.client

    async def today(self) -> date:
        return uk_today(await self.env.get_current_time())

    async def refer(
        self,
        partnership: str = "ENGLAND",
        *,
        events: int = 2_000,
        lean: bool = False,
        **fields: Any,
    ) -> Handle:
        today = await self.today()
        case_ref = f"{partnership}-{today.year}-{uuid.uuid4().hex[:6].upper()}"
        made = referral(
            today,
            partnership=partnership,
            referrer={"name": REFERRER, "agency": "health"},
            summary=SUMMARY,
            **{"children": [{"name": CHILD, "age_years": 3, "sex": "female"}], **fields},
        )
        handle: Handle = await self.client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref,
                referral=made,
                options=ReferralOptions(continue_as_new_after_events=events),
                lean=lean,
            ),
            id=workflow_id(case_ref),
            task_queue=self.queue,
        )
        return handle

    async def raise_escalation(self, linked_case_ref: str | None) -> Handle:
        ref = f"CSCP-ESC-{(await self.today()).year}-{uuid.uuid4().hex[:6].upper()}"
        disagreement = Disagreement(
            partnership="CSCP",
            raised_by=TEACHER,
            raised_with=Agency.CHILDRENS_SOCIAL_CARE,
            concern=CONCERN,
            linked_case_ref=linked_case_ref,
        )
        handle: Handle = await self.client.start_workflow(
            ProfessionalDisagreementWorkflow.run,
            EscalationInput(escalation_ref=ref, disagreement=disagreement),
            id=escalation_workflow_id(ref),
            task_queue=self.queue,
        )
        await self.escalation_status(handle)  # opened
        return handle

    async def decide(self, handle: Handle, kind: str, by: Person, **fields: Any) -> DecisionResult:
        try:
            result: DecisionResult = await handle.execute_update(
                "decide", decision(kind, by, **fields), result_type=DecisionResult
            )
        except WorkflowUpdateFailedError as err:
            raise RuntimeError(f"{handle.id}: {kind} by {by.role} refused: {err.cause}") from None
        return result

    async def escalation_decide(
        self, handle: Handle, action: str, by: Person, **fields: Any
    ) -> None:
        body: dict[str, Any] = {"action": action, "decision_id": f"{action}-{uuid.uuid4().hex[:6]}"}
        body |= {"by": by.model_dump(mode="json"), **fields}
        await handle.execute_update("decide", body, result_type=EscalationStatus)

    async def status(self, handle: Handle) -> CaseStatus:
        return await opened_status(handle, CaseStatus)

    async def escalation_status(self, handle: Handle) -> EscalationStatus:
        return await opened_status(handle, EscalationStatus)

    async def until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Signals are fire-and-forget: wait until their effect shows."""
        await eventually(check, what=f"never happened: {what}", every=0.025)

    async def finish(self, handle: Handle) -> None:
        """Wait for the workflow to complete, without skipping time meanwhile (the test server
        would otherwise jump to the next timer of any workflow)."""
        with self.env.auto_time_skipping_disabled():
            await handle.result()

    async def sleep(self, days: float) -> None:
        await self.env.sleep(timedelta(days=days))

    # ------------------------------------------------------------------ shared steps

    async def through_rapid_review(
        self, handle: Handle, *, leave_outstanding: bool = False
    ) -> None:
        today = await self.today()
        await self.decide(handle, "triage", CHAIR, outcome="serious_incident")
        await self.decide(handle, "notification_submitted", CSC_MEMBER, reference="SIN-2026-0042")
        requests: list[dict[str, Any]] = [
            {"agency": "police", "due_on": (today + timedelta(days=7)).isoformat()},
            {"agency": "health"},
        ]
        if leave_outstanding:  # withdrawn when the rapid review decides
            requests.append({"agency": "education"})
        await self.decide(handle, "information_requested", COORDINATOR, requests=requests)
        await self.decide(handle, "information_returned", POLICE_MEMBER, agency="police")
        await self.decide(handle, "information_returned", HEALTH_MEMBER, agency="health")
        attendees = [p.model_dump(mode="json") for p in (CHAIR, POLICE_MEMBER, HEALTH_MEMBER)]
        await self.decide(
            handle,
            "rapid_review_decision",
            CHAIR,
            recommendation="local_cspr",
            attendees=attendees,
            possible_national_importance=True,
        )
        await self.decide(handle, "rapid_review_sent", COORDINATOR)

    async def through_cspr(
        self, handle: Handle, *, plan_publication: bool = False, national_review: bool = False
    ) -> None:
        await self.decide(
            handle,
            "panel_response",
            COORDINATOR,
            panel_agrees=True,
            outcome="local_cspr",
            national_review=national_review,
        )
        await self.decide(
            handle, "lead_reviewer_appointed", BUSINESS_MANAGER, lead_reviewer="Dr Lee"
        )
        if plan_publication:
            planned = (await self.today() + timedelta(days=120)).isoformat()
            await self.decide(handle, "publication_planned", BUSINESS_MANAGER, planned_on=planned)
        for kind, by, fields in (
            ("terms_of_reference_agreed", CHAIR, {}),
            ("agency_information_received", LEAD_REVIEWER, {}),
            ("involvement_recorded", LEAD_REVIEWER, {"milestone": "family_told"}),
            ("involvement_recorded", LEAD_REVIEWER, {"milestone": "family_views"}),
            ("involvement_recorded", LEAD_REVIEWER, {"milestone": "practitioners_involved"}),
            ("involvement_completed", LEAD_REVIEWER, {}),
            ("draft_report_received", LEAD_REVIEWER, {}),
            ("quality_assured", CHAIR, {}),
            ("final_report_sent", BUSINESS_MANAGER, {}),
            ("anonymisation_checked", CHAIR, {"redactions_made": True}),
            ("involvement_recorded", LEAD_REVIEWER, {"milestone": "family_shown_report"}),
        ):
            await self.decide(handle, kind, by, **fields)

    async def actions_to_closure(self, handle: Handle) -> None:
        due = (await self.today() + timedelta(days=60)).isoformat()
        for action_id, agency in (("A1", "police"), ("A2", "health")):
            await self.decide(
                handle,
                "action_added",
                COORDINATOR,
                action_id=action_id,
                recommendation="Share information at the front door",
                description="Joint briefing for duty officers",
                lead_agency=agency,
                due_on=due,
                outcome_measure="Re-audit in 6 months",
            )
        await self.decide(handle, "action_updated", POLICE_MEMBER, action_id="A1", rag="green")
        await self.decide(
            handle, "action_updated", POLICE_MEMBER, action_id="A1", status="complete", evidence="a"
        )
        await self.decide(
            handle, "action_updated", CHAIR, action_id="A2", status="closed_by_review_group"
        )
        await self.decide(handle, "case_closed", CHAIR)


# --------------------------------------------------------------------------- the routes

Recorded = dict[str, Handle]  # file name (without .json) -> the workflow to record


async def local_cspr(r: Recorder) -> Recorded:
    """The longest route, with signals (one refused), every alert firing, an extension and a
    planned publication date."""
    handle = await r.refer("ENGLAND")
    await r.status(handle)
    await handle.signal("decision", {"kind": "triage", "decision_id": "refused-1"})  # no `by`
    triage = decision("triage", CHAIR, outcome="serious_incident", decision_id="triage-1")
    await handle.signal("decision", triage.model_dump(mode="json"))

    async def triaged() -> bool:
        return (await r.status(handle)).stage.value == "serious_incident_notification"

    await r.until(triaged, "triage by signal")
    await r.sleep(20)  # the notification's reminder, escalation and second escalation fire
    await r.decide(
        handle,
        "deadline_extended",
        CHAIR,
        deadline_id="rapid-review",
        new_due_on=(await r.today() + timedelta(days=14)).isoformat(),
        reason="Agreed with the National Panel",
        agreed_with="National Panel",
    )
    today = await r.today()
    await r.decide(handle, "notification_submitted", CSC_MEMBER, reference="SIN-2026-0042")
    await r.decide(
        handle,
        "information_requested",
        COORDINATOR,
        requests=[{"agency": "police", "due_on": (today + timedelta(days=5)).isoformat()}],
    )
    await r.decide(handle, "information_returned", POLICE_MEMBER, agency="police")
    await r.decide(
        handle,
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=[p.model_dump(mode="json") for p in (CHAIR, POLICE_MEMBER, HEALTH_MEMBER)],
    )
    await r.decide(handle, "rapid_review_sent", COORDINATOR)
    await r.through_cspr(handle, plan_publication=True)
    until = (await r.today() + timedelta(days=400)).isoformat()
    await r.decide(
        handle,
        "published",
        BUSINESS_MANAGER,
        location="example.org/reviews",
        available_until=until,
    )
    await r.actions_to_closure(handle)
    await r.finish(handle)
    return {"local-cspr": handle}


async def care_leaver(r: Recorder) -> Recorded:
    handle = await r.refer(
        "ENGLAND",
        harm="death",
        children=[{"name": YOUNG_PERSON, "age_years": 20, "care_leaver": True}],
    )
    await r.decide(handle, "triage", CHAIR, outcome="serious_incident")
    await r.decide(handle, "notification_submitted", COORDINATOR, reference="CL-7")
    await r.finish(handle)
    return {"care-leaver": handle}


async def care_leaver_next_step(r: Recorder) -> Recorded:
    """Statutory edition (issue #13 item 4): after the notification the partnership refers the
    case to the Safeguarding Adults Board."""
    handle = await r.refer(
        "CSCP",
        harm="death",
        children=[{"name": YOUNG_PERSON, "age_years": 20, "care_leaver": True}],
    )
    await r.decide(handle, "triage", BUSINESS_MANAGER, outcome="serious_incident")
    await r.decide(handle, "notification_submitted", COORDINATOR, reference="CL-8")
    await r.decide(
        handle,
        "care_leaver_next_step",
        CHAIR,
        next_step="safeguarding_adults_review",
        reason="Adult services knew the young person",
    )
    await r.finish(handle)
    return {"care-leaver-next-step": handle}


async def statutory_cspr(r: Recorder, stem: str = "statutory-cspr") -> Recorded:
    """Statutory edition (issue #13 items 1, 6, 9, 10): the Rapid Review sent to the Panel, a
    Panel request answered, a national review with a contribution, the involvement milestones,
    what publication needs and records, and the partners' response."""
    handle = await r.refer("ENGLAND", lean=stem == "lean-input")
    await r.through_rapid_review(handle)
    await r.decide(
        handle, "panel_information_requested", COORDINATOR, request_id="PI1", asked_for="Notes"
    )
    await r.decide(handle, "panel_information_sent", COORDINATOR, request_id="PI1")
    # The register's lag timer fires.
    lagged = ("register-batched", "all-patches", "lean-run", "lean-input")
    await r.sleep(0.01 if stem in lagged else 0)
    await r.through_cspr(handle, national_review=True)
    due = (await r.today() + timedelta(days=30)).isoformat()
    await r.decide(
        handle,
        "national_review_contribution_requested",
        COORDINATOR,
        contribution_id="NR1",
        description="Chronologies for the national review",
        lead_agency="police",
        due_on=due,
    )
    await r.decide(handle, "national_review_contribution_made", COORDINATOR, contribution_id="NR1")
    await r.decide(handle, "communications_notified", COORDINATOR, agencies=["police", "health"])
    until = (await r.today() + timedelta(days=400)).isoformat()
    await r.decide(
        handle, "published", BUSINESS_MANAGER, location="example.org/reviews", available_until=until
    )
    await r.decide(handle, "partners_response_recorded", CHAIR, summary="Accepted in full")
    await r.decide(
        handle, "involvement_recorded", LEAD_REVIEWER, milestone="practitioners_feedback"
    )
    await r.actions_to_closure(handle)
    await r.finish(handle)
    return {stem: handle}


async def case_of_concern_with_escalation(r: Recorder) -> Recorded:
    """Croydon's case of concern, and a professional disagreement about it that climbs on time,
    is escalated by hand past the partnership threshold, has a signal refused and is resolved."""
    case = await r.refer("CSCP", harm="other")
    await r.decide(case, "triage", BUSINESS_MANAGER, outcome="case_of_concern")
    case_ref = case.id.removeprefix("referral-")
    escalation = await r.raise_escalation(case_ref)
    first = (await r.escalation_status(escalation)).stages[0]
    assert first.expires_at is not None
    await r.env.sleep(first.expires_at - await r.env.get_current_time() + timedelta(minutes=1))
    assert (await r.escalation_status(escalation)).stage == 2
    await r.escalation_decide(escalation, "escalate", MANAGER, reason="Managers disagree too.")
    await escalation.signal("decision", {"action": "escalate", "decision_id": "no-by"})

    async def refused() -> bool:
        history = (await r.escalation_status(escalation)).history
        return any(e.text.startswith("Refused: ") for e in history)

    await r.until(refused, "the escalation's refused signal")
    await r.escalation_decide(escalation, "resolve", SOCIAL_WORKER, outcome="Agreed a plan.")
    await r.finish(escalation)

    attendees = [
        p.model_dump(mode="json")
        for p in (
            HEALTH_CHAIR,
            CSC_MEMBER,
            Person(name="Pete Police", role=Role.PANEL_MEMBER, agency=Agency.POLICE),
        )
    ]
    await r.decide(
        case,
        "approach_chosen",
        HEALTH_CHAIR,
        approach="appreciative_inquiry",
        agencies=["education", "health"],
        attendees=attendees,
    )
    await r.decide(case, "outcome_shared", COORDINATOR, summary="Strong joint working at school")
    await r.decide(case, "case_closed", HEALTH_CHAIR, attendees=attendees)  # at a meeting
    await r.finish(case)
    return {"case-of-concern": case, "escalation-climbs-and-resolves": escalation}


async def escalation_unknown_case(r: Recorder) -> Recorded:
    """An escalation linked to a case that does not exist: noted, and it goes on."""
    handle = await r.raise_escalation("CSCP-2026-FFFFFF")
    await r.escalation_decide(handle, "escalate", TEACHER, reason="No reply.")
    await r.escalation_decide(handle, "resolve", SOCIAL_WORKER, outcome="Agreed.")
    await r.finish(handle)
    return {"escalation-unknown-case": handle}


async def other_review(r: Recorder) -> Recorded:
    handle = await r.refer("SSCP", harm="other")
    await r.decide(
        handle, "triage", CHAIR, outcome="other_review", review_type="seriously_good_outcome_review"
    )
    await r.decide(handle, "other_review_completed", CHAIR, findings="Good practice shared")
    await r.actions_to_closure(handle)
    await r.finish(handle)
    return {"other-review": handle}


async def no_further_action(r: Recorder) -> Recorded:
    handle = await r.refer("ENGLAND", harm="other")
    await r.decide(handle, "triage", CHAIR, outcome="no_further_action", advice="Supervision")
    await r.finish(handle)
    return {"no-further-action": handle}


async def learning_only(r: Recorder) -> Recorded:
    handle = await r.refer("ENGLAND")
    await r.through_rapid_review(handle, leave_outstanding=True)
    await r.decide(
        handle, "panel_response", BUSINESS_MANAGER, panel_agrees=False, outcome="no_further_review"
    )
    await r.decide(handle, "case_closed", CHAIR)
    await r.finish(handle)
    return {"learning-only": handle}


async def not_published(r: Recorder) -> Recorded:
    handle = await r.refer("ENGLAND")
    await r.through_rapid_review(handle)
    await r.through_cspr(handle)
    await r.decide(handle, "not_published", CHAIR, reasons="Publication would identify a sibling")
    await r.decide(handle, "case_closed", CHAIR)
    await r.finish(handle)
    return {"not-published": handle}


async def continue_as_new(r: Recorder) -> Recorded:
    """A long action plan: the case continues as new (every run is recorded)."""
    handle = await r.refer("ENGLAND", events=50, harm="other")
    await r.decide(
        handle, "triage", CHAIR, outcome="other_review", review_type="multi_agency_audit"
    )
    await r.decide(handle, "other_review_completed", CHAIR, findings="Audit complete")
    due = (await r.today() + timedelta(days=90)).isoformat()
    await r.decide(
        handle,
        "action_added",
        COORDINATOR,
        action_id="A1",
        recommendation="r",
        description="d",
        lead_agency="police",
        due_on=due,
        outcome_measure="m",
    )
    for n in range(6):
        await r.decide(handle, "action_updated", POLICE_MEMBER, action_id="A1", evidence=f"e{n}")
    await r.decide(handle, "action_updated", POLICE_MEMBER, action_id="A1", status="complete")
    await r.decide(handle, "case_closed", CHAIR)
    await r.finish(handle)
    return {"continue-as-new": handle}


async def statutory_triage(r: Recorder) -> Recorded:
    """Issue #13, items 2, 3, 5, 7 and 8 (cases under the statutory edition): Liverpool's case
    of serious concern to a Rapid Review without a notification; a notification outside the
    criteria with its reason, attended as Liverpool's triage asks, and the local authority's
    notice to the LSCP; Salford's referral quality-assured before triage."""
    concern = await r.refer("LSCP")
    await r.decide(concern, "triage", CHAIR, outcome="rapid_review", **triage_participants())
    await r.decide(
        concern,
        "rapid_review_decision",
        CHAIR,
        recommendation="no_further_review",
        attendees=people(*RAPID_REVIEW_CORE),
    )
    await r.decide(concern, "case_closed", CHAIR, attendees=people(*RAPID_REVIEW_CORE))
    await r.finish(concern)

    notified = await r.refer("LSCP", abuse_or_neglect_suspected=False)
    await r.decide(
        notified,
        "triage",
        CHAIR,
        outcome="serious_incident",
        criteria_not_met_reason="Notified on the National Panel's advice",
        **triage_participants(),
    )
    await r.decide(notified, "la_notice_received", CSC_MEMBER)
    await r.decide(notified, "notification_submitted", CSC_MEMBER, reference="SIN-2026-0099")

    assured = await r.refer("SSCP", harm="other")  # Salford: quality-assured before triage
    await r.decide(assured, "referral_quality_assured", HEALTH_MEMBER)
    await r.decide(assured, "triage", CHAIR, outcome="no_further_action", advice="Supervision")
    await r.finish(assured)
    return {
        "serious-concern": concern,
        "notified-outside-criteria": notified,
        "quality-assured-before-triage": assured,
    }


async def learning_loop(r: Recorder) -> Recorded:
    """Issue 13, items 11 and 12: Liverpool's case waits for its learning (a 7-minute briefing
    reminded, disseminated, re-audited) before it closes; an escalation on it writes itself to
    the register (`escalation-register`)."""
    handle = await r.refer("LSCP", harm="other")
    await r.decide(
        handle, "triage", CHAIR, outcome="other_review", review_type="multi_agency_audit"
    )
    await r.decide(handle, "other_review_completed", CHAIR, findings="Audit complete")
    due = (await r.today() + timedelta(days=10)).isoformat()
    await r.decide(handle, "learning_planned", COORDINATOR, learning_id="B1", output="briefing",
                   title="Safe sleep", due_on=due)  # fmt: skip
    escalation = await r.raise_escalation(None)
    await r.escalation_decide(escalation, "escalate", MANAGER, reason="No reply.")
    await r.escalation_decide(escalation, "resolve", SOCIAL_WORKER, outcome="Agreed.")
    await r.finish(escalation)
    await r.sleep(9)  # the briefing's reminder fires
    reaudit = (await r.today() + timedelta(days=30)).isoformat()
    await r.decide(handle, "learning_disseminated", BUSINESS_MANAGER, learning_id="B1",
                   reach="All SPRG agencies", reaudit_due_on=reaudit)  # fmt: skip
    await r.decide(handle, "learning_impact_recorded", POLICE_MEMBER, learning_id="B1",
                   impact="Re-audit: advice given at 9 of 10 visits")  # fmt: skip
    await r.decide(handle, "case_closed", CHAIR)
    await r.finish(handle)
    return {"learning-loop": handle, "escalation-register": escalation}


async def disposal_run(r: Recorder) -> Recorded:
    """Issue 14, point 3: a disposal run over a seeded register, one case of it under a hold."""
    from gateway.disposal import DisposalClient
    from register import db, disposal
    from tests.register.seeding import REF, seed

    db.ensure_schema()
    with db.session() as session:
        seed(session)
    disposal.set_hold(REF["D"], by="Bea Manager", reason="complaint under investigation")
    runs = DisposalClient(r.client, r.queue)
    handle = await runs.start(by="Bea Manager", today=date(2052, 1, 1), run_id="recorded")
    await runs.result(handle)
    return {"disposal-run": handle}


async def _summary_run(r: Recorder) -> Handle:
    """A scheduled run of the bi-monthly summary (as a Schedule starts it), for every partnership:
    its files and each partnership's mail (no mail server: the outbox) in a scratch folder."""
    import os
    import tempfile

    from activities.scheduled_io import ScheduledReportInput
    from workflows.scheduled import ScheduledReportWorkflow

    os.environ["SRO_DATA_DIR"] = tempfile.mkdtemp(prefix="sro-record-")
    os.environ.pop("SRO_OUTBOX", None)
    handle = await r.client.start_workflow(
        ScheduledReportWorkflow.run,
        ScheduledReportInput(report="summary"),
        id=f"sro-summary-bimonthly-run-{uuid.uuid4().hex[:6]}",
        task_queue=r.queue,
    )
    await handle.result()
    return handle


async def scheduled_report(r: Recorder) -> Recorded:
    """Issue 15: the summary and the nightly reconciliation. The summary on record predates its
    mailing (workflow.patched "scheduled-report-mail"): re-recording it records the mailed path,
    which `scheduled-report-mailed` already holds."""
    handle = await _summary_run(r)
    from activities.scheduled_io import ReconcileInput
    from workflows.scheduled import RegisterReconciliationWorkflow

    reconciled = await r.client.start_workflow(
        RegisterReconciliationWorkflow.run,
        ReconcileInput(cases=["LSCP-2026-000000"]),  # the test server lists nothing
        id=f"sro-register-reconcile-run-{uuid.uuid4().hex[:6]}",
        task_queue=r.queue,
    )
    await reconciled.result()
    return {"scheduled-report": handle, "register-reconcile": reconciled}


async def scheduled_report_mailed(r: Recorder) -> Recorded:
    """Issue 15: the summary mailed to each partnership's recipients."""
    return {"scheduled-report-mailed": await _summary_run(r)}


ROUTES: dict[str, Callable[[Recorder], Awaitable[Recorded]]] = {
    "local-cspr": local_cspr,
    "care-leaver": care_leaver,
    "case-of-concern": case_of_concern_with_escalation,
    "escalation-unknown-case": escalation_unknown_case,
    "other-review": other_review,
    "no-further-action": no_further_action,
    "learning-only": learning_only,
    "not-published": not_published,
    "continue-as-new": continue_as_new,
    # Issue #13: the statutory edition's new paths (cases opened before it replay above).
    "care-leaver-next-step": care_leaver_next_step,
    "statutory-cspr": statutory_cspr,
    "serious-concern": statutory_triage,
    "learning-loop": learning_loop,
    # Issue 14, point 3: retention and disposal.
    "disposal-run": disposal_run,
    # Issue 15: the scheduled reports.
    "scheduled-report": scheduled_report,
    "scheduled-report-mailed": scheduled_report_mailed,
    "register-batched": lambda r: statutory_cspr(r, "register-batched"),  # issue 16
    # Issue 16, round 2: one patch marker (`ALL_PATCHES`) for every patch.
    "all-patches": lambda r: statutory_cspr(r, "all-patches"),
    # Issue 16, round 3: the alert timer kept, the first search attributes with the register.
    "lean-run": lambda r: statutory_cspr(r, "lean-run"),
    # Issue 16, round 11: the lean paths by the input's say, with no patch marker.
    "lean-input": lambda r: statutory_cspr(r, "lean-input"),
}


# --------------------------------------------------------------------------- writing


@dataclass
class Run:
    workflow_id: str
    run_id: str
    history: WorkflowHistory


async def runs_of(client: Client, handle: Handle) -> list[Run]:
    """Every run of the workflow, first to last (following continue-as-new)."""
    run_id = handle.first_execution_run_id or handle.run_id or ""
    runs: list[Run] = []
    while run_id:
        history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        runs.append(Run(handle.id, run_id, history))
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else ""
        )
    return runs


async def covers(handle: Handle, workflow_type: str) -> dict[str, Any]:
    """What the workflow went through, from its own status query (for the coverage test)."""
    if workflow_type == "ReferralWorkflow":
        case: CaseStatus = await handle.query("status", result_type=CaseStatus)
        return {
            "route": case.route.value,
            "stages": sorted({e.stage.value for e in case.history} | {case.stage.value}),
            "decision_kinds": sorted({e.decision_kind for e in case.history if e.decision_kind}),
            "history_kinds": sorted({e.kind.value for e in case.history}),
        }
    if workflow_type == "DisposalWorkflow":
        return {"progress": await handle.query("progress")}
    if workflow_type == "ScheduledReportWorkflow":
        return {"files": len((await handle.result()).files)}
    if workflow_type == "RegisterReconciliationWorkflow":
        return {"cases": (await handle.result()).cases}
    escalation: EscalationStatus = await handle.query("status", result_type=EscalationStatus)
    return {
        "stages": sorted({s.stage for s in escalation.stages}),
        "left_because": sorted({s.left_because for s in escalation.stages if s.left_because}),
        "partnership_notified": escalation.partnership_notified,
        "resolved": escalation.resolved,
    }


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def document(name: str, run: Run, number: int, total: int, covered: dict[str, Any]) -> str:
    body = {
        "about": "Recorded by `python -m tests.histories.record` for the replay tests. Payloads "
        "are encrypted with the tests' key (TEST_CODEC_KEYS, tests/conftest.py).",
        "name": name,
        "workflow_id": run.workflow_id,
        "workflow_type": workflow_type(run.history),
        "run": number,
        "runs": total,
        "key_id": RING.current,
        "temporalio": version("temporalio"),
        # What the whole workflow covered (on its last run's file: the case is carried over).
        "covers": covered if number == total else {},
        "history": json.loads(run.history.to_json()),
    }
    return json.dumps(body, separators=(",", ":")) + "\n"


async def record(names: list[str], out: Path) -> list[Path]:
    binary = Path(sys.executable).parent / "temporal-test-server"
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary) if binary.exists() else shutil.which(binary.name),
        # Sealed by the ring alone: the histories replay from the repository, with no register.
        data_converter=data_converter(RING, seal_cases=False),
    )
    written: list[Path] = []
    async with env:
        # Registered as on a real server, so the recorded runs upsert them as production does.
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
                    for key in sa.ALL
                },
            )
        )
        from worker import build_worker  # the production worker's workflows and activities

        queue = f"record-{uuid.uuid4().hex[:8]}"
        async with build_worker(env.client, queue):
            recorder = Recorder(env, queue)
            for name in names:
                recorded = await ROUTES[name](recorder)
                for stem, handle in recorded.items():
                    runs = await runs_of(env.client, handle)
                    covered = await covers(handle, workflow_type(runs[0].history))
                    for old in [*out.glob(f"{stem}.json*"), *out.glob(f"{stem}.run*.json*")]:
                        old.unlink()  # the last recording of this route, however many runs
                    for number, run in enumerate(runs, 1):
                        suffix = "" if len(runs) == 1 else f".run{number}"
                        path = out / f"{stem}{suffix}.json.gz"
                        text = document(stem, run, number, len(runs), covered)
                        leaked = [s for s in FAKE_PERSONAL_DATA if s in text]
                        if leaked:
                            raise RuntimeError(f"{path}: plaintext personal data {leaked}")
                        path.write_bytes(gzip.compress(text.encode(), mtime=0))
                        written.append(path)
                        print(f"{path.name}: {len(run.history.events)} events")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.histories.record", description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted(ROUTES), help="one route")
    parser.add_argument("--out", type=Path, default=HERE, help="folder (default tests/histories)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # not the notices' "no address, sent to default"
    scratch = Path(tempfile.mkdtemp(prefix="sro-record-"))
    # The activities' side effects go to a scratch folder; no mail is sent.
    for name in [k for k in os.environ if k.startswith(("SRO_SMTP", "SRO_PROFILES"))]:
        del os.environ[name]
    os.environ.update(
        SRO_DATA_DIR=str(scratch),
        SRO_OUTBOX=str(scratch / "outbox"),
        DATABASE_URL=f"sqlite:///{scratch / 'register.db'}",
    )
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(record(args.only or list(ROUTES), args.out))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
