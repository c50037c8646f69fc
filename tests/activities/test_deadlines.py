"""The `plan_deadlines` activity: workflows send only the planning rules; a call scheduled with
the whole settings (by an older worker) plans the same dates."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from temporalio.testing import ActivityEnvironment

from activities.deadlines import PlanDeadlinesInput, PlanDeadlinesResult, plan_deadlines
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, WorkingDaysAfter
from safeguarding.settings import PartnershipSettings

SETTINGS = PartnershipSettings(
    code="LSCP",
    name="Liverpool Safeguarding Children Partnership",
    closure_days=[date(2026, 12, 29)],
    reminder_working_days_before=3,
)
REQUEST = DeadlineRequest(
    deadline_id="notification",
    kind=DeadlineKind.NOTIFICATION,
    title="Notify the National Panel",
    owner="Safeguarding partners",
    statutory=True,
    rule=WorkingDaysAfter(start=date(2026, 12, 21), days=5),
)


async def test_the_rules_alone_plan_as_the_whole_settings_did() -> None:
    env = ActivityEnvironment()
    slim: PlanDeadlinesResult = await env.run(
        plan_deadlines, PlanDeadlinesInput(rules=SETTINGS.planning_rules(), requests=[REQUEST])
    )
    whole: PlanDeadlinesResult = await env.run(
        plan_deadlines, PlanDeadlinesInput(settings=SETTINGS, requests=[REQUEST])
    )
    assert slim == whole
    # 21 Dec + 5 working days, skipping Christmas, Boxing Day (observed 28th) and the closure.
    assert slim.plans[0].due_on == date(2026, 12, 31)
    payload = PlanDeadlinesInput(rules=SETTINGS.planning_rules(), requests=[REQUEST])
    assert len(payload.model_dump_json()) < len(SETTINGS.model_dump_json()) / 4


def test_planning_without_rules_is_refused() -> None:
    with pytest.raises(ValidationError, match="planning needs the partnership's rules"):
        PlanDeadlinesInput(requests=[REQUEST])
