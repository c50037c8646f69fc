"""End to end in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright)
against the console served by uvicorn, a real Temporal dev server and a worker in this process.

Screenshots of the main pages go to test-artifacts/console/ (git-ignored).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, Page, async_playwright, expect
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import worker
from console.app import ConsoleSettings, create_app, state_words
from console.backend import TemporalBackend
from console.reports import register_available
from console.users import DEMO_USERS_FILE
from safeguarding.case import CaseStatus, DecisionResult
from safeguarding.clock import uk_today
from safeguarding.deadlines import DeadlineState
from safeguarding.profiles import load_profiles
from tests.console.test_pages import TRIAGE_ATTENDEES
from tests.factories import action_fields, referral, triage_participants
from tests.ports import free_port
from workflows.referral import workflow_id

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
CHROMIUM = os.environ.get("SRO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "demo-password"  # the demo users' (console/users.example.toml)
CHAIR = {"name": "Dana Reid", "role": "chair", "agency": "police"}
POLICE = {"name": "Pat Jones", "role": "panel_member", "agency": "police"}


@dataclass
class Stack:
    url: str
    client: Client
    queue: str
    backend: TemporalBackend

    async def open_case(self, **overrides: Any) -> str:
        received = overrides.pop("received_on", uk_today(datetime.now(UTC)))
        overrides.setdefault("partnership", "LSCP")
        case_ref = await self.backend.start(referral(received, **overrides))
        await self.status(case_ref)  # opened
        return case_ref

    async def status(self, case_ref: str) -> CaseStatus:
        deadline = time.monotonic() + 20
        while True:
            try:
                return await self.backend.status(case_ref)
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def decide(self, case_ref: str, kind: str, by: dict[str, str], **fields: Any) -> None:
        if kind == "triage":  # attended and agreed as every shipped profile asks
            fields = {**triage_participants(), **fields}
        body = {"kind": kind, "decision_id": f"test-{uuid.uuid4().hex}", "by": by, **fields}
        handle = self.client.get_workflow_handle(workflow_id(case_ref))
        await handle.execute_update(
            "decide", body, id=body["decision_id"], result_type=DecisionResult
        )


@pytest_asyncio.fixture(scope="module")
async def stack(dev_server_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """The worker on a queue of its own, and the console (uvicorn, in a thread with its own
    event loop and Temporal client) on a free port."""
    client = dev_server_env.client
    target = client.service_client.config.target_host
    queue = f"console-e2e-{secrets.token_hex(4)}"

    async def connect() -> Client:
        return await Client.connect(target, data_converter=client.data_converter)

    app = create_app(
        ConsoleSettings(
            users_file=DEMO_USERS_FILE,
            secret=secrets.token_urlsafe(40),
            profiles=load_profiles(),
            demo_users=True,
        ),
        TemporalBackend(queue, connect),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    async with worker.build_worker(client, queue):
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive(), "the console did not start"
            assert time.monotonic() < deadline, "the console did not start in time"
            await asyncio.sleep(0.05)
        try:
            yield Stack(f"http://127.0.0.1:{port}", client, queue, TemporalBackend(queue, connect))
        finally:
            server.should_exit = True
            await asyncio.to_thread(thread.join, 15)


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(
        locale="en-GB", timezone_id="Europe/London", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(20_000)
    opened = await context.new_page()
    try:
        yield opened
    finally:
        await context.close()


# --------------------------------------------------------------------------- helpers


async def shoot(page: Page, name: str) -> None:
    target = ARTIFACTS / f"{name}.png"
    target.unlink(missing_ok=True)
    await page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 0


async def sign_in(page: Page, stack: Stack, username: str) -> None:
    await page.goto(f"{stack.url}/login")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        if await page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        await page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {selector}")


async def keyboard_sign_in(page: Page, stack: Stack, username: str) -> None:
    await page.goto(f"{stack.url}/login")
    await tab_to(page, "#username")
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def assert_accessible_forms(page: Page) -> None:
    """Every visible control has a label; the focus is visible (an outline or a shadow)."""
    unlabelled = await page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden' && e.labels.length === 0)
            .map(e => e.name || e.id)"""
    )
    assert unlabelled == []


async def reported_state(
    stack: Stack, case_ref: str, deadline_id: str, before: DeadlineState
) -> re.Pattern[str]:
    """The words for the deadline's state as the case reports it, read before and after the
    page was drawn (the state may change in between, at 09:00 or midnight)."""
    status = await stack.status(case_ref)
    after = next(d.state for d in status.deadlines if d.deadline_id == deadline_id)
    return re.compile("|".join(re.escape(state_words(s)) for s in {before, after}))


async def workflows_on(stack: Stack) -> int:
    count = 0
    async for _ in stack.client.list_workflows(f"TaskQueue = '{stack.queue}'"):
        count += 1
    return count


# --------------------------------------------------------------------------- scenarios


async def test_a_coordinator_refers_after_seeing_a_validation_error(
    stack: Stack, page: Page
) -> None:
    await keyboard_sign_in(page, stack, "cora")
    await page.get_by_role("link", name="New referral").click()
    await expect(page.get_by_role("heading", name="New referral")).to_be_visible()
    await assert_accessible_forms(page)
    await page.get_by_label("Partnership (required)").select_option("LSCP")
    # Issue 15: the date is a text field holding a UK date, day first, not the browser's own
    # date input (mm/dd/yyyy in US English); the case opens from it below.
    received = page.get_by_label("Received on (required)")
    await expect(received).to_have_attribute("type", "text")
    await expect(received).to_have_value(re.compile(r"^\d{2}/\d{2}/\d{4}$"))
    await page.get_by_label("Harm (required)").select_option("serious_harm")
    await page.locator("#f-abuse_or_neglect_suspected-yes").check()
    await page.get_by_label("Referrer's name (required)").fill("Rita Shah")
    await page.get_by_label("Referrer's agency (required)").select_option("health")
    await page.locator("#f-referrer-discussed_with_safeguarding_lead-yes").check()
    await page.locator("#f-children-0-name").fill("A.B.")
    await page.locator("#f-children-0-age_years").fill("3")
    await page.get_by_label("Police", exact=True).check()
    before = await workflows_on(stack)
    await page.get_by_role("button", name="Check and open the case").click()

    # The summary is missing: the error is next to the field and nothing was started.
    error = page.locator("#f-summary-error")
    await expect(error).to_have_text("Error: Required.")
    summary = page.locator("#f-summary")
    await expect(summary).to_have_attribute("aria-invalid", "true")
    await expect(summary).to_have_attribute("aria-describedby", "f-summary-error f-summary-help")
    await expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    await expect(page.get_by_label("Referrer's name (required)")).to_have_value("Rita Shah")
    assert await workflows_on(stack) == before
    await shoot(page, "referral-validation-error")

    # The error summary links to the field.
    await page.get_by_role("link", name="The referral: Summary: Required.").click()
    await expect(summary).to_be_focused()
    await summary.fill("Admitted with unexplained injuries.")
    await page.get_by_role("button", name="Check and open the case").click()
    await expect(page.locator(".flash")).to_contain_text("opened for LSCP")
    case_ref = page.url.rsplit("/", 1)[1]
    assert case_ref.startswith("LSCP-")
    await expect(page.locator("#case-stage")).to_have_text("Triage")
    await expect(page.locator("#personal-data")).to_contain_text("A.B.")
    assert "A.B." not in await page.title()
    described = await stack.client.get_workflow_handle(workflow_id(case_ref)).describe()
    assert await described.static_summary() == f"Referral {case_ref} — LSCP"
    await shoot(page, "case-opened")


async def test_a_panel_member_records_triage_and_sees_the_new_deadline(
    stack: Stack, page: Page
) -> None:
    case_ref = await stack.open_case()
    await sign_in(page, stack, "pat")
    await page.get_by_role("link", name="My decisions").click()
    section = page.locator(f'section[data-case="{case_ref}"]')
    await expect(section).to_be_visible()
    triage = section.locator("details", has_text="Triage decision")
    if await triage.get_attribute("open") is None:  # folded: open it
        await triage.locator("summary").click()
    await assert_accessible_forms(page)
    await shoot(page, "my-decisions")
    await section.get_by_label("Outcome").select_option("serious_incident")
    await section.get_by_label("Who attended").fill(TRIAGE_ATTENDEES)  # Liverpool's triage
    await section.get_by_label("Note").fill("Discussed at weekly triage.")
    await section.get_by_role("button", name="Record: Triage decision").click()

    flash = page.locator(".flash")
    await expect(flash).to_contain_text(
        "Recorded: Triage decision. Stage now: Serious Incident Notification."
    )
    status = await stack.status(case_ref)
    notification = next(d for d in status.deadlines if d.deadline_id == "notification")
    due = f"{notification.due_on.day} {notification.due_on:%b %Y}"
    await expect(flash).to_contain_text(
        f"New deadline — Serious Incident Notification to the National Panel: due {due}"
    )
    assert any(h.by and h.by.name == "Pat Jones" for h in status.history)

    await page.goto(f"{stack.url}/cases/{case_ref}")
    row = page.locator('tr[data-deadline="notification"]')
    await expect(row).to_contain_text(due)
    # The state the case reports (five working days ahead it is on track; reading it from the
    # case keeps the test right on any day at any hour).
    await expect(row).to_contain_text(
        await reported_state(stack, case_ref, "notification", notification.state)
    )
    assert notification.state is DeadlineState.ON_TRACK
    await expect(page.locator("#decision-history")).to_contain_text("Pat Jones")
    timeline = page.get_by_role("img", name=f"Timeline of case {case_ref}")
    await expect(timeline).to_be_visible()
    await shoot(page, "case-after-triage")


async def test_a_user_without_the_role_is_refused(stack: Stack, page: Page) -> None:
    case_ref = await stack.open_case()
    await stack.decide(case_ref, "triage", CHAIR, outcome="serious_incident")

    await sign_in(page, stack, "rob")  # read-only
    await expect(page.get_by_role("link", name="New referral")).to_have_count(0)
    response = await page.goto(f"{stack.url}/referrals/new")
    assert response is not None and response.status == 403
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("may not record referrals")
    await shoot(page, "refused-read-only")

    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, stack, "pat")  # police: the notification is the local authority's
    response = await page.goto(f"{stack.url}/cases/{case_ref}/decide/notification_submitted")
    assert response is not None and response.status == 403
    await expect(page.get_by_role("alert")).to_contain_text(
        "it needs a coordinator or business manager; or panel member or chair from "
        "Children's Social Care"
    )
    await shoot(page, "refused-panel-member")
    assert (await stack.status(case_ref)).stage.value == "serious_incident_notification"


async def test_a_wrong_stage_decision_shows_its_refusal(stack: Stack, page: Page) -> None:
    """The chair fills in the triage form by keyboard; meanwhile a panel member triages the
    case; the chair's decision reaches the workflow, which refuses it."""
    case_ref = await stack.open_case()
    await sign_in(page, stack, "dana")
    await page.goto(f"{stack.url}/cases/{case_ref}/decide/triage")
    await tab_to(page, "#f-outcome")
    await page.keyboard.press("ArrowDown")  # the first option: serious incident
    await expect(page.locator("#f-outcome")).to_have_value("serious_incident")

    await stack.decide(case_ref, "triage", POLICE, outcome="serious_incident")

    await tab_to(page, "button[type=submit]")
    await page.keyboard.press("Enter")
    refusal = page.locator(".refusal")
    await expect(refusal).to_have_attribute("role", "alert")
    await expect(refusal).to_contain_text("The case refused this decision")
    await expect(refusal).to_contain_text(
        "WrongStage: a triage decision is not allowed at stage 'Serious Incident Notification'"
    )
    await expect(refusal).to_contain_text("Nothing about the case changed.")
    await expect(page.locator("#f-outcome")).to_have_value("serious_incident")
    await shoot(page, "decision-refused-wrong-stage")
    status = await stack.status(case_ref)
    assert [h.by.name for h in status.history if h.decision_kind == "triage" and h.by] == [
        "Pat Jones"
    ]


async def test_caseload_filters(stack: Stack, page: Page) -> None:
    today = uk_today(datetime.now(UTC))
    fresh = await stack.open_case()
    croydon = await stack.open_case(partnership="CSCP")
    late = await stack.open_case(received_on=today - timedelta(days=30))
    moved = await stack.open_case()
    await stack.decide(moved, "triage", CHAIR, outcome="serious_incident")
    ours = {fresh, croydon, late, moved}

    await sign_in(page, stack, "cora")

    async def shown() -> set[str]:
        rows = page.locator("#caseload tbody tr")
        return {v for v in await rows.evaluate_all("rs => rs.map(r => r.dataset.case)")} & ours

    deadline = time.monotonic() + 20
    while True:  # Temporal visibility is eventually consistent
        await page.goto(f"{stack.url}/cases")
        if await shown() == ours:
            break
        assert time.monotonic() < deadline, f"the caseload shows {await shown()}"
        await asyncio.sleep(0.5)
    await expect(page.locator(f'tr[data-case="{late}"]')).to_contain_text("Overdue")
    # A new Liverpool case's triage is due at the Wednesday meeting and is "due soon" from
    # Monday 09:00: the row shows the state the case itself reports, whatever the day and hour.
    before = (await stack.status(fresh)).next_deadline
    assert before is not None and before.state in (DeadlineState.ON_TRACK, DeadlineState.DUE_SOON)
    await page.goto(f"{stack.url}/cases")
    await expect(page.locator(f'tr[data-case="{fresh}"]')).to_contain_text(
        await reported_state(stack, fresh, before.deadline_id, before.state)
    )
    await assert_accessible_forms(page)
    await shoot(page, "caseload")

    async def apply_filter(**choices: str) -> set[str]:
        await page.goto(f"{stack.url}/cases")
        for label, value in choices.items():
            if value == "check":
                await page.get_by_label(label).check()
            else:
                await page.get_by_label(label).select_option(value)
        await page.get_by_role("button", name="Show cases").click()
        return await shown()

    async def filtered_to(expected: set[str], **choices: str) -> None:
        # Search attributes follow a case within REGISTER_LAG (a new case's first ones too).
        deadline = time.monotonic() + 20
        while (found := await apply_filter(**choices)) != expected:
            assert time.monotonic() < deadline, f"{choices} shows {found}, not {expected}"
            await asyncio.sleep(0.5)

    await filtered_to({moved}, Stage="serious_incident_notification")
    await filtered_to({moved}, Route="serious_incident")
    await filtered_to({croydon}, Partnership="CSCP")
    await filtered_to({late}, **{"Only overdue": "check"})
    await shoot(page, "caseload-overdue")


async def test_action_plan_tracker(stack: Stack, page: Page) -> None:
    case_ref = await stack.open_case(partnership="ENGLAND")
    await stack.decide(
        case_ref, "triage", CHAIR, outcome="other_review", review_type="multi_agency_audit"
    )
    await stack.decide(case_ref, "other_review_completed", CHAIR, findings="Findings recorded.")
    due = uk_today(datetime.now(UTC)) + timedelta(days=90)
    fields = action_fields("A1", due, lead_agency="police")

    await sign_in(page, stack, "cora")
    await page.goto(f"{stack.url}/cases/{case_ref}/actions")
    await expect(page.get_by_text("No actions yet.")).to_be_visible()
    form = page.locator("form.decision-form")
    await form.get_by_label("Action id").fill("A1")
    await form.get_by_label("Recommendation").fill(fields["recommendation"])
    await form.get_by_label("Description").fill(fields["description"])
    await form.get_by_label("Lead agency").select_option("police")
    await form.get_by_label("Due date").fill(due.isoformat())
    await form.get_by_label("Outcome measure").fill(fields["outcome_measure"])
    await form.get_by_role("button", name="Record: Add an action").click()
    await expect(page.locator(".flash")).to_contain_text("Recorded: Action added")
    row = page.locator('tr[data-action="A1"]')
    await expect(row).to_contain_text("Not started")
    await expect(row).to_contain_text("Police")

    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, stack, "pat")
    await page.goto(f"{stack.url}/cases/{case_ref}/actions")
    await page.get_by_role("link", name="Update action A1").click()
    await expect(page.get_by_label("Action id")).to_have_value("A1")
    await page.get_by_label("Status").select_option("in_progress")
    await page.get_by_label("RAG rating").select_option("amber")
    await page.get_by_label("Evidence").fill("Audit of 20 strategy discussions started.")
    await page.get_by_role("button", name="Record: Update an action").click()
    row = page.locator('tr[data-action="A1"]')
    await expect(row).to_contain_text("In progress")
    await expect(row).to_contain_text("Amber")
    await expect(row).to_contain_text("Audit of 20 strategy discussions started.")
    await expect(page.locator(".counts")).to_contain_text("1 amber")
    await shoot(page, "action-plan")

    await page.get_by_role("link", name="Reports").click()
    await expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    if register_available():  # the worker here projects into the session's scratch register
        await expect(page.get_by_text("Review summary since")).to_be_visible()
    else:
        await expect(page.locator("#register-not-configured")).to_be_visible()
    await shoot(page, "reports")


async def test_a_professional_disagreement_raised_moved_on_and_resolved(
    stack: Stack, page: Page
) -> None:
    """Issue 13, item 12: the escalation pages, through the gateway's EscalationClient."""
    await sign_in(page, stack, "cora")
    await page.goto(f"{stack.url}/escalations")
    await page.get_by_role("link", name="Raise a professional disagreement").click()
    await page.get_by_label("Partnership").select_option("CSCP")
    await page.get_by_label("The agency the disagreement is with").select_option("education")
    await page.get_by_label("What the disagreement is about").fill("Closing a case too early.")
    await assert_accessible_forms(page)
    await page.get_by_role("button", name="Raise it").click()
    await expect(page.locator(".flash")).to_contain_text("stage 1")
    ref = page.url.rsplit("/", 1)[1]
    assert ref.startswith("CSCP-ESC-")
    for stage in (2, 3):
        await page.get_by_label(f"Why it cannot be resolved at stage {stage - 1}").fill(
            "No agreement"
        )
        await page.get_by_role("button", name=f"Move on to stage {stage}").click()
        await expect(page.locator(".flash")).to_contain_text(f"moved to stage {stage}")
    await expect(page.locator("dl.facts")).to_contain_text("Overseen by")
    await shoot(page, "escalation")
    await page.get_by_label("How it was resolved").fill("Strategy discussion reconvened")
    await page.get_by_role("button", name="Resolve").click()
    await expect(page.locator(".flash")).to_contain_text("resolved at stage 3")
    deadline = time.monotonic() + 20
    while True:  # Temporal visibility is eventually consistent
        await page.goto(f"{stack.url}/escalations?partnership=CSCP&closed=1")
        if await page.locator(f'tr[data-escalation="{ref}"]').count():
            break
        assert time.monotonic() < deadline, "the escalation is not listed"
        await asyncio.sleep(0.5)
    await expect(page.locator(f'tr[data-escalation="{ref}"]')).to_contain_text("Resolved")
