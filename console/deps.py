"""What the console's routes are given: the app's state, the signed-in user, a checked form.

As in fastapi/full-stack-fastapi-template's `api/deps.py`: routes declare `user: CurrentUser`
or `form: CsrfForm` and FastAPI resolves them (in the order declared: the user before the form,
so a signed-out visitor is sent to the sign-in page before anything is read).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, cast
from urllib.parse import quote

from authlib.integrations.starlette_client import StarletteOAuth2App
from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from console import permissions
from console.auth import LoginLimiter, csrf_valid
from console.backend import CaseBackend, CaseNotReady
from console.config import ConsoleSettings
from console.forms import DecisionForm, decision_form
from console.users import ConsoleRole, User, load_users
from gateway.refs import workflow_id
from safeguarding.case import CaseStatus
from safeguarding.ids import CaseRef
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import DecisionKind

#: Fields a console form may have (the referral form has about a hundred).
MAX_FORM_FIELDS = 400
#: How long the case page waits for a case that is still opening.
OPENING_WAIT_SECONDS = 5.0

log = logging.getLogger("console")


class Refusal(Exception):
    """Stop and show the user a page: forbidden, not found, unavailable."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class FormTooLarge(Exception):
    """A form body over the limit (or over Starlette's field limits): shown as the form page."""


class UserStore:
    """The users file, re-read when it changes (so `console.users add` needs no restart); with
    no file (single sign-on only) nobody signs in with a password."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: float | None = None
        self._users: dict[str, User] = {}
        self.reload()

    def reload(self) -> None:
        if self.path is None:
            return
        stamp = self.path.stat().st_mtime
        if stamp != self._stamp:
            self._users = load_users(self.path)
            self._stamp = stamp

    def get(self, username: str) -> User | None:
        try:
            self.reload()
        except Exception:
            log.exception("the users file cannot be read; keeping the users loaded before")
        return self._users.get(username)


@dataclass(frozen=True)
class ConsoleState:
    """Everything `create_app` was given, kept on `app.state.console` for the routes."""

    settings: ConsoleSettings
    backend: CaseBackend
    users: UserStore
    limiter: LoginLimiter
    profiles: dict[str, PartnershipSettings]
    templates: Jinja2Templates
    now: Callable[[], datetime]
    #: The identity provider's client (None: no single sign-on).
    provider: StarletteOAuth2App | None = None

    def settings_for(self, partnership: str) -> PartnershipSettings:
        found = self.profiles.get(partnership)
        return found if found is not None else PartnershipSettings(code=partnership)

    def partnership_choices(self, user: User) -> list[tuple[str, str]]:
        return [(code, s.name) for code, s in sorted(self.profiles.items()) if user.may_see(code)]

    def form_for(self, user: User, kind: DecisionKind, status: CaseStatus) -> DecisionForm:
        return decision_form(
            kind,
            self.settings_for(status.partnership),
            status,
            may_close_actions=user.role in (ConsoleRole.CHAIR, ConsoleRole.BUSINESS_MANAGER),
        )

    def web_ui(self, case_ref: str) -> str:
        base = f"{self.settings.temporal_ui}/namespaces/{quote(self.settings.namespace)}"
        return f"{base}/workflows/{workflow_id(case_ref)}"


def get_console(request: Request) -> ConsoleState:
    return cast(ConsoleState, request.app.state.console)


Console = Annotated[ConsoleState, Depends(get_console)]


def get_backend(console: Console) -> CaseBackend:
    return console.backend


Backend = Annotated[CaseBackend, Depends(get_backend)]


def flash(request: Request, text: str, lines: list[str] | None = None) -> None:
    request.session.setdefault("flash", []).append({"text": text, "lines": lines or []})


def user_or_none(request: Request, console: Console) -> User | None:
    username = request.session.get("user")
    if not isinstance(username, str):
        return None
    if "sso" in request.session:  # signed in through the identity provider
        user = sso_user(request.session["sso"], username, console)
    else:
        user = console.users.get(username)
    if user is None:  # removed from the users file: the session ends
        request.session.pop("user", None)
    return user


def sso_user(kept: object, username: str, console: ConsoleState) -> User | None:
    """The person the identity provider's claims made at sign-in (console/routes/sso.py), while
    single sign-on is still configured."""
    if console.provider is None or not isinstance(kept, dict):
        return None
    try:
        user = User.model_validate(kept)
    except ValidationError:
        return None
    return user if user.sso and user.username == username else None


OptionalUser = Annotated[User | None, Depends(user_or_none)]


def get_current_user(request: Request, console: Console) -> User:
    """The signed-in user; anyone else goes to the sign-in page (and back here after)."""
    user = user_or_none(request, console)
    if user is None:
        if request.scope.get("session_ended") and not request.session.get("flash"):
            flash(request, "Your session has ended (signed out, timed out or revoked).")
        target = request.url.path
        raise HTTPException(status_code=303, headers={"Location": f"/login?next={quote(target)}"})
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def csrf_form(request: Request, console: Console) -> FormData:
    """The posted form, once its size and CSRF token are checked."""
    limit = console.settings.max_form_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FormTooLarge()
    try:
        # No console form has a file; each field and the count are bounded as well.
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=limit)
    except StarletteHTTPException:  # Starlette's limits (a field too large, too many)
        raise FormTooLarge() from None
    if not csrf_valid(request.session, form.get("csrf_token")):
        raise Refusal(
            403,
            "The form has expired",
            "The form could not be checked (its security token is missing or old). Go back, "
            "reload the page and send it again.",
        )
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]


def visible_codes(user: User) -> tuple[str, ...] | None:
    return None if "*" in user.partnerships else tuple(user.partnerships)


def refuse_role(user: User, what: str) -> Refusal:
    return Refusal(
        403,
        "Not allowed",
        f"You are signed in as {user.describe()}. Your role may not {what}.",
    )


def refuse_referrals(user: User) -> None:
    if not permissions.may_refer(user):
        raise refuse_role(user, "record referrals (coordinators and business managers do)")


def _no_such_case() -> Refusal:
    return Refusal(404, "No such case", "There is no case with that reference you can see.")


async def load_status(console: ConsoleState, user: User, case_ref: str) -> CaseStatus:
    """A case the user may see (404 for a case of another partnership, as for none at all);
    a case still opening is waited for a little."""
    if not CaseRef.is_valid(case_ref) or not user.may_see(CaseRef.partnership(case_ref)):
        raise _no_such_case()
    waited = 0.0
    while True:
        try:
            status = await console.backend.status(case_ref)
            break
        except CaseNotReady:
            if waited >= OPENING_WAIT_SECONDS:
                raise
            await asyncio.sleep(0.25)
            waited += 0.25
    if not user.may_see(status.partnership):
        raise _no_such_case()
    return status
