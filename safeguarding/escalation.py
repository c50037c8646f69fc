"""Professional-disagreement escalation under a partnership's escalation and resolution policy.

A disagreement starts at stage 1. Each stage has its own time to resolve (working days, from the
profile); if it is not resolved by then it moves up a stage and the next people are told. The
partnership is told of every escalation that reaches its threshold stage (Croydon: stage 3). A
resolution ends it. Plain Python, no Temporal imports; the workflow drives it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from safeguarding.case import DecisionRefused, Notice
from safeguarding.clock import uk_today
from safeguarding.deadlines import DeadlineKind, DeadlinePlan, DeadlineRequest, WorkingDaysAfter
from safeguarding.decisions import (
    MAX_DECISION_BYTES,
    Identifier,
    InvalidDecision,
    LongText,
    Person,
    validation_problems,
)
from safeguarding.ids import CaseRef, DeadlineId, EscalationRef
from safeguarding.model import DomainModel
from safeguarding.referral import PartnershipCode
from safeguarding.settings import EscalationStage, PartnershipSettings
from safeguarding.vocabulary import Agency

ESCALATION_REF_PATTERN = EscalationRef.PATTERN


class Disagreement(DomainModel):
    """What a practitioner raises. `concern` may hold personal data: payloads only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partnership: PartnershipCode
    raised_by: Person
    raised_with: Agency = Field(description="the agency the disagreement is with")
    concern: LongText = Field(description="what the disagreement is about")
    raised_on: date | None = Field(None, description="defaults to today, UK time")
    linked_case_ref: str | None = Field(
        None,
        pattern=CaseRef.PATTERN,
        description="the referral case this escalation concerns, if any",
    )


class Resolve(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    action: Literal["resolve"] = "resolve"
    decision_id: Identifier
    by: Person
    outcome: LongText = Field(description="how it was resolved")


class EscalateNow(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    action: Literal["escalate"] = "escalate"
    decision_id: Identifier
    by: Person
    reason: LongText = Field(description="why it cannot be resolved at this stage")


EscalationDecision = Annotated[Resolve | EscalateNow, Field(discriminator="action")]
_ADAPTER: TypeAdapter[EscalationDecision] = TypeAdapter(
    EscalationDecision, config=ConfigDict(defer_build=True)
)


def parse_escalation_decision(raw: Any) -> EscalationDecision:
    if isinstance(raw, BaseModel):
        raw = raw.model_dump(mode="json")
    if not isinstance(raw, dict):
        raise InvalidDecision(f"a decision must be a JSON object, not {type(raw).__name__}")
    if raw.get("action") not in ("resolve", "escalate"):
        raise InvalidDecision("action: must be 'resolve' or 'escalate'")
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as err:
        raise InvalidDecision(
            f"{raw['action']} refused: " + "; ".join(validation_problems(err))
        ) from err


class StageRecord(DomainModel):
    stage: int
    name: str
    who: str
    formal: bool
    entered_at: datetime
    due_on: date | None = None
    expires_at: datetime | None = None
    left_at: datetime | None = None
    left_because: Literal["resolved", "timed_out", "escalated"] | None = None


class EscalationEvent(DomainModel):
    at: datetime
    text: str
    by: Person | None = None
    decision_id: str | None = None


class EscalationStatus(DomainModel):
    escalation_ref: str
    partnership: str
    partnership_name: str
    stage: int
    stage_name: str
    formal: bool
    who: str
    due_on: date | None
    raised_with: Agency
    raised_by: Person
    linked_case_ref: str | None
    partnership_notified: bool
    overseen_by: str
    resolved: bool
    resolution: str | None
    stages: list[StageRecord]
    history: list[EscalationEvent]


class Escalation(DomainModel):
    model_config = ConfigDict(extra="forbid")

    escalation_ref: str
    disagreement: Disagreement
    settings: PartnershipSettings
    opened_at: datetime
    stages: list[StageRecord] = Field(default_factory=list)
    resolved_at: datetime | None = None
    resolution: str | None = None
    resolved_by: Person | None = None
    partnership_notified_at: datetime | None = None
    #: Decision ids applied, with their action: a re-sent id applies once.
    applied: dict[str, str] = Field(default_factory=dict)
    history: list[EscalationEvent] = Field(default_factory=list)
    #: Notices waiting to be sent (the workflow delivers them in the background).
    outbox: list[Notice] = Field(default_factory=list)

    @classmethod
    def open(
        cls,
        escalation_ref: str,
        disagreement: Disagreement,
        settings: PartnershipSettings,
        now: datetime,
    ) -> tuple[Escalation, DeadlineRequest | None, list[Notice]]:
        escalation = cls(
            escalation_ref=escalation_ref,
            disagreement=disagreement,
            settings=settings,
            opened_at=now,
        )
        escalation._log(
            now,
            f"Raised by {disagreement.raised_by.describe()} with {disagreement.raised_with.label}",
            by=disagreement.raised_by,
        )
        # Stage 1's time runs from the day it was raised, which may be before it was recorded.
        request, notices = escalation._enter(1, now, since=disagreement.raised_on)
        return escalation, request, notices

    # ------------------------------------------------------------------ reading

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def current(self) -> StageRecord:
        return self.stages[-1]

    def _policy_stage(self, number: int) -> EscalationStage:
        return self.settings.escalation_policy.stage(number)

    @property
    def at_last_stage(self) -> bool:
        return self.current.stage >= len(self.settings.escalation_policy.stages)

    def expires_at(self) -> datetime | None:
        return None if self.resolved else self.current.expires_at

    def status(self) -> EscalationStatus:
        current = self.current
        return EscalationStatus(
            escalation_ref=self.escalation_ref,
            partnership=self.settings.code,
            partnership_name=self.settings.name,
            stage=current.stage,
            stage_name=current.name,
            formal=current.formal,
            who=current.who,
            due_on=current.due_on,
            raised_with=self.disagreement.raised_with,
            raised_by=self.disagreement.raised_by,
            linked_case_ref=self.disagreement.linked_case_ref,
            partnership_notified=self.partnership_notified_at is not None,
            overseen_by=self.settings.review_group,
            resolved=self.resolved,
            resolution=self.resolution,
            stages=self.stages,
            history=self.history,
        )

    def operator_details(self) -> str:
        current = self.current
        state = "resolved" if self.resolved else f"due {current.due_on or 'no time limit'}"
        return (
            f"**Escalation stage {current.stage}:** {current.name} "
            f"({'formal' if current.formal else 'informal'})  \n"
            f"**With:** {current.who}  \n**State:** {state}  \n"
            f"**Partnership:** {self.settings.name}"
        )

    # ------------------------------------------------------------------ changes

    def set_plan(self, plan: DeadlinePlan) -> None:
        """The stage's time limit, computed on the working calendar by an activity."""
        self.current.due_on = plan.due_on
        self.current.expires_at = plan.escalate_at
        self._log(
            self.current.entered_at, f"Stage {self.current.stage} to resolve by {plan.due_on}"
        )

    def check(self, decision: EscalationDecision) -> None:
        earlier = self.applied.get(decision.decision_id)
        if earlier == decision.action:
            return
        if earlier is not None:
            raise DecisionRefused(
                "conflict",
                f"decision id {decision.decision_id!r} was already used to {earlier} this "
                f"escalation; use a new id",
            )
        if self.resolved:
            raise DecisionRefused("wrong_stage", "the escalation is already resolved")
        if isinstance(decision, EscalateNow) and self.at_last_stage:
            raise DecisionRefused(
                "wrong_stage",
                f"stage {self.current.stage} ({self.current.name}) is the policy's last stage",
            )

    def apply(
        self, decision: EscalationDecision, now: datetime
    ) -> tuple[DeadlineRequest | None, list[Notice]]:
        self.applied[decision.decision_id] = decision.action
        if isinstance(decision, Resolve):
            self.current.left_at = now
            self.current.left_because = "resolved"
            self.resolved_at = now
            self.resolution = decision.outcome
            self.resolved_by = decision.by
            self._log(
                now,
                f"Resolved at stage {self.current.stage} by {decision.by.describe()}",
                by=decision.by,
                decision_id=decision.decision_id,
            )
            return None, []
        self._log(
            now,
            f"Escalated from stage {self.current.stage} by {decision.by.describe()}: "
            f"{decision.reason}",
            by=decision.by,
            decision_id=decision.decision_id,
        )
        return self._move_up(now, "escalated")

    def time_out(self, now: datetime) -> tuple[DeadlineRequest | None, list[Notice]]:
        """The stage's time ran out unresolved: move up a stage."""
        self._log(now, f"Stage {self.current.stage} not resolved by {self.current.due_on}")
        return self._move_up(now, "timed_out")

    def _move_up(
        self, now: datetime, because: Literal["timed_out", "escalated"]
    ) -> tuple[DeadlineRequest | None, list[Notice]]:
        self.current.left_at = now
        self.current.left_because = because
        return self._enter(self.current.stage + 1, now)

    def _enter(
        self, number: int, now: datetime, since: date | None = None
    ) -> tuple[DeadlineRequest | None, list[Notice]]:
        policy = self.settings.escalation_policy
        stage = self._policy_stage(number)
        self.stages.append(
            StageRecord(
                stage=stage.stage,
                name=stage.name,
                who=stage.who,
                formal=stage.formal,
                entered_at=now,
            )
        )
        self._log(now, f"Stage {stage.stage}: {stage.name} ({stage.who})")
        notices = [
            self._notice(
                DeadlineId.escalation_stage(stage.stage),
                stage.who,
                f"[{self.escalation_ref}] Professional disagreement at stage {stage.stage}: "
                f"{stage.name}",
            )
        ]
        if (
            number >= policy.partnership_notified_from_stage
            and self.partnership_notified_at is None
        ):
            self.partnership_notified_at = now
            audience = f"{self.settings.business_manager}; {self.settings.review_group}"
            notices.append(
                self._notice(
                    "partnership",
                    audience,
                    f"[{self.escalation_ref}] Escalation reached stage {stage.stage}: "
                    f"{self.settings.name} tracks it",
                )
            )
            self._log(now, f"Partnership notified ({audience})")
        request = None
        if stage.working_days is not None:
            request = DeadlineRequest(
                deadline_id=DeadlineId.escalation_stage(stage.stage),
                kind=DeadlineKind.ESCALATION_STAGE,
                title=f"Escalation stage {stage.stage}: {stage.name}",
                owner=stage.who,
                rule=WorkingDaysAfter(start=since or uk_today(now), days=stage.working_days),
            )
        return request, notices

    def _notice(self, suffix: str, audience: str, subject: str) -> Notice:
        current = self.current
        return Notice(
            notice_id=f"{self.escalation_ref}:{suffix}",
            case_ref=self.escalation_ref,
            partnership=self.settings.code,
            kind="escalation",
            audience=audience,
            subject=subject,
            body=(
                f"Professional disagreement {self.escalation_ref} ({self.settings.name}) with "
                f"{self.disagreement.raised_with.label} is at stage {current.stage}: "
                f"{current.name}, to be resolved by {current.who}."
                + (
                    f" It concerns case {self.disagreement.linked_case_ref}."
                    if self.disagreement.linked_case_ref
                    else ""
                )
            ),
        )

    def note(self, now: datetime, text: str) -> None:
        """Record something the system did (not a decision) in the history."""
        self._log(now, text)

    def _log(
        self,
        now: datetime,
        text: str,
        *,
        by: Person | None = None,
        decision_id: str | None = None,
    ) -> None:
        self.history.append(EscalationEvent(at=now, text=text, by=by, decision_id=decision_id))


__all__ = [
    "ESCALATION_REF_PATTERN",
    "MAX_DECISION_BYTES",
    "Disagreement",
    "EscalateNow",
    "Escalation",
    "EscalationDecision",
    "EscalationStatus",
    "Resolve",
    "parse_escalation_decision",
]
