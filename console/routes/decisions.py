"""Decision forms, sending a decision to the case, and the decisions a user owes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from console import permissions, timeline
from console.backend import (
    BackendError,
    BackendUnavailable,
    CaseFilter,
    CaseNotReady,
    CaseRow,
    Refused,
)
from console.deps import (
    Backend,
    Console,
    ConsoleState,
    CsrfForm,
    CurrentUser,
    Refusal,
    flash,
    load_status,
    refuse_role,
    visible_codes,
)
from console.forms import (
    DecisionForm,
    FormState,
    initial_values,
    is_decision_id,
    new_decision_id,
    parse_decision_form,
)
from console.labels import DECISION_TITLES, done_title
from console.rendering import render, state_words
from console.users import User
from safeguarding.case import CaseStatus, DecisionResult
from safeguarding.vocabulary import DecisionKind

router = APIRouter()
#: The console's one logger: the audit lines (who sent which decision) are found by its name.
log = logging.getLogger("console")

#: Where a decision's page goes back to, by the `back` field.
BACK_TO = ("case", "my", "actions")


def kind_of(text: str) -> DecisionKind:
    try:
        return DecisionKind(text)
    except ValueError:
        raise Refusal(
            404, "No such decision", f"There is no decision called {text[:40]!r}."
        ) from None


def _back(value: str | None) -> str:
    return value if value in BACK_TO else "case"


def confirmation(kind: DecisionKind, result: DecisionResult) -> str:
    """What the page says once a decision is recorded, from its title (issue 15: "Notification
    submitted recorded" read badly): "Recorded: Triage decision. Stage now: Serious Incident
    Notification." for every kind and stage."""
    return f"Recorded: {done_title(kind)}. Stage now: {result.stage.label}."


def _check_may_decide(
    console: ConsoleState, user: User, kind: DecisionKind, status: CaseStatus
) -> None:
    if user.person is None:
        raise refuse_role(user, "make decisions")
    settings_ = console.settings_for(status.partnership)
    if not permissions.may_make(user, kind, settings_):
        needed = permissions.authority_text(kind, settings_)
        raise refuse_role(user, f"record “{DECISION_TITLES[kind]}”: it needs a {needed}")


def _decision_context(
    user: User,
    status: CaseStatus,
    kind: DecisionKind,
    form: DecisionForm,
    values: dict[str, Any],
    state: FormState | None = None,
    refusal: Refused | None = None,
    back: str = "case",
) -> dict[str, Any]:
    return {
        "title": f"{form.title} — case {status.case_ref}",
        "status": status,
        "kind": kind,
        "form": form,
        "values": values,
        "errors": state.errors if state else {},
        "general": state.general if state else [],
        "refusal": refusal,
        "expected": kind in status.decisions_allowed,
        "back": back,
        "who": user.describe(),
    }


async def decision_form_page(
    request: Request,
    console: ConsoleState,
    user: User,
    case_ref: str,
    kind_text: str,
    problem: str = "",
    code: int = 200,
) -> Response:
    """The form for one decision (`problem` on top: the 413 page shows it again)."""
    kind = kind_of(kind_text)
    status = await load_status(console, user, case_ref)
    _check_may_decide(console, user, kind, status)
    form = console.form_for(user, kind, status)
    prefill = {k: v for k, v in request.query_params.items() if k in ("action_id", "deadline_id")}
    values = initial_values(form, prefill)
    back = _back(request.query_params.get("back"))
    context = _decision_context(user, status, kind, form, values, back=back)
    if problem:
        context["general"] = [problem]
    return render(request, "decide.html", context, status=code)


@router.get("/cases/{case_ref}/decide/{kind_text}", response_class=HTMLResponse)
async def decision_page(
    request: Request, case_ref: str, kind_text: str, user: CurrentUser, console: Console
) -> Response:
    return await decision_form_page(request, console, user, case_ref, kind_text)


def _resend_page(
    request: Request, case_ref: str, kind: DecisionKind, data: FormData, err: BackendError
) -> Response:
    """What was sent, decision id and all, to send again: applied once however often sent."""
    fields = [
        (str(k), str(v)) for k, v in data.multi_items() if k != "csrf_token" and isinstance(v, str)
    ]
    decision_id = str(data.get("decision_id") or "")
    if not is_decision_id(decision_id):
        decision_id = new_decision_id()
        fields = [(k, v) for k, v in fields if k != "decision_id"]
        fields.append(("decision_id", decision_id))
    log.info("decision %s on %s not sent: %s", decision_id, case_ref, type(err).__name__)
    title = (
        "The case is opening" if isinstance(err, CaseNotReady) else "The case system did not answer"
    )
    return render(
        request,
        "resend.html",
        {
            "title": title,
            "message": f"{err} Your decision was not recorded yet.",
            "fields": fields,
            "decision_id": decision_id,
            "action": f"/cases/{quote(case_ref)}/decide/{kind.value}",
            "case_ref": case_ref,
        },
        status=503,
    )


@router.post("/cases/{case_ref}/decide/{kind_text}", response_class=HTMLResponse)
async def decide(
    request: Request,
    case_ref: str,
    kind_text: str,
    user: CurrentUser,
    data: CsrfForm,
    console: Console,
    backend: Backend,
) -> Response:
    kind = kind_of(kind_text)
    try:
        status = await load_status(console, user, case_ref)
    except (BackendUnavailable, CaseNotReady) as err:
        # The worker is down (or the case still opening): keep what was sent, decision id
        # and all, so that sending it again later applies it once.
        return _resend_page(request, case_ref, kind, data, err)
    _check_may_decide(console, user, kind, status)
    assert user.person is not None
    form = console.form_for(user, kind, status)
    back = _back(str(data.get("back") or ""))
    body, state = parse_decision_form(form, data, user.person)
    if body is None:
        context = _decision_context(user, status, kind, form, state.values, state, back=back)
        return render(request, "decide.html", context, status=422)
    try:
        result = await backend.decide(status.case_ref, body)
    except Refused as refused:
        log.info(
            "decision %s refused on %s for user %s: %s %s",
            body["decision_id"],
            status.case_ref,
            user.username,
            kind.value,
            refused.kind,
        )
        values = {**state.values, "decision_id": new_decision_id()}
        context = _decision_context(
            user, status, kind, form, values, state, refusal=refused, back=back
        )
        return render(request, "decide.html", context, status=409)
    except BackendUnavailable as err:
        state.general.append(str(err))
        context = _decision_context(user, status, kind, form, state.values, state, back=back)
        return render(request, "decide.html", context, status=503)
    return _recorded(request, user, kind, status.case_ref, body, result, back)


def _recorded(
    request: Request,
    user: User,
    kind: DecisionKind,
    case_ref: str,
    body: dict[str, Any],
    result: DecisionResult,
    back: str,
) -> Response:
    """Say what the decision did, and go back where the user came from."""
    # The audit line ties the decision to the signed-in account (its `by` is built from the
    # same account); no personal data of a child goes in it.
    log.info(
        "decision %s (%s) on %s %s for user %s",
        body["decision_id"],
        kind.value,
        case_ref,
        "was already recorded" if result.duplicate else "recorded",
        user.username,
    )
    lines = [
        f"{d.title}: due {timeline.day_label(d.due_on)} ({state_words(d.state).lower()})"
        for d in result.deadlines
    ]
    if result.duplicate:
        flash(request, f"Already recorded: {done_title(kind)}. Nothing changed.")
    else:
        flash(request, confirmation(kind, result), [f"New deadline — {x}" for x in lines])
    target = {"my": "/my-decisions", "actions": f"/cases/{case_ref}/actions"}.get(
        back, f"/cases/{case_ref}"
    )
    return RedirectResponse(target, status_code=303)


@router.get("/my-decisions", response_class=HTMLResponse)
async def my_decisions(
    request: Request, user: CurrentUser, console: Console, backend: Backend
) -> Response:
    items: list[dict[str, Any]] = []
    problems: list[str] = []
    if user.person is not None:
        rows = await backend.list_cases(CaseFilter(visible=visible_codes(user)))
        gate = asyncio.Semaphore(8)

        async def one(row: CaseRow) -> None:
            async with gate:
                try:
                    status = await backend.status(row.case_ref)
                except BackendError as err:
                    problems.append(f"{row.case_ref}: {err}")
                    return
            item = _owed(console, user, status)
            if item is not None:
                items.append(item)

        await asyncio.gather(*(one(r) for r in rows if r.running))
        items.sort(key=_soonest_first)
    return render(
        request,
        "my_decisions.html",
        {"title": "My decisions", "items": items, "problems": sorted(problems)},
    )


def _owed(console: ConsoleState, user: User, status: CaseStatus) -> dict[str, Any] | None:
    """A case's decisions this user owes, with their forms (None: none, or not their case)."""
    if not user.may_see(status.partnership):
        return None
    kinds = permissions.owed(user, status, console.settings_for(status.partnership))
    if not kinds:
        return None
    forms = [console.form_for(user, k, status) for k in kinds]
    return {"status": status, "forms": [(f.kind, f, initial_values(f)) for f in forms]}


def _soonest_first(item: dict[str, Any]) -> tuple[Any, ...]:
    status: CaseStatus = item["status"]
    due = status.next_deadline
    return (due is None, due.due_on if due else None, status.case_ref)
