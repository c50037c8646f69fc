"""Issue 13, item 12: professional disagreements (escalations) in the console: the list (with
the review group's oversight threshold from each partnership's profile), raising one, moving it
on a stage and resolving it, through the gateway's `EscalationClient` as `sro escalation` does.

Anyone signed in who makes decisions (every role but read-only) may raise, move on and resolve
an escalation of a partnership they can see: the escalation policy lets any practitioner or
manager in the disagreement do so, and the console records the signed-in user as who did it.
The concern stays in the escalation's (encrypted) payload: never in URLs, titles or logs.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from console import dates
from console.backend import CaseNotFound, CaseNotReady, Refused
from console.deps import (
    OPENING_WAIT_SECONDS,
    Console,
    ConsoleState,
    CsrfForm,
    CurrentUser,
    Refusal,
    flash,
    refuse_role,
    visible_codes,
)
from console.escalations import EscalationBackend, EscalationFilter
from console.forms import is_decision_id, new_decision_id
from console.rendering import render
from console.users import User
from safeguarding.clock import uk_today
from safeguarding.decisions import InvalidDecision, validation_problems
from safeguarding.escalation import Disagreement, EscalationStatus, parse_escalation_decision
from safeguarding.ids import CaseRef, EscalationRef
from safeguarding.vocabulary import Agency

router = APIRouter()
log = logging.getLogger("console")

#: The raise form's fields, in order.
RAISE_FIELDS = ("partnership", "raised_with", "concern", "raised_on", "linked_case_ref")


def get_escalations(console: Console) -> EscalationBackend:
    return cast(EscalationBackend, console.backend)


Escalations = Annotated[EscalationBackend, Depends(get_escalations)]


def may_handle(user: User) -> bool:
    return user.person is not None


def _refuse_unless_may_handle(user: User) -> None:
    if not may_handle(user):
        raise refuse_role(user, "raise, move on or resolve professional disagreements")


def thresholds(console: ConsoleState) -> dict[str, int]:
    return {code: s.escalation_policy.oversight_threshold for code, s in console.profiles.items()}


def _no_such_escalation() -> Refusal:
    return Refusal(404, "No such escalation", "There is no escalation with that reference.")


async def _load(backend: EscalationBackend, user: User, ref: str) -> EscalationStatus:
    ref = ref.strip().upper()
    if not EscalationRef.is_valid(ref) or not user.may_see(ref.split("-", 1)[0]):
        raise _no_such_escalation()
    waited = 0.0
    while True:
        try:
            status = await backend.escalation(ref)
            break
        except CaseNotFound:
            raise _no_such_escalation() from None
        except CaseNotReady:  # just raised: still opening
            if waited >= OPENING_WAIT_SECONDS:
                raise
            await asyncio.sleep(0.25)
            waited += 0.25
    if not user.may_see(status.partnership):
        raise _no_such_escalation()
    return status


# ====================================================================== the list


@router.get("/escalations", response_class=HTMLResponse)
async def escalation_list(
    request: Request,
    user: CurrentUser,
    console: Console,
    backend: Escalations,
    partnership: str = "",
    oversight: str = "",
    closed: str = "",
) -> Response:
    codes = console.partnership_choices(user)
    chosen = partnership if partnership in dict(codes) else None
    problems = ["You cannot see that partnership: ignored."] if partnership and not chosen else []
    where = EscalationFilter(
        partnership=chosen,
        oversight=bool(oversight),
        include_closed=bool(closed),
        visible=visible_codes(user),
    )
    rows = await backend.list_escalations(where, thresholds(console))
    return render(
        request,
        "escalations.html",
        {
            "title": "Professional disagreements",
            "rows": rows,
            "partnerships": codes,
            "chosen": {
                "partnership": chosen or "",
                "oversight": bool(oversight),
                "closed": bool(closed),
            },
            "problems": problems,
            "oversight_by": [(code, console.settings_for(code)) for code, _ in codes],
            "may_handle": may_handle(user),
        },
    )


# ====================================================================== raising


def _raise_page(
    request: Request,
    console: ConsoleState,
    user: User,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "escalation_new.html",
        {
            "title": "Raise a professional disagreement" + (" (check the form)" if errors else ""),
            "partnerships": console.partnership_choices(user),
            "agencies": [(a.value, a.label) for a in Agency],
            "values": values,
            "errors": errors,
        },
        status=status,
    )


@router.get("/escalations/new", response_class=HTMLResponse)
async def raise_form(request: Request, user: CurrentUser, console: Console) -> Response:
    _refuse_unless_may_handle(user)
    choices = console.partnership_choices(user)
    values = {
        "raised_on": dates.uk_numeric(uk_today(console.now())),
        "partnership": choices[0][0] if len(choices) == 1 else "",
    }
    return _raise_page(request, console, user, values, {})


def _disagreement(
    data: FormData, user: User, today: date, visible: list[str]
) -> tuple[Disagreement | None, dict[str, Any], dict[str, str]]:
    values = {name: str(data.get(name) or "").strip() for name in RAISE_FIELDS}
    errors: dict[str, str] = {}
    if values["partnership"] not in visible:
        errors["partnership"] = "Choose a partnership you can see."
    raised_on = today.isoformat()
    if values["raised_on"]:
        try:
            raised_on = dates.parse_day(values["raised_on"]).isoformat()
        except dates.BadDate as err:
            errors["raised_on"] = str(err)
            return None, values, errors
    raw: dict[str, Any] = {
        "partnership": values["partnership"],
        "raised_by": user.person.model_dump(mode="json") if user.person else None,
        "raised_with": values["raised_with"] or None,
        "concern": values["concern"] or None,
        "raised_on": raised_on,
        "linked_case_ref": values["linked_case_ref"].upper() or None,
    }
    try:
        disagreement = Disagreement.model_validate(raw)
    except ValidationError as err:
        for line in validation_problems(err, "partnership"):
            where, _, what = line.partition(": ")
            errors.setdefault(where.split(".")[0], what or line)
        return None, values, errors
    if disagreement.raised_on is not None and disagreement.raised_on > today:
        errors["raised_on"] = f"{dates.uk_numeric(disagreement.raised_on)} is in the future."
    case_ref = disagreement.linked_case_ref
    if case_ref and CaseRef.partnership(case_ref) != disagreement.partnership:
        errors["linked_case_ref"] = (
            f"Case {case_ref} belongs to {CaseRef.partnership(case_ref)}, not "
            f"{disagreement.partnership}."
        )
    return (None if errors else disagreement), values, errors


@router.post("/escalations", response_class=HTMLResponse)
async def raise_escalation(
    request: Request,
    user: CurrentUser,
    data: CsrfForm,
    console: Console,
    backend: Escalations,
) -> Response:
    _refuse_unless_may_handle(user)
    visible = [code for code, _ in console.partnership_choices(user)]
    disagreement, values, errors = _disagreement(data, user, uk_today(console.now()), visible)
    if disagreement is not None and disagreement.linked_case_ref:
        try:
            await console.backend.status(disagreement.linked_case_ref)
        except CaseNotFound:
            errors["linked_case_ref"] = f"There is no case {disagreement.linked_case_ref}."
            disagreement = None
    if disagreement is None:
        return _raise_page(request, console, user, values, errors, status=422)
    ref = await backend.raise_escalation(disagreement)
    log.info("escalation %s raised by %s", ref, user.username)
    flash(request, f"Escalation {ref} raised for {disagreement.partnership}: stage 1.")
    return RedirectResponse(f"/escalations/{ref}", status_code=303)


# ====================================================================== one escalation


def _escalation_page(
    request: Request,
    console: ConsoleState,
    user: User,
    status: EscalationStatus,
    refusal: str | None = None,
    code: int = 200,
) -> Response:
    policy = console.settings_for(status.partnership).escalation_policy
    return render(
        request,
        "escalation.html",
        {
            "title": f"Escalation {status.escalation_ref}",
            "esc": status,
            "threshold": policy.oversight_threshold,
            "last_stage": len(policy.stages),
            "may_handle": may_handle(user) and not status.resolved,
            "sees_history": may_handle(user),
            "escalate_id": new_decision_id(),
            "resolve_id": new_decision_id(),
            "refusal": refusal,
        },
        status=code,
    )


@router.get("/escalations/{ref}", response_class=HTMLResponse)
async def escalation_page(
    request: Request, ref: str, user: CurrentUser, console: Console, backend: Escalations
) -> Response:
    status = await _load(backend, user, ref)
    return _escalation_page(request, console, user, status)


@router.post("/escalations/{ref}/decide", response_class=HTMLResponse)
async def escalation_decide(
    request: Request,
    ref: str,
    user: CurrentUser,
    data: CsrfForm,
    console: Console,
    backend: Escalations,
) -> Response:
    _refuse_unless_may_handle(user)
    status = await _load(backend, user, ref)
    action = str(data.get("action") or "")
    decision_id = str(data.get("decision_id") or "")
    field = "outcome" if action == "resolve" else "reason"
    body: dict[str, Any] = {
        "action": action,
        "decision_id": decision_id if is_decision_id(decision_id) else new_decision_id(),
        "by": user.person.model_dump(mode="json") if user.person else None,
        field: str(data.get(field) or "").strip() or None,
    }
    try:
        body = parse_escalation_decision(body).model_dump(mode="json")
        changed = await backend.escalation_decide(status.escalation_ref, body)
    except InvalidDecision as err:
        return _escalation_page(request, console, user, status, str(err), 422)
    except Refused as err:
        return _escalation_page(request, console, user, status, err.message, 409)
    log.info(
        "escalation %s: %s %s by %s",
        status.escalation_ref,
        action,
        body["decision_id"],
        user.username,
    )
    flash(
        request,
        f"Escalation {changed.escalation_ref} resolved at stage {changed.stage}."
        if changed.resolved
        else f"Escalation {changed.escalation_ref} moved to stage {changed.stage}: "
        f"{changed.stage_name}.",
    )
    return RedirectResponse(f"/escalations/{changed.escalation_ref}", status_code=303)
