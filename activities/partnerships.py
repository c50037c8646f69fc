"""Loading a partnership's settings from its profile. An activity, so the settings a case starts
with are recorded in its history: a later change to a profile never changes a running case."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from safeguarding.model import DomainModel
from safeguarding.profiles import ProfileError, profile_for
from safeguarding.referral import PartnershipCode
from safeguarding.settings import PartnershipSettings


class LoadPartnershipInput(DomainModel):
    partnership: PartnershipCode


class LoadPartnershipResult(DomainModel):
    settings: PartnershipSettings


@activity.defn
async def load_partnership_settings(input: LoadPartnershipInput) -> LoadPartnershipResult:
    try:
        settings = profile_for(input.partnership)
    except ProfileError as err:
        # Retrying cannot conjure a profile: the case fails at once with the reason.
        raise ApplicationError(str(err), type="UnknownPartnership", non_retryable=True) from None
    return LoadPartnershipResult(settings=settings)
