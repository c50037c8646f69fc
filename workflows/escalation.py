"""A professional-disagreement escalation as a durable workflow.

Stages and their timescales come from the partnership's profile. A stage not resolved in time
moves up by itself (a workflow timer); the people at the next stage are told, and the partnership
from its threshold stage on. Resolution (an Update, or the same as a Signal) ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from pydantic import Field
from temporalio import workflow
from temporalio.common import RawValue, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.deadlines_io import PlanDeadlinesInput, plan_deadlines
    from activities.partnerships import LoadPartnershipInput, load_partnership_settings
    from activities.register_io import RecordEscalationInput, record_escalation
    from safeguarding.case import DecisionRefused, Notice
    from safeguarding.deadlines import DeadlineRequest
    from safeguarding.decisions import MAX_DECISION_BYTES, InvalidDecision
    from safeguarding.escalation import (
        ESCALATION_REF_PATTERN,
        Disagreement,
        Escalation,
        EscalationDecision,
        EscalationStatus,
        parse_escalation_decision,
    )
    from safeguarding.escalation_projection import escalation_snapshot
    from safeguarding.model import DomainModel
    from security.marks import UNSEALED, Unsealed
    from workflows import search_attributes as sa
    from workflows.delivery import deliver
    from workflows.referral_io import EscalationNote, workflow_id
    from workflows.referral_run import (
        ACTIVITY_RETRY,
        ACTIVITY_TIMEOUT,
        NOT_SEALED,
        PLANNING_RETRY,
        PLANNING_TIMEOUT,
        SEALED_PATCH,
    )
    from workflows.register_projection import REGISTER_LOCAL_RETRY

REFUSAL_TYPES = {"wrong_stage": "WrongStage", "conflict": "Conflict"}
#: Issue 13, item 12: escalations write themselves to the register; runs started before replay
#: without (workflow.patched).
ESCALATION_REGISTER_PATCH = "escalation-register"


class EscalationInput(DomainModel):
    escalation_ref: str = Field(pattern=ESCALATION_REF_PATTERN)
    disagreement: Disagreement
    search_attributes: bool = True


class EscalationResult(DomainModel):
    escalation_ref: str
    resolved_at_stage: int
    reached_partnership: bool


def escalation_workflow_id(escalation_ref: str) -> str:
    return f"escalation-{escalation_ref}"


def _refusal(err: DecisionRefused | InvalidDecision) -> ApplicationError:
    if isinstance(err, InvalidDecision):
        return ApplicationError(str(err), type="InvalidDecision", non_retryable=True)
    return ApplicationError(
        err.message, type=REFUSAL_TYPES.get(err.reason, "Refused"), non_retryable=True
    )


@workflow.defn(failure_exception_types=[Unsealed])
class ProfessionalDisagreementWorkflow:
    @workflow.init
    def __init__(self, input: EscalationInput) -> None:
        self._input = input
        self._escalation: Escalation | None = None
        self._lock = asyncio.Lock()
        self._changed = False
        self._published_stage = 0
        #: History entries of the escalation the register holds; the projection stops once
        #: `_registering_stops` and it has them all.
        self._registered = 0
        self._registering_stops = False

    @workflow.run
    async def run(self, input: EscalationInput) -> EscalationResult:
        loaded = await workflow.execute_activity(
            load_partnership_settings,
            LoadPartnershipInput(partnership=input.disagreement.partnership),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        async with self._lock:
            escalation, request, notices = Escalation.open(
                input.escalation_ref, input.disagreement, loaded.settings, workflow.now()
            )
            self._escalation = escalation
            await self._carry_out(request, notices)
        delivery = asyncio.create_task(
            deliver(
                escalation.outbox,
                lambda: escalation.resolved,
                lambda text: escalation.note(workflow.now(), text),
            )
        )
        projecting = (
            asyncio.create_task(self._project(escalation))
            if workflow.patched(ESCALATION_REGISTER_PATCH)
            else None
        )
        await self._tell_case(
            f"Professional disagreement {input.escalation_ref} raised", raised=True
        )
        self._publish()

        while not escalation.resolved:
            expires = escalation.expires_at()
            timeout = max(expires - workflow.now(), timedelta(seconds=1)) if expires else None
            with contextlib.suppress(TimeoutError):  # timed out: the stage's time ran out
                await workflow.wait_condition(
                    lambda: self._changed,
                    timeout=timeout,
                    timeout_summary=f"stage {escalation.current.stage} time limit",
                )
            self._changed = False
            async with self._lock:
                expires = escalation.expires_at()
                if expires is not None and workflow.now() >= expires:
                    await self._carry_out(*escalation.time_out(workflow.now()))
            self._publish()

        await workflow.wait_condition(workflow.all_handlers_finished)
        await delivery  # every notice is sent before the escalation ends
        if projecting is not None:  # and the register holds it as it ended
            self._registering_stops = True
            await projecting
        await self._tell_case(
            f"Professional disagreement {input.escalation_ref} resolved at stage "
            f"{escalation.current.stage}"
        )
        return EscalationResult(
            escalation_ref=input.escalation_ref,
            resolved_at_stage=escalation.current.stage,
            reached_partnership=escalation.partnership_notified_at is not None,
        )

    # ------------------------------------------------------------------ decisions

    @workflow.update(name="decide")
    async def decide(self, raw: RawValue) -> EscalationStatus:
        """Resolve it, or escalate it now, by a named person."""
        try:
            decision = self._parse(raw)
        except InvalidDecision as err:
            raise _refusal(err) from None
        await workflow.wait_condition(lambda: self._escalation is not None)
        async with self._lock:
            escalation = self._require()
            try:
                escalation.check(decision)
            except DecisionRefused as refused:
                raise _refusal(refused) from None
            if decision.decision_id not in escalation.applied:
                await self._carry_out(*escalation.apply(decision, workflow.now()))
            self._changed = True
            return escalation.status()

    @decide.validator
    def _validate(self, raw: RawValue) -> None:
        try:
            decision = self._parse(raw, validating=True)
            if self._escalation is not None:
                self._escalation.check(decision)
        except (InvalidDecision, DecisionRefused) as err:
            raise _refusal(err) from None

    @workflow.signal(name="decision")
    async def decision_signal(self, raw: RawValue) -> None:
        """The same as a Signal; a refusal is recorded in the escalation's history."""
        await workflow.wait_condition(lambda: self._escalation is not None)
        async with self._lock:
            escalation = self._require()
            try:
                decision = self._parse(raw)
                escalation.check(decision)
            except (InvalidDecision, DecisionRefused) as err:
                reason = err.message if isinstance(err, DecisionRefused) else str(err)
                escalation.note(workflow.now(), f"Refused: {reason}")
                self._changed = True
                return
            if decision.decision_id not in escalation.applied:
                await self._carry_out(*escalation.apply(decision, workflow.now()))
            self._changed = True

    def _parse(self, raw: RawValue, *, validating: bool = False) -> EscalationDecision:
        # A validator's refusal is never in history; a handler's is, so runs that took such a
        # payload before it was refused keep their path (workflow.patched, as the referral's).
        if raw.payload.metadata.get(UNSEALED) and (validating or workflow.patched(SEALED_PATCH)):
            raise InvalidDecision(NOT_SEALED)
        size = raw.payload.ByteSize()
        if size > MAX_DECISION_BYTES:
            raise InvalidDecision(f"decision is {size} bytes; the limit is {MAX_DECISION_BYTES}")
        try:
            value = workflow.payload_converter().from_payload(raw.payload)
        except Exception:
            raise InvalidDecision("decision is not valid JSON") from None
        return parse_escalation_decision(value)

    # ------------------------------------------------------------------ effects

    async def _carry_out(self, request: DeadlineRequest | None, notices: list[Notice]) -> None:
        escalation = self._require()
        if request is not None:
            planned = await workflow.execute_activity(
                plan_deadlines,
                PlanDeadlinesInput(rules=escalation.settings.planning_rules(), requests=[request]),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                schedule_to_close_timeout=PLANNING_TIMEOUT,
                retry_policy=PLANNING_RETRY,
            )
            escalation.set_plan(planned.plans[0])
        escalation.outbox.extend(notices)

    async def _tell_case(self, text: str, *, raised: bool = False) -> None:
        """Record the escalation in its linked referral's history (no personal data)."""
        case_ref = self._input.disagreement.linked_case_ref
        if case_ref is None:
            return
        try:
            await workflow.get_external_workflow_handle(workflow_id(case_ref)).signal(
                "escalation",
                EscalationNote(
                    escalation_ref=self._input.escalation_ref,
                    text=text,
                    sent_by=workflow.info().workflow_id,
                    raised=raised,
                ),
            )
        except Exception as err:  # the case may be closed or unknown: the escalation goes on
            self._require().note(workflow.now(), f"Could not tell case {case_ref}: {err}")

    async def _project(self, escalation: Escalation) -> None:
        """Whenever the escalation's history grows, write its rows to the register (a local
        activity, retried without limit while the register is down; the escalation goes on)."""
        while True:
            await workflow.wait_condition(
                lambda: self._registering_stops or self._registered < len(escalation.history)
            )
            if self._registered >= len(escalation.history):
                return
            async with self._lock:  # never half a decision
                count = len(escalation.history)
                snapshot = escalation_snapshot(escalation)
            await workflow.execute_local_activity(
                record_escalation,
                RecordEscalationInput(snapshot=snapshot),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
                local_retry_threshold=REGISTER_LOCAL_RETRY,
                summary="record the escalation in the register",
            )
            self._registered = max(self._registered, count)

    # ------------------------------------------------------------------ reading

    @workflow.query(name="status")
    def status(self) -> EscalationStatus:
        return self._require().status()

    def _require(self) -> Escalation:
        if self._escalation is None:
            raise ApplicationError("the escalation is still opening; try again", type="NotReady")
        return self._escalation

    def _publish(self) -> None:
        escalation = self._require()
        workflow.set_current_details(escalation.operator_details())
        if not self._input.search_attributes:
            return
        stage = escalation.current.stage
        if stage == self._published_stage:
            return
        updates: list[SearchAttributeUpdate[Any]] = [sa.ESCALATION_STAGE.value_set(stage)]
        if self._published_stage == 0:
            updates.append(sa.PARTNERSHIP.value_set(escalation.settings.code))
        self._published_stage = stage
        workflow.upsert_search_attributes(updates)
