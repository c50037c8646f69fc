"""A test that hangs fails instead of stalling the run (pytest-timeout, configured in
pyproject.toml): an assert failing inside an activity makes Temporal retry it for ever, and the
test awaiting the result would otherwise wait for ever too."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.conftest import SKIP_ATTEMPT, SKIP_WITHIN

ROOT = Path(__file__).resolve().parent.parent

HANGING = """
import asyncio


async def test_waits_for_an_activity_retried_for_ever() -> None:
    await asyncio.Event().wait()


async def test_the_next_test_still_runs() -> None:
    await asyncio.sleep(0)
"""


def test_every_test_has_a_time_limit(pytestconfig: pytest.Config) -> None:
    assert float(pytestconfig.getini("timeout")) == 300
    assert pytestconfig.getini("timeout_method") == "signal"


def test_a_hanging_async_test_fails_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "test_hanging.py").write_text(HANGING)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml")),
            *("--rootdir", str(tmp_path), "-p", "no:xdist", "-p", "no:cacheprovider"),
            *("-q", "--timeout=1", str(tmp_path / "test_hanging.py")),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Timeout (>1.0s) from pytest-timeout" in done.stdout
    assert "1 failed, 1 passed" in done.stdout


async def test_a_time_skip_waits_longer_than_the_sdks_30_seconds(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK's `env.sleep` gives up after 30 s of real time; the tests' skip waits up to
    # `SKIP_WITHIN` in all (a slow skip under load is not a failure of what a test checks),
    # asking the server in requests of `SKIP_ATTEMPT`.
    asked: list[timedelta | None] = []
    service = time_skipping_env.client.test_service
    unlock = service.unlock_time_skipping_with_sleep

    async def recording(request: SleepRequest, **options: Any) -> Any:
        asked.append(options.get("timeout"))
        return await unlock(request, **options)

    monkeypatch.setattr(service, "unlock_time_skipping_with_sleep", recording)
    before = await time_skipping_env.get_current_time()
    await time_skipping_env.sleep(timedelta(hours=3))
    assert await time_skipping_env.get_current_time() - before >= timedelta(hours=3)
    assert asked == [SKIP_ATTEMPT] and timedelta(seconds=30) < SKIP_WITHIN


async def test_a_skip_the_server_never_answers_is_not_a_failure_once_the_clock_moved(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test server sometimes moves its clock and never answers the request: the skip reads
    the clock and ends. A request that failed before the clock moved is asked again."""
    service = time_skipping_env.client.test_service
    unlock = service.unlock_time_skipping_with_sleep
    calls: list[str] = []

    async def unanswered(request: SleepRequest, **options: Any) -> Any:
        calls.append("asked")
        if len(calls) == 1:  # refused before moving the clock: asked again
            raise RPCError("h2 protocol error", RPCStatusCode.UNAVAILABLE, b"")
        await unlock(request, **options)  # the clock moves...
        raise RPCError("Timeout expired", RPCStatusCode.DEADLINE_EXCEEDED, b"")  # ...no answer

    monkeypatch.setattr(service, "unlock_time_skipping_with_sleep", unanswered)
    before = await time_skipping_env.get_current_time()
    await time_skipping_env.sleep(timedelta(hours=5))
    assert await time_skipping_env.get_current_time() - before >= timedelta(hours=5)
    assert calls == ["asked", "asked"]
