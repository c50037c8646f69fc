"""The decision handlers and the stage-entry table cover the whole process: every kind of
decision has exactly one handler, every kind the machine takes is handled, and every stage the
machine knows (and every stage a transition enters) says what entering it does."""

from __future__ import annotations

from typing import get_args

from safeguarding import machine
from safeguarding.decisions import DECISION_MODELS
from safeguarding.handlers import HANDLERS, ROUTES
from safeguarding.stages import ON_ENTRY
from safeguarding.vocabulary import DecisionKind, Stage


def test_every_decision_kind_has_a_handler() -> None:
    assert set(HANDLERS) == set(DecisionKind)


def test_each_kind_is_handled_in_exactly_one_route() -> None:
    owners: dict[DecisionKind, list[str]] = {}
    for route in ROUTES:
        for kind in route.HANDLERS:
            owners.setdefault(kind, []).append(route.__name__)
    assert {k: v for k, v in owners.items() if len(v) != 1} == {}


def test_every_decision_the_machine_takes_is_handled() -> None:
    taken = {t.decision for t in machine.TRANSITIONS if t.decision is not None}
    taken |= machine.IN_ANY_OPEN_STAGE
    assert taken <= set(HANDLERS)
    # And nothing is handled that no stage allows.
    allowed = {k for stage in Stage for k in machine.decisions_allowed(stage)}
    assert set(HANDLERS) <= allowed


def test_every_kind_has_a_decision_model() -> None:
    assert set(DECISION_MODELS) == set(HANDLERS)


def test_every_stage_says_what_entering_it_does() -> None:
    entered = {t.target for t in machine.TRANSITIONS} | {machine.INITIAL_STAGE}
    assert entered <= set(ON_ENTRY)
    assert set(ON_ENTRY) == set(Stage)


def test_only_the_final_stage_closes_the_case() -> None:
    assert [s for s, entry in ON_ENTRY.items() if entry.closes_case] == [machine.FINAL_STAGE]


def test_each_handler_takes_its_kinds_decision_model() -> None:
    """A handler is typed by the decision it takes: the registry cannot pair a kind with
    another kind's handler."""
    for kind, handler in HANDLERS.items():
        [base] = type(handler).__orig_bases__  # type: ignore[attr-defined]
        assert get_args(base) == (DECISION_MODELS[kind],), kind
