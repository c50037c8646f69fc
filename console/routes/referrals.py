"""A new referral: the form, and starting a case from it."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.deps import (
    Backend,
    Console,
    ConsoleState,
    CsrfForm,
    CurrentUser,
    flash,
    refuse_referrals,
)
from console.forms import parse_referral_form, referral_initial, referral_sections
from console.rendering import render
from console.users import User
from safeguarding.clock import uk_today

router = APIRouter()
#: The console's one logger: the audit lines (who sent which decision) are found by its name.
log = logging.getLogger("console")


async def referral_form_page(
    request: Request, console: ConsoleState, user: User, problem: str = "", code: int = 200
) -> Response:
    """The empty form (`problem` on top: the 413 page shows it again)."""
    refuse_referrals(user)
    values = referral_initial(uk_today(console.now()))
    choices = console.partnership_choices(user)
    if len(choices) == 1:
        values["partnership"] = choices[0][0]
    return render(
        request,
        "referral.html",
        {
            "title": "New referral",
            "sections": referral_sections(choices),
            "values": values,
            "errors": {},
            "general": [problem] if problem else [],
        },
        status=code,
    )


@router.get("/referrals/new", response_class=HTMLResponse)
async def referral_page(request: Request, user: CurrentUser, console: Console) -> Response:
    return await referral_form_page(request, console, user)


@router.post("/referrals", response_class=HTMLResponse)
async def refer(
    request: Request, user: CurrentUser, data: CsrfForm, console: Console, backend: Backend
) -> Response:
    refuse_referrals(user)
    choices = console.partnership_choices(user)
    sections = referral_sections(choices)
    visible = {code: console.settings_for(code) for code, _ in choices}
    referral, state = parse_referral_form(sections, data, uk_today(console.now()), visible)
    if referral is None:
        return render(
            request,
            "referral.html",
            {
                "title": "New referral (check the form)",
                "sections": sections,
                "values": state.values,
                "errors": state.errors,
                "general": state.general,
            },
            status=422,
        )
    case_ref = await backend.start(referral)
    log.info("case %s opened by %s", case_ref, user.username)
    flash(request, f"Case {case_ref} opened for {referral.partnership}.")
    return RedirectResponse(f"/cases/{case_ref}", status_code=303)
