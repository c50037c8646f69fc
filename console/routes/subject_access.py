"""A case's subject-access bundle, for business managers (issue 14, point 4): the same bundle
as `sro register subject-access`, downloaded as JSON or HTML. Recorded in the access log
(`subject_access`) before it is sent; refused (503) when the record cannot be written."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from console import access
from console.deps import Backend, Console, CurrentUser, Refusal, load_status, refuse_role
from register import access_log
from register import subject_access as held
from register.access_log import SUBJECT_ACCESS
from reports import subject_access as bundles
from reports.subject_access import Source
from safeguarding.referral import Referral

router = APIRouter()

MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8"}


@router.get("/cases/{case_ref}/subject-access/{kind}")
async def subject_access_bundle(
    case_ref: str,
    kind: Literal["json", "html"],
    user: CurrentUser,
    console: Console,
    backend: Backend,
) -> Response:
    """Everything held about the case, as a file to download."""
    if not access.may_read_log(user):
        raise refuse_role(user, "export a case for a subject access request (business managers do)")
    status = await load_status(console, user, case_ref)
    ref, url = status.case_ref, console.settings.database_url
    referral: Referral | None = None
    why_not = ""
    try:
        referral = await backend.referral(ref)
    except Exception as err:  # the case answered its status but not this: left out, said so
        why_not = type(err).__name__
    recorded = await access.record_view(
        console, user, ref, (SUBJECT_ACCESS,), f"subject access export ({kind})"
    )
    if not recorded:
        raise Refusal(503, "Not exported", access.WITHHELD)
    register = await run_in_threadpool(held.read_case, ref, url=url)
    register["access_log"] = access_log.as_dicts(await access.read_log(console, ref))
    made = bundles.build(
        ref,
        register=register,
        referral=referral,
        status=status,
        sources=[
            Source("register", True, "every table about the case"),
            Source("Temporal: the referral", referral is not None, why_not),
            Source("Temporal: the case's status", True, ""),
        ],
        exported_by={"username": user.username, "role": user.role.value,
                     "agency": user.agency.value},
        now=console.now(),
    )  # fmt: skip
    body = bundles.to_json(made) if kind == "json" else bundles.to_html(made)
    return Response(
        body,
        media_type=MEDIA[kind],
        # Not cached: the console's middleware sends no-store on every page.
        headers={"Content-Disposition": f'attachment; filename="subject-access-{ref}.{kind}"'},
    )
