"""The professional-disagreement workflow on the time-skipping test server: stages climb on
time, the partnership is told at its threshold, resolution ends it, refusals and signals, and the
linked referral case is told."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities import ALL_ACTIVITIES
from gateway.connection import data_converter
from safeguarding.calendar import WorkingCalendar
from safeguarding.case import CaseStatus, HistoryKind
from safeguarding.clock import uk_moment, uk_today
from safeguarding.decisions import Person
from safeguarding.escalation import Disagreement, EscalationStatus
from safeguarding.profiles import profile_for
from safeguarding.vocabulary import Agency, Role
from tests.factories import eventually as eventually_true
from tests.factories import opened_status, referral
from workflows.escalation import (
    EscalationInput,
    EscalationResult,
    ProfessionalDisagreementWorkflow,
    escalation_workflow_id,
)
from workflows.referral import (
    ReferralInput,
    ReferralOptions,
    ReferralWorkflow,
    workflow_id,
)

Handle = WorkflowHandle[Any, Any]

TEACHER = Person(name="Tia Teacher", role=Role.PRACTITIONER, agency=Agency.EDUCATION)
SOCIAL_WORKER = Person(
    name="Sol Worker", role=Role.PRACTITIONER, agency=Agency.CHILDRENS_SOCIAL_CARE
)
MANAGER = Person(name="Max Manager", role=Role.MANAGER, agency=Agency.EDUCATION)
CONCERN = "Disagree with closing the case of Kayden-Lee Example at 4 Elm Row."


class Escalations:
    """Starts escalations (and referral cases) on a queue of their own; terminates what is left
    open, since open workflows would hold the shared test server's clock."""

    def __init__(self, env: WorkflowEnvironment, queue: str, outbox: Path) -> None:
        self.env = env
        self.queue = queue
        self.outbox = outbox
        self.started: list[Handle] = []

    async def terminate_open(self) -> None:
        for handle in self.started:
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def today(self) -> date:
        return uk_today(await self.now())

    async def start(self, partnership: str = "CSCP", **overrides: Any) -> tuple[str, Handle]:
        ref = f"{partnership}-ESC-2026-{uuid.uuid4().hex[:6].upper()}"
        fields: dict[str, Any] = {
            "partnership": partnership,
            "raised_by": TEACHER.model_dump(mode="json"),
            "raised_with": "childrens_social_care",
            "concern": CONCERN,
        }
        fields.update(overrides)
        handle = await self.env.client.start_workflow(
            ProfessionalDisagreementWorkflow.run,
            EscalationInput(
                escalation_ref=ref,
                disagreement=Disagreement.model_validate(fields),
                search_attributes=False,
            ),
            id=escalation_workflow_id(ref),
            task_queue=self.queue,
        )
        self.started.append(handle)
        # Opened: its settings loaded and stage 1's time limit planned. The status answers as
        # soon as the settings are in, while the plan (an activity) may still be on its way on
        # a busy machine: wait for it where stage 1 has a time limit.
        timed = profile_for(partnership).escalation_policy.stage(1).working_days is not None
        await eventually_true(
            lambda: status(handle),
            lambda state: state.stages[-1].expires_at is not None or not timed,
            what="stage 1 planned",
        )
        return ref, handle

    async def start_case(self, partnership: str = "CSCP") -> tuple[str, Handle]:
        case_ref = f"{partnership}-2026-{uuid.uuid4().hex[:6].upper()}"
        handle = await self.env.client.start_workflow(
            ReferralWorkflow.run,
            ReferralInput(
                case_ref=case_ref,
                referral=referral(await self.today(), partnership=partnership),
                options=ReferralOptions(search_attributes=False),
            ),
            id=workflow_id(case_ref),
            task_queue=self.queue,
        )
        self.started.append(handle)
        return case_ref, handle

    async def sleep_past(self, moment: datetime, by: timedelta = timedelta(minutes=1)) -> None:
        """Skip the test server's clock to just after `moment` (a request the server leaves
        unanswered is asked again by the shared skip, `tests/conftest.py` `_skip`)."""
        now = await self.now()
        if now < moment + by:
            await self.env.sleep(moment + by - now)

    async def sent_eventually(self, ref: str, expected: list[str]) -> list[str]:
        """Notices go out in the background: wait until these are in the outbox (the caller's
        assert shows what was there if they never all arrive)."""

        async def arrived() -> bool:
            return self.sent(ref) == expected

        with contextlib.suppress(AssertionError):
            await eventually_true(arrived, what=f"{ref}'s notices")
        return self.sent(ref)

    def sent(self, ref: str) -> list[str]:
        """The notices in the outbox for this escalation, by what follows the reference."""
        prefix = f"{ref}_"
        if not self.outbox.exists():
            return []
        return sorted(
            p.name.removeprefix(prefix).split(".")[0]
            for p in self.outbox.iterdir()
            if p.name.startswith(prefix)
        )


@pytest_asyncio.fixture
async def escalations(
    time_skipping_env: WorkflowEnvironment, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Escalations]:
    monkeypatch.delenv("SRO_PROFILES", raising=False)
    monkeypatch.delenv("SRO_SMTP_HOST", raising=False)
    queue = f"test-esc-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[ReferralWorkflow, ProfessionalDisagreementWorkflow],
        activities=ALL_ACTIVITIES,
    ):
        started = Escalations(time_skipping_env, queue, outbox)
        yield started
        await started.terminate_open()


async def status(handle: Handle) -> EscalationStatus:
    """The escalation's status, once it has opened."""
    return await opened_status(handle, EscalationStatus)


async def case_status(handle: Handle) -> CaseStatus:
    return await opened_status(handle, CaseStatus)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Signals and external signals are fire-and-forget: wait until their effect shows."""
    await eventually_true(check, what=f"never happened: {what}", every=0.025)


def decision(action: str, by: Person, decision_id: str | None = None, **fields: Any) -> Any:
    return {
        "action": action,
        "decision_id": decision_id or f"{action}-{uuid.uuid4().hex[:8]}",
        "by": by.model_dump(mode="json"),
        **fields,
    }


async def decide(handle: Handle, action: str, by: Person, **fields: Any) -> EscalationStatus:
    result: EscalationStatus = await handle.execute_update(
        "decide", decision(action, by, **fields), result_type=EscalationStatus
    )
    return result


async def refused(handle: Handle, raw: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update("decide", raw, result_type=EscalationStatus)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


def texts(state: EscalationStatus) -> list[str]:
    return [e.text for e in state.history]


# --------------------------------------------------------------------------- climbing on time


async def test_croydon_escalation_climbs_on_time_and_tells_the_partnership_at_stage_3(
    escalations: Escalations,
) -> None:
    croydon = profile_for("CSCP").escalation_policy
    calendar = WorkingCalendar(profile_for("CSCP").closure_days)
    ref, handle = await escalations.start()
    state = await status(handle)
    assert (state.stage, state.stage_name, state.formal) == (
        1,
        "Practitioner to practitioner",
        False,
    )
    assert not state.partnership_notified
    assert await escalations.sent_eventually(ref, ["stage-1"]) == ["stage-1"]

    for number in (2, 3, 4, 5):
        previous = state.stages[-1]
        assert previous.expires_at is not None and previous.due_on is not None
        # The previous stage's time ran to the end of its due day, UK time.
        assert previous.expires_at == uk_moment(previous.due_on + timedelta(days=1), time(0))
        await escalations.sleep_past(previous.expires_at - timedelta(minutes=2))
        assert (await status(handle)).stage == number - 1  # not a minute early
        await escalations.sleep_past(previous.expires_at)
        state = await status(handle)
        assert state.stage == number, f"stage {number} was not reached on time"
        current, left = state.stages[-1], state.stages[-2]
        assert left.left_because == "timed_out"
        assert abs(current.entered_at - previous.expires_at) < timedelta(seconds=1)
        assert abs(left.left_at - previous.expires_at) < timedelta(seconds=1)  # type: ignore[operator]
        policy_stage = croydon.stage(number)
        assert (current.name, current.formal) == (policy_stage.name, policy_stage.formal)
        if policy_stage.working_days is None:
            assert current.due_on is None and current.expires_at is None
        else:
            # The stage's working days count from the day it began, on the working calendar.
            began = uk_today(current.entered_at)
            assert current.due_on == calendar.add_working_days(began, policy_stage.working_days)
        assert state.partnership_notified is (number >= 3)
        expected = [f"stage-{n}" for n in range(1, number + 1)]
        if number >= 3:
            expected.append("partnership")
        assert await escalations.sent_eventually(ref, sorted(expected)) == sorted(expected)

    assert (
        "Partnership notified (CSCP Business Manager; Safeguarding Practice Review Group "
        "(SPRG))" in texts(state)
    )
    # The last stage has no time limit: nothing moves however long it waits.
    await escalations.env.sleep(timedelta(days=60))
    assert (await status(handle)).stage == 5
    assert len(escalations.sent(ref)) == 6

    final = await decide(handle, "resolve", MANAGER, outcome="The Executive agreed a plan.")
    assert final.resolved and final.stage == 5
    result: EscalationResult = await handle.result()
    assert result == EscalationResult(
        escalation_ref=ref, resolved_at_stage=5, reached_partnership=True
    )


async def test_resolution_stops_the_climb_and_completes_the_workflow(
    escalations: Escalations,
) -> None:
    ref, handle = await escalations.start()
    first = (await status(handle)).stages[0]
    assert first.expires_at is not None
    await escalations.sleep_past(first.expires_at)
    assert (await status(handle)).stage == 2

    resolved = await decide(
        handle, "resolve", SOCIAL_WORKER, decision_id="r1", outcome="Agreed a joint visit."
    )
    assert resolved.resolved and resolved.stage == 2
    assert resolved.resolution == "Agreed a joint visit."
    assert resolved.stages[-1].left_because == "resolved"
    result = await handle.result()
    assert isinstance(result, EscalationResult)
    assert (result.resolved_at_stage, result.reached_partnership) == (2, False)
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    # Long after stage 2's time would have run out, nobody else was told.
    await escalations.env.sleep(timedelta(days=30))
    assert await escalations.sent_eventually(ref, ["stage-1", "stage-2"]) == ["stage-1", "stage-2"]
    final = await status(handle)
    assert final.stage == 2 and final.resolved


async def test_escalate_now_by_update(escalations: Escalations) -> None:
    ref, handle = await escalations.start()
    state = await decide(handle, "escalate", TEACHER, reason="No reply from CSC.")
    assert state.stage == 2
    state = await decide(handle, "escalate", MANAGER, reason="Managers disagree too.")
    assert state.stage == 3 and state.partnership_notified
    assert await escalations.sent_eventually(
        ref, ["partnership", "stage-1", "stage-2", "stage-3"]
    ) == ["partnership", "stage-1", "stage-2", "stage-3"]
    assert state.stages[0].left_because == state.stages[1].left_because == "escalated"
    await decide(handle, "resolve", SOCIAL_WORKER, outcome="Agreed.")
    result = await handle.result()
    assert (result.resolved_at_stage, result.reached_partnership) == (3, True)


# --------------------------------------------------------------------------- refusals


async def test_escalating_the_last_stage_is_refused(escalations: Escalations) -> None:
    _, handle = await escalations.start()
    for _ in range(4):
        await decide(handle, "escalate", MANAGER, reason="Still unresolved.")
    before = await status(handle)
    assert before.stage == 5
    cause = await refused(handle, decision("escalate", MANAGER, reason="Higher, please."))
    assert cause.type == "WrongStage"
    assert cause.message == "stage 5 (CSCP Executive) is the policy's last stage"
    after = await status(handle)
    assert after.stages == before.stages and after.history == before.history


async def test_a_decision_after_resolution_is_refused(escalations: Escalations) -> None:
    _, handle = await escalations.start()
    await decide(handle, "resolve", SOCIAL_WORKER, decision_id="r1", outcome="Agreed.")
    await handle.result()
    # Resolved and finished: an escalation is refused, and nothing changes.
    with pytest.raises((WorkflowUpdateFailedError, RPCError)) as failed:
        await handle.execute_update(
            "decide",
            decision("escalate", TEACHER, reason="Not happy."),
            result_type=EscalationStatus,
        )
    if isinstance(failed.value, WorkflowUpdateFailedError):
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.type == "WrongStage"
    final = await status(handle)
    assert final.resolved and final.stage == 1


async def test_invalid_and_conflicting_decisions_are_refused(escalations: Escalations) -> None:
    _, handle = await escalations.start()
    cause = await refused(handle, {"action": "resolve", "decision_id": "r1"})
    assert cause.type == "InvalidDecision"
    assert "by: Field required" in cause.message and "outcome: Field required" in cause.message
    cause = await refused(handle, {"action": "withdraw"})
    assert cause.type == "InvalidDecision"
    await decide(handle, "escalate", TEACHER, decision_id="x1", reason="No reply.")
    # A re-sent decision applies once.
    again = await decide(handle, "escalate", TEACHER, decision_id="x1", reason="No reply.")
    assert again.stage == 2
    # The same id for another action is a conflict.
    cause = await refused(handle, decision("resolve", SOCIAL_WORKER, "x1", outcome="Agreed."))
    assert cause.type == "Conflict"
    state = await status(handle)
    assert state.stage == 2 and not state.resolved
    assert [e.decision_id for e in state.history if e.decision_id] == ["x1"]


# --------------------------------------------------------------------------- signals


async def test_signals_apply_and_record_refusals(escalations: Escalations) -> None:
    ref, handle = await escalations.start()
    await handle.signal("decision", {"action": "escalate", "decision_id": "s0"})
    escalate = decision("escalate", TEACHER, "s1", reason="No reply from CSC.")
    await handle.signal("decision", escalate)
    await handle.signal("decision", escalate)  # a re-send applies once
    await handle.signal("decision", decision("resolve", SOCIAL_WORKER, "s1", outcome="x"))

    async def handled() -> bool:
        state = await status(handle)
        return len([t for t in texts(state) if t.startswith("Refused: ")]) == 2

    await eventually(handled, "the signals were handled")
    state = await status(handle)
    assert state.stage == 2 and not state.resolved
    refusals = [t for t in texts(state) if t.startswith("Refused: ")]
    assert "by: Field required" in refusals[0] and "reason: Field required" in refusals[0]
    assert "already used to escalate" in refusals[1]
    assert [e.decision_id for e in state.history if e.decision_id] == ["s1"]
    assert await escalations.sent_eventually(ref, ["stage-1", "stage-2"]) == ["stage-1", "stage-2"]

    await handle.signal("decision", decision("resolve", SOCIAL_WORKER, "s2", outcome="Agreed."))
    result = await handle.result()
    assert result.resolved_at_stage == 2


async def test_a_signal_after_the_last_stage_is_recorded_as_refused(
    escalations: Escalations,
) -> None:
    _, handle = await escalations.start()
    for _ in range(4):
        await decide(handle, "escalate", MANAGER, reason="Still unresolved.")
    await handle.signal("decision", decision("escalate", MANAGER, reason="Higher."))

    async def recorded() -> bool:
        return "Refused: stage 5 (CSCP Executive) is the policy's last stage" in texts(
            await status(handle)
        )

    await eventually(recorded, "the refusal was recorded")
    assert (await status(handle)).stage == 5


# --------------------------------------------------------------------------- the linked case


async def test_a_linked_case_is_told_when_raised_and_resolved(escalations: Escalations) -> None:
    case_ref, case = await escalations.start_case()
    await case_status(case)
    ref, handle = await escalations.start(linked_case_ref=case_ref)

    async def told(text: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            notes = [
                e.text for e in (await case_status(case)).history if e.kind is HistoryKind.NOTICE
            ]
            # Each note names its sender: the escalation's workflow id.
            return f"{text} (from escalation-{ref})" in notes

        return check

    await eventually(await told(f"Professional disagreement {ref} raised"), "case told of it")
    state = await status(handle)
    assert state.linked_case_ref == case_ref
    assert not [t for t in texts(state) if t.startswith("Could not tell")]
    await decide(handle, "escalate", TEACHER, reason="No reply.")
    await decide(handle, "resolve", SOCIAL_WORKER, outcome="Agreed.")
    await handle.result()
    await eventually(
        await told(f"Professional disagreement {ref} resolved at stage 2"), "case told of it"
    )
    # The case's history holds the references only, never the concern.
    case_state = await case_status(case)
    assert not [e for e in case_state.history if "Kayden" in e.text or "Elm Row" in e.text]
    # The case itself goes on.
    assert (await case.describe()).status is WorkflowExecutionStatus.RUNNING


async def test_a_link_to_a_missing_case_is_noted_and_does_not_fail_it(
    escalations: Escalations,
) -> None:
    missing = "CSCP-2026-FFFFFF"
    ref, handle = await escalations.start(linked_case_ref=missing)

    async def noted() -> bool:
        return any(
            t.startswith(f"Could not tell case {missing}") for t in texts(await status(handle))
        )

    await eventually(noted, "the failed link was noted")
    state = await status(handle)
    assert state.stage == 1 and not state.resolved
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    # It escalates and resolves as usual.
    await decide(handle, "escalate", TEACHER, reason="No reply.")
    await decide(handle, "resolve", SOCIAL_WORKER, outcome="Agreed.")
    result = await handle.result()
    assert result == EscalationResult(
        escalation_ref=ref, resolved_at_stage=2, reached_partnership=False
    )
    assert len([t for t in texts(await status(handle)) if t.startswith("Could not tell case")]) == 2


# --------------------------------------------------------------------------- replay


async def test_history_replays_with_current_code(escalations: Escalations) -> None:
    case_ref, _ = await escalations.start_case()
    _, handle = await escalations.start(linked_case_ref=case_ref)
    first = (await status(handle)).stages[0]
    assert first.expires_at is not None
    await escalations.sleep_past(first.expires_at)
    await decide(handle, "escalate", TEACHER, reason="No reply.")
    await decide(handle, "resolve", SOCIAL_WORKER, outcome="Agreed.")
    await handle.result()
    await Replayer(
        workflows=[ProfessionalDisagreementWorkflow],
        data_converter=data_converter(seal_cases=False),
    ).replay_workflow(await handle.fetch_history())


# --------------------------------------------------------------------------- issue 13, item 12


async def test_the_escalation_writes_itself_to_the_register(escalations: Escalations) -> None:
    from register import crud, db

    ref, handle = await escalations.start()
    await decide(handle, "escalate", MANAGER, reason="No agreement between practitioners")
    await decide(handle, "escalate", MANAGER, reason="No agreement between managers")
    await decide(handle, "resolve", SOCIAL_WORKER, outcome="Strategy discussion reconvened")
    await handle.result()  # it ends only once the register holds it as it ended

    with db.session() as session:
        ours = crud.table("escalations").c.escalation_ref == ref
        (row,) = crud.rows(session, "escalations", ours)
        its_stages = crud.table("escalation_stages").c.escalation_ref == ref
        stages = crud.rows(session, "escalation_stages", its_stages)
    assert (row["partnership"], row["stage"], row["oversight_from_stage"]) == ("CSCP", 3, 3)
    assert row["overseen"] and row["resolved_at"] is not None
    assert row["resolved_by_name"] == SOCIAL_WORKER.name
    assert [(s["stage"], s["left_because"]) for s in stages] == [
        (1, "escalated"),
        (2, "escalated"),
        (3, "resolved"),
    ]
    assert CONCERN not in str(row) + str(stages)  # never the concern
