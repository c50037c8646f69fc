"""Builders for referrals and decisions in tests (valid by default; override what a test needs)."""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle, WorkflowQueryFailedError

from safeguarding.decisions import Decision, Person, parse_decision
from safeguarding.referral import Referral
from safeguarding.vocabulary import Agency, DecisionKind, Role

_ids = itertools.count(1)

S = TypeVar("S")
T = TypeVar("T")

#: How long a test waits for something that happens in the background (a signal handled, an
#: email in the outbox, a visibility record) before it fails. Generous: on a busy 2-core machine
#: a worker can take many seconds to get round to a task; a test that passes waits only as long
#: as the thing takes, so the bound costs nothing when all is well.
EVENTUALLY_TIMEOUT = 60.0


async def eventually(
    probe: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool] = bool,
    *,
    timeout: float = EVENTUALLY_TIMEOUT,
    every: float = 0.05,
    what: str = "the condition",
) -> T:
    """Await `probe()` until `ok` holds for what it returns (by default: until it
    is truthy) and return that; fail the test with the last value after `timeout` seconds.
    Polls on the real clock (the time-skipping server's clock does not move while a test
    polls)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if ok(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s (last: {value!r})")
        await asyncio.sleep(every)


async def opened_status(
    handle: WorkflowHandle[Any, Any], result_type: type[S], *, within: float = EVENTUALLY_TIMEOUT
) -> S:
    """A case's or an escalation's `status` once it has opened: until its first activity (its
    settings) completes, the query is refused as still opening (an encoded failure here)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            status: S = await handle.query("status", result_type=result_type)
            return status
        except WorkflowQueryFailedError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.025)


CHAIR = Person(name="Dana Chair", role=Role.CHAIR, agency=Agency.POLICE)
COORDINATOR = Person(name="Cai Coordinator", role=Role.COORDINATOR, agency=Agency.PARTNERSHIP)
BUSINESS_MANAGER = Person(name="Bea Manager", role=Role.BUSINESS_MANAGER, agency=Agency.PARTNERSHIP)
POLICE_MEMBER = Person(name="Pat Police", role=Role.PANEL_MEMBER, agency=Agency.POLICE)
HEALTH_MEMBER = Person(name="Hal Health", role=Role.PANEL_MEMBER, agency=Agency.HEALTH)
CSC_MEMBER = Person(name="Sam Social", role=Role.PANEL_MEMBER, agency=Agency.CHILDRENS_SOCIAL_CARE)
LEAD_REVIEWER = Person(name="Lee Reviewer", role=Role.LEAD_REVIEWER, agency=Agency.INDEPENDENT)
LEGAL_MEMBER = Person(name="Lou Legal", role=Role.PANEL_MEMBER, agency=Agency.LEGAL)

#: Who any shipped profile asks to attend a triage (Liverpool: the three partners and the LSCP
#: Safeguarding Manager) and to agree one (Croydon, Salford: the three partners), and to attend
#: a Rapid Review (Liverpool's core membership, with Legal Services and the LSCP's officers).
TRIAGE_ATTENDEES = (CHAIR, HEALTH_MEMBER, CSC_MEMBER, BUSINESS_MANAGER)
PARTNERS = (CHAIR, HEALTH_MEMBER, CSC_MEMBER)
RAPID_REVIEW_CORE = (CHAIR, HEALTH_MEMBER, CSC_MEMBER, LEGAL_MEMBER, COORDINATOR)


def people(*persons: Person) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in persons]


def triage_participants() -> dict[str, Any]:
    """Attendees and agreement that satisfy every shipped profile's triage rules."""
    return {"attendees": people(*TRIAGE_ATTENDEES), "agreed_by": people(*PARTNERS)}


def referral(received_on: date, **overrides: Any) -> Referral:
    data: dict[str, Any] = {
        "partnership": "ENGLAND",
        "referrer": {
            "name": "Rita Referrer",
            "agency": "health",
            "discussed_with_safeguarding_lead": True,
        },
        "received_on": received_on.isoformat(),
        "harm": "serious_harm",
        "abuse_or_neglect_suspected": True,
        "children": [{"name": "Child A", "age_years": 3, "sex": "female"}],
        "agencies_involved": ["health", "police", "childrens_social_care"],
        "summary": "Admitted to hospital with unexplained injuries.",
    }
    data.update(overrides)
    return Referral.model_validate(data)


def decision(kind: str, by: Person, **fields: Any) -> Decision:
    payload: dict[str, Any] = {
        "kind": kind,
        "decision_id": fields.pop("decision_id", f"d{next(_ids)}"),
        "by": by.model_dump(mode="json"),
    }
    payload.update(fields)
    return parse_decision(payload)


def care_leaver_referral(received_on: date, **overrides: Any) -> Referral:
    """A care leaver's death: one young person aged 18 to 24, notified but not rapid-reviewed."""
    fields: dict[str, Any] = {
        "harm": "death",
        "children": [{"name": "Young Person B", "age_years": 20, "care_leaver": True}],
    }
    fields.update(overrides)
    return referral(received_on, **fields)


def referral_data(received_on: date, **overrides: Any) -> dict[str, Any]:
    """A referral as untrusted JSON-like input (for `parse_referral`)."""
    data: dict[str, Any] = referral(received_on).model_dump(mode="json")
    data.update(overrides)
    return data


def decision_data(kind: str, by: Person, **fields: Any) -> dict[str, Any]:
    """A decision as untrusted JSON-like input (for `parse_decision`)."""
    payload: dict[str, Any] = {
        "kind": kind,
        "decision_id": fields.pop("decision_id", f"d{next(_ids)}"),
        "by": by.model_dump(mode="json"),
    }
    payload.update(fields)
    return payload


def action_fields(action_id: str, due_on: date, **overrides: Any) -> dict[str, Any]:
    """The fields of a valid action_added decision."""
    fields: dict[str, Any] = {
        "action_id": action_id,
        "recommendation": "Improve information sharing at the front door",
        "description": "Audit strategy discussions for timely health attendance",
        "lead_agency": "health",
        "due_on": due_on.isoformat(),
        "outcome_measure": "Re-audit shows health attends 90% of strategy discussions",
    }
    fields.update(overrides)
    return fields


#: The fields of one valid decision of every kind (besides kind, decision_id and by).
_SAMPLE_FIELDS: dict[DecisionKind, dict[str, Any]] = {
    DecisionKind.TRIAGE: {"outcome": "serious_incident"},
    DecisionKind.NOTIFICATION_SUBMITTED: {"reference": "NP-1"},
    DecisionKind.INFORMATION_REQUESTED: {"requests": [{"agency": "health"}]},
    DecisionKind.INFORMATION_RETURNED: {"agency": "health"},
    DecisionKind.RAPID_REVIEW_DECISION: {
        "recommendation": "local_cspr",
        "attendees": [CHAIR.model_dump(mode="json")],
    },
    DecisionKind.PANEL_RESPONSE: {"panel_agrees": True, "outcome": "local_cspr"},
    DecisionKind.LEAD_REVIEWER_APPOINTED: {"lead_reviewer": "Lee Reviewer"},
    DecisionKind.TERMS_OF_REFERENCE_AGREED: {},
    DecisionKind.AGENCY_INFORMATION_RECEIVED: {},
    DecisionKind.INVOLVEMENT_COMPLETED: {},
    DecisionKind.DRAFT_REPORT_RECEIVED: {},
    DecisionKind.QUALITY_ASSURED: {},
    DecisionKind.FINAL_REPORT_SENT: {},
    DecisionKind.PUBLICATION_PLANNED: {"planned_on": "2027-09-01"},
    DecisionKind.PUBLISHED: {"location": "partnership website"},
    DecisionKind.NOT_PUBLISHED: {"reasons": "Publication would identify the siblings."},
    DecisionKind.APPROACH_CHOSEN: {"approach": "appreciative_inquiry", "agencies": ["health"]},
    DecisionKind.OUTCOME_SHARED: {"summary": "Learning shared."},
    DecisionKind.OTHER_REVIEW_COMPLETED: {"findings": "Findings recorded."},
    DecisionKind.ACTION_ADDED: action_fields("A1", date(2027, 6, 1)),
    DecisionKind.ACTION_UPDATED: {"action_id": "A1", "status": "complete"},
    DecisionKind.DEADLINE_EXTENDED: {
        "deadline_id": "notification",
        "new_due_on": "2027-01-08",
        "reason": "Agreed with the National Panel",
    },
    DecisionKind.CASE_CLOSED: {},
    # Issue #13 items 4, 6, 9, 10.
    DecisionKind.RAPID_REVIEW_SENT: {},
    DecisionKind.PANEL_INFORMATION_REQUESTED: {
        "request_id": "PI1",
        "asked_for": "The health visitor's chronology",
    },
    DecisionKind.PANEL_INFORMATION_SENT: {"request_id": "PI1"},
    DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED: {
        "contribution_id": "NR1",
        "description": "Practitioners attend the national review's learning event",
        "lead_agency": "health",
        "due_on": "2027-06-01",
    },
    DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_MADE: {"contribution_id": "NR1"},
    DecisionKind.CARE_LEAVER_NEXT_STEP: {
        "next_step": "safeguarding_adults_review",
        "reason": "Adult services were involved in the last year.",
    },
    DecisionKind.INVOLVEMENT_RECORDED: {"milestone": "family_views", "outcome": "declined"},
    DecisionKind.COMMUNICATIONS_NOTIFIED: {"agencies": ["police", "health"]},
    DecisionKind.ANONYMISATION_CHECKED: {"redactions_made": True},
    DecisionKind.PARTNERS_RESPONSE_RECORDED: {"summary": "The partners accept every finding."},
    DecisionKind.REFERRAL_QUALITY_ASSURED: {},
    DecisionKind.LA_NOTICE_RECEIVED: {},
    DecisionKind.LEARNING_PLANNED: {
        "learning_id": "B1",
        "output": "briefing",
        "title": "Safe sleep",
        "due_on": "2027-06-01",
    },
    DecisionKind.LEARNING_DISSEMINATED: {"learning_id": "B1", "reach": "All SPRG agencies"},
    DecisionKind.LEARNING_IMPACT_RECORDED: {"learning_id": "B1", "impact": "Re-audit: improved"},
}


def sample_fields(kind: DecisionKind) -> dict[str, Any]:
    """Fields that make a valid decision of this kind (a fresh copy each time)."""
    return copy.deepcopy(_SAMPLE_FIELDS[kind])
