"""The timeline picture: stages and deadlines in an accessible inline SVG."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from xml.etree import ElementTree

from console import timeline
from tests.console.conftest import NOW
from tests.console.fakes import FakeBackend
from tests.factories import CHAIR, referral

SVG = "{http://www.w3.org/2000/svg}"


def status_after(backend: FakeBackend, received: date, *decisions: dict[str, object]):  # type: ignore[no-untyped-def]
    case_ref = asyncio.run(backend.start(referral(received, partnership="ENGLAND")))
    for i, fields in enumerate(decisions):
        body = {"decision_id": f"d{i}", "by": CHAIR.model_dump(mode="json"), **fields}
        asyncio.run(backend.decide(case_ref, body))
    return asyncio.run(backend.status(case_ref))


def test_a_new_case(backend: FakeBackend) -> None:
    status = status_after(backend, NOW.date())
    svg = str(timeline.render(status, NOW))
    root = ElementTree.fromstring(svg)
    assert root.get("role") == "img"
    labelled = (root.get("aria-labelledby") or "").split()
    assert [root.find(f"{SVG}title").get("id"), root.find(f"{SVG}desc").get("id")] == labelled  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    assert desc.startswith(
        "Stages: Referral (passed); Triage (current); Route decided at triage (next)."
    )
    assert "Triage decision: due" in desc and "upcoming, on track" in desc
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "now" in texts and "today" in texts


def test_an_overdue_and_a_met_deadline_say_so_in_words(backend: FakeBackend) -> None:
    late = status_after(backend, NOW.date() - timedelta(days=30))
    svg = str(timeline.render(late, NOW))
    assert "overdue" in svg and 'class="tl-marker tl-overdue"' in svg
    met = status_after(backend, NOW.date(), {"kind": "triage", "outcome": "serious_incident"})
    svg = str(timeline.render(met, NOW))
    assert "Triage decision: due" in svg
    assert ", met (done 20 Nov 2026)" in svg
    assert 'class="tl-marker tl-met"' in svg
    assert [s.state for s in timeline.steps(met)][:4] == ["passed", "passed", "current", "next"]


def test_a_closed_case_has_passed_every_stage(backend: FakeBackend) -> None:
    closed = status_after(
        backend, NOW.date(), {"kind": "triage", "outcome": "no_further_action", "advice": "Advice."}
    )
    steps = timeline.steps(closed)
    assert [s.label for s in steps] == ["Referral", "Triage", "Closed"]
    assert {s.state for s in steps} == {"passed"}
