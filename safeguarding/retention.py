"""How long a closed case's records are kept, and which of them are due for disposal (issue 14,
point 3; DATA-PROTECTION.md "Retention schedule").

Each partnership profile may give a `[retention]` table; the defaults below are marked *(check)*:
neither Working Together 2023 nor the partnerships' published pages (the seeds) set a period, so
each is a setting for the partnership's records manager to confirm against its own retention
schedule. No I/O here: the disposal run (workflows/disposal.py) asks this module which rules are
due for a case, from what the register holds about it.

Two kinds of record are disposed of, each under its own rule:

- `personal_data`: the children's personal data and every free text that may quote people
  (history entries and decisions that may, action plans, learning notes, the case's free-text
  columns), `personal_data_years` after closure, and never before the youngest child may have
  reached `until_child_age` (the register holds only an age band, so the youngest child is taken
  to be as young as the band allows: a conservative date).
- `professional_names`: who decided what (a professional's name), `professional_names_years`
  after closure. Roles, agencies, dates and outcomes stay.

What stays for ever: the national statistics (the children's rows without anything identifying),
counts, dates, stages, routes and deadline outcomes, so the annual figures still count the case.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from safeguarding.model import DomainModel

Years = Annotated[int, Field(ge=1, le=100)]


class DisposalRule(StrEnum):
    """A rule of the schedule: what a disposal removes (recorded with each disposal)."""

    PERSONAL_DATA = "personal_data"
    PROFESSIONAL_NAMES = "professional_names"


#: The youngest age each age band allows (projection.AGE_BANDS, the national statistics' bands;
#: a test checks they agree); an unknown band counts as newborn (the longest wait).
BAND_YOUNGEST = {
    "under 1": 0,
    "1 to 5": 1,
    "6 to 10": 6,
    "11 to 15": 11,
    "16 to 17": 16,
    "18 to 24": 18,
    "unknown": 0,
}


class RetentionSchedule(DomainModel):
    """How long after a case closes each kind of its records is kept (`[retention]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The children's personal data and the free text of decisions, history and actions.
    personal_data_years: Years = 7  # (check)
    #: ... and not before the youngest child may have reached this age (none: no such floor).
    until_child_age: Annotated[int, Field(ge=18, le=100)] | None = 25  # (check)
    #: Who decided what (professionals' names): accountability for the review.
    professional_names_years: Years = 15  # (check)
    #: Where the schedule comes from (the records manager's confirmation), for the record.
    basis: str = Field(
        "defaults (check): confirm with the partnership's records manager",
        min_length=1,
        max_length=300,
    )

    @model_validator(mode="after")
    def _names_outlive_free_text(self) -> RetentionSchedule:
        if self.professional_names_years < self.personal_data_years:
            raise ValueError(
                f"professional_names_years ({self.professional_names_years}) is shorter than "
                f"personal_data_years ({self.personal_data_years}): who decided would go "
                "before what they decided"
            )
        return self

    def due_on(
        self, rule: DisposalRule, closed_on: date, received_on: date, age_bands: list[str]
    ) -> date:
        """The first day a closed case's records fall due for disposal under `rule`."""
        if rule is DisposalRule.PROFESSIONAL_NAMES:
            return _add_years(closed_on, self.professional_names_years)
        due = _add_years(closed_on, self.personal_data_years)
        if self.until_child_age is not None:
            youngest = min((BAND_YOUNGEST.get(b, 0) for b in age_bands), default=0)
            due = max(due, _add_years(received_on, self.until_child_age - youngest))
        return due

    def rule_text(self, rule: DisposalRule) -> str:
        """The rule in words, recorded with each disposal."""
        if rule is DisposalRule.PROFESSIONAL_NAMES:
            return f"professional names {self.professional_names_years} years after closure"
        floor = (
            f", not before the youngest child is {self.until_child_age}"
            if self.until_child_age is not None
            else ""
        )
        return f"personal data {self.personal_data_years} years after closure{floor}"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def due_rules(
    schedule: RetentionSchedule,
    *,
    closed_on: date | None,
    received_on: date,
    age_bands: list[str],
    today: date,
    done: frozenset[DisposalRule] = frozenset(),
) -> list[DisposalRule]:
    """The rules due for a case today and not yet applied (an open case: none)."""
    if closed_on is None:
        return []
    return [
        rule
        for rule in DisposalRule
        if rule not in done and schedule.due_on(rule, closed_on, received_on, age_bands) <= today
    ]
