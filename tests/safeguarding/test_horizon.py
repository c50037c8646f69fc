"""The horizon: how far from today any date someone gives may lie (issue #11)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from safeguarding import horizon
from safeguarding.decisions import DECISION_MODELS, parse_decision
from tests.factories import CHAIR

TODAY = date(2026, 12, 4)


def test_the_edges() -> None:
    assert horizon.latest(TODAY) == date(2031, 12, 4)
    assert horizon.earliest(date(2026, 11, 20), TODAY) == date(2021, 11, 20)
    assert horizon.earliest(date(2027, 1, 5), TODAY) == date(2021, 12, 4)  # today is earlier
    assert horizon.earliest_received(TODAY) == date(2021, 12, 4)
    # Near the ends of the calendar the edges clamp instead of overflowing.
    assert horizon.latest(date(9998, 1, 1)) == date.max
    assert horizon.years_before(date(3, 1, 1), 25) == date.min


def test_every_date_a_decision_carries_is_found_with_its_path() -> None:
    made = parse_decision(
        {
            "kind": "information_requested",
            "decision_id": "r-1",
            "by": CHAIR.model_dump(mode="json"),
            "occurred_on": "2026-12-01",
            "requests": [{"agency": "police"}, {"agency": "health", "due_on": "2026-12-20"}],
        }
    )
    assert list(horizon.dates_in(made)) == [
        ("occurred_on", date(2026, 12, 1)),
        ("requests.1.due_on", date(2026, 12, 20)),
    ]
    assert horizon.out_of_range(made, date(2026, 12, 2), date(2030, 1, 1)) == (
        "occurred_on: 2026-12-01 is too far in the past (the earliest allowed is 2026-12-02)"
    )
    assert horizon.out_of_range(made, date(2026, 1, 1), date(2026, 12, 19)) == (
        "requests.1.due_on: 2026-12-20 is too far ahead (the latest allowed is 2026-12-19, "
        "5 years from today)"
    )
    assert horizon.out_of_range(made, date(2026, 1, 1), date(2030, 1, 1)) is None


@given(st.dates())
def test_the_window_is_never_empty_and_holds_today(today: date) -> None:
    low = horizon.earliest(today, today)
    high = horizon.latest(today)
    assert low <= today <= high


def _schema_has_a_date(schema: object, defs: dict[str, object]) -> bool:
    if isinstance(schema, dict):
        if schema.get("format") in ("date", "date-time"):
            return True
        ref = schema.get("$ref")
        if isinstance(ref, str) and _schema_has_a_date(defs[ref.rsplit("/", 1)[-1]], defs):
            return True
        return any(_schema_has_a_date(v, defs) for k, v in schema.items() if k != "$defs")
    if isinstance(schema, list):
        return any(_schema_has_a_date(v, defs) for v in schema)
    return False


def test_a_field_left_unwalked_can_never_hold_a_date() -> None:
    """`dates_in` walks only the fields whose type can hold a date: every field it leaves out,
    of every decision kind, has no date anywhere in its JSON schema, and every field with one
    is walked."""
    for kind, model in DECISION_MODELS.items():
        schema = model.model_json_schema()
        defs = schema.get("$defs", {})
        walked = horizon._may_hold_dates(model)
        for name, field_schema in schema["properties"].items():
            if _schema_has_a_date(field_schema, defs):
                assert name in walked, f"{kind}: {name} can hold a date and is not walked"
        assert "occurred_on" in walked and "note" not in walked, kind
