"""Issue 13, item 11: the learning loop. Learning from a Rapid Review, a Local CSPR, a Case of
Concern or another review becomes learning outputs (a 7-minute briefing, training, a newsletter
item, an audit) owned by the partnership's learning group, each due by a date with the usual
reminder and escalations, tracked to dissemination and then to its re-audit (impact on
practice). Where the profile says so (`learning_before_closure`), the case cannot close until
every output is disseminated (the machine's guard, `CaseFile.learning_done_for_closure`)."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import CaseFile
from safeguarding.case_records import DecisionRefused, Effects, LearningOutputRecord
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, OnDate
from safeguarding.decisions import LearningDisseminated, LearningImpactRecorded, LearningPlanned
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.ids import DeadlineId
from safeguarding.vocabulary import DecisionKind, LearningSource, LearningStatus, Route

#: The review a case's learning comes from, by its route, when the decision does not say.
SOURCE_OF_ROUTE: dict[Route, LearningSource] = {
    Route.LOCAL_CSPR: LearningSource.CSPR,
    Route.CASE_OF_CONCERN: LearningSource.CASE_OF_CONCERN,
    Route.OTHER_REVIEW: LearningSource.OTHER_REVIEW,
}


def _output(case: CaseFile, learning_id: str) -> LearningOutputRecord:
    output = case.learning.get(learning_id)
    if output is None:
        known = ", ".join(case.learning) or "none yet"
        raise DecisionRefused(
            "conflict", f"no learning output {learning_id!r}; learning outputs: {known}"
        )
    return output


class PlanLearning(DecisionHandler[LearningPlanned]):
    def check(self, case: CaseFile, decision: LearningPlanned, today: date) -> None:
        if decision.learning_id in case.learning:
            raise DecisionRefused(
                "conflict", f"learning output {decision.learning_id!r} already exists"
            )
        if decision.due_on < today:
            raise DecisionRefused("invalid", f"due_on {decision.due_on} is past")

    def record(
        self, case: CaseFile, decision: LearningPlanned, day: date, now: datetime, effects: Effects
    ) -> None:
        s = case.settings
        source = decision.source or SOURCE_OF_ROUTE.get(case.route, LearningSource.RAPID_REVIEW)
        case.learning[decision.learning_id] = LearningOutputRecord(
            learning_id=decision.learning_id,
            output=decision.output,
            title=decision.title,
            source=source,
            owner=s.learning_group,
            due_on=decision.due_on,
            planned_by=decision.by,
        )
        effects.deadline_requests.append(
            DeadlineRequest(
                deadline_id=DeadlineId.learning(decision.learning_id),
                kind=DeadlineKind.LEARNING,
                # No free text in a deadline's title: it is an email's subject.
                title=f"Learning output {decision.learning_id} disseminated "
                f"({decision.output.label})",
                owner=s.learning_group,
                rule=OnDate(due=decision.due_on),
            )
        )


class Disseminate(DecisionHandler[LearningDisseminated]):
    def check(self, case: CaseFile, decision: LearningDisseminated, today: date) -> None:
        output = _output(case, decision.learning_id)
        if output.disseminated:
            raise DecisionRefused(
                "conflict",
                f"learning output {decision.learning_id!r} was already disseminated on "
                f"{output.disseminated_on}",
            )
        if decision.reaudit_due_on is not None and decision.reaudit_due_on < today:
            raise DecisionRefused("invalid", f"reaudit_due_on {decision.reaudit_due_on} is past")

    def record(
        self,
        case: CaseFile,
        decision: LearningDisseminated,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        output = case.learning[decision.learning_id]
        output.status = LearningStatus.DISSEMINATED
        output.disseminated_on = day
        output.reach = decision.reach
        output.reaudit_due_on = decision.reaudit_due_on
        case.meet_deadline(DeadlineId.learning(decision.learning_id), day, now)
        if decision.reaudit_due_on is not None:
            effects.deadline_requests.append(
                DeadlineRequest(
                    deadline_id=DeadlineId.reaudit(decision.learning_id),
                    kind=DeadlineKind.LEARNING_IMPACT,
                    title=f"Re-audit of learning output {decision.learning_id}: impact recorded",
                    owner=case.settings.quality_assurance_group,
                    rule=OnDate(due=decision.reaudit_due_on),
                )
            )


class RecordImpact(DecisionHandler[LearningImpactRecorded]):
    def check(self, case: CaseFile, decision: LearningImpactRecorded, today: date) -> None:
        output = _output(case, decision.learning_id)
        if not output.disseminated:
            raise DecisionRefused(
                "conflict",
                f"learning output {decision.learning_id!r} has not been disseminated yet: "
                f"record learning_disseminated first",
            )
        if output.status is LearningStatus.IMPACT_RECORDED:
            raise DecisionRefused(
                "conflict",
                f"the impact of learning output {decision.learning_id!r} was already recorded "
                f"on {output.impact_on}",
            )

    def record(
        self,
        case: CaseFile,
        decision: LearningImpactRecorded,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        output = case.learning[decision.learning_id]
        output.status = LearningStatus.IMPACT_RECORDED
        output.impact = decision.impact
        output.impact_on = day
        case.meet_deadline(DeadlineId.reaudit(decision.learning_id), day, now)


HANDLERS: Handlers = {
    DecisionKind.LEARNING_PLANNED: PlanLearning(),
    DecisionKind.LEARNING_DISSEMINATED: Disseminate(),
    DecisionKind.LEARNING_IMPACT_RECORDED: RecordImpact(),
}
