"""How the console names things: decision titles and help, field labels, option labels.

Tables only (and the few functions that turn an identifier into words), shared by the forms and
the pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from safeguarding.vocabulary import Agency, DecisionKind, Role


def plain(text: str) -> str:
    """Words, not identifiers: "other_review" reads "other review"."""
    return re.sub(r"(?<=[a-z])_(?=[a-z])", " ", text)


def humanise(value: str) -> str:
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:]


def option_label(value: Any) -> str:
    if isinstance(value, Agency):
        return value.label
    text = str(value.value if hasattr(value, "value") else value)
    return humanise(text).replace("Cspr", "CSPR").replace("Rag", "RAG")


def agency_choices(agencies: Iterable[Agency] = Agency) -> tuple[tuple[str, str], ...]:
    return tuple((a.value, a.label) for a in agencies)


DECISION_TITLES: dict[DecisionKind, str] = {
    DecisionKind.TRIAGE: "Triage decision",
    DecisionKind.NOTIFICATION_SUBMITTED: "Serious Incident Notification submitted",
    DecisionKind.INFORMATION_REQUESTED: "Request rapid review information",
    DecisionKind.INFORMATION_RETURNED: "Agency information returned",
    DecisionKind.RAPID_REVIEW_DECISION: "Rapid Review decision",
    DecisionKind.PANEL_RESPONSE: "National Panel response",
    DecisionKind.LEAD_REVIEWER_APPOINTED: "Lead reviewer appointed",
    DecisionKind.TERMS_OF_REFERENCE_AGREED: "Terms of reference agreed",
    DecisionKind.AGENCY_INFORMATION_RECEIVED: "Agency information received (Local CSPR)",
    DecisionKind.INVOLVEMENT_COMPLETED: "Practitioner and family involvement completed",
    DecisionKind.DRAFT_REPORT_RECEIVED: "Draft report received",
    DecisionKind.QUALITY_ASSURED: "Draft report quality-assured",
    DecisionKind.FINAL_REPORT_SENT: "Final report sent to the National Panel and the Secretary "
    "of State",
    DecisionKind.PUBLICATION_PLANNED: "Plan the publication date",
    DecisionKind.PUBLISHED: "Report published",
    DecisionKind.NOT_PUBLISHED: "Report not published",
    DecisionKind.APPROACH_CHOSEN: "Case of Concern approach chosen",
    DecisionKind.OUTCOME_SHARED: "Case of Concern outcome shared",
    DecisionKind.OTHER_REVIEW_COMPLETED: "Other review completed",
    DecisionKind.ACTION_ADDED: "Add an action",
    DecisionKind.ACTION_UPDATED: "Update an action",
    DecisionKind.DEADLINE_EXTENDED: "Extend a deadline",
    DecisionKind.CASE_CLOSED: "Close the case",
    # Issue #13 items 4, 6, 9, 10.
    DecisionKind.RAPID_REVIEW_SENT: "Rapid Review sent to the National Panel",
    DecisionKind.PANEL_INFORMATION_REQUESTED: "The National Panel asked for more information",
    DecisionKind.PANEL_INFORMATION_SENT: "Further information sent to the National Panel",
    DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED: (
        "A national review asks for a contribution"
    ),
    DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_MADE: "Contribution to the national review made",
    DecisionKind.CARE_LEAVER_NEXT_STEP: "Next step after a care leaver's notification",
    DecisionKind.INVOLVEMENT_RECORDED: "Family or practitioner involvement",
    DecisionKind.COMMUNICATIONS_NOTIFIED: "Press and communications offices told",
    DecisionKind.ANONYMISATION_CHECKED: "Anonymisation and redaction checked",
    DecisionKind.PARTNERS_RESPONSE_RECORDED: "The partners' response to the findings",
    DecisionKind.REFERRAL_QUALITY_ASSURED: "Referral quality-assured (before triage)",
    DecisionKind.LA_NOTICE_RECEIVED: "Local authority's notice of the incident received",
    # Issue 13, item 11: the learning loop.
    DecisionKind.LEARNING_PLANNED: "Plan a learning output",
    DecisionKind.LEARNING_DISSEMINATED: "Learning output disseminated",
    DecisionKind.LEARNING_IMPACT_RECORDED: "Record a learning output's impact (re-audit)",
}

#: What a recorded decision is called where its title is an instruction ("Add an action"): the
#: confirmation reads "Recorded: Action added." (issue 15). The rest use their title.
DONE_TITLES: dict[DecisionKind, str] = {
    DecisionKind.INFORMATION_REQUESTED: "Rapid review information requested",
    DecisionKind.PUBLICATION_PLANNED: "Publication date planned",
    DecisionKind.ACTION_ADDED: "Action added",
    DecisionKind.ACTION_UPDATED: "Action updated",
    DecisionKind.DEADLINE_EXTENDED: "Deadline extended",
    DecisionKind.CASE_CLOSED: "Case closed",
    DecisionKind.PANEL_INFORMATION_REQUESTED: "The National Panel's request for more information",
    DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED: "A national review's request for a "
    "contribution",
    DecisionKind.LEARNING_PLANNED: "Learning output planned",
    DecisionKind.LEARNING_IMPACT_RECORDED: "A learning output's impact (re-audit)",
}


def done_title(kind: DecisionKind) -> str:
    """A recorded decision's name, as a fact rather than an instruction."""
    return DONE_TITLES.get(kind) or DECISION_TITLES[kind]


DECISION_HELP: dict[DecisionKind, str] = {
    DecisionKind.TRIAGE: "Decide the referral's route against the statutory criteria.",
    DecisionKind.NOTIFICATION_SUBMITTED: "Record the local authority's notification to the "
    "National Panel (made on the national online service).",
    DecisionKind.INFORMATION_REQUESTED: "Ask agencies for their rapid review information, "
    "each with a return date (blank: the partnership's default).",
    DecisionKind.INFORMATION_RETURNED: "Record that an agency returned its information. A panel "
    "member returns their own agency's.",
    DecisionKind.RAPID_REVIEW_DECISION: "The Rapid Review meeting's decision and who attended.",
    DecisionKind.PANEL_RESPONSE: "The National Panel's response to the Rapid Review.",
    DecisionKind.PUBLICATION_PLANNED: "The final report falls due some working days before.",
    DecisionKind.NOT_PUBLISHED: "Partners must publish unless they consider it inappropriate, "
    "and record why.",
    DecisionKind.ACTION_ADDED: "A recommendation becomes an action with a lead agency, a due "
    "date and an outcome measure.",
    DecisionKind.ACTION_UPDATED: "Give at least one of status, RAG rating or evidence.",
    DecisionKind.DEADLINE_EXTENDED: "Move a deadline, with the reason and who agreed it.",
    DecisionKind.CASE_CLOSED: "Only when every action is complete or closed by the review group.",
    DecisionKind.RAPID_REVIEW_SENT: "The 15 working days run to this day; the Panel's response is "
    "then awaited, reminded and chased.",
    DecisionKind.CARE_LEAVER_NEXT_STEP: "No further action, a local review, or a referral to the "
    "Safeguarding Adults Board for a Safeguarding Adults Review, with the reason.",
    DecisionKind.INVOLVEMENT_RECORDED: "One milestone at a time, with its outcome: the family "
    "told, their views, shown the report; the practitioners involved, given feedback.",
    DecisionKind.PUBLISHED: "Where it is published and until when it stays published.",
    DecisionKind.REFERRAL_QUALITY_ASSURED: "The referring agency's member of the review group "
    "quality-assured the referral form (where the partnership asks for it before triage).",
    DecisionKind.LA_NOTICE_RECEIVED: "The local authority told the partnership of the incident "
    "(the date it did).",
    DecisionKind.CASE_CLOSED: "Only when every action is complete or closed by the review group"
    " (and, where the partnership says so, every learning output disseminated).",
    DecisionKind.LEARNING_PLANNED: "Learning from the review becomes an output the learning "
    "group owns: a 7-minute briefing, training, a newsletter item or an audit, due by a date.",
    DecisionKind.LEARNING_DISSEMINATED: "Record that the learning group disseminated it; give a "
    "re-audit date to track its impact on practice.",
    DecisionKind.LEARNING_IMPACT_RECORDED: "What the re-audit or impact check found.",
}

FIELD_LABELS: dict[str, str] = {
    "occurred_on": "Date it happened",
    "note": "Note",
    "attendees": "Who attended",
    "outcome": "Outcome",
    "review_type": "Type of review",
    "advice": "Advice",
    "la_aware_on": "Day the local authority became aware",
    "reference": "National Panel notification reference",
    "requests": "Information requests",
    "agency": "Agency",
    "possible_national_importance": "The case may be of national importance",
    "immediate_safety_actions": "Immediate safety actions",
    "learning": "Possible improvements and learning",
    "panel_agrees": "Does the National Panel agree with the decision?",
    "national_review": "The National Panel takes a national review",
    "lead_reviewer": "Lead reviewer's name",
    "planned_on": "Planned publication date",
    "location": "Where it is published",
    "reasons": "Reasons for not publishing",
    "approach": "Approach",
    "agencies": "Agencies involved",
    "summary": "Outcome summary",
    "findings": "Findings",
    "action_id": "Action id",
    "recommendation": "Recommendation",
    "description": "Description",
    "lead_agency": "Lead agency",
    "due_on": "Due date",
    "outcome_measure": "Outcome measure",
    "scope": "Action plan",
    "status": "Status",
    "rag": "RAG rating",
    "evidence": "Evidence",
    "deadline_id": "Deadline",
    "new_due_on": "New due date",
    "reason": "Reason",
    "agreed_with": "Agreed with",
    # Issue #13 items 1, 4, 6, 9, 10.
    "decision_changed_on": "Day the partners changed their decision (if they did)",
    "available_until": "Stays published until",
    "request_id": "Request id",
    "asked_for": "What the National Panel asked for",
    "contribution_id": "Contribution id",
    "next_step": "Next step",
    "milestone": "Milestone",
    "redactions_made": "Redactions were made",
    "published_with_report": "Published with the report",
    "agreed_by": "Who agreed",
    "criteria_not_met_reason": "Reason to notify although a statutory criterion is not met",
    # Issue 13, item 11.
    "learning_id": "Learning output id",
    "output": "What the learning becomes",
    "title": "Title",
    "source": "The review it came from",
    "reach": "Who it reached",
    "reaudit_due_on": "Re-audit due",
    "impact": "Impact found",
}

PEOPLE_HELP = (
    "One person per line as: Name, role, agency. For example: Dana Reid, chair, police. "
    "Roles: " + ", ".join(r.value.replace("_", " ") for r in Role) + "."
)
