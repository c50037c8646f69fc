"""What goes into and comes out of a `ReferralWorkflow` (its input, options, result, and the
note a linked escalation sends it).

A module of its own, imported by the workflow with `imports_passed_through`: the sandbox
re-executes the workflow module for every workflow instance it creates, and pydantic models
defined there would be built again each time (about 4 ms and 50 KB a case, BENCHMARKS.md).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from safeguarding.case import Case
from safeguarding.referral import Referral
from safeguarding.vocabulary import Route

#: A case reference: partnership code, year, six random hex digits. Never personal data.
CASE_REF_PATTERN = r"^[A-Z][A-Z0-9_]*-[0-9]{4}-[0-9A-F]{6}$"


class ReferralOptions(BaseModel):
    """How this run behaves, as opposed to what the case is."""

    #: Upsert the custom search attributes (the dev server registers them; the time-skipping
    #: test server cannot).
    search_attributes: bool = True
    #: Continue as new once the run's history passes this many events.
    continue_as_new_after_events: int = Field(2_000, ge=50, le=40_000)


class ReferralInput(BaseModel):
    case_ref: str = Field(pattern=CASE_REF_PATTERN)
    referral: Referral
    options: ReferralOptions = ReferralOptions()
    #: The case carried over from the previous run (continue-as-new).
    carried: Case | None = None
    #: History entries of the case the register has acknowledged (carried across runs).
    registered_upto: int = Field(0, ge=0)


class ReferralResult(BaseModel):
    case_ref: str
    route: Route
    closed_at: datetime | None
    decisions: int
    runs: int


class EscalationNote(BaseModel):
    """A linked escalation's news for the case history (no personal data)."""

    escalation_ref: str
    text: str = Field(max_length=500)


def workflow_id(case_ref: str) -> str:
    return f"referral-{case_ref}"
