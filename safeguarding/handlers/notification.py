"""The Serious Incident Notification: the local authority notifies the National Panel (or, for a
care leaver's death, the Secretary of State and Ofsted) within working days of awareness."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import CaseFile
from safeguarding.case_records import Effects
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, WorkingDaysAfter
from safeguarding.decisions import NotificationSubmitted
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


HANDLERS: Handlers = {DecisionKind.NOTIFICATION_SUBMITTED: Notified()}
