"""The disposal run as a durable workflow (issue 14, point 3; DATA-PROTECTION.md section 5).

One activity finds the closed cases whose retention has run out (their partnership's schedule,
`safeguarding.retention`), then one activity per case disposes of it: its personal data removed
from the register and the disposal recorded (what, when, by whom, under which rule), or refused
and recorded as refused under a legal hold. Each case's activity is idempotent, so a worker that
dies mid-run loses nothing: Temporal resumes the run at the next case, and a retried case records
once. The workflow reads no clock: the day the schedule is applied for is its input.

Its payloads hold case references, rules and who asked (a professional's account): no child's
personal data; its workflow id is `disposal-<run id>`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.disposal_io import (
        DisposalRunInput,
        DisposeCaseInput,
        dispose_case,
        find_due_disposals,
    )
    from safeguarding.model import DomainModel

DISPOSAL_WORKFLOW_TYPE = "DisposalWorkflow"
PROGRESS_QUERY = "progress"
#: The register may be down for a while: retry without limit, at most every 5 minutes.
DISPOSAL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)
DISPOSAL_TIMEOUT = timedelta(minutes=2)


class DisposalRunResult(DomainModel):
    run_id: str
    disposed: list[str]
    refused: list[str]
    #: More cases were due than one run takes: run again.
    more: bool


def disposal_workflow_id(run_id: str) -> str:
    return f"disposal-{run_id}"


@workflow.defn(name=DISPOSAL_WORKFLOW_TYPE)
class DisposalWorkflow:
    def __init__(self) -> None:
        self._due = 0
        self._disposed: list[str] = []
        self._refused: list[str] = []

    @workflow.run
    async def run(self, input: DisposalRunInput) -> DisposalRunResult:
        found = await workflow.execute_activity(
            find_due_disposals,
            input,
            start_to_close_timeout=DISPOSAL_TIMEOUT,
            retry_policy=DISPOSAL_RETRY,
        )
        self._due = len(found.cases)
        for case in found.cases:
            done = await workflow.execute_activity(
                dispose_case,
                DisposeCaseInput(
                    run_id=input.run_id, case_ref=case.case_ref, rules=case.rules, by=input.by
                ),
                start_to_close_timeout=DISPOSAL_TIMEOUT,
                retry_policy=DISPOSAL_RETRY,
            )
            (self._refused if done.outcome == "refused" else self._disposed).append(done.case_ref)
        return DisposalRunResult(
            run_id=input.run_id, disposed=self._disposed, refused=self._refused, more=found.more
        )

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> dict[str, int]:
        """How far the run is: cases due, disposed of, refused."""
        return {"due": self._due, "disposed": len(self._disposed), "refused": len(self._refused)}
