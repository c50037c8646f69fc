"""Issue 15, "the console for the portfolio": the caseload sorted and exported, UK dates, the
reports page's chart and files, the wording."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import cast
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from console import caseload, dates, reports, timeline
from console.backend import CaseRow
from console.routes.decisions import confirmation
from safeguarding.case import DecisionResult
from safeguarding.vocabulary import DecisionKind, Stage
from tests.console.conftest import NOW, Clock, csrf_of
from tests.console.fakes import FakeBackend
from tests.console.test_pages import CHILD, TODAY, Client, chair, check_page, decide, start
from tests.console.test_timeline import SVG


def _order(html: str) -> list[str]:
    return re.findall(r'<tr data-case="([^"]+)">', html)


def _three(backend: FakeBackend, clock: Clock) -> list[str]:
    """Three cases opened on different days, oldest first; the newest moved on a stage."""
    refs = []
    for days in (40, 20, 0):
        clock.now = NOW - timedelta(days=days)
        refs.append(start(backend, received_on=TODAY - timedelta(days=days)))
    clock.now = NOW
    decide(backend, refs[2], "triage", chair(), outcome="serious_incident")
    return refs


# --------------------------------------------------------------------------- caseload


def test_the_caseload_sorts_by_every_column_and_exports_what_it_shows(
    as_user: Client, backend: FakeBackend, clock: Clock
) -> None:
    oldest, middle, newest = _three(backend, clock)
    client = as_user("bea")
    page = client.get("/cases", params={"sort": "opened"})
    check_page(page.text)
    assert _order(page.text) == [oldest, middle, newest]
    assert '<th scope="col" aria-sort="ascending"><a class="sort-link"' in page.text
    assert "/cases?sort=opened&amp;order=desc" in page.text  # the same heading sorts back
    assert ">Opened<" in page.text and ">Who owes the next step<" in page.text
    row = re.search(rf'<tr data-case="{oldest}">(.*?)</tr>', page.text, re.S)
    assert row and f"<td>{(NOW - timedelta(days=40)).day} Oct 2026</td>" in row.group(1)
    page = client.get("/cases", params={"sort": "opened", "order": "desc"})
    assert _order(page.text) == [newest, middle, oldest]
    for column in caseload.COLUMNS:  # every column sorts, both ways, without a problem
        for order in ("asc", "desc"):
            page = client.get("/cases", params={"sort": column.key, "order": order})
            assert page.status_code == 200 and 'class="warning"' not in page.text, column.key
    stage = client.get("/cases", params={"sort": "stage", "order": "desc"})
    assert _order(stage.text)[0] == newest  # stages sort in the process's order, not by name

    # The export: the same filters, the same order, a link that carries them.
    page = client.get("/cases", params={"sort": "opened", "order": "desc", "partnership": "LSCP"})
    href = re.search(r'href="(/cases\.csv\?[^"]+)" id="caseload-csv"', page.text)
    assert href and "sort=opened" in href.group(1) and "partnership=LSCP" in href.group(1)
    exported = client.get(href.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith("attachment;")
    lines = list(csv.reader(io.StringIO(exported.text)))
    assert lines[0][:3] == ["Case", "Partnership", "Opened"]
    assert [line[0] for line in lines[1:]] == [newest, middle, oldest]
    assert lines[-1][2] == f"{NOW - timedelta(days=40):%d/%m/%Y}"
    assert CHILD not in exported.text and "Rita" not in exported.text  # nothing personal


def test_an_unknown_sort_is_ignored_on_the_page_and_refused_for_the_file(
    as_user: Client, backend: FakeBackend
) -> None:
    case_ref = start(backend)
    client = as_user("cora")
    page = client.get("/cases", params={"sort": "child_name", "order": "sideways"})
    assert page.status_code == 200 and case_ref in page.text
    assert "Sort: unknown column, ignored (sort by case, partnership, opened" in page.text
    assert "Order: write asc or desc; ignored." in page.text
    assert "child_name" not in page.text  # not echoed, not carried into the links
    exported = client.get("/cases.csv", params={"sort": "child_name"})
    assert exported.status_code == 400 and "Sort: unknown column" in exported.text


def test_the_export_is_safe_in_a_spreadsheet() -> None:
    row = CaseRow(
        case_ref="LSCP-2026-1A2B3C",
        partnership="LSCP",
        stage=None,
        route=None,
        running=True,
        started_at=datetime(2026, 12, 4, 9, tzinfo=UTC),
        next_deadline_on=date(2026, 12, 18),
        next_deadline_title='=HYPERLINK("http://x","y")',
        next_owner="@SUM(A1)",
    )
    lines = list(csv.reader(io.StringIO(caseload.to_csv([row]))))
    assert lines[1][caseload.COLUMNS.index(caseload.BY_KEY["owner"])] == "'@SUM(A1)"
    assert lines[1][-1] == '\'=HYPERLINK("http://x","y")'
    assert lines[1][2] == "04/12/2026" and lines[1][5] == "18/12/2026"


# --------------------------------------------------------------------------- UK dates


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("04/12/2026", date(2026, 12, 4)),
        ("4/12/2026", date(2026, 12, 4)),
        ("04-12-2026", date(2026, 12, 4)),
        ("4.12.2026", date(2026, 12, 4)),
        ("4 Dec 2026", date(2026, 12, 4)),
        ("4th December 2026", date(2026, 12, 4)),
        ("2026-12-04", date(2026, 12, 4)),
        (" 29/02/2028 ", date(2028, 2, 29)),
    ],
)
def test_uk_dates_are_read(text: str, day: date) -> None:
    assert dates.parse_day(text) == day


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("12/25/2026", "has no month 25: write the day first"),
        ("04/12/26", "Write the year in full"),
        ("31/02/2026", "is not a real date"),
        ("4 Decm 2026", "'Decm' is not a month"),
        ("next Tuesday", "Enter a date."),
    ],
)
def test_ambiguous_or_invalid_dates_are_refused(text: str, words: str) -> None:
    with pytest.raises(dates.BadDate, match=re.escape(words)):
        dates.parse_day(text)


def test_the_case_histories_iso_dates_are_shown_the_uk_way() -> None:
    said = "Referral received on 2026-12-04; ref LSCP-2026-1A2B3C; not a day 2026-13-45"
    assert dates.uk_dates_in(said) == (
        "Referral received on 4 Dec 2026; ref LSCP-2026-1A2B3C; not a day 2026-13-45"
    )


def test_forms_take_uk_dates_and_name_the_field_they_refuse(
    as_user: Client, backend: FakeBackend
) -> None:
    client = as_user("cora")
    page = client.get("/referrals/new")
    assert 'name="received_on" value="20/11/2026"' in page.text
    assert 'type="date"' not in page.text  # no browser date input (mm/dd/yyyy in US English)
    assert "for example 04/12/2026 or 4 Dec 2026" in page.text
    data = {
        "partnership": "LSCP",
        "received_on": "11/20/2026",
        "incident_on": "20/11/26",
        "harm": "serious_harm",
        "abuse_or_neglect_suspected": "yes",
        "summary": "Admitted with unexplained injuries.",
        "referrer-name": "Rita Shah",
        "referrer-agency": "health",
        "referrer-discussed_with_safeguarding_lead": "yes",
        "children-0-name": "A.B.",
        "children-0-age_years": "3",
    }
    response = client.post("/referrals", data={"csrf_token": csrf_of(page.text), **data})
    assert response.status_code == 422 and backend.started == []
    assert "Received on: 11/20/2026 has no month 20: write the day first" in response.text
    assert "Date of the incident: Write the year in full" in response.text
    assert 'value="11/20/2026"' in response.text  # what was typed stays, to correct
    data.update(received_on="20/11/2026", incident_on="18 Nov 2026")
    response = client.post("/referrals", data={"csrf_token": csrf_of(page.text), **data})
    assert response.status_code == 303
    assert backend.started[0].received_on == TODAY
    assert backend.started[0].incident_on == date(2026, 11, 18)


# --------------------------------------------------------------------------- reports


def test_the_reports_page_shows_the_chart_and_offers_the_files(as_user: Client) -> None:
    client = as_user("bea")
    page = client.get("/reports")
    check_page(page.text)
    assert '<img src="/reports/files/timeliness.png"' in page.text
    assert 'alt="Timeliness against statute, 2026-27: the share' in page.text
    for name in reports.FILES:
        assert f'href="/reports/files/{name}"' in page.text
    assert page.text.count('<details class="section report" open>') == 2  # annual figures too
    png = client.get("/reports/files/timeliness.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    annual = client.get("/reports/files/annual.csv", params={"partnership": "LSCP"})
    assert annual.headers["content-type"].startswith("text/csv")
    assert annual.headers["content-disposition"] == 'attachment; filename="annual-2026-27-LSCP.csv"'
    assert client.get("/reports/files/secrets.txt").status_code == 404


def test_the_chart_and_the_summary_csv_do_not_rely_on_red_and_green() -> None:
    from matplotlib import pyplot as plt

    from reports import chart
    from reports.documents import review_status
    from reports.figures import ReviewLine, Timeliness

    fig, ax = plt.subplots()
    try:
        chart._bar(ax, 0, Timeliness("Notification", "5 working days", 4, 3, 0))
        in_time, late = ax.patches[:2]
        assert not in_time.get_hatch() and late.get_hatch() == chart.LATE_HATCH  # a pattern
        texts = {t.get_text() for t in ax.texts}
        assert {"75% in time", "1 late", "3 of 4"} <= texts  # and words
    finally:
        plt.close(fig)
    line = ReviewLine(
        "LSCP-2026-1A2B3C", "LSCP", "Local CSPR", "Draft report", TODAY, None,
        2, 1, 3, 1, "Final report", TODAY, 1, 4, 0, 2, "triage", [],
    )  # fmt: skip
    assert review_status(line) == "overdue"


# --------------------------------------------------------------------------- wording


def test_every_confirmation_reads_as_a_fact(
    as_user: Client, app_client: Callable[..., TestClient]
) -> None:
    for kind in DecisionKind:
        said = confirmation(kind, cast(DecisionResult, SimpleNamespace(stage=Stage.TRIAGE)))
        assert said.startswith("Recorded: ") and said.endswith("Stage now: Triage."), said
        what = said.removeprefix("Recorded: ").split(" ", 1)[0]
        assert what not in {"Add", "Update", "Extend", "Close", "Plan", "Request", "Record"}, said
    assert "Notification submitted recorded" not in confirmation(
        DecisionKind.NOTIFICATION_SUBMITTED,
        cast(DecisionResult, SimpleNamespace(stage=Stage.RAPID_REVIEW)),
    )
    # The page title is never doubled: with a title of its own, and without (sign-in).
    titles = re.findall(r"<title>(.*?)</title>", as_user("rob").get("/cases").text)
    assert titles == ["Caseload — Safeguarding Review Console"]
    with app_client() as client:
        titles = re.findall(r"<title>(.*?)</title>", client.get("/login").text)
    assert len(titles) == 1 and titles[0].count("Safeguarding Review Console") == 1, titles


def test_the_timeline_draws_a_met_deadline_on_its_day_and_keeps_words_inside(
    backend: FakeBackend, clock: Clock
) -> None:
    case_ref = start(backend, received_on=TODAY - timedelta(days=2))
    clock.now = NOW - timedelta(days=1)
    decide(backend, case_ref, "triage", chair(), outcome="serious_incident")
    clock.now = NOW
    status = asyncio.run(backend.status(case_ref))
    met = next(d for d in status.deadlines if d.met_on)
    assert met.met_on != met.due_on
    root = ElementTree.fromstring(str(timeline.render(status, NOW)))
    circles = [c for c in root.iter(f"{SVG}circle") if "tl-met" in (c.get("class") or "")]
    ticks = [t for t in root.iter(f"{SVG}line") if t.get("class") == "tl-due-tick"]
    assert circles and ticks and float(circles[0].get("cx") or 0) < float(ticks[0].get("x1") or 0)
    for text in root.iter(f"{SVG}text"):
        if "tl-state" in (text.get("class") or "") and text.get("text-anchor") == "start":
            words = text.text or ""
            assert float(text.get("x") or 0) + len(words) * 6.6 <= timeline.WIDTH, words


# --------------------------------------------------------------------------- who attended


def test_who_attended_is_chosen_in_rows_and_the_text_box_stays(
    as_user: Client, backend: FakeBackend
) -> None:
    case_ref = start(backend)
    client = as_user("dana")
    url = f"/cases/{case_ref}/decide/triage"
    page = client.get(url)
    check_page(page.text)
    assert '<select id="f-attendees-0-agency" name="attendees-0-agency">' in page.text
    assert '<option value="chair">Chair</option>' in page.text
    assert '<textarea id="f-attendees" name="attendees"' in page.text  # the fallback
    rows = {
        "attendees-0-name": "Dana Chair",
        "attendees-0-role": "chair",
        "attendees-0-agency": "police",
        "attendees-1-name": "Hal Health",
        "attendees-1-role": "panel_member",
        "attendees-1-agency": "health",
        "attendees-2-name": "Nobody",  # no role, no agency
    }
    lines = (
        "Sam Social, panel member, childrens social care\n"
        "Bea Manager, business manager, partnership"
    )
    response = client.post(url, data={"csrf_token": csrf_of(page.text), "outcome":
                                       "serious_incident", "attendees": lines, **rows})  # fmt: skip
    assert response.status_code == 422 and backend.sent == []
    assert "Row 3: give the role and the agency." in response.text
    assert 'value="Hal Health"' in response.text  # the rows are shown again as chosen
    assert '<option value="health" selected>' in response.text
    rows["attendees-2-name"] = ""
    response = client.post(url, data={"csrf_token": csrf_of(page.text), "outcome":
                                       "serious_incident", "attendees": lines, **rows})  # fmt: skip
    assert response.status_code == 303, response.text
    people = backend.sent[-1]["attendees"]
    assert [p["name"] for p in people] == ["Dana Chair", "Hal Health", "Sam Social", "Bea Manager"]
    assert people[1] == {"name": "Hal Health", "role": "panel_member", "agency": "health"}
