"""Subject access (issue 14, point 4): the bundle for case A holds every field the register and
Temporal hold about A and nothing of case B; the HTML escapes hostile text; the export and the
search are recorded in the access log (never the search term); the search finds A by the
child's name and not B; the files are private."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel, select

from register import access_log, db
from register import subject_access as held
from register.models import AccessRecord, EscalationRecord, HistoryRecord
from reports import subject_access as bundles
from safeguarding.case_views import CaseStatus
from safeguarding.referral import Referral
from safeguarding.subject_access import PersonQuery, referral_mentions, text_mentions
from starter import cli
from starter import subject_access as sar
from tests.register.seeding import (
    CHILD_NAMES,
    DATE_OF_BIRTH,
    REF,
    case_a,
    case_b,
    seed,
    snapshots,
)

A, B = REF["A"], REF["B"]
HOSTILE = "<script>alert('x')</script> \u202eAmelia-Rose Seedchild's note & more"


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'register.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SRO_USER_NAME", "Jo Taylor")
    monkeypatch.setenv("SRO_USER_ROLE", "business_manager")
    db.upgrade(url)
    with db.session(url) as session:
        seed(session)
        # Free text naming A's child, with markup and a right-to-left override.
        session.add(
            HistoryRecord(case_ref=A, seq=900, at=datetime(2027, 3, 1, 9), kind="decision",
                          stage="action_plan_monitoring", text=HOSTILE, why="see the note")
        )  # fmt: skip
        session.add(
            EscalationRecord(escalation_ref="LSCP-ESC-2026-00000A", partnership="LSCP",
                partnership_name="LSCP", linked_case_ref=A, raised_with="police",
                raised_by_name="Ali Khan", raised_by_role="practitioner",
                raised_by_agency="education",
                opened_at=datetime(2026, 7, 1, 9), stage=1, stage_name="Practitioners",
                formal=False, oversight_from_stage=3, overseen=False, history_count=1)
        )  # fmt: skip
    return url


class FakeLive:
    """Temporal holding cases A and B (their referrals and statuses)."""

    def __init__(self) -> None:
        self.drivers = {A: case_a(), B: case_b()}

    async def referral(self, case_ref: str) -> Referral:
        return self.drivers[case_ref].case.referral

    async def status(self, case_ref: str) -> CaseStatus:
        return self.drivers[case_ref].case.status(datetime(2027, 3, 31, 12, tzinfo=UTC))

    async def case_refs(self) -> AsyncIterator[tuple[str, bool]]:
        for ref in self.drivers:
            yield ref, True


@pytest.fixture
def temporal(monkeypatch: pytest.MonkeyPatch) -> FakeLive:
    fake = FakeLive()

    @asynccontextmanager
    async def live(_timeout: float) -> AsyncIterator[FakeLive]:
        yield fake

    monkeypatch.setattr(sar, "live", live)
    return fake


def sro(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [] if value is None else [str(value)]


def _same(expected: Any, got: Any) -> bool:
    """A seeded value against the bundle's (the register keeps UTC times without the zone)."""
    if isinstance(expected, str) and isinstance(got, str):
        return expected.removesuffix("Z").removesuffix("+00:00") == got.removesuffix("+00:00")
    return bool(expected == got)


def test_bundle_holds_every_field_of_a_and_nothing_of_b(
    seeded: str, temporal: FakeLive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sar"
    code, printed, err = sro(capsys, "register", "subject-access", "--case", A, "--out", str(out))
    assert code == 0, err
    assert printed.count("wrote ") == 2
    # Private: the folder 0700, each file 0600.
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    made = json.loads((out / f"subject-access-{A}.json").read_text())
    assert [s["included"] for s in made["sources"]] == [True, True, True]

    # Every field of every register row seeded for A, with its value.
    seeded_a = next(s for s in snapshots() if s.case.case_ref == A)
    by_table: dict[str, list[Any]] = {
        "cases": [seeded_a.case], "children": seeded_a.children,
        "deadlines": seeded_a.deadlines, "actions": seeded_a.actions,
        "history": seeded_a.history, "case_learning": seeded_a.learning,
    }  # fmt: skip
    for table, rows in by_table.items():
        exported = made["register"][table]
        assert len([r for r in exported if r.get("seq") != 900]) == len(rows), table
        for row, got in zip(rows, exported, strict=False):
            for name, value in row.model_dump(mode="json").items():
                assert _same(value, got[name]), (table, name, value, got[name])
    decisions = [h for h in seeded_a.history if h.decision_id]
    assert {d["decision_id"] for d in made["register"]["decisions"]} == {
        h.decision_id for h in decisions
    }
    assert {r["title"] for r in made["register"]["learning_outputs"]} == {
        "Safe sleep: 7-minute briefing", "The front door: 7-minute briefing",
    }  # fmt: skip
    assert made["register"]["escalations"][0]["raised_by_name"] == "Ali Khan"
    # The referral and the status from Temporal, whole.
    assert made["referral"] == temporal.drivers[A].case.referral.model_dump(mode="json")
    assert made["referral"]["children"][0]["name"] == CHILD_NAMES[0]
    assert made["status"]["case_ref"] == A
    # The export itself is in the bundle's access log, and in the register's.
    assert made["register"]["access_log"][-1]["data"] == "subject_access"
    rows = access_log.entries(A)
    assert [(r.username, r.role, r.via, r.data) for r in rows] == [
        ("Jo Taylor", "business_manager", "sro", "subject_access")
    ]
    # Nothing of B anywhere.
    text = json.dumps(made)
    assert B not in text and CHILD_NAMES[1] not in text and "SIN-B" not in text
    assert not any(leaf.startswith("LSCP-2026-00000B") for leaf in _leaves(made))


def test_html_is_escaped_and_self_contained(
    seeded: str, temporal: FakeLive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = sro(capsys, "register", "subject-access", "--case", A, "--out", str(tmp_path),
                       "--format", "html", "--no-temporal")  # fmt: skip
    assert code == 0, err
    page = (tmp_path / f"subject-access-{A}.html").read_text()
    assert "<script" not in page and "\u202e" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "\\u202eAmelia-Rose" in page and "&amp; more" in page
    assert "src=" not in page and "href=" not in page  # no external assets
    assert 'Temporal: the referral</td><td class="no">no' in page
    assert not (tmp_path / f"subject-access-{A}.json").exists()


def test_find_person_by_childs_name_and_birth_date(
    seeded: str, temporal: FakeLive, capsys: pytest.CaptureFixture[str]
) -> None:
    code, printed, err = sro(capsys, "register", "find-person", "--name", "amelia rose SEEDCHILD",
                             "--json")  # fmt: skip
    assert code == 0, err
    found = json.loads(printed)
    assert [c["case_ref"] for c in found["cases"]] == [A]
    where = found["cases"][0]["where"]
    assert "referral, child 1: name" in where
    assert "register, history.text (name)" in where
    assert all(s["included"] for s in found["sources"])
    code, printed, _ = sro(capsys, "register", "find-person", "--born", DATE_OF_BIRTH.isoformat())
    assert code == 0 and A in printed and B not in printed  # B's child has no date of birth
    # Recorded: the case found, and the search (without a case); never what was searched for.
    rows = [r for r in access_log.entries(A) if r.data == "subject_access"]
    assert len(rows) == 2 and rows[0].what.startswith("find-person")
    with db.session() as s:
        every = [r.what for r in s.exec(select(AccessRecord))]
    assert len(every) == 4
    assert not any("seedchild" in w.casefold() or "2023" in w for w in every)


def test_find_person_refuses_an_empty_query(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = sro(capsys, "register", "find-person", "--name", " ,. ")
    assert code == 2 and "name: give at least one letter" in err
    code, _, err = sro(capsys, "register", "find-person")
    assert code == 2 and "name or born" in err


def test_matching_rules() -> None:
    query = PersonQuery(name="Zoë O'Neil", born=date(2020, 2, 3))
    assert text_mentions("Seen with zoe o neil at home", query) == ["name"]
    assert text_mentions("Zoe visited O'Neil", query) == []  # a phrase, not scattered words
    assert text_mentions("born 3 February 2020", query) == ["date of birth"]
    assert text_mentions("born 03/02/2020", query) == ["date of birth"]
    made = case_a().case.referral
    assert referral_mentions(made, PersonQuery(name="Seedchild")) == ["child 1: name"]
    assert referral_mentions(made, PersonQuery(name="Brodie Seedchild")) == []


def test_every_table_is_exported_or_said_not_to_be_about_a_case() -> None:
    covered = set(held.CASE_TABLES) | {t for t, *_ in held.CHILD_TABLES}
    assert set(SQLModel.metadata.tables) - covered - set(held.NOT_ABOUT_A_CASE) == set()
    assert bundles.FORMAT.startswith("sro-subject-access/")


def test_nothing_exported_or_shown_when_it_cannot_be_recorded(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = access_log.record
    monkeypatch.setattr(access_log, "record", lambda *a, **k: False)
    out = tmp_path / "sar"
    code, _, err = sro(capsys, "register", "subject-access", "--case", A, "--out", str(out),
                       "--no-temporal")  # fmt: skip
    assert code == 1 and "access log cannot be written: nothing exported" in err
    assert not out.exists()
    code, printed, err = sro(capsys, "register", "find-person", "--name", "Seedchild",
                             "--no-temporal")  # fmt: skip
    assert code == 1 and "no results shown" in err and A not in printed
    # A case neither in the register nor in Temporal is refused, and nothing recorded.
    monkeypatch.setattr(access_log, "record", recording)
    code, _, err = sro(capsys, "register", "subject-access", "--case", "LSCP-2026-FFFFFF",
                       "--no-temporal", "--out", str(out))  # fmt: skip
    assert code == 2 and "neither in the register" in err
