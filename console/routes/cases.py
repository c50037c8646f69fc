"""The caseload, a case's page and its action plan."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import access, permissions, timeline
from console.backend import CaseFilter, CaseRow
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
from console.rendering import render, state_words
from console.users import ConsoleRole, User
from safeguarding.case import Action, CaseStatus, HistoryKind
from safeguarding.clock import uk_today
from safeguarding.vocabulary import ActionStatus, DecisionKind, Route, Stage

router = APIRouter()


@router.get("/")
async def home(user: CurrentUser) -> Response:
    return RedirectResponse("/cases", status_code=303)


@router.get("/cases", response_class=HTMLResponse)
async def caseload(
    request: Request,
    user: CurrentUser,
    console: Console,
    backend: Backend,
    stage: str = "",
    route: str = "",
    partnership: str = "",
    overdue: str = "",
    closed: str = "",
) -> Response:
    problems = []
    chosen_stage = Stage(stage) if stage in Stage.__members__.values() else None
    chosen_route = Route(route) if route in Route.__members__.values() else None
    codes = console.partnership_choices(user)
    chosen_partnership = partnership if partnership in dict(codes) else None
    if stage and chosen_stage is None:
        problems.append("Unknown stage: ignored.")
    if partnership and chosen_partnership is None:
        problems.append("You cannot see that partnership: ignored.")
    where = CaseFilter(
        stage=chosen_stage,
        route=chosen_route,
        partnership=chosen_partnership,
        overdue=bool(overdue),
        include_closed=bool(closed),
        visible=visible_codes(user),
    )
    rows = await backend.list_cases(where)
    rows.sort(key=_row_order)
    return render(
        request,
        "caseload.html",
        {
            "title": "Caseload",
            "rows": [(row, _row_state(row)) for row in rows],
            "stages": [(s.value, s.label) for s in Stage],
            "routes": [(r.value, option_label(r)) for r in Route],
            "partnerships": codes,
            "chosen": {
                "stage": chosen_stage.value if chosen_stage else "",
                "route": chosen_route.value if chosen_route else "",
                "partnership": chosen_partnership or "",
                "overdue": bool(overdue),
                "closed": bool(closed),
            },
            "problems": problems,
        },
    )


def _row_state(row: CaseRow) -> tuple[str, str]:
    """(css class, words) for a caseload row's state."""
    if not row.running:
        return "closed", "Closed"
    if row.overdue:
        return "overdue", "Overdue"
    if row.next_deadline_state is not None:
        return row.next_deadline_state.value, state_words(row.next_deadline_state)
    if row.next_deadline_on is None:
        return "none", "No deadline"
    return "unknown", "Not known"


def _row_order(row: CaseRow) -> tuple[bool, bool, str, str]:
    due = row.next_deadline_on.isoformat() if row.next_deadline_on else ""
    return (not row.running, row.next_deadline_on is None, due, row.case_ref)


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
