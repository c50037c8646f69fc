"""Issue 16, round 2: a case started with `ALL_PATCHES` meets one patch, not five (each patch a
run meets first costs a marker and a `TemporalChangeVersion` upsert in its history)."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType

from tests.histories import HERE, load

E = EventType


def _patch_markers(name: str) -> int:
    history = load(HERE / f"{name}.json.gz").history
    return sum(
        1
        for event in history.events
        if event.event_type == E.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == "core_patch"
    )


def test_a_new_case_meets_one_patch() -> None:
    assert _patch_markers("all-patches") == 1


def test_a_case_started_before_keeps_its_patches() -> None:
    # The same route recorded before `ALL_PATCHES` (it still replays: tests/workflows/test_replay).
    assert _patch_markers("register-batched") == 5
