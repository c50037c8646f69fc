"""The routes a referral can take, as the decisions people send, and a driver that sends them.

Decisions are JSON objects sent as the `decide` Update with the decision id as the Update id, as
the command line sends them. Each route below is the shortest valid walk of that route through the
state machine with the England-wide defaults (the same walks as tests/workflows/test_referral.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from safeguarding.referral import Referral
from safeguarding.vocabulary import Stage
from workflows import search_attributes as sa
from workflows.referral import (
    ReferralInput,
    ReferralOptions,
    ReferralResult,
    ReferralWorkflow,
    workflow_id,
)

Payload = dict[str, Any]


def person(name: str, role: str, agency: str) -> Payload:
    return {"name": name, "role": role, "agency": agency}


CHAIR = person("Dana Chair", "chair", "police")
COORDINATOR = person("Cai Coordinator", "coordinator", "partnership")
BUSINESS_MANAGER = person("Bea Manager", "business_manager", "partnership")
POLICE_MEMBER = person("Pat Police", "panel_member", "police")
HEALTH_MEMBER = person("Hal Health", "panel_member", "health")
CSC_MEMBER = person("Sam Social", "panel_member", "childrens_social_care")
LEAD_REVIEWER = person("Lee Reviewer", "lead_reviewer", "independent")

#: (kind, by, fields): one decision of a route.
Step = tuple[str, Payload, Payload]


class CaseRefs:
    """Unique case references for one benchmark run (sequential: no random collisions)."""

    def __init__(self, partnership: str, year: int) -> None:
        self._prefix = f"{partnership}-{year}-"
        self._next = itertools.count(1)

    def new(self) -> str:
        return f"{self._prefix}{next(self._next):06X}"


def referral(partnership: str, today: date, *, care_leaver: bool = False) -> Referral:
    children: list[Payload] = (
        [{"name": "Young Person B", "age_years": 20, "care_leaver": True}]
        if care_leaver
        else [{"name": "Child A", "age_years": 3, "sex": "female"}]
    )
    return Referral.model_validate(
        {
            "partnership": partnership,
            "referrer": {"name": "Rita Referrer", "agency": "health"},
            "received_on": today.isoformat(),
            "harm": "death" if care_leaver else "serious_harm",
            "abuse_or_neglect_suspected": True,
            "children": children,
            "agencies_involved": ["health", "police", "childrens_social_care"],
            "summary": "Admitted to hospital with unexplained injuries.",
        }
    )


def _action(action_id: str, agency: str, due: date) -> Payload:
    return {
        "action_id": action_id,
        "recommendation": "Improve information sharing at the front door",
        "description": "Joint briefing for duty officers",
        "lead_agency": agency,
        "due_on": due.isoformat(),
        "outcome_measure": "Re-audit shows referrals shared within 24 hours",
    }


def rapid_review_steps(today: date) -> list[Step]:
    return [
        ("triage", CHAIR, {"outcome": "serious_incident"}),
        ("notification_submitted", CSC_MEMBER, {"reference": "SIN-2026-0042"}),
        (
            "information_requested",
            COORDINATOR,
            {
                "requests": [
                    {"agency": "police", "due_on": (today + timedelta(days=7)).isoformat()},
                    {"agency": "health"},
                ]
            },
        ),
        ("information_returned", POLICE_MEMBER, {"agency": "police"}),
        ("information_returned", HEALTH_MEMBER, {"agency": "health"}),
        (
            "rapid_review_decision",
            CHAIR,
            {
                "recommendation": "local_cspr",
                "attendees": [CHAIR, POLICE_MEMBER, HEALTH_MEMBER],
                "possible_national_importance": True,
            },
        ),
        ("rapid_review_sent", COORDINATOR, {}),  # issue #13 item 6
    ]


def action_plan_steps(today: date) -> list[Step]:
    due = today + timedelta(days=60)
    return [
        ("action_added", COORDINATOR, _action("A1", "police", due)),
        ("action_added", COORDINATOR, _action("A2", "health", due)),
        ("action_updated", POLICE_MEMBER, {"action_id": "A1", "rag": "green"}),
        (
            "action_updated",
            POLICE_MEMBER,
            {"action_id": "A1", "status": "complete", "evidence": "audit"},
        ),
        ("action_updated", CHAIR, {"action_id": "A2", "status": "closed_by_review_group"}),
    ]


def longest_steps(today: date) -> list[Step]:
    """Notification, rapid review, local CSPR to publication, an action plan, closed."""
    cspr: list[Step] = [
        ("panel_response", COORDINATOR, {"panel_agrees": True, "outcome": "local_cspr"}),
        ("lead_reviewer_appointed", BUSINESS_MANAGER, {"lead_reviewer": "Dr Ivy Lead"}),
        ("terms_of_reference_agreed", CHAIR, {}),
        ("agency_information_received", LEAD_REVIEWER, {}),
        # Issue #13 items 9 and 10: involvement milestones, then what publication needs.
        *(
            ("involvement_recorded", LEAD_REVIEWER, {"milestone": milestone})
            for milestone in ("family_told", "family_views", "practitioners_involved")
        ),
        ("involvement_completed", LEAD_REVIEWER, {}),
        ("draft_report_received", LEAD_REVIEWER, {}),
        ("quality_assured", CHAIR, {}),
        ("final_report_sent", BUSINESS_MANAGER, {}),
        ("communications_notified", COORDINATOR, {"agencies": ["police", "health"]}),
        ("anonymisation_checked", CHAIR, {"redactions_made": True}),
        ("involvement_recorded", LEAD_REVIEWER, {"milestone": "family_shown_report"}),
        (
            "published",
            BUSINESS_MANAGER,
            {
                "location": "lscp.example/reviews",
                "available_until": (today + timedelta(days=400)).isoformat(),
            },
        ),
        ("partners_response_recorded", CHAIR, {"summary": "Accepted in full"}),
        ("involvement_recorded", LEAD_REVIEWER, {"milestone": "practitioners_feedback"}),
    ]
    return [
        *rapid_review_steps(today),
        *cspr,
        *action_plan_steps(today),
        ("case_closed", CHAIR, {}),
    ]


def care_leaver_steps(today: date) -> list[Step]:
    return [
        ("triage", CHAIR, {"outcome": "serious_incident"}),
        ("notification_submitted", COORDINATOR, {"reference": "CL-7"}),
        (
            "care_leaver_next_step",
            CHAIR,
            {"next_step": "safeguarding_adults_review", "reason": "Adult services were involved"},
        ),
    ]


def case_of_concern_steps(today: date) -> list[Step]:
    return [
        ("triage", BUSINESS_MANAGER, {"outcome": "case_of_concern"}),
        (
            "approach_chosen",
            CHAIR,
            {"approach": "appreciative_inquiry", "agencies": ["education", "health"]},
        ),
        ("outcome_shared", COORDINATOR, {"summary": "Strong joint working at school"}),
        ("case_closed", BUSINESS_MANAGER, {}),
    ]


def other_review_steps(today: date) -> list[Step]:
    return [
        (
            "triage",
            POLICE_MEMBER,
            {"outcome": "other_review", "review_type": "seriously_good_outcome_review"},
        ),
        ("other_review_completed", CHAIR, {"findings": "Good practice shared"}),
        *action_plan_steps(today),
        ("case_closed", CHAIR, {}),
    ]


def no_further_action_steps(today: date) -> list[Step]:
    return [
        ("triage", CHAIR, {"outcome": "no_further_action", "advice": "Single-agency supervision"}),
    ]


def learning_only_steps(today: date) -> list[Step]:
    return [
        *rapid_review_steps(today),
        # Issue #13 item 6: a Panel request answered, a national review and a contribution.
        ("panel_information_requested", COORDINATOR, {"request_id": "PI1", "asked_for": "GP"}),
        ("panel_information_sent", COORDINATOR, {"request_id": "PI1"}),
        (
            "panel_response",
            BUSINESS_MANAGER,
            {"panel_agrees": False, "outcome": "no_further_review", "national_review": True},
        ),
        (
            "national_review_contribution_requested",
            COORDINATOR,
            {
                "contribution_id": "NR1",
                "description": "Chronologies",
                "lead_agency": "police",
                "due_on": (today + timedelta(days=30)).isoformat(),
            },
        ),
        ("national_review_contribution_made", POLICE_MEMBER, {"contribution_id": "NR1"}),
        ("case_closed", CHAIR, {}),
    ]


@dataclass(frozen=True)
class Route:
    name: str
    steps: Callable[[date], list[Step]]
    care_leaver: bool = False


ROUTES = [
    Route("longest: notification, rapid review, CSPR, action plan, closed", longest_steps),
    Route("care leaver notification", care_leaver_steps, care_leaver=True),
    Route("case of concern", case_of_concern_steps),
    Route("other review (with an action plan)", other_review_steps),
    Route("no further action", no_further_action_steps),
    Route("learning only (panel: no further review)", learning_only_steps),
]


def decision_payloads(case_ref: str, steps: list[Step]) -> list[Payload]:
    """The steps as decision objects, with ids unique to the case."""
    return [
        {"kind": kind, "decision_id": f"{case_ref}-{n:02d}", "by": by, **fields}
        for n, (kind, by, fields) in enumerate(steps, start=1)
    ]


async def start_case(
    client: Client,
    queue: str,
    case_ref: str,
    made: Referral,
    options: ReferralOptions | None = None,
) -> WorkflowHandle[ReferralWorkflow, ReferralResult]:
    """Start a case as `sro refer` does: summary, and stage and partnership searchable at once."""
    return await client.start_workflow(
        ReferralWorkflow.run,
        ReferralInput(
            case_ref=case_ref, referral=made, options=options or ReferralOptions(), lean=True
        ),
        id=workflow_id(case_ref),
        task_queue=queue,
        static_summary=f"Referral {case_ref} — {made.partnership}",
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.PARTNERSHIP, made.partnership),
                SearchAttributePair(sa.REVIEW_STAGE, Stage.REFERRAL_RECEIVED.value),
            ]
        ),
    )


async def send_all(handle: WorkflowHandle[Any, Any], payloads: list[Payload]) -> None:
    """Send each decision as an Update (the decision id is the Update id) and wait for it."""
    for payload in payloads:
        await handle.execute_update("decide", payload, id=payload["decision_id"])
