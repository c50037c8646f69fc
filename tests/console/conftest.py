"""Console fixtures: a users file with one user per role, the app on a fake Temporal layer, and
a signed-in test client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from console.app import ConsoleSettings, create_app
from console.auth import LoginLimiter
from console.users import ConsoleRole, User, render_users
from safeguarding.profiles import load_profiles
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import Agency
from tests.console.fakes import FakeBackend

PASSWORD = "correct-horse-battery"
#: username: (display name, role, agency, partnerships)
PEOPLE: dict[str, tuple[str, ConsoleRole, Agency, list[str]]] = {
    "cora": ("Cora Coordinator", ConsoleRole.COORDINATOR, Agency.PARTNERSHIP, ["*"]),
    "bea": ("Bea Manager", ConsoleRole.BUSINESS_MANAGER, Agency.PARTNERSHIP, ["*"]),
    "dana": ("Dana Chair", ConsoleRole.CHAIR, Agency.POLICE, ["LSCP", "ENGLAND"]),
    "pat": ("Pat Police", ConsoleRole.PANEL_MEMBER, Agency.POLICE, ["LSCP", "ENGLAND"]),
    "hal": ("Hal Health", ConsoleRole.PANEL_MEMBER, Agency.HEALTH, ["LSCP", "ENGLAND"]),
    "eve": ("Eve Teacher", ConsoleRole.PANEL_MEMBER, Agency.EDUCATION, ["LSCP"]),
    "lee": ("Lee Reviewer", ConsoleRole.LEAD_REVIEWER, Agency.INDEPENDENT, ["LSCP"]),
    "rob": ("Rob Reader", ConsoleRole.READ_ONLY, Agency.PARTNERSHIP, ["*"]),
    "cath": ("Cath Croydon", ConsoleRole.COORDINATOR, Agency.PARTNERSHIP, ["CSCP"]),
}
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def users_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Cheap argon2 parameters keep the tests quick; verification reads them from the hash.
    digest = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    users = [
        User(
            username=name,
            display_name=display,
            role=role,
            agency=agency,
            partnerships=codes,
            password_hash=digest,
        )
        for name, (display, role, agency, codes) in PEOPLE.items()
    ]
    path = tmp_path_factory.mktemp("console") / "users.toml"
    path.write_text(render_users(users, "# test users\n"))
    return path


@pytest.fixture(scope="session")
def profiles() -> dict[str, PartnershipSettings]:
    return load_profiles()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def backend(profiles: dict[str, PartnershipSettings], clock: Clock) -> FakeBackend:
    return FakeBackend(profiles, clock)


@pytest.fixture
def settings(users_path: Path, profiles: dict[str, PartnershipSettings]) -> ConsoleSettings:
    return ConsoleSettings(users_file=users_path, secret="s" * 40, profiles=profiles)


@pytest.fixture
def app_client(
    settings: ConsoleSettings, backend: FakeBackend, clock: Clock
) -> Callable[..., TestClient]:
    def make(limiter: LoginLimiter | None = None) -> TestClient:
        app = create_app(settings, backend, now=clock, limiter=limiter)
        return TestClient(app, follow_redirects=False)

    return make


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def as_user(app_client: Callable[..., TestClient]) -> Iterator[Callable[[str], TestClient]]:
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = app_client()
        clients.append(client)
        return sign_in(client, username)

    yield make
    for client in clients:
        client.close()
