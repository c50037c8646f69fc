"""Reading workflow histories: events by type, sizes, the runs of a continued case, identities."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory

E = EventType
#: The marker a local activity's result is recorded under.
LOCAL_ACTIVITY_MARKER = "core_local_activity"


def is_local_activity(event: HistoryEvent) -> bool:
    return (
        event.event_type == E.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
    )


def _local_attempt(event: HistoryEvent) -> int:
    data = event.marker_recorded_event_attributes.details.get("data")
    if data is None or not data.payloads:
        return 1
    try:
        return int(json.loads(data.payloads[0].data).get("attempt", 1))
    except (ValueError, AttributeError):
        return 1


@dataclass(frozen=True)
class HistoryCounts:
    events: int
    bytes: int
    activities: int
    local_activities: int
    updates: int
    timers: int
    upserts: int
    workflow_tasks: int
    input_bytes: int

    @classmethod
    def of(cls, history: WorkflowHistory) -> HistoryCounts:
        kinds = Counter(e.event_type for e in history.events)
        first = history.events[0].workflow_execution_started_event_attributes
        return cls(
            events=len(history.events),
            bytes=sum(e.ByteSize() for e in history.events),
            activities=kinds[E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
            local_activities=sum(1 for e in history.events if is_local_activity(e)),
            updates=kinds[E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED],
            timers=kinds[E.EVENT_TYPE_TIMER_STARTED],
            upserts=kinds[E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES],
            workflow_tasks=kinds[E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
            input_bytes=first.input.ByteSize(),
        )


def continued_to(history: WorkflowHistory) -> str | None:
    """The next run's id if this run continued as new."""
    last = history.events[-1]
    if last.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        run_id: str = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        return run_id
    return None


async def runs_of(client: Client, workflow_id: str, first_run_id: str) -> list[WorkflowHistory]:
    """Every run of a workflow from its first, following continue-as-new."""
    runs = []
    run_id: str | None = first_run_id
    while run_id is not None:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        run_id = continued_to(history)
    return runs


@dataclass
class Handling:
    """Who handled what in one history: workflow tasks and activities per worker identity (a
    local activity runs in the worker whose workflow task records its marker)."""

    workflow_tasks: Counter[str]
    activities: Counter[str]
    local_activities: Counter[str]
    scheduled: int
    completed: int
    retried: int
    failed_tasks: int
    closed: bool


def handling(events: list[HistoryEvent]) -> Handling:
    tasks: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    local: Counter[str] = Counter()
    scheduled = completed = retried = failed = 0
    closed = False
    last_task_by = ""
    for e in events:
        t = e.event_type
        if t == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            last_task_by = e.workflow_task_completed_event_attributes.identity
            tasks[last_task_by] += 1
        elif is_local_activity(e):
            local[last_task_by] += 1
            if _local_attempt(e) > 1:
                retried += 1
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled += 1
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = e.activity_task_started_event_attributes
            activities[started.identity] += 1
            if started.attempt > 1:
                retried += 1
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed += 1
        elif t in (E.EVENT_TYPE_WORKFLOW_TASK_FAILED, E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT):
            failed += 1
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            closed = True
    return Handling(tasks, activities, local, scheduled, completed, retried, failed, closed)
