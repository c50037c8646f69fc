"""Issue 13, items 11-13 in the reports: the learning loop's outputs, professional
disagreements in the bi-monthly summary, and the year's figures for the National Panel and the
Department, from a seeded register on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from register import crud, db
from reports import documents, figures, national
from reports.figures import ReportingYear
from reports.national import NationalCase
from reports.oversight import stage_times
from safeguarding.escalation import Disagreement, EscalateNow, Escalation, Resolve
from safeguarding.escalation_projection import escalation_snapshot
from safeguarding.profiles import profile_for
from tests.factories import CHAIR, COORDINATOR, POLICE_MEMBER
from tests.register.seeding import CaseDriver, _referral, seed

YEAR = ReportingYear.parse("2026-27")
END = date(2027, 3, 31)


def _utc(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _escalation(ref: str, raised: date, climbs: int, *, resolved: date | None) -> Escalation:
    """A Croydon escalation moved up `climbs` stages (a day apart), then resolved or not."""
    disagreement = Disagreement(
        partnership="CSCP",
        raised_by=POLICE_MEMBER,
        raised_with="education",
        concern="A concern naming a child, never in the register.",
        raised_on=raised,
        linked_case_ref=None,
    )
    escalation, _, _ = Escalation.open(ref, disagreement, profile_for("CSCP"), _utc(raised))
    for n in range(climbs):
        moved = EscalateNow(decision_id=f"e{n}", by=CHAIR, reason="No agreement")
        escalation.apply(moved, _utc(raised + timedelta(days=2 * (n + 1))))
    if resolved is not None:
        escalation.apply(Resolve(decision_id="r", by=CHAIR, outcome="Agreed"), _utc(resolved))
    return escalation


@pytest.fixture
def data(register_url: str) -> figures.RegisterData:
    learning = CaseDriver("LSCP-2026-0000AA", _referral(date(2026, 10, 1), harm="other"))
    learning.decide(date(2026, 10, 2), "triage", CHAIR, outcome="other_review",
                    review_type="local_case_review")  # fmt: skip
    learning.decide(date(2026, 11, 2), "other_review_completed", CHAIR, findings="Done")
    for learning_id, output, due in (
        ("B1", "briefing", "2026-12-01"),
        ("N1", "newsletter", "2027-01-10"),
    ):
        learning.decide(date(2026, 11, 3), "learning_planned", COORDINATOR, learning_id=learning_id,
                        output=output, title=f"Title {learning_id}", due_on=due)  # fmt: skip
    learning.decide(date(2026, 11, 20), "learning_disseminated", COORDINATOR, learning_id="B1",
                    reaudit_due_on="2027-02-01")  # fmt: skip
    learning.decide(date(2027, 1, 25), "learning_impact_recorded", POLICE_MEMBER,
                    learning_id="B1", impact="Better")  # fmt: skip
    with db.session(register_url) as session:
        seed(session)
        crud.record_snapshot(session, learning.snapshot())
        for escalation in (
            _escalation("CSCP-ESC-2027-00000A", date(2027, 1, 4), 2, resolved=None),
            _escalation("CSCP-ESC-2027-00000B", date(2027, 1, 11), 0, resolved=date(2027, 1, 12)),
            # Resolved before the period: not in it.
            _escalation("CSCP-ESC-2026-00000C", date(2026, 9, 1), 3, resolved=date(2026, 9, 30)),
        ):
            crud.record_escalation(session, escalation_snapshot(escalation))
    with db.session(register_url) as session:
        return figures.load(session)


# ====================================================================== item 11


def test_case_learning_counts_when_disseminated_and_its_reaudits(
    data: figures.RegisterData,
) -> None:
    fig = figures.annual(data, YEAR, END)
    counts = {c.label: c.count for c in fig.learning}
    # The seed's two briefings and a training, plus B1 disseminated on 2026-11-20; N1 is not yet.
    assert counts == {"7-minute briefings": 3, "Training": 1}
    assert (date(2026, 11, 20), "briefing", "Title B1") in fig.learning_titles
    assert fig.learning_reaudits == 1
    summary = figures.summary(data, date(2026, 11, 1), date(2027, 1, 31))
    assert summary.learning_outstanding == [
        ("LSCP-2026-0000AA", "N1 newsletter", date(2027, 1, 10), True)
    ]
    text = documents.to_markdown(documents.summary_document(summary))
    assert "LSCP-2026-0000AA: N1 newsletter, due 2027-01-10 (overdue)" in text
    annual_text = documents.to_markdown(documents.annual_document(fig))
    assert "Re-audits of their impact on practice recorded in the year: 1." in annual_text


# ====================================================================== item 12


def test_escalations_in_the_summary_by_stage_time_and_resolution(
    data: figures.RegisterData,
) -> None:
    fig = figures.summary(data, date(2027, 1, 1), date(2027, 1, 31), "CSCP")
    assert fig.oversight is not None
    lines = {e.escalation_ref: e for e in fig.oversight.escalations}
    assert set(lines) == {"CSCP-ESC-2027-00000A", "CSCP-ESC-2027-00000B"}
    open_one, resolved = lines["CSCP-ESC-2027-00000A"], lines["CSCP-ESC-2027-00000B"]
    assert (open_one.stage, open_one.overseen, open_one.resolved) == (3, True, False)
    assert stage_times(open_one) == "1: 2 days; 2: 2 days; 3: 23 days (now)"
    assert (resolved.stage, resolved.overseen, resolved.resolved_on) == (
        1,
        False,
        date(2027, 1, 12),
    )
    assert fig.oversight.by_stage == [(1, 0, 1), (3, 1, 0)]
    assert fig.oversight.thresholds == [3] and fig.oversight.overseen == 1
    text = documents.to_markdown(documents.summary_document(fig))
    assert "## Professional disagreements" in text
    assert "1 reached the review group's oversight (stage 3 and above)" in text
    assert "A concern naming a child" not in text


def test_another_partnerships_summary_has_none_of_croydons_escalations(
    data: figures.RegisterData, register_url: str
) -> None:
    with db.session(register_url) as session:
        liverpool = figures.load(session, "LSCP", reports=["summary"])
    assert liverpool.escalations == [] and liverpool.escalation_stages == []
    fig = figures.summary(liverpool, date(2027, 1, 1), date(2027, 1, 31), "LSCP")
    text = documents.to_markdown(documents.summary_document(fig))
    assert "No professional disagreements open in the period." in text


# ====================================================================== item 13


def test_national_figures_from_the_seeded_register(data: figures.RegisterData) -> None:
    fig = figures.annual(data, YEAR, END)
    n = fig.national
    assert n is not None
    # A, B and I notified in the year (F the year before, G not yet); only A in time.
    assert (n.notifications, n.notifications_in_time, n.care_leaver_notifications) == (3, 1, 0)
    # A and I reviewed in time, B late.
    assert (n.rapid_reviews, n.rapid_reviews_in_time) == (3, 2)
    # A published in the year within 6 months; F's decision not to publish recorded.
    assert (n.lcsprs_published, n.lcsprs_published_in_time, n.lcsprs_not_published) == (1, 1, 1)
    if national.available("commissioned_on") == "cspr_decided_on":
        # A's and F's Panel responses (2026-06-20, 2026-04-10) opened their reviews.
        assert n.lcsprs_commissioned == 2
        assert n.days_to_publication == [(date(2026, 11, 30) - date(2026, 6, 20)).days]
    if national.available("sent_to_panel_on") is None:
        assert n.sent_to_panel is None
    text = documents.to_markdown(documents.annual_document(fig))
    assert "## For the National Panel and the Department for Education" in text
    assert "| \u2003\u2003made within 5 working days | 1 of 3 |" in text
    assert "national panel and department" in documents.annual_csv(fig)


def test_national_figures_use_the_day_sent_to_the_panel_where_recorded() -> None:
    class Deadline:
        def __init__(self, ref: str, kind: str, due: date, met: date | None) -> None:
            self.case_ref, self.kind, self.original_due_on, self.met_on = ref, kind, due, met
            self.outcome = "open" if met is None else "met"

    cases = [
        NationalCase(
            "X",
            False,
            False,
            date(2026, 5, 1),
            date(2026, 5, 20),
            date(2026, 5, 21),
            date(2026, 5, 20),
            date(2026, 11, 1),
        ),
        NationalCase("Y", True, False, date(2026, 6, 1), None, None, None, None),
    ]
    deadlines = [
        Deadline("X", "notification", date(2026, 5, 6), date(2026, 5, 1)),
        Deadline("X", "rapid_review", date(2026, 5, 20), date(2026, 5, 20)),
        Deadline("X", "cspr_publication", date(2026, 11, 20), date(2026, 11, 1)),
        Deadline("Y", "notification", date(2026, 5, 30), date(2026, 6, 1)),
    ]
    fig = national.national(cases, deadlines, YEAR, sent_recorded=True)
    assert (fig.notifications, fig.notifications_in_time, fig.care_leaver_notifications) == (
        2,
        1,
        1,
    )
    assert (fig.sent_to_panel, fig.sent_to_panel_in_time) == (1, 0)  # a day after the 15th
    assert (fig.lcsprs_commissioned, fig.lcsprs_published, fig.lcsprs_published_in_time) == (
        1,
        1,
        1,
    )
    assert fig.days_to_publication == [165] and fig.median_days_to_publication == 165
    assert dict(national.rows(fig))["  sent within 15 working days"] == "0 of 1"
