"""`python -m starter.devstack`: the one-command local system (dev server + worker).

The integration tests run it for real as a subprocess, on free ports and a data folder of their own:
start, verify, stop; again on the same (now persistent) data; Ctrl-C-style shutdown; and a case
that survives a restart."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from gateway.connection import data_converter
from safeguarding.case import CaseStatus
from safeguarding.clock import uk_today
from starter import devstack
from tests.factories import eventually, opened_status, referral
from tests.ports import free_port
from workflows import search_attributes as sa
from workflows.referral import ReferralInput, ReferralWorkflow, workflow_id

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 120


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    # Every port its own, not the defaults (8000, 8234 or the next free one): stacks started
    # at the same moment by other test processes would pick the same.
    port = free_port()
    ui_port = free_port({port})
    console_port = free_port({port, ui_port})
    codec_port = free_port({port, ui_port, console_port})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "SRO_"))}
    env["SRO_CODEC_KEYS"] = os.environ["SRO_CODEC_KEYS"]  # the tests' key
    env.update(
        SRO_DATA_DIR=str(tmp_path / "data"),
        SRO_TEMPORAL_PORT=str(port),
        SRO_UI_PORT=str(ui_port),
        SRO_CONSOLE_PORT=str(console_port),
        SRO_CODEC_PORT=str(codec_port),
        SRO_TASK_QUEUE=f"devstack-test-{secrets.token_hex(4)}",
    )
    return env


def devstack_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "starter.devstack", *args]


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        devstack_command("--check", *args),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def assert_port_free(port: int) -> None:
    assert not devstack.port_in_use(port), f"port {port} is still in use after stopping"


class Running:
    """`python -m starter.devstack` running in the background, its output in a file."""

    def __init__(self, env: dict[str, str], out: Path, *args: str) -> None:
        self.out = out
        self._out_file = out.open("w")
        self.process = subprocess.Popen(
            devstack_command(*args),
            env=env,
            cwd=ROOT,
            stdout=self._out_file,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def output(self) -> str:
        return self.out.read_text()

    async def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT
        while text not in self.output():
            if self.process.poll() is not None:
                pytest.fail(f"devstack exited {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"devstack did not print {text!r}:\n{self.output()}")
            await asyncio.sleep(0.2)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(RUN_TIMEOUT)
        finally:
            self._out_file.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._out_file.close()


@pytest.fixture
def running() -> Iterator[list[Running]]:
    """Stacks a test started; killed at the end if the test failed before stopping them."""
    started: list[Running] = []
    yield started
    for stack in started:
        stack.kill()


# --------------------------------------------------------------------------- the real thing


@pytest.mark.integration
def test_check_starts_verifies_and_restarts_on_the_same_data(stack_env: dict[str, str]) -> None:
    data = Path(stack_env["SRO_DATA_DIR"])
    port = int(stack_env["SRO_TEMPORAL_PORT"])

    first = run_check(stack_env)
    assert first.returncode == 0, explain(first)
    assert "Check passed" in first.stdout, explain(first)
    assert "worker polling" in first.stdout, explain(first)
    assert (data / "temporal.db").is_file()
    assert (data / "temporal-server.log").is_file()
    assert "worker polling" in (data / "worker.log").read_text()
    assert_port_free(port)

    # A restart on the persistent database re-registers the search attributes without failing.
    second = run_check(stack_env)
    assert second.returncode == 0, explain(second)
    assert "Check passed" in second.stdout, explain(second)
    assert_port_free(port)


@pytest.mark.integration
async def test_sigterm_stops_both_and_a_case_survives_a_restart(
    stack_env: dict[str, str], tmp_path: Path, running: list[Running]
) -> None:
    port = int(stack_env["SRO_TEMPORAL_PORT"])
    address = f"127.0.0.1:{port}"
    today = uk_today(datetime.now(UTC))
    case_ref = f"LSCP-{today.year:04d}-{secrets.token_hex(3).upper()}"

    stack = Running(stack_env, tmp_path / "first.out")
    running.append(stack)
    await stack.wait_for("Press Ctrl-C")
    banner = stack.output()
    assert f"http://127.0.0.1:{stack_env['SRO_UI_PORT']}" in banner
    assert address in banner
    assert "worker.log" in banner
    assert "-m starter list" in banner

    client = await Client.connect(address, data_converter=data_converter())
    handle = await client.start_workflow(
        ReferralWorkflow.run,
        ReferralInput(case_ref=case_ref, referral=referral(today)),
        id=workflow_id(case_ref),
        task_queue=stack_env["SRO_TASK_QUEUE"],
    )
    # The stack's worker runs the case: it opens and reaches triage.
    status = await opened_status(handle, CaseStatus)
    assert status.stage.value == "triage"
    # Searchable once the register has it (within REGISTER_LAG): then stopped.
    await eventually(
        handle.describe,
        lambda d: d.typed_search_attributes.get(sa.REVIEW_STAGE) == "triage",
        what="the stage searchable",
    )

    assert stack.stop(signal.SIGTERM) == 0, stack.output()
    assert "Stopped." in stack.output()
    assert_port_free(port)

    # Started again (server only) on the same data: the case is still there, still open.
    again = Running(stack_env, tmp_path / "second.out", "--no-worker")
    running.append(again)
    await again.wait_for("Press Ctrl-C")
    assert "Start a worker" in again.output()  # how to start a worker yourself
    assert "worker.py" in again.output()
    assert (Path(stack_env["SRO_DATA_DIR"]) / "worker.log").read_text().count("starting:") == 1
    client = await Client.connect(address, data_converter=data_converter())
    described = await client.get_workflow_handle(workflow_id(case_ref)).describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
    assert described.typed_search_attributes.get(sa.REVIEW_STAGE) == "triage"
    await client.get_workflow_handle(workflow_id(case_ref)).terminate("test finished")
    assert again.stop(signal.SIGINT) == 0, again.output()
    assert_port_free(port)


@pytest.mark.integration
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker in /proc")
async def test_a_dead_worker_stops_the_server_and_fails(
    stack_env: dict[str, str], tmp_path: Path, running: list[Running]
) -> None:
    port = int(stack_env["SRO_TEMPORAL_PORT"])
    stack = Running(stack_env, tmp_path / "out")
    running.append(stack)
    await stack.wait_for("Press Ctrl-C")
    worker_pid = _worker_pid(stack_env)
    os.kill(worker_pid, signal.SIGKILL)
    assert stack.process.wait(RUN_TIMEOUT) == 1, stack.output()
    assert "the worker was killed by SIGKILL unexpectedly" in stack.output()
    assert "Stopping the Temporal dev server" in stack.output()
    assert_port_free(port)


# --------------------------------------------------------------------------- no server needed


def test_a_port_in_use_is_reported_clearly(stack_env: dict[str, str]) -> None:
    port = int(stack_env["SRO_TEMPORAL_PORT"])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = run_check(stack_env)
    assert result.returncode == 1, explain(result)
    assert f"port {port} on 127.0.0.1 (the Temporal port) is already in use" in result.stdout
    assert "SRO_TEMPORAL_PORT=" in result.stdout
    assert not (Path(stack_env["SRO_DATA_DIR"]) / "temporal.db").exists()


def test_a_bad_port_setting_is_reported(stack_env: dict[str, str]) -> None:
    result = run_check({**stack_env, "SRO_TEMPORAL_PORT": "seventy"})
    assert result.returncode == 1, explain(result)
    assert "SRO_TEMPORAL_PORT='seventy' is not a port number" in result.stdout


def test_server_command_registers_the_search_attributes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SRO_TEMPORAL_PORT", "7300")
    monkeypatch.setenv("SRO_UI_PORT", "8300")
    settings = devstack.load_settings(startup_timeout=5)
    command = devstack.server_command("temporal", settings)
    assert command[:3] == ["temporal", "server", "start-dev"]
    joined = " ".join(command)
    assert f"--db-filename {tmp_path / 'd' / 'temporal.db'}" in joined
    assert "--ip 127.0.0.1 --port 7300 --ui-port 8300 --ui-disable-news-fetch" in joined
    assert command[-len(sa.dev_server_flags()) :] == sa.dev_server_flags()
    assert settings.ui_url == "http://127.0.0.1:8300"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SRO_DATA_DIR", "SRO_TEMPORAL_PORT", "SRO_UI_PORT", "SRO_TASK_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    settings = devstack.load_settings(startup_timeout=5)
    assert (settings.port, settings.ui_port) == (7233, 8233)
    assert settings.data_dir == Path("data").resolve()
    assert settings.task_queue == "safeguarding-reviews"


def test_the_worker_talks_to_the_local_server_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SRO_TEMPORAL_PORT", "7300")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "example.tmprl.cloud:7233")
    monkeypatch.setenv("TEMPORAL_API_KEY", "not-for-local")
    monkeypatch.setenv("TEMPORAL_TLS", "true")
    env = devstack.child_environment(devstack.load_settings(startup_timeout=5))
    assert env["TEMPORAL_ADDRESS"] == "127.0.0.1:7300"
    assert env["TEMPORAL_NAMESPACE"] == "default"
    assert env["SRO_DATA_DIR"] == str(tmp_path)
    assert "TEMPORAL_API_KEY" not in env
    assert "TEMPORAL_TLS" not in env
    assert devstack.worker_command()[1] == str(ROOT / "worker.py")


# --------------------------------------------------------------------------- helpers


def _worker_pid(env: dict[str, str]) -> int:
    """The worker's pid: the devstack's child running worker.py (from /proc, Linux only)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        task_queue = f"SRO_TASK_QUEUE={env['SRO_TASK_QUEUE']}".encode()
        if any(arg.endswith(b"worker.py") for arg in cmdline) and task_queue in environ:
            return int(entry.name)
    pytest.fail("no worker process found")
