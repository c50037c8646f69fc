"""The caseload, a case's page and its action plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from console import access, caseload, permissions, timeline
from console.backend import CaseBackend, CaseFilter, CaseRow
from console.deps import (
    Backend,
    Console,
    ConsoleState,
    CurrentUser,
    load_status,
    refuse_role,
    visible_codes,
)
from console.forms import initial_values
from console.labels import option_label
from console.rendering import render
from console.users import ConsoleRole, User
from safeguarding.case import Action, CaseStatus, HistoryKind
from safeguarding.clock import uk_today
from safeguarding.vocabulary import ActionStatus, DecisionKind, Route, Stage

router = APIRouter()


@router.get("/")
async def home(user: CurrentUser) -> Response:
    return RedirectResponse("/cases", status_code=303)


@dataclass
class _Caseload:
    rows: list[CaseRow]
    chosen: dict[str, Any]
    problems: list[str]
    sort: str | None
    descending: bool


async def _caseload(
    user: User, console: ConsoleState, backend: CaseBackend, query: dict[str, str]
) -> _Caseload:
    """The caseload as asked for: the filters and the sort, each checked (an unknown value is
    ignored and said so, never trusted), the rows in the order shown."""
    problems = []
    stage, route, partnership = query["stage"], query["route"], query["partnership"]
    chosen_stage = Stage(stage) if stage in Stage.__members__.values() else None
    chosen_route = Route(route) if route in Route.__members__.values() else None
    codes = console.partnership_choices(user)
    chosen_partnership = partnership if partnership in dict(codes) else None
    if stage and chosen_stage is None:
        problems.append("Unknown stage: ignored.")
    if route and chosen_route is None:
        problems.append("Unknown route: ignored.")
    if partnership and chosen_partnership is None:
        problems.append("You cannot see that partnership: ignored.")
    sort = query["sort"] if query["sort"] in caseload.BY_KEY else None
    if query["sort"] and sort is None:
        problems.append(
            "Sort: unknown column, ignored (sort by "
            + ", ".join(c.key for c in caseload.COLUMNS)
            + ")."
        )
    if query["order"] not in ("", "asc", "desc"):
        problems.append("Order: write asc or desc; ignored.")
    where = CaseFilter(
        stage=chosen_stage,
        route=chosen_route,
        partnership=chosen_partnership,
        overdue=bool(query["overdue"]),
        include_closed=bool(query["closed"]),
        visible=visible_codes(user),
    )
    descending = query["order"] == "desc"
    rows = caseload.sort_rows(await backend.list_cases(where), sort, descending)
    chosen = {
        "stage": chosen_stage.value if chosen_stage else "",
        "route": chosen_route.value if chosen_route else "",
        "partnership": chosen_partnership or "",
        "overdue": "1" if query["overdue"] else "",
        "closed": "1" if query["closed"] else "",
    }
    return _Caseload(rows, chosen, problems, sort, descending)


def _query(
    stage: str, route: str, partnership: str, overdue: str, closed: str, sort: str, order: str
) -> dict[str, str]:
    return {
        "stage": stage,
        "route": route,
        "partnership": partnership,
        "overdue": overdue,
        "closed": closed,
        "sort": sort,
        "order": order,
    }


@router.get("/cases", response_class=HTMLResponse)
async def caseload_page(
    request: Request,
    user: CurrentUser,
    console: Console,
    backend: Backend,
    stage: str = "",
    route: str = "",
    partnership: str = "",
    overdue: str = "",
    closed: str = "",
    sort: str = "",
    order: str = "",
) -> Response:
    query = _query(stage, route, partnership, overdue, closed, sort, order)
    found = await _caseload(user, console, backend, query)
    shown = {**found.chosen}
    if found.sort:
        shown.update(sort=found.sort, order="desc" if found.descending else "asc")
    return render(
        request,
        "caseload.html",
        {
            "title": "Caseload",
            "rows": [(row, caseload.row_state(row)) for row in found.rows],
            "headers": caseload.header_links(found.chosen, found.sort, found.descending),
            "csv_href": "/cases.csv?" + urlencode({k: v for k, v in shown.items() if v}),
            "stages": [(s.value, s.label) for s in Stage],
            "routes": [(r.value, option_label(r)) for r in Route],
            "partnerships": console.partnership_choices(user),
            "chosen": found.chosen,
            "sort": shown.get("sort", ""),
            "order": shown.get("order", ""),
            "problems": found.problems,
        },
    )


@router.get("/cases.csv")
async def caseload_csv(
    user: CurrentUser,
    console: Console,
    backend: Backend,
    stage: str = "",
    route: str = "",
    partnership: str = "",
    overdue: str = "",
    closed: str = "",
    sort: str = "",
    order: str = "",
) -> Response:
    """The caseload exactly as the page shows it (same filters, same order) as CSV. A sort or
    filter the page would ignore is refused here: a file cannot show the warning."""
    query = _query(stage, route, partnership, overdue, closed, sort, order)
    found = await _caseload(user, console, backend, query)
    if found.problems:
        return PlainTextResponse(" ".join(found.problems), status_code=400)
    today = uk_today(console.now())
    return Response(
        caseload.to_csv(found.rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="caseload-{today.isoformat()}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/cases/{case_ref}", response_class=HTMLResponse)
async def case_page(
    request: Request, case_ref: str, user: CurrentUser, console: Console, backend: Backend
) -> Response:
    status = await load_status(console, user, case_ref)
    referral = await backend.referral(case_ref)
    settings_ = console.settings_for(status.partnership)
    kinds = permissions.decisions_now(user, status, settings_)
    forms = [(kind, console.form_for(user, kind, status)) for kind in kinds]
    decisions = [h for h in status.history if h.kind in (HistoryKind.DECISION, HistoryKind.REFUSED)]
    personal = permissions.sees_personal_data(user, status, referral)
    withheld = personal and not await access.record_view(
        console, user, status.case_ref, (access.REFERRAL, access.FREE_TEXT), "case page"
    )
    return render(
        request,
        "case.html",
        {
            "title": f"Case {status.case_ref}",
            "status": status,
            "referral": referral,
            "personal": personal and not withheld,
            "withheld": access.WITHHELD if withheld else None,
            "access_log": access.may_read_log(user),
            "timeline": timeline.render(status, console.now()),
            "forms": [(k, f, initial_values(f)) for k, f in forms],
            "owed": permissions.owed(user, status, settings_),
            "decisions": list(reversed(decisions)),
            "history": list(reversed(status.history)),
            "web_ui": console.web_ui(status.case_ref),
            "settings": settings_,
        },
    )


@router.get("/cases/{case_ref}/actions", response_class=HTMLResponse)
async def action_plan(
    request: Request, case_ref: str, user: CurrentUser, console: Console, backend: Backend
) -> Response:
    status = await load_status(console, user, case_ref)
    referral = await backend.referral(case_ref)
    personal = permissions.sees_personal_data(user, status, referral)
    withheld = (
        personal
        and bool(status.actions)
        and not await access.record_view(
            console, user, status.case_ref, (access.FREE_TEXT,), "action plan"
        )
    )
    settings_ = console.settings_for(status.partnership)
    now_allowed = permissions.decisions_now(user, status, settings_)
    add_form = None
    if DecisionKind.ACTION_ADDED in now_allowed:
        add_form = console.form_for(user, DecisionKind.ACTION_ADDED, status)
    rows = _action_rows(user, status, DecisionKind.ACTION_UPDATED in now_allowed, console)
    return render(
        request,
        "actions.html",
        {
            "title": f"Action plan — case {status.case_ref}",
            "status": status,
            "personal": personal and not withheld,
            "withheld": access.WITHHELD if withheld else None,
            "rows": rows,
            "counts": _action_counts(rows),
            "add_form": add_form,
            "add_values": initial_values(add_form) if add_form else {},
            "stage_allows": DecisionKind.ACTION_ADDED in status.decisions_allowed,
            "settings": settings_,
            "statuses": [(s.value, option_label(s)) for s in ActionStatus],
        },
    )


def _action_rows(
    user: User, status: CaseStatus, may_update: bool, console: ConsoleState
) -> list[tuple[Action, bool, bool]]:
    """(action, late, whether this user may update it), unfinished first, by due date."""
    actions = sorted(status.actions, key=lambda a: (a.status.finished, a.due_on, a.action_id))
    today = uk_today(console.now())
    rows = []
    for action in actions:
        late = not action.status.finished and action.due_on < today
        own = user.role is not ConsoleRole.PANEL_MEMBER or action.lead_agency == user.agency
        rows.append((action, late, may_update and own and not action.status.finished))
    return rows


def _action_counts(rows: list[tuple[Action, bool, bool]]) -> dict[str, int]:
    actions = [action for action, _, _ in rows]
    return {
        "total": len(actions),
        "finished": sum(1 for a in actions if a.status.finished),
        "overdue": sum(1 for _, late, _ in rows if late),
        "red": sum(1 for a in actions if a.rag and a.rag.value == "red"),
        "amber": sum(1 for a in actions if a.rag and a.rag.value == "amber"),
        "green": sum(1 for a in actions if a.rag and a.rag.value == "green"),
    }


@router.get("/cases/{case_ref}/access-log", response_class=HTMLResponse)
async def access_log_page(
    request: Request, case_ref: str, user: CurrentUser, console: Console
) -> Response:
    """Who has seen the case's personal data: for business managers."""
    if not access.may_read_log(user):
        raise refuse_role(user, "read a case's access log (business managers do)")
    status = await load_status(console, user, case_ref)
    rows = await access.read_log(console, status.case_ref)
    return render(
        request,
        "access_log.html",
        {"title": f"Access log — case {status.case_ref}", "status": status, "rows": rows},
    )
