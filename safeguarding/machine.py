"""The review process as a state machine, declared as data.

Each `Transition` says: at this stage, this decision (with these guards) moves the case to that
stage. The workflow asks `resolve()` which transition a decision takes; it never re-encodes the
routes. `mermaid()` draws the same data for the README.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from safeguarding.vocabulary import (
    CareLeaverNextStep,
    DecisionKind,
    ReviewOutcome,
    Stage,
    TriageOutcome,
)


class Fact(StrEnum):
    """Facts about a case that guard a transition."""

    CARE_LEAVER = "care leaver (18-24)"
    NOT_CARE_LEAVER = "child under 18"
    ALL_ACTIONS_FINISHED = "every action complete or closed by the review group"
    NOT_NOTIFIED = "not notified (a case of serious concern)"
    #: A case opened before the statutory-fidelity rules (`CaseFile.edition`): it keeps the
    #: transitions it opened with.
    FIRST_EDITION = "opened under the first rules"
    # Issue #13 items 4, 6, 9, 10.
    STATUTORY_EDITION = "opened under the statutory rules"
    LOCAL_CSPR = "a Local CSPR is held"
    NATIONAL_REVIEW = "the National Panel commissioned a national review"
    NO_CONTRIBUTION_OUTSTANDING = "no contribution to a national review outstanding"
    #: Issue 13, item 11 (`CaseFile.learning_done_for_closure`).
    LEARNING_DISSEMINATED = "every learning output disseminated (where the profile requires it)"


@dataclass(frozen=True)
class Guard:
    """A condition: a decision field equal to a value, or a fact about the case."""

    field: str | None = None
    value: str | None = None
    fact: Fact | None = None

    def holds(self, decision: Any, facts: frozenset[Fact]) -> bool:
        if self.fact is not None:
            return self.fact in facts
        return str(getattr(decision, self.field or "", None)) == self.value

    def describe(self) -> str:
        if self.fact is not None:
            return self.fact.value
        return f"{self.field} = {self.value}"


@dataclass(frozen=True)
class Transition:
    source: Stage
    decision: DecisionKind | None  # None: taken automatically when the source stage is entered
    target: Stage
    when: tuple[Guard, ...] = ()

    def label(self) -> str:
        name = self.decision.value if self.decision else "automatic"
        if self.when:
            name += " [" + ", ".join(g.describe() for g in self.when) + "]"
        return name


def _on(field: str, value: str) -> Guard:
    return Guard(field=field, value=value)


def _t(source: Stage, decision: DecisionKind | None, target: Stage, *when: Guard) -> Transition:
    return Transition(source, decision, target, tuple(when))


S, D = Stage, DecisionKind

CSPR_MILESTONES: tuple[tuple[Stage, DecisionKind, Stage], ...] = (
    (S.CSPR_LEAD_REVIEWER, D.LEAD_REVIEWER_APPOINTED, S.CSPR_TERMS_OF_REFERENCE),
    (S.CSPR_TERMS_OF_REFERENCE, D.TERMS_OF_REFERENCE_AGREED, S.CSPR_AGENCY_INFORMATION),
    (S.CSPR_AGENCY_INFORMATION, D.AGENCY_INFORMATION_RECEIVED, S.CSPR_INVOLVEMENT),
    (S.CSPR_INVOLVEMENT, D.INVOLVEMENT_COMPLETED, S.CSPR_DRAFT_REPORT),
    (S.CSPR_DRAFT_REPORT, D.DRAFT_REPORT_RECEIVED, S.CSPR_QUALITY_ASSURANCE),
    (S.CSPR_QUALITY_ASSURANCE, D.QUALITY_ASSURED, S.CSPR_FINAL_REPORT),
    (S.CSPR_FINAL_REPORT, D.FINAL_REPORT_SENT, S.CSPR_PUBLICATION),
)
CSPR_STAGES: tuple[Stage, ...] = (*tuple(m[0] for m in CSPR_MILESTONES), S.CSPR_PUBLICATION)

#: Decisions allowed at every stage but `closed`, without moving the case.
IN_ANY_OPEN_STAGE: frozenset[DecisionKind] = frozenset({D.DEADLINE_EXTENDED})

#: Issue 13, item 11: learning outputs are planned, disseminated and their impact recorded in
#: every stage from the review that found the learning (the Rapid Review's decision, the Local
#: CSPR, a Case of Concern or another review) until the case closes, without moving the case.
LEARNING_DECISIONS: tuple[DecisionKind, ...] = (
    D.LEARNING_PLANNED,
    D.LEARNING_DISSEMINATED,
    D.LEARNING_IMPACT_RECORDED,
)
LEARNING_STAGES: tuple[Stage, ...] = (
    S.NATIONAL_PANEL_RESPONSE,
    *CSPR_STAGES,
    S.CASE_OF_CONCERN_REVIEW,
    S.OTHER_REVIEW,
    S.ACTION_PLAN_MONITORING,
)

TRANSITIONS: tuple[Transition, ...] = (
    _t(S.REFERRAL_RECEIVED, None, S.TRIAGE),
    # Triage: the outcome chooses the route.
    _t(
        S.TRIAGE,
        D.TRIAGE,
        S.SERIOUS_INCIDENT_NOTIFICATION,
        _on("outcome", TriageOutcome.SERIOUS_INCIDENT),
    ),
    _t(S.TRIAGE, D.TRIAGE, S.CASE_OF_CONCERN, _on("outcome", TriageOutcome.CASE_OF_CONCERN)),
    _t(S.TRIAGE, D.TRIAGE, S.OTHER_REVIEW, _on("outcome", TriageOutcome.OTHER_REVIEW)),
    _t(S.TRIAGE, D.TRIAGE, S.CLOSED, _on("outcome", TriageOutcome.NO_FURTHER_ACTION)),
    # A case of serious concern goes to a Rapid Review without a notification (Liverpool).
    _t(S.TRIAGE, D.TRIAGE, S.RAPID_REVIEW, _on("outcome", TriageOutcome.RAPID_REVIEW)),
    # Where the profile asks, the referring agency's member quality-assures the referral first.
    _t(S.TRIAGE, D.REFERRAL_QUALITY_ASSURED, S.TRIAGE),
    # A care leaver's death is notified and tracked, but starts no rapid review.
    _t(
        S.SERIOUS_INCIDENT_NOTIFICATION,
        D.NOTIFICATION_SUBMITTED,
        S.RAPID_REVIEW,
        Guard(fact=Fact.NOT_CARE_LEAVER),
    ),
    _t(
        S.SERIOUS_INCIDENT_NOTIFICATION,
        D.NOTIFICATION_SUBMITTED,
        S.CLOSED,
        Guard(fact=Fact.CARE_LEAVER),
        Guard(fact=Fact.FIRST_EDITION),
    ),
    # Issue #13 item 4: the partnership then decides the next step for a care leaver.
    _t(
        S.SERIOUS_INCIDENT_NOTIFICATION,
        D.NOTIFICATION_SUBMITTED,
        S.CARE_LEAVER_NEXT_STEP,
        Guard(fact=Fact.CARE_LEAVER),
        Guard(fact=Fact.STATUTORY_EDITION),
    ),
    _t(
        S.CARE_LEAVER_NEXT_STEP,
        D.CARE_LEAVER_NEXT_STEP,
        S.CLOSED,
        _on("next_step", CareLeaverNextStep.NO_FURTHER_ACTION),
    ),
    _t(
        S.CARE_LEAVER_NEXT_STEP,
        D.CARE_LEAVER_NEXT_STEP,
        S.OTHER_REVIEW,
        _on("next_step", CareLeaverNextStep.LOCAL_REVIEW),
    ),
    _t(
        S.CARE_LEAVER_NEXT_STEP,
        D.CARE_LEAVER_NEXT_STEP,
        S.CLOSED,
        _on("next_step", CareLeaverNextStep.SAFEGUARDING_ADULTS_REVIEW),
    ),
    # Rapid review: information requests and returns, then the decision.
    _t(S.RAPID_REVIEW, D.INFORMATION_REQUESTED, S.RAPID_REVIEW),
    _t(S.RAPID_REVIEW, D.INFORMATION_RETURNED, S.RAPID_REVIEW),
    # Without a notification (a case of serious concern) there is no National Panel response to
    # wait for: the first transition whose guards hold is taken, so these come first.
    _t(
        S.RAPID_REVIEW,
        D.RAPID_REVIEW_DECISION,
        S.CSPR_LEAD_REVIEWER,
        Guard(fact=Fact.NOT_NOTIFIED),
        _on("recommendation", ReviewOutcome.LOCAL_CSPR),
    ),
    _t(
        S.RAPID_REVIEW,
        D.RAPID_REVIEW_DECISION,
        S.ACTION_PLAN_MONITORING,
        Guard(fact=Fact.NOT_NOTIFIED),
        _on("recommendation", ReviewOutcome.NO_FURTHER_REVIEW),
    ),
    _t(S.RAPID_REVIEW, D.RAPID_REVIEW_DECISION, S.NATIONAL_PANEL_RESPONSE),
    # Issue #13 item 6: the Rapid Review sent to the Panel, and the Panel's requests meanwhile.
    _t(S.NATIONAL_PANEL_RESPONSE, D.RAPID_REVIEW_SENT, S.NATIONAL_PANEL_RESPONSE),
    _t(S.NATIONAL_PANEL_RESPONSE, D.PANEL_INFORMATION_REQUESTED, S.NATIONAL_PANEL_RESPONSE),
    _t(S.NATIONAL_PANEL_RESPONSE, D.PANEL_INFORMATION_SENT, S.NATIONAL_PANEL_RESPONSE),
    # The local authority's own notice of the incident to the partnership, where tracked.
    *(
        _t(stage, D.LA_NOTICE_RECEIVED, stage)
        for stage in (
            S.SERIOUS_INCIDENT_NOTIFICATION,
            S.RAPID_REVIEW,
            S.NATIONAL_PANEL_RESPONSE,
        )
    ),
    _t(
        S.NATIONAL_PANEL_RESPONSE,
        D.PANEL_RESPONSE,
        S.CSPR_LEAD_REVIEWER,
        _on("outcome", ReviewOutcome.LOCAL_CSPR),
    ),
    _t(
        S.NATIONAL_PANEL_RESPONSE,
        D.PANEL_RESPONSE,
        S.ACTION_PLAN_MONITORING,
        _on("outcome", ReviewOutcome.NO_FURTHER_REVIEW),
    ),
    # Local CSPR milestones, in order; publication may be (re)planned until it happens.
    *(_t(source, decision, target) for source, decision, target in CSPR_MILESTONES),
    *(_t(stage, D.PUBLICATION_PLANNED, stage) for stage in CSPR_STAGES),
    _t(S.CSPR_PUBLICATION, D.PUBLISHED, S.ACTION_PLAN_MONITORING),
    _t(S.CSPR_PUBLICATION, D.NOT_PUBLISHED, S.ACTION_PLAN_MONITORING),
    # Case of concern.
    _t(S.CASE_OF_CONCERN, D.APPROACH_CHOSEN, S.CASE_OF_CONCERN_REVIEW),
    _t(S.CASE_OF_CONCERN_REVIEW, D.OUTCOME_SHARED, S.ACTION_PLAN_MONITORING),
    # Other reviews (audits, local case reviews, serious offence and good outcome reviews).
    _t(S.OTHER_REVIEW, D.OTHER_REVIEW_COMPLETED, S.ACTION_PLAN_MONITORING),
    # Action plan monitoring to closure.
    _t(S.ACTION_PLAN_MONITORING, D.ACTION_ADDED, S.ACTION_PLAN_MONITORING),
    _t(S.ACTION_PLAN_MONITORING, D.ACTION_UPDATED, S.ACTION_PLAN_MONITORING),
    _t(
        S.ACTION_PLAN_MONITORING,
        D.CASE_CLOSED,
        S.CLOSED,
        Guard(fact=Fact.ALL_ACTIONS_FINISHED),
        Guard(fact=Fact.NO_CONTRIBUTION_OUTSTANDING),
        Guard(fact=Fact.LEARNING_DISSEMINATED),
    ),
    # Issue #13 item 6: the partnership's contributions to a national review, while the case
    # goes on (a Local CSPR or its action plan).
    *(
        _t(stage, decision, stage, Guard(fact=Fact.NATIONAL_REVIEW))
        for stage in (*CSPR_STAGES, S.ACTION_PLAN_MONITORING)
        for decision in (
            D.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED,
            D.NATIONAL_REVIEW_CONTRIBUTION_MADE,
        )
    ),
    # Issue #13 items 9 and 10: involvement milestones through the review and after it; what
    # publication needs first; the partners' response to the findings.
    *(
        _t(stage, D.INVOLVEMENT_RECORDED, stage, Guard(fact=Fact.LOCAL_CSPR))
        for stage in (*CSPR_STAGES, S.ACTION_PLAN_MONITORING)
    ),
    *(
        _t(stage, decision, stage)
        for stage in CSPR_STAGES
        for decision in (D.COMMUNICATIONS_NOTIFIED, D.ANONYMISATION_CHECKED)
    ),
    *(
        _t(stage, D.PARTNERS_RESPONSE_RECORDED, stage, Guard(fact=Fact.LOCAL_CSPR))
        for stage in (S.CSPR_FINAL_REPORT, S.CSPR_PUBLICATION, S.ACTION_PLAN_MONITORING)
    ),
    # The learning loop (drawn as a note, not as a loop on each stage).
    *(_t(stage, kind, stage) for stage in LEARNING_STAGES for kind in LEARNING_DECISIONS),
)

INITIAL_STAGE = S.REFERRAL_RECEIVED
FINAL_STAGE = S.CLOSED


class TransitionRefused(Exception):
    """The machine does not allow this decision now. `reason` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def decisions_allowed(stage: Stage) -> list[DecisionKind]:
    """Decisions the machine accepts at a stage, in declaration order."""
    kinds: list[DecisionKind] = []
    for t in TRANSITIONS:
        if t.source is stage and t.decision is not None and t.decision not in kinds:
            kinds.append(t.decision)
    if stage is not FINAL_STAGE:
        kinds.extend(sorted(IN_ANY_OPEN_STAGE - set(kinds)))
    return kinds


#: Issue #13: facts that say whether a kind of decision applies to a case at all (a Local CSPR
#: is held, a national review was commissioned). A decision that needs one that does not hold is
#: not offered to people (`decisions_offered`), rather than offered and then refused.
APPLIES_ONLY_WITH: frozenset[Fact] = frozenset({Fact.LOCAL_CSPR, Fact.NATIONAL_REVIEW})


def decisions_offered(stage: Stage, facts: Iterable[Fact]) -> list[DecisionKind]:
    """`decisions_allowed`, less those that do not apply to this case (`APPLIES_ONLY_WITH`)."""
    fact_set = frozenset(facts)

    def applies(kind: DecisionKind) -> bool:
        ways = [t for t in TRANSITIONS if t.source is stage and t.decision is kind]
        return not ways or any(
            all(g.fact not in APPLIES_ONLY_WITH or g.fact in fact_set for g in t.when) for t in ways
        )

    return [kind for kind in decisions_allowed(stage) if applies(kind)]


def decisions_possible(
    stage: Stage, facts: Iterable[Fact], *, moving: bool = False
) -> list[DecisionKind]:
    """Decisions that could be taken now: allowed at the stage, with every guard on case facts
    holding (guards on the decision's own fields are left to the decision). `moving`: only those
    that move the case to another stage."""
    fact_set = frozenset(facts)
    kinds: list[DecisionKind] = []
    for t in TRANSITIONS:
        if t.source is not stage or t.decision is None or t.decision in kinds:
            continue
        if moving and t.target is stage:
            continue
        if all(g.fact is None or g.fact in fact_set for g in t.when):
            kinds.append(t.decision)
    return kinds


def automatic_transition(stage: Stage) -> Transition | None:
    return next((t for t in TRANSITIONS if t.source is stage and t.decision is None), None)


def resolve(
    stage: Stage, kind: DecisionKind, decision: Any, facts: Iterable[Fact] = ()
) -> Transition:
    """The transition `decision` takes from `stage`, or `TransitionRefused` saying why not."""
    fact_set = frozenset(facts)
    if kind in IN_ANY_OPEN_STAGE and stage is not FINAL_STAGE:
        return Transition(stage, kind, stage)
    candidates = [t for t in TRANSITIONS if t.source is stage and t.decision is kind]
    if not candidates:
        allowed = ", ".join(k.value for k in decisions_allowed(stage)) or "none (case closed)"
        raise TransitionRefused(
            "wrong_stage",
            f"a {kind.value} decision is not allowed at stage '{stage.label}'; "
            f"allowed here: {allowed}",
        )
    for t in candidates:
        if all(g.holds(decision, fact_set) for g in t.when):
            return t
    needs = " or ".join(
        ", ".join(g.describe() for g in t.when if not g.holds(decision, fact_set))
        for t in candidates
    )
    raise TransitionRefused(
        "guard_failed", f"a {kind.value} decision cannot be taken now: it needs {needs}"
    )


def stages() -> list[Stage]:
    return list(Stage)


def mermaid() -> str:
    """The machine as a Mermaid state diagram, generated from `TRANSITIONS`."""
    lines = ["stateDiagram-v2"]
    for stage in Stage:
        lines.append(f'    state "{stage.label}" as {stage.value}')
    lines.append(f"    [*] --> {INITIAL_STAGE.value}")
    for t in TRANSITIONS:
        if t.decision in LEARNING_DECISIONS:
            continue
        lines.append(f"    {t.source.value} --> {t.target.value} : {t.label()}")
    lines.append(f"    {FINAL_STAGE.value} --> [*]")
    anytime = ", ".join(sorted(k.value for k in IN_ANY_OPEN_STAGE))
    lines.append(f"    note right of {FINAL_STAGE.value}")
    lines.append(f"        In every stage but closed: {anytime}")
    lines.append("    end note")
    learning = ", ".join(k.value for k in LEARNING_DECISIONS)
    lines.append(f"    note right of {S.ACTION_PLAN_MONITORING.value}")
    lines.append(f"        From the National Panel response, the review and here: {learning}")
    lines.append("    end note")
    return "\n".join(lines) + "\n"
