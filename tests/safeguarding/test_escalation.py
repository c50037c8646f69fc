"""Professional-disagreement escalation, the domain rules without Temporal.

`Climb` plays the workflow's part: it opens the escalation, plans each stage's time limit on the
real working calendar (as the planning activity does), times a stage out at its expiry and
applies decisions that pass the checks.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from safeguarding.calendar import WorkingCalendar
from safeguarding.case import DecisionRefused, Notice
from safeguarding.clock import uk_moment
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, WorkingDaysAfter
from safeguarding.decisions import InvalidDecision, Person
from safeguarding.escalation import (
    Disagreement,
    EscalateNow,
    Escalation,
    Resolve,
    parse_escalation_decision,
)
from safeguarding.planning import plan_deadline
from safeguarding.profiles import profile_for
from safeguarding.settings import EscalationPolicy, PartnershipSettings
from safeguarding.vocabulary import Agency, Role

REF = "CSCP-ESC-2027-0A1B2C"
START = date(2027, 1, 4)  # a Monday

#: What the disagreement is about: personal data, never in a notice.
CONCERN = "Disagree with closing the case of Kayden-Lee Example (DOB 2019-02-03) at 4 Elm Row."
PERSONAL = ("Kayden", "2019-02-03", "Elm Row", CONCERN)

TEACHER = Person(name="Tia Teacher", role=Role.PRACTITIONER, agency=Agency.EDUCATION)
SOCIAL_WORKER = Person(
    name="Sol Worker", role=Role.PRACTITIONER, agency=Agency.CHILDRENS_SOCIAL_CARE
)
MANAGER = Person(name="Max Manager", role=Role.MANAGER, agency=Agency.EDUCATION)


@pytest.fixture(autouse=True)
def _shipped_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_PROFILES", raising=False)


def croydon() -> PartnershipSettings:
    return profile_for("CSCP")


def disagreement(**overrides: Any) -> Disagreement:
    fields: dict[str, Any] = {
        "partnership": "CSCP",
        "raised_by": TEACHER.model_dump(mode="json"),
        "raised_with": "childrens_social_care",
        "concern": CONCERN,
    }
    fields.update(overrides)
    return Disagreement.model_validate(fields)


def end_of_day(day: date) -> datetime:
    """Midnight UK time at the end of `day`: when a stage's time runs out."""
    return uk_moment(day + timedelta(days=1), time(0))


class Climb:
    """The workflow's role around an `Escalation`."""

    def __init__(
        self,
        settings: PartnershipSettings | None = None,
        raised: Disagreement | None = None,
        on: date = START,
    ) -> None:
        self.settings = settings or croydon()
        self.calendar = WorkingCalendar(self.settings.closure_days)
        self.now = uk_moment(on, time(10))
        self.notices: list[Notice] = []
        self.requests: list[DeadlineRequest] = []
        self.escalation, request, notices = Escalation.open(
            REF, raised or disagreement(), self.settings, self.now
        )
        self.carry_out(request, notices)

    def carry_out(self, request: DeadlineRequest | None, notices: list[Notice]) -> None:
        if request is not None:
            self.requests.append(request)
            self.escalation.set_plan(plan_deadline(request, self.settings, self.calendar))
        self.notices += notices

    def time_out(self) -> list[Notice]:
        """Wake when the stage's time runs out, as the workflow's timer does."""
        expires = self.escalation.expires_at()
        assert expires is not None, "this stage has no time limit"
        self.now = expires
        before = len(self.notices)
        self.carry_out(*self.escalation.time_out(expires))
        return self.notices[before:]

    def decide(self, action: str, by: Person, **fields: Any) -> list[Notice]:
        made = parse_escalation_decision(
            {"action": action, "by": by.model_dump(mode="json"), **fields}
        )
        self.escalation.check(made)
        before = len(self.notices)
        if made.decision_id not in self.escalation.applied:
            self.carry_out(*self.escalation.apply(made, self.now))
        return self.notices[before:]

    def refuse(self, action: str, by: Person, **fields: Any) -> DecisionRefused:
        made = parse_escalation_decision(
            {"action": action, "by": by.model_dump(mode="json"), **fields}
        )
        before = self.escalation.model_dump()
        with pytest.raises(DecisionRefused) as refused:
            self.escalation.check(made)
        assert self.escalation.model_dump() == before, "check() changes nothing"
        return refused.value

    @property
    def stage(self) -> int:
        return self.escalation.current.stage

    def partnership_notices(self) -> list[Notice]:
        return [n for n in self.notices if n.notice_id.endswith(":partnership")]


def assert_no_personal_data(notice: Notice) -> None:
    text = notice.subject + notice.body + notice.audience + notice.notice_id
    for item in PERSONAL:
        assert item not in text, f"{item!r} leaked into {notice}"


# ====================================================================== opening


def test_open_starts_at_stage_one_with_its_time_limit() -> None:
    now = uk_moment(START, time(10))
    escalation, request, notices = Escalation.open(REF, disagreement(), croydon(), now)
    assert escalation.current.stage == 1
    assert escalation.current.name == "Practitioner to practitioner"
    assert escalation.current.who == "the practitioners"
    assert not escalation.current.formal
    assert escalation.current.entered_at == now
    assert escalation.stages == [escalation.current]
    assert not escalation.resolved
    assert request is not None
    assert request.deadline_id == "stage-1"
    assert request.kind is DeadlineKind.ESCALATION_STAGE
    assert request.owner == "the practitioners"
    assert request.rule == WorkingDaysAfter(start=START, days=2)
    # Told: the people at stage 1; not yet the partnership.
    assert [(n.notice_id, n.audience, n.kind) for n in notices] == [
        (f"{REF}:stage-1", "the practitioners", "escalation")
    ]
    assert notices[0].case_ref == REF and notices[0].partnership == "CSCP"
    assert escalation.partnership_notified_at is None
    assert escalation.history[0].text == (
        "Raised by Tia Teacher (practitioner, Education) with Children's Social Care "
        "(local authority)"
    )
    assert escalation.history[0].by == TEACHER


def test_the_stage_ends_with_its_due_day_uk_time() -> None:
    climb = Climb()
    current = climb.escalation.current
    assert current.due_on == date(2027, 1, 6)  # 2 working days after Mon 4 Jan
    assert current.expires_at == end_of_day(date(2027, 1, 6))
    assert climb.escalation.expires_at() == current.expires_at
    status = climb.escalation.status()
    assert (status.stage, status.due_on, status.formal) == (1, date(2027, 1, 6), False)
    assert status.overseen_by == "Safeguarding Practice Review Group (SPRG)"
    assert status.partnership_name == "Croydon Safeguarding Children Partnership"
    assert status.raised_with is Agency.CHILDRENS_SOCIAL_CARE
    assert "Stage 1 to resolve by 2027-01-06" in [e.text for e in status.history]


def test_stage_one_counts_from_the_day_it_was_raised() -> None:
    # Raised on Thu 31 Dec 2026, recorded on Mon 4 Jan 2027: 2 working days from the 31st
    # ([1 Jan] 4, 5) ran out on Tue 5 Jan.
    climb = Climb(raised=disagreement(raised_on="2026-12-31"))
    assert climb.requests[0].rule == WorkingDaysAfter(start=date(2026, 12, 31), days=2)
    assert climb.escalation.current.due_on == date(2027, 1, 5)


def test_a_stage_across_christmas_skips_the_bank_holidays() -> None:
    climb = Climb(on=date(2026, 12, 23))
    # 24 Dec, [25, 26, 27, 28 (Boxing Day observed)], 29 Dec.
    assert climb.escalation.current.due_on == date(2026, 12, 29)
    assert climb.escalation.current.expires_at == end_of_day(date(2026, 12, 29))


# ====================================================================== climbing


def test_time_out_moves_up_a_stage_and_tells_the_next_people() -> None:
    climb = Climb()
    expired = climb.escalation.current.expires_at
    told = climb.time_out()
    first, second = climb.escalation.stages
    assert (first.left_at, first.left_because) == (expired, "timed_out")
    assert second.stage == 2 and second.entered_at == expired
    assert second.who == "the practitioners' line managers"
    assert [(n.notice_id, n.audience) for n in told] == [
        (f"{REF}:stage-2", "the practitioners' line managers")
    ]
    assert "at stage 2: Line managers" in told[0].subject
    # Stage 2's 5 working days count from the day it began (Thu 7 Jan).
    assert climb.requests[-1].rule == WorkingDaysAfter(start=date(2027, 1, 7), days=5)
    assert second.due_on == date(2027, 1, 14)
    texts = [e.text for e in climb.escalation.history]
    assert "Stage 1 not resolved by 2027-01-06" in texts
    assert "Stage 2: Line managers (the practitioners' line managers)" in texts


def test_croydon_climbs_all_five_stages_and_tells_the_partnership_at_stage_three() -> None:
    climb = Climb()
    told_at: dict[int, list[str]] = {1: [n.audience for n in climb.notices]}
    while climb.escalation.expires_at() is not None:
        told = climb.time_out()
        told_at[climb.stage] = [n.audience for n in told]
    assert climb.stage == 5
    assert told_at == {
        1: ["the practitioners"],
        2: ["the practitioners' line managers"],
        3: [
            "named or designated safeguarding leads",
            "CSCP Business Manager; Safeguarding Practice Review Group (SPRG)",
        ],
        4: ["heads of service or senior managers"],
        5: ["the CSCP Executive, with the Independent Scrutineer"],
    }
    stages = climb.escalation.stages
    assert [s.formal for s in stages] == [False, False, True, True, True]
    assert [s.due_on for s in stages] == [
        date(2027, 1, 6),  # Mon 4 + 2
        date(2027, 1, 14),  # Thu 7 + 5
        date(2027, 1, 22),  # Fri 15 + 5
        date(2027, 1, 29),  # Sat 23 + 5
        None,  # the last stage has no time limit
    ]
    for earlier, later in itertools.pairwise(stages):
        assert earlier.expires_at is not None
        assert later.entered_at == earlier.expires_at
        assert earlier.left_because == "timed_out"
    assert stages[-1].expires_at is None and stages[-1].left_at is None
    (partnership,) = climb.partnership_notices()
    assert partnership.subject == (
        f"[{REF}] Escalation reached stage 3: Croydon Safeguarding Children Partnership tracks it"
    )
    assert climb.escalation.partnership_notified_at == stages[2].entered_at
    assert climb.escalation.status().partnership_notified


def test_the_default_policy_has_four_stages() -> None:
    climb = Climb(settings=PartnershipSettings(), raised=disagreement(partnership="ENGLAND"))
    while climb.escalation.expires_at() is not None:
        climb.time_out()
    assert [(s.stage, s.name) for s in climb.escalation.stages] == [
        (1, "Practitioner to practitioner"),
        (2, "Manager to manager"),
        (3, "Senior officers"),
        (4, "Independently chaired meeting"),
    ]
    assert [n.audience for n in climb.partnership_notices()] == [
        "Partnership Business Manager; Safeguarding Practice Review Group"
    ]


def test_a_threshold_of_one_tells_the_partnership_on_opening() -> None:
    policy = EscalationPolicy(partnership_notified_from_stage=1)
    climb = Climb(settings=PartnershipSettings(escalation_policy=policy))
    assert len(climb.partnership_notices()) == 1
    climb.time_out()
    climb.time_out()
    assert len(climb.partnership_notices()) == 1


def test_escalate_now_moves_up_at_once_and_the_partnership_is_told_once() -> None:
    climb = Climb()
    climb.now = uk_moment(START, time(15))
    told = climb.decide("escalate", TEACHER, decision_id="e1", reason="No reply from CSC.")
    assert climb.stage == 2
    assert climb.escalation.stages[0].left_because == "escalated"
    assert climb.escalation.stages[1].entered_at == climb.now
    assert [n.notice_id for n in told] == [f"{REF}:stage-2"]
    # Stage 2's time runs from the day it was escalated.
    assert climb.escalation.current.due_on == date(2027, 1, 11)
    told = climb.decide("escalate", MANAGER, decision_id="e2", reason="Managers disagree too.")
    assert [n.notice_id for n in told] == [f"{REF}:stage-3", f"{REF}:partnership"]
    assert climb.escalation.partnership_notified_at == climb.now
    # Climbing on (by timer or by hand) never tells the partnership again.
    climb.time_out()
    climb.decide("escalate", MANAGER, decision_id="e3", reason="Still unresolved.")
    assert climb.stage == 5
    assert len(climb.partnership_notices()) == 1
    entry = next(e for e in climb.escalation.history if e.decision_id == "e1")
    assert entry.by == TEACHER
    assert entry.text == (
        "Escalated from stage 1 by Tia Teacher (practitioner, Education): No reply from CSC."
    )


def test_the_last_stage_cannot_be_escalated() -> None:
    climb = Climb()
    while climb.escalation.expires_at() is not None:
        climb.time_out()
    refused = climb.refuse("escalate", MANAGER, decision_id="e9", reason="Higher, please.")
    assert refused.reason == "wrong_stage"
    assert refused.message == "stage 5 (CSCP Executive) is the policy's last stage"
    # It can still be resolved there.
    climb.decide("resolve", MANAGER, decision_id="r1", outcome="Executive decided.")
    assert climb.escalation.resolved


def test_a_policy_whose_last_stage_has_a_time_limit_is_refused() -> None:
    stages = [s.model_copy(update={"working_days": 2}) for s in croydon().escalation_policy.stages]
    with pytest.raises(ValueError, match="the last stage"):
        EscalationPolicy(stages=stages)


# ====================================================================== resolution


def test_resolve_ends_it() -> None:
    climb = Climb()
    climb.time_out()
    climb.now = uk_moment(date(2027, 1, 8), time(11))
    told = climb.decide(
        "resolve", SOCIAL_WORKER, decision_id="r1", outcome="Agreed a joint visit and a plan."
    )
    assert told == []
    escalation = climb.escalation
    assert escalation.resolved and escalation.resolved_at == climb.now
    assert escalation.resolution == "Agreed a joint visit and a plan."
    assert escalation.resolved_by == SOCIAL_WORKER
    assert (escalation.current.left_at, escalation.current.left_because) == (climb.now, "resolved")
    assert escalation.expires_at() is None
    status = escalation.status()
    assert status.resolved and status.stage == 2
    assert status.resolution == "Agreed a joint visit and a plan."
    assert escalation.history[-1].text == (
        "Resolved at stage 2 by Sol Worker (practitioner, Children's Social Care (local authority))"
    )
    assert "resolved" in escalation.operator_details()


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("escalate", {"reason": "Not happy with the outcome."}),
        ("resolve", {"outcome": "Resolved again."}),
    ],
)
def test_decisions_after_resolution_are_refused(action: str, fields: dict[str, Any]) -> None:
    climb = Climb()
    climb.decide("resolve", SOCIAL_WORKER, decision_id="r1", outcome="Agreed.")
    refused = climb.refuse(action, MANAGER, decision_id="late-1", **fields)
    assert refused.reason == "wrong_stage"
    assert refused.message == "the escalation is already resolved"


def test_a_duplicate_decision_id_applies_once() -> None:
    climb = Climb()
    climb.decide("escalate", TEACHER, decision_id="e1", reason="No reply.")
    again = climb.decide("escalate", TEACHER, decision_id="e1", reason="No reply.")
    assert again == [] and climb.stage == 2
    climb.decide("resolve", SOCIAL_WORKER, decision_id="r1", outcome="Agreed.")
    # A re-sent resolution is accepted (it was applied) and changes nothing.
    assert climb.decide("resolve", SOCIAL_WORKER, decision_id="r1", outcome="Agreed.") == []
    assert climb.escalation.resolved and climb.stage == 2
    assert [e.decision_id for e in climb.escalation.history if e.decision_id] == ["e1", "r1"]


def test_the_same_id_for_another_action_is_a_conflict() -> None:
    climb = Climb()
    climb.decide("escalate", TEACHER, decision_id="x1", reason="No reply.")
    refused = climb.refuse("resolve", SOCIAL_WORKER, decision_id="x1", outcome="Agreed.")
    assert refused.reason == "conflict"
    assert refused.message == (
        "decision id 'x1' was already used to escalate this escalation; use a new id"
    )
    assert not climb.escalation.resolved


# ====================================================================== parsing


def test_parse_escalation_decision_gives_the_model() -> None:
    resolve = parse_escalation_decision(
        {"action": "resolve", "decision_id": "r1", "by": TEACHER.model_dump(), "outcome": "ok"}
    )
    assert isinstance(resolve, Resolve) and resolve.by == TEACHER
    escalate = parse_escalation_decision(
        EscalateNow(decision_id="e1", by=TEACHER, reason="No reply.")
    )
    assert isinstance(escalate, EscalateNow) and escalate.reason == "No reply."


def problem(message: str, field: str) -> bool:
    """The message names `field` (whatever comes before it in the path)."""
    return re.search(rf"(^|[ .;]){re.escape(field)}: ", message) is not None


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        ({"action": "resolve", "decision_id": "r1"}, ["by", "outcome"]),
        (
            {
                "action": "escalate",
                "decision_id": "not an id",
                "by": {"name": "A", "role": "boss", "agency": "police"},
                "reason": "",
            },
            ["decision_id", "by.role", "reason"],
        ),
        (
            {
                "action": "resolve",
                "decision_id": "r1",
                "by": TEACHER.model_dump(mode="json"),
                "outcome": "ok",
                "concern": "x",
            },
            ["concern"],
        ),
    ],
)
def test_parse_errors_name_every_field(raw: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(InvalidDecision) as invalid:
        parse_escalation_decision(raw)
    message = str(invalid.value)
    assert message.startswith(f"{raw['action']} refused: ")
    for field in fields:
        assert problem(message, field), (field, message)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"decision_id": "x"}, "action: must be 'resolve' or 'escalate'"),
        ({"action": "withdraw"}, "action: must be 'resolve' or 'escalate'"),
        (["resolve"], "a decision must be a JSON object, not list"),
        ("resolve", "a decision must be a JSON object, not str"),
    ],
)
def test_parse_refuses_what_is_not_a_decision(raw: Any, message: str) -> None:
    with pytest.raises(InvalidDecision) as invalid:
        parse_escalation_decision(raw)
    assert str(invalid.value) == message


# ====================================================================== privacy


def test_notices_never_carry_the_concern() -> None:
    climb = Climb(raised=disagreement(linked_case_ref="CSCP-2026-0A1B2C"))
    climb.decide("escalate", TEACHER, decision_id="e1", reason="Kayden-Lee is still at risk.")
    while climb.escalation.expires_at() is not None:
        climb.time_out()
    climb.decide("resolve", SOCIAL_WORKER, decision_id="r1", outcome="Kayden-Lee moved.")
    assert len(climb.notices) == 6  # stages 1 to 5 and the partnership
    assert len({n.notice_id for n in climb.notices}) == 6
    for notice in climb.notices:
        assert_no_personal_data(notice)
        assert "still at risk" not in notice.body and "moved" not in notice.body
        # What a notice does say: the reference, the partnership, the stage and the case.
        assert REF in notice.subject and REF in notice.body
        assert "It concerns case CSCP-2026-0A1B2C." in notice.body
    # Nor do the operator's details; the concern is not copied into the history either.
    assert not any(item in climb.escalation.operator_details() for item in PERSONAL)
    assert not any(CONCERN in e.text for e in climb.escalation.history)
