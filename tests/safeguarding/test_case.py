"""A case, driven through every route without Temporal.

`Driver` plays the workflow's part: it opens the case, checks and applies decisions, plans every
deadline request on the real working calendar (as the planning activity does), follows
`follow_up_requests()` until there are none, and fires alerts at the moments a test chooses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from safeguarding import machine
from safeguarding.calendar import WorkingCalendar
from safeguarding.case import (
    Action,
    Case,
    CaseStatus,
    DecisionRefused,
    Effects,
    HistoryKind,
    Notice,
)
from safeguarding.case_file import CURRENT_EDITION, FIRST_EDITION
from safeguarding.clock import uk_moment
from safeguarding.deadlines import Deadline, DeadlineKind, DeadlineState
from safeguarding.decisions import Decision, Person
from safeguarding.planning import plan_deadline
from safeguarding.referral import Referral
from safeguarding.settings import Authority, MeetingCadence, PartnershipSettings
from safeguarding.vocabulary import (
    ActionStatus,
    Agency,
    CaseOfConcernApproach,
    DecisionKind,
    OtherReviewType,
    PlanScope,
    Rag,
    ReviewOutcome,
    Role,
    Route,
    Stage,
)
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    HEALTH_MEMBER,
    LEAD_REVIEWER,
    POLICE_MEMBER,
    action_fields,
    care_leaver_referral,
    decision,
    referral,
)

CASE_REF = "SR-LSCP-2026-0007"
RECEIVED = date(2026, 12, 21)  # Monday before Christmas 2026

SETTINGS = PartnershipSettings(
    code="LSCP",
    name="Liverpool Safeguarding Children Partnership",
    review_group="Safeguarding Practice Review Group",
    review_group_chair="SPRG Chair",
    business_manager="LSCP Business Manager",
    executive="LSCP Executive",
    single_agency_plan_monitor="SPRG (single-agency plans)",
    multi_agency_plan_monitor="Quality Assurance Group",
)

#: Personal data in the referral and in decision notes: must never reach notices or the
#: operator's details.
CHILD_NAME = "Amelia-Rose Testchild"
SUMMARY = "Amelia-Rose admitted to hospital with unexplained fractures; partner Jordan arrested."
REFERRER = "Rita Referrer"
ETHNICITY = "Mixed White and Black Caribbean"
NOTE = "Mother disclosed domestic abuse by Jordan Example at 12 Acacia Avenue."
PERSONAL: tuple[str, ...] = (
    CHILD_NAME,
    "Amelia",
    SUMMARY,
    "fractures",
    "Jordan",
    "Acacia",
    "2023-05-01",
    REFERRER,
    ETHNICITY,
    NOTE,
)


def sensitive_referral(**overrides: Any) -> Referral:
    fields: dict[str, Any] = {
        "referrer": {"name": REFERRER, "agency": "health"},
        "children": [
            {
                "name": CHILD_NAME,
                "date_of_birth": "2023-05-01",
                "age_years": 3,
                "sex": "female",
                "ethnicity": ETHNICITY,
                "child_protection_plan": True,
            }
        ],
        "summary": SUMMARY,
    }
    fields.update(overrides)
    return referral(RECEIVED, **fields)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def people(*persons: Person) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in persons]


class Driver:
    """The workflow's role around a `Case`: clock, deadline planning, follow-ups, alerts."""

    def __init__(
        self,
        ref: Referral | None = None,
        settings: PartnershipSettings = SETTINGS,
        edition: int = CURRENT_EDITION,
    ) -> None:
        ref = ref or sensitive_referral()
        self.settings = settings
        self.calendar = WorkingCalendar(settings.closure_days)
        self.now = uk_moment(ref.received_on, time(10))
        self.notices: list[Notice] = []
        self.case, effects = Case.open(CASE_REF, ref, settings, self.now, edition)
        self.carry_out(effects)

    def on(self, day: date, at: time = time(10)) -> Driver:
        self.now = uk_moment(day, at)
        return self

    def carry_out(self, effects: Effects) -> None:
        requests = effects.deadline_requests
        for _ in range(5):
            if not requests:
                break
            plans = [plan_deadline(r, self.settings, self.calendar) for r in requests]
            self.case.open_deadlines(requests, plans, self.now)
            requests = self.case.follow_up_requests()
        else:
            pytest.fail("follow-up deadline requests never ran out")
        self.notices += effects.notices

    def apply(self, made: Decision) -> Effects:
        self.case.check(made, self.now)
        effects = self.case.apply(made, self.now, "update")
        self.carry_out(effects)
        return effects

    def decide(self, kind: str, by: Person, **fields: Any) -> Effects:
        return self.apply(decision(kind, by, **fields))

    def refuse(self, kind: str, by: Person, **fields: Any) -> DecisionRefused:
        return self.refuse_decision(decision(kind, by, **fields))

    def refuse_decision(self, made: Decision) -> DecisionRefused:
        before = self.case.model_dump()
        with pytest.raises(DecisionRefused) as refused:
            self.case.check(made, self.now)
        assert self.case.model_dump() == before, "check() must change nothing"
        return refused.value

    def fire(self, at: datetime) -> list[Notice]:
        self.now = at
        notices = self.case.fire_due_alerts(at)
        self.notices += notices
        return notices

    def deadline(self, deadline_id: str) -> Deadline:
        return self.case.deadlines[deadline_id]

    def due(self, deadline_id: str) -> date:
        return self.deadline(deadline_id).due_on

    def state(self, deadline_id: str) -> DeadlineState:
        return self.deadline(deadline_id).state(self.now)

    def stage(self) -> Stage:
        """A call, so that mypy does not narrow the stage across decisions."""
        return self.case.stage

    def action(self, action_id: str) -> Action:
        return self.case.actions[action_id]

    # ---- the serious incident route, step by step (each step does the ones before it)

    def triaged(self, **fields: Any) -> Driver:
        fields.setdefault("outcome", "serious_incident")
        self.on(date(2026, 12, 22)).decide("triage", CHAIR, note=NOTE, **fields)
        return self

    def notified(self) -> Driver:
        self.triaged()
        self.on(date(2026, 12, 23)).decide(
            "notification_submitted", COORDINATOR, reference="NP-2026-0042"
        )
        return self

    def rapid_reviewed(self, recommendation: str = "local_cspr", *, send: bool = True) -> Driver:
        self.notified()
        self.on(date(2027, 1, 12)).decide(
            "rapid_review_decision",
            CHAIR,
            recommendation=recommendation,
            attendees=people(CHAIR, HEALTH_MEMBER, CSC_MEMBER),
            possible_national_importance=True,
            learning=NOTE,
        )
        if send:  # sent to the National Panel the next day (issue #13 item 6)
            self.on(date(2027, 1, 13)).decide("rapid_review_sent", COORDINATOR)
        return self

    def panel_responded(self, outcome: str = "local_cspr") -> Driver:
        self.rapid_reviewed()
        self.on(date(2027, 2, 26)).decide(
            "panel_response", COORDINATOR, panel_agrees=True, outcome=outcome
        )
        return self

    def lead_reviewer_appointed(self) -> Driver:
        self.panel_responded()
        self.on(date(2027, 3, 1)).decide(
            "lead_reviewer_appointed", BUSINESS_MANAGER, lead_reviewer="Lee Reviewer"
        )
        return self

    def draft_received(self) -> Driver:
        self.lead_reviewer_appointed()
        self.on(date(2027, 3, 15)).decide("terms_of_reference_agreed", CHAIR)
        self.on(date(2027, 4, 5)).decide("agency_information_received", LEAD_REVIEWER)
        self.involved(date(2027, 4, 6))
        self.on(date(2027, 5, 3)).decide("involvement_completed", LEAD_REVIEWER)
        self.on(date(2027, 6, 1)).decide("draft_report_received", LEAD_REVIEWER)
        return self

    def involved(self, day: date) -> Driver:
        """The involvement `involvement_completed` needs (issue #13 item 9)."""
        for milestone in ("family_told", "family_views", "practitioners_involved"):
            self.on(day).decide("involvement_recorded", LEAD_REVIEWER, milestone=milestone)
        return self

    def ready_to_publish(self, day: date) -> Driver:
        """What publication needs first (issue #13 items 9 and 10)."""
        self.on(day).decide("anonymisation_checked", CHAIR)
        self.on(day).decide("involvement_recorded", LEAD_REVIEWER, milestone="family_shown_report")
        return self

    def in_action_plan(self) -> Driver:
        self.panel_responded(outcome="no_further_review")
        self.on(date(2027, 3, 1))
        return self


def assert_no_personal_data(text: str) -> None:
    for item in PERSONAL:
        assert item not in text, f"{item!r} leaked into: {text}"


# ====================================================================== opening


def test_opening_moves_to_triage_and_opens_the_triage_deadline() -> None:
    d = Driver()
    assert d.stage() is Stage.TRIAGE
    assert d.case.route is Route.UNDECIDED
    assert d.case.aware_on == RECEIVED
    assert d.case.opened_at == uk_moment(RECEIVED, time(10))
    assert list(d.case.deadlines) == ["triage"]
    triage = d.deadline("triage")
    assert triage.due_on == date(2026, 12, 30)  # 5 working days after receipt
    assert triage.owner == SETTINGS.triage_by
    assert not triage.statutory
    assert [h.kind for h in d.case.history] == [
        HistoryKind.NOTICE,
        HistoryKind.STAGE_CHANGED,
        HistoryKind.DEADLINE_OPENED,
    ]
    assert d.case.history[1].text == "Referral received → Triage"
    assert d.case.next_alert_at() == utc(2026, 12, 24, 9)


def test_the_next_alert_is_described_for_the_timer_in_the_systems_words() -> None:
    d = Driver()
    assert d.case.next_alert_summary() == "reminder: Triage decision, due 30 Dec 2026"
    d.fire(d.case.deadlines["triage"].remind_at)
    assert d.case.next_alert_summary() == "escalation: Triage decision, due 30 Dec 2026"
    d.fire(d.case.deadlines["triage"].escalate_at)
    assert d.case.next_alert_summary() == "second escalation: Triage decision, due 30 Dec 2026"
    assert_no_personal_data(d.case.next_alert_summary() or "")


def test_triage_may_be_due_at_the_next_weekly_triage_meeting() -> None:
    weekly = SETTINGS.model_copy(
        update={"triage_meeting": MeetingCadence(group="Triage", kind="weekly", weekday=3)}
    )  # Thursdays
    d = Driver(settings=weekly)
    triage = d.deadline("triage")
    assert triage.due_on == date(2026, 12, 24)
    assert triage.basis == "next meeting of Triage (weekly, Thursday) after 2026-12-21"
    # The following Thursday is New Year's Eve; received on Christmas Eve, that is the meeting.
    later = Driver(referral(date(2026, 12, 24)), settings=weekly)
    assert later.due("triage") == date(2026, 12, 31)


def test_open_returns_the_triage_request_for_the_workflow_to_plan() -> None:
    now = uk_moment(RECEIVED, time(10))
    case, effects = Case.open(CASE_REF, sensitive_referral(), SETTINGS, now)
    assert [r.deadline_id for r in effects.deadline_requests] == ["triage"]
    assert effects.notices == []
    assert case.deadlines == {}  # nothing opens until the plans come back


def test_awareness_comes_from_the_referral() -> None:
    d = Driver(sensitive_referral(la_aware_on="2026-12-18"))
    assert d.case.aware_on == date(2026, 12, 18)


# ====================================================================== serious incident


def test_serious_incident_opens_the_notification_and_rapid_review_deadlines() -> None:
    d = Driver().triaged()
    assert d.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION
    assert d.case.route is Route.SERIOUS_INCIDENT
    assert d.state("triage") is DeadlineState.MET
    assert d.deadline("triage").met_on == date(2026, 12, 22)

    notification = d.deadline("notification")
    assert notification.kind is DeadlineKind.NOTIFICATION
    assert notification.title == "Serious Incident Notification to the National Panel"
    assert notification.statutory
    assert notification.owner == Agency.CHILDRENS_SOCIAL_CARE.label
    # 5 working days after awareness on Mon 21 Dec: 22, 23, 24, 29, 30.
    assert notification.due_on == date(2026, 12, 30)
    assert notification.basis == "5 working days after 2026-12-21"

    rapid = d.deadline("rapid-review")
    assert rapid.kind is DeadlineKind.RAPID_REVIEW
    assert rapid.statutory
    assert rapid.owner == SETTINGS.review_group
    # 15 working days counted from awareness, across Christmas and New Year.
    assert rapid.due_on == date(2027, 1, 14)


def test_deadlines_count_from_an_earlier_awareness_given_on_the_referral() -> None:
    d = Driver(sensitive_referral(la_aware_on="2026-12-18")).triaged()
    assert d.due("notification") == date(2026, 12, 29)
    assert d.due("rapid-review") == date(2027, 1, 13)


def test_triage_may_correct_the_day_of_awareness() -> None:
    d = Driver().triaged(la_aware_on="2026-12-19")  # a Saturday
    assert d.case.aware_on == date(2026, 12, 19)
    assert d.due("notification") == date(2026, 12, 29)


def test_closure_days_push_the_statutory_deadlines_later() -> None:
    closed = SETTINGS.model_copy(
        update={"closure_days": [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]}
    )
    d = Driver(settings=closed).triaged()
    assert d.due("triage") == date(2027, 1, 5)
    assert d.due("notification") == date(2027, 1, 5)
    assert d.due("rapid-review") == date(2027, 1, 19)


def test_notification_is_recorded_and_met() -> None:
    d = Driver().notified()
    assert d.stage() is Stage.RAPID_REVIEW
    assert d.case.notification_reference == "NP-2026-0042"
    assert d.case.notified_on == date(2026, 12, 23)
    assert d.state("notification") is DeadlineState.MET
    assert d.deadline("notification").met_on == date(2026, 12, 23)
    assert d.state("rapid-review") is DeadlineState.ON_TRACK


def test_a_late_notification_is_missed() -> None:
    d = Driver().triaged()
    d.on(date(2027, 1, 4)).decide(
        "notification_submitted", CSC_MEMBER, reference="NP-1", occurred_on="2026-12-31"
    )
    notification = d.deadline("notification")
    assert notification.met_on == date(2026, 12, 31)
    assert notification.state(d.now) is DeadlineState.MISSED
    entry = next(
        h
        for h in d.case.history
        if h.kind is HistoryKind.DEADLINE_MET and h.deadline_id == "notification"
    )
    assert entry.text.endswith("(late, due 2026-12-30)")


def test_rapid_review_counted_from_the_notification() -> None:
    settings = SETTINGS.model_copy(update={"rapid_review_counted_from": "notification"})
    d = Driver(settings=settings).triaged()
    assert "rapid-review" not in d.case.deadlines
    d.on(date(2026, 12, 24)).decide(
        "notification_submitted", COORDINATOR, reference="NP-1", occurred_on="2026-12-23"
    )
    rapid = d.deadline("rapid-review")
    # 15 working days from the notification on Wed 23 Dec: the day of notification is day 0.
    assert rapid.due_on == date(2027, 1, 18)
    assert rapid.basis == "15 working days after 2026-12-23"


def test_rapid_review_working_days_follow_the_settings() -> None:
    settings = SETTINGS.model_copy(
        update={"rapid_review_working_days": 10, "notification_working_days": 3}
    )
    d = Driver(settings=settings).triaged()
    assert d.due("notification") == date(2026, 12, 24)
    assert d.due("rapid-review") == date(2027, 1, 7)


# ---------------------------------------------------------------------- information requests


def test_information_requests_open_a_deadline_and_send_a_notice_per_agency() -> None:
    d = Driver().notified()
    d.on(date(2026, 12, 24))
    effects = d.decide(
        "information_requested",
        COORDINATOR,
        requests=[
            {"agency": "health"},
            {"agency": "police", "due_on": "2027-01-08"},
            {"agency": "education"},
        ],
    )
    assert set(d.case.information) == {Agency.HEALTH, Agency.POLICE, Agency.EDUCATION}
    assert d.case.information[Agency.HEALTH].requested_on == date(2026, 12, 24)
    # Default: 5 working days after the request on 24 Dec: 29, 30, 31, 4, 5 Jan.
    assert d.due("information-health") == date(2027, 1, 5)
    assert d.due("information-police") == date(2027, 1, 8)
    assert d.deadline("information-police").basis == "set for 2027-01-08"
    health = d.deadline("information-health")
    assert health.kind is DeadlineKind.AGENCY_INFORMATION
    assert health.owner == "Health (ICB) member of the Safeguarding Practice Review Group"

    assert [n.kind for n in effects.notices] == ["information_request"] * 3
    notice = effects.notices[0]
    assert notice.audience == "Health (ICB) member of the Safeguarding Practice Review Group"
    assert notice.case_ref == CASE_REF
    assert notice.partnership == "LSCP"
    assert notice.deadline_id == "information-health"
    assert CASE_REF in notice.subject
    assert len({n.notice_id for n in effects.notices}) == 3
    for n in effects.notices:
        assert_no_personal_data(n.subject + n.body + n.audience)


def test_information_returned_meets_the_agency_deadline() -> None:
    d = Driver().notified()
    d.on(date(2026, 12, 24)).decide(
        "information_requested",
        COORDINATOR,
        requests=[{"agency": "health"}, {"agency": "police", "due_on": "2027-01-08"}],
    )
    d.on(date(2027, 1, 4)).decide("information_returned", HEALTH_MEMBER, agency="health")
    record = d.case.information[Agency.HEALTH]
    assert record.returned_on == date(2027, 1, 4)
    assert record.returned_by == HEALTH_MEMBER
    assert d.state("information-health") is DeadlineState.MET
    d.on(date(2027, 1, 11)).decide("information_returned", POLICE_MEMBER, agency="police")
    assert d.state("information-police") is DeadlineState.MISSED
    assert d.stage() is Stage.RAPID_REVIEW


def test_only_an_agencys_own_member_returns_its_information() -> None:
    d = Driver().notified()
    d.on(date(2026, 12, 24)).decide(
        "information_requested", COORDINATOR, requests=[{"agency": "health"}]
    )
    refused = d.refuse("information_returned", POLICE_MEMBER, agency="health")
    assert refused.reason == "not_authorised"
    assert "Pat Police" in refused.message
    assert "only their own agency's information" in refused.message
    # The business team may record it on the agency's behalf.
    d.decide("information_returned", COORDINATOR, agency="health")
    assert d.case.information[Agency.HEALTH].returned_by == COORDINATOR


def test_information_conflicts() -> None:
    d = Driver().notified()
    d.on(date(2026, 12, 24)).decide(
        "information_requested", COORDINATOR, requests=[{"agency": "health"}]
    )
    again = d.refuse(
        "information_requested",
        COORDINATOR,
        requests=[{"agency": "police"}, {"agency": "health"}],
    )
    assert again.reason == "conflict"
    assert "already requested from Health (ICB)" in again.message
    assert "extend its deadline instead" in again.message
    not_asked = d.refuse("information_returned", POLICE_MEMBER, agency="police")
    assert not_asked.reason == "conflict"
    assert "no information was requested from Police" in not_asked.message
    d.decide("information_returned", HEALTH_MEMBER, agency="health")
    twice = d.refuse("information_returned", HEALTH_MEMBER, agency="health")
    assert twice.reason == "conflict"
    assert "already returned its information on 2026-12-24" in twice.message


def test_an_information_due_date_in_the_past_is_invalid() -> None:
    d = Driver().notified()
    d.on(date(2026, 12, 24))
    refused = d.refuse(
        "information_requested",
        COORDINATOR,
        requests=[{"agency": "health", "due_on": "2026-12-23"}],
    )
    assert refused.reason == "invalid"
    assert "due_on 2026-12-23 for Health (ICB) is past" in refused.message


# ---------------------------------------------------------------------- rapid review decision


def test_only_the_chair_makes_the_rapid_review_decision() -> None:
    d = Driver().notified()
    d.on(date(2027, 1, 12))
    refused = d.refuse(
        "rapid_review_decision",
        POLICE_MEMBER,
        recommendation="local_cspr",
        attendees=people(POLICE_MEMBER),
    )
    assert refused.reason == "not_authorised"
    assert refused.message == (
        "Pat Police (panel member, Police) may not make a rapid_review_decision decision: "
        "it needs a chair"
    )


def test_rapid_review_decision_meets_its_deadline_and_withdraws_unreturned_requests() -> None:
    d = Driver().notified()
    d.on(date(2026, 12, 24)).decide(
        "information_requested",
        COORDINATOR,
        requests=[{"agency": "health"}, {"agency": "education"}],
    )
    d.on(date(2027, 1, 4)).decide("information_returned", HEALTH_MEMBER, agency="health")
    d.on(date(2027, 1, 12)).decide(
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=people(CHAIR, HEALTH_MEMBER, CSC_MEMBER),
        possible_national_importance=True,
        immediate_safety_actions="Siblings' safety plans reviewed.",
    )
    assert d.stage() is Stage.NATIONAL_PANEL_RESPONSE
    # The 15 working days run to the Rapid Review's sending to the Panel (issue #13 item 6).
    assert d.deadline("rapid-review").open
    assert d.state("information-health") is DeadlineState.MET
    assert d.state("information-education") is DeadlineState.WITHDRAWN
    record = d.case.rapid_review
    assert record is not None
    assert record.decided_on == date(2027, 1, 12)
    assert record.recommendation is ReviewOutcome.LOCAL_CSPR
    assert record.attendees == [CHAIR, HEALTH_MEMBER, CSC_MEMBER]
    assert record.immediate_safety_actions == "Siblings' safety plans reviewed."
    status = d.case.status(d.now)
    assert status.possible_national_importance
    assert [t.task for t in status.tasks] == [
        "Rapid Review completed and sent to the National Panel",
        "Record the National Panel's response",
    ]
    assert status.tasks[1].owed_by == "Liverpool Safeguarding Children Partnership business team"
    d.on(date(2027, 1, 13)).decide("rapid_review_sent", COORDINATOR)
    assert d.state("rapid-review") is DeadlineState.MET
    assert d.deadline("rapid-review").met_on == date(2027, 1, 13)
    assert record.sent_to_panel_on == date(2027, 1, 13)
    assert d.case.status(d.now).next_deadline.deadline_id == "panel-response"  # type: ignore[union-attr]


def test_a_late_rapid_review_is_missed() -> None:
    d = Driver().notified()
    d.on(date(2027, 1, 15)).decide(
        "rapid_review_decision", CHAIR, recommendation="no_further_review", attendees=people(CHAIR)
    )
    d.decide("rapid_review_sent", COORDINATOR)
    assert d.state("rapid-review") is DeadlineState.MISSED


# ---------------------------------------------------------------------- National Panel response


def test_panel_response_no_further_review_goes_to_action_plan_monitoring() -> None:
    d = Driver().rapid_reviewed(recommendation="no_further_review")
    d.on(date(2027, 2, 26)).decide(
        "panel_response", BUSINESS_MANAGER, panel_agrees=True, outcome="no_further_review"
    )
    assert d.stage() is Stage.ACTION_PLAN_MONITORING
    assert d.case.route is Route.LEARNING_ONLY
    assert d.case.cspr is None
    assert d.case.panel_response is not None
    assert d.case.panel_response.outcome is ReviewOutcome.NO_FURTHER_REVIEW
    assert not any(d.open for d in d.case.deadlines.values())


def test_panel_response_local_cspr_opens_publication_and_final_report_deadlines() -> None:
    d = Driver().panel_responded()
    assert d.stage() is Stage.CSPR_LEAD_REVIEWER
    assert d.case.route is Route.LOCAL_CSPR
    assert d.case.cspr is not None
    assert d.case.cspr.decided_on == date(2027, 2, 26)
    assert d.case.panel_response is not None
    assert d.case.panel_response.panel_agrees

    publication = d.deadline("cspr-publication")
    assert publication.kind is DeadlineKind.CSPR_PUBLICATION
    assert publication.statutory
    # 6 calendar months after the Rapid Review's decision to hold the review (issue #13 item
    # 1), not after the Panel's response weeks later.
    assert d.case.cspr.clock_from == date(2027, 1, 12)
    assert d.case.cspr.initiated_by == "rapid_review_decision"
    assert publication.due_on == date(2027, 7, 12)
    assert publication.basis == "6 calendar months after 2027-01-12"
    assert d.case.cspr.planned_publication_on == date(2027, 7, 12)

    final = d.deadline("cspr-final-report")
    assert final.kind is DeadlineKind.CSPR_FINAL_REPORT
    assert final.owner == SETTINGS.business_manager
    # 7 working days before Mon 12 Jul 2027: 9, 8, 7, 6, 5, 2, 1.
    assert final.due_on == date(2027, 7, 1)
    assert final.basis == "7 working days before 2027-07-12"
    assert d.case.follow_up_requests() == []


def test_publication_six_months_after_a_decision_on_31_august_clamps_to_february() -> None:
    d = Driver(referral(date(2026, 6, 1)))
    d.on(date(2026, 6, 2)).decide("triage", CHAIR, outcome="serious_incident")
    d.on(date(2026, 6, 3)).decide("notification_submitted", COORDINATOR, reference="NP-7")
    d.on(date(2026, 8, 31)).decide(  # a bank holiday: decisions may still be recorded
        "rapid_review_decision", CHAIR, recommendation="local_cspr", attendees=people(CHAIR)
    )
    d.on(date(2026, 9, 1)).decide("rapid_review_sent", COORDINATOR)
    d.on(date(2026, 10, 1)).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    assert d.due("cspr-publication") == date(2027, 2, 28)  # a Sunday
    assert d.due("cspr-final-report") == date(2027, 2, 18)


def test_cspr_publication_months_follow_the_settings() -> None:
    settings = SETTINGS.model_copy(
        update={"cspr_publication_months": 9, "final_report_working_days_before_publication": 10}
    )
    d = Driver(settings=settings).panel_responded()
    assert d.due("cspr-publication") == date(2027, 10, 12)
    assert d.due("cspr-final-report") == date(2027, 9, 28)


# ---------------------------------------------------------------------- CSPR milestones


def test_cspr_milestones_in_order_to_publication() -> None:
    d = Driver().lead_reviewer_appointed()
    assert d.stage() is Stage.CSPR_TERMS_OF_REFERENCE
    assert d.case.cspr is not None
    assert d.case.cspr.lead_reviewer == "Lee Reviewer"
    steps = [
        ("terms_of_reference_agreed", CHAIR, Stage.CSPR_AGENCY_INFORMATION),
        ("agency_information_received", LEAD_REVIEWER, Stage.CSPR_INVOLVEMENT),
        ("involvement_completed", LEAD_REVIEWER, Stage.CSPR_DRAFT_REPORT),
        ("draft_report_received", COORDINATOR, Stage.CSPR_QUALITY_ASSURANCE),
        ("quality_assured", CHAIR, Stage.CSPR_FINAL_REPORT),
        ("final_report_sent", BUSINESS_MANAGER, Stage.CSPR_PUBLICATION),
    ]
    day = date(2027, 3, 15)
    for kind, by, stage in steps:
        if kind == "involvement_completed":
            d.involved(day)
        d.on(day).decide(kind, by)
        assert d.stage() is stage
        assert d.case.cspr.milestones[DecisionKind(kind)] == day
        day += timedelta(days=14)
    assert d.state("cspr-final-report") is DeadlineState.MET
    assert d.deadline("cspr-final-report").met_on == date(2027, 5, 24)
    d.ready_to_publish(date(2027, 6, 1))
    d.on(date(2027, 7, 2)).decide(
        "published", COORDINATOR, location="lscp.org.uk/reviews", available_until="2028-07-02"
    )
    assert d.stage() is Stage.ACTION_PLAN_MONITORING
    assert d.case.cspr.published_on == date(2027, 7, 2)
    assert d.case.cspr.published_at_location == "lscp.org.uk/reviews"
    assert d.case.cspr.available_until == date(2028, 7, 2)
    assert d.state("cspr-publication") is DeadlineState.MET
    assert d.case.route is Route.LOCAL_CSPR


def test_a_milestone_out_of_order_is_refused_naming_what_is_allowed() -> None:
    d = Driver().lead_reviewer_appointed()
    refused = d.refuse("draft_report_received", LEAD_REVIEWER)
    assert refused.reason == "wrong_stage"
    assert "draft_report_received" in refused.message
    assert "Local CSPR: agree terms of reference" in refused.message
    assert "allowed here: terms_of_reference_agreed, publication_planned, " in refused.message
    assert refused.message.endswith(", deadline_extended")
    assert (
        "learning_planned, learning_disseminated, learning_impact_recorded, deadline_extended"
        in refused.message
    )


def test_the_lead_reviewer_cannot_agree_the_terms_of_reference() -> None:
    d = Driver().lead_reviewer_appointed()
    refused = d.refuse("terms_of_reference_agreed", LEAD_REVIEWER)
    assert refused.reason == "not_authorised"
    assert "chair or business manager" in refused.message


def test_planning_publication_re_plans_the_final_report() -> None:
    d = Driver().draft_received()
    d.on(date(2027, 6, 14)).decide("publication_planned", CHAIR, planned_on="2027-08-31")
    assert d.case.cspr is not None
    assert d.case.cspr.planned_publication_on == date(2027, 8, 31)
    final = d.deadline("cspr-final-report")
    # 7 working days before Tue 31 Aug 2027, skipping the bank holiday on Mon 30 Aug.
    assert final.due_on == date(2027, 8, 19)
    assert final.basis == "7 working days before 2027-08-31"
    assert final.remind_at == utc(2027, 8, 17, 8)
    # The statutory six-month expectation is not moved by a plan.
    assert d.due("cspr-publication") == date(2027, 7, 12)
    moved = [h for h in d.case.history if h.kind is HistoryKind.DEADLINE_EXTENDED]
    assert moved[-1].deadline_id == "cspr-final-report"
    assert "2027-07-01 → 2027-08-19" in moved[-1].text
    assert d.case.status(d.now).planned_publication_on == date(2027, 8, 31)


def test_the_re_planned_final_report_alerts_name_the_new_basis() -> None:
    d = Driver().draft_received()
    d.on(date(2027, 6, 14)).decide("publication_planned", CHAIR, planned_on="2027-08-31")
    [reminder] = [n for n in d.fire(utc(2027, 8, 17, 8)) if n.deadline_id == "cspr-final-report"]
    assert reminder.due_on == date(2027, 8, 19)
    assert "due 2027-08-19 (7 working days before 2027-08-31)" in reminder.body


def test_publication_may_be_planned_early_and_re_planned() -> None:
    d = Driver().panel_responded()
    d.on(date(2027, 3, 1)).decide("publication_planned", BUSINESS_MANAGER, planned_on="2027-07-30")
    assert d.due("cspr-final-report") == date(2027, 7, 21)
    d.on(date(2027, 3, 2)).decide("publication_planned", CHAIR, planned_on="2027-10-29")
    assert d.due("cspr-final-report") == date(2027, 10, 20)
    assert d.stage() is Stage.CSPR_LEAD_REVIEWER


def test_planning_publication_for_today_or_earlier_is_invalid() -> None:
    d = Driver().panel_responded()
    d.on(date(2027, 3, 1))
    for planned_on in ("2027-03-01", "2027-02-01"):
        refused = d.refuse("publication_planned", CHAIR, planned_on=planned_on)
        assert refused.reason == "invalid"
        assert "planned_on must be after today" in refused.message


def test_planning_publication_after_the_final_report_does_not_reopen_it() -> None:
    d = Driver().draft_received()
    d.on(date(2027, 6, 15)).decide("quality_assured", CHAIR)
    d.on(date(2027, 6, 16)).decide("final_report_sent", BUSINESS_MANAGER)
    assert d.stage() is Stage.CSPR_PUBLICATION
    d.on(date(2027, 6, 17)).decide("publication_planned", CHAIR, planned_on="2027-09-15")
    final = d.deadline("cspr-final-report")
    assert not final.open
    assert final.due_on == date(2027, 7, 1)
    assert final.state(d.now) is DeadlineState.MET
    assert d.case.cspr is not None
    assert d.case.cspr.planned_publication_on == date(2027, 9, 15)


def test_not_published_records_the_reasons_and_meets_the_publication_deadline() -> None:
    d = Driver().draft_received()
    d.on(date(2027, 6, 15)).decide("quality_assured", CHAIR)
    d.on(date(2027, 6, 16)).decide("final_report_sent", BUSINESS_MANAGER)
    refused = d.refuse("not_published", COORDINATOR, reasons="Would identify the siblings.")
    assert refused.reason == "not_authorised"
    d.decide("not_published", CHAIR, reasons="Would identify the siblings.")
    assert d.stage() is Stage.ACTION_PLAN_MONITORING
    assert d.case.cspr is not None
    assert d.case.cspr.not_published_reasons == "Would identify the siblings."
    assert d.case.cspr.published_on is None
    assert d.state("cspr-publication") is DeadlineState.MET


def test_publication_after_six_months_is_missed_unless_extended() -> None:
    late = Driver().draft_received()
    late.on(date(2027, 6, 15)).decide("quality_assured", CHAIR)
    late.on(date(2027, 6, 16)).decide("final_report_sent", BUSINESS_MANAGER)
    late.ready_to_publish(date(2027, 6, 17))
    late.on(date(2027, 8, 31)).decide(
        "published", COORDINATOR, location="lscp.org.uk", available_until="2028-08-31"
    )
    assert late.state("cspr-publication") is DeadlineState.MISSED

    extended = Driver().draft_received()
    extended.on(date(2027, 6, 14)).decide(
        "deadline_extended",
        CHAIR,
        deadline_id="cspr-publication",
        new_due_on="2027-08-31",
        reason="Criminal trial in August",
        agreed_with="National Panel",
    )
    extended.on(date(2027, 6, 15)).decide("quality_assured", CHAIR)
    extended.on(date(2027, 6, 16)).decide("final_report_sent", BUSINESS_MANAGER)
    extended.ready_to_publish(date(2027, 6, 17))
    extended.on(date(2027, 8, 31)).decide(
        "published", COORDINATOR, location="lscp.org.uk", available_until="2028-08-31"
    )
    assert extended.state("cspr-publication") is DeadlineState.MET


# ====================================================================== other routes


@pytest.mark.parametrize("edition", [FIRST_EDITION, CURRENT_EDITION])
@pytest.mark.parametrize("counted_from", ["awareness", "notification"])
def test_care_leaver_is_notified_and_closed_without_a_rapid_review(
    counted_from: str, edition: int
) -> None:
    settings = SETTINGS.model_copy(update={"rapid_review_counted_from": counted_from})
    d = Driver(care_leaver_referral(RECEIVED), settings=settings, edition=edition)
    d.on(date(2026, 12, 22)).decide("triage", CHAIR, outcome="serious_incident")
    assert d.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION
    assert d.case.route is Route.CARE_LEAVER_NOTIFICATION
    assert set(d.case.deadlines) == {"triage", "notification"}
    notification = d.deadline("notification")
    assert notification.title == "Care leaver death notified to the Secretary of State and Ofsted"
    assert notification.due_on == date(2026, 12, 30)
    refused = d.refuse("information_requested", COORDINATOR, requests=[{"agency": "health"}])
    assert refused.reason == "wrong_stage"

    d.on(date(2026, 12, 23)).decide("notification_submitted", COORDINATOR, reference="DfE-1")
    if edition == CURRENT_EDITION:  # the partnership decides next (issue #13 item 4)
        assert d.stage() is Stage.CARE_LEAVER_NEXT_STEP
        d.decide("care_leaver_next_step", CHAIR, next_step="no_further_action", reason="None")
    assert d.stage() is Stage.CLOSED
    assert d.case.closed
    assert d.case.closed_at == d.now
    assert d.case.rapid_review is None
    assert "rapid-review" not in d.case.deadlines
    assert d.state("notification") is DeadlineState.MET
    assert d.case.next_alert_at() is None
    assert d.case.status(d.now).decisions_allowed == []


def test_case_of_concern_route() -> None:
    d = Driver()
    d.on(date(2026, 12, 22)).decide("triage", BUSINESS_MANAGER, outcome="case_of_concern")
    assert d.stage() is Stage.CASE_OF_CONCERN
    assert d.case.route is Route.CASE_OF_CONCERN
    assert set(d.case.deadlines) == {"triage"}
    assert [t.task for t in d.case.tasks(d.now)] == [
        "Choose the approach and the agencies involved"
    ]
    d.on(date(2027, 1, 6)).decide(
        "approach_chosen",
        CHAIR,
        approach="appreciative_inquiry",
        agencies=["health", "education"],
    )
    assert d.stage() is Stage.CASE_OF_CONCERN_REVIEW
    concern = d.case.case_of_concern
    assert concern is not None
    assert concern.approach is CaseOfConcernApproach.APPRECIATIVE_INQUIRY
    assert concern.agencies == [Agency.HEALTH, Agency.EDUCATION]
    d.on(date(2027, 2, 3)).decide("outcome_shared", COORDINATOR, summary="Learning on neglect.")
    assert d.stage() is Stage.ACTION_PLAN_MONITORING
    assert concern.outcome_summary == "Learning on neglect."
    assert d.case.case_of_concern is not None
    assert d.case.case_of_concern.shared_with == [
        SETTINGS.review_group,
        SETTINGS.learning_group,
    ]
    d.on(date(2027, 2, 4)).decide("action_added", CHAIR, **action_fields("A1", date(2027, 5, 4)))
    d.on(date(2027, 5, 4)).decide(
        "action_updated", HEALTH_MEMBER, action_id="A1", status="complete"
    )
    d.decide("case_closed", BUSINESS_MANAGER)
    assert d.stage() is Stage.CLOSED
    assert d.case.route is Route.CASE_OF_CONCERN


def test_other_review_route() -> None:
    d = Driver()
    d.on(date(2026, 12, 22)).decide(
        "triage", HEALTH_MEMBER, outcome="other_review", review_type="multi_agency_audit"
    )
    assert d.stage() is Stage.OTHER_REVIEW
    assert d.case.route is Route.OTHER_REVIEW
    assert d.case.other_review_type is OtherReviewType.MULTI_AGENCY_AUDIT
    assert [t.task for t in d.case.tasks(d.now)] == ["Complete the review and record its findings"]
    d.on(date(2027, 3, 1)).decide("other_review_completed", CHAIR, findings="Audit findings.")
    assert d.stage() is Stage.ACTION_PLAN_MONITORING
    assert d.case.other_review_findings == "Audit findings."
    d.decide("case_closed", CHAIR)
    assert d.stage() is Stage.CLOSED


def test_triage_no_further_action_closes_the_case_with_advice() -> None:
    d = Driver()
    d.on(date(2026, 12, 22)).decide(
        "triage", POLICE_MEMBER, outcome="no_further_action", advice="Single-agency supervision."
    )
    assert d.stage() is Stage.CLOSED
    assert d.case.route is Route.NO_FURTHER_ACTION
    assert d.case.advice == "Single-agency supervision."
    assert d.state("triage") is DeadlineState.MET
    assert d.case.closed_at == d.now
    assert d.case.next_alert_at() is None
    assert d.fire(utc(2027, 6, 1)) == []
    refused = d.refuse(
        "deadline_extended", CHAIR, deadline_id="triage", new_due_on="2027-01-05", reason="x"
    )
    assert refused.reason == "wrong_stage"
    assert "none (case closed)" in refused.message


def test_a_late_triage_is_missed_and_recorded_on_the_day_it_happened() -> None:
    d = Driver()
    d.on(date(2027, 1, 4)).decide(
        "triage", CHAIR, outcome="no_further_action", advice="x", occurred_on="2026-12-31"
    )
    triage = d.deadline("triage")
    assert triage.met_on == date(2026, 12, 31)
    assert triage.met_at == d.now
    assert triage.state(d.now) is DeadlineState.MISSED
    assert d.case.status(d.now).deadlines[0].state is DeadlineState.MISSED


def test_wrong_stage_names_the_allowed_decisions() -> None:
    d = Driver()
    refused = d.refuse("notification_submitted", COORDINATOR, reference="NP-1")
    assert refused.reason == "wrong_stage"
    assert refused.message == (
        "a notification_submitted decision is not allowed at stage 'Triage'; "
        "allowed here: triage, referral_quality_assured, deadline_extended"
    )


def test_a_coordinator_may_not_triage() -> None:
    refused = Driver().refuse("triage", COORDINATOR, outcome="serious_incident")
    assert refused.reason == "not_authorised"
    assert refused.message == (
        "Cai Coordinator (coordinator, Partnership business team) may not make a triage "
        "decision: it needs a chair or panel member or business manager"
    )


def test_a_decision_nobody_is_configured_to_make_is_refused() -> None:
    authorities = dict(SETTINGS.authorities)
    del authorities[DecisionKind.TRIAGE]
    d = Driver(settings=SETTINGS.model_copy(update={"authorities": authorities}))
    refused = d.refuse("triage", CHAIR, outcome="serious_incident")
    assert refused.reason == "not_authorised"
    assert "nobody (not configured)" in refused.message


def test_a_partnership_may_let_a_named_agency_triage() -> None:
    authorities = dict(SETTINGS.authorities)
    authorities[DecisionKind.TRIAGE] = [
        Authority(roles=[Role.PANEL_MEMBER], agencies=[Agency.CHILDRENS_SOCIAL_CARE])
    ]
    d = Driver(settings=SETTINGS.model_copy(update={"authorities": authorities}))
    assert d.refuse("triage", HEALTH_MEMBER, outcome="case_of_concern").reason == ("not_authorised")
    d.decide("triage", CSC_MEMBER, outcome="case_of_concern")
    assert d.stage() is Stage.CASE_OF_CONCERN


# ====================================================================== dates and identity


def test_occurred_on_in_the_future_is_invalid() -> None:
    d = Driver().on(date(2026, 12, 22))
    refused = d.refuse("triage", CHAIR, outcome="serious_incident", occurred_on="2026-12-23")
    assert refused.reason == "invalid"
    assert refused.message == "occurred_on 2026-12-23 is in the future"


def test_occurred_on_is_judged_on_the_uk_calendar() -> None:
    # 23:30 UTC on 22 Dec is still 22 Dec in the UK (GMT); in summer it would be tomorrow.
    d = Driver()
    d.now = utc(2026, 12, 22, 23, 30)
    assert d.refuse(
        "triage", CHAIR, outcome="case_of_concern", occurred_on="2026-12-23"
    ).reason == ("invalid")
    d.now = utc(2026, 12, 23, 0, 30)
    d.decide("triage", CHAIR, outcome="case_of_concern", occurred_on="2026-12-23")
    assert d.deadline("triage").met_on == date(2026, 12, 23)


def test_occurred_on_before_the_referral_is_invalid() -> None:
    d = Driver().on(date(2026, 12, 22))
    refused = d.refuse("triage", CHAIR, outcome="serious_incident", occurred_on="2026-12-18")
    assert refused.reason == "invalid"
    assert "before the referral was received (2026-12-21)" in refused.message


def test_awareness_in_the_future_is_invalid() -> None:
    d = Driver().on(date(2026, 12, 22))
    refused = d.refuse("triage", CHAIR, outcome="serious_incident", la_aware_on="2026-12-24")
    assert refused.reason == "invalid"
    assert "la_aware_on is in the future" in refused.message


def test_a_decision_defaults_to_today_in_the_uk() -> None:
    winter = Driver()
    winter.now = utc(2027, 1, 4, 23, 30)  # still 4 Jan in the UK (GMT)
    winter.decide("triage", CHAIR, outcome="serious_incident")
    assert winter.deadline("triage").met_on == date(2027, 1, 4)

    summer = Driver(referral(date(2026, 7, 1)))
    summer.now = utc(2026, 7, 2, 23, 30)  # already 3 Jul in the UK (BST)
    summer.decide("triage", CHAIR, outcome="serious_incident")
    assert summer.deadline("triage").met_on == date(2026, 7, 3)
    # Awareness on Wed 1 Jul: 5 working days on is Wed 8 Jul.
    assert summer.due("notification") == date(2026, 7, 8)


def test_a_decision_id_is_applied_once() -> None:
    d = Driver()
    made = decision("triage", CHAIR, decision_id="triage-1", outcome="serious_incident")
    assert not d.case.is_duplicate(made)
    d.on(date(2026, 12, 22)).apply(made)
    assert d.case.is_duplicate(made)
    result = d.case.applied["triage-1"]
    assert result.kind is DecisionKind.TRIAGE
    assert result.stage is Stage.SERIOUS_INCIDENT_NOTIFICATION
    assert not result.duplicate
    assert result.message == "triage recorded; stage is now Serious Incident Notification"
    # Re-sent later, it passes the check even though triage is no longer allowed.
    d.on(date(2026, 12, 23)).case.check(made, d.now)
    # The same id with another payload of the same kind is a conflict (issue #11: it used to
    # be taken as the same decision, answering with the first one's result).
    resent = decision("triage", CHAIR, decision_id="triage-1", outcome="case_of_concern")
    with pytest.raises(DecisionRefused) as refused:
        d.case.is_duplicate(resent)
    assert refused.value.reason == "conflict"
    assert "already used for a different triage decision" in refused.value.message
    # Sent again exactly as it was, it is still the same decision.
    assert d.case.is_duplicate(
        decision("triage", CHAIR, decision_id="triage-1", outcome="serious_incident")
    )


def test_a_decision_id_reused_for_another_kind_is_a_conflict() -> None:
    d = Driver()
    d.on(date(2026, 12, 22)).decide("triage", CHAIR, decision_id="x-1", outcome="serious_incident")
    other = decision("notification_submitted", COORDINATOR, decision_id="x-1", reference="NP-1")
    with pytest.raises(DecisionRefused) as refused:
        d.case.is_duplicate(other)
    assert refused.value.reason == "conflict"
    assert "already used for a triage decision; use a new id" in refused.value.message
    assert d.refuse_decision(other).reason == "conflict"


def test_history_records_decisions_and_refusals() -> None:
    d = Driver().triaged()
    entry = next(h for h in d.case.history if h.kind is HistoryKind.DECISION)
    assert entry.decision_kind == "triage"
    assert entry.by == CHAIR
    assert entry.via == "update"
    assert entry.stage is Stage.TRIAGE
    assert entry.text.startswith("triage by Dana Chair (chair, Police); outcome=serious_incident")
    made = decision("case_closed", CHAIR)
    d.case.record_refusal(d.now, "wrong stage", "signal", made)
    refusal = d.case.history[-1]
    assert refusal.kind is HistoryKind.REFUSED
    assert refusal.text == "Refused: wrong stage"
    assert (refusal.via, refusal.decision_id) == ("signal", made.decision_id)
    d.case.note(d.now, HistoryKind.CONTINUED, "Run 2 continues the case")
    assert d.case.history[-1].via == "system"


def test_a_case_survives_a_round_trip_through_json() -> None:
    d = Driver().draft_received()
    d.on(date(2027, 6, 1)).decide("publication_planned", CHAIR, planned_on="2027-09-01")
    copy = Case.model_validate_json(d.case.model_dump_json())
    assert copy == d.case
    assert copy.status(d.now) == d.case.status(d.now)


# ====================================================================== alerts


def test_reminder_escalation_and_second_escalation_for_a_statutory_deadline() -> None:
    d = Driver().triaged()
    assert d.case.next_alert_at() == utc(2026, 12, 24, 9)
    assert d.fire(utc(2026, 12, 24, 8, 59)) == []

    [reminder] = d.fire(utc(2026, 12, 24, 9))
    assert reminder.kind == "reminder"
    assert reminder.deadline_id == "notification"
    assert reminder.audience == Agency.CHILDRENS_SOCIAL_CARE.label
    assert reminder.subject == (
        f"[{CASE_REF}] Reminder: Serious Incident Notification to the National Panel due 2026-12-30"
    )
    assert reminder.notice_id == f"{CASE_REF}:notification:reminder:2026-12-30"
    assert reminder.partnership == "LSCP"
    assert reminder.due_on == date(2026, 12, 30)
    assert "Liverpool Safeguarding Children Partnership" in reminder.body
    assert "stage: Serious Incident Notification" in reminder.body
    assert d.state("notification") is DeadlineState.DUE_SOON
    assert d.fire(utc(2026, 12, 24, 9, 5)) == []  # fired once only
    assert d.case.next_alert_at() == utc(2026, 12, 31, 0)

    [escalation] = d.fire(utc(2026, 12, 31, 0))
    assert escalation.kind == "escalation"
    assert escalation.audience == "SPRG Chair; LSCP Business Manager"
    assert "Overdue: Serious Incident Notification" in escalation.subject
    assert d.state("notification") is DeadlineState.OVERDUE
    assert d.case.overdue(d.now)
    assert d.case.status(d.now).overdue

    [second] = d.fire(utc(2027, 1, 7, 9))
    assert second.kind == "second_escalation"
    assert second.audience == "LSCP Executive"
    assert "Still outstanding" in second.subject
    kinds = [h.kind for h in d.case.history if h.deadline_id == "notification"]
    assert kinds[-3:] == [
        HistoryKind.REMINDER,
        HistoryKind.ESCALATION,
        HistoryKind.SECOND_ESCALATION,
    ]
    # The rapid review is next: its reminder is two working days before 14 Jan.
    assert d.case.next_alert_at() == utc(2027, 1, 12, 9)


def test_an_alert_woken_late_skips_the_moot_reminder() -> None:
    d = Driver().triaged()
    notices = d.fire(utc(2027, 1, 2, 12))  # after the notification's escalation
    assert [(n.deadline_id, n.kind) for n in notices] == [("notification", "escalation")]
    notification = d.deadline("notification")
    assert notification.reminded_at == notification.escalated_at
    assert d.case.next_alert_at() == utc(2027, 1, 7, 9)


def test_alerts_due_together_fire_in_deadline_order() -> None:
    d = Driver().triaged()
    notices = d.fire(utc(2027, 1, 20, 12))
    assert [(n.deadline_id, n.kind) for n in notices] == [
        ("notification", "escalation"),
        ("notification", "second_escalation"),
        ("rapid-review", "escalation"),
    ]
    assert d.case.next_alert_at() == utc(2027, 1, 21, 9)


def test_met_deadlines_raise_no_alerts() -> None:
    d = Driver().notified()
    notices = d.fire(utc(2027, 1, 12, 9))
    assert [(n.deadline_id, n.kind) for n in notices] == [("rapid-review", "reminder")]


def test_the_reminder_follows_the_settings() -> None:
    settings = SETTINGS.model_copy(
        update={"reminder_working_days_before": 4, "second_escalation_working_days_after": 1}
    )
    d = Driver(settings=settings).triaged()
    notification = d.deadline("notification")
    assert notification.remind_at == utc(2026, 12, 22, 9)
    assert notification.escalate_again_at == utc(2026, 12, 31, 9)


def test_notices_never_carry_personal_data() -> None:
    d = Driver()
    d.fire(utc(2026, 12, 24, 9))  # triage reminder
    d.fire(utc(2026, 12, 31, 0))  # triage overdue
    d.on(date(2027, 1, 4)).decide("triage", CHAIR, outcome="serious_incident", note=NOTE)
    d.fire(utc(2027, 1, 7, 9))  # the notification is overdue twice over
    d.on(date(2027, 1, 8)).decide(
        "notification_submitted", COORDINATOR, reference="NP-1", note=NOTE
    )
    d.decide("information_requested", COORDINATOR, requests=[{"agency": "health"}], note=NOTE)
    d.fire(utc(2027, 2, 1, 9))
    d.on(date(2027, 2, 2)).decide(
        "rapid_review_decision", CHAIR, recommendation="local_cspr", attendees=people(CHAIR)
    )
    d.decide("rapid_review_sent", COORDINATOR, note=NOTE)
    d.on(date(2027, 2, 3)).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr", note=NOTE
    )
    d.fire(utc(2027, 9, 1, 9))
    kinds = {n.kind for n in d.notices}
    assert kinds == {"reminder", "escalation", "second_escalation", "information_request"}
    assert len(d.notices) >= 10
    assert len({n.notice_id for n in d.notices}) == len(d.notices)
    for notice in d.notices:
        assert_no_personal_data(notice.model_dump_json())


# ====================================================================== extensions


def test_extension_moves_the_due_date_and_re_arms_the_alerts() -> None:
    d = Driver().triaged()
    d.fire(utc(2026, 12, 31, 0))
    notification = d.deadline("notification")
    assert notification.escalated_at is not None
    assert d.state("notification") is DeadlineState.OVERDUE

    d.on(date(2026, 12, 31)).decide(
        "deadline_extended",
        BUSINESS_MANAGER,
        deadline_id="notification",
        new_due_on="2027-01-06",
        reason="Awaiting confirmation of the child's home authority",
        agreed_with="National Panel",
    )
    assert d.stage() is Stage.SERIOUS_INCIDENT_NOTIFICATION
    assert notification.due_on == date(2027, 1, 6)
    assert notification.remind_at == utc(2027, 1, 4, 9)
    assert notification.escalate_at == utc(2027, 1, 7, 0)
    assert notification.reminded_at is None
    assert notification.escalated_at is None
    assert d.state("notification") is DeadlineState.ON_TRACK
    assert not d.case.overdue(d.now)
    [extension] = notification.extensions
    assert extension.previous_due_on == date(2026, 12, 30)
    assert extension.new_due_on == date(2027, 1, 6)
    assert extension.agreed_with == "National Panel"
    assert extension.decided_by == BUSINESS_MANAGER.describe()
    view = d.case.status(d.now).deadlines
    assert next(v for v in view if v.deadline_id == "notification").extended == 1
    moved = [h for h in d.case.history if h.kind is HistoryKind.DEADLINE_EXTENDED]
    assert moved[-1].text.endswith("due 2026-12-30 → 2027-01-06")

    [reminder] = d.fire(utc(2027, 1, 4, 9))
    assert reminder.kind == "reminder"
    assert reminder.notice_id == f"{CASE_REF}:notification:reminder:2027-01-06"
    d.on(date(2027, 1, 5)).decide("notification_submitted", COORDINATOR, reference="NP-1")
    assert d.state("notification") is DeadlineState.MET


def test_extension_refusals() -> None:
    d = Driver().triaged()
    unknown = d.refuse(
        "deadline_extended", CHAIR, deadline_id="publication", new_due_on="2027-02-01", reason="r"
    )
    assert unknown.reason == "conflict"
    assert "no open deadline 'publication'; open deadlines: notification, rapid-review" in (
        unknown.message
    )
    met = d.refuse(
        "deadline_extended", CHAIR, deadline_id="triage", new_due_on="2027-02-01", reason="r"
    )
    assert met.reason == "conflict"
    earlier = d.refuse(
        "deadline_extended", CHAIR, deadline_id="notification", new_due_on="2026-12-30", reason="r"
    )
    assert earlier.reason == "invalid"
    assert "must be after the current due date 2026-12-30" in earlier.message
    member = d.refuse(
        "deadline_extended",
        CSC_MEMBER,
        deadline_id="notification",
        new_due_on="2027-01-06",
        reason="r",
    )
    assert member.reason == "not_authorised"


def test_deadline_extended_is_allowed_in_every_open_stage() -> None:
    d = Driver().lead_reviewer_appointed()
    d.decide(
        "deadline_extended",
        CHAIR,
        deadline_id="cspr-final-report",
        new_due_on="2027-08-20",
        reason="Lead reviewer ill",
    )
    assert d.due("cspr-final-report") == date(2027, 8, 20)
    assert d.deadline("cspr-final-report").basis == "set for 2027-08-20"
    assert d.stage() is Stage.CSPR_TERMS_OF_REFERENCE


# ====================================================================== action plan


def test_actions_carry_lead_agency_due_date_rag_and_evidence() -> None:
    d = Driver().in_action_plan()
    d.decide("action_added", COORDINATOR, **action_fields("A1", date(2027, 6, 1)))
    d.decide(
        "action_added",
        CHAIR,
        **action_fields("A2", date(2027, 9, 1), lead_agency="police", scope="multi_agency"),
    )
    a1 = d.case.actions["A1"]
    assert a1.lead_agency is Agency.HEALTH
    assert a1.due_on == date(2027, 6, 1)
    assert a1.scope is PlanScope.SINGLE_AGENCY
    assert a1.monitored_by == "SPRG (single-agency plans)"
    assert a1.status is ActionStatus.NOT_STARTED
    assert a1.rag is None
    assert a1.added_by == COORDINATOR
    assert d.case.actions["A2"].monitored_by == "Quality Assurance Group"
    deadline = d.deadline("action-A1")
    assert deadline.kind is DeadlineKind.ACTION
    assert deadline.due_on == date(2027, 6, 1)
    assert deadline.owner == "Health (ICB)"
    assert deadline.title == "Action A1"

    d.on(date(2027, 4, 1)).decide(
        "action_updated", HEALTH_MEMBER, action_id="A1", status="in_progress", rag="amber"
    )
    d.on(date(2027, 5, 1)).decide(
        "action_updated", HEALTH_MEMBER, action_id="A1", rag="green", evidence="Audit 1 done"
    )
    d.on(date(2027, 5, 20)).decide(
        "action_updated", HEALTH_MEMBER, action_id="A1", evidence="Re-audit shows 92%"
    )
    assert d.action("A1").status is ActionStatus.IN_PROGRESS
    assert d.action("A1").rag is Rag.GREEN
    assert a1.evidence == ["Audit 1 done", "Re-audit shows 92%"]
    d.on(date(2027, 5, 28)).decide("action_updated", COORDINATOR, action_id="A1", status="complete")
    assert d.action("A1").status is ActionStatus.COMPLETE
    assert a1.completed_on == date(2027, 5, 28)
    assert d.state("action-A1") is DeadlineState.MET


def test_an_action_completed_late_is_missed() -> None:
    d = Driver().in_action_plan()
    d.decide("action_added", COORDINATOR, **action_fields("A1", date(2027, 6, 1)))
    d.on(date(2027, 6, 3)).decide(
        "action_updated", HEALTH_MEMBER, action_id="A1", status="complete"
    )
    assert d.state("action-A1") is DeadlineState.MISSED


def test_action_refusals() -> None:
    d = Driver().in_action_plan()
    d.decide("action_added", COORDINATOR, **action_fields("A1", date(2027, 6, 1)))
    duplicate = d.refuse("action_added", CHAIR, **action_fields("A1", date(2027, 7, 1)))
    assert duplicate.reason == "conflict"
    assert duplicate.message == "action 'A1' already exists"
    past = d.refuse("action_added", CHAIR, **action_fields("A2", date(2027, 2, 28)))
    assert past.reason == "invalid"
    assert "due_on 2027-02-28 is past" in past.message
    unknown = d.refuse("action_updated", HEALTH_MEMBER, action_id="A9", rag="red")
    assert unknown.reason == "conflict"
    assert unknown.message == "no action 'A9'; actions: A1"
    other_agency = d.refuse("action_updated", POLICE_MEMBER, action_id="A1", rag="red")
    assert other_agency.reason == "not_authorised"
    assert "only actions led by their agency (this one: Health (ICB))" in other_agency.message
    not_a_chair = d.refuse(
        "action_updated", COORDINATOR, action_id="A1", status="closed_by_review_group"
    )
    assert not_a_chair.reason == "not_authorised"
    assert "chair or the business manager may close an action" in not_a_chair.message
    lead_reviewer = d.refuse("action_added", LEAD_REVIEWER, **action_fields("A3", date(2027, 6, 1)))
    assert lead_reviewer.reason == "not_authorised"

    d.decide("action_updated", CHAIR, action_id="A1", status="closed_by_review_group")
    finished = d.refuse("action_updated", HEALTH_MEMBER, action_id="A1", rag="green")
    assert finished.reason == "conflict"
    assert "already closed_by_review_group" in finished.message


def test_actions_are_only_added_during_action_plan_monitoring() -> None:
    d = Driver().triaged()
    refused = d.refuse("action_added", CHAIR, **action_fields("A1", date(2027, 6, 1)))
    assert refused.reason == "wrong_stage"


def test_close_only_when_every_action_is_complete_or_closed_by_the_review_group() -> None:
    d = Driver().in_action_plan()
    d.decide("action_added", COORDINATOR, **action_fields("A1", date(2027, 6, 1)))
    d.decide("action_added", COORDINATOR, **action_fields("A2", date(2027, 6, 1)))
    refused = d.refuse("case_closed", CHAIR)
    assert refused.reason == "guard_failed"
    assert "every action complete or closed by the review group" in refused.message
    d.decide("action_updated", HEALTH_MEMBER, action_id="A1", status="complete")
    assert d.refuse("case_closed", CHAIR).reason == "guard_failed"
    assert "Close the case (every action is done)" not in [t.task for t in d.case.tasks(d.now)]
    d.decide("action_updated", BUSINESS_MANAGER, action_id="A2", status="closed_by_review_group")
    close_task = d.case.tasks(d.now)[-1]
    assert close_task.task == "Close the case (every action is done)"
    assert close_task.owed_by == SETTINGS.review_group
    assert d.refuse("case_closed", HEALTH_MEMBER).reason == "not_authorised"
    d.on(date(2027, 3, 2)).decide("case_closed", CHAIR)
    assert d.stage() is Stage.CLOSED
    assert d.case.closed_at == uk_moment(date(2027, 3, 2), time(10))
    assert not any(x.open for x in d.case.deadlines.values())


def test_an_overdue_action_escalates_to_its_monitoring_group() -> None:
    d = Driver().in_action_plan()
    d.decide(
        "action_added",
        CHAIR,
        **action_fields("A2", date(2027, 6, 5), lead_agency="police", scope="multi_agency"),
    )
    d.decide("action_added", CHAIR, **action_fields("A1", date(2027, 6, 5)))
    notices = d.fire(utc(2027, 6, 5, 23))
    audiences = {n.deadline_id: n.audience for n in notices}
    assert audiences == {
        "action-A2": "Quality Assurance Group; LSCP Business Manager",
        "action-A1": "SPRG (single-agency plans); LSCP Business Manager",
    }
    [second, _] = d.fire(utc(2027, 6, 11, 8))
    assert second.audience == "LSCP Executive"


def test_extending_an_action_moves_its_due_date() -> None:
    d = Driver().in_action_plan()
    d.decide("action_added", COORDINATOR, **action_fields("A1", date(2027, 6, 1)))
    d.decide(
        "deadline_extended",
        CHAIR,
        deadline_id="action-A1",
        new_due_on="2027-09-01",
        reason="Training rescheduled",
    )
    assert d.case.actions["A1"].due_on == date(2027, 9, 1)
    assert d.due("action-A1") == date(2027, 9, 1)
    d.on(date(2027, 8, 2)).decide(
        "action_updated", HEALTH_MEMBER, action_id="A1", status="complete"
    )
    assert d.state("action-A1") is DeadlineState.MET


# ====================================================================== status and details


def test_status_lists_tasks_with_who_owes_them_and_the_next_deadline() -> None:
    d = Driver().triaged()
    status = d.case.status(d.now)
    assert status.case_ref == CASE_REF
    assert status.partnership == "LSCP"
    assert status.partnership_name == "Liverpool Safeguarding Children Partnership"
    assert status.stage is Stage.SERIOUS_INCIDENT_NOTIFICATION
    assert status.stage_label == "Serious Incident Notification"
    assert status.route is Route.SERIOUS_INCIDENT
    assert status.decisions_allowed == [
        DecisionKind.NOTIFICATION_SUBMITTED,
        DecisionKind.LA_NOTICE_RECEIVED,
        DecisionKind.DEADLINE_EXTENDED,
    ]
    assert [(t.task, t.owed_by, t.due_on, t.state) for t in status.tasks] == [
        (
            "Serious Incident Notification to the National Panel",
            "Children's Social Care (local authority)",
            date(2026, 12, 30),
            DeadlineState.ON_TRACK,
        ),
        (
            "Rapid Review completed and sent to the National Panel",
            "Safeguarding Practice Review Group",
            date(2027, 1, 14),
            DeadlineState.ON_TRACK,
        ),
    ]
    assert status.next_deadline is not None
    assert status.next_deadline.deadline_id == "notification"
    assert status.next_deadline.due_on == date(2026, 12, 30)
    assert not status.overdue
    assert [v.deadline_id for v in status.deadlines] == ["triage", "notification", "rapid-review"]
    assert status.deadlines[0].state is DeadlineState.MET
    assert status.deadlines[0].met_on == date(2026, 12, 22)
    assert status.runs == 1
    assert status.closed_at is None
    assert status.history == d.case.history
    assert CaseStatus.model_validate_json(status.model_dump_json()) == status


def test_status_shows_the_overdue_flag_and_due_soon_state() -> None:
    d = Driver().triaged()
    d.now = utc(2026, 12, 29, 12)
    status = d.case.status(d.now)
    assert status.next_deadline is not None
    assert status.next_deadline.state is DeadlineState.DUE_SOON
    assert not status.overdue
    d.now = utc(2026, 12, 31, 0)
    status = d.case.status(d.now)
    assert status.overdue
    assert status.tasks[0].state is DeadlineState.OVERDUE


def test_status_during_a_cspr_names_the_lead_reviewer_and_the_plan() -> None:
    d = Driver().lead_reviewer_appointed()
    d.on(date(2027, 3, 15)).decide("terms_of_reference_agreed", CHAIR)
    status = d.case.status(d.now)
    assert status.lead_reviewer == "Lee Reviewer"
    assert status.planned_publication_on == date(2027, 7, 12)
    assert status.notification_reference == "NP-2026-0042"
    assert status.next_deadline is not None
    assert status.next_deadline.deadline_id == "cspr-final-report"
    assert status.tasks[-1].task == "Gather agency information"
    assert status.tasks[-1].owed_by == "Lee Reviewer"
    assert status.tasks[-1].due_on is None


@pytest.mark.parametrize(
    ("stage", "task", "owed_by"),
    [
        (Stage.CSPR_LEAD_REVIEWER, "Appoint the lead reviewer", "LSCP Business Manager"),
        (
            Stage.CSPR_TERMS_OF_REFERENCE,
            "Agree the terms of reference",
            "Safeguarding Practice Review Group",
        ),
    ],
)
def test_stage_tasks_are_owed_by_named_groups(stage: Stage, task: str, owed_by: str) -> None:
    d = Driver().panel_responded()
    if stage is Stage.CSPR_TERMS_OF_REFERENCE:
        d.on(date(2027, 3, 1)).decide(
            "lead_reviewer_appointed", CHAIR, lead_reviewer="Lee Reviewer"
        )
    assert d.stage() is stage
    assert (d.case.tasks(d.now)[-1].task, d.case.tasks(d.now)[-1].owed_by) == (task, owed_by)


def test_operator_details_summarise_without_personal_data() -> None:
    d = Driver()
    seen = [d.case.operator_details(d.now)]
    d.triaged()
    seen.append(d.case.operator_details(d.now))
    details = seen[-1]
    assert "**Stage:** Serious Incident Notification" in details
    assert "**Route:** serious incident" in details
    assert "**Partnership:** Liverpool Safeguarding Children Partnership" in details
    assert "- Serious Incident Notification to the National Panel: due 30 Dec 2026, on track" in (
        details
    )
    assert "- Triage decision:" not in details  # met: no longer outstanding
    assert "**Outstanding:** " in details
    d.on(date(2026, 12, 23)).decide("notification_submitted", COORDINATOR, reference="NP-1")
    d.on(date(2026, 12, 24)).decide(
        "information_requested", COORDINATOR, requests=[{"agency": "health"}], note=NOTE
    )
    seen.append(d.case.operator_details(d.now))
    assert "- Rapid review information from Health (ICB): due 5 Jan 2027, on track" in seen[-1]
    d.on(date(2027, 1, 12)).decide(
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=people(CHAIR),
        learning=NOTE,
        immediate_safety_actions=NOTE,
    )
    seen.append(d.case.operator_details(d.now))
    d.decide("rapid_review_sent", COORDINATOR, note=NOTE)
    d.on(date(2027, 2, 26)).decide(
        "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr", note=NOTE
    )
    seen.append(d.case.operator_details(utc(2027, 8, 18)))
    assert ", overdue\n" in seen[-1] + "\n"
    for text in seen:
        assert_no_personal_data(text)


def test_operator_details_after_closing() -> None:
    d = Driver()
    d.on(date(2026, 12, 22)).decide(
        "triage", CHAIR, outcome="no_further_action", advice=f"Advice about {CHILD_NAME}"
    )
    details = d.case.operator_details(d.now)
    assert "**Stage:** Closed" in details
    assert "**Deadlines:**" not in details
    assert_no_personal_data(details)


# ====================================================================== the whole route


def test_the_whole_serious_incident_route_from_referral_to_closure() -> None:
    d = Driver().draft_received()
    d.on(date(2027, 6, 14)).decide("publication_planned", CHAIR, planned_on="2027-08-31")
    d.decide(
        "deadline_extended",
        CHAIR,
        deadline_id="cspr-publication",
        new_due_on="2027-08-31",
        reason="Publication after the criminal trial",
        agreed_with="National Panel",
    )
    d.on(date(2027, 7, 1)).decide("quality_assured", CHAIR)
    d.on(date(2027, 8, 16)).decide("final_report_sent", BUSINESS_MANAGER)
    d.ready_to_publish(date(2027, 8, 17))
    d.on(date(2027, 8, 31)).decide(
        "published", COORDINATOR, location="lscp.org.uk", available_until="2028-08-31"
    )
    assert d.stage() is Stage.ACTION_PLAN_MONITORING
    d.decide("action_added", CHAIR, **action_fields("R1-A1", date(2027, 12, 1)))
    d.decide(
        "action_added",
        CHAIR,
        **action_fields("R2-A1", date(2028, 1, 14), lead_agency="police", scope="multi_agency"),
    )
    d.on(date(2027, 11, 30)).decide(
        "action_updated", HEALTH_MEMBER, action_id="R1-A1", status="complete", rag="green"
    )
    d.on(date(2028, 1, 10)).decide(
        "action_updated", POLICE_MEMBER, action_id="R2-A1", status="complete", evidence="Done"
    )
    d.on(date(2028, 1, 11)).decide("case_closed", BUSINESS_MANAGER)
    assert d.stage() is Stage.CLOSED
    assert d.case.route is Route.LOCAL_CSPR
    states = {k: v.state(d.now) for k, v in d.case.deadlines.items()}
    assert states == {
        "triage": DeadlineState.MET,
        "notification": DeadlineState.MET,
        "rapid-review": DeadlineState.MET,
        # The Panel answered after the day it was to be chased (15 working days from sending).
        "panel-response": DeadlineState.MISSED,
        "cspr-publication": DeadlineState.MET,
        "cspr-final-report": DeadlineState.MET,
        "action-R1-A1": DeadlineState.MET,
        "action-R2-A1": DeadlineState.MET,
    }
    stages = [h.text for h in d.case.history if h.kind is HistoryKind.STAGE_CHANGED]
    assert len(stages) == 14
    assert stages[-1] == "Action plan monitoring → Closed"
    assert len(d.case.applied) == 25
    assert machine.decisions_allowed(d.stage()) == []
