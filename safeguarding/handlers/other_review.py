"""Another kind of review (an audit, a local case review, a serious offence or good outcome
review): the review group records its findings."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import CaseFile
from safeguarding.case_records import Effects
from safeguarding.decisions import OtherReviewCompleted
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.vocabulary import DecisionKind


class Completed(DecisionHandler[OtherReviewCompleted]):
    def record(
        self,
        case: CaseFile,
        decision: OtherReviewCompleted,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        case.other_review_findings = decision.findings


HANDLERS: Handlers = {DecisionKind.OTHER_REVIEW_COMPLETED: Completed()}
