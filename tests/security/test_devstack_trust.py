"""`make run` as another local user would see it: the codec token is on no process's command line
(the dev server, the codec server, the worker, the console), and the data folder and every file
in it are private to the user who runs the stack, from the moment they are created."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client

from gateway.connection import data_converter
from safeguarding.case import CaseStatus
from safeguarding.clock import uk_today
from security import codec_server, files
from security.keys import KeyRing
from tests.factories import opened_status, referral
from tests.ports import free_ports
from workflows.referral import ReferralInput, ReferralWorkflow, workflow_id

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 120

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads other processes in /proc"
)


def descendants(pid: int) -> set[int]:
    """pid and every process below it (the stack's children run in sessions of their own)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found = {pid}
    while True:
        more = {child for child, parent in parents.items() if parent in found} - found
        if not more:
            return found
        found |= more


def umask_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    raise AssertionError(f"no Umask in /proc/{pid}/status")


def loose(folder: Path) -> list[str]:
    """Everything in folder (itself included) that group or others may use."""
    found = []
    for path in [folder, *folder.rglob("*")]:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            continue  # a live stack's short-lived files (SQLite's journal) come and go
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path} {stat.filemode(mode)}")
    return found


CHROMIUM = os.environ.get("SRO_CHROMIUM", "/usr/bin/chromium")


async def web_ui_shows(ui_port: int, workflow: str, text: str) -> list[int]:
    """Open the case in the Web UI in headless Chromium until `text` (from the encrypted
    input) shows; the codec server's answers to the page's decode calls."""
    from playwright.async_api import async_playwright

    statuses: list[int] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            page.on(
                "response",
                lambda r: statuses.append(r.status) if "/decode" in r.url else None,
            )
            await page.goto(f"http://127.0.0.1:{ui_port}/namespaces/default/workflows/{workflow}")
            await page.get_by_text(text).first.wait_for(timeout=30_000)
        finally:
            await browser.close()
    return statuses


PROBE = """
import sys, urllib.error, urllib.request
codec, ui, data = sys.argv[1:]
request = urllib.request.Request(
    f"http://127.0.0.1:{codec}/decode", data=b'{"payloads": []}',
    headers={"Origin": f"http://127.0.0.1:{ui}", "Content-Type": "application/json"},
)
try:
    status = urllib.request.urlopen(request, timeout=10).status
except urllib.error.HTTPError as err:
    status = err.code
try:
    open(f"{data}/codec-token").read()
    files = "read"
except PermissionError:
    files = "denied"
print(status, files)
"""


def other_user_probe(codec_port: int, ui_port: int, data: Path) -> str:
    """What user `nobody` gets from the codec server (as the Web UI would call it) and from
    the data folder."""
    # A system Python (the virtualenv may be in a folder `nobody` cannot enter).
    python = shutil.which("python3", path="/usr/bin:/bin:/usr/local/bin")
    if python is None:
        pytest.skip("no system python3 for user nobody")
    probe = subprocess.run(
        [python, "-c", PROBE, str(codec_port), str(ui_port), str(data)],
        user=65534,
        group=65534,
        capture_output=True,
        text=True,
        timeout=30,
        cwd="/",
    )
    assert probe.returncode == 0, probe.stderr
    return probe.stdout.strip()


def test_the_data_folder_is_made_private(tmp_path: Path) -> None:
    """A folder from an older version (0755, 0644 files) is tightened; new files are 0600."""
    old = tmp_path / "data"
    (old / "outbox").mkdir(parents=True)
    for path in (old / "temporal.db", old / "outbox" / "n1.eml", old / "run.sh"):
        path.write_text("x")
        path.chmod(0o644)
    (old / "run.sh").chmod(0o755)
    old.chmod(0o755)
    (old / "outbox").chmod(0o755)
    (old / "link").symlink_to("/etc/hostname")
    before = os.umask(0o022)
    try:
        assert files.private_data_dir(old) == old
        assert os.umask(0o077) == files.PRIVATE_UMASK  # set for this process and its children
        assert loose(old) == []
        assert stat.S_IMODE((old / "run.sh").stat().st_mode) == 0o700  # the owner keeps x
        (old / "new.log").write_text("x")
        assert stat.S_IMODE((old / "new.log").stat().st_mode) == 0o600
        created = files.private_data_dir(tmp_path / "a" / "b")
        assert stat.S_IMODE(created.stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    finally:
        os.umask(before)


def test_secrets_are_private_from_creation_whatever_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token and the key file are created 0600 (not written, then chmod-ed: a window in
    which another user could open them), even by a process that kept a umask of 0."""
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SRO_CODEC_TOKEN", raising=False)

    def no_chmod(*args: object, **kwargs: object) -> None:
        raise AssertionError("a secret file was chmod-ed after it was created")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    before = os.umask(0)
    try:
        token = codec_server.codec_token(create_local=True)
        KeyRing.generate().to_file(tmp_path / "data" / "codec-keys.json")
    finally:
        os.umask(before)
    monkeypatch.undo()
    assert (tmp_path / "data" / "codec-token").read_text() == token
    assert loose(tmp_path / "data") == []


@pytest.mark.integration
async def test_make_run_keeps_the_token_off_command_lines_and_the_data_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    old_log = data / "worker.log"
    old_log.write_text("a log from before\n")
    old_log.chmod(0o644)
    port, ui_port, codec_port, console_port = free_ports(4)
    queue = f"devstack-trust-{secrets.token_hex(4)}"
    # No DATABASE_URL (the tests' scratch register): the worker's register goes in data/.
    skip = ("TEMPORAL_", "SRO_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(
        SRO_DATA_DIR=str(data),
        SRO_TEMPORAL_PORT=str(port),
        SRO_UI_PORT=str(ui_port),
        SRO_CODEC_PORT=str(codec_port),
        SRO_CONSOLE_PORT=str(console_port),
        SRO_TASK_QUEUE=queue,
    )
    out_path = tmp_path / "out"
    with out_path.open("w") as out:
        # A loose umask, as a shell often has: the stack must not rely on it.
        process = subprocess.Popen(
            [sys.executable, "-m", "starter.devstack"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.umask(0o022),
        )
        try:
            deadline = time.monotonic() + RUN_TIMEOUT
            while "Press Ctrl-C" not in out_path.read_text():
                assert process.poll() is None, out_path.read_text()
                assert time.monotonic() < deadline, out_path.read_text()
                await asyncio.sleep(0.2)

            # A case, so the worker writes the register (and its WAL) and more logs.
            address = f"127.0.0.1:{port}"
            ring = KeyRing.load_file(data / "codec-keys.json")  # the key the stack made
            # The stack's register holds the case keys: this client makes the case's there,
            # as `sro refer` would (a private file, as `sro` makes it: `private_files`).
            monkeypatch.setenv("DATABASE_URL", f"sqlite:///{data / 'register.db'}")
            previous_umask = os.umask(files.PRIVATE_UMASK)
            client = await Client.connect(address, data_converter=data_converter(ring))
            today = uk_today(datetime.now(UTC))
            case_ref = f"LSCP-{today.year:04d}-{secrets.token_hex(3).upper()}"
            handle = await client.start_workflow(
                ReferralWorkflow.run,
                ReferralInput(case_ref=case_ref, referral=referral(today)),
                id=workflow_id(case_ref),
                task_queue=queue,
            )
            os.umask(previous_umask)
            assert (await opened_status(handle, CaseStatus)).stage.value == "triage"
            deadline = time.monotonic() + 30
            while not (data / "register.db").exists():
                assert time.monotonic() < deadline, sorted(p.name for p in data.iterdir())
                await asyncio.sleep(0.2)

            token = (data / "codec-token").read_text().strip()
            stack = descendants(process.pid)
            commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in stack}
            names = b" | ".join(
                c.split(b"\0")[0] + b" " + c.split(b"\0")[1] for c in commands.values()
            )
            # The dev server, the codec server, the worker, the console and make run itself.
            assert len(stack) >= 5, names
            assert any(b"temporal\0server\0start-dev" in c for c in commands.values()), names
            assert any(b"security.codec_server" in c for c in commands.values()), names
            assert any(c.split(b"\0")[1].endswith(b"worker.py") for c in commands.values())
            assert any(b"-m\0console" in c for c in commands.values()), names
            for pid, command in commands.items():
                shown = command.replace(b"\0", b" ").decode()
                assert token.encode() not in command, f"the codec token is on {shown}"
                assert umask_of(pid) == files.PRIVATE_UMASK, shown
            assert loose(data) == []
            for name in ("temporal.db", "register.db", "codec-keys.json", "codec-token"):
                assert (data / name).exists(), name
            assert any(data.glob("register.db-wal")), sorted(p.name for p in data.iterdir())
            # The Web UI, in a real browser of this user, shows the case decrypted.
            if Path(CHROMIUM).exists():
                statuses = await web_ui_shows(ui_port, handle.id, "Rita Referrer")
                assert statuses and set(statuses) == {200}, statuses
            if os.geteuid() == 0:  # as root, try it as another local user for real
                assert other_user_probe(codec_port, ui_port, data) == "403 denied"
            await handle.terminate("test finished")
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            code = process.wait(RUN_TIMEOUT)
    assert code == 0, out_path.read_text()
    assert loose(data) == []
