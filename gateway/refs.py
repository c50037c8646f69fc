"""Case and escalation references, their workflow ids, and the visibility queries over them.

One module for the conventions every interface shares: `LSCP-2026-1A2B3C` is case
`referral-LSCP-2026-1A2B3C`; `CSCP-ESC-2026-1A2B3C` is escalation `escalation-CSCP-...`.
"""

from __future__ import annotations

import re

from gateway.errors import InvalidQuery
from safeguarding.ids import CaseRef, EscalationRef
from safeguarding.vocabulary import Route, Stage
from workflows import search_attributes as sa

#: The workflow types the visibility queries name (the classes' names, as registered).
REFERRAL_WORKFLOW_TYPE = "ReferralWorkflow"
ESCALATION_WORKFLOW_TYPE = "ProfessionalDisagreementWorkflow"

# The domain's references (safeguarding/ids.py, light to import); the workflow ids are the
# gateway's convention.
WORKFLOW_ID_PREFIX = "referral-"
ESCALATION_WORKFLOW_ID_PREFIX = "escalation-"
CASE_REF_PATTERN = re.compile(CaseRef.PATTERN)
ESCALATION_REF_PATTERN = re.compile(EscalationRef.PATTERN)
PARTNERSHIP_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")

__all__ = [
    "CASE_REF_PATTERN",
    "ESCALATION_REF_PATTERN",
    "ESCALATION_WORKFLOW_ID_PREFIX",
    "PARTNERSHIP_PATTERN",
    "WORKFLOW_ID_PREFIX",
    "case_ref_of",
    "escalation_visibility_query",
    "escalation_workflow_id",
    "new_case_ref",
    "new_escalation_ref",
    "visibility_query",
    "workflow_id",
]


def workflow_id(case_ref: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{case_ref}"


def escalation_workflow_id(escalation_ref: str) -> str:
    return f"{ESCALATION_WORKFLOW_ID_PREFIX}{escalation_ref}"


def new_case_ref(partnership: str, year: int) -> str:
    return CaseRef.new(partnership, year)


def new_escalation_ref(partnership: str, year: int) -> str:
    return EscalationRef.new(partnership, year)


def case_ref_of(workflow_id_: str) -> str:
    return workflow_id_.removeprefix(WORKFLOW_ID_PREFIX)


def escalation_ref_of(workflow_id_: str) -> str:
    return workflow_id_.removeprefix(ESCALATION_WORKFLOW_ID_PREFIX)


def _partnership_clause(partnership: str) -> str:
    if not PARTNERSHIP_PATTERN.match(partnership):
        # Only a plain code may reach the query text.
        raise InvalidQuery(f"--partnership: not a partnership code: {partnership[:20]!r}")
    return f"{sa.PARTNERSHIP.name} = '{partnership}'"


def visibility_query(
    *,
    stage: str | None = None,
    route: str | None = None,
    partnership: str | None = None,
    overdue: bool = False,
    include_closed: bool = False,
) -> str:
    clauses = [f"WorkflowType = '{REFERRAL_WORKFLOW_TYPE}'"]
    if not include_closed:
        clauses.append("ExecutionStatus = 'Running'")
    if stage is not None:
        clauses.append(f"{sa.REVIEW_STAGE.name} = '{Stage(stage).value}'")
    if route is not None:
        clauses.append(f"{sa.REVIEW_ROUTE.name} = '{Route(route).value}'")
    if partnership is not None:
        clauses.append(_partnership_clause(partnership))
    if overdue:
        clauses.append(f"{sa.OVERDUE.name} = true")
    return " AND ".join(clauses)


def escalation_visibility_query(
    *, partnership: str | None = None, min_stage: int | None = None, include_closed: bool = False
) -> str:
    clauses = [f"WorkflowType = '{ESCALATION_WORKFLOW_TYPE}'"]
    if not include_closed:
        clauses.append("ExecutionStatus = 'Running'")
    if partnership is not None:
        clauses.append(_partnership_clause(partnership))
    if min_stage is not None:
        clauses.append(f"{sa.ESCALATION_STAGE.name} >= {int(min_stage)}")
    return " AND ".join(clauses)
