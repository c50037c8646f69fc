"""Retention and disposal in the register (issue 14, point 3): a closed case past its retention
loses its personal data but still counts in the reports; a legal hold refuses it (recorded)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest

from register import db, disposal
from reports import figures
from safeguarding.retention import DisposalRule, RetentionSchedule
from tests.register.seeding import REF, seed
from tests.reports.test_figures import END, YEAR

SCHEDULES = {"LSCP": RetentionSchedule(), "CSCP": RetentionSchedule()}
#: C closed 2026-08-05 (a newborn's band at worst: 25 years from 2026-07-01); D 2026-05-05.
LATER = date(2052, 1, 1)


@pytest.fixture
def url(tmp_path: Path) -> str:
    found = f"sqlite:///{tmp_path / 'register.db'}"
    db.ensure_schema(found)
    with db.session(found) as session:
        seed(session)
    return found


def test_due_follows_the_schedule(url: str) -> None:
    assert disposal.due(SCHEDULES, date(2033, 8, 5), url=url) == []  # 7 years, child under 25
    due = {d.case_ref: d.rules for d in disposal.due(SCHEDULES, LATER, url=url)}
    assert due[REF["C"]] == [DisposalRule.PERSONAL_DATA, DisposalRule.PROFESSIONAL_NAMES]
    assert REF["A"] not in due  # open


def test_disposal_removes_personal_data_and_the_case_still_counts(url: str) -> None:
    with db.session(url) as session:
        before = figures.annual(figures.load(session, "LSCP"), YEAR, END, "LSCP")
    assert disposal.personal_text_left(REF["C"], url)
    for found in disposal.due(SCHEDULES, LATER, url=url):
        done = disposal.dispose(found.case_ref, found.rule_texts, run_id="r1", by="bm", url=url)
        assert done.outcome == "disposed"
    assert disposal.personal_text_left(REF["C"], url) == []
    with db.session(url) as session:
        after = figures.annual(figures.load(session, "LSCP"), YEAR, END, "LSCP")
    assert asdict(after) == asdict(before)
    records = disposal.disposals(REF["C"], url)
    assert {(r.rule, r.outcome, r.by) for r in records} == {
        ("personal_data", "disposed", "bm"),
        ("professional_names", "disposed", "bm"),
    }
    assert "years after closure" in records[0].rule_text
    # Idempotent: the same run again records nothing new; a later run finds nothing due.
    again = disposal.dispose(REF["C"], {"personal_data": "x"}, run_id="r1", by="bm", url=url)
    assert again.details == {"personal_data": "recorded earlier in this run"}
    assert [d.case_ref for d in disposal.due(SCHEDULES, LATER, url=url)] == []


def test_a_legal_hold_refuses_disposal_and_is_recorded(url: str) -> None:
    disposal.set_hold(REF["C"], by="bm", reason="police investigation", url=url)
    with pytest.raises(disposal.Refused, match="already on hold"):
        disposal.set_hold(REF["C"], by="bm", reason="again", url=url)
    held = {d.case_ref: d for d in disposal.due(SCHEDULES, LATER, url=url)}[REF["C"]]
    assert held.held == "police investigation"
    done = disposal.dispose(REF["C"], held.rule_texts, run_id="r2", by="bm", url=url)
    assert done.outcome == "refused"
    assert disposal.personal_text_left(REF["C"], url)  # nothing removed
    assert {r.outcome for r in disposal.disposals(REF["C"], url)} == {"refused"}
    lifted = disposal.lift_hold(REF["C"], by="chair", why="investigation closed", url=url)
    assert (lifted.lifted_by, lifted.lifted_why) == ("chair", "investigation closed")
    done = disposal.dispose(REF["C"], held.rule_texts, run_id="r3", by="bm", url=url)
    assert done.outcome == "disposed"
    assert [h.reason for h in disposal.holds(REF["C"], url)] == ["police investigation"]
