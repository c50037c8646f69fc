"""Report figures from a seeded register (tests/register/seeding.py), on SQLite and
PostgreSQL: exact counts and percentages."""

from __future__ import annotations

from datetime import date

import pytest

from register import db
from reports import figures
from reports.figures import AgencyActions, Count, ReportingYear, Timeliness
from tests.register.seeding import FRONT_DOOR, REF, SAFE_SLEEP, seed

YEAR = ReportingYear.parse("2026-27")
END = date(2027, 3, 31)


@pytest.fixture
def data(register_url: str) -> figures.RegisterData:
    with db.session(register_url) as session:
        seed(session)
    with db.session(register_url) as session:
        return figures.load(session, "LSCP")


def test_reporting_years_run_april_to_march() -> None:
    assert (YEAR.start, YEAR.end, YEAR.label) == (date(2026, 4, 1), date(2027, 3, 31), "2026-27")
    assert date(2026, 4, 1) in YEAR and date(2027, 3, 31) in YEAR
    assert date(2026, 3, 31) not in YEAR and None not in YEAR
    assert ReportingYear.parse("1999-00").end == date(2000, 3, 31)
    for bad in ("2026-28", "2026", "26-27", "2026/27"):
        with pytest.raises(ValueError, match="2026-27"):
            ReportingYear.parse(bad)


def test_annual_counts_by_route_and_outcome(data: figures.RegisterData) -> None:
    fig = figures.annual(data, YEAR, END, "LSCP")
    assert fig.referrals == 7  # A B C D E G I; F came the year before; H is Croydon's
    assert fig.by_route == [
        Count("Serious incident (rapid review under way)", 1),
        Count("Local Child Safeguarding Practice Review", 1),
        Count("Rapid review only (no further review)", 2),
        Count("Case of Concern", 1),
        Count("Other review (audit, local case review...)", 1),
        Count("No further action (advice given)", 1),
    ]
    assert {c.label.strip(): c.count for c in fig.outcomes} == {
        "Serious Incident Notifications made": 3,
        "although a statutory criterion was not met (reason recorded)": 0,
        "Referrals not discussed with a safeguarding lead first": 0,
        "Rapid reviews completed": 3,
        "recommending a Local CSPR": 1,
        "recommending no further review": 2,
        "without a notification (cases of serious concern)": 0,
        "of possible national importance": 1,
        "National Panel responses": 4,  # F's came in April 2026
        "agreeing with the partnership's decision": 4,
        "national reviews taken by the Panel": 0,
        "Local CSPRs begun": 2,
        "Local CSPRs published": 1,
        "Local CSPRs not published (reasons recorded)": 1,
        "Cases of Concern reviews completed": 1,
        "Other reviews completed": 0,
        "Cases closed": 3,
    }
    assert fig.notifications_by_harm == [Count("death", 1), Count("serious harm", 2)]
    assert fig.children_by_age_band == [
        Count("under 1", 1),
        Count("1 to 5", 1),
        Count("6 to 10", 1),
        Count("11 to 15", 1),
    ]


def test_timeliness_against_statute(data: figures.RegisterData) -> None:
    fig = figures.annual(data, YEAR, END)
    notifications, rapid_reviews, csprs = fig.timeliness
    # I's notification met its extended date but not the statutory one: late.
    assert notifications == Timeliness(
        "Notifications made within 5 working days", "5 working days", 3, 1, 1
    )
    assert notifications.percent == 33.3 and notifications.late == 2
    assert rapid_reviews == Timeliness(
        "Rapid reviews completed within 15 working days", "15 working days", 3, 2, 1
    )
    assert rapid_reviews.percent == 66.7
    assert (csprs.done, csprs.in_time, csprs.overdue_outstanding, csprs.percent) == (2, 1, 0, 50.0)


def test_timeliness_with_nothing_done_has_no_percentage(data: figures.RegisterData) -> None:
    fig = figures.annual(data, ReportingYear.parse("2030-31"), date(2031, 3, 31))
    assert all(t.done == 0 and t.percent is None for t in fig.timeliness)
    assert fig.referrals == 0 and fig.by_route == []


def test_overdue_actions_by_agency(data: figures.RegisterData) -> None:
    fig = figures.annual(data, YEAR, END)
    assert fig.actions_by_agency == [
        AgencyActions("Health (ICB)", open=2, overdue=1),
        AgencyActions("Police", open=1, overdue=1),
    ]
    # Earlier in the year nothing was overdue yet; A3 was still open.
    earlier = figures.actions_by_agency(data, date(2026, 12, 2))
    assert earlier == [
        AgencyActions("Health (ICB)", open=2, overdue=0),
        AgencyActions("Police", open=2, overdue=0),
    ]


def test_learning_outputs_in_the_year(data: figures.RegisterData) -> None:
    fig = figures.annual(data, YEAR, END)
    assert fig.learning == [Count("7-minute briefings", 2), Count("Training", 1)]
    assert [title for _, _, title in fig.learning_titles] == [
        "Safe sleep: 7-minute briefing",
        "The front door: 7-minute briefing",
        "Information sharing workshop",
    ]


def test_every_partnership_or_one(register_url: str) -> None:
    with db.session(register_url) as session:
        seed(session)
        everything = figures.load(session)
        croydon = figures.load(session, "CSCP")
    assert figures.annual(everything, YEAR, END).referrals == 8
    assert [c.case_ref for c in croydon.cases] == [REF["H"]]
    assert croydon.learning == [] and len(croydon.history) > 0


def test_bi_monthly_summary(data: figures.RegisterData) -> None:
    fig = figures.summary(data, date(2027, 1, 1), END, "LSCP")
    # Closed before the period (C, D, I) are left out.
    assert [r.case_ref for r in fig.reviews] == [REF[k] for k in "FABEG"]
    assert fig.open_reviews == 5
    a = next(r for r in fig.reviews if r.case_ref == REF["A"])
    assert a.stage == "Action plan monitoring" and a.route.startswith("Local Child")
    assert (a.actions, a.actions_done, a.actions_overdue) == (3, 1, 1)
    assert (a.next_deadline, a.next_due_on, a.overdue) == ("Action A1", date(2027, 1, 31), 1)
    assert a.deadlines_missed == 0 and a.deadlines_met >= 6
    assert a.themes == sorted([FRONT_DOOR, SAFE_SLEEP])
    g = next(r for r in fig.reviews if r.case_ref == REF["G"])
    assert g.stage == "Serious Incident Notification" and g.overdue == 2
    assert g.decisions_since == 1 and g.last_decision == "triage on 2027-03-01"
    assert [(t.theme, t.reviews) for t in fig.themes] == [(FRONT_DOOR, 2), (SAFE_SLEEP, 1)]
    assert fig.decisions_since == 1
    assert [(ref, at.date()) for ref, at, _ in fig.escalations_since] == [
        (REF["A"], date(2027, 2, 1)),
        (REF["B"], date(2027, 3, 2)),  # when the alert fired
    ]
    assert [title for _, _, title in fig.learning_since] == [
        "The front door: 7-minute briefing",
        "Information sharing workshop",
    ]


def test_upcoming_deadlines_for_the_calendar(data: figures.RegisterData) -> None:
    entries = figures.upcoming(data, date(2027, 1, 1))
    assert [(e.case_ref, e.title, e.on) for e in entries] == [
        (REF["A"], "Action A1", date(2027, 1, 31)),
        (REF["B"], "Action B1", date(2027, 2, 28)),
        (REF["G"], "Serious Incident Notification to the National Panel", date(2027, 3, 8)),
        (REF["G"], "Rapid Review completed and sent to the National Panel", date(2027, 3, 22)),
        (REF["A"], "Action A2", date(2027, 6, 30)),
    ]
    assert entries[0].uid == f"{REF['A']}.action-A1@safeguarding-review-orchestrator"


def test_annual_outcomes_show_the_statutory_triage() -> None:
    """Issue #13: notifications outside the criteria (their reason recorded), referrals not
    discussed with a safeguarding lead, and Rapid Reviews without a notification."""

    def case(ref: str, **fields: object) -> figures.CaseRow:
        base: dict[str, object] = {f: None for f in figures.CaseRow._fields}
        base |= {
            "case_ref": ref,
            "partnership": "LSCP",
            "stage": "rapid_review",
            "route": "serious_incident",
            "received_on": date(2026, 5, 1),
            "harm": "serious_harm",
            "possible_national_importance": False,
            "national_review": False,
            "not_published": False,
        }
        return figures.CaseRow(**(base | fields))  # type: ignore[arg-type]

    data = figures.RegisterData(
        cases=[
            case(
                "LSCP-2026-000001",
                notified_on=date(2026, 5, 5),
                notified_outside_criteria="abuse or neglect is not known or suspected. Reason: x",
                discussed_with_safeguarding_lead=False,
            ),
            case("LSCP-2026-000002", rapid_review_on=date(2026, 6, 1), route="learning_only"),
            case("LSCP-2026-000003", discussed_with_safeguarding_lead=True),
        ]
    )
    counts = {c.label.strip(): c.count for c in figures.outcomes(data, YEAR)}
    assert counts["although a statutory criterion was not met (reason recorded)"] == 1
    assert counts["Referrals not discussed with a safeguarding lead first"] == 1
    assert counts["without a notification (cases of serious concern)"] == 1
    assert figures.route_label("serious_concern") == (
        "Case of serious concern (rapid review under way, not notified)"
    )
