"""The web console: FastAPI with server-rendered Jinja2 templates, no JavaScript.

Every page checks the signed-in user's role; every change goes to the workflow (a decision as
the `decide` Update, a referral as a new workflow), whose validators have the last word. The
console holds no case state of its own.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console import display, permissions, reports, timeline
from console.auth import LoginLimiter, client_address, csrf_token, csrf_valid, load_secret
from console.backend import (
    BackendError,
    BackendUnavailable,
    CaseBackend,
    CaseFilter,
    CaseNotFound,
    CaseNotReady,
    CaseRow,
    Refused,
    TemporalBackend,
)
from console.forms import (
    DECISION_TITLES,
    DecisionForm,
    FormState,
    Section,
    decision_form,
    initial_values,
    new_decision_id,
    option_label,
    parse_decision_form,
    parse_referral_form,
    plain,
    referral_initial,
    referral_sections,
)
from console.sessions import ServerSessions, SessionPolicy, SessionStore
from console.users import ConsoleRole, User, load_users, verify_password
from safeguarding.case import CaseStatus, HistoryKind
from safeguarding.clock import uk_local, uk_today
from safeguarding.deadlines import DeadlineState
from safeguarding.profiles import load_profiles
from safeguarding.referral import Referral
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import ActionStatus, DecisionKind, Route, Stage
from workflows.referral import CASE_REF_PATTERN, workflow_id

HERE = Path(__file__).resolve().parent
DEFAULT_TEMPORAL_UI = "http://127.0.0.1:8233"
SESSION_COOKIE = "sro_console"
#: A session's absolute lifetime and idle timeout (seconds; settings override them).
SESSION_MAX_AGE = 12 * 3600
SESSION_IDLE = 30 * 60
#: Form bodies larger than this are refused (a decision is at most 64 KiB as JSON).
MAX_FORM_BYTES = 256 * 1024
#: How long the case page waits for a case that is still opening.
OPENING_WAIT_SECONDS = 5.0

log = logging.getLogger("console")
_CASE_REF = re.compile(CASE_REF_PATTERN)


@dataclass
class ConsoleSettings:
    users_file: Path
    secret: str
    temporal_ui: str = DEFAULT_TEMPORAL_UI
    namespace: str = "default"
    https_only: bool = False
    profiles: dict[str, PartnershipSettings] = field(default_factory=dict)
    #: A session's absolute lifetime and idle timeout, in seconds.
    session_max_age: int = SESSION_MAX_AGE
    session_idle: int = SESSION_IDLE
    demo_users: bool = False
    #: The register database that holds the sessions (None: DATABASE_URL or the data folder).
    database_url: str | None = None
    #: Addresses (or networks) of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: tuple[str, ...] = ()
    #: A form body larger than this is refused with the form shown again.
    max_form_bytes: int = MAX_FORM_BYTES


class ConsoleConfigError(ValueError):
    """A console configuration that must not start (said in one clear message)."""


def _minutes(name: str, default: int) -> int:
    """The environment's minutes (default: `default` minutes), as seconds."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default * 60
    try:
        value = int(text)
    except ValueError:
        raise ConsoleConfigError(
            f"{name} must be a whole number of minutes, not {text!r}"
        ) from None
    if value <= 0:
        raise ConsoleConfigError(f"{name} must be at least 1 minute")
    return value * 60


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def settings_from_env(host: str | None = None) -> ConsoleSettings:
    """The console's settings from the environment. `host` is the address it will listen on:
    the demo users (a published password) are allowed only on a loopback address and only
    when the dev stack asks for them (SRO_CONSOLE_DEMO_USERS=1, set by `make run`)."""
    from console.users import DEMO_USERS_FILE

    data_dir = Path(os.environ.get("SRO_DATA_DIR") or "data")
    given = os.environ.get("SRO_CONSOLE_USERS", "").strip()
    path = Path(given) if given else DEMO_USERS_FILE
    demo = path.resolve() == DEMO_USERS_FILE.resolve()
    if demo:
        asked = os.environ.get("SRO_CONSOLE_DEMO_USERS", "").lower() in ("1", "true", "yes")
        listen = host or os.environ.get("SRO_CONSOLE_HOST")
        if not (asked and is_loopback(listen)):
            raise ConsoleConfigError(
                "no users file: set SRO_CONSOLE_USERS to a users file (create one with "
                "`python -m console.users --file users.toml add NAME ...`). The demo users have "
                "a published password: they run only in the dev stack (`make run`), on a "
                f"loopback address (this console would listen on {listen or 'an unknown address'})."
            )
    proxies = tuple(
        p.strip() for p in os.environ.get("SRO_CONSOLE_TRUSTED_PROXIES", "").split(",") if p.strip()
    )
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConsoleConfigError(
                f"SRO_CONSOLE_TRUSTED_PROXIES: {proxy!r} is not an address or network"
            ) from None
    return ConsoleSettings(
        users_file=path,
        secret=load_secret(data_dir),
        temporal_ui=(os.environ.get("SRO_TEMPORAL_UI") or DEFAULT_TEMPORAL_UI).rstrip("/"),
        namespace=os.environ.get("TEMPORAL_NAMESPACE") or "default",
        https_only=os.environ.get("SRO_CONSOLE_HTTPS_ONLY", "").lower() in ("1", "true", "yes"),
        profiles=load_profiles(),
        session_max_age=_minutes("SRO_CONSOLE_SESSION_MINUTES", SESSION_MAX_AGE // 60),
        session_idle=_minutes("SRO_CONSOLE_IDLE_MINUTES", SESSION_IDLE // 60),
        demo_users=demo,
        trusted_proxies=proxies,
    )


class UserStore:
    """The users file, re-read when it changes (so `console.users add` needs no restart)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._users: dict[str, User] = {}
        self.reload()

    def reload(self) -> None:
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


class SecurityHeaders:
    """No caching (pages hold personal data), no framing, no inline script, no sniffing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


CSP = (
    b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'"
)


class FormTooLarge(Exception):
    """A form body over the limit (or over Starlette's field limits): shown as the form page."""


#: Fields a console form may have (the referral form has about a hundred).
MAX_FORM_FIELDS = 400
_DECIDE_PATH = re.compile(r"/cases/(?P<case_ref>[^/]+)/decide/(?P<kind>[^/]+)")


class Refusal(Exception):
    """Stop and show the user a page: forbidden, not found, unavailable."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def create_app(
    settings: ConsoleSettings,
    backend: CaseBackend,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    limiter: LoginLimiter | None = None,
    sessions: SessionStore | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Safeguarding Review Console", docs_url=None, redoc_url=None, openapi_url=None
    )
    users = UserStore(settings.users_file)
    limiter = limiter or LoginLimiter()
    templates = Jinja2Templates(env=template_environment())
    profiles = settings.profiles or load_profiles()
    env = templates.env
    env.globals.update(
        stage_label=lambda s: Stage(s).label if s else "—",
        route_label=lambda r: option_label(Route(r)) if r else "—",
        option_label=option_label,
        day=lambda d: timeline.day_label(d) if d else "—",
        moment=lambda m: uk_local(m).strftime("%d %b %Y %H:%M") if m else "—",
        state_words=lambda s: _STATE_LABELS.get(DeadlineState(s), str(s)) if s else "—",
        decision_title=lambda k: DECISION_TITLES[DecisionKind(k)],
        demo_users=settings.demo_users,
        referral_facts=referral_facts,
        section_open=_section_open,
    )

    sessions = sessions or SessionStore(
        settings.secret,
        SessionPolicy(
            absolute=timedelta(seconds=settings.session_max_age),
            idle=timedelta(seconds=settings.session_idle),
        ),
        url=settings.database_url,
        clock=now,
    )
    app.add_middleware(
        ServerSessions, store=sessions, cookie=SESSION_COOKIE, https_only=settings.https_only
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # ------------------------------------------------------------------ helpers

    def render(
        request: Request,
        template: str,
        context: dict[str, Any],
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        user = _user_or_none(request)
        base = {
            "user": user,
            "csrf": csrf_token(request.session),
            "flashes": request.session.pop("flash", []),
            "may_refer": bool(user and permissions.may_refer(user)),
            "path": request.url.path,
        }
        return templates.TemplateResponse(
            request, template, {**base, **context}, status_code=status, headers=headers
        )

    def _user_or_none(request: Request) -> User | None:
        username = request.session.get("user")
        if not isinstance(username, str):
            return None
        user = users.get(username)
        if user is None:  # removed from the users file: the session ends
            request.session.pop("user", None)
        return user

    def require_user(request: Request) -> User:
        user = _user_or_none(request)
        if user is None:
            if request.scope.get("session_ended") and not request.session.get("flash"):
                flash(request, "Your session has ended (signed out, timed out or revoked).")
            target = request.url.path
            raise HTTPException(
                status_code=303, headers={"Location": f"/login?next={quote(target)}"}
            )
        return user

    async def require_csrf(request: Request) -> Any:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.max_form_bytes:
            raise FormTooLarge()
        try:
            # No console form has a file; each field and the count are bounded as well.
            form = await request.form(
                max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=settings.max_form_bytes
            )
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

    def flash(request: Request, text: str, lines: list[str] | None = None) -> None:
        request.session.setdefault("flash", []).append({"text": text, "lines": lines or []})

    def settings_for(partnership: str) -> PartnershipSettings:
        found = profiles.get(partnership)
        return found if found is not None else PartnershipSettings(code=partnership)

    def visible_codes(user: User) -> tuple[str, ...] | None:
        return None if "*" in user.partnerships else tuple(user.partnerships)

    def check_case_ref(user: User, case_ref: str) -> str:
        if not _CASE_REF.match(case_ref) or not user.may_see(case_ref.split("-")[0]):
            raise Refusal(404, "No such case", "There is no case with that reference you can see.")
        return case_ref

    async def load_status(user: User, case_ref: str) -> CaseStatus:
        check_case_ref(user, case_ref)
        waited = 0.0
        while True:
            try:
                status = await backend.status(case_ref)
                break
            except CaseNotReady:
                if waited >= OPENING_WAIT_SECONDS:
                    raise
                await asyncio.sleep(0.25)
                waited += 0.25
        if not user.may_see(status.partnership):
            raise Refusal(404, "No such case", "There is no case with that reference you can see.")
        return status

    def refuse_role(user: User, what: str) -> Refusal:
        return Refusal(
            403,
            "Not allowed",
            f"You are signed in as {user.describe()}. Your role may not {what}.",
        )

    def kind_of(text: str) -> DecisionKind:
        try:
            return DecisionKind(text)
        except ValueError:
            raise Refusal(
                404, "No such decision", f"There is no decision called {text[:40]!r}."
            ) from None

    def form_for(user: User, kind: DecisionKind, status: CaseStatus) -> DecisionForm:
        return decision_form(
            kind,
            settings_for(status.partnership),
            status,
            may_close_actions=user.role in (ConsoleRole.CHAIR, ConsoleRole.BUSINESS_MANAGER),
        )

    def web_ui(case_ref: str) -> str:
        base = f"{settings.temporal_ui}/namespaces/{quote(settings.namespace)}"
        return f"{base}/workflows/{workflow_id(case_ref)}"

    # ------------------------------------------------------------------ errors

    @app.exception_handler(Refusal)
    async def _refusal(request: Request, exc: Refusal) -> Response:
        return render(
            request, "error.html", {"title": exc.title, "message": exc.message}, status=exc.status
        )

    @app.exception_handler(FormTooLarge)
    async def _too_large(request: Request, exc: FormTooLarge) -> Response:
        """The form page again, with the reason, instead of a bare 400/413."""
        problem = (
            f"The form was too large to read (more than {settings.max_form_bytes // 1024} KiB, "
            "or too many fields): nothing was recorded. Shorten the text and send it again."
        )
        path = request.url.path
        try:
            if path == "/login":
                context = {"next": "/", "errors": {}, "problem": problem}
                return render(request, "login.html", context, status=413)
            if path == "/referrals":
                return await _referral_page(request, problem, 413)
            found = _DECIDE_PATH.fullmatch(path)
            if found:
                return await _decision_page(request, found["case_ref"], found["kind"], problem, 413)
        except HTTPException as err:  # not signed in: to the sign-in page
            return Response(status_code=err.status_code, headers=err.headers)
        except (Refusal, BackendError) as err:
            return render(
                request,
                "error.html",
                {"title": "The form is too large", "message": f"{problem} {err}"},
                status=413,
            )
        return render(
            request,
            "error.html",
            {"title": "The form is too large", "message": problem},
            status=413,
        )

    @app.exception_handler(BackendError)
    async def _backend(request: Request, exc: BackendError) -> Response:
        if isinstance(exc, CaseNotFound):
            status, title = 404, "No such case"
        elif isinstance(exc, CaseNotReady):
            status, title = 503, "The case is opening"
        else:
            status, title = 503, "The case system did not answer"
        return render(request, "error.html", {"title": title, "message": str(exc)}, status=status)

    # ------------------------------------------------------------------ sign-in

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/") -> Response:
        if _user_or_none(request) is not None:
            return RedirectResponse(_safe_next(next), status_code=303)
        return render(request, "login.html", {"next": _safe_next(next), "errors": {}})

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await require_csrf(request)
        username = str(form.get("username") or "").strip().lower()[:40]
        password = str(form.get("password") or "")
        target = _safe_next(str(form.get("next") or "/"))
        address = client_address(request, settings.trusted_proxies)
        wait = limiter.retry_after(username, address)
        if wait:
            return render(
                request,
                "login.html",
                {
                    "next": target,
                    "username": username,
                    "errors": {},
                    "problem": "Too many failed sign-ins. Try again in "
                    + (f"{wait} seconds." if wait < 120 else f"{round(wait / 60)} minutes."),
                },
                status=429,
                headers={"Retry-After": str(wait)},
            )
        user = users.get(username) if username else None
        if not verify_password(user, password) or user is None:
            limiter.failed(username, address)
            log.info("failed sign-in from %s", address)
            return render(
                request,
                "login.html",
                {
                    "next": target,
                    "username": username,
                    "errors": {},
                    "problem": "The user name or password is not right.",
                },
                status=401,
            )
        limiter.succeeded(username, address)
        request.session.clear()  # a fresh session (and CSRF token) on sign-in
        request.session["user"] = user.username
        request.session["since"] = int(now().timestamp())
        csrf_token(request.session)
        log.info("signed in: %s", user.username)
        return RedirectResponse(target, status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await require_csrf(request)
        request.session.clear()
        flash(request, "You are signed out.")
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ caseload

    @app.get("/")
    async def home(request: Request) -> Response:
        require_user(request)
        return RedirectResponse("/cases", status_code=303)

    @app.get("/cases", response_class=HTMLResponse)
    async def caseload(
        request: Request,
        stage: str = "",
        route: str = "",
        partnership: str = "",
        overdue: str = "",
        closed: str = "",
    ) -> Response:
        user = require_user(request)
        problems = []
        chosen_stage = Stage(stage) if stage in Stage.__members__.values() else None
        chosen_route = Route(route) if route in Route.__members__.values() else None
        codes = _partnership_choices(user)
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

    def _partnership_choices(user: User) -> list[tuple[str, str]]:
        return [(code, s.name) for code, s in sorted(profiles.items()) if user.may_see(code)]

    # ------------------------------------------------------------------ a case

    @app.get("/cases/{case_ref}", response_class=HTMLResponse)
    async def case_page(request: Request, case_ref: str) -> Response:
        user = require_user(request)
        status = await load_status(user, case_ref)
        referral = await backend.referral(case_ref)
        settings_ = settings_for(status.partnership)
        kinds = permissions.decisions_now(user, status, settings_)
        forms = [(kind, form_for(user, kind, status)) for kind in kinds]
        decisions = [
            h for h in status.history if h.kind in (HistoryKind.DECISION, HistoryKind.REFUSED)
        ]
        return render(
            request,
            "case.html",
            {
                "title": f"Case {status.case_ref}",
                "status": status,
                "referral": referral,
                "personal": permissions.sees_personal_data(user, status, referral),
                "timeline": timeline.render(status, now()),
                "forms": [(k, f, initial_values(f)) for k, f in forms],
                "owed": permissions.owed(user, status, settings_),
                "decisions": list(reversed(decisions)),
                "history": list(reversed(status.history)),
                "web_ui": web_ui(status.case_ref),
                "settings": settings_,
            },
        )

    @app.get("/cases/{case_ref}/actions", response_class=HTMLResponse)
    async def action_plan(request: Request, case_ref: str) -> Response:
        user = require_user(request)
        status = await load_status(user, case_ref)
        settings_ = settings_for(status.partnership)
        add_form = None
        if DecisionKind.ACTION_ADDED in permissions.decisions_now(user, status, settings_):
            add_form = form_for(user, DecisionKind.ACTION_ADDED, status)
        may_update = DecisionKind.ACTION_UPDATED in permissions.decisions_now(
            user, status, settings_
        )
        actions = sorted(status.actions, key=lambda a: (a.status.finished, a.due_on, a.action_id))
        today = uk_today(now())
        rows = []
        for action in actions:
            late = not action.status.finished and action.due_on < today
            own = user.role is not ConsoleRole.PANEL_MEMBER or action.lead_agency == user.agency
            rows.append((action, late, may_update and own and not action.status.finished))
        counts = {
            "total": len(actions),
            "finished": sum(1 for a in actions if a.status.finished),
            "overdue": sum(1 for _, late, _ in rows if late),
            "red": sum(1 for a in actions if a.rag and a.rag.value == "red"),
            "amber": sum(1 for a in actions if a.rag and a.rag.value == "amber"),
            "green": sum(1 for a in actions if a.rag and a.rag.value == "green"),
        }
        return render(
            request,
            "actions.html",
            {
                "title": f"Action plan — case {status.case_ref}",
                "status": status,
                "rows": rows,
                "counts": counts,
                "add_form": add_form,
                "add_values": initial_values(add_form) if add_form else {},
                "stage_allows": DecisionKind.ACTION_ADDED in status.decisions_allowed,
                "settings": settings_,
                "statuses": [(s.value, option_label(s)) for s in ActionStatus],
            },
        )

    # ------------------------------------------------------------------ decisions

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

    def _check_may_decide(user: User, kind: DecisionKind, status: CaseStatus) -> None:
        if user.person is None:
            raise refuse_role(user, "make decisions")
        settings_ = settings_for(status.partnership)
        if not permissions.may_make(user, kind, settings_):
            needed = permissions.authority_text(kind, settings_)
            raise refuse_role(user, f"record “{DECISION_TITLES[kind]}”: it needs a {needed}")

    def _resend_page(
        request: Request, case_ref: str, kind: DecisionKind, data: Any, err: BackendError
    ) -> Response:
        fields = [
            (str(k), str(v))
            for k, v in data.multi_items()
            if k != "csrf_token" and isinstance(v, str)
        ]
        decision_id = str(data.get("decision_id") or "")
        if not re.fullmatch(r"console-[0-9a-f]{24}", decision_id):
            decision_id = new_decision_id()
            fields = [(k, v) for k, v in fields if k != "decision_id"]
            fields.append(("decision_id", decision_id))
        log.info("decision %s on %s not sent: %s", decision_id, case_ref, type(err).__name__)
        title = (
            "The case is opening"
            if isinstance(err, CaseNotReady)
            else "The case system did not answer"
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

    @app.get("/cases/{case_ref}/decide/{kind_text}", response_class=HTMLResponse)
    async def decision_page(request: Request, case_ref: str, kind_text: str) -> Response:
        return await _decision_page(request, case_ref, kind_text)

    async def _decision_page(
        request: Request, case_ref: str, kind_text: str, problem: str = "", code: int = 200
    ) -> Response:
        user = require_user(request)
        kind = kind_of(kind_text)
        status = await load_status(user, case_ref)
        _check_may_decide(user, kind, status)
        form = form_for(user, kind, status)
        prefill = {
            k: v for k, v in request.query_params.items() if k in ("action_id", "deadline_id")
        }
        values = initial_values(form, prefill)
        back = _back(request.query_params.get("back"))
        context = _decision_context(user, status, kind, form, values, back=back)
        if problem:
            context["general"] = [problem]
        return render(request, "decide.html", context, status=code)

    @app.post("/cases/{case_ref}/decide/{kind_text}", response_class=HTMLResponse)
    async def decide(request: Request, case_ref: str, kind_text: str) -> Response:
        user = require_user(request)
        data = await require_csrf(request)
        kind = kind_of(kind_text)
        try:
            status = await load_status(user, case_ref)
        except (BackendUnavailable, CaseNotReady) as err:
            # The worker is down (or the case still opening): keep what was sent, decision id
            # and all, so that sending it again later applies it once.
            return _resend_page(request, case_ref, kind, data, err)
        _check_may_decide(user, kind, status)
        assert user.person is not None
        form = form_for(user, kind, status)
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
        # The audit line ties the decision to the signed-in account (its `by` is built from the
        # same account); no personal data of a child goes in it.
        log.info(
            "decision %s (%s) on %s %s for user %s",
            body["decision_id"],
            kind.value,
            status.case_ref,
            "was already recorded" if result.duplicate else "recorded",
            user.username,
        )
        lines = [
            f"{d.title}: due {timeline.day_label(d.due_on)} ({_STATE_LABELS[d.state].lower()})"
            for d in result.deadlines
        ]
        if result.duplicate:
            flash(request, f"That {kind.value.replace('_', ' ')} decision was already recorded.")
        else:
            flash(request, _sentence(plain(result.message)), [f"New deadline — {x}" for x in lines])
        target = {
            "my": "/my-decisions",
            "actions": f"/cases/{status.case_ref}/actions",
        }.get(back, f"/cases/{status.case_ref}")
        return RedirectResponse(target, status_code=303)

    @app.get("/my-decisions", response_class=HTMLResponse)
    async def my_decisions(request: Request) -> Response:
        user = require_user(request)
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
                if not user.may_see(status.partnership):
                    return
                kinds = permissions.owed(user, status, settings_for(status.partnership))
                if kinds:
                    forms = [form_for(user, k, status) for k in kinds]
                    items.append(
                        {
                            "status": status,
                            "forms": [(f.kind, f, initial_values(f)) for f in forms],
                        }
                    )

            await asyncio.gather(*(one(r) for r in rows if r.running))
            items.sort(
                key=lambda i: (
                    i["status"].next_deadline is None,
                    i["status"].next_deadline.due_on if i["status"].next_deadline else None,
                    i["status"].case_ref,
                )
            )
        return render(
            request,
            "my_decisions.html",
            {"title": "My decisions", "items": items, "problems": sorted(problems)},
        )

    # ------------------------------------------------------------------ referrals

    def _referral_sections(user: User) -> Any:
        return referral_sections(_partnership_choices(user))

    @app.get("/referrals/new", response_class=HTMLResponse)
    async def referral_page(request: Request) -> Response:
        return await _referral_page(request)

    async def _referral_page(request: Request, problem: str = "", code: int = 200) -> Response:
        user = require_user(request)
        if not permissions.may_refer(user):
            raise refuse_role(user, "record referrals (coordinators and business managers do)")
        values = referral_initial(uk_today(now()))
        choices = _partnership_choices(user)
        if len(choices) == 1:
            values["partnership"] = choices[0][0]
        return render(
            request,
            "referral.html",
            {
                "title": "New referral",
                "sections": _referral_sections(user),
                "values": values,
                "errors": {},
                "general": [problem] if problem else [],
            },
            status=code,
        )

    @app.post("/referrals", response_class=HTMLResponse)
    async def refer(request: Request) -> Response:
        user = require_user(request)
        data = await require_csrf(request)
        if not permissions.may_refer(user):
            raise refuse_role(user, "record referrals (coordinators and business managers do)")
        sections = _referral_sections(user)
        visible = {code: settings_for(code) for code, _ in _partnership_choices(user)}
        referral, state = parse_referral_form(sections, data, uk_today(now()), visible)
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

    # ------------------------------------------------------------------ reports

    @app.get("/reports", response_class=HTMLResponse)
    async def reports_page(request: Request, partnership: str = "") -> Response:
        user = require_user(request)
        rows = await backend.list_cases(CaseFilter(visible=visible_codes(user)))
        codes = _partnership_choices(user)
        every = "*" in user.partnerships
        chosen = partnership if partnership in dict(codes) else None
        if chosen is None and not every and codes:
            chosen = next((c for c in user.partnerships if c in dict(codes)), codes[0][0])
        register = await asyncio.to_thread(reports.register_reports, chosen, uk_today(now()))
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

    return app


_STATE_LABELS: dict[DeadlineState, str] = {
    DeadlineState.ON_TRACK: "On track",
    DeadlineState.DUE_SOON: "Due soon",
    DeadlineState.OVERDUE: "Overdue",
    DeadlineState.MET: "Met",
    DeadlineState.MISSED: "Missed",
    DeadlineState.WITHDRAWN: "Withdrawn",
}


def template_environment() -> jinja2.Environment:
    """Autoescaped HTML; every printed value is first neutralised (console/display.py): control
    and bidirectional-override characters are shown as escapes, never obeyed."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        finalize=display.finalize,
    )


def state_words(state: DeadlineState) -> str:
    """How the pages name a deadline's state ("On track", "Due soon"...)."""
    return _STATE_LABELS[state]


def _row_state(row: CaseRow) -> tuple[str, str]:
    """(css class, words) for a caseload row's state."""
    if not row.running:
        return "closed", "Closed"
    if row.overdue:
        return "overdue", "Overdue"
    if row.next_deadline_state is not None:
        return row.next_deadline_state.value, _STATE_LABELS[row.next_deadline_state]
    if row.next_deadline_on is None:
        return "none", "No deadline"
    return "unknown", "Not known"


def _row_order(row: CaseRow) -> tuple[bool, bool, str, str]:
    due = row.next_deadline_on.isoformat() if row.next_deadline_on else ""
    return (not row.running, row.next_deadline_on is None, due, row.case_ref)


def _section_open(section: Section, values: dict[str, Any], errors: dict[str, str]) -> bool:
    """A folded section (a sibling) opens when it holds something or something is wrong."""
    return section.name in errors or any(
        values.get(f.name) not in (None, "", False, []) or f.name in errors for f in section.fields
    )


def _safe_next(target: str) -> str:
    """Only a path on this site (no scheme, no //host)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _back(value: str | None) -> str:
    return value if value in ("case", "my", "actions") else "case"


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def referral_facts(referral: Referral) -> list[tuple[str, str]]:
    """What a referral says that is not personal data."""
    return [
        ("Received", timeline.day_label(referral.received_on)),
        ("Referring agency", referral.referrer.agency.label),
        ("Harm", option_label(referral.harm)),
        ("Agencies involved", ", ".join(a.label for a in referral.agencies_involved) or "—"),
    ]


def build_app(host: str | None = None) -> FastAPI:
    """The app as `python -m console` and uvicorn's factory run it (settings from the env);
    `host` is the address it listens on (it decides whether demo users may run)."""
    from gateway.connection import task_queue

    settings = settings_from_env(host)
    return create_app(settings, TemporalBackend(task_queue()))
