"""Poison decisions (issue #11): no single decision, however extreme its dates, leaves a case
unable to take its next one.

At every point of every route (the walks the benchmark sends), a decision of the kind due
there, or an extension of any open deadline, or a planned publication, is sent with every date
it carries drawn from the whole calendar (year 1 to 9999, yesterday, today, tomorrow, the
horizon's edges). The case must refuse it cleanly or accept it; when it accepts, every deadline
the decision sets must plan on the working calendar (what the activity does), and the route's
next decision must still be accepted. The workflow's side (refusal of what cannot be planned,
the case restored) is in tests/workflows/test_referral_trust.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import routes
from safeguarding import horizon
from safeguarding.calendar import WorkingCalendar
from safeguarding.case import Case, DecisionRefused
from safeguarding.clock import uk_moment
from safeguarding.decisions import DECISION_MODELS, InvalidDecision, parse_decision
from safeguarding.planning import plan_deadline
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import DecisionKind
from tests.reliability.test_bad_input import examples

TODAY = date(2026, 11, 20)
SETTINGS = PartnershipSettings()
#: A partnership that takes the steps only some profiles ask for (issue #13: Salford's quality
#: assurance before triage, Liverpool's local authority's notice and serious-concern reviews).
STATUTORY = PartnershipSettings(
    referral_quality_assurance=True,
    la_notice_working_days=5,
    routes=["serious_incident", "rapid_review", "no_further_action"],
)
CALENDAR = WorkingCalendar(SETTINGS.closure_days)
ROUTES: dict[str, Callable[[date], list[routes.Step]]] = {
    "longest": routes.longest_steps,
    "case_of_concern": routes.case_of_concern_steps,
    "other_review": routes.other_review_steps,
    "care_leaver": routes.care_leaver_steps,
    "no_further_action": routes.no_further_action_steps,
    "learning_only": routes.learning_only_steps,
    "not_published": lambda today: [
        *routes.longest_steps(today)[:18],  # to the final report sent
        ("not_published", routes.BUSINESS_MANAGER, {"reasons": "It would identify the family"}),
    ],
    "statutory_triage": lambda today: [
        ("referral_quality_assured", routes.HEALTH_MEMBER, {}),
        ("triage", routes.CHAIR, {"outcome": "serious_incident"}),
        ("la_notice_received", routes.COORDINATOR, {}),
        ("notification_submitted", routes.CSC_MEMBER, {"reference": "SIN-2026-0042"}),
    ],
    "serious_concern": lambda today: [
        ("referral_quality_assured", routes.HEALTH_MEMBER, {}),
        ("triage", routes.CHAIR, {"outcome": "rapid_review"}),
        (
            "rapid_review_decision",
            routes.CHAIR,
            {"recommendation": "no_further_review", "attendees": [routes.CHAIR]},
        ),
        ("case_closed", routes.CHAIR, {}),
    ],
    # Issue 13, item 11: the learning loop, after another review's findings.
    "learning": lambda today: [
        *routes.other_review_steps(today)[:2],
        (
            "learning_planned",
            routes.COORDINATOR,
            {
                "learning_id": "B1",
                "output": "briefing",
                "title": "Safe sleep",
                "due_on": (today + timedelta(days=30)).isoformat(),
            },
        ),
        (
            "learning_disseminated",
            routes.COORDINATOR,
            {"learning_id": "B1", "reaudit_due_on": (today + timedelta(days=90)).isoformat()},
        ),
        ("learning_impact_recorded", routes.CHAIR, {"learning_id": "B1", "impact": "Better"}),
        ("case_closed", routes.CHAIR, {}),
    ],
}
#: The settings each route runs under (the shipped defaults unless named here).
SETTINGS_OF = {"statutory_triage": STATUTORY, "serious_concern": STATUTORY}
#: Positions on every route: (route, index of the decision due there).
POSITIONS = [(name, i) for name, steps in ROUTES.items() for i in range(len(steps(TODAY)))]

#: The whole calendar, with the values most likely to break arithmetic drawn often.
extreme_dates = st.one_of(
    st.sampled_from(
        [
            date.min,
            date(1, 1, 2),
            date(1900, 1, 1),
            TODAY - timedelta(days=1),
            TODAY,
            TODAY + timedelta(days=1),
            horizon.latest(TODAY),
            horizon.latest(TODAY) + timedelta(days=1),
            date(9999, 12, 30),
            date.max,
        ]
    ),
    st.dates(),
)


def date_fields(kind: DecisionKind) -> list[str]:
    """Top-level date fields of a kind (nested ones, `requests[].due_on`, are set below)."""
    model = DECISION_MODELS[kind]
    return [n for n, f in model.model_fields.items() if "date" in str(f.annotation)]


def driven(route: str, upto: int) -> tuple[Case, datetime]:
    """A case walked along `route` up to (not including) step `upto`."""
    now = uk_moment(TODAY, time(10))
    settings = SETTINGS_OF.get(route, SETTINGS)
    made = routes.referral("ENGLAND", TODAY, care_leaver=route == "care_leaver")
    case, effects = Case.open("LSCP-2026-0A1B2C", made, settings, now)
    plan(case, effects.deadline_requests, now)
    for n, step in enumerate(ROUTES[route](TODAY)[:upto]):
        send(case, to_decision(step, f"walk-{n}"), now)
    return case, now


def to_decision(step: routes.Step, decision_id: str) -> Any:
    kind, by, fields = step
    return parse_decision({"kind": kind, "decision_id": decision_id, "by": by, **fields})


def plan(case: Case, requests: list[Any], now: datetime) -> None:
    while requests:
        plans = [plan_deadline(r, SETTINGS, CALENDAR) for r in requests]
        case.open_deadlines(requests, plans, now)
        requests = case.follow_up_requests()


def send(case: Case, made: Any, now: datetime) -> None:
    case.check(made, now)
    plan(case, case.apply(made, now, "update").deadline_requests, now)


@st.composite
def probes(draw: st.DrawFn, case: Case, step: routes.Step) -> dict[str, Any]:
    """A decision for this point of the route with every date in it drawn from the calendar."""
    choice = draw(st.sampled_from(["due_here", "extension", "publication"]))
    kind, by, fields = step
    data: dict[str, Any] = {"kind": kind, "by": by, **copy.deepcopy(fields)}
    if choice == "extension" and case.deadlines:
        data = {
            "kind": "deadline_extended",
            "by": routes.CHAIR,
            "deadline_id": draw(st.sampled_from(sorted(case.deadlines))),
            "reason": "Agreed with the National Panel",
        }
    elif choice == "publication":
        data = {"kind": "publication_planned", "by": routes.BUSINESS_MANAGER}
    for name in date_fields(DecisionKind(data["kind"])):
        if draw(st.booleans()) or name != "occurred_on":
            data[name] = draw(extreme_dates).isoformat()
    for request in data.get("requests", []):
        request["due_on"] = draw(extreme_dates).isoformat()
    data["decision_id"] = "probe"
    return data


@settings(
    max_examples=examples(400),  # RELIABILITY_EXAMPLE_FACTOR=10: RELIABILITY.md's figures
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(position=st.sampled_from(POSITIONS), data=st.data())
def test_no_decision_leaves_a_case_unable_to_take_the_next(
    position: tuple[str, int], data: st.DataObject
) -> None:
    route, index = position
    case, now = driven(route, index)
    steps = ROUTES[route](TODAY)
    payload = data.draw(probes(case, steps[index]))
    try:
        probe = parse_decision(payload)
        case.check(probe, now)
    except (InvalidDecision, DecisionRefused) as refused:
        message = str(refused) if isinstance(refused, InvalidDecision) else refused.message
        assert message and message.isprintable()
        accepted = False
    else:
        # Accepted: every deadline it sets plans on the working calendar (no exception).
        send(case, probe, now)
        accepted = True
    # The case takes its next decision: the one due here (if the probe was not it), or the next.
    following = steps[index:] if not accepted or payload["kind"] != steps[index][0] else []
    following = following or steps[index + 1 :]
    if following and not case.closed:
        try:
            send(case, to_decision(following[0], "next"), now)
        except DecisionRefused as refused:
            # Only a refusal the probe explains (it moved the case on, or used its slot).
            assert accepted, f"the case refused its next decision: {refused.message}"
    # Its alerts and status still compute.
    case.fire_due_alerts(now + timedelta(days=1))
    assert case.status(now + timedelta(days=1)).case_ref == case.case_ref


@pytest.mark.parametrize("kind", list(DecisionKind))
def test_every_kind_is_reached_by_a_probe(kind: DecisionKind) -> None:
    """The probes above cover every decision kind: each is due somewhere on a route (and the
    route is valid up to it), or is an extension or a planned publication."""
    for route, steps in ROUTES.items():
        walk = steps(TODAY)
        if any(step[0] == kind.value for step in walk):
            driven(route, len(walk))  # the whole walk is accepted
            return
    assert kind in (DecisionKind.DEADLINE_EXTENDED, DecisionKind.PUBLICATION_PLANNED)
