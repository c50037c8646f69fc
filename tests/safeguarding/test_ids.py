"""safeguarding/ids.py: references and deadline ids keep the shapes stored in histories, the
register and people's notes."""

from __future__ import annotations

import pytest

from safeguarding.ids import CaseRef, DeadlineId, EscalationRef, InvalidReference
from safeguarding.vocabulary import Agency, DecisionKind


def test_a_new_case_ref_has_the_shape_and_parses_back() -> None:
    ref = CaseRef.new("LSCP", 2026)
    assert CaseRef.is_valid(ref) and ref.startswith("LSCP-2026-") and len(ref) == 16
    assert CaseRef.parse(f"  {ref.lower()} ") == ref
    assert CaseRef.partnership(ref) == "LSCP"
    assert CaseRef.new("LSCP", 2026) != ref  # random, not a count
    assert CaseRef.PATTERN == r"^[A-Z][A-Z0-9_]*-[0-9]{4}-[0-9A-F]{6}$"


@pytest.mark.parametrize("text", ["", "LSCP-26-1A2B3C", "LSCP-2026-1A2B3", "lscp 2026 1a2b3c"])
def test_not_a_case_ref(text: str) -> None:
    with pytest.raises(InvalidReference, match="is not a case reference"):
        CaseRef.parse(text)


def test_escalation_refs() -> None:
    ref = EscalationRef.new("CSCP", 2026)
    assert ref.startswith("CSCP-ESC-2026-") and EscalationRef.parse(ref.lower()) == ref
    assert EscalationRef.belongs_to(ref, "CSCP") and not EscalationRef.belongs_to(ref, "CS")
    assert not CaseRef.is_valid(ref) and not EscalationRef.is_valid(CaseRef.new("CSCP", 2026))
    with pytest.raises(InvalidReference, match="is not an escalation reference"):
        EscalationRef.parse("CSCP-2026-1A2B3C")


def test_deadline_ids_keep_their_stored_shapes() -> None:
    assert DeadlineId.information(Agency.POLICE) == "information-police"
    assert DeadlineId.information_agency("information-health") == "health"
    assert DeadlineId.information_agency("action-A1") is None
    assert DeadlineId.action("A1") == "action-A1"
    assert DeadlineId.action_of("action-A1") == "A1"
    assert DeadlineId.action_of("information-police") is None
    assert DeadlineId.meeting(DecisionKind.CASE_CLOSED) == "meeting-case_closed"
    assert DeadlineId.meeting(DecisionKind.CASE_CLOSED, 2) == "meeting-case_closed-2"
    assert DeadlineId.escalation_stage(3) == "stage-3"
    fixed = (
        DeadlineId.TRIAGE,
        DeadlineId.NOTIFICATION,
        DeadlineId.RAPID_REVIEW,
        DeadlineId.CSPR_PUBLICATION,
        DeadlineId.CSPR_FINAL_REPORT,
    )
    assert fixed == (
        "triage",
        "notification",
        "rapid-review",
        "cspr-publication",
        "cspr-final-report",
    )


@pytest.mark.parametrize("kind", list(DecisionKind))
@pytest.mark.parametrize("visit", [1, 2, 11])
def test_a_meeting_id_reads_back_as_its_decision(kind: DecisionKind, visit: int) -> None:
    assert DeadlineId.meeting_kind(DeadlineId.meeting(kind, visit)) is kind
