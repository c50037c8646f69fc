"""Signing in with the partnership's identity provider (console/sso.py), and offering its
sign-out after the console's.

A failure is a page saying what happened and what to do, never a stack trace: the provider
unreachable (503), a sign-in whose state or nonce does not match this browser's (400), or claims
that give no role in the console (403: the person is not signed in).
"""

from __future__ import annotations

import logging

import httpx2
from authlib.integrations.starlette_client import OAuthError, StarletteOAuth2App
from fastapi import APIRouter, Request
from fastapi.responses import Response
from joserfc.errors import JoseError

from console.auth import csrf_token
from console.deps import Console, Refusal
from console.routes.auth import safe_next
from console.sso import CALLBACK_PATH, SsoSettings

router = APIRouter()
log = logging.getLogger("console")

#: Where a sign-in in progress keeps the page to return to.
NEXT_KEY = "sso_next"


def _unreachable() -> Refusal:
    return Refusal(
        503,
        "The sign-in service did not answer",
        "Your organisation's sign-in service could not be reached, so you are not signed in. "
        "Try again in a few minutes; if it goes on, tell your IT service desk.",
    )


def _configured(console: Console) -> tuple[StarletteOAuth2App, SsoSettings]:
    if console.provider is None or console.settings.sso is None:
        raise Refusal(404, "Page not found", "Single sign-on is not set up for this console.")
    return console.provider, console.settings.sso


@router.get("/login/sso")
async def sso_start(request: Request, console: Console, next: str = "/") -> Response:
    """Off to the provider (a link, not a form: the CSP's form-action stays 'self')."""
    provider, sso = _configured(console)
    request.session[NEXT_KEY] = safe_next(next)
    try:
        redirect: Response = await provider.authorize_redirect(
            request, sso.callback_url(str(request.base_url))
        )
        return redirect
    except (httpx2.HTTPError, OAuthError, ValueError, KeyError):
        log.warning("single sign-on: the provider's metadata could not be read", exc_info=True)
        raise _unreachable() from None


@router.get(CALLBACK_PATH)
async def sso_callback(request: Request, console: Console) -> Response:
    provider, sso = _configured(console)
    try:
        token = await provider.authorize_access_token(request)
    except OAuthError as err:
        log.info("single sign-on refused: %s", err.error)
        raise Refusal(
            400,
            "Sign-in could not be completed",
            "The answer from your organisation's sign-in service did not match a sign-in "
            "started in this browser (it may have expired, or been used already), or the "
            "service refused it. Nothing was changed: start again from the sign-in page.",
        ) from None
    except (JoseError, ValueError):
        log.warning("single sign-on: the ID token was refused", exc_info=True)
        raise Refusal(
            400,
            "Sign-in could not be completed",
            "The sign-in service's answer could not be verified, so you are not signed in. "
            "Start again from the sign-in page; if it goes on, tell your IT service desk.",
        ) from None
    except httpx2.HTTPError:
        log.warning("single sign-on: the provider did not answer", exc_info=True)
        raise _unreachable() from None
    claims = token.get("userinfo") or {}
    user = sso.mapping.user_for(claims)
    target = safe_next(str(request.session.pop(NEXT_KEY, "/")))
    if user is None:
        log.info("single sign-on: no role for the claims given (sign-in refused)")
        raise Refusal(
            403,
            "No role in the console",
            "You signed in with your organisation's account, but it is not in any group that "
            "gives a role in the Safeguarding Review Console, so you are not signed in. Ask "
            "your partnership's business manager to have you added to the right group.",
        )
    request.session.clear()  # a fresh session (and CSRF token) on sign-in
    request.session["user"] = user.username
    request.session["sso"] = user.model_dump(mode="json", exclude={"password_hash"}) | {"sso": True}
    request.session["since"] = int(console.now().timestamp())
    csrf_token(request.session)
    log.info("signed in (single sign-on): %s", user.username)
    return Response(status_code=303, headers={"Location": target})
