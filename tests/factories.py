"""Builders for referrals and decisions in tests (valid by default; override what a test needs)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from safeguarding.decisions import Decision, Person, parse_decision
from safeguarding.referral import Referral
from safeguarding.vocabulary import Agency, Role

_ids = itertools.count(1)

CHAIR = Person(name="Dana Chair", role=Role.CHAIR, agency=Agency.POLICE)
COORDINATOR = Person(name="Cai Coordinator", role=Role.COORDINATOR, agency=Agency.PARTNERSHIP)
BUSINESS_MANAGER = Person(name="Bea Manager", role=Role.BUSINESS_MANAGER, agency=Agency.PARTNERSHIP)
POLICE_MEMBER = Person(name="Pat Police", role=Role.PANEL_MEMBER, agency=Agency.POLICE)
HEALTH_MEMBER = Person(name="Hal Health", role=Role.PANEL_MEMBER, agency=Agency.HEALTH)
CSC_MEMBER = Person(name="Sam Social", role=Role.PANEL_MEMBER, agency=Agency.CHILDRENS_SOCIAL_CARE)
LEAD_REVIEWER = Person(name="Lee Reviewer", role=Role.LEAD_REVIEWER, agency=Agency.INDEPENDENT)


def referral(received_on: date, **overrides: Any) -> Referral:
    data: dict[str, Any] = {
        "partnership": "LSCP",
        "referrer": {"name": "Rita Referrer", "agency": "health"},
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
