"""The reports a Temporal Schedule runs (gateway/schedules.py creates the Schedules): one
activity that writes the report files from the register. The Web UI shows each run, its result
(the files) and its failures."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.scheduled_io import (
        ReconcileInput,
        ReconcileResult,
        ScheduledReportInput,
        ScheduledReportResult,
        reconcile_register,
        write_scheduled_report,
    )

#: Reading the register and drawing a chart: minutes at most; a register that is down is retried
#: for an hour, then the run fails and the Web UI says so (the next run starts on time anyway).
REPORT_TIMEOUT = timedelta(minutes=10)
REPORT_RETRY = RetryPolicy(maximum_attempts=6, maximum_interval=timedelta(minutes=15))


@workflow.defn
class ScheduledReportWorkflow:
    @workflow.run
    async def run(self, input: ScheduledReportInput) -> ScheduledReportResult:
        return await workflow.execute_activity(
            write_scheduled_report,
            input,
            start_to_close_timeout=REPORT_TIMEOUT,
            retry_policy=REPORT_RETRY,
            summary=f"write the {input.report} report",
        )


#: Every case asks its workflow for its rows: minutes for thousands of cases.
RECONCILE_TIMEOUT = timedelta(hours=1)


@workflow.defn
class RegisterReconciliationWorkflow:
    """The nightly reconciliation: the register re-projected from every case's workflow."""

    @workflow.run
    async def run(self, input: ReconcileInput) -> ReconcileResult:
        return await workflow.execute_activity(
            reconcile_register,
            input,
            start_to_close_timeout=RECONCILE_TIMEOUT,
            retry_policy=REPORT_RETRY,
            summary="re-project every case into the register",
        )
