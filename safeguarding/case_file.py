"""The case file: what a case holds, and the bookkeeping every decision uses (its history, its
deadlines met or withdrawn).

`Case` (safeguarding/case.py) adds the process: checking and applying decisions through their
handlers (safeguarding/handlers/), entering stages (safeguarding/stages.py), alerts and status.
The handlers and the stage table work on this class, so they never import `Case`: no circle.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ConfigDict, Field, field_validator

from safeguarding import machine
from safeguarding.case_records import (
    Action,
    CareLeaverStepRecord,
    CaseOfConcernRecord,
    Channel,
    CsprRecord,
    DecisionResult,
    HistoryEntry,
    HistoryKind,
    InformationRecord,
    LearningOutputRecord,
    NationalReviewRecord,
    PanelInformationRecord,
    PanelResponseRecord,
    RapidReviewRecord,
)
from safeguarding.clock import uk_today
from safeguarding.deadlines import Deadline, DeadlineState
from safeguarding.decisions import Decision, Person
from safeguarding.model import DomainModel
from safeguarding.notices import Notice
from safeguarding.referral import Referral
from safeguarding.settings import PartnershipSettings, shared
from safeguarding.vocabulary import Agency, DecisionKind, OtherReviewType, Route, Stage

#: The rules a case runs under. 1: as first built; 2: the statutory-fidelity rules (the
#: Serious Incident Notification criteria, the LCSPR clock from the decision to review, the
#: steps after a care leaver's notification...). A case keeps the edition it opened with for
#: its whole life, so cases already open keep their path on replay (the workflow picks the
#: edition with `workflow.patched`); rules that differ ask `case.edition`.
FIRST_EDITION = 1
STATUTORY_EDITION = 2
CURRENT_EDITION = STATUTORY_EDITION


class CaseFile(DomainModel):
    """Everything the workflow knows about one referral; carried across continue-as-new."""

    model_config = ConfigDict(extra="forbid")

    case_ref: str
    referral: Referral
    settings: PartnershipSettings
    stage: Stage = machine.INITIAL_STAGE
    route: Route = Route.UNDECIDED
    opened_at: datetime
    closed_at: datetime | None = None
    aware_on: date
    late_referral: bool = False
    other_review_type: OtherReviewType | None = None
    advice: str | None = None
    notification_reference: str | None = None
    notified_on: date | None = None
    information: dict[Agency, InformationRecord] = Field(default_factory=dict)
    rapid_review: RapidReviewRecord | None = None
    panel_response: PanelResponseRecord | None = None
    cspr: CsprRecord | None = None
    case_of_concern: CaseOfConcernRecord | None = None
    other_review_findings: str | None = None
    actions: dict[str, Action] = Field(default_factory=dict)
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    #: The case history from entry `history_base` on (`history[i]` is entry `history_base + i`
    #: of the whole history: its `seq` in the register).
    history: list[HistoryEntry] = Field(default_factory=list)
    #: How many entries of the whole history came before `history`: dropped by `carry_over`
    #: once the register had acknowledged them (0 for a case that never dropped any).
    history_base: int = 0
    #: The results of the latest decisions, by decision id, in the order they were applied.
    applied: dict[str, DecisionResult] = Field(default_factory=dict)
    #: A digest of each decision in `applied` (by id), so the same id sent again with other
    #: content is refused as a conflict rather than answered with the first one's result.
    digests: dict[str, str] = Field(default_factory=dict)
    #: The ids of every earlier decision, by kind (`carry_over` moves them here from `applied`):
    #: a decision id is never applied twice, however long ago it was first applied.
    applied_earlier: dict[DecisionKind, list[str]] = Field(default_factory=dict)
    runs: int = 1
    #: The rules this case runs under (see `CURRENT_EDITION`); carried cases from before
    #: editions existed are first-edition cases.
    edition: int = FIRST_EDITION
    #: Notices waiting to be sent (the workflow delivers them in the background).
    outbox: list[Notice] = Field(default_factory=list)
    #: The professional-disagreement escalations raised on this case (their references).
    escalations: list[str] = Field(default_factory=list)
    # Issue #13 items 4 and 6: the National Panel's requests for more information, a national
    # review it commissioned, and what the partnership decided after a care leaver's
    # notification.
    panel_information: dict[str, PanelInformationRecord] = Field(default_factory=dict)
    national_review: NationalReviewRecord | None = None
    care_leaver_step: CareLeaverStepRecord | None = None
    # Issue #13, items 2, 5 and 7.
    #: Before triage, where the profile asks (Salford): the referral quality-assured, by whom.
    referral_quality_assured_on: date | None = None
    referral_quality_assured_by: Person | None = None
    #: A notification made although a statutory criterion is not met: which, and why.
    notified_outside_criteria: str | None = None
    #: The day the local authority told the partnership of the incident (where tracked).
    la_notice_on: date | None = None
    #: Issue 13, item 11: the learning outputs planned from the case's review, by id.
    learning: dict[str, LearningOutputRecord] = Field(default_factory=dict)

    @field_validator("settings", mode="after")
    @classmethod
    def _shared_settings(cls, settings: PartnershipSettings) -> PartnershipSettings:
        """The process's one copy of these settings (`settings.shared`), for every case read
        in: opened, carried across continue-as-new, restored."""
        return shared(settings)

    @property
    def closed(self) -> bool:
        return self.stage is Stage.CLOSED

    @property
    def history_count(self) -> int:
        """How many entries the whole case history has (the `seq` the next one gets)."""
        return self.history_base + len(self.history)

    def facts(self) -> frozenset[machine.Fact]:
        facts = {
            machine.Fact.CARE_LEAVER if self.referral.care_leaver else machine.Fact.NOT_CARE_LEAVER
        }
        if self.edition == FIRST_EDITION:
            facts.add(machine.Fact.FIRST_EDITION)
        if self.notified_on is None:
            facts.add(machine.Fact.NOT_NOTIFIED)
        if all(a.status.finished for a in self.actions.values()):
            facts.add(machine.Fact.ALL_ACTIONS_FINISHED)
        # Issue #13 items 4, 6, 9, 10.
        if self.edition >= STATUTORY_EDITION:
            facts.add(machine.Fact.STATUTORY_EDITION)
        if self.cspr is not None:
            facts.add(machine.Fact.LOCAL_CSPR)
        if self.national_review is not None:
            facts.add(machine.Fact.NATIONAL_REVIEW)
        if self.national_review is None or not self.national_review.outstanding:
            facts.add(machine.Fact.NO_CONTRIBUTION_OUTSTANDING)
        if self.learning_done_for_closure():
            facts.add(machine.Fact.LEARNING_DISSEMINATED)
        return frozenset(facts)

    def learning_done_for_closure(self) -> bool:
        """Issue 13, item 11: the case may close as far as its learning goes. Only a case under
        the statutory rules whose profile says so (`learning_before_closure`) waits for every
        learning output to be disseminated."""
        if self.edition < STATUTORY_EDITION or not self.settings.learning_before_closure:
            return True
        return all(output.disseminated for output in self.learning.values())

    def log(
        self,
        now: datetime,
        kind: HistoryKind,
        text: str,
        *,
        decision: Decision | None = None,
        via: Channel | None = None,
        deadline_id: str | None = None,
    ) -> None:
        """Add an entry to the case history."""
        self.history.append(
            HistoryEntry(
                at=now,
                kind=kind,
                stage=self.stage,
                text=text,
                decision_id=decision.decision_id if decision else None,
                decision_kind=decision.kind.value if decision else None,
                by=decision.by if decision else None,
                via=via,
                deadline_id=deadline_id,
                occurred_on=(decision.occurred_on or uk_today(now)) if decision else None,
                why=_why(decision) if decision else None,
            )
        )

    def meet_deadline(self, deadline_id: str, day: date, now: datetime) -> None:
        """The work a deadline waited for was done on `day` (nothing if it is not open)."""
        deadline = self.deadlines.get(deadline_id)
        if deadline is None or not deadline.open:
            return
        deadline.met_on = day
        deadline.met_at = now
        state = deadline.state(now)
        self.log(
            now,
            HistoryKind.DEADLINE_MET,
            f"{deadline.title}: done {day} ({'in time' if state is DeadlineState.MET else 'late'}"
            f", due {deadline.due_on})",
            deadline_id=deadline_id,
        )

    def withdraw_deadline(self, deadline_id: str, now: datetime, why: str) -> None:
        """The work a deadline waited for is no longer needed (nothing if it is not open)."""
        deadline = self.deadlines.get(deadline_id)
        if deadline is None or not deadline.open:
            return
        deadline.withdrawn_at = now
        self.log(
            now,
            HistoryKind.DEADLINE_WITHDRAWN,
            f"{deadline.title}: no longer needed ({why})",
            deadline_id=deadline_id,
        )


def _why(decision: Decision) -> str | None:
    """Why a decision was made, in its maker's words: the note, else the reasons it states."""
    for text in (
        decision.note,
        getattr(decision, "reasons", None),
        getattr(decision, "reason", None),
        getattr(decision, "advice", None),
        getattr(decision, "criteria_not_met_reason", None),
    ):
        if isinstance(text, str) and text:
            return text if len(text) <= 500 else text[:497] + "..."
    return None
