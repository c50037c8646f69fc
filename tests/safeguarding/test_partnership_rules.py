"""The same referral, walked through Liverpool's, Croydon's and Salford's profiles.

The profiles are the shipped TOML files (`profile_for`); `Walk` plays the workflow's part as in
test_case.py: it opens the case, checks and applies decisions, plans every deadline request on
the real working calendar and fires alerts when a test says. What differs between the walks is
only the profile: group names, routes, meeting dates, quorum, who triages, how the rapid review
is counted and whether a referral is late.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from safeguarding.calendar import WorkingCalendar
from safeguarding.case import Case, DecisionRefused, Effects, HistoryKind, Notice
from safeguarding.clock import uk_moment
from safeguarding.deadlines import Deadline, DeadlineKind, DeadlineState
from safeguarding.decisions import Person
from safeguarding.planning import next_meeting, plan_deadline
from safeguarding.profiles import profile_for
from safeguarding.referral import Referral
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import Agency, DecisionKind, PlanScope, Route, Stage
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    HEALTH_MEMBER,
    LEAD_REVIEWER,
    POLICE_MEMBER,
    RAPID_REVIEW_CORE,
    action_fields,
    decision,
    people,
    referral,
    triage_participants,
)

LIVERPOOL, CROYDON, SALFORD = "LSCP", "CSCP", "SSCP"
PARTNERSHIPS = (LIVERPOOL, CROYDON, SALFORD)
RECEIVED = date(2026, 12, 21)  # the Monday before Christmas 2026

#: A meeting where the three statutory partners are present (the chair is from the Police).
QUORATE = (CHAIR, HEALTH_MEMBER, CSC_MEMBER)


@pytest.fixture(autouse=True)
def _shipped_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_PROFILES", raising=False)


def same_referral(code: str, **overrides: Any) -> Referral:
    """The one referral every walk starts from: only the partnership differs."""
    return referral(RECEIVED, partnership=code, **overrides)


class Walk:
    """A case under one partnership's shipped profile, driven as the workflow would."""

    def __init__(
        self,
        code: str,
        ref: Referral | None = None,
        settings: PartnershipSettings | None = None,
    ) -> None:
        self.settings = settings or profile_for(code)
        ref = ref or same_referral(code)
        self.calendar = WorkingCalendar(self.settings.closure_days)
        self.now = uk_moment(ref.received_on, time(10))
        self.notices: list[Notice] = []
        self.case, effects = Case.open(f"{code}-2026-0A1B2C", ref, self.settings, self.now)
        self.carry_out(effects)

    def on(self, day: date) -> Walk:
        self.now = uk_moment(day, time(10))
        return self

    def carry_out(self, effects: Effects) -> None:
        requests = effects.deadline_requests
        while requests:
            plans = [plan_deadline(r, self.settings, self.calendar) for r in requests]
            self.case.open_deadlines(requests, plans, self.now)
            requests = self.case.follow_up_requests()
        self.notices += effects.notices

    def decide(self, kind: str, by: Person, **fields: Any) -> Walk:
        made = decision(kind, by, **fields)
        self.case.check(made, self.now)
        self.carry_out(self.case.apply(made, self.now, "update"))
        return self

    def refuse(self, kind: str, by: Person, **fields: Any) -> DecisionRefused:
        before = self.case.model_dump()
        with pytest.raises(DecisionRefused) as refused:
            self.case.check(decision(kind, by, **fields), self.now)
        assert self.case.model_dump() == before, "a refusal changes nothing"
        return refused.value

    def fire(self, at: datetime) -> list[Notice]:
        self.now = max(at, self.now)
        fired = self.case.fire_due_alerts(self.now)
        self.notices += fired
        return fired

    def fire_all(self, deadline: Deadline) -> list[Notice]:
        """Wake at each of the deadline's moments in turn, as the workflow's timer does."""
        moments = (deadline.remind_at, deadline.escalate_at, deadline.escalate_again_at)
        return [n for at in moments for n in self.fire(at)]

    def deadline(self, deadline_id: str) -> Deadline:
        return self.case.deadlines[deadline_id]

    def due(self, deadline_id: str) -> date:
        return self.deadline(deadline_id).due_on

    def state(self, deadline_id: str) -> DeadlineState:
        return self.deadline(deadline_id).state(self.now)

    def stage(self) -> Stage:
        return self.case.stage

    def history(self, kind: HistoryKind) -> list[str]:
        return [h.text for h in self.case.history if h.kind is kind]

    def meeting_attendees(self) -> dict[str, Any]:
        """Attendees for a decision taken at a meeting (any partnership accepts them)."""
        return {"attendees": people(*RAPID_REVIEW_CORE)}

    def quality_assured(self) -> Walk:
        """Where the profile asks (Salford), the referring agency's member quality-assures the
        referral (the referral is from health)."""
        if self.settings.referral_quality_assurance:
            self.on(date(2026, 12, 21)).decide("referral_quality_assured", HEALTH_MEMBER)
        return self

    # ---- the serious incident route, step by step (each step does the ones before it)

    def triaged(self, outcome: str = "serious_incident", **fields: Any) -> Walk:
        self.quality_assured()
        return self.on(date(2026, 12, 22)).decide(
            "triage", BUSINESS_MANAGER, outcome=outcome, **{**triage_participants(), **fields}
        )

    def notified(self) -> Walk:
        self.triaged()
        return self.on(date(2026, 12, 23)).decide(
            "notification_submitted", COORDINATOR, reference="NP-2026-0042"
        )

    def in_cspr(self) -> Walk:
        self.notified()
        self.on(date(2027, 1, 12)).decide(
            "rapid_review_decision",
            CHAIR,
            recommendation="local_cspr",
            **self.meeting_attendees(),
        )
        self.on(date(2027, 1, 13)).decide("rapid_review_sent", COORDINATOR)
        self.on(date(2027, 2, 26)).decide(
            "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
        )
        return self.on(date(2027, 3, 1)).decide(
            "lead_reviewer_appointed", BUSINESS_MANAGER, lead_reviewer="Lee Reviewer"
        )

    def at_quality_assurance(self) -> Walk:
        self.in_cspr()
        self.on(date(2027, 3, 15)).decide(
            "terms_of_reference_agreed", CHAIR, **self.meeting_attendees()
        )
        self.on(date(2027, 4, 5)).decide("agency_information_received", LEAD_REVIEWER)
        self.involved(date(2027, 4, 6))
        self.on(date(2027, 5, 3)).decide("involvement_completed", LEAD_REVIEWER)
        return self.on(date(2027, 6, 1)).decide("draft_report_received", LEAD_REVIEWER)

    def involved(self, day: date) -> Walk:
        """The involvement `involvement_completed` needs (issue #13 item 9)."""
        for milestone in ("family_told", "family_views", "practitioners_involved"):
            self.on(day).decide("involvement_recorded", LEAD_REVIEWER, milestone=milestone)
        return self

    def in_action_plan(self) -> Walk:
        """By the other-review route (a multi-agency audit), which all three partnerships use."""
        self.triaged("other_review", review_type="multi_agency_audit")
        return self.on(date(2027, 1, 11)).decide(
            "other_review_completed", CHAIR, findings="Audit complete."
        )


def walks() -> list[Walk]:
    return [Walk(code) for code in PARTNERSHIPS]


# ====================================================================== who is who


@pytest.mark.parametrize(
    ("code", "owner", "due_on", "basis"),
    [
        # Liverpool: weekly SPRG triage on Wednesdays.
        (
            LIVERPOOL,
            "SPRG weekly triage",
            date(2026, 12, 23),
            "next meeting of SPRG Triage (weekly, Wednesday) after 2026-12-21",
        ),
        # Croydon: the Business Manager screens, within 5 working days.
        (
            CROYDON,
            "CSCP Business Manager screening",
            date(2026, 12, 30),
            "5 working days after 2026-12-21",
        ),
        # Salford: the Virtual Panel, within 5 working days (22, 23, 24, 29, 30 Dec).
        (
            SALFORD,
            "the Virtual Panel",
            date(2026, 12, 30),
            "next meeting of Virtual Panel (virtual, within 5 working days) after 2026-12-21",
        ),
    ],
)
def test_triage_is_owed_by_each_partnerships_own_panel(
    code: str, owner: str, due_on: date, basis: str
) -> None:
    walk = Walk(code)
    triage = walk.deadline("triage")
    assert (triage.owner, triage.due_on, triage.basis) == (owner, due_on, basis)
    status = walk.case.status(walk.now)
    assert status.partnership == code
    assert status.partnership_name == walk.settings.name
    # Salford's referral is quality-assured by the referring agency's PRSG member first.
    first = (
        [("Quality-assure the referral (before triage)", f"Health (ICB) member of the {group}")]
        if (group := walk.settings.review_group) and walk.settings.referral_quality_assurance
        else []
    )
    assert [(t.task, t.owed_by) for t in status.tasks] == [("Triage decision", owner), *first]
    assert walk.settings.name in walk.case.operator_details(walk.now)


def test_overdue_notices_go_to_each_partnerships_own_people() -> None:
    audiences: dict[str, list[tuple[str, str]]] = {}
    for walk in walks():
        walk.fire_all(walk.deadline("triage"))
        assert all(n.partnership == walk.settings.code for n in walk.notices)
        assert all(walk.settings.name in n.body for n in walk.notices)
        audiences[walk.settings.code] = [(n.kind, n.audience) for n in walk.notices]
    assert audiences == {
        LIVERPOOL: [
            ("reminder", "SPRG weekly triage"),
            (
                "escalation",
                "Chair of the SPRG (Detective Chief Inspector, Merseyside Police); "
                "LSCP Safeguarding Manager",
            ),
            ("second_escalation", "LSCP Executive"),
        ],
        CROYDON: [
            ("reminder", "CSCP Business Manager screening"),
            (
                "escalation",
                "Chair of the SPRG (rotating lead from CSC, Police and Health); "
                "CSCP Business Manager",
            ),
            ("second_escalation", "CSCP Executive Group"),
        ],
        SALFORD: [
            ("reminder", "the Virtual Panel"),
            ("escalation", "Chair of the PRSG; SSCP Business Manager"),
            ("second_escalation", "SSCP Executive"),
        ],
    }


def test_the_review_group_is_named_in_tasks_and_deadlines() -> None:
    for walk in walks():
        walk.notified()
        assert walk.deadline("rapid-review").owner == walk.settings.review_group
        walk.on(date(2026, 12, 24)).decide(
            "information_requested", COORDINATOR, requests=[{"agency": "police"}]
        )
        expected = f"Police member of the {walk.settings.review_group}"
        assert walk.deadline("information-police").owner == expected
        assert walk.notices[-1].audience == expected
    salford = Walk(SALFORD).triaged("other_review", review_type="serious_offence_review")
    tasks = salford.case.status(salford.now).tasks
    assert [(t.task, t.owed_by) for t in tasks] == [
        ("Complete the review and record its findings", "Practice Review Subgroup (PRSG)")
    ]


# ====================================================================== routes


def test_case_of_concern_is_a_croydon_route_only() -> None:
    for code in (LIVERPOOL, SALFORD):
        walk = Walk(code).on(date(2026, 12, 22))
        refused = walk.refuse("triage", BUSINESS_MANAGER, outcome="case_of_concern")
        assert refused.reason == "not_offered"
        assert refused.message.startswith(
            f"{walk.settings.name} does not use the case_of_concern route; "
            "its triage outcomes are: serious_incident, other_review, no_further_action"
        )
    croydon = Walk(CROYDON).triaged("case_of_concern")
    assert croydon.stage() is Stage.CASE_OF_CONCERN
    assert croydon.case.route is Route.CASE_OF_CONCERN


def test_a_seriously_good_outcome_review_is_a_salford_review_only() -> None:
    salford = Walk(SALFORD).triaged("other_review", review_type="seriously_good_outcome_review")
    assert salford.stage() is Stage.OTHER_REVIEW
    assert salford.case.other_review_type == "seriously_good_outcome_review"
    for code in (LIVERPOOL, CROYDON):
        walk = Walk(code).on(date(2026, 12, 22))
        refused = walk.refuse(
            "triage",
            BUSINESS_MANAGER,
            outcome="other_review",
            review_type="seriously_good_outcome_review",
        )
        assert refused.reason == "not_offered"
        assert refused.message == (
            f"{walk.settings.name} does not hold a seriously_good_outcome_review; its other "
            "reviews are: single_agency_audit, multi_agency_audit, local_case_review"
        )
        # The reviews it does hold are accepted.
        walk.decide(
            "triage",
            BUSINESS_MANAGER,
            outcome="other_review",
            review_type="local_case_review",
            **triage_participants(),
        )
        assert walk.stage() is Stage.OTHER_REVIEW


def test_every_partnership_keeps_the_statutory_route() -> None:
    for walk in walks():
        walk.notified()
        assert walk.stage() is Stage.RAPID_REVIEW
        assert walk.deadline("notification").due_on == date(2026, 12, 30)
        assert walk.state("notification") is DeadlineState.MET


# ====================================================================== meetings


def test_croydon_chooses_the_approach_at_the_next_bi_monthly_sprg() -> None:
    croydon = Walk(CROYDON).triaged("case_of_concern")
    meeting = croydon.deadline("meeting-approach_chosen")
    assert meeting.kind is DeadlineKind.MEETING
    assert meeting.title == "Approach chosen at the next SPRG meeting"
    assert meeting.owner == "Safeguarding Practice Review Group (SPRG)"
    # Triaged on Tue 22 Dec 2026: the next SPRG is the 2nd Tuesday of January 2027.
    assert meeting.due_on == date(2027, 1, 12)
    assert meeting.basis == "next meeting of SPRG (every 2 months) after 2026-12-22"
    tasks = croydon.case.status(croydon.now).tasks
    assert (
        "Approach chosen at the next SPRG meeting",
        "Safeguarding Practice Review Group (SPRG)",
    ) in [(t.task, t.owed_by) for t in tasks]
    croydon.on(date(2027, 1, 12)).decide(
        "approach_chosen",
        CHAIR,
        approach="appreciative_inquiry",
        agencies=["health", "police"],
        attendees=people(*QUORATE),
    )
    assert croydon.stage() is Stage.CASE_OF_CONCERN_REVIEW
    assert croydon.state("meeting-approach_chosen") is DeadlineState.MET
    assert croydon.deadline("meeting-approach_chosen").met_on == date(2027, 1, 12)


def test_croydon_approach_chosen_after_the_meeting_is_missed() -> None:
    croydon = Walk(CROYDON).triaged("case_of_concern")
    croydon.on(date(2027, 1, 14)).decide(
        "approach_chosen",
        BUSINESS_MANAGER,
        approach="policy_review",
        agencies=["education"],
        attendees=people(*QUORATE),
    )
    assert croydon.state("meeting-approach_chosen") is DeadlineState.MISSED


@pytest.mark.parametrize(
    ("code", "terms_of_reference_due", "quality_assured_due"),
    [
        # Liverpool's SPRG every 5 weeks from 7 Jan 2026: 3 Mar 2027, then 16 Jun 2027.
        (LIVERPOOL, date(2027, 3, 3), date(2027, 6, 16)),
        # Croydon's bi-monthly SPRG (2nd Tuesdays): 9 Mar 2027, then 13 Jul 2027 (not May).
        (CROYDON, date(2027, 3, 9), date(2027, 7, 13)),
        # Salford's virtual PRSG: within 10 working days of the draft report (1 Jun 2027);
        # terms of reference are not a meeting decision there.
        (SALFORD, None, date(2027, 6, 15)),
    ],
)
def test_meeting_decisions_are_due_at_each_partnerships_next_meeting(
    code: str, terms_of_reference_due: date | None, quality_assured_due: date
) -> None:
    walk = Walk(code).in_cspr()
    assert walk.stage() is Stage.CSPR_TERMS_OF_REFERENCE
    if terms_of_reference_due is None:
        assert "meeting-terms_of_reference_agreed" not in walk.case.deadlines
    else:
        assert walk.due("meeting-terms_of_reference_agreed") == terms_of_reference_due
    walk.on(date(2027, 3, 15)).decide(
        "terms_of_reference_agreed", CHAIR, **walk.meeting_attendees()
    )
    if terms_of_reference_due is not None:
        assert walk.deadline("meeting-terms_of_reference_agreed").met_on == date(2027, 3, 15)
    walk.on(date(2027, 4, 5)).decide("agency_information_received", LEAD_REVIEWER)
    walk.involved(date(2027, 4, 6))
    walk.on(date(2027, 5, 3)).decide("involvement_completed", LEAD_REVIEWER)
    walk.on(date(2027, 6, 1)).decide("draft_report_received", LEAD_REVIEWER)
    assert walk.stage() is Stage.CSPR_QUALITY_ASSURANCE

    meeting = walk.deadline("meeting-quality_assured")
    assert meeting.due_on == quality_assured_due
    assert meeting.owner == walk.settings.review_group
    group = walk.settings.review_group_meetings
    assert group is not None
    assert meeting.title == f"Quality assured at the next {group.group} meeting"
    assert meeting.due_on == next_meeting(group, date(2027, 6, 1), walk.calendar)

    # Quality-assured at that meeting: met, and the case moves on.
    walk.on(quality_assured_due).decide("quality_assured", CHAIR, **walk.meeting_attendees())
    assert walk.stage() is Stage.CSPR_FINAL_REPORT
    assert walk.state("meeting-quality_assured") is DeadlineState.MET


def test_meeting_deadlines_escalate_to_the_review_group_chair() -> None:
    walk = Walk(LIVERPOOL).at_quality_assurance()
    meeting = walk.deadline("meeting-quality_assured")
    fired = walk.fire(meeting.escalate_at)
    escalation = next(n for n in fired if n.deadline_id == "meeting-quality_assured")
    assert escalation.kind == "escalation"
    assert escalation.audience == walk.settings.escalation_audience()
    assert "Quality assured at the next SPRG meeting" in escalation.subject


def test_a_meeting_deadline_is_withdrawn_when_the_stage_is_left_otherwise() -> None:
    # A variant of Croydon's profile where the SPRG also decides not to publish: if the report
    # is published instead, the meeting deadline is no longer needed.
    base = profile_for(CROYDON)
    settings = base.model_copy(
        update={"meeting_decisions": [*base.meeting_decisions, DecisionKind.NOT_PUBLISHED]}
    )
    walk = Walk(CROYDON, settings=settings).at_quality_assurance()
    walk.on(date(2027, 7, 13)).decide("quality_assured", CHAIR, **walk.meeting_attendees())
    walk.on(date(2027, 7, 20)).decide("final_report_sent", COORDINATOR)
    assert walk.stage() is Stage.CSPR_PUBLICATION
    assert walk.due("meeting-not_published") == date(2027, 9, 14)  # 2nd Tuesday of September
    walk.on(date(2027, 7, 21)).decide("communications_notified", COORDINATOR, agencies=["police"])
    walk.decide("anonymisation_checked", CHAIR)
    walk.decide("involvement_recorded", LEAD_REVIEWER, milestone="family_shown_report")
    walk.on(date(2027, 8, 2)).decide(
        "published", COORDINATOR, location="CSCP website", available_until="2028-08-02"
    )
    assert walk.stage() is Stage.ACTION_PLAN_MONITORING
    assert walk.state("meeting-not_published") is DeadlineState.WITHDRAWN
    assert (
        "Not published at the next SPRG meeting: no longer needed "
        "(its decision cannot be taken now)" in walk.history(HistoryKind.DEADLINE_WITHDRAWN)
    )
    # A withdrawn deadline never reminds or escalates anyone.
    assert not [
        n
        for n in walk.fire(uk_moment(date(2027, 10, 1), time(9)))
        if n.deadline_id == "meeting-not_published"
    ]


# ====================================================================== quorum


def test_croydon_rapid_review_without_the_police_is_not_quorate() -> None:
    croydon = Walk(CROYDON).notified()
    croydon.on(date(2027, 1, 12))
    refused = croydon.refuse(
        "rapid_review_decision",
        Person(name="Cara Chair", role="chair", agency="childrens_social_care"),
        recommendation="local_cspr",
        attendees=people(HEALTH_MEMBER, CSC_MEMBER),
    )
    assert refused.reason == "not_quorate"
    assert refused.message == (
        "the meeting was not quorate: Police not present (the quorum is Children's Social "
        "Care (local authority), Health (ICB), Police)"
    )
    # Health missing as well: both are named.
    refused = croydon.refuse(
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=people(CSC_MEMBER),
    )
    assert refused.message.startswith(
        "the meeting was not quorate: Health (ICB), Police not present"
    )
    # With the Police present (the chair is a police officer) it is quorate.
    croydon.decide(
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=people(CHAIR, HEALTH_MEMBER, CSC_MEMBER),
    )
    assert croydon.stage() is Stage.NATIONAL_PANEL_RESPONSE


def test_croydon_meeting_decisions_need_the_attendees() -> None:
    croydon = Walk(CROYDON).triaged("case_of_concern").on(date(2027, 1, 12))
    refused = croydon.refuse(
        "approach_chosen", CHAIR, approach="appreciative_inquiry", agencies=["health"]
    )
    assert refused.reason == "not_quorate"
    assert refused.message == (
        "a approach_chosen decision is taken at a meeting: list the attendees (the quorum "
        "is Children's Social Care (local authority), Health (ICB), Police)"
    )
    refused = croydon.refuse(
        "approach_chosen",
        CHAIR,
        approach="appreciative_inquiry",
        agencies=["health"],
        attendees=people(HEALTH_MEMBER, CSC_MEMBER, BUSINESS_MANAGER),
    )
    assert refused.reason == "not_quorate"
    assert "Police not present" in refused.message


def test_croydon_quorum_leaves_decisions_outside_meetings_alone() -> None:
    croydon = Walk(CROYDON).triaged()
    croydon.on(date(2026, 12, 23)).decide("notification_submitted", COORDINATOR, reference="NP-1")
    croydon.on(date(2026, 12, 24)).decide(
        "information_requested", COORDINATOR, requests=[{"agency": "health"}]
    )
    assert croydon.stage() is Stage.RAPID_REVIEW


@pytest.mark.parametrize("code", [SALFORD])
def test_without_a_quorum_rule_any_attendance_will_do(code: str) -> None:
    walk = Walk(code).notified().on(date(2027, 1, 12))
    walk.decide(
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=people(CHAIR),
    )
    assert walk.stage() is Stage.NATIONAL_PANEL_RESPONSE
    walk.decide("rapid_review_sent", COORDINATOR)
    walk.on(date(2027, 2, 26)).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    walk.on(date(2027, 3, 1)).decide(
        "lead_reviewer_appointed", BUSINESS_MANAGER, lead_reviewer="Lee Reviewer"
    )
    walk.decide("terms_of_reference_agreed", CHAIR)  # no attendees listed
    assert walk.stage() is Stage.CSPR_AGENCY_INFORMATION


# ====================================================================== action plans


@pytest.mark.parametrize(
    ("code", "scope", "monitor", "audience"),
    [
        (
            LIVERPOOL,
            PlanScope.MULTI_AGENCY,
            "LSCP Quality Assurance Group",
            "LSCP Quality Assurance Group; LSCP Safeguarding Manager",
        ),
        (
            LIVERPOOL,
            PlanScope.SINGLE_AGENCY,
            "Safeguarding Practice Review Group (SPRG)",
            "Safeguarding Practice Review Group (SPRG); LSCP Safeguarding Manager",
        ),
        (
            CROYDON,
            PlanScope.MULTI_AGENCY,
            "Safeguarding Practice Review Group (SPRG)",
            "Safeguarding Practice Review Group (SPRG); CSCP Business Manager",
        ),
        (
            SALFORD,
            PlanScope.MULTI_AGENCY,
            "Practice Review Subgroup (PRSG)",
            "Practice Review Subgroup (PRSG); SSCP Business Manager",
        ),
    ],
)
def test_an_action_is_monitored_by_the_group_its_scope_calls_for(
    code: str, scope: PlanScope, monitor: str, audience: str
) -> None:
    walk = Walk(code).in_action_plan()
    assert walk.stage() is Stage.ACTION_PLAN_MONITORING
    walk.decide(
        "action_added", COORDINATOR, scope=scope.value, **action_fields("A1", date(2027, 6, 1))
    )
    assert walk.case.actions["A1"].monitored_by == monitor
    overdue = walk.deadline("action-A1")
    fired = [n for n in walk.fire_all(overdue) if n.deadline_id == "action-A1"]
    assert [n.kind for n in fired] == ["reminder", "escalation", "second_escalation"]
    assert fired[0].audience == Agency.HEALTH.label  # the lead agency is reminded
    assert fired[1].audience == audience
    assert fired[2].audience == walk.settings.executive


# ====================================================================== who triages


def test_croydon_triage_is_the_business_managers_screening() -> None:
    croydon = Walk(CROYDON).on(date(2026, 12, 22))
    for person in (CHAIR, POLICE_MEMBER, COORDINATOR):
        refused = croydon.refuse("triage", person, outcome="case_of_concern")
        assert refused.reason == "not_authorised"
        assert refused.message == (
            f"{person.describe()} may not make a triage decision: it needs a business manager"
        )
    croydon.decide("triage", BUSINESS_MANAGER, outcome="case_of_concern")
    assert croydon.stage() is Stage.CASE_OF_CONCERN
    assert croydon.state("triage") is DeadlineState.MET


@pytest.mark.parametrize("code", [LIVERPOOL, SALFORD])
def test_elsewhere_the_chair_or_a_panel_member_triages(code: str) -> None:
    for person in (CHAIR, POLICE_MEMBER):
        walk = (
            Walk(code)
            .quality_assured()
            .on(date(2026, 12, 22))
            .decide("triage", person, outcome="serious_incident", **triage_participants())
        )
        assert walk.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION
        assert walk.state("triage") is DeadlineState.MET
        assert "notification" in walk.case.deadlines


# ====================================================================== rapid review clock


def test_croydon_counts_the_rapid_review_from_the_notification() -> None:
    liverpool, croydon = Walk(LIVERPOOL).triaged(), Walk(CROYDON).triaged()
    # Liverpool counts from awareness (Mon 21 Dec 2026): 15 working days is Thu 14 Jan 2027.
    assert liverpool.due("rapid-review") == date(2027, 1, 14)
    assert liverpool.deadline("rapid-review").basis == "15 working days after 2026-12-21"
    # Croydon has no rapid review deadline until the notification is made.
    assert "rapid-review" not in croydon.case.deadlines
    for walk in (liverpool, croydon):
        walk.on(date(2026, 12, 23)).decide("notification_submitted", COORDINATOR, reference="NP-1")
    # Notified on Wed 23 Dec 2026: 15 working days is Mon 18 Jan 2027.
    assert croydon.due("rapid-review") == date(2027, 1, 18)
    assert croydon.deadline("rapid-review").basis == "15 working days after 2026-12-23"
    assert liverpool.due("rapid-review") == date(2027, 1, 14)
    # A rapid review on Fri 15 Jan is late in Liverpool and in time in Croydon.
    liverpool.on(date(2027, 1, 15)).decide(
        "rapid_review_decision",
        CHAIR,
        recommendation="no_further_review",
        attendees=people(*RAPID_REVIEW_CORE),
    )
    croydon.on(date(2027, 1, 15)).decide(
        "rapid_review_decision",
        CHAIR,
        recommendation="no_further_review",
        attendees=people(*QUORATE),
    )
    for walk in (liverpool, croydon):  # the 15 working days run to the sending
        walk.decide("rapid_review_sent", COORDINATOR)
    assert liverpool.state("rapid-review") is DeadlineState.MISSED
    assert croydon.state("rapid-review") is DeadlineState.MET
    # Late or not, the decision is made: both cases go on to wait for the National Panel.
    assert liverpool.stage() is croydon.stage()
    assert liverpool.stage() is Stage.NATIONAL_PANEL_RESPONSE


# ====================================================================== late referrals


def test_salford_flags_a_referral_made_more_than_five_days_after_the_incident() -> None:
    late = same_referral(
        SALFORD,
        incident_on="2026-12-14",  # 7 days before receipt
        late_reason="The family disclosed the incident to school a week later.",
    )
    salford = Walk(SALFORD, late)
    assert salford.case.late_referral
    assert (
        "Late referral: 2 day(s) past the 5-day limit after the incident; reason: "
        "The family disclosed the incident to school a week later."
    ) in salford.history(HistoryKind.NOTICE)
    # The referral is accepted all the same: triage is under way.
    assert salford.stage() is Stage.TRIAGE
    # Without a reason, the history says so.
    unexplained = Walk(SALFORD, same_referral(SALFORD, incident_on="2026-12-14"))
    assert unexplained.case.late_referral
    assert any(
        t.endswith("reason: no reason given") for t in unexplained.history(HistoryKind.NOTICE)
    )


@pytest.mark.parametrize("incident_on", ["2026-12-16", "2026-12-21"])
def test_salford_referral_in_time_is_not_flagged(incident_on: str) -> None:
    salford = Walk(SALFORD, same_referral(SALFORD, incident_on=incident_on))
    assert not salford.case.late_referral
    assert not [t for t in salford.history(HistoryKind.NOTICE) if t.startswith("Late referral")]


@pytest.mark.parametrize("code", [LIVERPOOL, CROYDON])
def test_partnerships_without_a_time_limit_never_flag_a_referral(code: str) -> None:
    walk = Walk(code, same_referral(code, incident_on="2026-11-01"))
    assert not walk.case.late_referral


@pytest.mark.parametrize("code", PARTNERSHIPS)
def test_an_open_action_plan_is_not_escalated_for_not_being_closed(code: str) -> None:
    walk = Walk(code).in_action_plan()
    walk.decide("action_added", COORDINATOR, **action_fields("A1", date(2027, 9, 1)))
    closing = walk.case.deadlines.get("meeting-case_closed")
    fired = walk.fire_all(closing) if closing is not None and closing.open else []
    assert not [n for n in fired if n.deadline_id == "meeting-case_closed" and n.kind != "reminder"]
