"""Issue #13 item 9: the family's and the practitioners' involvement in a Local CSPR, as separate
milestones with their outcomes: the family told of the review, their views given or declined,
shown the report before publication; the practitioners involved, and given feedback on the
outcome (Croydon's SPRG members liaise with their professionals "to ensure feedback about the
purpose and outcomes of any review").

From the statutory edition, `involvement_completed` needs the family told and their views (or
their refusal) and the practitioners involved; publication needs the family to have been
offered the report (safeguarding/handlers/publication.py).
"""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import STATUTORY_EDITION, CaseFile
from safeguarding.case_records import DecisionRefused, Effects, InvolvementRecord
from safeguarding.decisions import InvolvementRecorded
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.vocabulary import DecisionKind, InvolvementMilestone

M = InvolvementMilestone

#: What `involvement_completed` needs recorded first (statutory edition).
BEFORE_INVOLVEMENT_COMPLETED = (M.FAMILY_TOLD, M.FAMILY_VIEWS, M.PRACTITIONERS_INVOLVED)
#: What publication needs recorded first (statutory edition).
BEFORE_PUBLICATION = (M.FAMILY_SHOWN_REPORT,)

TASKS: dict[InvolvementMilestone, str] = {
    M.FAMILY_TOLD: "Tell the family about the review",
    M.FAMILY_VIEWS: "Ask the family for their views (record them given or declined)",
    M.FAMILY_SHOWN_REPORT: "Offer to show the family the report before publication",
    M.PRACTITIONERS_INVOLVED: "Involve the practitioners in the review",
    M.PRACTITIONERS_FEEDBACK: "Give the practitioners feedback on the review's outcome",
}


def missing(case: CaseFile, needed: tuple[InvolvementMilestone, ...]) -> list[InvolvementMilestone]:
    """The milestones in `needed` not recorded yet (none before the statutory edition)."""
    if case.edition < STATUTORY_EDITION or case.cspr is None:
        return []
    return [m for m in needed if m not in case.cspr.involvement]


def require(case: CaseFile, needed: tuple[InvolvementMilestone, ...], before: str) -> None:
    """Refuse (`conflict`) unless the milestones are recorded (statutory edition)."""
    absent = missing(case, needed)
    if absent:
        raise DecisionRefused(
            "conflict",
            f"record the involvement first ({before}): "
            + ", ".join(m.value for m in absent)
            + " (involvement_recorded)",
        )


class Recorded(DecisionHandler[InvolvementRecorded]):
    def record(
        self,
        case: CaseFile,
        decision: InvolvementRecorded,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        assert case.cspr is not None  # the machine's guard: a Local CSPR is held
        case.cspr.involvement[decision.milestone] = InvolvementRecord(
            on=day, outcome=decision.result
        )


HANDLERS: Handlers = {DecisionKind.INVOLVEMENT_RECORDED: Recorded()}
