"""The command line without a server: parsing, validation before connecting, output shapes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

import starter.cli as cli
from gateway import refs as gateway_refs
from safeguarding.calendar import WorkingCalendar
from safeguarding.case import Case, DecisionResult, HistoryKind
from safeguarding.clock import uk_today
from safeguarding.decisions import DECISION_MODELS, parse_decision
from safeguarding.planning import plan_deadline
from safeguarding.profiles import profile_for
from safeguarding.vocabulary import DecisionKind, Stage
from starter import case_status, cases, session
from starter import flags as cli_flags
from tests.factories import CHAIR, decision, referral, sample_fields, triage_participants
from tests.gateway_fakes import fake_converter, message_name, plain

#: Every test here runs on one frozen clock (tests/clock.py): `today()` and the command line's
#: own "now" are the same moment, whenever the test runs (SRO_TEST_NOW pins it).
pytestmark = pytest.mark.usefixtures("frozen_now")


def today() -> date:
    """Today in the UK, on the test's frozen clock (read when the test runs, never at import)."""
    return uk_today(datetime.now(UTC))


CASE_REF = "LSCP-2026-1A2B3C"
USER_ENV = {
    "SRO_USER_NAME": CHAIR.name,
    "SRO_USER_ROLE": CHAIR.role.value,
    "SRO_USER_AGENCY": CHAIR.agency.value,
}
CHAIR_JSON = CHAIR.model_dump(mode="json")


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


def referral_json(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = referral(today()).model_dump(mode="json")
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def write(tmp_path: Path, data: Any, name: str = "input.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def _run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


# ---------------------------------------------------------------------- refer: refused input


def test_refer_missing_field_exits_2_naming_it(
    run: Run, tmp_path: Path, no_connection: list[str]
) -> None:
    data = referral_json()
    del data["summary"]
    code, out, err = run("refer", "--file", write(tmp_path, data))
    assert code == 2
    assert "summary: Field required" in err
    assert "nothing was started" in err
    assert out == ""
    assert no_connection == []


def test_refer_every_problem_is_listed(run: Run, tmp_path: Path) -> None:
    data = referral_json(harm="bruises", partnership="lowercase")
    del data["children"]
    code, _, err = run("refer", "--file", write(tmp_path, data))
    assert code == 2
    problems = [line for line in err.splitlines() if line.startswith("  - ")]
    assert {p.split(":")[0].strip("- ") for p in problems} == {"partnership", "harm", "children"}


def test_refer_future_received_on(run: Run, tmp_path: Path, no_connection: list[str]) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    code, _, err = run("refer", "--file", write(tmp_path, referral_json(received_on=tomorrow)))
    assert code == 2
    assert f"received_on: {tomorrow} is in the future" in err
    assert no_connection == []


def test_refer_bad_enum_in_file(run: Run, tmp_path: Path) -> None:
    data = referral_json(referrer={"name": "R", "agency": "fire_brigade"})
    code, _, err = run("refer", "--file", write(tmp_path, data))
    assert code == 2
    assert "referrer.agency: Input should be" in err


def test_refer_bad_enum_flag(run: Run, no_connection: list[str]) -> None:
    code, _, err = run("refer", "--partnership", "LSCP", "--harm", "bruises")
    assert code == 2
    assert "argument --harm: invalid choice: 'bruises'" in err
    assert no_connection == []


def test_refer_malformed_json_file(run: Run, tmp_path: Path, no_connection: list[str]) -> None:
    path = write(tmp_path, '{"partnership": "LSCP",\n  "harm": }')
    code, _, err = run("refer", "--file", path)
    assert code == 2
    assert f"referral file {path} is not valid JSON" in err
    assert "line 2" in err
    assert no_connection == []


def test_refer_file_that_is_not_an_object(run: Run, tmp_path: Path) -> None:
    code, _, err = run("refer", "--file", write(tmp_path, "[1, 2]"))
    assert code == 2
    assert "must be a JSON object, not list" in err


def test_refer_missing_file(run: Run, tmp_path: Path) -> None:
    code, _, err = run("refer", "--file", str(tmp_path / "nope.json"))
    assert code == 2
    assert "cannot read referral file" in err


def test_refer_file_and_flags_are_exclusive(run: Run, tmp_path: Path) -> None:
    code, _, err = run("refer", "--file", write(tmp_path, referral_json()), "--harm", "death")
    assert code == 2
    assert "not both" in err and "--harm" in err


def test_refer_flags_missing_fields_are_named(run: Run) -> None:
    code, _, err = run("refer", "--partnership", "LSCP", "--harm", "death")
    assert code == 2
    for field in ("referrer", "abuse_or_neglect_suspected", "children", "summary"):
        assert f"{field}: Field required" in err


def test_refer_bad_child_age_does_not_echo_the_name(run: Run) -> None:
    code, _, err = run("refer", "--child", "Jo Bloggs:three")
    assert code == 2
    assert "--child takes NAME or NAME:AGE" in err
    assert "Bloggs" not in err


def test_refer_bad_date_flag(run: Run) -> None:
    code, _, err = run("refer", "--received-on", "22/11/2026")
    assert code == 2
    assert "argument --received-on: expected a date as YYYY-MM-DD" in err


# ---------------------------------------------------------------------- refer: dry run

REFERRAL_FLAGS = [
    "--partnership",
    "lscp",
    "--harm",
    "serious_harm",
    "--abuse-or-neglect-suspected",
    "--referrer-name",
    "Rita Referrer",
    "--referrer-agency",
    "health",
    "--discussed-with-safeguarding-lead",
    "--child",
    "Child A:3",
    "--child",
    "Child B",
    "--agency",
    "police",
    "--agency",
    "health",
    "--summary",
    "Admitted to hospital.",
]


def test_refer_dry_run_from_flags(run: Run, no_connection: list[str]) -> None:
    code, out, err = run("refer", *REFERRAL_FLAGS, "--dry-run", "--json")
    assert (code, err) == (0, "")
    body = json.loads(out)
    assert body["started"] is False
    normalised = body["referral"]
    assert normalised["partnership"] == "LSCP"
    assert normalised["received_on"] == today().isoformat()  # default: today, UK
    assert [(c["name"], c["age_years"]) for c in normalised["children"]] == [
        ("Child A", 3),
        ("Child B", None),
    ]
    assert normalised["agencies_involved"] == ["police", "health"]
    assert normalised["referrer"]["discussed_with_safeguarding_lead"] is True
    assert no_connection == []


def test_refer_dry_run_from_file_prints_normalised_referral(run: Run, tmp_path: Path) -> None:
    code, out, _ = run("refer", "--file", write(tmp_path, referral_json()), "--dry-run")
    assert code == 0
    assert out.startswith("The referral is valid (dry run: nothing was started):")
    assert json.loads(out.split("\n", 1)[1])["harm"] == "serious_harm"


def test_refer_care_leaver_flags(run: Run) -> None:
    flags = [f for f in REFERRAL_FLAGS if f not in ("--child", "Child A:3", "Child B")]
    code, out, _ = run(
        "refer", *flags, "--child-name", "Young: Adult", "--child-age", "19", "--care-leaver",
        "--dry-run", "--json",
    )  # fmt: skip
    assert code == 0
    (child,) = json.loads(out)["referral"]["children"]
    assert child == child | {"name": "Young: Adult", "age_years": 19, "care_leaver": True}


def test_case_refs_match_the_workflow_input_pattern() -> None:
    refs = {gateway_refs.new_case_ref("LSCP", 2026) for _ in range(50)}
    assert len(refs) > 45
    assert all(re.fullmatch(r"LSCP-2026-[0-9A-F]{6}", r) for r in refs)
    assert all(gateway_refs.CASE_REF_PATTERN.match(r) for r in refs)


# ---------------------------------------------------------------------- decide: payloads


def payload(*argv: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    args = cli.build_parser().parse_args(["decide", CASE_REF, *argv])
    return cases.decision_payload(args, env=USER_ENV if env is None else env)


def test_triage_payload_takes_who_from_the_environment() -> None:
    body = payload("triage", "--outcome", "serious_incident", "--la-aware-on", "2026-01-05")
    assert body["kind"] == "triage"
    assert body["outcome"] == "serious_incident"
    assert body["la_aware_on"] == "2026-01-05"
    assert body["by"] == {"name": "Dana Chair", "role": "chair", "agency": "police"}
    assert re.fullmatch(r"cli-[0-9a-f]{32}", body["decision_id"])
    parse_decision(body)


def test_by_flags_override_the_environment() -> None:
    body = payload(
        "notification-submitted", "--reference", "NP-1", "--by-role", "coordinator",
        "--by-agency", "partnership",
    )  # fmt: skip
    assert body["kind"] == "notification_submitted"  # the hyphenated alias works
    assert body["by"] == {"name": "Dana Chair", "role": "coordinator", "agency": "partnership"}


def test_decision_ids_are_fresh_unless_given() -> None:
    first = payload("case_closed")["decision_id"]
    assert first != payload("case_closed")["decision_id"]
    assert payload("case_closed", "--decision-id", "close-1")["decision_id"] == "close-1"


def test_information_requested_friendly_and_json_forms() -> None:
    body = payload(
        "information_requested",
        "--request", "police:2026-12-01",
        "--request", "health",
        "--request", '{"agency": "education", "due_on": "2026-12-03"}',
        "--requests", '[{"agency": "probation"}]',
    )  # fmt: skip
    assert body["requests"] == [
        {"agency": "police", "due_on": "2026-12-01"},
        {"agency": "health"},
        {"agency": "education", "due_on": "2026-12-03"},
        {"agency": "probation"},
    ]
    decided = parse_decision(body)
    assert decided.kind is DecisionKind.INFORMATION_REQUESTED


def test_rapid_review_attendees_and_bool_flag() -> None:
    body = payload(
        "rapid_review_decision",
        "--recommendation", "local_cspr",
        "--attendee", "Dana Chair:chair:police",
        "--attendee", "Dr: Hal Health:panel_member:health",  # a colon in the name survives
        "--possible-national-importance",
        "--learning", "Share the learning.",
    )  # fmt: skip
    assert body["attendees"] == [
        {"name": "Dana Chair", "role": "chair", "agency": "police"},
        {"name": "Dr: Hal Health", "role": "panel_member", "agency": "health"},
    ]
    assert body["possible_national_importance"] is True
    parse_decision(body)


def test_required_bool_takes_no_form() -> None:
    body = payload("panel_response", "--no-panel-agrees", "--outcome", "no_further_review")
    assert body["panel_agrees"] is False
    assert "national_review" not in body  # not given: the model's default applies


def test_list_of_enum_is_repeatable_under_either_name() -> None:
    body = payload(
        "approach_chosen", "--approach", "appreciative_inquiry", "--agency", "police",
        "--agencies", "health",
    )  # fmt: skip
    assert body["agencies"] == ["police", "health"]


def test_action_added_dates_and_defaults() -> None:
    body = payload(
        "action_added", "--action-id", "A1", "--recommendation", "R", "--description", "D",
        "--lead-agency", "health", "--due-on", "2027-03-01", "--outcome-measure", "M",
        "--occurred-on", "2026-11-01",
    )  # fmt: skip
    assert body["due_on"] == "2027-03-01"
    assert body["occurred_on"] == "2026-11-01"
    assert "scope" not in body
    assert parse_decision(body).model_dump()["scope"] == "single_agency"


def test_cspr_milestone_kind_comes_from_the_sub_command() -> None:
    body = payload("lead_reviewer_appointed", "--lead-reviewer", "Lee Reviewer")
    assert (body["kind"], body["lead_reviewer"]) == ("lead_reviewer_appointed", "Lee Reviewer")
    parse_decision(body)


def test_file_with_flag_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"kind": "deadline_extended", "decision_id": "ext-1", "deadline_id": "rapid-review",
         "new_due_on": "2027-01-10", "reason": "Agreed with the Panel"},
    )  # fmt: skip
    body = payload("deadline_extended", "--file", path, "--new-due-on", "2027-01-20")
    assert body["decision_id"] == "ext-1"
    assert body["new_due_on"] == "2027-01-20"
    assert body["by"]["name"] == "Dana Chair"
    # Without a KIND, the file's kind is used.
    assert payload("--file", path)["kind"] == "deadline_extended"


def as_flags(kind: DecisionKind, fields: dict[str, Any]) -> list[str]:
    """Command-line flags for decision fields, using the flags `sro kinds` advertises."""
    model_fields = DECISION_MODELS[kind].model_fields
    argv: list[str] = []
    for name, value in fields.items():
        flags = cli_flags.flags_for(name, model_fields[name])
        if isinstance(value, bool):
            argv.append(flags[0] if value else flags[1])
        elif isinstance(value, list):
            for item in value:  # the singular flag, once per item
                argv += [flags[0], json.dumps(item) if isinstance(item, dict) else str(item)]
        else:
            argv += [flags[0], str(value)]
    return argv


@pytest.mark.parametrize("kind", list(DecisionKind), ids=str)
def test_every_kind_round_trips_through_its_flags(kind: DecisionKind) -> None:
    fields = sample_fields(kind)
    body = payload(kind.value, *as_flags(kind, fields), "--decision-id", "d-1")
    assert body == {"kind": kind.value, "decision_id": "d-1", "by": CHAIR_JSON, **fields}
    parse_decision(body)


# ---------------------------------------------------------------------- decide: refused locally


def test_invalid_decision_exits_2_without_connecting(run: Run, no_connection: list[str]) -> None:
    code, out, err = run("decide", CASE_REF, "triage", "--outcome", "serious_incident")
    assert code == 2
    assert "the triage decision is not valid; nothing was sent" in err
    assert "by: Field required" in err and "SRO_USER_NAME" in err
    assert out == ""

    who = ["--by-name", "Dana Chair", "--by-role", "chair", "--by-agency", "police"]
    code, out, err = run("decide", CASE_REF, "triage", "--outcome", "other_review", *who)
    assert code == 2
    assert "review_type is required when the outcome is other_review" in err
    assert no_connection == []


def test_decide_bad_choice_exits_2(run: Run) -> None:
    code, _, err = run("decide", CASE_REF, "triage", "--outcome", "maybe")
    assert code == 2
    assert "argument --outcome: invalid choice: 'maybe'" in err


def test_decide_bad_case_ref_exits_2(run: Run, no_connection: list[str]) -> None:
    code, _, err = run("decide", "nope", "case_closed", "--by-name", "X")
    assert code == 2
    assert "'nope' is not a case reference" in err
    assert no_connection == []


def test_decide_file_kind_mismatch(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, {"kind": "case_closed"})
    code, _, err = run("decide", CASE_REF, "triage", "--file", path)
    assert code == 2
    assert "is a 'case_closed' decision, not 'triage'" in err


def test_decide_dry_run(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in USER_ENV.items():
        monkeypatch.setenv(name, value)
    code, out, _ = run(
        "decide", CASE_REF, "triage", "--outcome", "serious_incident", "--dry-run", "--json"
    )
    assert code == 0
    body = json.loads(out)
    assert body["sent"] is False
    assert body["decision"]["outcome"] == "serious_incident"


# ---------------------------------------------------------------------- decide: the server's answer


class FakeHandle:
    def __init__(self, outcome: DecisionResult | BaseException) -> None:
        self.outcome = outcome
        self.updates: list[tuple[str, Any, str]] = []
        self.signals: list[tuple[str, Any]] = []

    async def execute_update(self, update: Any, arg: Any, *, id: str, **_: Any) -> DecisionResult:
        self.updates.append((message_name(update), plain(arg), id))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    async def signal(self, signal: Any, arg: Any, **_: Any) -> None:
        self.signals.append((message_name(signal), plain(arg)))


class FakeClient:
    def __init__(self, handle: FakeHandle) -> None:
        self.handle = handle
        self.workflow_ids: list[str] = []

    data_converter = fake_converter()

    def get_workflow_handle_for(self, _run: Any, workflow_id: str) -> FakeHandle:
        return self.get_workflow_handle(workflow_id)

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        self.workflow_ids.append(workflow_id)
        return self.handle


def fake_server(
    monkeypatch: pytest.MonkeyPatch, outcome: DecisionResult | BaseException
) -> FakeClient:
    client = FakeClient(FakeHandle(outcome))

    async def connect() -> FakeClient:
        return client

    monkeypatch.setattr(session, "connect", connect)
    for name, value in USER_ENV.items():
        monkeypatch.setenv(name, value)
    return client


def test_refusal_prints_type_and_message(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    refusal = ApplicationError("a panel_response decision is not allowed", type="WrongStage")
    client = fake_server(monkeypatch, WorkflowUpdateFailedError(refusal))
    code, out, err = run(
        "decide", CASE_REF, "panel_response", "--panel-agrees", "--outcome", "local_cspr",
        "--decision-id", "p-1",
    )  # fmt: skip
    assert code == 2
    assert err.strip() == "refused (WrongStage): a panel_response decision is not allowed"
    assert out == ""
    assert client.workflow_ids == [f"referral-{CASE_REF}"]
    name, body, update_id = client.handle.updates[0]
    assert (name, update_id, body["decision_id"]) == ("decide", "p-1", "p-1")


def test_accepted_decision_prints_stage(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    result = DecisionResult(
        decision_id="t-1",
        kind=DecisionKind.TRIAGE,
        stage=Stage.SERIOUS_INCIDENT_NOTIFICATION,
        message="triage recorded; stage is now Serious Incident Notification",
    )
    fake_server(monkeypatch, result)
    code, out, _ = run(
        "decide", CASE_REF.lower(), "triage", "--outcome", "serious_incident", "--decision-id",
        "t-1",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines()[0] == "triage recorded; stage is now Serious Incident Notification"
    assert "stage: serious_incident_notification" in out


def test_signal_is_fire_and_forget(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    client = fake_server(monkeypatch, AssertionError("no update expected"))
    code, out, _ = run("decide", CASE_REF, "case_closed", "--signal", "--decision-id", "c-1")
    assert code == 0
    assert client.handle.signals[0][0] == "decision"
    assert client.handle.signals[0][1]["decision_id"] == "c-1"
    assert "refusal shows in its history" in out


def test_unreachable_server_exits_1_with_one_line(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway import connection

    monkeypatch.setattr(session, "connect", connection.connect)  # the real one
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    code, out, err = run("status", CASE_REF)
    assert code == 1
    assert err.splitlines() == [
        "error: cannot reach Temporal at 127.0.0.1:1: Connection refused — is `make run` running?"
    ]
    assert out == ""


# ---------------------------------------------------------------------- status rendering


def test_render_status() -> None:
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    settings = profile_for("LSCP")
    case, effects = Case.open(CASE_REF, referral(date(2026, 11, 23)), settings, now)
    calendar = WorkingCalendar(settings.closure_days)
    requests = effects.deadline_requests
    case.open_deadlines(requests, [plan_deadline(r, settings, calendar) for r in requests], now)
    triage = decision("triage", CHAIR, outcome="serious_incident", **triage_participants())
    case.check(triage, now)
    effects = case.apply(triage, now, "update")
    requests = effects.deadline_requests
    case.open_deadlines(requests, [plan_deadline(r, settings, calendar) for r in requests], now)

    text = "\n".join(case_status.render_status(case.status(now)))
    assert text.startswith(f"Case {CASE_REF} — Liverpool Safeguarding Children Partnership")
    assert "Serious Incident Notification [serious_incident_notification]" in text
    assert re.search(r"met 2026-11-23\s+Triage decision", text)
    assert re.search(r"on track\s+Serious Incident Notification", text)
    assert (
        "Decisions allowed now: notification_submitted, la_notice_received, deadline_extended"
        in text
    )
    assert "2026-11-23 09:30  decision" in text
    assert "Child A" not in text

    short = case_status.render_status(case.status(now), history_limit=2)
    assert f"History (last 2 of {len(case.history)})" in short
    assert len(short) == short.index(f"History (last 2 of {len(case.history)})") + 3

    # A long case shows its latest entries; the earlier ones are in the register.
    latest = case.status(now).model_copy(update={"history_from": 400})
    total = 400 + len(case.history)
    lines = case_status.render_status(latest)
    at = lines.index(f"History (last {len(case.history)} of {total})")
    assert lines[at + 1] == "  (the first 400 entries are in the register)"
    assert f"History (last 2 of {total})" in case_status.render_status(latest, history_limit=2)


def test_visibility_query() -> None:
    assert gateway_refs.visibility_query() == (
        "WorkflowType = 'ReferralWorkflow' AND ExecutionStatus = 'Running'"
    )
    assert gateway_refs.visibility_query(
        stage="rapid_review", partnership="LSCP", overdue=True, include_closed=True
    ) == (
        "WorkflowType = 'ReferralWorkflow' AND ReviewStage = 'rapid_review' "
        "AND Partnership = 'LSCP' AND Overdue = true"
    )


def test_list_rejects_a_partnership_that_is_not_a_code(run: Run, no_connection: list[str]) -> None:
    code, _, err = run("list", "--partnership", "x' OR '1'='1")
    assert code == 2
    assert "not a partnership code" in err
    assert no_connection == []


# ---------------------------------------------------------------------- kinds


def test_kinds_lists_every_kind(run: Run) -> None:
    code, out, _ = run("kinds")
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines()[1 : 1 + len(DecisionKind)]]
    assert listed == [k.value for k in DecisionKind]
    assert re.search(
        r"^triage\s+outcome\*, review_type, advice, la_aware_on, criteria_not_met_reason$",
        out,
        re.M,
    )


def test_kinds_for_one_kind(run: Run) -> None:
    code, out, _ = run("kinds", "information-requested")
    assert code == 0
    assert out.startswith("information_requested — InformationRequested")
    assert "  requests  (required)" in out
    assert "one per flag as AGENCY[:DUE_ON] or a JSON object" in out
    assert "flags: --request / --requests" in out
    assert "flags: --by-name / --by-role / --by-agency" in out


def test_kinds_json(run: Run) -> None:
    code, out, _ = run("kinds", "triage", "--json")
    assert code == 0
    fields = {f["name"]: f for f in json.loads(out)["fields"]}
    assert fields["outcome"]["required"] is True
    assert fields["outcome"]["type"].startswith("one of serious_incident, case_of_concern")
    assert fields["review_type"]["description"] == "required when the outcome is other_review"
    assert fields["decision_id"]["required"] is False  # the command line makes one


def test_kinds_unknown(run: Run) -> None:
    code, _, err = run("kinds", "coffee")
    assert code == 2
    assert "unknown decision kind 'coffee'" in err


def test_render_status_never_prints_control_characters() -> None:
    """Free text reaches the terminal escaped: a note with an ANSI escape or a right-to-left
    override cannot repaint or reorder what the coordinator sees."""
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    case, _ = Case.open(CASE_REF, referral(date(2026, 11, 23)), profile_for("LSCP"), now)
    case.note(now, HistoryKind.NOTICE, "Escalation \x1b[2J\x1b[31mred\u202e reversed\nnext")
    lines = case_status.render_status(case.status(now))
    assert all(line.isprintable() for line in lines)
    assert any("Escalation \\x1b[2J\\x1b[31mred\\u202e reversed\\nnext" in line for line in lines)
