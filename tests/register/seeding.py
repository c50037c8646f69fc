"""A register seeded with known cases, driven through the real case rules (no Temporal), so the
report tests can check exact figures.

Reporting year 2026-27 (1 April 2026 to 31 March 2027), partnership LSCP unless said:

| case | route | notification | rapid review | CSPR | closed |
|---|---|---|---|---|---|
| A | serious incident → Local CSPR | in time | in time | published in time | - |
| B | serious incident → no further review | late | late | - | - |
| C | Case of Concern | - | - | - | 2026-08-05 |
| D | no further action | - | - | - | 2026-05-05 |
| E | other review (local case review), under way | - | - | - | - |
| F | received 2026-03-02 → Local CSPR | (2025-26) | (2025-26) | not published, late | - |
| G | received 2027-03-01, nothing done yet | overdue | overdue | - | - |
| I | serious incident → no further review | late by statute (extended) | in time | - | 2026-12-01 |
| H | (CSCP) no further action | - | - | - | 2026-06-10 |

Actions, as at 2027-03-31: A1 police due 2027-01-31 in progress (overdue), A2 health due
2027-06-30 (open), A3 police complete; B1 health due 2027-02-28 (overdue).
Learning outputs: two 7-minute briefings and one training in 2026-27, one briefing in 2027-28.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from typing import Any

from sqlmodel import Session

from register import crud
from safeguarding.calendar import WorkingCalendar
from safeguarding.case import Case, Effects
from safeguarding.clock import uk_moment
from safeguarding.decisions import Person
from safeguarding.planning import plan_deadline
from safeguarding.projection import CaseSnapshot, snapshot
from safeguarding.referral import Referral, age_on
from safeguarding.settings import PartnershipSettings
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    HEALTH_MEMBER,
    LEAD_REVIEWER,
    POLICE_MEMBER,
    decision,
    referral,
)

LSCP = PartnershipSettings(code="LSCP", name="Liverpool Safeguarding Children Partnership")
CSCP = PartnershipSettings(code="CSCP", name="Croydon Safeguarding Children Partnership")

REF = {
    "A": "LSCP-2026-00000A",
    "B": "LSCP-2026-00000B",
    "C": "LSCP-2026-00000C",
    "D": "LSCP-2026-00000D",
    "E": "LSCP-2026-00000E",
    "F": "LSCP-2026-00000F",
    "G": "LSCP-2027-000007",
    "I": "LSCP-2026-000009",
    "H": "CSCP-2026-000008",
}

FRONT_DOOR = "Share information at the front door"
SAFE_SLEEP = "Give safe sleep advice at every contact"

#: Personal data in the seeded referrals: it must never reach the register.
CHILD_NAMES = ("Amelia-Rose Seedchild", "Brodie Seedchild", "Isla Seedchild", "Ivo Seedchild")
SUMMARY = "Seeded summary with a very particular phrase: purple umbrella."
DATE_OF_BIRTH = date(2023, 5, 17)


class CaseDriver:
    """Plays the workflow's part around a `Case`: the clock, deadline planning and alerts."""

    def __init__(self, case_ref: str, made: Referral, settings: PartnershipSettings = LSCP) -> None:
        self.settings = settings
        self.calendar = WorkingCalendar(settings.closure_days)
        self.now = uk_moment(made.received_on, time(10))
        self.case, effects = Case.open(case_ref, made, settings, self.now)
        self.carry_out(effects)

    def on(self, day: date) -> CaseDriver:
        self.now = uk_moment(day, time(10))
        return self

    def carry_out(self, effects: Effects) -> None:
        requests = effects.deadline_requests
        while requests:
            plans = [plan_deadline(r, self.settings, self.calendar) for r in requests]
            self.case.open_deadlines(requests, plans, self.now)
            requests = self.case.follow_up_requests()

    def decide(self, day: date, kind: str, by: Person, **fields: Any) -> CaseDriver:
        self.on(day)
        made = decision(kind, by, **fields)
        self.case.check(made, self.now)
        self.carry_out(self.case.apply(made, self.now, "update"))
        return self

    def alerts(self, at: datetime) -> CaseDriver:
        self.now = at
        self.case.fire_due_alerts(at)
        return self

    def snapshot(self) -> CaseSnapshot:
        return snapshot(self.case)


def _referral(received: date, **overrides: Any) -> Referral:
    fields: dict[str, Any] = {
        "partnership": "LSCP",
        "summary": SUMMARY,
        "children": [
            {
                "name": CHILD_NAMES[0],
                # Consistent with the date of birth on the day received (checked since #11).
                "age_years": age_on(DATE_OF_BIRTH, received),
                "date_of_birth": DATE_OF_BIRTH.isoformat(),
                "sex": "female",
                "ethnicity": "White British",
                "child_protection_plan": True,
            }
        ],
    }
    fields.update(overrides)
    return referral(received, **fields)


def _attendees() -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in (CHAIR, POLICE_MEMBER, HEALTH_MEMBER)]


def _cspr_to_publication(d: CaseDriver, start: date) -> CaseDriver:
    day = start.toordinal()
    for kind, by, extra in (
        ("lead_reviewer_appointed", COORDINATOR, {"lead_reviewer": "Dr Ivy Lead"}),
        ("terms_of_reference_agreed", CHAIR, {}),
        ("agency_information_received", LEAD_REVIEWER, {}),
        ("involvement_recorded", LEAD_REVIEWER, {"milestone": "family_told"}),
        ("involvement_recorded", LEAD_REVIEWER, {"milestone": "family_views"}),
        ("involvement_recorded", LEAD_REVIEWER, {"milestone": "practitioners_involved"}),
        ("involvement_completed", LEAD_REVIEWER, {}),
        ("draft_report_received", LEAD_REVIEWER, {}),
        ("quality_assured", CHAIR, {}),
        ("final_report_sent", COORDINATOR, {}),
        ("anonymisation_checked", CHAIR, {}),
        ("involvement_recorded", LEAD_REVIEWER, {"milestone": "family_shown_report"}),
    ):
        day += 7
        d.decide(date.fromordinal(day), kind, by, **extra)
    return d


def _action(action_id: str, recommendation: str, agency: str, due: date) -> dict[str, Any]:
    return {
        "action_id": action_id,
        "recommendation": recommendation,
        "description": f"Action {action_id}",
        "lead_agency": agency,
        "due_on": due.isoformat(),
        "outcome_measure": "Re-audit in six months",
    }


def case_a() -> CaseDriver:
    d = CaseDriver(REF["A"], _referral(date(2026, 6, 1)))
    d.decide(date(2026, 6, 2), "triage", CHAIR, outcome="serious_incident")
    d.decide(date(2026, 6, 3), "notification_submitted", CSC_MEMBER, reference="SIN-A")
    d.decide(
        date(2026, 6, 4),
        "information_requested",
        COORDINATOR,
        requests=[{"agency": "police"}, {"agency": "health"}],
    )
    d.decide(date(2026, 6, 8), "information_returned", POLICE_MEMBER, agency="police")
    d.decide(date(2026, 6, 9), "information_returned", HEALTH_MEMBER, agency="health")
    d.decide(
        date(2026, 6, 15),
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=_attendees(),
        possible_national_importance=True,
        note="Learning about the front door is likely",
    )
    d.decide(date(2026, 6, 15), "rapid_review_sent", COORDINATOR)
    d.decide(
        date(2026, 6, 20), "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    _cspr_to_publication(d, date(2026, 6, 20))
    d.decide(date(2026, 11, 30), "published", BUSINESS_MANAGER, location="https://example.org",
             available_until="2027-11-30")  # fmt: skip
    d.decide(date(2026, 12, 1), "action_added", COORDINATOR,
             **_action("A1", FRONT_DOOR, "police", date(2027, 1, 31)))  # fmt: skip
    d.decide(date(2026, 12, 1), "action_added", COORDINATOR,
             **_action("A2", FRONT_DOOR, "health", date(2027, 6, 30)))  # fmt: skip
    d.decide(date(2026, 12, 1), "action_added", COORDINATOR,
             **_action("A3", SAFE_SLEEP, "police", date(2026, 12, 31)))  # fmt: skip
    d.decide(date(2026, 12, 10), "action_updated", POLICE_MEMBER, action_id="A1",
             status="in_progress", rag="amber")  # fmt: skip
    d.decide(date(2026, 12, 15), "action_updated", POLICE_MEMBER, action_id="A3",
             status="complete", evidence="Audit of 20 contacts")  # fmt: skip
    d.alerts(uk_moment(date(2027, 2, 1), time(10)))  # A1 is overdue: escalated
    return d


def case_b() -> CaseDriver:
    d = CaseDriver(
        REF["B"],
        _referral(
            date(2026, 9, 1),
            harm="death",
            children=[{"name": CHILD_NAMES[1], "age_years": 0, "sex": "male"}],
        ),
    )
    d.decide(date(2026, 9, 2), "triage", CHAIR, outcome="serious_incident")
    d.alerts(uk_moment(date(2026, 9, 14), time(10)))  # notification overdue: escalated
    d.decide(date(2026, 9, 15), "notification_submitted", CSC_MEMBER, reference="SIN-B")
    d.decide(
        date(2026, 10, 5),
        "rapid_review_decision",
        CHAIR,
        recommendation="no_further_review",
        attendees=_attendees(),
    )
    d.decide(date(2026, 10, 5), "rapid_review_sent", COORDINATOR)
    d.decide(
        date(2026, 10, 12),
        "panel_response",
        COORDINATOR,
        panel_agrees=True,
        outcome="no_further_review",
    )
    d.decide(date(2026, 10, 13), "action_added", COORDINATOR,
             **_action("B1", FRONT_DOOR, "health", date(2027, 2, 28)))  # fmt: skip
    d.alerts(uk_moment(date(2027, 3, 2), time(10)))  # B1 is overdue: escalated
    return d


def case_c() -> CaseDriver:
    d = CaseDriver(REF["C"], _referral(date(2026, 7, 1), harm="other"))
    d.decide(date(2026, 7, 2), "triage", CHAIR, outcome="case_of_concern")
    d.decide(
        date(2026, 7, 9),
        "approach_chosen",
        CHAIR,
        approach="appreciative_inquiry",
        agencies=["health", "education"],
    )
    d.decide(date(2026, 8, 1), "outcome_shared", COORDINATOR, summary="Learning shared")
    d.decide(date(2026, 8, 5), "case_closed", CHAIR)
    return d


def case_d() -> CaseDriver:
    d = CaseDriver(REF["D"], _referral(date(2026, 5, 5), harm="other"))
    d.decide(
        date(2026, 5, 5),
        "triage",
        CHAIR,
        outcome="no_further_action",
        advice="Single-agency supervision is enough",
    )
    return d


def case_e() -> CaseDriver:
    d = CaseDriver(REF["E"], _referral(date(2026, 10, 1), harm="other"))
    d.decide(
        date(2026, 10, 2),
        "triage",
        CHAIR,
        outcome="other_review",
        review_type="local_case_review",
    )
    return d


def case_f() -> CaseDriver:
    d = CaseDriver(REF["F"], _referral(date(2026, 3, 2)))
    d.decide(date(2026, 3, 3), "triage", CHAIR, outcome="serious_incident")
    d.decide(date(2026, 3, 4), "notification_submitted", CSC_MEMBER, reference="SIN-F")
    d.decide(
        date(2026, 3, 20),
        "rapid_review_decision",
        CHAIR,
        recommendation="local_cspr",
        attendees=_attendees(),
    )
    d.decide(date(2026, 3, 20), "rapid_review_sent", COORDINATOR)
    d.decide(
        date(2026, 4, 10), "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr"
    )
    _cspr_to_publication(d, date(2026, 4, 10))
    d.decide(
        date(2026, 11, 2),
        "not_published",
        CHAIR,
        reasons="Publication would identify the siblings",
    )
    return d


def case_g() -> CaseDriver:
    d = CaseDriver(REF["G"], _referral(date(2027, 3, 1)))
    d.decide(date(2027, 3, 1), "triage", CHAIR, outcome="serious_incident")
    return d


def case_i() -> CaseDriver:
    d = CaseDriver(
        REF["I"],
        _referral(
            date(2026, 11, 2),
            children=[
                {"name": CHILD_NAMES[2], "age_years": 7, "sex": "female"},
                {"name": CHILD_NAMES[3], "age_years": 12, "sex": "male", "looked_after": True},
            ],
        ),
    )
    d.decide(date(2026, 11, 2), "triage", CHAIR, outcome="serious_incident")
    d.decide(
        date(2026, 11, 5),
        "deadline_extended",
        BUSINESS_MANAGER,
        deadline_id="notification",
        new_due_on="2026-11-20",
        reason="Agreed with the National Panel",
        agreed_with="National Panel",
    )
    d.decide(date(2026, 11, 12), "notification_submitted", CSC_MEMBER, reference="SIN-I")
    d.decide(
        date(2026, 11, 19),
        "rapid_review_decision",
        CHAIR,
        recommendation="no_further_review",
        attendees=_attendees(),
    )
    d.decide(date(2026, 11, 19), "rapid_review_sent", COORDINATOR)
    d.decide(
        date(2026, 11, 26),
        "panel_response",
        COORDINATOR,
        panel_agrees=True,
        outcome="no_further_review",
    )
    d.decide(date(2026, 12, 1), "case_closed", CHAIR)
    return d


def case_h() -> CaseDriver:
    d = CaseDriver(REF["H"], _referral(date(2026, 6, 10), partnership="CSCP", harm="other"), CSCP)
    d.decide(
        date(2026, 6, 10), "triage", BUSINESS_MANAGER, outcome="no_further_action", advice="None"
    )
    return d


def drivers() -> dict[str, CaseDriver]:
    return {
        "A": case_a(),
        "B": case_b(),
        "C": case_c(),
        "D": case_d(),
        "E": case_e(),
        "F": case_f(),
        "G": case_g(),
        "I": case_i(),
        "H": case_h(),
    }


LEARNING: tuple[tuple[str, str, str | None, date, str | None], ...] = (
    ("briefing", "Safe sleep: 7-minute briefing", REF["A"], date(2026, 12, 10), None),
    ("briefing", "The front door: 7-minute briefing", REF["A"], date(2027, 1, 15), None),
    ("training", "Information sharing workshop", None, date(2027, 2, 20), "LSCP"),
    ("briefing", "Next year's briefing", REF["B"], date(2027, 4, 5), None),
)


@functools.cache
def snapshots() -> tuple[CaseSnapshot, ...]:
    """The seeded cases as register snapshots (built once per test session)."""
    return tuple(d.snapshot() for d in drivers().values())


def seed(session: Session) -> tuple[CaseSnapshot, ...]:
    """Write the seeded cases and learning outputs; returns the cases' snapshots."""
    made = snapshots()
    for snap in made:
        crud.record_snapshot(session, snap)
    for kind, title, case_ref, on, partnership in LEARNING:
        crud.add_learning_output(
            session,
            kind=kind,
            title=title,
            produced_on=on,
            case_ref=case_ref,
            partnership=partnership,
            recorded_by="Cai Coordinator",
        )
    return made
