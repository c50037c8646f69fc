"""worker.py: what the worker registers and which task queue it polls."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

import activities
import worker
from activities import ALL_ACTIVITIES
from gateway.connection import task_queue
from workflows.disposal import DisposalWorkflow
from workflows.escalation import ProfessionalDisagreementWorkflow
from workflows.referral import TASK_QUEUE, ReferralWorkflow
from workflows.scheduled import RegisterReconciliationWorkflow, ScheduledReportWorkflow


def _defined_activities() -> set[str]:
    """Every @activity.defn in the activities package, by activity name."""
    names: set[str] = set()
    for module_info in pkgutil.iter_modules(activities.__path__, f"{activities.__name__}."):
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, callable):
            definition = activity._Definition.from_callable(value)
            if definition is not None and definition.name:
                names.add(definition.name)
    return names


def _names(callables: object) -> set[str]:
    assert isinstance(callables, list | tuple)
    found: set[str] = set()
    for fn in callables:
        definition = activity._Definition.must_from_callable(fn)
        assert definition.name is not None
        found.add(definition.name)
    return found


async def test_build_worker_registers_the_workflow_and_every_activity(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    built = worker.build_worker(time_skipping_env.client, "test-worker-queue")
    config = built.config()
    assert built.task_queue == "test-worker-queue"
    assert list(config.get("workflows", [])) == [
        ReferralWorkflow,
        ProfessionalDisagreementWorkflow,
        ScheduledReportWorkflow,
        DisposalWorkflow,
        RegisterReconciliationWorkflow,
    ]
    registered = _names(config.get("activities", []))
    # Every module-level activity, and the nightly reconciliation (a method bound to the
    # worker's client, so not in ALL_ACTIVITIES; declared by name in activities.scheduled_io).
    assert registered == _names(ALL_ACTIVITIES) | {"reconcile_register"}
    assert registered == _defined_activities()
    assert registered == {
        "load_partnership_settings",
        "plan_deadlines",
        "send_notice",
        "record_case",
        "record_escalation",
        "write_scheduled_report",
        "mail_scheduled_report",
        "reconcile_register",
        "find_due_disposals",
        "dispose_case",
    }


async def test_build_worker_defaults_to_the_configured_queue(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRO_TASK_QUEUE", "reviews-elsewhere")
    assert worker.build_worker(time_skipping_env.client).task_queue == "reviews-elsewhere"


def test_task_queue_honours_sro_task_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_TASK_QUEUE", raising=False)
    assert task_queue() == TASK_QUEUE == "safeguarding-reviews"
    monkeypatch.setenv("SRO_TASK_QUEUE", "reviews-staging")
    assert task_queue() == "reviews-staging"


async def test_the_workflow_cache_is_sized_for_mostly_idle_cases(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SRO_MAX_CACHED_WORKFLOWS", raising=False)
    built = worker.build_worker(time_skipping_env.client, "test-cache-default")
    assert built.config().get("max_cached_workflows") == worker.MAX_CACHED_WORKFLOWS == 500
    monkeypatch.setenv("SRO_MAX_CACHED_WORKFLOWS", "2000")
    built = worker.build_worker(time_skipping_env.client, "test-cache-configured")
    assert built.config().get("max_cached_workflows") == 2000


@pytest.mark.parametrize("value", ["0", "-5", "lots", "1.5"])
def test_a_bad_cache_size_stops_the_worker_with_a_clear_message(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRO_MAX_CACHED_WORKFLOWS", value)
    with pytest.raises(SystemExit, match="SRO_MAX_CACHED_WORKFLOWS must be a whole number"):
        worker.max_cached_workflows()


def test_settling_memory_freezes_what_start_up_allocated() -> None:
    import gc

    try:
        worker.settle_memory()
        assert gc.get_freeze_count() > 10_000  # the imports: SDK, pydantic, SQLAlchemy...
    finally:
        gc.unfreeze()
