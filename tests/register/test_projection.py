"""The projection of a case into register rows (pure: no database, no Temporal)."""

from __future__ import annotations

from datetime import date

import pytest

from register import models
from safeguarding import projection
from safeguarding.projection import (
    ActionRow,
    CaseRow,
    ChildRow,
    DeadlineRow,
    HistoryRow,
    LearningRow,
    acknowledge,
    age_band,
    only_changed,
    snapshot,
)
from safeguarding.referral import Child
from tests.register.seeding import (
    CHILD_NAMES,
    DATE_OF_BIRTH,
    REF,
    SUMMARY,
    case_a,
    case_i,
    drivers,
)


def test_no_personal_data_about_the_child_reaches_the_register() -> None:
    for d in drivers().values():
        text = d.snapshot().model_dump_json()
        for name in CHILD_NAMES:
            assert name not in text
        assert "purple umbrella" not in text and SUMMARY not in text
        assert DATE_OF_BIRTH.isoformat() not in text
        assert "Rita Referrer" not in text  # the referrer: only their agency is kept


def test_national_statistics_are_kept_per_child() -> None:
    rows = case_i().snapshot().children
    assert [(r.child_no, r.age_band, r.sex, r.looked_after) for r in rows] == [
        (1, "6 to 10", "female", False),
        (2, "11 to 15", "male", True),
    ]
    a = case_a().snapshot()
    assert a.case.harm == "serious_harm" and a.case.children == 1
    assert a.children[0].ethnicity == "White British"
    assert a.children[0].child_protection_plan


@pytest.mark.parametrize(
    ("age", "dob", "band"),
    [
        (0, None, "under 1"),
        (1, None, "1 to 5"),
        (5, None, "1 to 5"),
        (6, None, "6 to 10"),
        (15, None, "11 to 15"),
        (17, None, "16 to 17"),
        (None, date(2010, 6, 2), "16 to 17"),  # 16 on the day received
        (None, date(2010, 6, 3), "11 to 15"),  # 15: the birthday is the day after
        (None, None, "unknown"),
    ],
)
def test_age_band_on_the_day_received(age: int | None, dob: date | None, band: str) -> None:
    child = Child(name="X", age_years=age, date_of_birth=dob)
    assert age_band(child, date(2026, 6, 2)) == band


def test_every_decision_names_who_when_and_why() -> None:
    snap = case_a().snapshot()
    decisions = [h for h in snap.history if projection.is_decision(h)]
    assert len(decisions) == len(case_a().case.applied)
    for h in decisions:
        assert h.by_name and h.by_role and h.by_agency and h.decision_id and h.occurred_on
    rapid = next(h for h in decisions if h.decision_kind == "rapid_review_decision")
    assert (rapid.by_name, rapid.by_role, rapid.by_agency) == ("Dana Chair", "chair", "police")
    assert rapid.occurred_on == date(2026, 6, 15)
    assert rapid.why == "Learning about the front door is likely"
    extended = next(
        h for h in case_i().snapshot().history if h.decision_kind == "deadline_extended"
    )
    assert extended.why == "Agreed with the National Panel"


def test_deadlines_keep_due_met_missed_and_the_statutory_due_date() -> None:
    deadlines = {d.deadline_id: d for d in case_i().snapshot().deadlines}
    notification = deadlines["notification"]
    assert notification.original_due_on == date(2026, 11, 9)  # 5 working days after 2 Nov
    assert notification.due_on == date(2026, 11, 20)  # extended
    assert notification.met_on == date(2026, 11, 12)
    assert notification.outcome == "met" and notification.extensions == 1
    b = {d.deadline_id: d for d in drivers()["B"].snapshot().deadlines}
    assert b["notification"].outcome == "missed"
    assert b["notification"].escalated_at is not None


def test_history_has_a_stable_sequence_and_can_be_sent_in_parts() -> None:
    case = case_a().case
    whole = snapshot(case)
    assert [h.seq for h in whole.history] == list(range(len(case.history)))
    assert whole.history_upto == len(case.history) == whole.case.history_count
    part = snapshot(case, since=10, limit=5)
    assert [h.seq for h in part.history] == [10, 11, 12, 13, 14]
    assert (part.history_from, part.history_upto) == (10, 15)
    assert part.history == whole.history[10:15]
    assert snapshot(case, since=10_000).history == []


def test_only_rows_that_changed_are_sent_again() -> None:
    d = case_a()
    acknowledged: dict[str, projection._Row] = {}
    first = only_changed(d.snapshot(), acknowledged)
    assert len(first.deadlines) == len(d.case.deadlines) and len(first.actions) == 3
    acknowledge(first, acknowledged)
    assert only_changed(d.snapshot(), acknowledged).deadlines == []
    from tests.factories import POLICE_MEMBER

    d.decide(date(2027, 1, 5), "action_updated", POLICE_MEMBER, action_id="A1", rag="red")
    again = only_changed(d.snapshot(), acknowledged)
    assert [a.action_id for a in again.actions] == ["A1"]
    assert again.children == [] and again.case.case_ref == REF["A"]


@pytest.mark.parametrize(
    ("row", "table"),
    [
        (CaseRow, "cases"),
        (ChildRow, "children"),
        (DeadlineRow, "deadlines"),
        (ActionRow, "actions"),
        (HistoryRow, "history"),
        (LearningRow, "case_learning"),
    ],
)
def test_rows_and_tables_have_the_same_columns(row: type[projection._Row], table: str) -> None:
    columns = [c.name for c in models.SQLModel.metadata.tables[table].columns]
    assert columns == list(row.model_fields)
