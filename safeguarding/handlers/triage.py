"""Triage: the review group screens a referral and chooses its route."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import CaseFile
from safeguarding.case_records import DecisionRefused, Effects
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, NextMeeting, WorkingDaysAfter
from safeguarding.decisions import TriageDecision
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.ids import DeadlineId
from safeguarding.vocabulary import DecisionKind, Route, TriageOutcome


class Triage(DecisionHandler[TriageDecision]):
    def offered(self, case: CaseFile, decision: TriageDecision) -> None:
        s = case.settings
        if decision.outcome not in s.routes:
            offered = ", ".join(r.value for r in s.routes)
            raise DecisionRefused(
                "not_offered",
                f"{s.name} does not use the {decision.outcome.value} route; "
                f"its triage outcomes are: {offered}",
            )
        if decision.review_type and decision.review_type not in s.other_review_types:
            offered = ", ".join(t.value for t in s.other_review_types)
            raise DecisionRefused(
                "not_offered",
                f"{s.name} does not hold a {decision.review_type.value}; "
                f"its other reviews are: {offered}",
            )

    def check(self, case: CaseFile, decision: TriageDecision, today: date) -> None:
        if decision.la_aware_on and decision.la_aware_on > today:
            raise DecisionRefused("invalid", "la_aware_on is in the future")

    def record(
        self, case: CaseFile, decision: TriageDecision, day: date, now: datetime, effects: Effects
    ) -> None:
        case.meet_deadline(DeadlineId.TRIAGE, day, now)
        if decision.la_aware_on:
            case.aware_on = decision.la_aware_on
        case.route = {
            # A care leaver's death is notified, on a route of its own.
            TriageOutcome.SERIOUS_INCIDENT: Route.CARE_LEAVER_NOTIFICATION
            if case.referral.care_leaver
            else Route.SERIOUS_INCIDENT,
            TriageOutcome.CASE_OF_CONCERN: Route.CASE_OF_CONCERN,
            TriageOutcome.OTHER_REVIEW: Route.OTHER_REVIEW,
            TriageOutcome.NO_FURTHER_ACTION: Route.NO_FURTHER_ACTION,
        }[decision.outcome]
        case.other_review_type = decision.review_type
        case.advice = decision.advice


def triage_deadline(case: CaseFile, day: date) -> DeadlineRequest:
    """On entering triage: decided at the next triage meeting, or within working days."""
    s = case.settings
    return DeadlineRequest(
        deadline_id=DeadlineId.TRIAGE,
        kind=DeadlineKind.TRIAGE,
        title="Triage decision",
        owner=s.triage_by,
        rule=(
            NextMeeting(start=case.referral.received_on, meetings=s.triage_meeting)
            if s.triage_meeting is not None
            else WorkingDaysAfter(start=case.referral.received_on, days=s.triage_working_days)
        ),
    )


HANDLERS: Handlers = {DecisionKind.TRIAGE: Triage()}
