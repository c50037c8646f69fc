"""The pages' templates and the one way a route renders one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from console import attendees, dates, display, permissions, timeline
from console.auth import csrf_token
from console.config import ConsoleSettings
from console.deps import get_console, user_or_none
from console.forms import Section
from console.labels import DECISION_TITLES, option_label
from safeguarding.clock import uk_local
from safeguarding.deadlines import DeadlineState
from safeguarding.personal import HIDDEN, history_text_is_personal
from safeguarding.referral import Referral
from safeguarding.vocabulary import DecisionKind, Route, Stage

HERE = Path(__file__).resolve().parent

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
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        finalize=display.finalize,
    )
    # What the form macros use for dates (issue 15, item 2): UK day-first, in words and numbers.
    env.globals.update(
        date_input=dates.input_value, date_hint=dates.HINT, date_example=dates.EXAMPLE
    )
    env.filters["uk_dates"] = dates.uk_dates_in
    # Who attended, chosen (issue 15, item 3).
    env.globals.update(
        people_rows=attendees.ROWS,
        people_roles=attendees.ROLE_CHOICES,
        people_agencies=attendees.AGENCY_CHOICES,
        people_rows_help=attendees.ROWS_HELP,
    )
    return env


def make_templates(settings: ConsoleSettings) -> Jinja2Templates:
    """The templates with the helpers every page uses."""
    templates = Jinja2Templates(env=template_environment())
    templates.env.globals.update(
        stage_label=lambda s: Stage(s).label if s else "—",
        route_label=lambda r: option_label(Route(r)) if r else "—",
        option_label=option_label,
        day=lambda d: timeline.day_label(d) if d else "—",
        moment=lambda m: (
            f"{timeline.day_label(uk_local(m).date())} {uk_local(m):%H:%M}" if m else "—"
        ),
        uk_day=dates.uk_day_of,
        state_words=lambda s: _STATE_LABELS.get(DeadlineState(s), str(s)) if s else "—",
        decision_title=lambda k: DECISION_TITLES[DecisionKind(k)],
        demo_users=settings.demo_users,
        referral_facts=referral_facts,
        section_open=section_open,
        hidden_text=HIDDEN,
        history_text_is_personal=history_text_is_personal,
    )
    return templates


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page, with what the layout needs (the user, the CSRF token, the flashed messages)."""
    console = get_console(request)
    user = user_or_none(request, console)
    base = {
        "user": user,
        "csrf": csrf_token(request.session),
        "flashes": request.session.pop("flash", []),
        "may_refer": bool(user and permissions.may_refer(user)),
        "path": request.url.path,
        # What the sign-in page offers: the identity provider, the users file's passwords.
        "sso_sign_in": console.provider is not None,
        "password_sign_in": console.settings.users_file is not None,
    }
    return console.templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status, headers=headers
    )


def state_words(state: DeadlineState) -> str:
    """How the pages name a deadline's state ("On track", "Due soon"...)."""
    return _STATE_LABELS[state]


def section_open(section: Section, values: dict[str, Any], errors: dict[str, str]) -> bool:
    """A folded section (a sibling) opens when it holds something or something is wrong."""
    return section.name in errors or any(
        values.get(f.name) not in (None, "", False, []) or f.name in errors for f in section.fields
    )


def referral_facts(referral: Referral) -> list[tuple[str, str]]:
    """What a referral says that is not personal data."""
    return [
        ("Received", timeline.day_label(referral.received_on)),
        ("Referring agency", referral.referrer.agency.label),
        ("Harm", option_label(referral.harm)),
        ("Agencies involved", ", ".join(a.label for a in referral.agencies_involved) or "—"),
    ]
