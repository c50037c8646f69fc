"""`sro escalation` without a server: payloads, validation before connecting, the reference
format, what is sent and how answers and refusals are shown."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

import starter.cli as cli
from gateway import refs as gateway_refs
from safeguarding.calendar import WorkingCalendar
from safeguarding.clock import uk_today
from safeguarding.escalation import (
    ESCALATION_REF_PATTERN,
    Disagreement,
    EscalateNow,
    Escalation,
    EscalationStatus,
    Resolve,
)
from safeguarding.planning import plan_deadline
from safeguarding.profiles import profile_for
from starter import common, escalations, session
from tests.gateway_fakes import fake_converter, message_name, plain
from workflows import search_attributes as sa
from workflows.escalation import EscalationInput, ProfessionalDisagreementWorkflow

#: Every test here runs on one frozen clock (tests/clock.py): `today()` and the command line's
#: own "now" are the same moment, whenever the test runs (SRO_TEST_NOW pins it).
pytestmark = pytest.mark.usefixtures("frozen_now")


def today() -> date:
    """Today in the UK, on the test's frozen clock (read when the test runs, never at import)."""
    return uk_today(datetime.now(UTC))


REF = "CSCP-ESC-2026-1A2B3C"
CASE_REF = "CSCP-2026-ABC123"
CONCERN = "Police have not shared the strategy discussion notes for Child A."
USER_ENV = {
    "SRO_USER_NAME": "Pat Practitioner",
    "SRO_USER_ROLE": "practitioner",
    "SRO_USER_AGENCY": "health",
}
RAISE = ("escalation", "raise", "--partnership", "CSCP", "--with", "police", "--concern", CONCERN)


@pytest.fixture(autouse=True)
def no_connection(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail any test that reaches Temporal unless it installs its own fake."""
    attempts: list[str] = []

    async def refuse() -> Any:
        attempts.append("connect")
        raise AssertionError("the command line connected to Temporal")

    monkeypatch.setattr(session, "connect", refuse)
    for name in USER_ENV:
        monkeypatch.delenv(name, raising=False)
    return attempts


@pytest.fixture
def as_practitioner(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in USER_ENV.items():
        monkeypatch.setenv(name, value)


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def _run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def parse(*argv: str) -> Any:
    return cli.build_parser().parse_args(list(argv))


# ---------------------------------------------------------------------- references


def test_new_refs_match_the_pattern_and_the_workflow_input() -> None:
    refs = {gateway_refs.new_escalation_ref("CSCP", 2026) for _ in range(20)}
    assert len(refs) > 1
    for ref in refs:
        assert re.match(ESCALATION_REF_PATTERN, ref)
        assert re.fullmatch(r"CSCP-ESC-2026-[0-9A-F]{6}", ref)
        EscalationInput(escalation_ref=ref, disagreement=disagreement())


def test_refs_are_normalised() -> None:
    assert common.normalise_escalation_ref(" cscp-esc-2026-1a2b3c ") == REF
    assert common.normalise_escalation_ref(f"escalation-{REF}") == REF


@pytest.mark.parametrize("text", ["CSCP-2026-1A2B3C", "CSCP-ESC-26-1A2B3C", "nonsense"])
def test_not_an_escalation_ref_exits_2(run: Run, no_connection: list[str], text: str) -> None:
    code, _, err = run("escalation", "status", text)
    assert code == 2
    assert "is not an escalation reference (like CSCP-ESC-2026-1A2B3C)" in err
    assert no_connection == []


# ---------------------------------------------------------------------- raise: the payload


def disagreement(**overrides: Any) -> Disagreement:
    data: dict[str, Any] = {
        "partnership": "CSCP",
        "raised_by": {"name": "Pat Practitioner", "role": "practitioner", "agency": "health"},
        "raised_with": "police",
        "concern": CONCERN,
        "raised_on": today().isoformat(),
    }
    data.update(overrides)
    return Disagreement.model_validate(data)


def test_disagreement_payload_takes_who_from_the_environment() -> None:
    args = parse(*RAISE, "--case", "referral-cscp-2026-abc123")
    raw = escalations.disagreement_payload(args, today(), USER_ENV)
    assert raw == {
        "partnership": "CSCP",
        "raised_by": {"name": "Pat Practitioner", "role": "practitioner", "agency": "health"},
        "raised_with": "police",
        "concern": CONCERN,
        "raised_on": today().isoformat(),
        "linked_case_ref": CASE_REF,
    }
    assert Disagreement.model_validate(raw).linked_case_ref == CASE_REF


def test_by_flags_override_the_environment() -> None:
    args = parse(
        *RAISE, "--by-name", "Mo Manager", "--by-role", "manager", "--raised-on", "2026-01-05"
    )
    raw = escalations.disagreement_payload(args, today(), USER_ENV)
    assert raw["raised_by"] == {"name": "Mo Manager", "role": "manager", "agency": "health"}
    assert raw["raised_on"] == "2026-01-05"


def test_partnership_code_is_upper_cased() -> None:
    raw = escalations.disagreement_payload(parse(*RAISE[:3], "cscp"), today(), {})
    assert raw["partnership"] == "CSCP"
    assert raw["raised_by"] == {}


# ---------------------------------------------------------------------- raise: refused input


def test_missing_fields_are_named_as_flags(run: Run, no_connection: list[str]) -> None:
    code, out, err = run("escalation", "raise")
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "error: the disagreement is not valid; nothing was started:",
        "  - --partnership: Field required",
        "  - --by-name: Field required",
        "  - --by-role: Field required",
        "  - --by-agency: Field required",
        "  - --with: Field required",
        "  - --concern: Field required",
        "  - say who with --by-name/--by-role/--by-agency "
        "(or SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY)",
    ]
    assert no_connection == []


def test_unknown_partnership_exits_2(
    run: Run, no_connection: list[str], as_practitioner: None
) -> None:
    code, _, err = run("escalation", "raise", "--partnership", "NOPE", *RAISE[4:])
    assert code == 2
    assert err.startswith(
        "error: the disagreement is not valid; nothing was started: no profile for partnership "
        "'NOPE'; known partnerships: CSCP,"
    )
    assert no_connection == []


def test_partnership_that_is_not_a_code(run: Run, as_practitioner: None) -> None:
    code, _, err = run("escalation", "raise", "--partnership", "Croydon!", *RAISE[4:])
    assert code == 2
    assert "  - --partnership: String should match pattern" in err


def test_bad_agency_is_an_argparse_error(run: Run, no_connection: list[str]) -> None:
    code, _, err = run("escalation", "raise", "--partnership", "CSCP", "--with", "fire_brigade")
    assert code == 2
    assert "argument --with: invalid choice: 'fire_brigade'" in err
    assert no_connection == []


def test_bad_role_in_the_environment(
    run: Run, monkeypatch: pytest.MonkeyPatch, as_practitioner: None
) -> None:
    monkeypatch.setenv("SRO_USER_ROLE", "superhero")
    code, _, err = run(*RAISE)
    assert code == 2
    assert "  - --by-role: Input should be 'coordinator'," in err


def test_too_long_concern_is_not_echoed(run: Run, as_practitioner: None) -> None:
    secret = "Child A " * 600
    code, _, err = run("escalation", "raise", *RAISE[2:6], "--concern", secret)
    assert code == 2
    assert "  - --concern: String should have at most 4000 characters" in err
    assert "Child A" not in err


def test_future_raised_on(run: Run, no_connection: list[str], as_practitioner: None) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    code, _, err = run(*RAISE, "--raised-on", tomorrow)
    assert code == 2
    assert err.strip() == f"error: --raised-on: {tomorrow} is in the future"
    assert no_connection == []


def test_case_must_be_a_case_ref(run: Run, as_practitioner: None) -> None:
    code, _, err = run(*RAISE, "--case", "Child A")
    assert code == 2
    assert "is not a case reference (like LSCP-2026-1A2B3C)" in err


def test_case_of_another_partnership(
    run: Run, no_connection: list[str], as_practitioner: None
) -> None:
    code, _, err = run(*RAISE, "--case", "LSCP-2026-ABC123")
    assert code == 2
    assert err.strip() == (
        "error: --case LSCP-2026-ABC123 belongs to LSCP, not CSCP; raise the escalation under "
        "the case's partnership"
    )
    assert no_connection == []


def test_raise_dry_run(run: Run, no_connection: list[str], as_practitioner: None) -> None:
    code, out, _ = run(*RAISE, "--case", CASE_REF, "--dry-run", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["started"] is False
    assert Disagreement.model_validate(body["disagreement"]) == disagreement(
        linked_case_ref=CASE_REF
    )
    assert no_connection == []


def test_stage_one_hint_uses_the_profile_and_working_days() -> None:
    settings = profile_for("CSCP")
    christmas_eve = date(2026, 12, 24)  # Christmas Day, a weekend, Boxing Day (substitute 28th)
    text, due = escalations.stage_one_hint(settings, christmas_eve)
    assert due == WorkingCalendar().add_working_days(christmas_eve, 2) == date(2026, 12, 30)
    assert text == (
        "Stage 1: Practitioner to practitioner (the practitioners), to be resolved within 2 "
        "working days: by 2026-12-30. Unresolved by then, it moves to stage 2 (Line managers) "
        "by itself."
    )


# ---------------------------------------------------------------------- a fake Temporal


def rpc_error(message: str, status: RPCStatusCode = RPCStatusCode.NOT_FOUND) -> RPCError:
    return RPCError(message, status, b"")


class FakeHandle:
    def __init__(
        self,
        workflow_id: str,
        outcome: Any = None,
        described: Any = None,
        status: WorkflowExecutionStatus = WorkflowExecutionStatus.RUNNING,
    ) -> None:
        self.id = workflow_id
        self.result_run_id = "run-1"
        self.outcome = outcome
        self.described = described
        self.status = status
        self.updates: list[tuple[str, Any, str]] = []
        self.signals: list[tuple[str, Any]] = []
        self.queries: list[str] = []

    def _answer(self) -> Any:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    async def execute_update(self, update: Any, arg: Any, *, id: str, **_: Any) -> Any:
        self.updates.append((message_name(update), plain(arg), id))
        return self._answer()

    async def signal(self, signal: Any, arg: Any, **_: Any) -> None:
        self.signals.append((message_name(signal), plain(arg)))
        self._answer()

    async def query(self, query: Any, **_: Any) -> Any:
        self.queries.append(message_name(query))
        return self._answer()

    async def describe(self) -> Any:
        if isinstance(self.described, BaseException):
            raise self.described
        return SimpleNamespace(status=self.status)


class FakeClient:
    def __init__(self) -> None:
        self.handles: dict[str, FakeHandle] = {}
        self.started: list[dict[str, Any]] = []
        self.queries: list[str] = []
        self.executions: list[Any] = []

    def handle(self, workflow_id: str, **kwargs: Any) -> FakeHandle:
        self.handles[workflow_id] = FakeHandle(workflow_id, **kwargs)
        return self.handles[workflow_id]

    data_converter = fake_converter()

    def get_workflow_handle_for(self, _run: Any, workflow_id: str) -> FakeHandle:
        return self.get_workflow_handle(workflow_id)

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        return self.handles.setdefault(workflow_id, FakeHandle(workflow_id))

    async def start_workflow(self, run: Any, arg: Any, **kwargs: Any) -> FakeHandle:
        self.started.append({"run": run, "arg": arg, **kwargs})
        return FakeHandle(kwargs["id"])

    async def list_workflows(self, query: str, **_: Any) -> AsyncIterator[Any]:
        self.queries.append(query)
        for execution in self.executions:
            yield execution


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, as_practitioner: None) -> FakeClient:
    client = FakeClient()

    async def connect() -> FakeClient:
        return client

    monkeypatch.setattr(session, "connect", connect)
    return client


# ---------------------------------------------------------------------- raise: what is started


def test_raise_starts_the_workflow_without_personal_data(run: Run, server: FakeClient) -> None:
    code, out, err = run(*RAISE, "--case", CASE_REF.lower())
    assert (code, err) == (0, "")
    (started,) = server.started
    arg = started["arg"]
    assert isinstance(arg, EscalationInput)
    ref = arg.escalation_ref
    assert re.fullmatch(rf"CSCP-ESC-{today().year}-[0-9A-F]{{6}}", ref)
    assert arg.disagreement == disagreement(linked_case_ref=CASE_REF)
    assert started["run"] == ProfessionalDisagreementWorkflow.run
    assert started["id"] == f"escalation-{ref}"
    assert started["task_queue"] == "safeguarding-reviews"
    assert started["static_summary"] == f"Escalation {ref} — CSCP"
    for text in (started["static_summary"], started["static_details"]):
        assert "Child A" not in text and "Pat" not in text and CONCERN not in text
    attrs: TypedSearchAttributes = started["search_attributes"]
    assert attrs.get(sa.PARTNERSHIP) == "CSCP"
    assert attrs.get(sa.ESCALATION_STAGE) == 1
    # The linked case was looked up first.
    assert f"referral-{CASE_REF}" in server.handles

    assert out.splitlines()[0] == f"Escalation {ref} raised for CSCP with Police."
    assert "Stage 1: Practitioner to practitioner (the practitioners)" in out
    assert "is told if it reaches stage 3" in out
    assert CONCERN not in out


def test_raise_json(run: Run, server: FakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRO_TASK_QUEUE", "elsewhere")
    code, out, _ = run(*RAISE, "--json")
    assert code == 0
    body = json.loads(out)
    assert re.match(ESCALATION_REF_PATTERN, body["escalation_ref"])
    assert body["workflow_id"] == f"escalation-{body['escalation_ref']}"
    assert body["task_queue"] == "elsewhere"
    assert (body["stage"], body["stage_name"]) == (1, "Practitioner to practitioner")
    assert body["expected_due_on"] > today().isoformat()
    assert body["linked_case_ref"] is None


def test_raise_with_an_unknown_case_starts_nothing(run: Run, server: FakeClient) -> None:
    server.handle(f"referral-{CASE_REF}", described=rpc_error("workflow not found"))
    code, _, err = run(*RAISE, "--case", CASE_REF)
    assert code == 2
    assert err.strip() == (
        f"error: --case: no case {CASE_REF} (no workflow referral-{CASE_REF}); nothing was started"
    )
    assert server.started == []


# ---------------------------------------------------------------------- resolve / escalate


def test_decision_payloads() -> None:
    args = parse("escalation", "resolve", REF, "--outcome", "Notes shared")
    body = escalations.escalation_decision_payload(args, USER_ENV)
    assert body["decision_id"].startswith("cli-")
    assert Resolve.model_validate(body).by.name == "Pat Practitioner"

    args = parse(
        "escalation", "escalate", REF, "--reason", "No reply", "--by-role", "manager",
        "--decision-id", "e-1",
    )  # fmt: skip
    body = escalations.escalation_decision_payload(args, USER_ENV)
    assert body == {
        "action": "escalate",
        "decision_id": "e-1",
        "by": {"name": "Pat Practitioner", "role": "manager", "agency": "health"},
        "reason": "No reply",
    }
    assert isinstance(EscalateNow.model_validate(body), EscalateNow)


def test_decision_ids_are_fresh() -> None:
    args = parse("escalation", "resolve", REF, "--outcome", "x")
    ids = {escalations.escalation_decision_payload(args, USER_ENV)["decision_id"] for _ in range(3)}
    assert len(ids) == 3


def test_invalid_decision_exits_2_without_connecting(run: Run, no_connection: list[str]) -> None:
    code, out, err = run(
        "escalation", "escalate", REF, "--by-name", "Mo", "--decision-id", "has space"
    )
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "error: the escalate decision is not valid; nothing was sent:",
        "  - --decision-id: String should match pattern '^[A-Za-z0-9][A-Za-z0-9._:-]*$'",
        "  - --by-role: Field required",
        "  - --by-agency: Field required",
        "  - --reason: Field required",
        "  - say who with --by-name/--by-role/--by-agency "
        "(or SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY)",
    ]
    assert no_connection == []


def test_decision_dry_run(run: Run, no_connection: list[str], as_practitioner: None) -> None:
    code, out, _ = run("escalation", "resolve", REF, "--outcome", "Agreed", "--dry-run", "--json")
    assert code == 0
    body = json.loads(out)
    assert (body["escalation_ref"], body["sent"]) == (REF, False)
    assert body["decision"]["outcome"] == "Agreed"
    assert no_connection == []


def escalation_status(stages: int = 1, resolved: bool = False) -> EscalationStatus:
    """A real status from the domain rules: Croydon, moved up to `stages`."""
    settings = profile_for("CSCP")
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    calendar = WorkingCalendar(settings.closure_days)
    found = disagreement(linked_case_ref=CASE_REF)
    escalation, request, _ = Escalation.open(REF, found, settings, now)
    while True:
        if request is not None:
            escalation.set_plan(plan_deadline(request, settings, calendar))
        if escalation.current.stage >= stages:
            break
        now += timedelta(hours=1)
        decision = EscalateNow(
            decision_id=f"e{escalation.current.stage}", by=found.raised_by, reason="No reply"
        )
        request, _ = escalation.apply(decision, now)
    if resolved:
        decision_ = Resolve(decision_id="r", by=found.raised_by, outcome="Notes shared")
        escalation.apply(decision_, now + timedelta(hours=1))
    return escalation.status()


def test_escalate_prints_the_new_stage(run: Run, server: FakeClient) -> None:
    handle = server.handle(f"escalation-{REF}", outcome=escalation_status(stages=3))
    code, out, _ = run("escalation", "escalate", REF.lower(), "--reason", "No reply")
    assert code == 0
    name, body, update_id = handle.updates[0]
    assert (name, update_id) == ("decide", body["decision_id"])
    assert body["action"] == "escalate"
    lines = out.splitlines()
    assert lines[0].startswith(
        f"Escalation {REF} is now at stage 3: Safeguarding leads (named or designated "
        "safeguarding leads), formal; to be resolved by 2026-"
    )
    assert lines[1] == (
        "  Croydon Safeguarding Children Partnership has been told; Safeguarding Practice Review "
        "Group (SPRG) oversees it."
    )
    assert lines[2] == f"  decision id: {body['decision_id']}"


def test_resolve_prints_resolved(run: Run, server: FakeClient) -> None:
    handle = server.handle(f"escalation-{REF}", outcome=escalation_status(2, resolved=True))
    code, out, _ = run("escalation", "resolve", REF, "--outcome", "Notes shared", "--json")
    assert code == 0
    assert json.loads(out)["resolved"] is True
    code, out, _ = run("escalation", "resolve", REF, "--outcome", "Notes shared")
    assert out.splitlines()[0] == f"Escalation {REF} resolved at stage 2 (Line managers)."
    assert len(handle.updates) == 2


def test_refusal_prints_type_and_message(run: Run, server: FakeClient) -> None:
    refusal = ApplicationError("the escalation is already resolved", type="WrongStage")
    server.handle(f"escalation-{REF}", outcome=WorkflowUpdateFailedError(refusal))
    code, out, err = run("escalation", "resolve", REF, "--outcome", "Again")
    assert code == 2
    assert out == ""
    assert err == "refused (WrongStage): the escalation is already resolved\n"


def test_a_closed_escalation_refuses(run: Run, server: FakeClient) -> None:
    closed = rpc_error("workflow execution already completed")
    server.handle(f"escalation-{REF}", outcome=closed, status=WorkflowExecutionStatus.COMPLETED)
    code, _, err = run("escalation", "resolve", REF, "--outcome", "Again")
    assert code == 2
    assert err == "refused (WrongStage): the escalation is already resolved\n"

    server.handle(f"escalation-{REF}", outcome=closed, status=WorkflowExecutionStatus.TERMINATED)
    code, _, err = run("escalation", "escalate", REF, "--reason", "Again", "--signal")
    assert code == 2
    assert err == (
        f"refused (Closed): escalation {REF} has ended (terminated); it takes no more decisions\n"
    )


def test_unknown_escalation_exits_2(run: Run, server: FakeClient) -> None:
    server.handle(f"escalation-{REF}", outcome=rpc_error("workflow not found"))
    code, _, err = run("escalation", "escalate", REF, "--reason", "x")
    assert code == 2
    assert err.strip() == f"error: no escalation {REF} (no workflow escalation-{REF})"


def test_signal_is_fire_and_forget(run: Run, server: FakeClient) -> None:
    handle = server.handle(f"escalation-{REF}")
    code, out, _ = run("escalation", "resolve", REF, "--outcome", "x", "--signal")
    assert code == 0
    assert handle.updates == []
    assert handle.signals[0][0] == "decision"
    assert handle.signals[0][1]["action"] == "resolve"
    assert "the refusal shows in its history" in out


# ---------------------------------------------------------------------- status


def test_render_status_open() -> None:
    lines = escalations.render_escalation(escalation_status(stages=3))
    text = "\n".join(lines)
    assert lines[0] == f"Escalation {REF} — Croydon Safeguarding Children Partnership"
    assert "  Stage:                3, Safeguarding leads (formal)" in lines
    assert "  With:                 named or designated safeguarding leads" in lines
    assert "  State:                open" in lines
    assert any(re.fullmatch(r"  Due:                  2026-\d\d-\d\d", line) for line in lines)
    assert "  Raised by:            Pat Practitioner (practitioner, Health (ICB))" in lines
    assert "  Partnership notified: yes" in lines
    assert "  Overseen by:          Safeguarding Practice Review Group (SPRG)" in lines
    assert f"  Linked case:          {CASE_REF}" in lines
    stages = lines[lines.index("Stages") + 1 : lines.index("History") - 1]
    assert stages[0].split() == ["STAGE", "NAME", "FORMAL", "WHO", "ENTERED", "DUE", "LEFT", "WHY"]
    assert stages[1].split()[:5] == ["1", "Practitioner", "to", "practitioner", "informal"]
    assert stages[1].endswith("escalated")
    assert stages[3].split()[0] == "3" and stages[3].endswith("-")
    assert "Partnership notified (CSCP Business Manager;" in text
    assert CONCERN not in text


def test_render_status_resolved() -> None:
    lines = escalations.render_escalation(escalation_status(stages=1, resolved=True))
    assert "  State:                resolved at stage 1" in lines
    assert "  Resolution:           Notes shared" in lines
    assert not any(line.startswith("  Due:") for line in lines)


def test_status_json(run: Run, server: FakeClient) -> None:
    status = escalation_status(stages=2)
    handle = server.handle(f"escalation-{REF}", outcome=status)
    code, out, _ = run("escalation", "status", REF, "--json")
    assert code == 0
    assert EscalationStatus.model_validate_json(out) == status
    assert handle.queries == ["status"]


# ---------------------------------------------------------------------- list


def test_visibility_query() -> None:
    assert gateway_refs.escalation_visibility_query() == (
        "WorkflowType = 'ProfessionalDisagreementWorkflow' AND ExecutionStatus = 'Running'"
    )
    assert gateway_refs.escalation_visibility_query(
        partnership="CSCP", min_stage=3, include_closed=True
    ) == (
        "WorkflowType = 'ProfessionalDisagreementWorkflow' AND Partnership = 'CSCP' "
        "AND EscalationStage >= 3"
    )


def test_oversight_needs_a_partnership(run: Run, no_connection: list[str]) -> None:
    code, _, err = run("escalation", "list", "--oversight")
    assert code == 2
    assert err.strip() == (
        "error: --oversight needs --partnership CODE: the threshold stage is the partnership's"
    )
    code, _, err = run("escalation", "list", "--oversight", "--partnership", "NOPE")
    assert code == 2
    assert "error: --partnership: no profile for partnership 'NOPE'" in err
    code, _, err = run("escalation", "list", "--partnership", "no'pe")
    assert code == 2
    assert err.strip() == 'error: --partnership: not a partnership code: "NO\'PE"'
    assert no_connection == []


def execution(ref: str, stage: int, status: WorkflowExecutionStatus) -> Any:
    return SimpleNamespace(
        id=f"escalation-{ref}",
        status=status,
        start_time=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        close_time=None,
        typed_search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.PARTNERSHIP, "CSCP"),
                SearchAttributePair(sa.ESCALATION_STAGE, stage),
            ]
        ),
    )


def test_oversight_uses_the_profile_threshold(run: Run, server: FakeClient) -> None:
    server.executions = [
        execution(REF, 3, WorkflowExecutionStatus.RUNNING),
        execution("CSCP-ESC-2026-FFFFFF", 4, WorkflowExecutionStatus.RUNNING),
    ]
    code, out, _ = run("escalation", "list", "--partnership", "cscp", "--oversight")
    assert code == 0
    threshold = profile_for("CSCP").escalation_policy.partnership_notified_from_stage
    assert server.queries == [
        "WorkflowType = 'ProfessionalDisagreementWorkflow' AND ExecutionStatus = 'Running' "
        f"AND Partnership = 'CSCP' AND EscalationStage >= {threshold}"
    ]
    assert out.splitlines() == [
        "Escalations Safeguarding Practice Review Group (SPRG) oversees: stage 3 and above "
        "(Croydon Safeguarding Children Partnership)",
        "ESCALATION            STAGE  PARTNERSHIP  RAISED",
        "CSCP-ESC-2026-FFFFFF  4      CSCP         2026-11-23 09:30",
        "CSCP-ESC-2026-1A2B3C  3      CSCP         2026-11-23 09:30",
        "2 escalations",
    ]


def test_list_json_and_all(run: Run, server: FakeClient) -> None:
    server.executions = [execution(REF, 2, WorkflowExecutionStatus.COMPLETED)]
    code, out, _ = run("escalation", "list", "--all", "--json")
    assert code == 0
    assert server.queries == ["WorkflowType = 'ProfessionalDisagreementWorkflow'"]
    (row,) = json.loads(out)
    assert row == {
        "escalation_ref": REF,
        "workflow_id": f"escalation-{REF}",
        "status": "COMPLETED",
        "stage": 2,
        "partnership": "CSCP",
        "started_at": "2026-11-23T09:30:00+00:00",
        "closed_at": None,
    }


def test_list_nothing(run: Run, server: FakeClient) -> None:
    code, out, _ = run("escalation", "list")
    assert code == 0
    assert out == "No open escalations match (--all includes resolved ones).\n"
