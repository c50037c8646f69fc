"""The reports page: the caseload summary and the register's reports."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from console import permissions, reports
from console.backend import CaseFilter
from console.deps import Backend, Console, CurrentUser, visible_codes
from console.rendering import render
from safeguarding.clock import uk_today

router = APIRouter()


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request, user: CurrentUser, console: Console, backend: Backend, partnership: str = ""
) -> Response:
    rows = await backend.list_cases(CaseFilter(visible=visible_codes(user)))
    codes = console.partnership_choices(user)
    every = "*" in user.partnerships
    chosen = partnership if partnership in dict(codes) else None
    if chosen is None and not every and codes:
        chosen = next((c for c in user.partnerships if c in dict(codes)), codes[0][0])
    # The register is read with a blocking driver: off the event loop.
    personal = user.role in permissions.PERSONAL_DATA_ROLES  # the themes span many cases
    register = await asyncio.to_thread(
        reports.register_reports, chosen, uk_today(console.now()), personal
    )
    return render(
        request,
        "reports.html",
        {
            "title": "Reports",
            "summary": reports.caseload_summary(rows),
            "register": register,
            "partnerships": codes,
            "chosen": chosen or "",
            "every": every,
        },
    )
