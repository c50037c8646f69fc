"""The Rapid Review: agencies' information requested and returned, the review group's decision,
and the National Panel's response to it."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import STATUTORY_EDITION, CaseFile
from safeguarding.case_records import (
    CsprRecord,
    DecisionRefused,
    Effects,
    InformationRecord,
    NationalReviewRecord,
    PanelResponseRecord,
    RapidReviewRecord,
)
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, OnDate, WorkingDaysAfter
from safeguarding.decisions import (
    InformationRequested,
    InformationReturned,
    PanelResponse,
    RapidReviewDecision,
)
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.ids import DeadlineId
from safeguarding.notices import Notice
from safeguarding.vocabulary import DecisionKind, ReviewOutcome, Role, Route


class InformationRequests(DecisionHandler[InformationRequested]):
    def check(self, case: CaseFile, decision: InformationRequested, today: date) -> None:
        for request in decision.requests:
            if request.agency in case.information:
                raise DecisionRefused(
                    "conflict",
                    f"information was already requested from {request.agency.label}; "
                    f"extend its deadline instead",
                )
            if request.due_on and request.due_on < today:
                raise DecisionRefused(
                    "invalid", f"due_on {request.due_on} for {request.agency.label} is past"
                )

    def record(
        self,
        case: CaseFile,
        decision: InformationRequested,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        s = case.settings
        for request in decision.requests:
            case.information[request.agency] = InformationRecord(
                agency=request.agency, requested_on=day
            )
            rule: OnDate | WorkingDaysAfter = (
                OnDate(due=request.due_on)
                if request.due_on
                else WorkingDaysAfter(start=day, days=s.information_return_working_days)
            )
            deadline_id = DeadlineId.information(request.agency)
            member = f"{request.agency.label} member of the {s.review_group}"
            effects.deadline_requests.append(
                DeadlineRequest(
                    deadline_id=deadline_id,
                    kind=DeadlineKind.AGENCY_INFORMATION,
                    title=f"Rapid review information from {request.agency.label}",
                    owner=member,
                    rule=rule,
                )
            )
            effects.notices.append(
                Notice(
                    notice_id=f"{case.case_ref}:{decision.decision_id}:{request.agency.value}",
                    case_ref=case.case_ref,
                    partnership=s.code,
                    kind="information_request",
                    audience=member,
                    subject=f"[{case.case_ref}] Rapid review information request",
                    recipients=(request.agency.value,),
                    body=(
                        f"Please return your agency's rapid review information for case "
                        f"{case.case_ref}. The due date is in the case record."
                    ),
                    deadline_id=deadline_id,
                )
            )


class InformationReturns(DecisionHandler[InformationReturned]):
    def check(self, case: CaseFile, decision: InformationReturned, today: date) -> None:
        record = case.information.get(decision.agency)
        if record is None:
            raise DecisionRefused(
                "conflict", f"no information was requested from {decision.agency.label}"
            )
        if record.returned_on is not None:
            raise DecisionRefused(
                "conflict",
                f"{decision.agency.label} already returned its information on {record.returned_on}",
            )
        if decision.by.role is Role.PANEL_MEMBER and decision.by.agency != decision.agency:
            raise DecisionRefused(
                "not_authorised",
                f"{decision.by.describe()} may return only their own agency's information",
            )

    def record(
        self,
        case: CaseFile,
        decision: InformationReturned,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        record = case.information[decision.agency]
        record.returned_on = day
        record.returned_by = decision.by
        case.meet_deadline(DeadlineId.information(decision.agency), day, now)


class RapidReviewDecided(DecisionHandler[RapidReviewDecision]):
    def record(
        self,
        case: CaseFile,
        decision: RapidReviewDecision,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        if case.edition < STATUTORY_EDITION or case.route is Route.SERIOUS_CONCERN:
            # Issue #13 item 6: from the statutory edition the 15 working days run to the Rapid
            # Review's sending to the National Panel (`rapid_review_sent`); a case of serious
            # concern was not notified, so its review is done when decided.
            case.meet_deadline(DeadlineId.RAPID_REVIEW, day, now)
        case.rapid_review = RapidReviewRecord(
            decided_on=day,
            recommendation=decision.recommendation,
            attendees=decision.attendees,
            possible_national_importance=decision.possible_national_importance,
            immediate_safety_actions=decision.immediate_safety_actions,
            learning=decision.learning,
        )
        # Information not returned by the decision is no longer awaited.
        for agency, record in case.information.items():
            if record.returned_on is None:
                case.withdraw_deadline(DeadlineId.information(agency), now, "rapid review decided")
        if case.route is Route.SERIOUS_CONCERN:
            # Not notified, so no National Panel response: the review group's own decision
            # starts the Local CSPR, or leaves learning only (the machine moves the case on).
            local_review = decision.recommendation is ReviewOutcome.LOCAL_CSPR
            case.route = Route.LOCAL_CSPR if local_review else Route.LEARNING_ONLY
            if local_review:
                # Issue #13 item 1: the review group's decision initiates the review, and starts
                # its 6 months.
                case.cspr = CsprRecord(
                    decided_on=day, clock_from=day, initiated_by=CLOCK_FROM_RAPID_REVIEW
                )


class PanelResponded(DecisionHandler[PanelResponse]):
    def check(self, case: CaseFile, decision: PanelResponse, today: date) -> None:
        if case.edition < STATUTORY_EDITION:
            return
        # Issue #13 items 1 and 6 (statutory edition).
        rapid = case.rapid_review
        if rapid is None or rapid.sent_to_panel_on is None:
            raise DecisionRefused(
                "conflict",
                "record when the Rapid Review was sent to the National Panel first "
                "(rapid_review_sent)",
            )
        day = decision.occurred_on or today
        if day < rapid.sent_to_panel_on:
            raise DecisionRefused(
                "invalid",
                f"occurred_on {day} is before the Rapid Review was sent ({rapid.sent_to_panel_on})",
            )
        changed_on = decision.decision_changed_on
        if changed_on is None:
            return
        if decision.outcome is rapid.recommendation:
            raise DecisionRefused(
                "invalid",
                f"decision_changed_on applies only when the partners changed their decision; "
                f"the outcome is the Rapid Review's own ({rapid.recommendation.value})",
            )
        if changed_on < day or changed_on > today:
            raise DecisionRefused(
                "invalid",
                f"decision_changed_on {changed_on} must be between the Panel's response ({day}) "
                f"and today ({today})",
            )

    def record(
        self, case: CaseFile, decision: PanelResponse, day: date, now: datetime, effects: Effects
    ) -> None:
        case.panel_response = PanelResponseRecord(
            received_on=day,
            panel_agrees=decision.panel_agrees,
            outcome=decision.outcome,
            national_review=decision.national_review,
        )
        local_review = decision.outcome is ReviewOutcome.LOCAL_CSPR
        case.route = Route.LOCAL_CSPR if local_review else Route.LEARNING_ONLY
        if local_review:
            case.cspr = CsprRecord(decided_on=day)
            clock_from, basis = lcspr_clock(case, decision, day)
            case.cspr.clock_from, case.cspr.initiated_by = clock_from, basis
        if decision.national_review:
            case.national_review = NationalReviewRecord(commissioned_on=day)
        # Issue #13 item 6: the response has come; what the Panel asked for meanwhile is moot.
        case.meet_deadline(DeadlineId.PANEL_RESPONSE, day, now)
        for request in case.panel_information.values():
            if request.sent_on is None:
                deadline_id = DeadlineId.panel_information(request.request_id)
                case.withdraw_deadline(deadline_id, now, "the National Panel responded")


#: Issue #13 item 1: which decision started a Local CSPR's 6 months (`CsprRecord.initiated_by`).
CLOCK_FROM_RAPID_REVIEW = "rapid_review_decision"
CLOCK_FROM_CHANGED_DECISION = "decision_changed_after_panel_response"
CLOCK_FROM_PANEL_RESPONSE = "panel_response"  # first-edition cases


def lcspr_clock(case: CaseFile, decision: PanelResponse, day: date) -> tuple[date, str]:
    """The day a Local CSPR's 6 months count from, and why. Working Together 2023: from the
    safeguarding partners' decision to initiate the review, which is the Rapid Review's
    recommendation, or, if the partners changed their decision after the Panel's response, the
    changed decision; a Panel reply weeks later does not move it. First-edition cases counted
    from the Panel's response, and keep doing so."""
    rapid = case.rapid_review
    if case.edition < STATUTORY_EDITION or rapid is None:
        return day, CLOCK_FROM_PANEL_RESPONSE
    if rapid.recommendation is ReviewOutcome.LOCAL_CSPR:
        return rapid.decided_on, CLOCK_FROM_RAPID_REVIEW
    return decision.decision_changed_on or day, CLOCK_FROM_CHANGED_DECISION


def rapid_review_deadline(
    case: CaseFile, start: date, *, statutory: bool = True, title: str | None = None
) -> DeadlineRequest:
    s = case.settings
    return DeadlineRequest(
        deadline_id=DeadlineId.RAPID_REVIEW,
        kind=DeadlineKind.RAPID_REVIEW,
        title=title
        or (
            "Rapid Review completed and sent to the National Panel"
            if case.edition >= STATUTORY_EDITION
            else "Rapid Review completed"
        ),
        owner=s.review_group,
        statutory=statutory,
        rule=WorkingDaysAfter(start=start, days=s.rapid_review_working_days),
    )


def rapid_review_from_awareness(case: CaseFile, day: date) -> DeadlineRequest | None:
    """On entering the notification stage, where the partnership counts the Rapid Review from
    the local authority's awareness (a care leaver's death starts no Rapid Review)."""
    if case.referral.care_leaver or case.settings.rapid_review_counted_from != "awareness":
        return None
    return rapid_review_deadline(case, case.aware_on)


def rapid_review_from_notification(case: CaseFile, day: date) -> DeadlineRequest | None:
    """On entering the Rapid Review, where the partnership counts it from the notification."""
    if case.route is Route.SERIOUS_CONCERN:
        return None
    if case.settings.rapid_review_counted_from != "notification":
        return None
    return rapid_review_deadline(case, day)


def rapid_review_of_serious_concern(case: CaseFile, day: date) -> DeadlineRequest | None:
    """On entering the Rapid Review from triage, without a notification (a case of serious
    concern): the panel meets within the same working days of the triage decision, a local
    timescale rather than a statutory one."""
    if case.route is not Route.SERIOUS_CONCERN:
        return None
    return rapid_review_deadline(
        case, day, statutory=False, title="Rapid Review completed (case of serious concern)"
    )


HANDLERS: Handlers = {
    DecisionKind.INFORMATION_REQUESTED: InformationRequests(),
    DecisionKind.INFORMATION_RETURNED: InformationReturns(),
    DecisionKind.RAPID_REVIEW_DECISION: RapidReviewDecided(),
    DecisionKind.PANEL_RESPONSE: PanelResponded(),
}
