"""The referral: what an agency sends the partnership. It holds only essential personal data.

Everything in `Child` and the free-text `summary` is personal data: it stays inside workflow
payloads and never reaches workflow ids, search attributes, summaries or logs.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from safeguarding.decisions import LongText, ShortText, explain_validation_error
from safeguarding.vocabulary import Agency

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


class Child(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText = Field(description="name or initials, as the referral form gives it")
    date_of_birth: date | None = None
    age_years: Annotated[int, Field(ge=0, le=24)] | None = None
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


class Referrer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    agency: Agency
    discussed_with_safeguarding_lead: bool = Field(
        True, description="the referrer discussed the case with their safeguarding lead first"
    )


class Referral(BaseModel):
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
    if today is not None and referral.received_on > today:
        raise InvalidReferral(
            f"referral refused: received_on: {referral.received_on} is in the future"
        )
    return referral
