"""What goes into and comes out of a `ReferralWorkflow` (its input, options, result, and the
note a linked escalation sends it).

A module of its own, imported by the workflow with `imports_passed_through`: the sandbox
re-executes the workflow module for every workflow instance it creates, and pydantic models
defined there would be built again each time (about 4 ms and 50 KB a case, BENCHMARKS.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)

from safeguarding.case import Case
from safeguarding.decisions import explain_validation_error
from safeguarding.escalation import ESCALATION_REF_PATTERN
from safeguarding.ids import CaseRef
from safeguarding.model import DomainModel
from safeguarding.referral import Referral
from safeguarding.vocabulary import Route

#: A case reference: partnership code, year, six random hex digits. Never personal data.
CASE_REF_PATTERN = CaseRef.PATTERN


class ReferralOptions(DomainModel):
    """How this run behaves, as opposed to what the case is."""

    #: Upsert the custom search attributes (the dev server registers them; the time-skipping
    #: test server cannot).
    search_attributes: bool = True
    #: Continue as new once the run's history passes this many events.
    continue_as_new_after_events: int = Field(2_000, ge=50, le=40_000)


#: Longest reason an invalid start is refused with (a hostile input can have thousands of
#: problems; the first ones say enough).
MAX_REFUSAL_CHARS = 2_000


class InvalidStart(Exception):
    """A new case whose input breaks the rules: started some way other than `sro refer` or the
    console, which check it first. Listed in the workflow's `failure_exception_types`, so the
    case fails at once with the reason, instead of its first workflow task failing on every
    retry. Not a `ValueError`, so pydantic passes it through rather than wrapping it."""


class ReferralInput(DomainModel):
    case_ref: str = Field(pattern=CASE_REF_PATTERN)
    referral: Referral
    options: ReferralOptions = ReferralOptions()
    #: The case carried over from the previous run (continue-as-new).
    carried: Case | None = None
    #: History entries of the case the register has acknowledged (carried across runs).
    registered_upto: int = Field(0, ge=0)
    #: Set by the clients that open cases (`gateway.cases`) and by continue-as-new: the run takes
    #: the lean paths (`workflows.referral_run.LEAN_PATCHES`, and so every patch a case meets)
    #: as granted, without asking `workflow.patched`: no marker and no `TemporalChangeVersion`
    #: upsert in its history (issue 16). An input without it (a case opened before, or by an
    #: older client) asks for the patch as runs always did, so recorded histories replay.
    lean: bool = False

    @model_validator(mode="wrap")
    @classmethod
    def _refuse_invalid_start(
        cls, data: Any, handler: ModelWrapValidatorHandler[ReferralInput]
    ) -> ReferralInput:
        try:
            return handler(data)
        except ValidationError as err:
            # A carried case that does not load is a bug to fix, not bad input: the task
            # retries until a fixed worker runs it, and the case is not lost.
            if isinstance(data, dict) and data.get("carried") is not None:
                raise
            reason = explain_validation_error(err, "input")
            if len(reason) > MAX_REFUSAL_CHARS:
                reason = reason[:MAX_REFUSAL_CHARS] + " ..."
            raise InvalidStart(f"case not started: {reason}") from None


class ReferralResult(DomainModel):
    case_ref: str
    route: Route
    closed_at: datetime | None
    decisions: int
    runs: int


class EscalationNote(DomainModel):
    """A linked escalation's news for the case history (no personal data)."""

    escalation_ref: str = Field(pattern=ESCALATION_REF_PATTERN)
    text: str = Field(min_length=1, max_length=500)
    #: The sending escalation's workflow id (notes from before it was sent: unknown).
    sent_by: str | None = Field(None, max_length=120)
    #: The escalation was raised (the case learns of it); other news needs it raised first.
    raised: bool = False

    @model_validator(mode="after")
    def _printable_and_own(self) -> EscalationNote:
        if not self.text.isprintable():
            raise ValueError("text: control or formatting characters are not allowed")
        if self.sent_by is not None and self.sent_by != f"escalation-{self.escalation_ref}":
            raise ValueError(
                f"sent_by: {self.sent_by[:60]!r} is not escalation {self.escalation_ref}'s workflow"
            )
        return self


def workflow_id(case_ref: str) -> str:
    return f"referral-{case_ref}"
