"""A Case of Concern: a short focused review when the criteria for a notification are not met
but multi-agency learning is wanted; its outcome is shared with the review and learning groups."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import CaseFile
from safeguarding.case_records import CaseOfConcernRecord, Effects
from safeguarding.decisions import ApproachChosen, OutcomeShared
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.vocabulary import DecisionKind


class Approach(DecisionHandler[ApproachChosen]):
    def record(
        self, case: CaseFile, decision: ApproachChosen, day: date, now: datetime, effects: Effects
    ) -> None:
        case.case_of_concern = CaseOfConcernRecord(
            approach=decision.approach, agencies=decision.agencies
        )


class Outcome(DecisionHandler[OutcomeShared]):
    def record(
        self, case: CaseFile, decision: OutcomeShared, day: date, now: datetime, effects: Effects
    ) -> None:
        s = case.settings
        concern = case.case_of_concern or CaseOfConcernRecord()
        concern.outcome_summary = decision.summary
        concern.shared_with = [s.review_group, s.learning_group]
        case.case_of_concern = concern


HANDLERS: Handlers = {
    DecisionKind.APPROACH_CHOSEN: Approach(),
    DecisionKind.OUTCOME_SHARED: Outcome(),
}
