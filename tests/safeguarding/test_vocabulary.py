"""The shared words: every stage and agency has a label, and what counts as finished."""

from __future__ import annotations

from safeguarding.vocabulary import (
    AGENCY_LABELS,
    STAGE_LABELS,
    ActionStatus,
    Agency,
    DecisionKind,
    Stage,
)


def test_every_stage_and_agency_has_a_distinct_label() -> None:
    assert set(STAGE_LABELS) == set(Stage)
    assert set(AGENCY_LABELS) == set(Agency)
    assert len(set(STAGE_LABELS.values())) == len(Stage)
    assert len(set(AGENCY_LABELS.values())) == len(Agency)
    assert Stage.RAPID_REVIEW.label == "Rapid Review"
    assert Agency.HEALTH.label == "Health (ICB)"


def test_decision_kind_label_is_readable() -> None:
    assert DecisionKind.RAPID_REVIEW_DECISION.label == "rapid review decision"


def test_finished_action_statuses() -> None:
    assert {s for s in ActionStatus if s.finished} == {
        ActionStatus.COMPLETE,
        ActionStatus.CLOSED_BY_REVIEW_GROUP,
    }
