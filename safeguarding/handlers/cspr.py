"""The Local Child Safeguarding Practice Review: its milestones in order, its planned
publication (the final report falls due some working days before), and publication or the
recorded decision not to publish."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import STATUTORY_EDITION, CaseFile
from safeguarding.case_records import CsprRecord, DecisionRefused, Effects
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, MonthsAfter, WorkingDaysBefore
from safeguarding.decisions import CsprMilestone, NotPublished, PublicationPlanned, Published
from safeguarding.handlers import involvement, publication
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.ids import DeadlineId
from safeguarding.machine import CSPR_MILESTONES
from safeguarding.vocabulary import DecisionKind


def _cspr(case: CaseFile) -> CsprRecord:
    # The machine allows these decisions only on the CSPR route, which the Panel's response opened.
    assert case.cspr is not None
    return case.cspr


class Milestone(DecisionHandler[CsprMilestone]):
    def check(self, case: CaseFile, decision: CsprMilestone, today: date) -> None:
        if decision.kind is DecisionKind.INVOLVEMENT_COMPLETED:  # issue #13 item 9
            involvement.require(
                case, involvement.BEFORE_INVOLVEMENT_COMPLETED, "before involvement_completed"
            )

    def record(
        self, case: CaseFile, decision: CsprMilestone, day: date, now: datetime, effects: Effects
    ) -> None:
        cspr = _cspr(case)
        cspr.milestones[decision.kind] = day
        if decision.lead_reviewer:
            cspr.lead_reviewer = decision.lead_reviewer
        if decision.kind is DecisionKind.FINAL_REPORT_SENT:
            case.meet_deadline(DeadlineId.CSPR_FINAL_REPORT, day, now)


class PublicationPlan(DecisionHandler[PublicationPlanned]):
    def check(self, case: CaseFile, decision: PublicationPlanned, today: date) -> None:
        if decision.planned_on <= today:
            raise DecisionRefused("invalid", "planned_on must be after today")

    def record(
        self,
        case: CaseFile,
        decision: PublicationPlanned,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        _cspr(case).planned_publication_on = decision.planned_on
        effects.deadline_requests.append(final_report_deadline(case, decision.planned_on))


class Publication(DecisionHandler[Published]):
    def check(self, case: CaseFile, decision: Published, today: date) -> None:
        publication.check_publication(case, decision, today)  # issue #13 items 9 and 10

    def record(
        self, case: CaseFile, decision: Published, day: date, now: datetime, effects: Effects
    ) -> None:
        cspr = _cspr(case)
        cspr.published_on = day
        cspr.published_at_location = decision.location
        cspr.available_until = decision.available_until
        case.meet_deadline(DeadlineId.CSPR_PUBLICATION, day, now)


class NoPublication(DecisionHandler[NotPublished]):
    def record(
        self, case: CaseFile, decision: NotPublished, day: date, now: datetime, effects: Effects
    ) -> None:
        _cspr(case).not_published_reasons = decision.reasons
        case.meet_deadline(DeadlineId.CSPR_PUBLICATION, day, now)


def final_report_deadline(case: CaseFile, publication_on: date) -> DeadlineRequest:
    """The final report goes to the National Panel and the Secretary of State some working days
    before publication."""
    s = case.settings
    return DeadlineRequest(
        deadline_id=DeadlineId.CSPR_FINAL_REPORT,
        kind=DeadlineKind.CSPR_FINAL_REPORT,
        title="Final report sent to the National Panel and the Secretary of State",
        owner=s.business_manager,
        statutory=True,
        rule=WorkingDaysBefore(
            target=publication_on, days=s.final_report_working_days_before_publication
        ),
    )


def publication_deadline(case: CaseFile, day: date) -> DeadlineRequest:
    """On entering the CSPR: published (or not, with reasons) within months of the decision to
    initiate the review (issue #13 item 1: `CsprRecord.clock_from`, the Rapid Review's decision
    or the partners' changed one; first-edition cases count from the Panel's response)."""
    s = case.settings
    if case.edition >= STATUTORY_EDITION and case.cspr and case.cspr.clock_from:
        day = case.cspr.clock_from
    return DeadlineRequest(
        deadline_id=DeadlineId.CSPR_PUBLICATION,
        kind=DeadlineKind.CSPR_PUBLICATION,
        title="Local CSPR published (or decision not to publish recorded)",
        owner=s.review_group,
        statutory=True,
        rule=MonthsAfter(start=day, months=s.cspr_publication_months),
    )


_MILESTONE = Milestone()
HANDLERS: Handlers = {
    **{kind: _MILESTONE for _, kind, _ in CSPR_MILESTONES},
    DecisionKind.PUBLICATION_PLANNED: PublicationPlan(),
    DecisionKind.PUBLISHED: Publication(),
    DecisionKind.NOT_PUBLISHED: NoPublication(),
}
