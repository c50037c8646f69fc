"""The referral: what an agency sends the partnership. It holds only essential personal data.

Everything in `Child` and the free-text `summary` is personal data: it stays inside workflow
payloads and never reaches workflow ids, search attributes, summaries or logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from dateutil.relativedelta import relativedelta
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from safeguarding import horizon
from safeguarding.decisions import LongText, ShortText, explain_validation_error
from safeguarding.model import DomainModel
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import Agency, HarmLocation

PartnershipCode = Annotated[
    str,
    Field(
        min_length=2,
        max_length=16,
        pattern=r"^[A-Z][A-Z0-9_]*$",
        description="the partnership's short code in capitals, e.g. LSCP",
    ),
]

#: One notification covers one incident and at most four children.
MAX_CHILDREN = 4
MAX_REFERRAL_BYTES = 64 * 1024


def _not_true_or_false(value: Any) -> Any:
    # pydantic would read `true` as 1: an age given as yes/no is a mistake, not a number.
    if isinstance(value, bool):
        raise ValueError("must be a whole number of years, not true or false")
    return value


def age_on(date_of_birth: date, day: date) -> int:
    """Whole years of age on `day`."""
    return relativedelta(day, date_of_birth).years


class Child(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText = Field(description="name or initials, as the referral form gives it")
    date_of_birth: date | None = None
    age_years: Annotated[int, BeforeValidator(_not_true_or_false), Field(ge=0, le=24)] | None = None
    sex: Literal["female", "male", "unknown"] = "unknown"
    ethnicity: ShortText | None = None
    disability: bool | None = None
    looked_after: bool = False
    child_protection_plan: bool = False
    care_leaver: bool = Field(False, description="a care leaver aged 18 to 24")

    @model_validator(mode="after")
    def _care_leaver_age(self) -> Child:
        if self.care_leaver and self.age_years is not None and self.age_years < 18:
            raise ValueError("a care leaver is aged 18 to 24; age_years is under 18")
        if not self.care_leaver and self.age_years is not None and self.age_years >= 18:
            raise ValueError("a child is under 18; for 18 to 24 set care_leaver")
        return self


class Referrer(DomainModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    agency: Agency
    #: Must be answered on a new referral (`referral_problems`); the default only reads the
    #: referrals of cases opened before it had to be.
    discussed_with_safeguarding_lead: bool = Field(
        True, description="the referrer discussed the case with their safeguarding lead first"
    )

    @property
    def answered_discussion(self) -> bool:
        """Whether the referral said if the referrer discussed it with their safeguarding lead
        (rather than taking the default)."""
        return "discussed_with_safeguarding_lead" in self.model_fields_set


class Referral(DomainModel):
    """A referral as the coordinator records it on receipt."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partnership: PartnershipCode
    referrer: Referrer
    received_on: date = Field(description="day the partnership received the referral")
    incident_on: date | None = None
    la_aware_on: date | None = Field(
        None,
        description="day the local authority became aware of the incident "
        "(defaults to received_on)",
    )
    harm: Literal["death", "serious_harm", "other"]
    abuse_or_neglect_suspected: bool
    where_harmed: HarmLocation | None = Field(
        None,
        description="where the child died or was seriously harmed: in_area (the local "
        "authority's area), outside_england_normally_resident, or elsewhere; not given: the "
        "area's own",
    )
    children: list[Child] = Field(min_length=1, max_length=MAX_CHILDREN)
    agencies_involved: list[Agency] = Field(default_factory=list, max_length=20)
    summary: LongText = Field(description="what happened, in the referrer's words")
    late_reason: LongText | None = Field(
        None, description="why the referral is later than the partnership's time limit"
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> Referral:
        if self.incident_on and self.incident_on > self.received_on:
            raise ValueError("incident_on is after received_on")
        if self.la_aware_on and self.la_aware_on > self.received_on:
            raise ValueError("la_aware_on is after received_on")
        if self.incident_on and self.la_aware_on and self.la_aware_on < self.incident_on:
            raise ValueError("la_aware_on is before incident_on")
        oldest = horizon.years_before(self.received_on, horizon.CHILD_YEARS)
        for name in ("incident_on", "la_aware_on"):
            day = getattr(self, name)
            if day is not None and day < oldest:
                raise ValueError(
                    f"{name} {day} is more than {horizon.CHILD_YEARS} years before received_on"
                )
        for i, child in enumerate(self.children):
            problem = _birth_problem(child, self.incident_on or self.received_on, self.received_on)
            if problem:
                raise ValueError(f"children.{i}.{problem}")
        if any(c.care_leaver for c in self.children) and not all(
            c.care_leaver for c in self.children
        ):
            raise ValueError("a care leaver's death is notified on its own, not with children")
        return self

    @property
    def aware_on(self) -> date:
        return self.la_aware_on or self.received_on

    @property
    def care_leaver(self) -> bool:
        return all(c.care_leaver for c in self.children)


def _birth_problem(child: Child, harmed_on: date, received_on: date) -> str | None:
    """What is implausible about a child's date of birth: after the referral, older than a
    child or care leaver can be, or a different age from the one given."""
    born = child.date_of_birth
    if born is None:
        return None
    if born > harmed_on:
        return f"date_of_birth: {born} is after the incident (or the referral)"
    ages = {age_on(born, harmed_on), age_on(born, received_on)}
    if child.age_years is not None and child.age_years not in ages:
        shown = " or ".join(str(a) for a in sorted(ages))
        return (
            f"age_years: {child.age_years} does not match date_of_birth {born} (age {shown} then)"
        )
    age = min(ages)
    if age > 24:
        return f"date_of_birth: {born} makes them {age}; a care leaver is under 25"
    if child.care_leaver and max(ages) < 18:
        return f"date_of_birth: {born} makes them {age}; a care leaver is aged 18 to 24"
    if not child.care_leaver and age >= 18:
        return f"date_of_birth: {born} makes them {age}; for 18 to 24 set care_leaver"
    return None


@dataclass(frozen=True)
class ReferralProblem:
    """Something a referral gets wrong or lacks, by the referral field it is about (a form
    shows it beside that field; the command line names the field)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def received_problem(referral: Referral, today: date) -> ReferralProblem | None:
    """The received date's problem alone, whatever the partnership: in the future, or longer
    ago than a case is entered late."""
    if referral.received_on > today:
        return ReferralProblem("received_on", f"{referral.received_on} is in the future")
    earliest = horizon.earliest_received(today)
    if referral.received_on < earliest:
        return ReferralProblem(
            "received_on",
            f"{referral.received_on} is more than {horizon.REFERRAL_YEARS_BACK} years ago "
            f"(the earliest allowed is {earliest})",
        )
    return None


def referral_problem(referral: Referral, today: date) -> str | None:
    """What makes a referral implausible on `today` (its own fields are checked by the
    model): received in the future or longer ago than a case is entered late. The workflow
    refuses such a start whatever the partnership (its message is in recorded histories)."""
    problem = received_problem(referral, today)
    return str(problem) if problem else None


def referral_problems(
    referral: Referral, settings: PartnershipSettings, today: date
) -> list[ReferralProblem]:
    """Everything that stops a referral opening a case with this partnership on `today`,
    beyond the shape its model checks: an implausible received date, the wrong partnership's
    settings, the safeguarding-lead discussion not answered (yes or no: no default for a new
    referral), and a late referral (past the partnership's time limit after the incident)
    without its reason. Empty: complete. Every interface asks this before it starts a case."""
    problems = []
    received = received_problem(referral, today)
    if received:
        problems.append(received)
    if referral.partnership != settings.code:
        problems.append(
            ReferralProblem(
                "partnership",
                f"{referral.partnership} is not {settings.name} ({settings.code})",
            )
        )
    if not referral.referrer.answered_discussion:
        problems.append(
            ReferralProblem(
                "referrer.discussed_with_safeguarding_lead",
                "say whether the referrer discussed the case with their safeguarding lead "
                "first (yes or no)",
            )
        )
    late = days_late(referral, settings.referral_time_limit_days)
    if late is not None and not referral.late_reason:
        # A late referral is still taken: flagged, and the reason recorded with it.
        problems.append(
            ReferralProblem(
                "late_reason",
                f"the referral is {late} day(s) past {settings.name}'s limit of "
                f"{settings.referral_time_limit_days} days after the incident: it is accepted "
                "and flagged, with the reason; give the reason",
            )
        )
    return problems


def notification_criteria_unmet(referral: Referral) -> list[str]:
    """The statutory criteria for a Serious Incident Notification (Children Act 2004, s.16C(1))
    that the referral does not meet, each in words; empty: notifiable. A child: abuse or neglect
    known or suspected, and the child died or was seriously harmed in the local authority's
    area, or outside England while normally resident in it (`where_harmed`; not given: the
    area's own). A care leaver under 25: their death."""
    if referral.care_leaver:
        if referral.harm != "death":
            return [f"a care leaver's death is notified, not {referral.harm.replace('_', ' ')}"]
        return []
    unmet = []
    if not referral.abuse_or_neglect_suspected:
        unmet.append("abuse or neglect is not known or suspected")
    if referral.harm not in ("death", "serious_harm"):
        unmet.append("the child neither died nor was seriously harmed")
    if referral.where_harmed is HarmLocation.ELSEWHERE:
        unmet.append(
            "the child was harmed neither in the local authority's area nor outside England "
            "while normally resident in it"
        )
    return unmet


def days_late(referral: Referral, limit_days: int | None) -> int | None:
    """Days past the partnership's time limit between incident and referral (None: in time,
    no limit, or no incident date)."""
    if limit_days is None or referral.incident_on is None:
        return None
    over = (referral.received_on - referral.incident_on).days - limit_days
    return over if over > 0 else None


class InvalidReferral(ValueError):
    pass


def parse_referral(raw: Any, *, today: date | None = None) -> Referral:
    """Validate untrusted input as a referral; the error lists every problem by field."""
    if not isinstance(raw, dict):
        raise InvalidReferral(f"a referral must be a JSON object, not {type(raw).__name__}")
    try:
        referral = Referral.model_validate(raw)
    except ValidationError as err:
        raise InvalidReferral(
            f"referral refused: {explain_validation_error(err, 'referral')}"
        ) from err
    problem = referral_problem(referral, today) if today is not None else None
    if problem:
        raise InvalidReferral(f"referral refused: {problem}")
    return referral
