"""What entering a stage does, as data beside the machine's transitions (safeguarding/machine.py).

Each stage lists the deadlines it opens (built by its route's module in safeguarding/handlers/,
from the case and the day it was entered; an opener may return None where the partnership's
profile says the deadline is counted elsewhere), the work it then waits on when that work has no
deadline of its own, and whether it closes the case. Every stage is listed, so a new stage is
a line here as well as its transitions (tests/safeguarding/test_handlers.py checks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from safeguarding.case_file import CaseFile
from safeguarding.deadlines import DeadlineRequest
from safeguarding.handlers.cspr import publication_deadline
from safeguarding.handlers.notification import la_notice_deadline, notification_deadline
from safeguarding.handlers.rapid_review import (
    rapid_review_from_awareness,
    rapid_review_from_notification,
    rapid_review_of_serious_concern,
)
from safeguarding.handlers.triage import triage_deadline
from safeguarding.vocabulary import Stage

#: Builds the deadline a stage opens, from the case and the day it entered the stage.
DeadlineOpener = Callable[[CaseFile, date], DeadlineRequest | None]
#: Who owes a stage's work (named from the partnership's settings when shown).
Owner = Literal["coordinator", "business_manager", "review_group", "lead_reviewer"]


@dataclass(frozen=True)
class StageTask:
    task: str
    owed_by: Owner


@dataclass(frozen=True)
class OnEntry:
    opens: tuple[DeadlineOpener, ...] = ()
    #: Work the stage waits on, for stages whose work has no deadline of its own.
    waits_for: StageTask | None = None
    #: Entering it closes the case: every deadline still open is withdrawn.
    closes_case: bool = False


S = Stage
ON_ENTRY: dict[Stage, OnEntry] = {
    S.REFERRAL_RECEIVED: OnEntry(),
    S.TRIAGE: OnEntry(opens=(triage_deadline,)),
    S.SERIOUS_INCIDENT_NOTIFICATION: OnEntry(
        opens=(notification_deadline, rapid_review_from_awareness, la_notice_deadline)
    ),
    S.RAPID_REVIEW: OnEntry(
        opens=(rapid_review_from_notification, rapid_review_of_serious_concern)
    ),
    S.NATIONAL_PANEL_RESPONSE: OnEntry(
        waits_for=StageTask("Record the National Panel's response", "coordinator")
    ),
    S.CSPR_LEAD_REVIEWER: OnEntry(
        opens=(publication_deadline,),
        waits_for=StageTask("Appoint the lead reviewer", "business_manager"),
    ),
    S.CSPR_TERMS_OF_REFERENCE: OnEntry(
        waits_for=StageTask("Agree the terms of reference", "review_group")
    ),
    S.CSPR_AGENCY_INFORMATION: OnEntry(
        waits_for=StageTask("Gather agency information", "lead_reviewer")
    ),
    S.CSPR_INVOLVEMENT: OnEntry(
        waits_for=StageTask("Involve practitioners and family", "lead_reviewer")
    ),
    S.CSPR_DRAFT_REPORT: OnEntry(waits_for=StageTask("Deliver the draft report", "lead_reviewer")),
    S.CSPR_QUALITY_ASSURANCE: OnEntry(
        waits_for=StageTask("Quality-assure the draft report", "review_group")
    ),
    S.CSPR_FINAL_REPORT: OnEntry(
        waits_for=StageTask(
            "Send the final report to the National Panel and the Secretary of State",
            "business_manager",
        )
    ),
    S.CSPR_PUBLICATION: OnEntry(
        waits_for=StageTask("Publish, or record why not", "business_manager")
    ),
    S.CASE_OF_CONCERN: OnEntry(
        waits_for=StageTask("Choose the approach and the agencies involved", "review_group")
    ),
    S.CASE_OF_CONCERN_REVIEW: OnEntry(
        waits_for=StageTask(
            "Share the outcome with the review group and the learning group", "business_manager"
        )
    ),
    S.OTHER_REVIEW: OnEntry(
        waits_for=StageTask("Complete the review and record its findings", "review_group")
    ),
    S.ACTION_PLAN_MONITORING: OnEntry(),
    S.CLOSED: OnEntry(closes_case=True),
    # Issue #13 item 4.
    S.CARE_LEAVER_NEXT_STEP: OnEntry(
        waits_for=StageTask(
            "Decide the next step: no further action, a local review, or a referral to the "
            "Safeguarding Adults Board for a Safeguarding Adults Review",
            "review_group",
        )
    ),
}
