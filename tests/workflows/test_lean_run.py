"""Issue 16, round 3: a case started now runs lean (`LEAN_PATCHES`). Its alert timer is kept
while its next alert stays where it was (before: cancelled and started again for the same
moment on every change), and its first search attributes go with the register's first write.
Cases started before keep their path: their recorded histories replay (test_replay)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from safeguarding import decisions
from safeguarding.case import HistoryKind
from tests.factories import CHAIR, CSC_MEMBER, eventually
from tests.histories import HERE, load
from tests.workflows.test_referral import Cases, deadline, decide, entries, status
from workflows import referral_run
from workflows.register_projection import REGISTER_LAG

E = EventType


def _alert_timers(history: WorkflowHistory) -> list[float]:
    """When each of the case's alert timers was set to fire (seconds since the epoch): every
    timer but the register's lag timers."""
    lag = REGISTER_LAG.total_seconds()
    moments = []
    for event in history.events:
        if event.event_type != E.EVENT_TYPE_TIMER_STARTED:
            continue
        fires_in = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        if fires_in.total_seconds() != lag:
            moments.append((event.event_time.ToDatetime() + fires_in).timestamp())
    return moments


def _count(history: WorkflowHistory, kind: EventType.ValueType) -> int:
    return sum(1 for event in history.events if event.event_type == kind)


def test_the_recorded_lean_run_starts_a_timer_only_when_the_next_alert_moves() -> None:
    lean = load(HERE / "lean-run.json.gz").history
    before = load(HERE / "all-patches.json.gz").history  # the same route, recorded before
    updates = _count(lean, E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    moments = _alert_timers(lean)
    assert len(moments) < updates / 2
    # Each new timer waits for another moment than the one it replaced (a second of slack:
    # each is computed from workflow time at its start).
    assert all(abs(b - a) > 1 for a, b in itertools.pairwise(moments))
    assert len(_alert_timers(before)) >= updates - 4  # one (nearly) every decision
    assert len(lean.events) < len(before.events) - 30


def test_the_recorded_lean_run_upserts_once_fewer() -> None:
    lean = load(HERE / "lean-run.json.gz").history
    before = load(HERE / "all-patches.json.gz").history
    upserts = E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    assert _count(lean, upserts) == _count(before, upserts) - 1
    # The first of ours comes with the register's first write, after its lag timer fired.
    first_fired = next(
        i for i, e in enumerate(lean.events) if e.event_type == E.EVENT_TYPE_TIMER_FIRED
    )
    ours = [
        i
        for i, e in enumerate(lean.events)
        if e.event_type == upserts
        and "TemporalChangeVersion"
        not in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    ]
    assert ours and ours[0] > first_fired


def _patches(history: WorkflowHistory) -> tuple[int, int]:
    """Patch markers, and upserts of `TemporalChangeVersion` (core adds one for each patch a run
    meets first)."""
    markers = sum(
        1
        for e in history.events
        if e.event_type == E.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    )
    versions = sum(
        1
        for e in history.events
        if e.event_type == E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        and "TemporalChangeVersion"
        in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    )
    return markers, versions


def test_a_run_whose_input_says_lean_asks_for_no_patch() -> None:
    """Issue 16, round 11: `ReferralInput.lean` (the gateway's, continue-as-new's): the lean
    paths with no marker and no `TemporalChangeVersion` upsert; otherwise the same commands as
    the lean run that asked (both replay: test_replay)."""
    unmarked = load(HERE / "lean-input.json.gz").history
    asked = load(HERE / "lean-run.json.gz").history
    assert _patches(asked) == (1, 1)
    assert _patches(unmarked) == (0, 0)
    for kind in (
        E.EVENT_TYPE_TIMER_STARTED,
        E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
    ):
        assert _count(unmarked, kind) == _count(asked, kind), kind
    upserts = E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    assert _count(unmarked, upserts) == _count(asked, upserts) - 1


async def test_a_kept_alert_timer_still_fires_on_time(cases: Cases) -> None:
    handle = await cases.start()
    await decide(handle, "triage", CHAIR, outcome="serious_incident")
    planned = deadline(await status(handle), "notification")
    # Three changes that leave the next alert where it was: refusals, recorded in the case.
    for n in range(3):
        await handle.signal("decision", {"kind": "published", "decision_id": f"r{n}"})
    await eventually(
        lambda: status(handle),
        lambda s: len(entries(s, HistoryKind.REFUSED)) == 3,
        what="the three refusals recorded",
    )
    timers = _alert_timers(await handle.fetch_history())
    assert len(timers) == 1, "the refusals left the next alert where it was: one timer"
    now = await cases.env.get_current_time()
    await cases.env.sleep(planned.remind_at - now + timedelta(minutes=1))
    state = await status(handle)
    reminders = [e for e in entries(state, HistoryKind.REMINDER) if e.deadline_id == "notification"]
    assert reminders, "the kept timer fired"
    assert abs(reminders[0].at - planned.remind_at) < timedelta(seconds=5)
    # Then a new timer, for the escalation.
    assert len(_alert_timers(await handle.fetch_history())) == 2


async def test_the_handler_takes_the_decision_its_validator_parsed(
    cases: Cases, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run's logic (`workflows.referral_run`, passed through the sandbox) parses with the
    # `parse_decision` it imported: counted here.
    parsed: list[str] = []
    original = decisions.parse_decision

    def counting(value: object) -> decisions.Decision:
        found = original(value)
        parsed.append(found.decision_id)
        return found

    monkeypatch.setattr(referral_run, "parse_decision", counting)
    handle = await cases.start()
    await decide(handle, "triage", CHAIR, outcome="serious_incident")
    await decide(handle, "notification_submitted", CSC_MEMBER, reference="SIN-2026-0042")
    assert len(parsed) == 2, "once each, by the validator: the handler took it from there"
