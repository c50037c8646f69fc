"""Decisions on any route: a deadline extended (with its reason and who agreed it), and the case
closed (the machine guards when)."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import CaseFile
from safeguarding.case_records import DecisionRefused, Effects
from safeguarding.deadlines import DeadlineRequest, Extension, OnDate
from safeguarding.decisions import CaseClosed, DeadlineExtended
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.ids import DeadlineId
from safeguarding.vocabulary import DecisionKind


class Extend(DecisionHandler[DeadlineExtended]):
    def check(self, case: CaseFile, decision: DeadlineExtended, today: date) -> None:
        deadline = case.deadlines.get(decision.deadline_id)
        if deadline is None or not deadline.open:
            open_ids = ", ".join(d for d, v in case.deadlines.items() if v.open) or "none"
            raise DecisionRefused(
                "conflict",
                f"no open deadline {decision.deadline_id!r}; open deadlines: {open_ids}",
            )
        if decision.new_due_on <= deadline.due_on:
            raise DecisionRefused(
                "invalid",
                f"new_due_on {decision.new_due_on} must be after the current due date "
                f"{deadline.due_on}",
            )

    def record(
        self,
        case: CaseFile,
        decision: DeadlineExtended,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        deadline = case.deadlines[decision.deadline_id]
        deadline.extensions.append(
            Extension(
                previous_due_on=deadline.due_on,
                new_due_on=decision.new_due_on,
                reason=decision.reason,
                agreed_with=decision.agreed_with,
                decided_by=decision.by.describe(),
                decision_id=decision.decision_id,
            )
        )
        action_id = DeadlineId.action_of(decision.deadline_id)
        if action_id is not None:  # an action's due date moves with its deadline
            case.actions[action_id].due_on = decision.new_due_on
        effects.deadline_requests.append(
            DeadlineRequest(
                deadline_id=deadline.deadline_id,
                kind=deadline.kind,
                title=deadline.title,
                owner=deadline.owner,
                statutory=deadline.statutory,
                rule=OnDate(due=decision.new_due_on),
            )
        )


class Close(DecisionHandler[CaseClosed]):
    """Closing is the machine's move to `closed`; entering it withdraws what is still open."""


HANDLERS: Handlers = {
    DecisionKind.DEADLINE_EXTENDED: Extend(),
    DecisionKind.CASE_CLOSED: Close(),
}
