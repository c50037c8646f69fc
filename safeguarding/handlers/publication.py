"""Issue #13 item 10: publication as the partnership is held to it. Before a Local CSPR is
published the agencies' press or communications offices are told (where the profile says so:
Croydon's SPRG members inform "their organisation's press office"), the report is checked for
anonymisation and redaction, and the family has been offered the report; the publication is
recorded with where, when and until when it stays published; and the safeguarding partners'
response to the findings is recorded.
"""

from __future__ import annotations

from datetime import date, datetime

from dateutil.relativedelta import relativedelta

from safeguarding.case_file import STATUTORY_EDITION, CaseFile
from safeguarding.case_records import CsprRecord, DecisionRefused, Effects
from safeguarding.decisions import (
    AnonymisationChecked,
    CommunicationsNotified,
    PartnersResponseRecorded,
    Published,
)
from safeguarding.handlers import involvement
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.vocabulary import DecisionKind, InvolvementMilestone, Stage


def _cspr(case: CaseFile) -> CsprRecord:
    assert case.cspr is not None  # only on the Local CSPR route
    return case.cspr


def before_publication(case: CaseFile) -> list[str]:
    """What publication still needs (statutory edition), as tasks; empty when ready."""
    if case.edition < STATUTORY_EDITION or case.cspr is None:
        return []
    needs = []
    if case.settings.communications_before_publication and not case.cspr.communications_notified_on:
        needs.append("Tell the agencies' press or communications offices (communications_notified)")
    if case.cspr.anonymisation_checked_on is None:
        needs.append("Check the report's anonymisation and redaction (anonymisation_checked)")
    needs += [
        involvement.TASKS[m] + " (involvement_recorded)"
        for m in involvement.missing(case, involvement.BEFORE_PUBLICATION)
    ]
    return needs


def check_publication(case: CaseFile, decision: Published, today: date) -> None:
    """Statutory edition: what publishing needs first, and the publication record."""
    if case.edition < STATUTORY_EDITION:
        return
    needs = before_publication(case)
    if needs:
        raise DecisionRefused("conflict", "not yet ready to publish: " + "; ".join(needs))
    if not decision.location or decision.available_until is None:
        raise DecisionRefused(
            "invalid",
            "record where the report is published (location) and until when "
            "it stays published (available_until)",
        )
    day = decision.occurred_on or today
    months = case.settings.publication_minimum_months
    if decision.available_until < day + relativedelta(months=months):
        raise DecisionRefused(
            "invalid",
            f"available_until {decision.available_until}: a report stays published at least "
            f"{months} months (until {day + relativedelta(months=months)} or later)",
        )


def after_publication(case: CaseFile) -> list[str]:
    """Tasks once a statutory-edition Local CSPR is published (or not): the partners' response
    and the practitioners' feedback on the outcome."""
    cspr = case.cspr
    if case.edition < STATUTORY_EDITION or cspr is None:
        return []
    if cspr.published_on is None and cspr.not_published_reasons is None:
        return []
    tasks = []
    if cspr.partners_response_on is None:
        tasks.append("Record the safeguarding partners' response to the findings")
    if InvolvementMilestone.PRACTITIONERS_FEEDBACK not in cspr.involvement:
        tasks.append(involvement.TASKS[InvolvementMilestone.PRACTITIONERS_FEEDBACK])
    return tasks


def outstanding(case: CaseFile) -> list[tuple[str, str]]:
    """Issue #13 items 9 and 10: what a statutory-edition Local CSPR still waits on besides its
    stage's own work, as (task, who owes it: an owner key of `stages.Owner`)."""
    tasks: list[tuple[str, str]] = []
    if case.stage is Stage.CSPR_INVOLVEMENT:
        tasks += [
            (involvement.TASKS[m], "lead_reviewer")
            for m in involvement.missing(case, involvement.BEFORE_INVOLVEMENT_COMPLETED)
        ]
    if case.stage is Stage.CSPR_PUBLICATION:
        tasks += [(task, "business_manager") for task in before_publication(case)]
    tasks += [(task, "review_group") for task in after_publication(case)]
    return tasks


class Communications(DecisionHandler[CommunicationsNotified]):
    def record(
        self,
        case: CaseFile,
        decision: CommunicationsNotified,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        cspr = _cspr(case)
        cspr.communications_notified_on = day
        cspr.communications_agencies = list(decision.agencies)


class Anonymisation(DecisionHandler[AnonymisationChecked]):
    def record(
        self,
        case: CaseFile,
        decision: AnonymisationChecked,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        cspr = _cspr(case)
        cspr.anonymisation_checked_on = day
        cspr.redactions_made = decision.redactions_made


class PartnersResponse(DecisionHandler[PartnersResponseRecorded]):
    def record(
        self,
        case: CaseFile,
        decision: PartnersResponseRecorded,
        day: date,
        now: datetime,
        effects: Effects,
    ) -> None:
        cspr = _cspr(case)
        cspr.partners_response_on = day
        cspr.partners_response = decision.summary


HANDLERS: Handlers = {
    DecisionKind.COMMUNICATIONS_NOTIFIED: Communications(),
    DecisionKind.ANONYMISATION_CHECKED: Anonymisation(),
    DecisionKind.PARTNERS_RESPONSE_RECORDED: PartnersResponse(),
}
