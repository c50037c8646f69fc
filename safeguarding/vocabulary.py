"""The words of the review process: stages, roles, agencies and the options a decision can take.

Plain Python, no Temporal imports: the workflow, the command line and the tests all share these.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where a referral is in the review process: each stage names what is awaited next."""

    REFERRAL_RECEIVED = "referral_received"
    TRIAGE = "triage"
    SERIOUS_INCIDENT_NOTIFICATION = "serious_incident_notification"
    RAPID_REVIEW = "rapid_review"
    NATIONAL_PANEL_RESPONSE = "national_panel_response"
    CSPR_LEAD_REVIEWER = "cspr_lead_reviewer"
    CSPR_TERMS_OF_REFERENCE = "cspr_terms_of_reference"
    CSPR_AGENCY_INFORMATION = "cspr_agency_information"
    CSPR_INVOLVEMENT = "cspr_involvement"
    CSPR_DRAFT_REPORT = "cspr_draft_report"
    CSPR_QUALITY_ASSURANCE = "cspr_quality_assurance"
    CSPR_FINAL_REPORT = "cspr_final_report"
    CSPR_PUBLICATION = "cspr_publication"
    CASE_OF_CONCERN = "case_of_concern"
    CASE_OF_CONCERN_REVIEW = "case_of_concern_review"
    OTHER_REVIEW = "other_review"
    ACTION_PLAN_MONITORING = "action_plan_monitoring"
    CLOSED = "closed"
    # Issue #13 item 4: a care leaver's case after notification (statutory edition).
    CARE_LEAVER_NEXT_STEP = "care_leaver_next_step"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS: dict[Stage, str] = {
    Stage.REFERRAL_RECEIVED: "Referral received",
    Stage.TRIAGE: "Triage",
    Stage.SERIOUS_INCIDENT_NOTIFICATION: "Serious Incident Notification",
    Stage.RAPID_REVIEW: "Rapid Review",
    Stage.NATIONAL_PANEL_RESPONSE: "Awaiting National Panel response",
    Stage.CSPR_LEAD_REVIEWER: "Local CSPR: appoint lead reviewer",
    Stage.CSPR_TERMS_OF_REFERENCE: "Local CSPR: agree terms of reference",
    Stage.CSPR_AGENCY_INFORMATION: "Local CSPR: agency information",
    Stage.CSPR_INVOLVEMENT: "Local CSPR: practitioner and family involvement",
    Stage.CSPR_DRAFT_REPORT: "Local CSPR: draft report",
    Stage.CSPR_QUALITY_ASSURANCE: "Local CSPR: quality assurance by the review group",
    Stage.CSPR_FINAL_REPORT: "Local CSPR: final report to National Panel and Secretary of State",
    Stage.CSPR_PUBLICATION: "Local CSPR: publication",
    Stage.CASE_OF_CONCERN: "Case of Concern: choose approach",
    Stage.CASE_OF_CONCERN_REVIEW: "Case of Concern: review under way",
    Stage.OTHER_REVIEW: "Other review under way",
    Stage.ACTION_PLAN_MONITORING: "Action plan monitoring",
    Stage.CLOSED: "Closed",
    Stage.CARE_LEAVER_NEXT_STEP: "Care leaver: the partnership decides the next step",
}


class Role(StrEnum):
    """The part a person plays when they make a decision."""

    COORDINATOR = "coordinator"
    PANEL_MEMBER = "panel_member"
    CHAIR = "chair"
    BUSINESS_MANAGER = "business_manager"
    LEAD_REVIEWER = "lead_reviewer"
    PRACTITIONER = "practitioner"
    MANAGER = "manager"


class Agency(StrEnum):
    """Agencies of a partnership. The three statutory partners come first."""

    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    HEALTH = "health"
    POLICE = "police"
    EDUCATION = "education"
    PROBATION = "probation"
    HOUSING = "housing"
    MENTAL_HEALTH = "mental_health"
    LEGAL = "legal"
    YOUTH_JUSTICE = "youth_justice"
    PARTNERSHIP = "partnership"
    INDEPENDENT = "independent"
    OTHER = "other"

    @property
    def label(self) -> str:
        return AGENCY_LABELS[self]


AGENCY_LABELS: dict[Agency, str] = {
    Agency.CHILDRENS_SOCIAL_CARE: "Children's Social Care (local authority)",
    Agency.HEALTH: "Health (ICB)",
    Agency.POLICE: "Police",
    Agency.EDUCATION: "Education",
    Agency.PROBATION: "Probation",
    Agency.HOUSING: "Housing",
    Agency.MENTAL_HEALTH: "Mental health (CAMHS)",
    Agency.LEGAL: "Legal services",
    Agency.YOUTH_JUSTICE: "Youth Justice Service",
    Agency.PARTNERSHIP: "Partnership business team",
    Agency.INDEPENDENT: "Independent (scrutineer or reviewer)",
    Agency.OTHER: "Other agency",
}


class DecisionKind(StrEnum):
    """Every decision a named person can make on a case."""

    TRIAGE = "triage"
    NOTIFICATION_SUBMITTED = "notification_submitted"
    INFORMATION_REQUESTED = "information_requested"
    INFORMATION_RETURNED = "information_returned"
    RAPID_REVIEW_DECISION = "rapid_review_decision"
    PANEL_RESPONSE = "panel_response"
    LEAD_REVIEWER_APPOINTED = "lead_reviewer_appointed"
    TERMS_OF_REFERENCE_AGREED = "terms_of_reference_agreed"
    AGENCY_INFORMATION_RECEIVED = "agency_information_received"
    INVOLVEMENT_COMPLETED = "involvement_completed"
    DRAFT_REPORT_RECEIVED = "draft_report_received"
    QUALITY_ASSURED = "quality_assured"
    FINAL_REPORT_SENT = "final_report_sent"
    PUBLICATION_PLANNED = "publication_planned"
    PUBLISHED = "published"
    NOT_PUBLISHED = "not_published"
    APPROACH_CHOSEN = "approach_chosen"
    OUTCOME_SHARED = "outcome_shared"
    OTHER_REVIEW_COMPLETED = "other_review_completed"
    ACTION_ADDED = "action_added"
    ACTION_UPDATED = "action_updated"
    DEADLINE_EXTENDED = "deadline_extended"
    CASE_CLOSED = "case_closed"
    # Issue #13 items 4, 6, 9, 10: the steps after a care leaver's notification, the Rapid
    # Review sent to the National Panel and what follows, family and practitioner involvement,
    # and publication.
    RAPID_REVIEW_SENT = "rapid_review_sent"
    PANEL_INFORMATION_REQUESTED = "panel_information_requested"
    PANEL_INFORMATION_SENT = "panel_information_sent"
    NATIONAL_REVIEW_CONTRIBUTION_REQUESTED = "national_review_contribution_requested"
    NATIONAL_REVIEW_CONTRIBUTION_MADE = "national_review_contribution_made"
    CARE_LEAVER_NEXT_STEP = "care_leaver_next_step"
    INVOLVEMENT_RECORDED = "involvement_recorded"
    COMMUNICATIONS_NOTIFIED = "communications_notified"
    ANONYMISATION_CHECKED = "anonymisation_checked"
    PARTNERS_RESPONSE_RECORDED = "partners_response_recorded"
    # Issue #13, items 5 and 7: the referral quality-assured before triage (Salford), the local
    # authority's notice to the partnership (Liverpool).
    REFERRAL_QUALITY_ASSURED = "referral_quality_assured"
    LA_NOTICE_RECEIVED = "la_notice_received"
    # Issue 13, item 11: the learning loop.
    LEARNING_PLANNED = "learning_planned"
    LEARNING_DISSEMINATED = "learning_disseminated"
    LEARNING_IMPACT_RECORDED = "learning_impact_recorded"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class TriageOutcome(StrEnum):
    SERIOUS_INCIDENT = "serious_incident"
    CASE_OF_CONCERN = "case_of_concern"
    OTHER_REVIEW = "other_review"
    NO_FURTHER_ACTION = "no_further_action"
    #: Issue #13, item 8: a case of serious concern that is not notified goes to a Rapid Review
    #: panel all the same (Liverpool); only where the profile's `routes` offer it.
    RAPID_REVIEW = "rapid_review"


class OtherReviewType(StrEnum):
    SINGLE_AGENCY_AUDIT = "single_agency_audit"
    MULTI_AGENCY_AUDIT = "multi_agency_audit"
    LOCAL_CASE_REVIEW = "local_case_review"
    SERIOUS_OFFENCE_REVIEW = "serious_offence_review"
    SERIOUSLY_GOOD_OUTCOME_REVIEW = "seriously_good_outcome_review"


class ReviewOutcome(StrEnum):
    """What the rapid review recommends and the National Panel responds."""

    LOCAL_CSPR = "local_cspr"
    NO_FURTHER_REVIEW = "no_further_review"


class CaseOfConcernApproach(StrEnum):
    FILE_REVIEW_AND_CASE_DISCUSSION = "file_review_and_case_discussion"
    APPRECIATIVE_INQUIRY = "appreciative_inquiry"
    POLICY_REVIEW = "policy_review"


class ActionStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    CLOSED_BY_REVIEW_GROUP = "closed_by_review_group"

    @property
    def finished(self) -> bool:
        return self in (ActionStatus.COMPLETE, ActionStatus.CLOSED_BY_REVIEW_GROUP)


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class PlanScope(StrEnum):
    SINGLE_AGENCY = "single_agency"
    MULTI_AGENCY = "multi_agency"


class Route(StrEnum):
    """The review route a case has taken, for reporting and search."""

    UNDECIDED = "undecided"
    SERIOUS_INCIDENT = "serious_incident"
    CARE_LEAVER_NOTIFICATION = "care_leaver_notification"
    LOCAL_CSPR = "local_cspr"
    LEARNING_ONLY = "learning_only"
    CASE_OF_CONCERN = "case_of_concern"
    OTHER_REVIEW = "other_review"
    NO_FURTHER_ACTION = "no_further_action"
    #: Issue #13, item 8: a Rapid Review without a notification (a case of serious concern),
    #: under way.
    SERIOUS_CONCERN = "serious_concern"


# Issue #13, item 2: where the child was harmed, for the notification criteria.
class HarmLocation(StrEnum):
    """Where the child died or was seriously harmed, as the notification duty asks (Children Act
    2004, s.16C(1)): in the local authority's area, or outside England while normally resident
    in it. Anywhere else the duty is another local authority's."""

    IN_AREA = "in_area"
    OUTSIDE_ENGLAND_NORMALLY_RESIDENT = "outside_england_normally_resident"
    ELSEWHERE = "elsewhere"

    @property
    def label(self) -> str:
        return HARM_LOCATION_LABELS[self]


HARM_LOCATION_LABELS: dict[HarmLocation, str] = {
    HarmLocation.IN_AREA: "in the local authority's area",
    HarmLocation.OUTSIDE_ENGLAND_NORMALLY_RESIDENT: (
        "outside England, while normally resident in the local authority's area"
    ),
    HarmLocation.ELSEWHERE: (
        "elsewhere (another area of England, or outside England while not normally resident "
        "in the area)"
    ),
}


# Issue #13 items 4 and 9.


class CareLeaverNextStep(StrEnum):
    """What the partnership decides after a care leaver's death is notified."""

    NO_FURTHER_ACTION = "no_further_action"
    LOCAL_REVIEW = "local_review"
    SAFEGUARDING_ADULTS_REVIEW = "safeguarding_adults_review"


class InvolvementMilestone(StrEnum):
    """The family's and the practitioners' involvement in a Local CSPR, step by step."""

    FAMILY_TOLD = "family_told"
    FAMILY_VIEWS = "family_views"
    FAMILY_SHOWN_REPORT = "family_shown_report"
    PRACTITIONERS_INVOLVED = "practitioners_involved"
    PRACTITIONERS_FEEDBACK = "practitioners_feedback"


class InvolvementOutcome(StrEnum):
    TOLD = "told"
    GIVEN = "given"
    DECLINED = "declined"
    SHOWN = "shown"
    INVOLVED = "involved"
    NOT_POSSIBLE = "not_possible"


#: The outcomes each involvement milestone may have (the first is the default).
INVOLVEMENT_OUTCOMES: dict[InvolvementMilestone, tuple[InvolvementOutcome, ...]] = {
    InvolvementMilestone.FAMILY_TOLD: (InvolvementOutcome.TOLD, InvolvementOutcome.NOT_POSSIBLE),
    InvolvementMilestone.FAMILY_VIEWS: (
        InvolvementOutcome.GIVEN,
        InvolvementOutcome.DECLINED,
        InvolvementOutcome.NOT_POSSIBLE,
    ),
    InvolvementMilestone.FAMILY_SHOWN_REPORT: (
        InvolvementOutcome.SHOWN,
        InvolvementOutcome.DECLINED,
        InvolvementOutcome.NOT_POSSIBLE,
    ),
    InvolvementMilestone.PRACTITIONERS_INVOLVED: (InvolvementOutcome.INVOLVED,),
    InvolvementMilestone.PRACTITIONERS_FEEDBACK: (InvolvementOutcome.GIVEN,),
}


# --------------------------------------------------------------------- issue 13, item 11: learning


class LearningKind(StrEnum):
    """What a piece of learning from a review becomes (DOMAIN.md: "Lessons go to the Learning &
    Development group: training, 7 Minute Briefings, practice guidance")."""

    BRIEFING = "briefing"
    TRAINING = "training"
    NEWSLETTER = "newsletter"
    AUDIT = "audit"

    @property
    def label(self) -> str:
        return LEARNING_KIND_LABELS[self]


LEARNING_KIND_LABELS: dict[LearningKind, str] = {
    LearningKind.BRIEFING: "7-minute briefing",
    LearningKind.TRAINING: "Training",
    LearningKind.NEWSLETTER: "Newsletter item",
    LearningKind.AUDIT: "Audit",
}


class LearningSource(StrEnum):
    """The review the learning came from."""

    RAPID_REVIEW = "rapid_review"
    CSPR = "cspr"
    CASE_OF_CONCERN = "case_of_concern"
    OTHER_REVIEW = "other_review"


class LearningStatus(StrEnum):
    PLANNED = "planned"
    DISSEMINATED = "disseminated"
    IMPACT_RECORDED = "impact_recorded"


# Deadlines (safeguarding/deadlines.py): what each is for, and where it stands.


class DeadlineKind(StrEnum):
    TRIAGE = "triage"
    NOTIFICATION = "notification"
    RAPID_REVIEW = "rapid_review"
    AGENCY_INFORMATION = "agency_information"
    CSPR_PUBLICATION = "cspr_publication"
    CSPR_FINAL_REPORT = "cspr_final_report"
    ACTION = "action"
    MEETING = "meeting"
    ESCALATION_STAGE = "escalation_stage"
    # Issue #13 item 6: the National Panel's response chased, its requests, a national review.
    PANEL_RESPONSE = "panel_response"
    PANEL_INFORMATION = "panel_information"
    NATIONAL_REVIEW_CONTRIBUTION = "national_review_contribution"
    #: Issue #13, item 7: the local authority's notice to the partnership (Liverpool).
    LA_NOTICE = "la_notice"
    # Issue 13, item 11: a learning output disseminated by its due date, and its re-audit.
    LEARNING = "learning"
    LEARNING_IMPACT = "learning_impact"


class DeadlineState(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"
    MISSED = "missed"
    WITHDRAWN = "withdrawn"
