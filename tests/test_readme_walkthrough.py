"""README's walkthrough runs: every command of its shell blocks, in order, against a real dev
server and worker, as `sro` (in this process, `starter.cli.run`), each one succeeding, so the
walkthrough cannot go stale. Only what the blocks use is understood: `export NAME=VALUE ...`,
`CASE=$(sro ...)`, `echo`, comments and `sro ...` with `\\` continuations and "$CASE"."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import shlex
import uuid
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from starter import cli
from worker import build_worker

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parent.parent / "README.md"
ASSIGNED = re.compile(r"^([A-Z_]+)=\$\((.*)\)$", re.S)


def walkthrough_commands(text: str) -> list[str]:
    """The walkthrough section's shell commands, continuation lines joined, comments dropped."""
    section = text[text.index("## Walkthrough") : text.index("## The process as a state machine")]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        commands += [
            line.strip()
            for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
    return commands


def test_the_walkthrough_has_no_fixed_dates_or_references() -> None:
    commands = walkthrough_commands(README.read_text())
    assert len(commands) > 30
    for command in commands:
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", command), command  # dates go stale
        assert not re.search(r"\b[A-Z]+-20\d\d-[0-9A-F]{6}\b", command), command


async def test_every_walkthrough_command_runs(
    dev_server_env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    outbox: Path,
) -> None:
    queue = f"it-walkthrough-{uuid.uuid4()}"
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_server_env.client.service_client.config.target_host)
    monkeypatch.setenv("SRO_TASK_QUEUE", queue)
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'register.db'}")
    for name in ("SRO_USER_NAME", "SRO_USER_ROLE", "SRO_USER_AGENCY"):
        monkeypatch.delenv(name, raising=False)
    variables: dict[str, str] = {}

    async def sro(command: str) -> str:
        words = shlex.split(command.replace('"$CASE"', shlex.quote(variables.get("CASE", ""))))
        assert words[0] == "sro", command
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = await asyncio.to_thread(cli.run, words[1:])
        assert code == 0, f"{command}\n{out.getvalue()}{err.getvalue()}"
        return out.getvalue()

    async with build_worker(dev_server_env.client, queue):
        for command in walkthrough_commands(README.read_text()):
            if command.startswith("export "):
                for pair in shlex.split(command)[1:]:
                    name, _, value = pair.partition("=")
                    monkeypatch.setenv(name, value)
            elif command.startswith("echo "):
                continue
            elif assigned := ASSIGNED.match(command):
                variables[assigned.group(1)] = (await sro(assigned.group(2))).strip()
            else:
                printed = await sro(command)
                if command.startswith("sro list"):
                    assert variables["CASE"] in printed  # the case, closed
    assert re.fullmatch(r"LSCP-20\d\d-[0-9A-F]{6}", variables["CASE"])
