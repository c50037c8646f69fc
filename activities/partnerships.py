"""Loading a partnership's settings. An activity, so the settings a case starts with are recorded in
its history and a later change to a profile never changes a running case on replay."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity

from safeguarding.referral import PartnershipCode
from safeguarding.settings import PartnershipSettings


class LoadPartnershipInput(BaseModel):
    partnership: PartnershipCode


class LoadPartnershipResult(BaseModel):
    settings: PartnershipSettings


def settings_for(code: str) -> PartnershipSettings:
    """England-wide defaults under the partnership's code (profiles per partnership come later)."""
    return PartnershipSettings(code=code, name=f"{code} Safeguarding Children Partnership")


@activity.defn
async def load_partnership_settings(input: LoadPartnershipInput) -> LoadPartnershipResult:
    return LoadPartnershipResult(settings=settings_for(input.partnership))
