"""Signing in and out."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.auth import client_address, csrf_token
from console.deps import Console, CsrfForm, OptionalUser, csrf_form, flash
from console.rendering import render
from console.sso import provider_sign_out_url
from console.users import verify_password

router = APIRouter()
#: The console's one logger: the audit lines (who sent which decision) are found by its name.
log = logging.getLogger("console")


def safe_next(target: str) -> str:
    """Only a path on this site (no scheme, no //host)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_problem(
    request: Request,
    target: str,
    username: str,
    problem: str,
    status: int,
    headers: dict[str, str] | None = None,
) -> Response:
    context = {"next": target, "username": username, "errors": {}, "problem": problem}
    return render(request, "login.html", context, status=status, headers=headers)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "errors": {}})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, console: Console, form: CsrfForm) -> Response:
    username = str(form.get("username") or "").strip().lower()[:40]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    address = client_address(request, console.settings.trusted_proxies)
    wait = console.limiter.retry_after(username, address)
    if wait:
        problem = "Too many failed sign-ins. Try again in " + (
            f"{wait} seconds." if wait < 120 else f"{round(wait / 60)} minutes."
        )
        headers = {"Retry-After": str(wait)}
        return login_problem(request, target, username, problem, 429, headers)
    user = console.users.get(username) if username else None
    if not verify_password(user, password) or user is None:
        console.limiter.failed(username, address)
        log.info("failed sign-in from %s", address)
        problem = "The user name or password is not right."
        return login_problem(request, target, username, problem, 401)
    console.limiter.succeeded(username, address)
    request.session.clear()  # a fresh session (and CSRF token) on sign-in
    request.session["user"] = user.username
    request.session["since"] = int(console.now().timestamp())
    csrf_token(request.session)
    log.info("signed in: %s", user.username)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_form)])
async def logout(request: Request, console: Console) -> Response:
    signed_in_with_provider = "sso" in request.session
    request.session.clear()
    if signed_in_with_provider:
        # The console's session is over; the provider's is the person's own to end.
        url = None
        if console.provider is not None and console.settings.sso is not None:
            base = str(request.base_url)
            url = await provider_sign_out_url(console.provider, console.settings.sso, base)
        context = {"provider_sign_out": url}
        return render(request, "signed_out.html", context)
    flash(request, "You are signed out.")
    return RedirectResponse("/login", status_code=303)
