"""The reports page: the caseload summary and the register's reports, its timeliness chart
and its files to download."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from console import permissions, reports
from console.backend import CaseFilter
from console.deps import Backend, Console, ConsoleState, CurrentUser, visible_codes
from console.rendering import render
from console.users import User
from safeguarding.clock import uk_today

router = APIRouter()
log = logging.getLogger(__name__)


def _chosen(user: User, console: ConsoleState, partnership: str) -> str | None:
    """The partnership the reports are for: one the user may see (None: all, for those who see
    every partnership)."""
    codes = console.partnership_choices(user)
    chosen = partnership if partnership in dict(codes) else None
    if chosen is None and "*" not in user.partnerships and codes:
        chosen = next((c for c in user.partnerships if c in dict(codes)), codes[0][0])
    return chosen


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request, user: CurrentUser, console: Console, backend: Backend, partnership: str = ""
) -> Response:
    rows = await backend.list_cases(CaseFilter(visible=visible_codes(user)))
    chosen = _chosen(user, console, partnership)
    # The register is read with a blocking driver: off the event loop.
    personal = user.role in permissions.PERSONAL_DATA_ROLES  # the themes span many cases
    register = await asyncio.to_thread(
        reports.register_reports, chosen, uk_today(console.now()), personal
    )
    query = f"?partnership={chosen}" if chosen else ""
    return render(
        request,
        "reports.html",
        {
            "title": "Reports",
            "summary": reports.caseload_summary(rows),
            "register": register,
            "partnerships": console.partnership_choices(user),
            "chosen": chosen or "",
            "every": "*" in user.partnerships,
            "files": [
                (f"/reports/files/{name}{query}", words)
                for name, (words, _) in reports.FILES.items()
            ],
            "chart_src": f"/reports/files/timeliness.png{query}",
        },
    )


@router.get("/reports/files/{name}")
async def report_file(
    name: str, user: CurrentUser, console: Console, partnership: str = ""
) -> Response:
    """One of the register's report files, for a partnership the user may see; the summary's
    themes only for the roles that see personal data, as on the page."""
    if name not in reports.FILES:
        return PlainTextResponse(
            f"No such report file: one of {', '.join(reports.FILES)}.", status_code=404
        )
    if not reports.register_available():
        return PlainTextResponse("The register is not configured.", status_code=404)
    chosen = _chosen(user, console, partnership)
    personal = user.role in permissions.PERSONAL_DATA_ROLES
    try:
        found = await asyncio.to_thread(
            reports.register_file, name, chosen, uk_today(console.now()), personal
        )
    except Exception as err:
        log.warning("report file %s could not be built: %s", name, type(err).__name__)
        return PlainTextResponse(
            f"The register could not be read ({type(err).__name__}).", status_code=503
        )
    inline = found.media_type == "image/png"  # the chart is shown on the page too
    disposition = "inline" if inline else "attachment"
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{found.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
