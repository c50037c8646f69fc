"""Everything that differs between partnerships, in one object with England-wide defaults.

A partnership's profile overrides these; a running case keeps the settings it started with (they
are loaded once, by an activity, and carried in the workflow's state).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from safeguarding.vocabulary import Agency, DecisionKind, Role

WorkingDays = Annotated[int, Field(ge=0, le=250)]


class Authority(BaseModel):
    """One way of being allowed to make a decision: any of these roles, from any of these
    agencies (all agencies when `agencies` is empty)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: list[Role] = Field(min_length=1)
    agencies: list[Agency] = Field(default_factory=list)

    def allows(self, role: Role, agency: Agency) -> bool:
        return role in self.roles and (not self.agencies or agency in self.agencies)

    def describe(self) -> str:
        roles = " or ".join(r.value.replace("_", " ") for r in self.roles)
        if not self.agencies:
            return roles
        return f"{roles} from {' or '.join(a.label for a in self.agencies)}"


_C, _P, _CH, _BM, _LR = (
    Role.COORDINATOR,
    Role.PANEL_MEMBER,
    Role.CHAIR,
    Role.BUSINESS_MANAGER,
    Role.LEAD_REVIEWER,
)


def _a(*roles: Role, agencies: tuple[Agency, ...] = ()) -> Authority:
    return Authority(roles=list(roles), agencies=list(agencies))


def default_authorities() -> dict[DecisionKind, list[Authority]]:
    """Who may make each decision, England-wide defaults."""
    cspr_progress = [_a(_C, _BM, _LR)]
    return {
        DecisionKind.TRIAGE: [_a(_CH, _P, _BM)],
        # The local authority notifies; the business team may record it on the LA's behalf.
        DecisionKind.NOTIFICATION_SUBMITTED: [
            _a(_C, _BM),
            _a(_P, _CH, agencies=(Agency.CHILDRENS_SOCIAL_CARE,)),
        ],
        DecisionKind.INFORMATION_REQUESTED: [_a(_C, _BM)],
        # Each agency's member returns their own agency's information (checked on the case).
        DecisionKind.INFORMATION_RETURNED: [_a(_C, _P, _BM)],
        DecisionKind.RAPID_REVIEW_DECISION: [_a(_CH)],
        DecisionKind.PANEL_RESPONSE: [_a(_C, _BM)],
        DecisionKind.LEAD_REVIEWER_APPOINTED: [_a(_C, _BM, _CH)],
        DecisionKind.TERMS_OF_REFERENCE_AGREED: [_a(_CH, _BM)],
        DecisionKind.AGENCY_INFORMATION_RECEIVED: cspr_progress,
        DecisionKind.INVOLVEMENT_COMPLETED: cspr_progress,
        DecisionKind.DRAFT_REPORT_RECEIVED: cspr_progress,
        DecisionKind.QUALITY_ASSURED: [_a(_CH)],
        DecisionKind.FINAL_REPORT_SENT: [_a(_C, _BM)],
        DecisionKind.PUBLICATION_PLANNED: [_a(_CH, _BM)],
        DecisionKind.PUBLISHED: [_a(_C, _BM)],
        DecisionKind.NOT_PUBLISHED: [_a(_CH, _BM)],
        DecisionKind.APPROACH_CHOSEN: [_a(_CH, _BM)],
        DecisionKind.OUTCOME_SHARED: [_a(_C, _CH, _BM)],
        DecisionKind.OTHER_REVIEW_COMPLETED: [_a(_C, _CH, _BM)],
        DecisionKind.ACTION_ADDED: [_a(_C, _CH, _BM)],
        # A lead agency's own member updates its actions (checked on the case).
        DecisionKind.ACTION_UPDATED: [_a(_C, _CH, _BM, _P)],
        DecisionKind.DEADLINE_EXTENDED: [_a(_CH, _BM)],
        DecisionKind.CASE_CLOSED: [_a(_CH, _BM)],
    }


class PartnershipSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field("ENGLAND", pattern=r"^[A-Z][A-Z0-9_]*$", min_length=2, max_length=16)
    name: str = "Safeguarding Children Partnership"

    # Who is who.
    review_group: str = "Safeguarding Practice Review Group"
    review_group_chair: str = "Chair of the Safeguarding Practice Review Group"
    business_manager: str = "Partnership Business Manager"
    executive: str = "Partnership Executive"
    learning_group: str = "Learning and Development Group"
    quality_assurance_group: str = "Quality Assurance Group"
    triage_by: str = "the review group's triage"
    single_agency_plan_monitor: str = "Safeguarding Practice Review Group"
    multi_agency_plan_monitor: str = "Quality Assurance Group"

    # Statutory clock (Working Together 2023) and local practice.
    triage_working_days: WorkingDays = 5
    #: When set, triage is due at the next weekly triage meeting on this weekday (0 = Monday)
    #: instead of a number of working days.
    triage_meeting_weekday: Annotated[int, Field(ge=0, le=6)] | None = None
    notification_working_days: WorkingDays = 5
    rapid_review_working_days: WorkingDays = 15
    rapid_review_counted_from: Literal["awareness", "notification"] = "awareness"
    information_return_working_days: WorkingDays = 5
    cspr_publication_months: Annotated[int, Field(ge=1, le=36)] = 6
    final_report_working_days_before_publication: WorkingDays = 7

    # Reminders and escalations around every deadline.
    reminder_working_days_before: WorkingDays = 2
    second_escalation_working_days_after: WorkingDays = 5

    # Days the partnership is closed, besides England and Wales bank holidays.
    closure_days: list[date] = Field(default_factory=list, max_length=400)

    authorities: dict[DecisionKind, list[Authority]] = Field(default_factory=default_authorities)

    def escalation_audience(self) -> str:
        return f"{self.review_group_chair}; {self.business_manager}"
