"""Old cases against new code: every recorded history (tests/histories, one per route, written by
`python -m tests.histories.record`) replays with the current workflow code. A change that would
make a running case take a different path fails here, in CI, before it reaches a worker.

The recorded payloads are encrypted with the tests' key; replaying them also shows that a key
ring which has rotated to a new key still reads them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from temporalio.worker import Replayer

from gateway.connection import data_converter
from safeguarding.case import HistoryKind
from safeguarding.vocabulary import DecisionKind, Route, Stage
from security.keys import KeyRing
from tests.conftest import TEST_CODEC_KEYS
from tests.histories import HERE, Recorded, files, load, read_text
from tests.histories.record import FAKE_PERSONAL_DATA, ROUTES
from worker import WORKFLOWS
from workflows.disposal import DisposalWorkflow
from workflows.escalation import ProfessionalDisagreementWorkflow
from workflows.referral import ReferralWorkflow
from workflows.scheduled import RegisterReconciliationWorkflow, ScheduledReportWorkflow

HISTORIES = files()
#: The tests' key, and a newer one that is now current: old histories must still decode.
NEW_KEY = f"test-2={base64.b64encode(b'2' * 32).decode()}"
ROTATED = KeyRing.parse(f"{TEST_CODEC_KEYS},{NEW_KEY}", current="test-2")


def replayer() -> Replayer:
    return Replayer(
        workflows=WORKFLOWS,  # every workflow the worker runs (held to the recorded set below)
        data_converter=data_converter(ROTATED, seal_cases=False),
    )


@pytest.fixture(scope="module")
def recorded() -> list[Recorded]:
    return [load(path) for path in HISTORIES]


@pytest.mark.parametrize(
    "path", HISTORIES, ids=[str(p.relative_to(HERE)).split(".json")[0] for p in HISTORIES]
)
async def test_recorded_history_replays_with_current_code(path: Path) -> None:
    history = load(path).history
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, (
        f"{path.name} no longer replays: the workflow code changed what a running case does. "
        "Guard the change with workflow.patched() (see the README, 'Changing workflow code "
        f"safely'), or record again if this route is new.\n{result.replay_failure!r}"
    )


def test_the_worker_registers_exactly_the_replayed_workflows() -> None:
    # A workflow the worker runs but the replay tests do not cover would go unchecked.
    assert set(WORKFLOWS) == {
        ReferralWorkflow,
        ProfessionalDisagreementWorkflow,
        DisposalWorkflow,
        ScheduledReportWorkflow,
        RegisterReconciliationWorkflow,
    }


def test_every_route_stage_decision_and_alert_is_recorded(recorded: list[Recorded]) -> None:
    """Re-record (`python -m tests.histories.record`) after adding a route, stage or decision."""
    covered: dict[str, set[str]] = {}
    for item in recorded:
        if item.workflow_type != "ReferralWorkflow":
            continue
        for key in ("stages", "decision_kinds", "history_kinds"):
            covered.setdefault(key, set()).update(item.covers.get(key, []))
        if "route" in item.covers:
            covered.setdefault("routes", set()).add(item.covers["route"])
    # Routes a case takes only on its way (a rapid review under way) are not final.
    under_way = {Route.UNDECIDED, Route.SERIOUS_INCIDENT, Route.SERIOUS_CONCERN}
    final_routes = {r.value for r in Route} - under_way
    assert final_routes <= covered["routes"], "routes not recorded"
    assert {s.value for s in Stage} <= covered["stages"], "stages not recorded"
    assert {k.value for k in DecisionKind} <= covered["decision_kinds"], "decisions not recorded"
    assert {k.value for k in HistoryKind} <= covered["history_kinds"], "alerts not recorded"
    escalations = [r.covers for r in recorded if r.workflow_type != "ReferralWorkflow"]
    assert {"timed_out", "escalated", "resolved"} <= {
        why for covers in escalations for why in covers.get("left_because", [])
    }
    assert any(c.get("partnership_notified") for c in escalations)


def test_every_run_of_a_continued_case_is_recorded(recorded: list[Recorded]) -> None:
    by_name: dict[tuple[Path, str], list[int]] = {}
    for item in recorded:
        by_name.setdefault((item.path.parent, item.name), []).append(item.run)
        assert item.history.events[0].HasField("workflow_execution_started_event_attributes")
    for item in recorded:
        runs = by_name[(item.path.parent, item.name)]
        assert sorted(runs) == list(range(1, item.runs + 1)), item.path
    assert any(item.runs > 1 for item in recorded), "no continue-as-new case is recorded"
    assert set(ROUTES) <= {item.name for item in recorded}


def test_the_recorded_files_hold_no_plaintext(recorded: list[Recorded]) -> None:
    for path in HISTORIES:
        text = read_text(path)
        found = [value for value in FAKE_PERSONAL_DATA if value in text]
        assert not found, f"{path.name} holds plaintext: {found}"
    # Every payload in them is encrypted with the tests' key.
    for item in recorded:
        started = item.history.events[0].workflow_execution_started_event_attributes
        for payload in started.input.payloads:
            assert payload.metadata["encoding"] == b"binary/encrypted"
            assert payload.metadata["encryption-key-id"] == b"test-1"


async def test_without_the_old_key_the_histories_do_not_replay(recorded: list[Recorded]) -> None:
    """Retiring a key too early is caught: a ring without it cannot read the old cases."""
    only_new = KeyRing.parse(NEW_KEY)
    result = await Replayer(
        workflows=WORKFLOWS,  # every workflow the worker runs (held to the recorded set below)
        data_converter=data_converter(only_new, seal_cases=False),
    ).replay_workflow(recorded[0].history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    # (The message, naming the missing key, is encrypted like every failure message; the
    # worker's log shows it.)
    assert "DecryptionError" in str(result.replay_failure)
