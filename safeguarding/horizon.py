"""How far from today a date that someone gives the system may lie.

Every date a referral or a decision carries is bounded on both sides. A date a real case could
never need (year 9999, year 1) is refused with the field named, before it reaches deadline
planning: unbounded, it could make planning fail and leave the case unable to take its next
decision (RELIABILITY.md, "poison decision").
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from datetime import date
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel

#: The latest date a decision may set, in years after today: an action plan, an extended
#: deadline or a planned publication a real case could need (plans run for a few years).
YEARS_AHEAD = 5
#: The earliest date a decision may carry, in years before the referral was received (or
#: today, if earlier): when the local authority became aware, a meeting recorded late.
YEARS_BACK = 5
#: The earliest a referral may say the partnership received it, in years before today (a
#: case entered late, or moved over from a spreadsheet).
REFERRAL_YEARS_BACK = 5
#: The oldest a child in a referral can be (a care leaver is under 25), in years: bounds the
#: date of birth and the incident date before the referral.
CHILD_YEARS = 25


# The edges are asked for on every decision's check with the same few days: remembered.
@lru_cache(maxsize=64)
def latest(today: date) -> date:
    """The latest date any decision may set."""
    if today.year > date.max.year - YEARS_AHEAD:
        return date.max
    result: date = today + relativedelta(years=YEARS_AHEAD)
    return result


@lru_cache(maxsize=256)
def earliest(received_on: date, today: date) -> date:
    """The earliest date a decision on a case received on `received_on` may carry."""
    return years_before(min(received_on, today), YEARS_BACK)


def earliest_received(today: date) -> date:
    return years_before(today, REFERRAL_YEARS_BACK)


def years_before(day: date, years: int) -> date:
    """`years` before `day`, or the first day there is (for a day near year 1)."""
    if day.year <= years:
        return date.min
    result: date = day - relativedelta(years=years)
    return result


def dates_in(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, date]]:
    """Every date a model carries, with its field path (`requests.0.due_on`), through nested
    models and lists: so a decision kind added later is bounded without naming its fields."""
    for name in _may_hold_dates(type(model)):
        yield from _dates(getattr(model, name), f"{prefix}{name}")


#: Field types that never hold a date (an enum of text or numbers is one of these).
_DATE_FREE = (str, int, float, bool, types.NoneType, Enum)


@lru_cache(maxsize=256)  # bounded: a model class made per workflow run would add one per run
def _may_hold_dates(kind: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a model whose declared type can hold a date (itself, in a model or a list),
    worked out once per model: text, number and enum fields are not walked. In the workflow
    sandbox every `isinstance` goes through the sandbox's wrapper, so a check walking every
    field of every decision cost several times what it does outside."""
    return tuple(
        name for name, field in kind.model_fields.items() if _can_hold_date(field.annotation)
    )


def _can_hold_date(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Literal:
        return False
    if origin is Annotated:
        return _can_hold_date(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(_can_hold_date(arg) for arg in get_args(annotation))
    # A date, a model, a list, anything not known to be date-free: walked.
    return not (isinstance(annotation, type) and issubclass(annotation, _DATE_FREE))


def _dates(value: object, path: str) -> Iterator[tuple[str, date]]:
    if isinstance(value, date):
        yield path, value
    elif isinstance(value, BaseModel):
        yield from dates_in(value, f"{path}.")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _dates(item, f"{path}.{i}")


def out_of_range(model: BaseModel, low: date, high: date) -> str | None:
    """The first date in `model` outside [low, high], as a refusal naming the field."""
    for path, day in dates_in(model):
        if day < low:
            return f"{path}: {day} is too far in the past (the earliest allowed is {low})"
        if day > high:
            return (
                f"{path}: {day} is too far ahead (the latest allowed is {high}, "
                f"{YEARS_AHEAD} years from today)"
            )
    return None


def describe() -> str:
    """The horizon in words, for `sro kinds` and the console."""
    return (
        f"Dates: at most {YEARS_AHEAD} years from today; at most {YEARS_BACK} years before "
        f"the referral was received."
    )
