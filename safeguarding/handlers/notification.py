"""The Serious Incident Notification: the local authority notifies the National Panel (or, for a
care leaver's death, the Secretary of State and Ofsted) within working days of awareness, and,
where the partnership tracks it (Liverpool), tells the partnership within the same days."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import CaseFile
from safeguarding.case_records import DecisionRefused, Effects
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, WorkingDaysAfter
from safeguarding.decisions import LaNoticeReceived, NotificationSubmitted
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.ids import DeadlineId
from safeguarding.vocabulary import Agency, DecisionKind


class Notified(DecisionHandler[NotificationSubmitted]):
    def record(
        self,
        case: CaseFile,
        decision: NotificationSubmitted,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        case.notification_reference = decision.reference
        case.notified_on = day
        case.meet_deadline(DeadlineId.NOTIFICATION, day, now)


class LaNotice(DecisionHandler[LaNoticeReceived]):
    def offered(self, case: CaseFile, decision: LaNoticeReceived) -> None:
        if not case.settings.offers(decision.kind):
            raise DecisionRefused(
                "not_offered",
                f"{case.settings.name} does not track the local authority's notice",
            )

    def check(self, case: CaseFile, decision: LaNoticeReceived, today: date) -> None:
        if case.la_notice_on is not None:
            raise DecisionRefused(
                "conflict",
                f"the local authority's notice was already recorded ({case.la_notice_on})",
            )
        if DeadlineId.LA_NOTICE not in case.deadlines:
            raise DecisionRefused(
                "conflict",
                "the local authority's notice is not awaited on this case (not notified)",
            )

    def record(
        self, case: CaseFile, decision: LaNoticeReceived, day: date, now: datetime, effects: Effects
    ) -> None:
        case.la_notice_on = day
        case.meet_deadline(DeadlineId.LA_NOTICE, day, now)


def notification_deadline(case: CaseFile, day: date) -> DeadlineRequest:
    """On entering the notification stage: the statutory working days from awareness."""
    return DeadlineRequest(
        deadline_id=DeadlineId.NOTIFICATION,
        kind=DeadlineKind.NOTIFICATION,
        title=(
            "Care leaver death notified to the Secretary of State and Ofsted"
            if case.referral.care_leaver
            else "Serious Incident Notification to the National Panel"
        ),
        owner=f"{Agency.CHILDRENS_SOCIAL_CARE.label}",
        statutory=True,
        rule=WorkingDaysAfter(start=case.aware_on, days=case.settings.notification_working_days),
    )


def la_notice_deadline(case: CaseFile, day: date) -> DeadlineRequest | None:
    """On entering the notification stage, where the partnership tracks it: the local
    authority tells the partnership of the incident within working days of awareness (not for
    a care leaver's death, notified to the Secretary of State and Ofsted)."""
    days = case.settings.la_notice_working_days
    if days is None or case.referral.care_leaver:
        return None
    return DeadlineRequest(
        deadline_id=DeadlineId.LA_NOTICE,
        kind=DeadlineKind.LA_NOTICE,
        title=f"Local authority's notice of the incident to the {case.settings.code}",
        owner=Agency.CHILDRENS_SOCIAL_CARE.label,
        statutory=True,
        rule=WorkingDaysAfter(start=case.aware_on, days=days),
    )


HANDLERS: Handlers = {
    DecisionKind.NOTIFICATION_SUBMITTED: Notified(),
    DecisionKind.LA_NOTICE_RECEIVED: LaNotice(),
}
