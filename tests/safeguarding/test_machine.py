"""The state machine: routes, refusals, reachability and the diagram, all from `TRANSITIONS`."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

import pytest

from safeguarding import machine
from safeguarding.decisions import Decision
from safeguarding.machine import (
    CSPR_MILESTONES,
    CSPR_STAGES,
    FINAL_STAGE,
    INITIAL_STAGE,
    LEARNING_DECISIONS,
    TRANSITIONS,
    Fact,
    Guard,
    TransitionRefused,
    automatic_transition,
    decisions_allowed,
    mermaid,
    resolve,
)
from safeguarding.vocabulary import DecisionKind, Stage
from tests.factories import CHAIR, decision, sample_fields

S, D = Stage, DecisionKind
CHILD = frozenset({Fact.NOT_CARE_LEAVER})
CARE_LEAVER = frozenset({Fact.CARE_LEAVER, Fact.FIRST_EDITION})
DONE = frozenset(
    {
        Fact.NOT_CARE_LEAVER,
        Fact.ALL_ACTIONS_FINISHED,
        Fact.NO_CONTRIBUTION_OUTSTANDING,
        Fact.LEARNING_DISSEMINATED,
    }
)


def sample(kind: DecisionKind, **overrides: Any) -> Decision:
    fields = {**sample_fields(kind), **overrides}
    return decision(kind.value, CHAIR, **fields)


def walk(
    steps: list[tuple[DecisionKind, dict[str, Any]]], facts: frozenset[Fact] = CHILD
) -> list[Stage]:
    """Follow the automatic transition from the initial stage, then each decision in turn."""
    auto = automatic_transition(INITIAL_STAGE)
    assert auto is not None
    stage = auto.target
    visited = [INITIAL_STAGE, stage]
    for kind, overrides in steps:
        stage = resolve(stage, kind, sample(kind, **overrides), facts).target
        visited.append(stage)
    return visited


def graph() -> dict[Stage, set[Stage]]:
    edges: dict[Stage, set[Stage]] = {stage: set() for stage in Stage}
    for t in TRANSITIONS:
        edges[t.source].add(t.target)
    return edges


def reachable(start: Stage, edges: dict[Stage, set[Stage]]) -> set[Stage]:
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


# ------------------------------------------------------------------ shape of the machine


def test_every_stage_is_reachable_from_referral_received() -> None:
    assert reachable(S.REFERRAL_RECEIVED, graph()) == set(Stage)


@pytest.mark.parametrize("stage", list(Stage))
def test_closed_is_reachable_from_every_stage(stage: Stage) -> None:
    assert S.CLOSED in reachable(stage, graph())


def test_initial_and_final_stages() -> None:
    assert INITIAL_STAGE is S.REFERRAL_RECEIVED
    assert FINAL_STAGE is S.CLOSED
    assert machine.stages() == list(Stage)


def test_closed_has_no_way_out() -> None:
    assert [t for t in TRANSITIONS if t.source is S.CLOSED] == []
    assert decisions_allowed(S.CLOSED) == []


def test_only_referral_received_moves_automatically_to_triage() -> None:
    automatic = [t for t in TRANSITIONS if t.decision is None]
    assert [(t.source, t.target) for t in automatic] == [(S.REFERRAL_RECEIVED, S.TRIAGE)]
    assert automatic_transition(S.TRIAGE) is None
    assert decisions_allowed(S.REFERRAL_RECEIVED) == [D.DEADLINE_EXTENDED]


def test_cspr_milestones_form_one_chain_ending_at_publication() -> None:
    assert CSPR_MILESTONES[0][0] is S.CSPR_LEAD_REVIEWER
    for (_, _, target), (source, _, _) in itertools.pairwise(CSPR_MILESTONES):
        assert target is source
    assert CSPR_MILESTONES[-1][2] is S.CSPR_PUBLICATION
    assert CSPR_STAGES[-1] is S.CSPR_PUBLICATION
    assert len(CSPR_STAGES) == len(CSPR_MILESTONES) + 1


# ------------------------------------------------------------------ routes


def test_serious_incident_route_through_every_cspr_milestone_to_publication() -> None:
    stages = walk(
        [
            (D.TRIAGE, {}),
            (D.NOTIFICATION_SUBMITTED, {}),
            (D.INFORMATION_REQUESTED, {}),
            (D.INFORMATION_RETURNED, {}),
            (D.RAPID_REVIEW_DECISION, {}),
            (D.PANEL_RESPONSE, {}),
            (D.LEAD_REVIEWER_APPOINTED, {}),
            (D.TERMS_OF_REFERENCE_AGREED, {}),
            (D.AGENCY_INFORMATION_RECEIVED, {}),
            (D.INVOLVEMENT_COMPLETED, {}),
            (D.DRAFT_REPORT_RECEIVED, {}),
            (D.QUALITY_ASSURED, {}),
            (D.FINAL_REPORT_SENT, {}),
            (D.PUBLICATION_PLANNED, {}),
            (D.PUBLISHED, {}),
            (D.ACTION_ADDED, {}),
            (D.ACTION_UPDATED, {}),
        ]
    )
    assert stages == [
        S.REFERRAL_RECEIVED,
        S.TRIAGE,
        S.SERIOUS_INCIDENT_NOTIFICATION,
        S.RAPID_REVIEW,
        S.RAPID_REVIEW,
        S.RAPID_REVIEW,
        S.NATIONAL_PANEL_RESPONSE,
        S.CSPR_LEAD_REVIEWER,
        S.CSPR_TERMS_OF_REFERENCE,
        S.CSPR_AGENCY_INFORMATION,
        S.CSPR_INVOLVEMENT,
        S.CSPR_DRAFT_REPORT,
        S.CSPR_QUALITY_ASSURANCE,
        S.CSPR_FINAL_REPORT,
        S.CSPR_PUBLICATION,
        S.CSPR_PUBLICATION,
        S.ACTION_PLAN_MONITORING,
        S.ACTION_PLAN_MONITORING,
        S.ACTION_PLAN_MONITORING,
    ]
    closing = resolve(S.ACTION_PLAN_MONITORING, D.CASE_CLOSED, sample(D.CASE_CLOSED), DONE)
    assert closing.target is S.CLOSED


def test_not_published_also_leads_to_action_plan_monitoring() -> None:
    t = resolve(S.CSPR_PUBLICATION, D.NOT_PUBLISHED, sample(D.NOT_PUBLISHED), CHILD)
    assert t.target is S.ACTION_PLAN_MONITORING


@pytest.mark.parametrize("stage", CSPR_STAGES)
def test_publication_may_be_planned_in_every_cspr_stage_without_moving(stage: Stage) -> None:
    t = resolve(stage, D.PUBLICATION_PLANNED, sample(D.PUBLICATION_PLANNED), CHILD)
    assert t.source is stage
    assert t.target is stage


@pytest.mark.parametrize(("source", "kind", "target"), CSPR_MILESTONES)
def test_each_cspr_milestone_only_at_its_own_stage(
    source: Stage, kind: DecisionKind, target: Stage
) -> None:
    assert resolve(source, kind, sample(kind), CHILD).target is target
    for other in CSPR_STAGES:
        if other is not source:
            with pytest.raises(TransitionRefused) as refused:
                resolve(other, kind, sample(kind), CHILD)
            assert refused.value.reason == "wrong_stage"


def test_care_leaver_is_notified_then_closed_without_a_rapid_review() -> None:
    stages = walk([(D.TRIAGE, {}), (D.NOTIFICATION_SUBMITTED, {})], CARE_LEAVER)
    assert stages == [S.REFERRAL_RECEIVED, S.TRIAGE, S.SERIOUS_INCIDENT_NOTIFICATION, S.CLOSED]
    assert S.RAPID_REVIEW not in stages


def test_case_of_concern_route() -> None:
    stages = walk(
        [
            (D.TRIAGE, {"outcome": "case_of_concern"}),
            (D.APPROACH_CHOSEN, {}),
            (D.OUTCOME_SHARED, {}),
            (D.ACTION_ADDED, {}),
        ]
    )
    assert stages[2:] == [
        S.CASE_OF_CONCERN,
        S.CASE_OF_CONCERN_REVIEW,
        S.ACTION_PLAN_MONITORING,
        S.ACTION_PLAN_MONITORING,
    ]


def test_other_review_route() -> None:
    stages = walk(
        [
            (D.TRIAGE, {"outcome": "other_review", "review_type": "multi_agency_audit"}),
            (D.OTHER_REVIEW_COMPLETED, {}),
        ]
    )
    assert stages[2:] == [S.OTHER_REVIEW, S.ACTION_PLAN_MONITORING]


def test_triage_no_further_action_closes_the_case() -> None:
    stages = walk([(D.TRIAGE, {"outcome": "no_further_action", "advice": "Single-agency advice"})])
    assert stages[-1] is S.CLOSED


def test_panel_response_no_further_review_goes_to_action_plan() -> None:
    t = resolve(
        S.NATIONAL_PANEL_RESPONSE,
        D.PANEL_RESPONSE,
        sample(D.PANEL_RESPONSE, outcome="no_further_review", panel_agrees=False),
        CHILD,
    )
    assert t.target is S.ACTION_PLAN_MONITORING


def test_panel_response_local_cspr_goes_to_lead_reviewer() -> None:
    t = resolve(S.NATIONAL_PANEL_RESPONSE, D.PANEL_RESPONSE, sample(D.PANEL_RESPONSE), CHILD)
    assert t.target is S.CSPR_LEAD_REVIEWER


@pytest.mark.parametrize(
    ("outcome", "extra", "target"),
    [
        ("serious_incident", {}, S.SERIOUS_INCIDENT_NOTIFICATION),
        ("case_of_concern", {}, S.CASE_OF_CONCERN),
        ("other_review", {"review_type": "local_case_review"}, S.OTHER_REVIEW),
        ("no_further_action", {"advice": "Advice given"}, S.CLOSED),
    ],
)
def test_triage_outcome_chooses_the_route(
    outcome: str, extra: dict[str, Any], target: Stage
) -> None:
    t = resolve(S.TRIAGE, D.TRIAGE, sample(D.TRIAGE, outcome=outcome, **extra), CHILD)
    assert t.target is target


# ------------------------------------------------------------------ refusals


def test_decision_at_the_wrong_stage_names_the_allowed_decisions() -> None:
    with pytest.raises(TransitionRefused) as refused:
        resolve(S.TRIAGE, D.NOTIFICATION_SUBMITTED, sample(D.NOTIFICATION_SUBMITTED), CHILD)
    assert refused.value.reason == "wrong_stage"
    message = str(refused.value)
    assert message == refused.value.message
    assert "notification_submitted" in message
    assert "'Triage'" in message
    assert "allowed here: triage, referral_quality_assured, deadline_extended" in message


def test_wrong_stage_in_rapid_review_lists_its_decisions() -> None:
    with pytest.raises(TransitionRefused) as refused:
        resolve(S.RAPID_REVIEW, D.PUBLISHED, sample(D.PUBLISHED), CHILD)
    assert refused.value.reason == "wrong_stage"
    assert (
        "allowed here: information_requested, information_returned, rapid_review_decision, "
        "la_notice_received, deadline_extended" in refused.value.message
    )


def test_nothing_is_allowed_once_closed() -> None:
    for kind in (D.DEADLINE_EXTENDED, D.ACTION_ADDED, D.TRIAGE):
        with pytest.raises(TransitionRefused) as refused:
            resolve(S.CLOSED, kind, sample(kind), DONE)
        assert refused.value.reason == "wrong_stage"
        assert "none (case closed)" in refused.value.message


def test_case_closed_with_unfinished_actions_fails_its_guard() -> None:
    with pytest.raises(TransitionRefused) as refused:
        resolve(S.ACTION_PLAN_MONITORING, D.CASE_CLOSED, sample(D.CASE_CLOSED), CHILD)
    assert refused.value.reason == "guard_failed"
    assert "case_closed" in refused.value.message
    assert Fact.ALL_ACTIONS_FINISHED.value in refused.value.message


def test_notification_without_the_age_fact_fails_its_guard_and_names_both_options() -> None:
    with pytest.raises(TransitionRefused) as refused:
        resolve(
            S.SERIOUS_INCIDENT_NOTIFICATION,
            D.NOTIFICATION_SUBMITTED,
            sample(D.NOTIFICATION_SUBMITTED),
            frozenset(),
        )
    assert refused.value.reason == "guard_failed"
    assert "child under 18 or care leaver (18-24)" in refused.value.message


def test_a_decision_field_guard_that_matches_nothing_fails() -> None:
    class Odd:
        outcome = "something_else"

    with pytest.raises(TransitionRefused) as refused:
        resolve(S.TRIAGE, D.TRIAGE, Odd(), CHILD)
    assert refused.value.reason == "guard_failed"
    assert "outcome = serious_incident or outcome = case_of_concern" in refused.value.message


@pytest.mark.parametrize("stage", [s for s in Stage if s is not S.CLOSED])
def test_deadline_extended_is_allowed_in_every_open_stage_and_stays_put(stage: Stage) -> None:
    assert D.DEADLINE_EXTENDED in decisions_allowed(stage)
    assert decisions_allowed(stage)[-1] is D.DEADLINE_EXTENDED
    t = resolve(stage, D.DEADLINE_EXTENDED, sample(D.DEADLINE_EXTENDED), frozenset())
    assert (t.source, t.decision, t.target) == (stage, D.DEADLINE_EXTENDED, stage)


def test_decisions_allowed_are_listed_once_in_declaration_order() -> None:
    assert decisions_allowed(S.TRIAGE) == [
        D.TRIAGE,
        D.REFERRAL_QUALITY_ASSURED,
        D.DEADLINE_EXTENDED,
    ]
    learning = [D.LEARNING_PLANNED, D.LEARNING_DISSEMINATED, D.LEARNING_IMPACT_RECORDED]
    assert decisions_allowed(S.CSPR_PUBLICATION) == [
        D.PUBLICATION_PLANNED,
        D.PUBLISHED,
        D.NOT_PUBLISHED,
        D.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED,
        D.NATIONAL_REVIEW_CONTRIBUTION_MADE,
        D.INVOLVEMENT_RECORDED,
        D.COMMUNICATIONS_NOTIFIED,
        D.ANONYMISATION_CHECKED,
        D.PARTNERS_RESPONSE_RECORDED,
        *learning,
        D.DEADLINE_EXTENDED,
    ]
    assert decisions_allowed(S.ACTION_PLAN_MONITORING) == [
        D.ACTION_ADDED,
        D.ACTION_UPDATED,
        D.CASE_CLOSED,
        D.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED,
        D.NATIONAL_REVIEW_CONTRIBUTION_MADE,
        D.INVOLVEMENT_RECORDED,
        D.PARTNERS_RESPONSE_RECORDED,
        *learning,
        D.DEADLINE_EXTENDED,
    ]


def test_every_decision_kind_is_allowed_somewhere() -> None:
    allowed = {kind for stage in Stage for kind in decisions_allowed(stage)}
    assert allowed == set(DecisionKind)


# ------------------------------------------------------------------ guards and labels


def test_guard_on_a_field_and_on_a_fact() -> None:
    class Dec:
        outcome = "local_cspr"

    assert Guard(field="outcome", value="local_cspr").holds(Dec(), frozenset())
    assert not Guard(field="outcome", value="no_further_review").holds(Dec(), frozenset())
    assert not Guard(field="missing", value="x").holds(Dec(), frozenset())
    assert Guard(fact=Fact.CARE_LEAVER).holds(Dec(), CARE_LEAVER)
    assert not Guard(fact=Fact.CARE_LEAVER).holds(Dec(), CHILD)
    assert Guard(field="outcome", value="x").describe() == "outcome = x"
    assert Guard(fact=Fact.CARE_LEAVER).describe() == "care leaver (18-24)"


def test_transition_labels() -> None:
    labels = {t.label() for t in TRANSITIONS}
    assert "automatic" in labels
    assert "triage [outcome = serious_incident]" in labels
    assert "notification_submitted [care leaver (18-24), opened under the first rules]" in labels
    assert (
        "case_closed [every action complete or closed by the review group, "
        "no contribution to a national review outstanding, every learning output "
        "disseminated (where the profile requires it)]"
    ) in labels
    assert "published" in labels


def test_mermaid_draws_every_stage_and_every_transition() -> None:
    diagram = mermaid()
    lines = diagram.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert diagram.endswith("\n")
    for stage in Stage:
        assert f'    state "{stage.label}" as {stage.value}' in lines
    drawn = [t for t in TRANSITIONS if t.decision not in LEARNING_DECISIONS]
    for t in drawn:
        assert f"    {t.source.value} --> {t.target.value} : {t.label()}" in lines
    assert f"    [*] --> {INITIAL_STAGE.value}" in lines
    assert f"    {FINAL_STAGE.value} --> [*]" in lines
    assert "In every stage but closed: deadline_extended" in diagram
    # The learning loop is a note, not a loop drawn on each of its stages (issue 13, item 11).
    assert "learning_planned, learning_disseminated, learning_impact_recorded" in diagram
    transition_lines = [line for line in lines if " : " in line]
    assert len(transition_lines) == len(drawn)


def test_sample_decisions_cover_every_kind() -> None:
    # Keeps the samples above honest: every kind parses, and with the right kind.
    for kind in DecisionKind:
        assert sample(kind).kind is kind
