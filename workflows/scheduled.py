"""The reports a Temporal Schedule runs (gateway/schedules.py creates the Schedules): one
activity that writes the report files from the register. The Web UI shows each run, its result
(the files) and its failures."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.scheduled_io import (
        ReconcileInput,
        ReconcileResult,
        ReportMailInput,
        ScheduledReportInput,
        ScheduledReportResult,
        mail_scheduled_report,
        reconcile_register,
        write_scheduled_report,
    )

#: Reading the register and drawing a chart: minutes at most; a register that is down is retried
#: for an hour, then the run fails and the Web UI says so (the next run starts on time anyway).
REPORT_TIMEOUT = timedelta(minutes=10)
REPORT_RETRY = RetryPolicy(maximum_attempts=6, maximum_interval=timedelta(minutes=15))


#: Mailing: a mail server that is down is retried for an hour, as the register is.
MAIL_TIMEOUT = timedelta(minutes=2)


@workflow.defn
class ScheduledReportWorkflow:
    @workflow.run
    async def run(self, input: ScheduledReportInput) -> ScheduledReportResult:
        result = await workflow.execute_activity(
            write_scheduled_report,
            input,
            start_to_close_timeout=REPORT_TIMEOUT,
            retry_policy=REPORT_RETRY,
            summary=f"write the {input.report} report",
        )
        # Runs recorded before reports were mailed end here (tests/histories).
        if workflow.patched("scheduled-report-mail"):
            await self._mail(result)
        return result

    async def _mail(self, result: ScheduledReportResult) -> None:
        """Each partnership its own report; one that cannot be mailed does not stop the others,
        and fails the run at the end so the Web UI shows it (the files are written anyway)."""
        unmailed = []
        for partnership, files in sorted(result.by_partnership.items()):
            try:
                mailed = await workflow.execute_activity(
                    mail_scheduled_report,
                    ReportMailInput(
                        report=result.report,
                        partnership=partnership,
                        since=result.since,
                        as_of=result.as_of,
                        files=files,
                        run=workflow.info().workflow_id,
                    ),
                    start_to_close_timeout=MAIL_TIMEOUT,
                    retry_policy=REPORT_RETRY,
                    summary=f"mail the {result.report} report to {partnership}",
                )
            except ActivityError as err:
                workflow.logger.error("the report for %s was not mailed: %s", partnership, err)
                unmailed.append(partnership)
                continue
            result.mailed[partnership] = mailed.delivered_to
        if unmailed:
            raise ApplicationError(
                f"the {result.report} report was written but not mailed to "
                f"{', '.join(unmailed)} (the worker's log says why)",
                result.model_dump(mode="json"),
                type="ReportNotMailed",
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
