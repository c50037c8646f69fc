"""Triage: the review group screens a referral and chooses its route; before it, where the
profile asks, the referring agency's member quality-assures the referral."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import STATUTORY_EDITION, CaseFile
from safeguarding.case_records import DecisionRefused, Effects, HistoryKind
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, NextMeeting, WorkingDaysAfter
from safeguarding.decisions import ReferralQualityAssured, TriageDecision
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.ids import DeadlineId
from safeguarding.referral import notification_criteria_unmet
from safeguarding.vocabulary import DecisionKind, Role, Route, TriageOutcome


class QualityAssured(DecisionHandler[ReferralQualityAssured]):
    def offered(self, case: CaseFile, decision: ReferralQualityAssured) -> None:
        if not case.settings.offers(decision.kind):
            raise DecisionRefused(
                "not_offered",
                f"{case.settings.name} does not quality-assure referrals before triage",
            )

    def check(self, case: CaseFile, decision: ReferralQualityAssured, today: date) -> None:
        if case.referral_quality_assured_on is not None:
            raise DecisionRefused(
                "conflict",
                f"the referral was already quality-assured on {case.referral_quality_assured_on}",
            )
        referring = case.referral.referrer.agency
        if decision.by.role is Role.PANEL_MEMBER and decision.by.agency != referring:
            raise DecisionRefused(
                "not_authorised",
                f"{decision.by.describe()} may quality-assure only their own agency's "
                f"referrals; this one is from {referring.label}",
            )

    def record(
        self,
        case: CaseFile,
        decision: ReferralQualityAssured,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        case.referral_quality_assured_on = day
        case.referral_quality_assured_by = decision.by


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
        s = case.settings
        if s.referral_quality_assurance and case.referral_quality_assured_on is None:
            raise DecisionRefused(
                "guard_failed",
                f"{s.name} has each referral quality-assured by the referring agency's member "
                f"of the {s.review_group} before triage: record referral_quality_assured first",
            )
        unmet = _unmet(case, decision)
        if unmet and not decision.criteria_not_met_reason:
            raise DecisionRefused(
                "criteria_not_met",
                "the statutory criteria for a Serious Incident Notification are not met: "
                f"{'; '.join(unmet)}. Notify only with criteria_not_met_reason (e.g. on the "
                "National Panel's advice)",
            )

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
            TriageOutcome.RAPID_REVIEW: Route.SERIOUS_CONCERN,
            TriageOutcome.CASE_OF_CONCERN: Route.CASE_OF_CONCERN,
            TriageOutcome.OTHER_REVIEW: Route.OTHER_REVIEW,
            TriageOutcome.NO_FURTHER_ACTION: Route.NO_FURTHER_ACTION,
        }[decision.outcome]
        case.other_review_type = decision.review_type
        case.advice = decision.advice
        unmet = _unmet(case, decision)
        if unmet and decision.criteria_not_met_reason:
            case.notified_outside_criteria = (
                f"{'; '.join(unmet)}. Reason: {decision.criteria_not_met_reason}"
            )
            case.log(
                now,
                HistoryKind.NOTICE,
                "Notified although the statutory criteria are not met "
                f"({'; '.join(unmet)}); reason: {decision.criteria_not_met_reason}",
            )


def _unmet(case: CaseFile, decision: TriageDecision) -> list[str]:
    """The notification criteria a serious-incident triage does not meet (cases under the
    statutory edition's rules only: older cases keep the rules they opened with)."""
    if decision.outcome is not TriageOutcome.SERIOUS_INCIDENT or case.edition < STATUTORY_EDITION:
        return []
    return notification_criteria_unmet(case.referral)


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


HANDLERS: Handlers = {
    DecisionKind.REFERRAL_QUALITY_ASSURED: QualityAssured(),
    DecisionKind.TRIAGE: Triage(),
}
