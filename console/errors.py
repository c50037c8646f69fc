"""The pages shown instead of an answer: refused, too large, the case system unavailable."""

from __future__ import annotations

import re

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response

from console.backend import BackendError, CaseDisposed, CaseNotFound, CaseNotReady
from console.deps import FormTooLarge, Refusal, get_console, get_current_user
from console.rendering import render
from console.routes.decisions import decision_form_page
from console.routes.referrals import referral_form_page

_DECIDE_PATH = re.compile(r"/cases/(?P<case_ref>[^/]+)/decide/(?P<kind>[^/]+)")


async def refusal_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    return render(
        request, "error.html", {"title": exc.title, "message": exc.message}, status=exc.status
    )


async def too_large_page(request: Request, exc: Exception) -> Response:
    """The form page again, with the reason, instead of a bare 400/413."""
    console = get_console(request)
    problem = (
        f"The form was too large to read (more than {console.settings.max_form_bytes // 1024} "
        "KiB, or too many fields): nothing was recorded. Shorten the text and send it again."
    )
    path = request.url.path
    try:
        if path == "/login":
            context = {"next": "/", "errors": {}, "problem": problem}
            return render(request, "login.html", context, status=413)
        if path == "/referrals":
            user = get_current_user(request, console)
            return await referral_form_page(request, console, user, problem, 413)
        found = _DECIDE_PATH.fullmatch(path)
        if found:
            user = get_current_user(request, console)
            case_ref, kind = found["case_ref"], found["kind"]
            return await decision_form_page(request, console, user, case_ref, kind, problem, 413)
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


async def backend_page(request: Request, exc: Exception) -> Response:
    if isinstance(exc, CaseNotFound):
        status, title = 404, "No such case"
    elif isinstance(exc, CaseDisposed):
        status, title = 410, "This case's personal data has been disposed of"
    elif isinstance(exc, CaseNotReady):
        status, title = 503, "The case is opening"
    else:
        status, title = 503, "The case system did not answer"
    return render(request, "error.html", {"title": title, "message": str(exc)}, status=status)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, refusal_page)
    app.add_exception_handler(FormTooLarge, too_large_page)
    app.add_exception_handler(BackendError, backend_page)
