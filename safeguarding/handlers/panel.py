"""Issue #13 item 6: the Rapid Review sent to the National Panel, the Panel's response awaited
(reminded, then chased, working days after sending), the Panel's requests for more information,
and a national review the Panel commissioned, with the partnership's contributions to it.

Working Together 2023 (chapter 5): the Rapid Review is completed and sent to the National Panel
within 15 working days; the Panel responds, may ask for more, and may take a national review.
"""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import STATUTORY_EDITION, CaseFile
from safeguarding.case_records import (
    ContributionRecord,
    DecisionRefused,
    Effects,
    PanelInformationRecord,
)
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, OnDate, WorkingDaysAfter
from safeguarding.decisions import (
    ContributionMade,
    ContributionRequested,
    PanelInformationRequested,
    PanelInformationSent,
    RapidReviewSent,
)
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.ids import DeadlineId
from safeguarding.vocabulary import DecisionKind

NATIONAL_PANEL = "the National Panel"


def statutory(case: CaseFile) -> bool:
    return case.edition >= STATUTORY_EDITION


def panel_response_deadline(case: CaseFile, sent_on: date) -> DeadlineRequest:
    """The Panel's response, awaited from the day the Rapid Review (or further information)
    went: reminded before, chased (escalated to the chair and business manager) after."""
    s = case.settings
    return DeadlineRequest(
        deadline_id=DeadlineId.PANEL_RESPONSE,
        kind=DeadlineKind.PANEL_RESPONSE,
        title="National Panel's response to the Rapid Review (chase the Panel if not received)",
        owner=s.business_manager,
        rule=WorkingDaysAfter(start=sent_on, days=s.panel_response_chase_working_days),
    )


class Sent(DecisionHandler[RapidReviewSent]):
    def check(self, case: CaseFile, decision: RapidReviewSent, today: date) -> None:
        rapid = case.rapid_review
        if rapid is None:  # the machine allows it only after the decision
            raise DecisionRefused("conflict", "the Rapid Review has not decided yet")
        if rapid.sent_to_panel_on is not None:
            raise DecisionRefused(
                "conflict", f"the Rapid Review was already sent on {rapid.sent_to_panel_on}"
            )
        day = decision.occurred_on or today
        if day < rapid.decided_on:
            raise DecisionRefused(
                "invalid",
                f"occurred_on {day} is before the Rapid Review decided ({rapid.decided_on})",
            )

    def record(
        self, case: CaseFile, decision: RapidReviewSent, day: date, now: datetime, effects: Effects
    ) -> None:
        assert case.rapid_review is not None
        case.rapid_review.sent_to_panel_on = day
        # The statutory 15 working days run to the Rapid Review's sending (statutory edition;
        # a first-edition case met them at its decision, and this does nothing).
        case.meet_deadline(DeadlineId.RAPID_REVIEW, day, now)
        effects.deadline_requests.append(panel_response_deadline(case, day))


class InformationAsked(DecisionHandler[PanelInformationRequested]):
    def check(self, case: CaseFile, decision: PanelInformationRequested, today: date) -> None:
        if decision.request_id in case.panel_information:
            raise DecisionRefused(
                "conflict", f"there is already a National Panel request {decision.request_id!r}"
            )
        if decision.due_on and decision.due_on < today:
            raise DecisionRefused("invalid", f"due_on {decision.due_on} is past")

    def record(
        self,
        case: CaseFile,
        decision: PanelInformationRequested,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        s = case.settings
        case.panel_information[decision.request_id] = PanelInformationRecord(
            request_id=decision.request_id, asked_for=decision.asked_for, requested_on=day
        )
        rule: OnDate | WorkingDaysAfter = (
            OnDate(due=decision.due_on)
            if decision.due_on
            else WorkingDaysAfter(start=day, days=s.panel_information_working_days)
        )
        effects.deadline_requests.append(
            DeadlineRequest(
                deadline_id=DeadlineId.panel_information(decision.request_id),
                kind=DeadlineKind.PANEL_INFORMATION,
                title=f"Further information for the National Panel ({decision.request_id})",
                owner=s.business_manager,
                rule=rule,
            )
        )


class InformationSent(DecisionHandler[PanelInformationSent]):
    def check(self, case: CaseFile, decision: PanelInformationSent, today: date) -> None:
        request = case.panel_information.get(decision.request_id)
        if request is None:
            asked = ", ".join(case.panel_information) or "none"
            raise DecisionRefused(
                "conflict",
                f"no National Panel request {decision.request_id!r}; requests: {asked}",
            )
        if request.sent_on is not None:
            raise DecisionRefused(
                "conflict", f"request {decision.request_id!r} was answered on {request.sent_on}"
            )

    def record(
        self,
        case: CaseFile,
        decision: PanelInformationSent,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        case.panel_information[decision.request_id].sent_on = day
        case.meet_deadline(DeadlineId.panel_information(decision.request_id), day, now)
        # The Panel's response is now awaited from what was sent last.
        chase = case.deadlines.get(DeadlineId.PANEL_RESPONSE)
        if chase is not None and chase.open:
            effects.deadline_requests.append(panel_response_deadline(case, day))


class ContributionAsked(DecisionHandler[ContributionRequested]):
    def check(self, case: CaseFile, decision: ContributionRequested, today: date) -> None:
        review = case.national_review
        if review is not None and decision.contribution_id in review.contributions:
            raise DecisionRefused(
                "conflict", f"there is already a contribution {decision.contribution_id!r}"
            )
        if decision.due_on < today:
            raise DecisionRefused("invalid", f"due_on {decision.due_on} is past")

    def record(
        self,
        case: CaseFile,
        decision: ContributionRequested,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        assert case.national_review is not None  # the machine's guard
        case.national_review.contributions[decision.contribution_id] = ContributionRecord(
            contribution_id=decision.contribution_id,
            description=decision.description,
            lead_agency=decision.lead_agency,
            requested_on=day,
            due_on=decision.due_on,
        )
        effects.deadline_requests.append(
            DeadlineRequest(
                deadline_id=DeadlineId.national_review_contribution(decision.contribution_id),
                kind=DeadlineKind.NATIONAL_REVIEW_CONTRIBUTION,
                title=f"Contribution to the national review ({decision.contribution_id})",
                owner=decision.lead_agency.label,
                rule=OnDate(due=decision.due_on),
            )
        )


class ContributionDone(DecisionHandler[ContributionMade]):
    def check(self, case: CaseFile, decision: ContributionMade, today: date) -> None:
        review = case.national_review
        found = review.contributions.get(decision.contribution_id) if review else None
        if found is None:
            known = ", ".join(review.contributions) if review else ""
            raise DecisionRefused(
                "conflict",
                f"no contribution {decision.contribution_id!r}; contributions: {known or 'none'}",
            )
        if found.made_on is not None:
            raise DecisionRefused(
                "conflict", f"{decision.contribution_id!r} was made on {found.made_on}"
            )

    def record(
        self, case: CaseFile, decision: ContributionMade, day: date, now: datetime, effects: Effects
    ) -> None:
        assert case.national_review is not None
        case.national_review.contributions[decision.contribution_id].made_on = day
        deadline_id = DeadlineId.national_review_contribution(decision.contribution_id)
        case.meet_deadline(deadline_id, day, now)


HANDLERS: Handlers = {
    DecisionKind.RAPID_REVIEW_SENT: Sent(),
    DecisionKind.PANEL_INFORMATION_REQUESTED: InformationAsked(),
    DecisionKind.PANEL_INFORMATION_SENT: InformationSent(),
    DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED: ContributionAsked(),
    DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_MADE: ContributionDone(),
}
