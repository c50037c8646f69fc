"""The partnership's scheduled work as Temporal Schedules (the reports and the nightly register
reconciliation): the Web UI shows them (Schedules) with
their runs, and `sro schedules` lists, triggers, pauses and unpauses them. The dev stack creates
them when it starts (`ensure`: creating one that exists changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.scheduled_io import ReconcileInput, ScheduledReportInput
from gateway.config import task_queue as default_task_queue
from gateway.errors import NotFound, from_rpc
from workflows.scheduled import RegisterReconciliationWorkflow, ScheduledReportWorkflow

TIME_ZONE = "Europe/London"


@dataclass(frozen=True)
class Planned:
    schedule_id: str
    what: str
    report: ScheduledReportInput | ReconcileInput
    calendar: ScheduleCalendarSpec

    def action(self, task_queue: str) -> ScheduleActionStartWorkflow:
        run = f"{self.schedule_id}-run"
        if isinstance(self.report, ReconcileInput):
            return ScheduleActionStartWorkflow(
                RegisterReconciliationWorkflow.run, self.report, id=run, task_queue=task_queue
            )
        return ScheduleActionStartWorkflow(
            ScheduledReportWorkflow.run, self.report, id=run, task_queue=task_queue
        )


#: 06:00 UK time: the bi-monthly summary on the 1st of every other month (January, March...,
#: for the review group's bi-monthly meeting), the annual report on 1 May (the year to 31 March).
PLANNED = (
    Planned(
        "sro-summary-bimonthly",
        "bi-monthly review summary (the two months to the day)",
        ScheduledReportInput(report="summary"),
        ScheduleCalendarSpec(
            hour=[ScheduleRange(6)],
            day_of_month=[ScheduleRange(1)],
            month=[ScheduleRange(1, 11, 2)],
        ),
    ),
    Planned(
        "sro-annual-report",
        "annual report (the reporting year to 31 March)",
        ScheduledReportInput(report="annual"),
        ScheduleCalendarSpec(
            hour=[ScheduleRange(6)], day_of_month=[ScheduleRange(1)], month=[ScheduleRange(5)]
        ),
    ),
    Planned(
        "sro-register-reconcile",
        "nightly register reconciliation (every case re-projected from its workflow)",
        ReconcileInput(),
        ScheduleCalendarSpec(hour=[ScheduleRange(2)], minute=[ScheduleRange(30)]),
    ),
)
IDS = tuple(p.schedule_id for p in PLANNED)


@dataclass(frozen=True)
class Listed:
    schedule_id: str
    what: str
    paused: bool
    note: str | None
    next_runs: list[datetime]


async def ensure(client: Client, task_queue: str | None = None) -> list[str]:
    """Create the Schedules that do not exist yet; the ids created."""
    created = []
    for planned in PLANNED:
        schedule = Schedule(
            action=planned.action(task_queue or default_task_queue()),
            spec=ScheduleSpec(calendars=[planned.calendar], time_zone_name=TIME_ZONE),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        )
        try:
            await client.create_schedule(planned.schedule_id, schedule)
        except ScheduleAlreadyRunningError:
            continue
        except RPCError as err:
            raise from_rpc(err, planned.schedule_id) from err
        created.append(planned.schedule_id)
    return created


async def listed(client: Client) -> list[Listed]:
    """The planned Schedules as the server has them (one not created yet is left out)."""
    found: list[Listed] = []
    for planned in PLANNED:
        try:
            described = await client.get_schedule_handle(planned.schedule_id).describe()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                continue
            raise from_rpc(err, planned.schedule_id) from err
        state = described.schedule.state
        found.append(
            Listed(
                planned.schedule_id,
                planned.what,
                state.paused,
                state.note,
                list(described.info.next_action_times[:3]),
            )
        )
    return found


async def act(client: Client, schedule_id: str, action: str, note: str | None = None) -> None:
    """`trigger` (run now), `pause` or `unpause` one of the planned Schedules."""
    if schedule_id not in IDS:
        raise NotFound(f"no schedule {schedule_id!r}; the schedules are: {', '.join(IDS)}")
    handle = client.get_schedule_handle(schedule_id)
    try:
        if action == "trigger":
            await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
        elif action == "pause":
            await handle.pause(note=note or "paused with sro schedules pause")
        else:
            await handle.unpause(note=note or "unpaused with sro schedules unpause")
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise NotFound(
                f"schedule {schedule_id} is not on the server yet (make run creates it)"
            ) from err
        raise from_rpc(err, schedule_id) from err
