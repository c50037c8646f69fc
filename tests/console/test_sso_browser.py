"""Single sign-on end to end in a real browser: headless Chromium (Debian's `chromium`, driven by
Playwright, as tests/console/test_browser.py) against the console served by uvicorn and a real
OpenID Connect provider on loopback (tests/oidc.py). The console reads cases from the fake
backend: what is tested here is signing in and out, not the cases."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Page, expect

from console.app import ConsoleSettings, create_app
from console.sso import SsoSettings
from console.sso_claims import load_mapping
from safeguarding.profiles import load_profiles
from tests.console.conftest import NOW, Clock
from tests.console.fakes import FakeBackend
from tests.console.test_browser import browser, page, shoot
from tests.console.test_sso import MAPPING, PEOPLE
from tests.oidc import CLIENT_ID, CLIENT_SECRET, Provider, run_provider
from tests.ports import free_port

__all__ = ["browser", "page"]  # the browser fixtures, shared with test_browser.py


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with run_provider(PEOPLE) as running:
        yield running


@pytest_asyncio.fixture(scope="module")
async def console_url(
    provider: Provider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    folder = tmp_path_factory.mktemp("sso-browser")
    (folder / "sso.toml").write_text(MAPPING)
    profiles = load_profiles()
    clock = Clock(NOW)
    settings = ConsoleSettings(
        users_file=None,  # single sign-on only
        secret=secrets.token_urlsafe(40),
        profiles=profiles,
        database_url=f"sqlite:///{folder / 'sessions.db'}",
        sso=SsoSettings(
            issuer=provider.issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            mapping=load_mapping(folder / "sso.toml"),
        ),
    )
    app = create_app(settings, FakeBackend(profiles, clock), now=clock)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="console-sso", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the console did not start"
        assert time.monotonic() < deadline, "the console did not start in time"
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)


async def test_sign_in_with_the_provider_and_out_of_both(page: Page, console_url: str) -> None:
    await page.goto(f"{console_url}/my-decisions")  # signed out: to the sign-in page
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await page.get_by_label("Password").count() == 0  # single sign-on only
    await page.get_by_role("link", name="Sign in with your organisation's account").click()
    # The provider's page (its own origin): the person picks who they are.
    await page.get_by_role("button", name="ann", exact=True).click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.url == f"{console_url}/my-decisions"
    await expect(page.get_by_text("Ann Jones")).to_be_visible()
    await shoot(page, "sso-signed-in")

    await page.get_by_role("button", name="Sign out").click()
    await expect(
        page.get_by_role("heading", name="You are signed out of the console")
    ).to_be_visible()
    await shoot(page, "sso-signed-out")
    await page.get_by_role("link", name="Sign out of your organisation's account").click()
    await page.get_by_role("button", name="End session").click()
    # Back at the console's sign-in page, signed out of both.
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url.startswith(f"{console_url}/login")
    await page.goto(f"{console_url}/cases")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_a_person_whose_groups_give_no_role_sees_why(page: Page, console_url: str) -> None:
    await page.goto(f"{console_url}/login")
    await page.get_by_role("link", name="Sign in with your organisation's account").click()
    await page.get_by_role("button", name="norole", exact=True).click()
    await expect(page.get_by_role("heading", name="No role in the console")).to_be_visible()
    await expect(page.get_by_role("link", name="Back to the sign-in page")).to_be_visible()
    await shoot(page, "sso-no-role")
