"""Decisions: what a named person tells the system, one pydantic model per kind.

A decision is validated in three layers: its shape here (fields, options, conditional
requirements), the state machine (is it allowed at this stage), and the case (who may make it,
guards on case facts).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from safeguarding.model import DomainModel

# Named here too, as they always were (`Person` and `printable` moved to light modules).
from safeguarding.people import Person as Person
from safeguarding.people import ShortText as ShortText
from safeguarding.text import printable as printable
from safeguarding.vocabulary import (
    INVOLVEMENT_OUTCOMES,
    ActionStatus,
    Agency,
    CareLeaverNextStep,
    CaseOfConcernApproach,
    DecisionKind,
    InvolvementMilestone,
    InvolvementOutcome,
    LearningKind,
    LearningSource,
    OtherReviewType,
    PlanScope,
    Rag,
    ReviewOutcome,
    TriageOutcome,
)

LongText = Annotated[str, Field(min_length=1, max_length=4000)]
Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="letters, digits and . _ : - (no spaces), at most 80 characters",
    ),
]


#: Where a decision was sent from, as the interface that sent it records it (its history entry
#: says so): the `sro` command line or the web console (whose `by` is the signed-in user).
Via = Literal["sro", "console"]
#: Fields an interface sets itself: no flag or form field offers them.
SET_BY_INTERFACE = frozenset({"via"})


class DecisionBase(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision_id: Identifier = Field(
        description="unique id for this decision; re-sending the same id applies it once"
    )
    by: Person
    occurred_on: date | None = Field(
        None, description="the day it happened (defaults to today, UK time)"
    )
    note: LongText | None = None
    attendees: list[Person] | None = Field(
        None,
        max_length=40,
        description="who attended, for a decision taken at a meeting (quorum is checked)",
    )
    agreed_by: list[Person] | None = Field(
        None,
        max_length=40,
        description="who agreed the decision, for one the partnership's profile says its "
        "partners must agree (whoever makes it agrees for their own agency)",
    )
    via: Via | None = Field(
        None, description="the interface it was sent from: set by sro and the console"
    )


class TriageDecision(DecisionBase):
    kind: Literal[DecisionKind.TRIAGE] = DecisionKind.TRIAGE
    outcome: TriageOutcome
    review_type: OtherReviewType | None = Field(
        None, description="required when the outcome is other_review"
    )
    advice: LongText | None = Field(
        None, description="advice given; required when the outcome is no_further_action"
    )
    la_aware_on: date | None = Field(
        None,
        description="day the local authority became aware (serious incident); "
        "defaults to the referral's",
    )
    criteria_not_met_reason: LongText | None = Field(
        None,
        description="serious_incident only: why the incident is notified although a statutory "
        "criterion is not met (e.g. on the National Panel's advice)",
    )

    @model_validator(mode="after")
    def _conditional_fields(self) -> TriageDecision:
        if self.criteria_not_met_reason and self.outcome is not TriageOutcome.SERIOUS_INCIDENT:
            raise ValueError(
                "criteria_not_met_reason only applies when the outcome is serious_incident"
            )
        if self.outcome is TriageOutcome.OTHER_REVIEW and self.review_type is None:
            raise ValueError("review_type is required when the outcome is other_review")
        if self.outcome is not TriageOutcome.OTHER_REVIEW and self.review_type is not None:
            raise ValueError("review_type only applies when the outcome is other_review")
        if self.outcome is TriageOutcome.NO_FURTHER_ACTION and not self.advice:
            raise ValueError("advice is required when the outcome is no_further_action")
        return self


class NotificationSubmitted(DecisionBase):
    kind: Literal[DecisionKind.NOTIFICATION_SUBMITTED] = DecisionKind.NOTIFICATION_SUBMITTED
    reference: ShortText = Field(description="the National Panel's notification reference")


class InformationRequest(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agency: Agency
    due_on: date | None = Field(
        None, description="return deadline (defaults to the partnership's setting)"
    )


class InformationRequested(DecisionBase):
    kind: Literal[DecisionKind.INFORMATION_REQUESTED] = DecisionKind.INFORMATION_REQUESTED
    requests: list[InformationRequest] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _distinct(self) -> InformationRequested:
        agencies = [r.agency for r in self.requests]
        if len(set(agencies)) != len(agencies):
            raise ValueError("each agency may appear only once in requests")
        return self


class InformationReturned(DecisionBase):
    kind: Literal[DecisionKind.INFORMATION_RETURNED] = DecisionKind.INFORMATION_RETURNED
    agency: Agency = Field(description="the agency whose information this is")


class RapidReviewDecision(DecisionBase):
    kind: Literal[DecisionKind.RAPID_REVIEW_DECISION] = DecisionKind.RAPID_REVIEW_DECISION
    recommendation: ReviewOutcome
    attendees: list[Person] = Field(min_length=1, max_length=40)
    possible_national_importance: bool = False
    immediate_safety_actions: LongText | None = None
    learning: LongText | None = None


class PanelResponse(DecisionBase):
    kind: Literal[DecisionKind.PANEL_RESPONSE] = DecisionKind.PANEL_RESPONSE
    panel_agrees: bool = Field(description="does the National Panel agree with the decision")
    outcome: ReviewOutcome = Field(description="what happens next, after the Panel's response")
    national_review: bool = Field(False, description="the Panel takes a national review")
    decision_changed_on: date | None = Field(
        None,
        description="if the partners changed their decision after the Panel's response: the "
        "day they did (the Local CSPR's 6 months then count from it; default: this day)",
    )


CsprMilestoneKind = Literal[
    DecisionKind.LEAD_REVIEWER_APPOINTED,
    DecisionKind.TERMS_OF_REFERENCE_AGREED,
    DecisionKind.AGENCY_INFORMATION_RECEIVED,
    DecisionKind.INVOLVEMENT_COMPLETED,
    DecisionKind.DRAFT_REPORT_RECEIVED,
    DecisionKind.QUALITY_ASSURED,
    DecisionKind.FINAL_REPORT_SENT,
]


class CsprMilestone(DecisionBase):
    kind: CsprMilestoneKind
    lead_reviewer: ShortText | None = Field(
        None, description="the lead reviewer's name; required for lead_reviewer_appointed"
    )

    @model_validator(mode="after")
    def _lead_reviewer(self) -> CsprMilestone:
        if self.kind is DecisionKind.LEAD_REVIEWER_APPOINTED and not self.lead_reviewer:
            raise ValueError("lead_reviewer is required for lead_reviewer_appointed")
        return self


class PublicationPlanned(DecisionBase):
    kind: Literal[DecisionKind.PUBLICATION_PLANNED] = DecisionKind.PUBLICATION_PLANNED
    planned_on: date = Field(description="planned publication date")


class Published(DecisionBase):
    kind: Literal[DecisionKind.PUBLISHED] = DecisionKind.PUBLISHED
    location: ShortText | None = Field(None, description="where the report is published")
    available_until: date | None = Field(
        None, description="the report stays published until this day (how long it is kept up)"
    )


class NotPublished(DecisionBase):
    kind: Literal[DecisionKind.NOT_PUBLISHED] = DecisionKind.NOT_PUBLISHED
    reasons: LongText = Field(description="why the partners consider publication inappropriate")


class ApproachChosen(DecisionBase):
    kind: Literal[DecisionKind.APPROACH_CHOSEN] = DecisionKind.APPROACH_CHOSEN
    approach: CaseOfConcernApproach
    agencies: list[Agency] = Field(min_length=1, max_length=20)


class OutcomeShared(DecisionBase):
    kind: Literal[DecisionKind.OUTCOME_SHARED] = DecisionKind.OUTCOME_SHARED
    summary: LongText = Field(
        description="outcome shared with the review group and the learning group"
    )


class OtherReviewCompleted(DecisionBase):
    kind: Literal[DecisionKind.OTHER_REVIEW_COMPLETED] = DecisionKind.OTHER_REVIEW_COMPLETED
    findings: LongText


class ActionAdded(DecisionBase):
    kind: Literal[DecisionKind.ACTION_ADDED] = DecisionKind.ACTION_ADDED
    action_id: Identifier
    recommendation: LongText
    description: LongText
    lead_agency: Agency
    due_on: date
    outcome_measure: LongText
    scope: PlanScope = PlanScope.SINGLE_AGENCY


class ActionUpdated(DecisionBase):
    kind: Literal[DecisionKind.ACTION_UPDATED] = DecisionKind.ACTION_UPDATED
    action_id: Identifier
    status: ActionStatus | None = None
    rag: Rag | None = None
    evidence: LongText | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> ActionUpdated:
        if self.status is None and self.rag is None and self.evidence is None:
            raise ValueError("give at least one of status, rag or evidence")
        return self


class DeadlineExtended(DecisionBase):
    kind: Literal[DecisionKind.DEADLINE_EXTENDED] = DecisionKind.DEADLINE_EXTENDED
    deadline_id: Identifier
    new_due_on: date
    reason: LongText
    agreed_with: ShortText | None = Field(
        None, description="who agreed the extension, e.g. the National Panel"
    )


class CaseClosed(DecisionBase):
    kind: Literal[DecisionKind.CASE_CLOSED] = DecisionKind.CASE_CLOSED


# ---- Issue #13 items 4, 6, 9 and 10: the care leaver's next step, the Rapid Review sent to
# the National Panel and what follows, family and practitioner involvement, publication.


class RapidReviewSent(DecisionBase):
    kind: Literal[DecisionKind.RAPID_REVIEW_SENT] = DecisionKind.RAPID_REVIEW_SENT


class PanelInformationRequested(DecisionBase):
    kind: Literal[DecisionKind.PANEL_INFORMATION_REQUESTED] = (
        DecisionKind.PANEL_INFORMATION_REQUESTED
    )
    request_id: Identifier = Field(description="your id for the request, e.g. PI1")
    asked_for: LongText = Field(description="what the National Panel asked for")
    due_on: date | None = Field(
        None, description="when it is due (defaults to the partnership's setting)"
    )


class PanelInformationSent(DecisionBase):
    kind: Literal[DecisionKind.PANEL_INFORMATION_SENT] = DecisionKind.PANEL_INFORMATION_SENT
    request_id: Identifier = Field(description="the request it answers")


class ContributionRequested(DecisionBase):
    kind: Literal[DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED] = (
        DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED
    )
    contribution_id: Identifier = Field(description="your id for the contribution, e.g. NR1")
    description: LongText = Field(description="what the national review asks of the partnership")
    lead_agency: Agency = Field(description="the agency that owes it")
    due_on: date


class ContributionMade(DecisionBase):
    kind: Literal[DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_MADE] = (
        DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_MADE
    )
    contribution_id: Identifier = Field(description="the contribution made")


class CareLeaverNextStepDecided(DecisionBase):
    kind: Literal[DecisionKind.CARE_LEAVER_NEXT_STEP] = DecisionKind.CARE_LEAVER_NEXT_STEP
    next_step: CareLeaverNextStep = Field(
        description="no further action, a local review, or a referral to the Safeguarding "
        "Adults Board for a Safeguarding Adults Review"
    )
    reason: LongText = Field(description="why the partnership decided so")


class InvolvementRecorded(DecisionBase):
    kind: Literal[DecisionKind.INVOLVEMENT_RECORDED] = DecisionKind.INVOLVEMENT_RECORDED
    milestone: InvolvementMilestone = Field(
        description="family_told (of the review), family_views (given or declined), "
        "family_shown_report (before publication), practitioners_involved, "
        "practitioners_feedback (on the outcome)"
    )
    outcome: InvolvementOutcome | None = Field(
        None,
        description="told or not_possible; given, declined or not_possible (views); shown, "
        "declined or not_possible (report); involved; given (feedback). Default: the first",
    )

    @model_validator(mode="after")
    def _outcome_fits(self) -> InvolvementRecorded:
        allowed = INVOLVEMENT_OUTCOMES[self.milestone]
        if self.outcome is not None and self.outcome not in allowed:
            raise ValueError(
                f"outcome {self.outcome.value} does not fit {self.milestone.value}; one of "
                + ", ".join(o.value for o in allowed)
            )
        return self

    @property
    def result(self) -> InvolvementOutcome:
        return self.outcome or INVOLVEMENT_OUTCOMES[self.milestone][0]


class CommunicationsNotified(DecisionBase):
    kind: Literal[DecisionKind.COMMUNICATIONS_NOTIFIED] = DecisionKind.COMMUNICATIONS_NOTIFIED
    agencies: list[Agency] = Field(
        min_length=1,
        max_length=20,
        description="the agencies whose press or communications offices were told",
    )


class AnonymisationChecked(DecisionBase):
    kind: Literal[DecisionKind.ANONYMISATION_CHECKED] = DecisionKind.ANONYMISATION_CHECKED
    redactions_made: bool = Field(False, description="the check led to redactions in the report")


class PartnersResponseRecorded(DecisionBase):
    kind: Literal[DecisionKind.PARTNERS_RESPONSE_RECORDED] = DecisionKind.PARTNERS_RESPONSE_RECORDED
    summary: LongText = Field(description="the safeguarding partners' response to the findings")
    published_with_report: bool = Field(
        False, description="the response is published with the report"
    )


# ---- Issue #13, items 5 and 7: the referral quality-assured before triage (Salford); the
# local authority's notice of the incident to the partnership (Liverpool).


class ReferralQualityAssured(DecisionBase):
    """The referring agency's review-group member quality-assured the referral form (Salford:
    "have it Quality Assured by your PRSG member"), before triage."""

    kind: Literal[DecisionKind.REFERRAL_QUALITY_ASSURED] = DecisionKind.REFERRAL_QUALITY_ASSURED


class LaNoticeReceived(DecisionBase):
    """The local authority told the partnership of the incident (Liverpool: within the same 5
    working days as the notification); `occurred_on` is the day it did."""

    kind: Literal[DecisionKind.LA_NOTICE_RECEIVED] = DecisionKind.LA_NOTICE_RECEIVED


# ------------------------------------------------------------ issue 13, item 11: the learning loop


class LearningPlanned(DecisionBase):
    kind: Literal[DecisionKind.LEARNING_PLANNED] = DecisionKind.LEARNING_PLANNED
    learning_id: Identifier = Field(description="the output's id within the case, e.g. B1")
    output: LearningKind = Field(
        description="what the learning becomes: briefing (7-minute briefing), training, "
        "newsletter (item) or audit"
    )
    title: ShortText = Field(description="its title, e.g. 'Safe sleep'")
    source: LearningSource | None = Field(
        None,
        description="the review the learning came from: rapid_review, cspr, case_of_concern or "
        "other_review (defaults to the case's route)",
    )
    due_on: date = Field(description="when the learning group is to have disseminated it")


class LearningDisseminated(DecisionBase):
    kind: Literal[DecisionKind.LEARNING_DISSEMINATED] = DecisionKind.LEARNING_DISSEMINATED
    learning_id: Identifier
    reach: LongText | None = Field(
        None, description="who it went to, e.g. 'all SPRG agencies; 240 practitioners'"
    )
    reaudit_due_on: date | None = Field(
        None, description="when its impact on practice is to be re-audited (opens a deadline)"
    )


class LearningImpactRecorded(DecisionBase):
    kind: Literal[DecisionKind.LEARNING_IMPACT_RECORDED] = DecisionKind.LEARNING_IMPACT_RECORDED
    learning_id: Identifier
    impact: LongText = Field(description="what the re-audit or impact check found")


Decision = Annotated[
    TriageDecision
    | NotificationSubmitted
    | InformationRequested
    | InformationReturned
    | RapidReviewDecision
    | PanelResponse
    | CsprMilestone
    | PublicationPlanned
    | Published
    | NotPublished
    | ApproachChosen
    | OutcomeShared
    | OtherReviewCompleted
    | ActionAdded
    | ActionUpdated
    | DeadlineExtended
    | CaseClosed
    | RapidReviewSent
    | PanelInformationRequested
    | PanelInformationSent
    | ContributionRequested
    | ContributionMade
    | CareLeaverNextStepDecided
    | InvolvementRecorded
    | CommunicationsNotified
    | AnonymisationChecked
    | PartnersResponseRecorded
    | ReferralQualityAssured
    | LaNoticeReceived
    | LearningPlanned
    | LearningDisseminated
    | LearningImpactRecorded,
    Field(discriminator="kind"),
]

DECISION_ADAPTER: TypeAdapter[Decision] = TypeAdapter(Decision, config=ConfigDict(defer_build=True))

#: The model that carries each kind, for forms and the command line.
DECISION_MODELS: dict[DecisionKind, type[DecisionBase]] = {
    DecisionKind.TRIAGE: TriageDecision,
    DecisionKind.NOTIFICATION_SUBMITTED: NotificationSubmitted,
    DecisionKind.INFORMATION_REQUESTED: InformationRequested,
    DecisionKind.INFORMATION_RETURNED: InformationReturned,
    DecisionKind.RAPID_REVIEW_DECISION: RapidReviewDecision,
    DecisionKind.PANEL_RESPONSE: PanelResponse,
    DecisionKind.LEAD_REVIEWER_APPOINTED: CsprMilestone,
    DecisionKind.TERMS_OF_REFERENCE_AGREED: CsprMilestone,
    DecisionKind.AGENCY_INFORMATION_RECEIVED: CsprMilestone,
    DecisionKind.INVOLVEMENT_COMPLETED: CsprMilestone,
    DecisionKind.DRAFT_REPORT_RECEIVED: CsprMilestone,
    DecisionKind.QUALITY_ASSURED: CsprMilestone,
    DecisionKind.FINAL_REPORT_SENT: CsprMilestone,
    DecisionKind.PUBLICATION_PLANNED: PublicationPlanned,
    DecisionKind.PUBLISHED: Published,
    DecisionKind.NOT_PUBLISHED: NotPublished,
    DecisionKind.APPROACH_CHOSEN: ApproachChosen,
    DecisionKind.OUTCOME_SHARED: OutcomeShared,
    DecisionKind.OTHER_REVIEW_COMPLETED: OtherReviewCompleted,
    DecisionKind.ACTION_ADDED: ActionAdded,
    DecisionKind.ACTION_UPDATED: ActionUpdated,
    DecisionKind.DEADLINE_EXTENDED: DeadlineExtended,
    DecisionKind.CASE_CLOSED: CaseClosed,
    DecisionKind.RAPID_REVIEW_SENT: RapidReviewSent,
    DecisionKind.PANEL_INFORMATION_REQUESTED: PanelInformationRequested,
    DecisionKind.PANEL_INFORMATION_SENT: PanelInformationSent,
    DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED: ContributionRequested,
    DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_MADE: ContributionMade,
    DecisionKind.CARE_LEAVER_NEXT_STEP: CareLeaverNextStepDecided,
    DecisionKind.INVOLVEMENT_RECORDED: InvolvementRecorded,
    DecisionKind.COMMUNICATIONS_NOTIFIED: CommunicationsNotified,
    DecisionKind.ANONYMISATION_CHECKED: AnonymisationChecked,
    DecisionKind.PARTNERS_RESPONSE_RECORDED: PartnersResponseRecorded,
    DecisionKind.REFERRAL_QUALITY_ASSURED: ReferralQualityAssured,
    DecisionKind.LA_NOTICE_RECEIVED: LaNoticeReceived,
    DecisionKind.LEARNING_PLANNED: LearningPlanned,
    DecisionKind.LEARNING_DISSEMINATED: LearningDisseminated,
    DecisionKind.LEARNING_IMPACT_RECORDED: LearningImpactRecorded,
}

#: Upper bound on a decision's encoded size, so a hostile sender cannot bloat a case's history.
MAX_DECISION_BYTES = 64 * 1024


class InvalidDecision(ValueError):
    """A decision whose shape is wrong: missing field, unknown option, bad value."""


def explain_validation_error(err: ValidationError, whole: str = "decision") -> str:
    """Every problem on one line: `field.path: what is wrong; ...`."""
    return "; ".join(validation_problems(err, whole))


def validation_problems(err: ValidationError, whole: str = "decision") -> list[str]:
    """One readable line per problem: `field.path: what is wrong` (`whole` when the problem is
    with the model as a whole rather than one field)."""
    tags = {k.value for k in DecisionKind}
    lines = []
    for problem in err.errors():
        loc = [str(p) for p in problem["loc"]]
        # Drop the discriminator tag pydantic puts first in the path of a union member (only
        # there: `authorities.triage` in a profile is a field path, not a tag).
        if loc and loc[0] in tags:
            loc = loc[1:]
        where = ".".join(loc) or whole
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(printable(f"{where}: {message}"))
    return lines


#: Made once: reading an enum member's value is slow, and every decision is parsed twice.
_KIND_VALUES = frozenset(k.value for k in DecisionKind)
_KNOWN_KINDS = ", ".join(k.value for k in DecisionKind)


def parse_decision(raw: Any) -> Decision:
    """Validate untrusted input (a dict from JSON, the CLI, a form or a signal) as a decision."""
    if isinstance(raw, DecisionBase):
        raw = raw.model_dump(mode="json")
    if not isinstance(raw, dict):
        raise InvalidDecision(f"a decision must be a JSON object, not {type(raw).__name__}")
    kind = raw.get("kind")
    if kind is None:
        raise InvalidDecision(f"kind: missing; one of {_KNOWN_KINDS}")
    if not isinstance(kind, str) or kind not in _KIND_VALUES:
        raise InvalidDecision(f"kind: unknown decision {str(kind)[:40]!r}; one of {_KNOWN_KINDS}")
    try:
        return DECISION_ADAPTER.validate_python(raw)
    except ValidationError as err:
        raise InvalidDecision(f"{kind} decision refused: {explain_validation_error(err)}") from err
