"""Issue #13 item 4: after a care leaver's death is notified (to the Secretary of State and
Ofsted), the partnership decides the next step, with its date and reason: no further action, a
local review, or a referral to the Safeguarding Adults Board for a Safeguarding Adults Review.
Croydon: the notification "does not automatically trigger a Rapid Review and may require
liaison with the Croydon Adult Safeguarding Board (CSAB)". First-edition cases still close on
the notification (safeguarding/machine.py).
"""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import CaseFile
from safeguarding.case_records import CareLeaverStepRecord, Effects, HistoryKind
from safeguarding.decisions import CareLeaverNextStepDecided
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.vocabulary import CareLeaverNextStep, DecisionKind, OtherReviewType


class NextStep(DecisionHandler[CareLeaverNextStepDecided]):
    def record(
        self,
        case: CaseFile,
        decision: CareLeaverNextStepDecided,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        case.care_leaver_step = CareLeaverStepRecord(
            next_step=decision.next_step, decided_on=day, reason=decision.reason
        )
        if decision.next_step is CareLeaverNextStep.LOCAL_REVIEW:
            case.other_review_type = OtherReviewType.LOCAL_CASE_REVIEW
        if decision.next_step is CareLeaverNextStep.SAFEGUARDING_ADULTS_REVIEW:
            board = case.settings.safeguarding_adults_board
            case.log(
                now,
                HistoryKind.NOTICE,
                f"Referred to the {board} for a Safeguarding Adults Review on {day}",
            )


HANDLERS: Handlers = {DecisionKind.CARE_LEAVER_NEXT_STEP: NextStep()}
