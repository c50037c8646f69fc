"""The disposal run's activities (issue 14, point 3): which closed cases are due under their
partnership's retention schedule, and disposing of one case (register/disposal.py). Both read
and write the register in a thread, off the worker's event loop; `dispose_case` is idempotent
(keyed by run, case and rule), so Temporal's retries never record twice."""

from __future__ import annotations

import asyncio
import logging

from temporalio import activity

from activities.disposal_io import (
    DISPOSE_CASE,
    FIND_DUE_DISPOSALS,
    MAX_CASES_PER_RUN,
    DisposalRunInput,
    DisposeCaseInput,
    DisposeCaseResult,
    DueCase,
    DueCases,
)
from register import disposal
from safeguarding.profiles import load_profiles

log = logging.getLogger(__name__)

__all__ = ["dispose_case", "due_cases", "find_due_disposals"]


def due_cases(input: DisposalRunInput, url: str | None = None) -> DueCases:
    """The cases due (also what `sro register dispose --dry-run` shows)."""
    schedules = {code: s.retention for code, s in load_profiles().items()}
    found = disposal.due(
        schedules,
        input.today,
        partnership=input.partnership,
        case_refs=input.case_refs or None,
        url=url,
    )
    cases = [
        DueCase(case_ref=d.case_ref, rules=d.rule_texts, held=d.held is not None) for d in found
    ]
    return DueCases(cases=cases[:MAX_CASES_PER_RUN], more=len(cases) > MAX_CASES_PER_RUN)


@activity.defn(name=FIND_DUE_DISPOSALS)
async def find_due_disposals(input: DisposalRunInput) -> DueCases:
    found = await asyncio.to_thread(due_cases, input)
    log.info("disposal run %s: %d case(s) due", input.run_id, len(found.cases))
    return found


@activity.defn(name=DISPOSE_CASE)
async def dispose_case(input: DisposeCaseInput) -> DisposeCaseResult:
    done = await asyncio.to_thread(
        disposal.dispose, input.case_ref, input.rules, run_id=input.run_id, by=input.by
    )
    log.info("disposal run %s: %s %s", input.run_id, input.case_ref, done.outcome)
    return DisposeCaseResult(case_ref=done.case_ref, outcome=done.outcome, details=done.details)
