"""A case driven through its whole life on the time-skipping server shows up complete in the
register, on SQLite and on PostgreSQL; a retried projection adds nothing twice; the `register`
query reproduces the same rows (what `sro register rebuild` writes)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import ALL_ACTIVITIES
from activities.register import RecordCaseInput, RecordCaseResult, record, record_case
from register import crud, db, models
from safeguarding.case import CaseStatus, DecisionResult, HistoryKind
from safeguarding.clock import uk_today
from safeguarding.decisions import Person
from safeguarding.projection import CaseSnapshot
from tests.factories import (
    BUSINESS_MANAGER,
    CHAIR,
    COORDINATOR,
    CSC_MEMBER,
    HEALTH_MEMBER,
    LEAD_REVIEWER,
    POLICE_MEMBER,
    decision,
    referral,
)
from workflows.referral import (
    ReferralInput,
    ReferralOptions,
    ReferralResult,
    ReferralWorkflow,
    workflow_id,
)

Handle = WorkflowHandle[ReferralWorkflow, ReferralResult]


class Life:
    """Runs one case on a queue of its own with the given activities."""

    def __init__(self, env: WorkflowEnvironment, queue: str) -> None:
        self.env = env
        self.queue = queue

    async def today(self) -> date:
        return uk_today(await self.env.get_current_time())

    async def start(self, **options: Any) -> Handle:
        case_ref = f"LSCP-2026-{uuid.uuid4().hex[:6].upper()}"
        return await self.env.client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref,
                referral=referral(await self.today()),
                options=ReferralOptions(search_attributes=False, **options),
            ),
            id=workflow_id(case_ref),
            task_queue=self.queue,
        )

    async def decide(self, handle: Handle, kind: str, by: Person, **fields: Any) -> None:
        await handle.execute_update(
            "decide", decision(kind, by, **fields), result_type=DecisionResult
        )

    async def whole_life(self, handle: Handle) -> None:
        """Triage to closure through the rapid review and a Local CSPR, with an information
        return chased (reminder, escalation) and an extension on the way."""
        d = self.decide
        today = await self.today()
        await d(handle, "triage", CHAIR, outcome="serious_incident", note="Serious injuries")
        await d(handle, "notification_submitted", CSC_MEMBER, reference="SIN-2026-0042")
        await d(
            handle,
            "information_requested",
            COORDINATOR,
            requests=[
                {"agency": "police", "due_on": (today + timedelta(days=4)).isoformat()},
                {"agency": "health"},
            ],
        )
        await d(handle, "information_returned", POLICE_MEMBER, agency="police")
        # Health's return is reminded, then escalated: 20 days is past 5 working days even
        # over Christmas, wherever the shared test server's clock has got to.
        await self.env.sleep(timedelta(days=20))
        await d(handle, "information_returned", HEALTH_MEMBER, agency="health")
        await d(
            handle,
            "rapid_review_decision",
            CHAIR,
            recommendation="local_cspr",
            attendees=[p.model_dump(mode="json") for p in (CHAIR, POLICE_MEMBER, HEALTH_MEMBER)],
        )
        await d(handle, "rapid_review_sent", COORDINATOR)
        await d(handle, "panel_response", COORDINATOR, panel_agrees=True, outcome="local_cspr")
        await d(
            handle,
            "deadline_extended",
            BUSINESS_MANAGER,
            deadline_id="cspr-publication",
            new_due_on=(await self.today() + timedelta(days=300)).isoformat(),
            reason="Criminal trial first",
            agreed_with="National Panel",
        )
        for kind, by, extra in (
            ("lead_reviewer_appointed", COORDINATOR, {"lead_reviewer": "Dr Ivy Lead"}),
            ("terms_of_reference_agreed", CHAIR, {}),
            ("agency_information_received", LEAD_REVIEWER, {}),
            *(
                ("involvement_recorded", LEAD_REVIEWER, {"milestone": m})
                for m in ("family_told", "family_views", "practitioners_involved")
            ),
            ("involvement_completed", LEAD_REVIEWER, {}),
            ("draft_report_received", LEAD_REVIEWER, {}),
            ("quality_assured", CHAIR, {}),
            ("final_report_sent", COORDINATOR, {}),
            ("anonymisation_checked", CHAIR, {}),
            ("involvement_recorded", LEAD_REVIEWER, {"milestone": "family_shown_report"}),
        ):
            await d(handle, kind, by, **extra)
        until = (await self.today() + timedelta(days=400)).isoformat()
        await d(
            handle,
            "published",
            BUSINESS_MANAGER,
            location="https://example.org/reviews",
            available_until=until,
        )
        due = (await self.today() + timedelta(days=60)).isoformat()
        for action_id, agency in (("A1", "police"), ("A2", "health")):
            await d(
                handle,
                "action_added",
                COORDINATOR,
                action_id=action_id,
                recommendation="Share information at the front door",
                description="Joint briefing",
                lead_agency=agency,
                due_on=due,
                outcome_measure="Re-audit",
            )
        await d(handle, "action_updated", POLICE_MEMBER, action_id="A1", status="complete")
        await d(handle, "action_updated", CHAIR, action_id="A2", status="closed_by_review_group")
        await d(handle, "case_closed", CHAIR, note="Every action done")


@pytest_asyncio.fixture
async def life(
    time_skipping_env: WorkflowEnvironment, outbox: Path
) -> AsyncIterator[Callable[[list[Any]], Any]]:
    """`async with life(activities) as run:` a worker on a fresh queue."""

    def make(activities: list[Any]) -> Any:
        queue = f"register-{uuid.uuid4().hex[:8]}"

        class Running:
            async def __aenter__(self) -> Life:
                self.worker = Worker(
                    time_skipping_env.client,
                    task_queue=queue,
                    workflows=[ReferralWorkflow],
                    activities=activities,
                )
                await self.worker.__aenter__()
                return Life(time_skipping_env, queue)

            async def __aexit__(self, *exc: Any) -> None:
                await self.worker.__aexit__(*exc)

        return Running()

    yield make


def rows_of(url: str, case_ref: str) -> dict[str, list[dict[str, Any]]]:
    with db.session(url) as session:
        return {
            name: crud.rows(session, name, crud.table(name).c.case_ref == case_ref)
            for name in models.PROJECTED_TABLES
        }


def rebuilt_from_query(snapshot: CaseSnapshot, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    url = f"sqlite:///{tmp_path / f'rebuilt-{uuid.uuid4().hex[:6]}.db'}"
    db.upgrade(url)
    with db.session(url) as session:
        crud.record_snapshot(session, snapshot)
    found = rows_of(url, snapshot.case.case_ref)
    db.forget(url)
    return found


def held_by_the_case(
    found: dict[str, list[dict[str, Any]]], snapshot: CaseSnapshot
) -> dict[str, list[dict[str, Any]]]:
    """The register's rows of a case without the history entries the case no longer holds (a
    long case drops those the register acknowledged: `Case.carry_over`), as the `register` query
    gives them."""
    kept = {
        "history": [h for h in found["history"] if h["seq"] >= snapshot.history_from],
        "decisions": [d for d in found["decisions"] if d["seq"] >= snapshot.history_from],
    }
    return {**found, **kept}


async def test_a_case_driven_through_its_life_is_complete_in_the_register(
    life: Any, register_url: str, tmp_path: Path
) -> None:
    async with life(ALL_ACTIVITIES) as run:
        handle = await run.start()
        await run.whole_life(handle)
        result = await handle.result()
        status: CaseStatus = await handle.query(ReferralWorkflow.status)
        snapshot = await handle.query("register", result_type=CaseSnapshot)
    case_ref = result.case_ref
    found = rows_of(register_url, case_ref)

    (case,) = found["cases"]
    assert case["stage"] == "closed" and case["route"] == "local_cspr"
    assert case["closed_at"] is not None and case["notification_reference"] == "SIN-2026-0042"
    assert case["published_on"] is not None and case["lead_reviewer"] == "Dr Ivy Lead"
    assert case["history_count"] == len(status.history)

    # Every history entry, in order, with its sequence number.
    assert [h["seq"] for h in found["history"]] == list(range(len(status.history)))
    assert [h["kind"] for h in found["history"]] == [e.kind.value for e in status.history]
    kinds = {h["kind"] for h in found["history"]}
    assert {"reminder", "escalation", "deadline_extended", "deadline_met"} <= kinds

    # Every decision: who (name, role, agency), when, what and why.
    decided = [e for e in status.history if e.kind is HistoryKind.DECISION]
    assert len(found["decisions"]) == len(decided) == result.decisions
    by_id = {d["decision_id"]: d for d in found["decisions"]}
    for entry in decided:
        row = by_id[entry.decision_id or ""]
        assert entry.by is not None
        assert (row["by_name"], row["by_role"], row["by_agency"]) == (
            entry.by.name,
            entry.by.role.value,
            entry.by.agency.value,
        )
        assert row["kind"] == entry.decision_kind and row["what"] == entry.text
        assert row["decided_at"] == entry.at.replace(tzinfo=None)
    triage = next(d for d in found["decisions"] if d["kind"] == "triage")
    assert triage["why"] == "Serious injuries" and triage["occurred_on"] is not None

    # Deadlines with their due, met and missed dates, reminders and escalations.
    deadlines = {d["deadline_id"]: d for d in found["deadlines"]}
    assert set(deadlines) == {d.deadline_id for d in status.deadlines}
    for view in status.deadlines:
        assert deadlines[view.deadline_id]["due_on"] == view.due_on
        assert deadlines[view.deadline_id]["met_on"] == view.met_on
    health = deadlines["information-health"]
    assert health["outcome"] == "missed" and health["escalated_at"] is not None
    assert deadlines["notification"]["outcome"] == "met"
    publication = deadlines["cspr-publication"]
    assert publication["extensions"] == 1 and publication["original_due_on"] < publication["due_on"]

    # Actions.
    assert {(a["action_id"], a["status"], a["lead_agency"]) for a in found["actions"]} == {
        ("A1", "complete", "police"),
        ("A2", "closed_by_review_group", "health"),
    }

    # The workflow's own `register` query (what `sro register rebuild` writes) gives the same.
    assert rebuilt_from_query(snapshot, tmp_path) == found


async def test_a_retried_projection_adds_nothing_twice(
    life: Any, register_url: str, tmp_path: Path
) -> None:
    """Every first attempt writes to the register, then fails as if the reply were lost:
    Temporal retries, and the second write adds nothing."""
    attempts: list[int] = []

    @activity.defn(name="record_case")
    async def record_then_lose_the_reply(input: RecordCaseInput) -> RecordCaseResult:
        result = record(input.snapshot)
        attempts.append(activity.info().attempt)
        if activity.info().attempt == 1:
            raise RuntimeError("the reply was lost")
        assert result.history_added == 0 and result.decisions_added == 0
        return result

    others = [a for a in ALL_ACTIVITIES if a is not record_case]
    async with life([*others, record_then_lose_the_reply]) as run:
        handle = await run.start()
        await run.decide(handle, "triage", CHAIR, outcome="no_further_action", advice="Advice")
        result = await handle.result()
        snapshot = await handle.query("register", result_type=CaseSnapshot)
    assert 1 in attempts and 2 in attempts
    found = rows_of(register_url, result.case_ref)
    assert len(found["history"]) == snapshot.history_upto
    assert len(found["decisions"]) == 1
    assert rebuilt_from_query(snapshot, tmp_path) == found


async def test_continue_as_new_carries_what_the_register_acknowledged(
    life: Any, register_url: str, tmp_path: Path
) -> None:
    async with life(ALL_ACTIVITIES) as run:
        handle = await run.start(continue_as_new_after_events=50)
        first_run = (await handle.describe()).run_id
        await run.decide(handle, "triage", CHAIR, outcome="other_review",
                         review_type="multi_agency_audit")  # fmt: skip
        await run.decide(handle, "other_review_completed", CHAIR, findings="Audit complete")
        due = (await run.today() + timedelta(days=90)).isoformat()
        await run.decide(
            handle,
            "action_added",
            COORDINATOR,
            action_id="A1",
            recommendation="r",
            description="d",
            lead_agency="police",
            due_on=due,
            outcome_measure="m",
        )
        for n in range(12):
            await run.decide(handle, "action_updated", POLICE_MEMBER, action_id="A1",
                             evidence=f"progress report {n}")  # fmt: skip
        await run.decide(handle, "action_updated", POLICE_MEMBER, action_id="A1", status="complete")
        await run.decide(handle, "case_closed", CHAIR)
        result = await handle.result()
        snapshot = await handle.query("register", result_type=CaseSnapshot)
    assert result.runs >= 2 and (await handle.describe()).run_id != first_run
    found = rows_of(register_url, result.case_ref)
    assert [h["seq"] for h in found["history"]] == list(range(snapshot.history_upto))
    assert "continued" in {h["kind"] for h in found["history"]}
    # Every piece of evidence is in its decision's history row; the action row has the latest.
    updates = [h["text"] for h in found["history"] if h["decision_kind"] == "action_updated"]
    assert [f"evidence=progress report {n}" in t for n, t in enumerate(updates[:12])] == [True] * 12
    assert found["actions"][0]["evidence"].endswith("progress report 11")
    assert rebuilt_from_query(snapshot, tmp_path) == held_by_the_case(found, snapshot)
