"""The web console: FastAPI with server-rendered Jinja2 templates, no JavaScript.

Every page checks the signed-in user's role; every change goes to the workflow (a decision as
the `decide` Update, a referral as a new workflow), whose validators have the last word. The
console holds no case state of its own.

Where things live: `config` (settings), `deps` (the app's state, the signed-in user, the CSRF
check), `rendering` (templates), `routes/` (one router per resource), `errors` (error pages).
This module only wires them together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from console.auth import LoginLimiter
from console.backend import CaseBackend, TemporalBackend
from console.config import (
    SESSION_COOKIE,
    ConsoleConfigError,
    ConsoleSettings,
    is_loopback,
    settings_from_env,
)
from console.deps import ConsoleState, UserStore
from console.errors import add_exception_handlers
from console.middleware import SecurityHeaders
from console.rendering import HERE, make_templates, state_words
from console.routes.main import api_router
from console.sessions import ServerSessions, SessionPolicy, SessionStore
from console.sso import provider_client
from safeguarding.profiles import load_profiles

# Names the tests and `python -m console` have always imported from here.
__all__ = [
    "SESSION_COOKIE",
    "ConsoleConfigError",
    "ConsoleSettings",
    "build_app",
    "create_app",
    "is_loopback",
    "settings_from_env",
    "state_words",
]


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
    app.state.console = ConsoleState(
        settings=settings,
        backend=backend,
        users=UserStore(settings.users_file),
        limiter=limiter or LoginLimiter(),
        profiles=settings.profiles or load_profiles(),
        templates=make_templates(settings),
        now=now,
        provider=provider_client(settings.sso) if settings.sso else None,
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
    add_exception_handlers(app)
    app.include_router(api_router)
    return app


def build_app(host: str | None = None) -> FastAPI:
    """The app as `python -m console` and uvicorn's factory run it (settings from the env);
    `host` is the address it listens on (it decides whether demo users may run)."""
    from gateway.connection import task_queue

    settings = settings_from_env(host)
    return create_app(settings, TemporalBackend(task_queue()))
