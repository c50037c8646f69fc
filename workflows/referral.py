"""One referral, one durable workflow: it drives the case through the state machine.

The rules live in `safeguarding` (plain Python). This workflow only orchestrates: it takes
decisions as Updates (validated) or Signals (refusals recorded), runs deadline planning and
notifications as activities, sleeps until the next reminder or escalation is due, and keeps the
operator's view (search attributes, current details) up to date. In the background it projects
the case into the register (`RegisterProjection`); the workflow stays the source of truth.

The class below only declares the workflow (its name, handlers and their types); what each
handler does is `ReferralRun`'s, in `workflows/referral_run.py`, passed through the sandbox. The
sandbox imports this module afresh for every run, so it is kept small: one copy of the rest
serves every open case (issue 16).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from safeguarding import projection
    from safeguarding.case import CaseStatus, DecisionResult
    from safeguarding.referral import Referral
    from safeguarding.vocabulary import Stage
    from security.marks import Unsealed
    from workflows import names
    from workflows.referral_io import (
        CASE_REF_PATTERN,
        EscalationNote,
        InvalidStart,
        ReferralInput,
        ReferralOptions,
        ReferralResult,
        workflow_id,
    )
    from workflows.referral_run import TASK_QUEUE, ReferralRun


@workflow.defn(failure_exception_types=[InvalidStart, Unsealed])
class ReferralWorkflow:
    @workflow.init
    def __init__(self, input: ReferralInput) -> None:
        self._run = ReferralRun(input)

    @workflow.run
    async def run(self, input: ReferralInput) -> ReferralResult:
        return await self._run.run(input)

    @workflow.update(name="decide")
    async def decide(self, raw: RawValue) -> DecisionResult:
        """Make a decision. Refused (with a reason) if it is invalid, for the wrong stage,
        by someone without the authority, or against a guard; the case is then untouched."""
        return await self._run.decide(raw)

    @decide.validator
    def _validate_decide(self, raw: RawValue) -> None:
        self._run.validate_decide(raw)

    @workflow.signal(name="decision")
    async def decision_signal(self, raw: RawValue) -> None:
        """The same decisions as a Signal (for `temporal workflow signal` and the Web UI). A
        signal cannot answer, so a refusal is recorded in the case history instead."""
        await self._run.decision_signal(raw)

    @workflow.signal(name="escalation")
    async def escalation_signal(self, raw: RawValue) -> None:
        """A professional-disagreement escalation about this case raised or resolved (only
        from a client holding the key, about one of this case's escalations; else refused and
        the refusal recorded)."""
        await self._run.escalation_signal(raw)

    @workflow.query(name=names.STATUS_QUERY)
    def status(self) -> CaseStatus:
        return self._run.status()

    @workflow.query(name="referral")
    def referral(self) -> Referral:
        return self._run.referral()

    @workflow.query(name="register")
    def register(self) -> projection.CaseSnapshot:
        """The whole case as the register's rows (what `sro register rebuild` writes)."""
        return self._run.register()


__all__ = [
    "CASE_REF_PATTERN",
    "TASK_QUEUE",
    "EscalationNote",
    "ReferralInput",
    "ReferralOptions",
    "ReferralResult",
    "ReferralWorkflow",
    "Stage",
    "workflow_id",
]
