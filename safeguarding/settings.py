"""Everything that differs between partnerships, in one object with England-wide defaults.

A partnership's profile overrides these; a running case keeps the settings it started with (they
are loaded once, by an activity, and carried in the workflow's state).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from safeguarding.contacts import Contacts
from safeguarding.decisions import DECISION_MODELS, Decision, DecisionBase
from safeguarding.fields import shape_of
from safeguarding.model import DomainModel
from safeguarding.retention import RetentionSchedule
from safeguarding.vocabulary import Agency, DecisionKind, OtherReviewType, Role, TriageOutcome

WorkingDays = Annotated[int, Field(ge=0, le=250)]


class Authority(DomainModel):
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
    """Who may make each decision, England-wide defaults: a new dict and lists each call, the
    `Authority` values (frozen) shared. Built once: every case's settings are read with these
    under them (`PartnershipSettings._over_defaults`), and building the forty models cost about
    0.25 ms a time (issue 16)."""
    return {kind: list(allowed) for kind, allowed in _DEFAULT_AUTHORITIES.items()}


def _build_default_authorities() -> dict[DecisionKind, list[Authority]]:
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
        # Issue #13 items 4, 6, 9, 10.
        DecisionKind.RAPID_REVIEW_SENT: [_a(_C, _BM)],
        DecisionKind.PANEL_INFORMATION_REQUESTED: [_a(_C, _BM)],
        DecisionKind.PANEL_INFORMATION_SENT: [_a(_C, _BM)],
        DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_REQUESTED: [_a(_C, _BM)],
        DecisionKind.NATIONAL_REVIEW_CONTRIBUTION_MADE: [_a(_C, _BM, _P)],
        DecisionKind.CARE_LEAVER_NEXT_STEP: [_a(_CH, _BM)],
        DecisionKind.INVOLVEMENT_RECORDED: [_a(_C, _BM, _LR)],
        DecisionKind.COMMUNICATIONS_NOTIFIED: [_a(_C, _BM)],
        DecisionKind.ANONYMISATION_CHECKED: [_a(_CH, _BM)],
        DecisionKind.PARTNERS_RESPONSE_RECORDED: [_a(_CH, _BM)],
        # Issue #13, item 5: the referring agency's member of the review group (checked on the
        # case), or the chair or business manager where the agency has none.
        DecisionKind.REFERRAL_QUALITY_ASSURED: [_a(_P, _CH, _BM)],
        # Issue #13, item 7: the local authority's notice, recorded as the notification is.
        DecisionKind.LA_NOTICE_RECEIVED: [
            _a(_C, _BM),
            _a(_P, _CH, agencies=(Agency.CHILDRENS_SOCIAL_CARE,)),
        ],
        # Issue 13, item 11: the business team plans and tracks the learning group's outputs;
        # a review-group member may report the impact in their own agency (Croydon's SPRG
        # members "report on the sharing of/impact of learning in their organisation").
        DecisionKind.LEARNING_PLANNED: [_a(_C, _CH, _BM)],
        DecisionKind.LEARNING_DISSEMINATED: [_a(_C, _CH, _BM)],
        DecisionKind.LEARNING_IMPACT_RECORDED: [_a(_C, _CH, _BM, _P)],
    }


_DEFAULT_AUTHORITIES = _build_default_authorities()

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class MeetingCadence(DomainModel):
    """When a group meets, so a decision that needs a meeting is due by the next one.

    - weekly: every `weekday`;
    - every_n_weeks: every `interval` weeks from `first_meeting` (Liverpool SPRG: 5);
    - every_n_months: every `interval` months on the same weekday of the month as `first_meeting`
      (e.g. the 2nd Tuesday; `interval` 1 = monthly, 2 = bi-monthly);
    - virtual: no meeting; the decision is due `within_working_days` (Salford's Virtual Panel).
    A published schedule (`scheduled`) wins over the cadence while it has dates left. A meeting
    that falls on a day the partnership is closed moves to the next working day.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str = Field(min_length=1, max_length=120)
    kind: Literal["weekly", "every_n_weeks", "every_n_months", "virtual"]
    interval: Annotated[int, Field(ge=1, le=12)] = 1
    weekday: Annotated[int, Field(ge=0, le=6)] | None = None
    first_meeting: date | None = None
    within_working_days: Annotated[int, Field(ge=0, le=60)] | None = None
    scheduled: list[date] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _complete(self) -> MeetingCadence:
        if self.kind == "weekly" and self.weekday is None and self.first_meeting is None:
            raise ValueError("a weekly meeting needs weekday (0 = Monday) or first_meeting")
        if self.kind in ("every_n_weeks", "every_n_months") and self.first_meeting is None:
            raise ValueError(f"a {self.kind} meeting needs first_meeting (a date it met)")
        if self.kind == "virtual" and self.within_working_days is None:
            raise ValueError("a virtual panel needs within_working_days")
        return self

    def describe(self) -> str:
        if self.kind == "virtual":
            return f"{self.group} (virtual, within {self.within_working_days} working days)"
        if self.kind == "weekly":
            day = self.weekday if self.weekday is not None else self.first_meeting.weekday()  # type: ignore[union-attr]
            return f"{self.group} (weekly, {WEEKDAYS[day]})"
        unit = "weeks" if self.kind == "every_n_weeks" else "months"
        every = f"every {self.interval} {unit}" if self.interval > 1 else f"every {unit[:-1]}"
        return f"{self.group} ({every})"


class EscalationStage(DomainModel):
    """One stage of a professional-disagreement escalation policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Annotated[int, Field(ge=1, le=9)]
    name: str = Field(min_length=1, max_length=200)
    who: str = Field(min_length=1, max_length=200, description="who tries to resolve it")
    formal: bool = False
    working_days: Annotated[int, Field(ge=0, le=60)] | None = Field(
        None, description="time to resolve before it moves up; none for the last stage"
    )


def default_escalation_stages() -> list[EscalationStage]:
    """A typical timetable (Lincolnshire's, as DOMAIN.md describes it)."""
    return [
        EscalationStage(
            stage=1, name="Practitioner to practitioner", who="the practitioners", working_days=2
        ),
        EscalationStage(stage=2, name="Manager to manager", who="line managers", working_days=5),
        EscalationStage(
            stage=3,
            name="Senior officers",
            who="senior officers of each agency",
            formal=True,
            working_days=2,
        ),
        EscalationStage(
            stage=4,
            name="Independently chaired meeting",
            who="an independently chaired meeting",
            formal=True,
        ),
    ]


class EscalationPolicy(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stages: list[EscalationStage] = Field(default_factory=default_escalation_stages, min_length=1)
    #: The partnership is told of every escalation that reaches this stage.
    partnership_notified_from_stage: Annotated[int, Field(ge=1, le=9)] = 3
    #: Issue 13, item 12: the review group oversees (the register, the bi-monthly summary and
    #: the console show as under its oversight) every escalation at this stage or above; unset,
    #: the stage from which the partnership is told.
    oversight_from_stage: Annotated[int, Field(ge=1, le=9)] | None = None

    @property
    def oversight_threshold(self) -> int:
        """The stage from which the review group oversees an escalation."""
        return self.oversight_from_stage or self.partnership_notified_from_stage

    @model_validator(mode="after")
    def _numbered(self) -> EscalationPolicy:
        numbers = [s.stage for s in self.stages]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"stages must be numbered 1, 2, 3... in order; got {numbers}")
        if self.stages[-1].working_days is not None:
            raise ValueError(
                f"the last stage ({numbers[-1]}) cannot move up, so it has no working_days"
            )
        if self.partnership_notified_from_stage > numbers[-1]:
            raise ValueError(
                f"partnership_notified_from_stage is {self.partnership_notified_from_stage} but "
                f"the last stage is {numbers[-1]}: the partnership would never be told"
            )
        if self.oversight_from_stage is not None and self.oversight_from_stage > numbers[-1]:
            raise ValueError(
                f"oversight_from_stage is {self.oversight_from_stage} but the last stage is "
                f"{numbers[-1]}"
            )
        return self

    def stage(self, number: int) -> EscalationStage:
        return self.stages[number - 1]


class DecisionRule(DomainModel):
    """Who must take part in one kind of decision, beyond who may make it (`authorities`): the
    agencies that must attend the meeting that takes it (listed in its `attendees`) and those
    whose agreement it must record (its `agreed_by`; whoever makes it agrees for their own
    agency). With `outcomes`, only a decision with one of those outcomes (Croydon: a triage
    that notifies)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    present: list[Agency] = Field(default_factory=list, max_length=12)
    agree: list[Agency] = Field(default_factory=list, max_length=12)
    outcomes: list[str] = Field(default_factory=list, max_length=12)

    @model_validator(mode="after")
    def _something(self) -> DecisionRule:
        if not self.present and not self.agree:
            raise ValueError("a decision rule names who must be present or who must agree")
        return self

    def applies(self, decision: DecisionBase) -> bool:
        return not self.outcomes or str(getattr(decision, "outcome", None)) in self.outcomes


def _default_routes() -> list[TriageOutcome]:
    """Every triage outcome but a Rapid Review without a notification (a local practice)."""
    return [o for o in TriageOutcome if o is not TriageOutcome.RAPID_REVIEW]


class PlanningRules(DomainModel):
    """What planning a deadline needs from the settings: all `plan_deadlines` is sent, rather
    than the whole settings (about 5 KB) with every call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reminder_working_days_before: WorkingDays = 2
    second_escalation_working_days_after: WorkingDays = 5
    closure_days: list[date] = Field(default_factory=list, max_length=400)


class PartnershipSettings(DomainModel):
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
    review_group_formerly: list[str] = Field(default_factory=list, max_length=10)
    independent_scrutineer: str | None = None
    triage_by: str = "the review group's triage panel"
    triage_method: str = "The review group triages each referral against the statutory criteria."
    triage_members: list[str] = Field(default_factory=list, max_length=30)
    rapid_review_core_members: list[str] = Field(default_factory=list, max_length=40)
    single_agency_plan_monitor: str = "Safeguarding Practice Review Group"
    multi_agency_plan_monitor: str = "Quality Assurance Group"

    # Statutory clock (Working Together 2023) and local practice.
    triage_working_days: WorkingDays = 5
    #: When set, triage is due at the next triage meeting instead of a number of working days.
    triage_meeting: MeetingCadence | None = None
    #: The review group's meetings: decisions in `meeting_decisions` are due by the next one.
    review_group_meetings: MeetingCadence | None = None
    meeting_decisions: list[DecisionKind] = Field(default_factory=list)
    #: Agencies that must be present for a decision taken at a meeting (empty: no quorum rule).
    quorum: list[Agency] = Field(default_factory=list)
    #: Which triage outcomes and other review types this partnership uses (a Rapid Review
    #: without a notification only where the profile lists it).
    routes: list[TriageOutcome] = Field(default_factory=lambda: _default_routes(), min_length=1)
    other_review_types: list[OtherReviewType] = Field(default_factory=lambda: list(OtherReviewType))
    #: Referrals are expected within this many days of the incident (a late one is flagged).
    referral_time_limit_days: Annotated[int, Field(ge=0, le=365)] | None = None
    notification_working_days: WorkingDays = 5
    rapid_review_working_days: WorkingDays = 15
    rapid_review_counted_from: Literal["awareness", "notification"] = "awareness"
    information_return_working_days: WorkingDays = 5
    cspr_publication_months: Annotated[int, Field(ge=1, le=36)] = 6
    final_report_working_days_before_publication: WorkingDays = 7

    # Issue #13 items 4, 6 and 10: after the Rapid Review and a care leaver's notification,
    # and publication.
    #: The National Panel's response to a Rapid Review is chased this many working days after
    #: the Rapid Review was sent (its reminder falls `reminder_working_days_before` earlier).
    panel_response_chase_working_days: WorkingDays = 15
    #: Further information the Panel asks for is due this many working days after its request,
    #: unless the request gives a date.
    panel_information_working_days: WorkingDays = 5
    #: Where a care leaver's case may be referred for a Safeguarding Adults Review.
    safeguarding_adults_board: str = "Safeguarding Adults Board"
    #: The agencies' press or communications offices are told before a review is published.
    communications_before_publication: bool = False
    #: A published report stays available at least this many months (0: no minimum).
    publication_minimum_months: Annotated[int, Field(ge=0, le=120)] = 12

    # Reminders and escalations around every deadline.
    reminder_working_days_before: WorkingDays = 2
    second_escalation_working_days_after: WorkingDays = 5

    # Days the partnership is closed, besides England and Wales bank holidays.
    closure_days: list[date] = Field(default_factory=list, max_length=400)

    authorities: dict[DecisionKind, list[Authority]] = Field(default_factory=default_authorities)

    escalation_policy: EscalationPolicy = Field(default_factory=EscalationPolicy)

    # Issue 13, item 11: the learning loop.
    #: A case (under the statutory rules) cannot close until every learning output planned from
    #: its review has been disseminated.
    learning_before_closure: bool = False

    #: Email addresses for notices, by role or group key (review_group_chair, business_manager,
    #: ...), agency (police, health, ...) or audience name, plus the required `default` for
    #: anything else. Read when each notice is sent. See safeguarding/contacts.py.
    contacts: Contacts = Field(default_factory=dict)

    # Issue #13, items 3, 5 and 7.
    #: Per decision: who must attend it and who must agree it, beyond the meeting quorum
    #: (`DecisionRule`; Croydon: the three partners agree what is notified).
    decision_rules: dict[DecisionKind, DecisionRule] = Field(default_factory=dict)
    #: The referring agency's review-group member quality-assures the referral before triage
    #: (Salford's PRSG member): triage waits for `referral_quality_assured`.
    referral_quality_assurance: bool = False
    #: The local authority tells the partnership of a notifiable incident within this many
    #: working days of becoming aware (Liverpool: 5), a deadline of children's social care's
    #: (none: not tracked).
    la_notice_working_days: WorkingDays | None = None

    # Issue 14, point 3: how long a closed case's records are kept (safeguarding/retention.py).
    retention: RetentionSchedule = Field(default_factory=RetentionSchedule)

    # Issue 15: the scheduled reports (workflows/scheduled.py), this partnership's own figures,
    # are mailed to these `contacts` keys (a key with no address: the `default` contact).
    report_recipients: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(
        default_factory=lambda: ["business_manager"], max_length=20
    )
    #: Attach the report files (HTML, CSV and the chart) to that mail. False: the mail says only
    #: where the files are (the summary's themes quote action plans, which may name people).
    report_attachments: bool = True

    @field_validator("authorities", mode="after")
    @classmethod
    def _over_defaults(
        cls, given: dict[DecisionKind, list[Authority]]
    ) -> dict[DecisionKind, list[Authority]]:
        """A profile names only the decisions it changes; the rest keep the defaults."""
        return {**default_authorities(), **given}

    @model_validator(mode="after")
    def _consistent(self) -> PartnershipSettings:
        if TriageOutcome.OTHER_REVIEW in self.routes and not self.other_review_types:
            raise ValueError("other_review is a route but other_review_types is empty")
        if self.meeting_decisions and self.review_group_meetings is None:
            raise ValueError("meeting_decisions need review_group_meetings (the cadence)")
        if self.quorum and not self.meeting_decisions:
            raise ValueError("a quorum applies to meeting_decisions; none are listed")
        for kind, rule in self.decision_rules.items():
            outcome = DECISION_MODELS[kind].model_fields.get("outcome")
            if rule.outcomes and outcome is None:
                raise ValueError(f"decision_rules.{kind.value}: a {kind.value} has no outcome")
            unknown = [o for o in rule.outcomes if outcome and o not in shape_of(outcome).choices]
            if unknown:
                raise ValueError(
                    f"decision_rules.{kind.value}.outcomes: {', '.join(unknown)} is not a "
                    f"{kind.value} outcome"
                )
        return self

    def planning_rules(self) -> PlanningRules:
        return PlanningRules(
            reminder_working_days_before=self.reminder_working_days_before,
            second_escalation_working_days_after=self.second_escalation_working_days_after,
            closure_days=self.closure_days,
        )

    def needs_meeting(self, kind: DecisionKind) -> bool:
        return kind in self.meeting_decisions

    def quorum_applies(self, kind: DecisionKind) -> bool:
        return bool(self.quorum) and (
            kind in self.meeting_decisions or kind is DecisionKind.RAPID_REVIEW_DECISION
        )

    def attendance_needed(self, decision: Decision) -> list[Agency]:
        """The agencies that must attend the meeting taking this decision: the quorum (for a
        meeting decision) and its decision rule's `present`."""
        needed = list(self.quorum) if self.quorum_applies(decision.kind) else []
        rule = self.decision_rules.get(decision.kind)
        if rule is not None and rule.applies(decision):
            needed += [a for a in rule.present if a not in needed]
        return needed

    def agreement_needed(self, decision: Decision) -> list[Agency]:
        """The agencies whose agreement this decision must record (its rule's `agree`)."""
        rule = self.decision_rules.get(decision.kind)
        return list(rule.agree) if rule is not None and rule.applies(decision) else []

    def takes_attendees(self, kind: DecisionKind) -> bool:
        """Whether a decision of this kind may need its attendees listed (for forms)."""
        rule = self.decision_rules.get(kind)
        return self.quorum_applies(kind) or bool(rule and rule.present)

    def takes_agreement(self, kind: DecisionKind) -> bool:
        """Whether a decision of this kind may need who agreed it (for forms)."""
        rule = self.decision_rules.get(kind)
        return bool(rule and rule.agree)

    def offers(self, kind: DecisionKind) -> bool:
        """Whether this partnership takes decisions of this kind at all: the steps only some
        profiles ask for (quality assurance before triage, the local authority's notice)."""
        if kind is DecisionKind.REFERRAL_QUALITY_ASSURED:
            return self.referral_quality_assurance
        if kind is DecisionKind.LA_NOTICE_RECEIVED:
            return self.la_notice_working_days is not None
        return True

    def participation(self, kind: DecisionKind) -> str | None:
        """Who must attend or agree a decision of this kind, in words (None: nobody)."""
        parts = []
        if self.quorum_applies(kind):
            parts.append("quorum: " + ", ".join(a.label for a in self.quorum))
        rule = self.decision_rules.get(kind)
        if rule is not None:
            when = f" (when the outcome is {' or '.join(rule.outcomes)})" if rule.outcomes else ""
            if rule.present:
                parts.append(f"present{when}: " + ", ".join(a.label for a in rule.present))
            if rule.agree:
                parts.append(f"agreed by{when}: " + ", ".join(a.label for a in rule.agree))
        return "; ".join(parts) or None

    def escalation_audience(self) -> str:
        return f"{self.review_group_chair}; {self.business_manager}"


#: How many distinct settings `shared` keeps (a worker meets one per partnership, and one more
#: each time a profile changes).
MAX_SHARED_SETTINGS = 64
_shared: OrderedDict[str, PartnershipSettings] = OrderedDict()
_shared_lock = threading.Lock()


def shared(settings: PartnershipSettings) -> PartnershipSettings:
    """One instance of equal settings for the whole process. Every case carries its settings
    (about 40 KiB of objects), and the rules read them on every decision: the cases of one
    partnership sharing one copy hold less memory and keep that copy in the processor's cache
    (issue 16: a lifecycle ratio about 0.03 lower). Safe because settings are frozen all the
    way down; equal settings are interchangeable, so a replay takes the same path."""
    key = settings.model_dump_json()
    # An ordered dict, not `functools.lru_cache`: the value kept is the first instance seen.
    with _shared_lock:  # workflow tasks run in several threads
        found = _shared.setdefault(key, settings)
        _shared.move_to_end(key)
        while len(_shared) > MAX_SHARED_SETTINGS:
            _shared.popitem(last=False)
    return found
