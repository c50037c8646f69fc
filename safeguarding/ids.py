"""References and identifiers: how a case, an escalation and a deadline are named.

One place for the conventions, so every module builds and reads them the same way. The strings
are stored in workflow histories, the register and people's notes: they never change shape.
No personal data ever goes into one.
"""

from __future__ import annotations

import re
import secrets

from safeguarding.vocabulary import Agency, DecisionKind


class InvalidReference(ValueError):
    """Text that is not a reference of the kind asked for."""


def _random_suffix() -> str:
    # Six hex digits: unguessable enough that a reference says nothing about the case.
    return secrets.token_hex(3).upper()


class CaseRef:
    """A case reference: partnership code, year, six random hex digits (LSCP-2026-1A2B3C)."""

    PATTERN = r"^[A-Z][A-Z0-9_]*-[0-9]{4}-[0-9A-F]{6}$"
    _MATCH = re.compile(PATTERN)

    @classmethod
    def new(cls, partnership: str, year: int) -> str:
        case_ref = f"{partnership}-{year:04d}-{_random_suffix()}"
        assert cls._MATCH.match(case_ref), case_ref
        return case_ref

    @classmethod
    def is_valid(cls, text: str) -> bool:
        return cls._MATCH.match(text) is not None

    @classmethod
    def parse(cls, text: str) -> str:
        """`text` as a case reference (spaces trimmed, capitals), or `InvalidReference`."""
        case_ref = text.strip().upper()
        if not cls.is_valid(case_ref):
            raise InvalidReference(f"{text[:40]!r} is not a case reference (like LSCP-2026-1A2B3C)")
        return case_ref

    @staticmethod
    def partnership(case_ref: str) -> str:
        """The partnership code a reference starts with."""
        return case_ref.split("-")[0]


class EscalationRef:
    """A professional-disagreement escalation: partnership, ESC, year, six random hex digits."""

    PATTERN = r"^[A-Z][A-Z0-9_]*-ESC-[0-9]{4}-[0-9A-F]{6}$"
    _MATCH = re.compile(PATTERN)

    @classmethod
    def new(cls, partnership: str, year: int) -> str:
        ref = f"{partnership}-ESC-{year:04d}-{_random_suffix()}"
        assert cls._MATCH.match(ref), ref
        return ref

    @classmethod
    def is_valid(cls, text: str) -> bool:
        return cls._MATCH.match(text) is not None

    @classmethod
    def parse(cls, text: str) -> str:
        ref = text.strip().upper()
        if not cls.is_valid(ref):
            raise InvalidReference(
                f"{text[:40]!r} is not an escalation reference (like CSCP-ESC-2026-1A2B3C)"
            )
        return ref

    @staticmethod
    def belongs_to(escalation_ref: str, partnership: str) -> bool:
        return escalation_ref.startswith(f"{partnership}-")


class DeadlineId:
    """A deadline's id within its case: fixed for the statutory steps, built from what it is
    about for the rest ("information-police", "action-A1", "meeting-case_closed-2")."""

    TRIAGE = "triage"
    NOTIFICATION = "notification"
    RAPID_REVIEW = "rapid-review"
    CSPR_PUBLICATION = "cspr-publication"
    CSPR_FINAL_REPORT = "cspr-final-report"
    #: Issue #13 item 6: the National Panel's response to the Rapid Review (chased when late).
    PANEL_RESPONSE = "panel-response"
    LA_NOTICE = "la-notice"

    _INFORMATION = "information-"
    _ACTION = "action-"
    _MEETING = "meeting-"
    _PANEL_INFORMATION = "panel-information-"
    _NATIONAL_REVIEW = "national-review-"

    @classmethod
    def information(cls, agency: Agency) -> str:
        """An agency's rapid-review information return."""
        return f"{cls._INFORMATION}{agency.value}"

    @classmethod
    def information_agency(cls, deadline_id: str) -> str | None:
        """The agency value an information deadline is owed by (None: not one)."""
        if deadline_id.startswith(cls._INFORMATION):
            return deadline_id.removeprefix(cls._INFORMATION)
        return None

    @classmethod
    def action(cls, action_id: str) -> str:
        """An action-plan action's due date."""
        return f"{cls._ACTION}{action_id}"

    @classmethod
    def action_of(cls, deadline_id: str) -> str | None:
        """The action id of an action deadline (None: not one)."""
        if deadline_id.startswith(cls._ACTION):
            return deadline_id.removeprefix(cls._ACTION)
        return None

    @staticmethod
    def escalation_stage(stage: int) -> str:
        """An escalation's stage time limit (a deadline of the escalation, not of a case)."""
        return f"stage-{stage}"

    @classmethod
    def meeting(cls, kind: DecisionKind, visit: int = 1) -> str:
        """A decision due at a review-group meeting; the first visit has no number."""
        base = f"{cls._MEETING}{kind.value}"
        return base if visit == 1 else f"{base}-{visit}"

    # Issue 13, item 11: learning outputs ("learning-B1") and their re-audits ("reaudit-B1").
    _LEARNING = "learning-"
    _REAUDIT = "reaudit-"

    @classmethod
    def learning(cls, learning_id: str) -> str:
        """A learning output disseminated by its due date."""
        return f"{cls._LEARNING}{learning_id}"

    @classmethod
    def reaudit(cls, learning_id: str) -> str:
        """A learning output's re-audit (its impact on practice recorded)."""
        return f"{cls._REAUDIT}{learning_id}"

    @classmethod
    def meeting_kind(cls, deadline_id: str) -> DecisionKind:
        """The decision a meeting deadline waits for (ids: meeting-<kind>[-<visit>])."""
        name = deadline_id.removeprefix(cls._MEETING)
        base, _, visit = name.rpartition("-")
        return DecisionKind(base if visit.isdigit() and base else name)

    # Issue #13 item 6.

    @classmethod
    def panel_information(cls, request_id: str) -> str:
        """Further information the National Panel asked for."""
        return f"{cls._PANEL_INFORMATION}{request_id}"

    @classmethod
    def national_review_contribution(cls, contribution_id: str) -> str:
        """The partnership's contribution to a national review the Panel commissioned."""
        return f"{cls._NATIONAL_REVIEW}{contribution_id}"
