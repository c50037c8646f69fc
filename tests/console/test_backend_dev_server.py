"""The console on the real backend (TemporalBackend) against a real Temporal dev server, with the
worker in this process on a task queue of its own: what the fake cannot prove.

- a partnership-restricted user asking for another partnership gets nothing from it, even
  when the page's own check is bypassed and even when the visibility query is wrong;
- a case still opening, a worker that is down, an Update that does not finish in time: a 503
  page that keeps the decision id, and sending it again applies the decision once;
- a decision on a closed case is refused.

The app runs in this event loop (httpx's ASGI transport), so the worker keeps running while a
page waits on it.
"""

from __future__ import annotations

import asyncio
import html
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import console.deps
import worker
from activities import ALL_ACTIVITIES
from activities.deadlines import PlanDeadlinesInput, PlanDeadlinesResult, plan_deadlines
from console import backend as backend_module
from console.app import ConsoleSettings, create_app
from console.backend import CaseFilter, TemporalBackend
from safeguarding.case import CaseStatus
from safeguarding.clock import uk_today
from safeguarding.profiles import load_profiles
from tests.console.conftest import PASSWORD, csrf_of
from tests.console.test_pages import TRIAGE_ATTENDEES
from tests.factories import referral

pytestmark = pytest.mark.integration

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def today() -> Any:
    return uk_today(datetime.now(UTC))


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, seconds: float = 30.0
) -> None:
    """Wait on a condition with a generous bound (visibility is eventually consistent)."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.3)


class Console:
    """The app on a TemporalBackend, in this loop; one signed-in browser per user."""

    def __init__(self, users_path: Path, backend: TemporalBackend) -> None:
        settings = ConsoleSettings(
            users_file=users_path, secret=secrets.token_urlsafe(40), profiles=load_profiles()
        )
        self.app = create_app(settings, backend)
        self.backend = backend

    async def browser(self, username: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
        )
        page = await client.get("/login")
        signed = await client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert signed.status_code == 303, signed.text
        return client


async def opened(backend: TemporalBackend, case_ref: str) -> CaseStatus:
    deadline = time.monotonic() + 30
    while True:
        try:
            return await backend.status(case_ref)
        except Exception:
            assert time.monotonic() < deadline, f"{case_ref} never opened"
            await asyncio.sleep(0.2)


@pytest.fixture
def env(dev_server_env: WorkflowEnvironment) -> WorkflowEnvironment:
    return dev_server_env


@pytest.fixture
def queue() -> str:
    return f"console-backend-{secrets.token_hex(4)}"


@pytest.fixture
async def real_backend(env: WorkflowEnvironment, queue: str) -> AsyncIterator[TemporalBackend]:
    async def connect() -> Client:
        return env.client

    # Short waits: this machine is shared, but a test must not sit out the 30 s default.
    yield TemporalBackend(
        queue,
        connect,
        query_timeout=timedelta(seconds=3),
        update_timeout=timedelta(seconds=4),
    )


# --------------------------------------------------------------------------- partnerships


async def test_a_restricted_user_asking_for_another_partnership_gets_nothing_from_it(
    env: WorkflowEnvironment,
    queue: str,
    real_backend: TemporalBackend,
    users_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with worker.build_worker(env.client, queue):
        liverpool = await real_backend.start(referral(today(), partnership="LSCP"))
        croydon = await real_backend.start(referral(today(), partnership="CSCP"))
        await opened(real_backend, liverpool)
        await opened(real_backend, croydon)

        async def listed(where: CaseFilter) -> set[str]:
            return {row.case_ref for row in await real_backend.list_cases(where)}

        # Both cases are visible to someone (the checks below are not vacuous).
        await eventually(
            lambda: _has(listed(CaseFilter(partnership="LSCP", visible=("LSCP",))), liverpool),
            "the Liverpool case listed for a Liverpool user",
        )
        await eventually(
            lambda: _has(listed(CaseFilter(visible=("CSCP",))), croydon),
            "the Croydon case listed for a Croydon user",
        )
        # A Croydon-only user asking the backend itself for Liverpool: nothing.
        assert await listed(CaseFilter(partnership="LSCP", visible=("CSCP",))) == set()
        assert liverpool not in await listed(CaseFilter(visible=("CSCP",)))

        # And if the visibility query were wrong (no partnership clause at all), the backend
        # still drops what the user may not see.
        monkeypatch.setattr(
            backend_module,
            "caseload_query",
            lambda where, task_queue: f"TaskQueue = '{task_queue}'",
        )
        leaky = await listed(CaseFilter(visible=("CSCP",)))
        assert croydon in leaky and liverpool not in leaky
        monkeypatch.undo()

        # Through the pages: Cath (Croydon only) asks for Liverpool.
        cath = await Console(users_path, real_backend).browser("cath")
        try:
            page = await cath.get("/cases", params={"partnership": "LSCP"})
            assert page.status_code == 200
            assert liverpool not in page.text and croydon in page.text
            assert "You cannot see that partnership" in page.text
            assert (await cath.get(f"/cases/{liverpool}")).status_code == 404
            decided = await cath.post(
                f"/cases/{liverpool}/decide/triage",
                data={"csrf_token": csrf_of(page.text), "outcome": "serious_incident"},
            )
            assert decided.status_code == 404
        finally:
            await cath.aclose()
        status = await real_backend.status(liverpool)
        assert not [h for h in status.history if h.decision_kind == "triage"]


async def _has(found: Awaitable[set[str]], case_ref: str) -> bool:
    return case_ref in await found


# --------------------------------------------------------------------------- error paths


def hidden_fields(text: str) -> list[tuple[str, str]]:
    return [(name, html.unescape(value)) for name, value in HIDDEN.findall(text)]


async def test_a_case_still_opening_is_a_503_and_opens_later(
    env: WorkflowEnvironment,
    queue: str,
    real_backend: TemporalBackend,
    users_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console.deps, "OPENING_WAIT_SECONDS", 1.0)
    console_ = Console(users_path, real_backend)
    # A worker with the workflows but no activities: the case cannot load its settings yet.
    async with worker.build_worker(env.client, queue, activities=[]):
        case_ref = await real_backend.start(referral(today(), partnership="LSCP"))
        pat = await console_.browser("pat")
        page = await pat.get(f"/cases/{case_ref}")
        assert page.status_code == 503
        assert "The case is opening" in page.text and "still opening" in page.text
        # A decision sent now is kept, with its id, for later.
        form = await pat.get("/cases")
        sent = await pat.post(
            f"/cases/{case_ref}/decide/triage",
            data={
                "csrf_token": csrf_of(form.text),
                "outcome": "serious_incident",
                "attendees": TRIAGE_ATTENDEES,
                "decision_id": "console-" + "a" * 24,
            },
        )
        assert sent.status_code == 503
        assert "The case is opening" in sent.text
        kept = dict(hidden_fields(sent.text))
        assert kept["decision_id"] == "console-" + "a" * 24
        assert kept["outcome"] == "serious_incident"
    async with worker.build_worker(env.client, queue):
        await opened(real_backend, case_ref)
        assert (await pat.get(f"/cases/{case_ref}")).status_code == 200
        again = await pat.post(f"/cases/{case_ref}/decide/triage", data=kept)
        assert again.status_code == 303, again.text
        status = await real_backend.status(case_ref)
        assert [h.decision_id for h in status.history if h.decision_kind == "triage"] == [
            "console-" + "a" * 24
        ]
    await pat.aclose()


async def test_worker_down_keeps_the_decision_id_and_a_resend_applies_once(
    env: WorkflowEnvironment, queue: str, real_backend: TemporalBackend, users_path: Path
) -> None:
    console_ = Console(users_path, real_backend)
    async with worker.build_worker(env.client, queue):
        case_ref = await real_backend.start(referral(today(), partnership="LSCP"))
        await opened(real_backend, case_ref)
        pat = await console_.browser("pat")
        form = await pat.get(f"/cases/{case_ref}/decide/triage")
        assert form.status_code == 200
    decision_id = dict(hidden_fields(form.text))["decision_id"]

    # 1. No worker at all: the case cannot even answer; the page keeps the decision.
    down = await pat.post(
        f"/cases/{case_ref}/decide/triage",
        data={
            "csrf_token": csrf_of(form.text),
            "decision_id": decision_id,
            "outcome": "serious_incident",
            "attendees": TRIAGE_ATTENDEES,
            "note": "Discussed at triage.",
        },
    )
    assert down.status_code == 503
    assert "The case system did not answer" in down.text and "is the worker running?" in down.text
    assert "Send again" in down.text
    kept = hidden_fields(down.text)
    assert ("decision_id", decision_id) in kept and ("note", "Discussed at triage.") in kept

    # 2. The worker is back but deadline planning hangs: the Update is accepted, then does not
    # finish in time. The form comes back (503) with the same decision id.
    released = asyncio.Event()

    @activity.defn(name="plan_deadlines")
    async def held_planning(input: PlanDeadlinesInput) -> PlanDeadlinesResult:
        await released.wait()
        return await plan_deadlines(input)

    held = [held_planning, *(a for a in ALL_ACTIVITIES if a is not plan_deadlines)]
    async with worker.build_worker(env.client, queue, activities=held):
        stuck = await pat.post(f"/cases/{case_ref}/decide/triage", data=dict(kept))
        assert stuck.status_code == 503
        assert "send the form again (it applies once)" in stuck.text
        assert ("decision_id", decision_id) in hidden_fields(stuck.text)
        resend = dict(hidden_fields(stuck.text))
        resend["outcome"] = "serious_incident"
        resend["note"] = "Discussed at triage."
        resend["csrf_token"] = csrf_of(stuck.text)

        # 3. Planning finishes: the accepted decision completes; sending again applies it once.
        released.set()
        first = await pat.post(f"/cases/{case_ref}/decide/triage", data=resend)
        assert first.status_code == 303, first.text
        second = await pat.post(f"/cases/{case_ref}/decide/triage", data=resend)
        assert second.status_code == 303, second.text
        shown = await pat.get(f"/cases/{case_ref}")
        # Temporal answers a re-sent Update id with the first result: the same message.
        assert "Recorded: Triage decision" in shown.text or "Already recorded" in shown.text
        status = await real_backend.status(case_ref)
        triage = [h for h in status.history if h.decision_kind == "triage"]
        assert [h.decision_id for h in triage] == [decision_id]
        assert triage[0].by is not None and triage[0].by.name == "Pat Police"
        assert status.stage.value == "serious_incident_notification"
    await pat.aclose()


async def test_a_decision_on_a_closed_case_is_refused(
    env: WorkflowEnvironment, queue: str, real_backend: TemporalBackend, users_path: Path
) -> None:
    console_ = Console(users_path, real_backend)
    async with worker.build_worker(env.client, queue):
        case_ref = await real_backend.start(referral(today(), partnership="LSCP"))
        await opened(real_backend, case_ref)
        dana = await console_.browser("dana")
        form = await dana.get(f"/cases/{case_ref}/decide/triage")
        closed = await dana.post(
            f"/cases/{case_ref}/decide/triage",
            data={
                "csrf_token": csrf_of(form.text),
                "decision_id": dict(hidden_fields(form.text))["decision_id"],
                "outcome": "no_further_action",
                "advice": "Single-agency advice given.",
                "attendees": TRIAGE_ATTENDEES,
            },
        )
        assert closed.status_code == 303, closed.text
        handle = env.client.get_workflow_handle(f"referral-{case_ref}")
        await handle.result()  # the workflow has completed
        # The console still sends a decision the stage does not expect (the case decides): the
        # workflow has completed, so Temporal refuses the Update and the page says why.
        late = await dana.post(
            f"/cases/{case_ref}/decide/triage",
            data={
                "csrf_token": csrf_of(form.text),
                "decision_id": "console-" + "b" * 24,
                "outcome": "serious_incident",
            },
        )
        assert late.status_code == 409, late.text
        assert "Closed" in late.text and f"case {case_ref} is closed" in late.text
        status = await real_backend.status(case_ref)
        assert status.stage.value == "closed"
        await dana.aclose()
