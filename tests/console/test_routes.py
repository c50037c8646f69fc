"""The console's routes as a table: each comes from a resource's router, every page but the
sign-in page needs a signed-in user, and every form post is CSRF-checked. A route added without
`CurrentUser` or `CsrfForm` fails here, before any page test notices."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from console.deps import csrf_form, get_current_user
from console.routes.main import RESOURCES

#: (method, path): (needs a signed-in user, CSRF-checked)
ROUTES: dict[tuple[str, str], tuple[bool, bool]] = {
    ("GET", "/healthz"): (False, False),
    ("GET", "/login"): (False, False),
    ("POST", "/login"): (False, True),
    ("POST", "/logout"): (False, True),
    # Single sign-on (404 when it is not set up): the state is the CSRF check of the callback.
    ("GET", "/login/sso"): (False, False),
    ("GET", "/auth/callback"): (False, False),
    ("GET", "/"): (True, False),
    ("GET", "/cases"): (True, False),
    ("GET", "/cases.csv"): (True, False),  # issue 15: the caseload as shown, as CSV
    ("GET", "/cases/{case_ref}"): (True, False),
    ("GET", "/cases/{case_ref}/actions"): (True, False),
    ("GET", "/cases/{case_ref}/access-log"): (True, False),
    ("GET", "/cases/{case_ref}/subject-access/{kind}"): (True, False),
    ("GET", "/cases/{case_ref}/decide/{kind_text}"): (True, False),
    ("POST", "/cases/{case_ref}/decide/{kind_text}"): (True, True),
    ("GET", "/my-decisions"): (True, False),
    ("GET", "/referrals/new"): (True, False),
    ("POST", "/referrals"): (True, True),
    ("GET", "/reports"): (True, False),
    ("GET", "/reports/files/{name}"): (True, False),  # issue 15: the chart and report files
    # Issue 13, item 12.
    ("GET", "/escalations"): (True, False),
    ("GET", "/escalations/new"): (True, False),
    ("POST", "/escalations"): (True, True),
    ("GET", "/escalations/{ref}"): (True, False),
    ("POST", "/escalations/{ref}/decide"): (True, True),
}

SSO_ONLY = {"/login/sso", "/auth/callback"}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def test_every_route_is_declared_with_its_checks() -> None:
    declared = {
        (method, route.path): route
        for resource in RESOURCES
        for route in resource.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert set(declared) == set(ROUTES)
    for key, (signed_in, csrf) in ROUTES.items():
        calls = set(_calls(declared[key].dependant))
        assert (get_current_user in calls) is signed_in, key
        assert (csrf_form in calls) is csrf, key


def test_the_app_serves_every_route_signed_out(app_client: Callable[..., TestClient]) -> None:
    client = app_client()
    for (method, path), (signed_in, csrf) in ROUTES.items():
        url = path.format(
            case_ref="LSCP-2026-0001",
            kind_text="triage",
            ref="CSCP-ESC-2026-0A",
            kind="json",
            name="annual.csv",
        )
        response = client.request(method, url)
        if signed_in:  # the user is checked before the form is read
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/login?next="), url
        elif path in SSO_ONLY:
            assert response.status_code == 404, url  # no single sign-on set up here
        else:
            assert response.status_code == (403 if csrf else 200), url
