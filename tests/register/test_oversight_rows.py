"""Issue 13, items 11 and 12 in the register: a case's learning outputs (`case_learning`) and an
escalation's rows (`escalations`, `escalation_stages`), written idempotently, on SQLite and
PostgreSQL; and the escalation projection on all three partnerships' profiles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from register import crud, db
from safeguarding.escalation import Disagreement, EscalateNow, Escalation, Resolve
from safeguarding.escalation_projection import escalation_snapshot
from safeguarding.profiles import profile_for
from tests.factories import CHAIR, COORDINATOR, POLICE_MEMBER
from tests.register.seeding import CaseDriver, _referral

CONCERN = "A concern naming Kayden-Lee Example: never in the register."
OPENED = datetime(2027, 1, 4, 10, tzinfo=UTC)


def escalation(code: str, climbs: int) -> Escalation:
    disagreement = Disagreement(
        partnership=code, raised_by=POLICE_MEMBER, raised_with="education", concern=CONCERN
    )
    made, _, _ = Escalation.open(f"{code}-ESC-2027-00000A", disagreement, profile_for(code), OPENED)
    for n in range(climbs):
        made.apply(
            EscalateNow(decision_id=f"e{n}", by=CHAIR, reason="No"), OPENED + timedelta(n + 1)
        )
    return made


@pytest.mark.parametrize("code", ["LSCP", "CSCP", "SSCP"])
def test_an_escalation_is_overseen_from_its_partnerships_threshold(code: str) -> None:
    threshold = profile_for(code).escalation_policy.oversight_threshold
    assert threshold == 3  # Croydon's "Stage 3 and above"; the others follow their notice stage
    for climbs in range(threshold):
        row = escalation_snapshot(escalation(code, climbs)).escalation
        assert row.stage == climbs + 1 and row.oversight_from_stage == threshold
        assert row.overseen is (climbs + 1 >= threshold)
    snap = escalation_snapshot(escalation(code, 2))
    assert CONCERN not in snap.model_dump_json()


def test_oversight_defaults_to_the_stage_the_partnership_is_told() -> None:
    policy = profile_for("LSCP").escalation_policy
    assert policy.oversight_from_stage is None and policy.oversight_threshold == 3
    assert profile_for("CSCP").escalation_policy.oversight_from_stage == 3


def test_escalation_rows_are_idempotent_and_never_go_back(register_url: str) -> None:
    later = escalation("CSCP", 2)
    later.apply(Resolve(decision_id="r", by=CHAIR, outcome="Agreed"), OPENED + timedelta(days=5))
    earlier = escalation_snapshot(escalation("CSCP", 1))
    with db.session(register_url) as session:
        assert crud.record_escalation(session, escalation_snapshot(later))
        assert crud.record_escalation(session, escalation_snapshot(later))  # again: the same
        assert not crud.record_escalation(session, earlier)  # a late retry of an older one
    with db.session(register_url) as session:
        (row,) = crud.rows(session, "escalations")
        stages = crud.rows(session, "escalation_stages")
        counted = crud.counts(session)
    assert row["stage"] == 3 and row["resolved_by_name"] == CHAIR.name and row["overseen"]
    assert [s["left_because"] for s in stages] == ["escalated", "escalated", "resolved"]
    assert counted["escalations"] == 1 and counted["escalation_stages"] == 3


def test_a_cases_learning_outputs_are_projected(register_url: str) -> None:
    d = CaseDriver("LSCP-2026-0000AB", _referral(date(2026, 10, 1), harm="other"))
    d.decide(date(2026, 10, 2), "triage", CHAIR, outcome="other_review",
             review_type="local_case_review")  # fmt: skip
    d.decide(date(2026, 11, 2), "other_review_completed", CHAIR, findings="Done")
    d.decide(date(2026, 11, 3), "learning_planned", COORDINATOR, learning_id="A1",
             output="audit", title="Strategy discussions", due_on="2027-01-10")  # fmt: skip
    with db.session(register_url) as session:
        crud.record_snapshot(session, d.snapshot())
    d.decide(date(2026, 12, 1), "learning_disseminated", COORDINATOR, learning_id="A1",
             reaudit_due_on="2027-06-01")  # fmt: skip
    with db.session(register_url) as session:
        crud.record_snapshot(session, d.snapshot())
    with db.session(register_url) as session:
        (row,) = crud.rows(session, "case_learning")
    assert (row["output"], row["status"], row["disseminated_on"], row["reaudit_due_on"]) == (
        "audit",
        "disseminated",
        date(2026, 12, 1),
        date(2027, 6, 1),
    )
    assert row["owner"] == "Learning and Development Group"  # the seeds' England-wide default
