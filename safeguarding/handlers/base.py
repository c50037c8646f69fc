"""What a decision handler is: one kind of decision's checks and its record, side by side."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from safeguarding.case_file import CaseFile
from safeguarding.case_records import Effects
from safeguarding.decisions import DecisionBase
from safeguarding.vocabulary import DecisionKind

D = TypeVar("D", bound=DecisionBase)


class DecisionHandler(Generic[D]):
    """One kind of decision. By the time a handler is asked, the machine has allowed the
    decision at the case's stage and the case has checked who made it and when; the handler
    checks what only its kind knows, then records what it changes. Every hook does nothing
    unless a kind needs it."""

    def offered(self, case: CaseFile, decision: D) -> None:
        """Refuse (`not_offered`) an option the partnership's profile does not offer. Runs
        before the meeting's quorum is checked."""

    def check(self, case: CaseFile, decision: D, today: date) -> None:
        """Refuse (`DecisionRefused`) what the case cannot take now. Changes nothing."""

    def record(
        self, case: CaseFile, decision: D, day: date, now: datetime, effects: Effects
    ) -> None:
        """Record the decision, taken on `day` (after `check` passed); deadlines to plan and
        notices to send go in `effects`."""


#: Handlers by the kind of decision they take.
Handlers = dict[DecisionKind, DecisionHandler[Any]]
