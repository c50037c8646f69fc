"""What `make run` prints once the local system is up: where everything is, who can sign in to
the console, and how to use `sro` from here or from any other folder."""

from __future__ import annotations

import shlex
import sys
import tomllib
from pathlib import Path
from typing import Protocol

from config.defaults import TASK_QUEUE


class Settings(Protocol):
    """What the banner reads of the dev stack's settings (starter.devstack.Settings)."""

    @property
    def data_dir(self) -> Path: ...
    @property
    def port(self) -> int: ...
    @property
    def task_queue(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def ui_url(self) -> str: ...
    @property
    def server_log(self) -> Path: ...
    @property
    def worker_log(self) -> Path: ...


class CodecServer(Protocol):
    """What the banner says of the codec server (starter.devstack.CodecServer)."""

    @property
    def url(self) -> str: ...
    @property
    def token_source(self) -> str: ...


ROOT = Path(__file__).resolve().parent.parent
DEMO_USERS = ROOT / "console" / "users.example.toml"


def _python_for_examples() -> str:
    """How the user should call this environment's Python from the current folder."""
    try:
        return str(Path(sys.executable).relative_to(Path.cwd()))
    except ValueError:
        return "python"


def demo_users(path: Path = DEMO_USERS) -> list[str]:
    """The demo users' names with their roles and agencies, from the shipped example file."""
    try:
        users = tomllib.loads(path.read_text(encoding="utf-8")).get("users", [])
    except (OSError, tomllib.TOMLDecodeError):
        return []
    return [
        f"{u['username']} ({str(u.get('role', '')).replace('_', ' ')}, {u.get('agency', '')})"
        for u in users
        if "username" in u
    ]


def elsewhere_prefix(settings: Settings, default_port: int) -> str:
    """The environment `sro` needs to reach this stack from any folder: its data folder (the
    encryption key, the register), the profiles, a port or task queue other than the default,
    and this environment's Python by its full path."""
    env = {
        "SRO_DATA_DIR": str(settings.data_dir.resolve()),
        "SRO_PROFILES": str(ROOT / "profiles"),
    }
    if settings.port != default_port:
        env["TEMPORAL_ADDRESS"] = settings.address
    if settings.task_queue != TASK_QUEUE:
        env["SRO_TASK_QUEUE"] = settings.task_queue
    pairs = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return f"{pairs} {shlex.quote(sys.executable)} -m starter"


def banner(
    settings: Settings,
    with_worker: bool,
    console_url: str | None,
    codec: CodecServer | None,
    *,
    default_port: int,
    namespace: str,
    demo: bool,
) -> str:
    python = _python_for_examples()
    prefix = "" if settings.port == default_port else f"TEMPORAL_ADDRESS={settings.address} "
    cli = f"{prefix}{python} -m starter"
    lines = [
        "",
        "Safeguarding Review Orchestrator: local system running",
        "",
        *([f"  Web console       {console_url}"] if console_url else []),
        f"  Web UI            {settings.ui_url}",
        *(
            [
                f"  Codec server      {codec.url} (the Web UI decrypts payloads through it)",
                f"  Codec token       in {codec.token_source}",
                "  Codec access      this user's own browser, or the token (not other users)",
            ]
            if codec
            else []
        ),
        f"  Temporal address  {settings.address} (namespace {namespace})",
        f"  Task queue        {settings.task_queue}"
        + ("" if with_worker else " (no worker started: --no-worker)"),
        f"  Data              {settings.data_dir}",
        f"  Server log        {settings.server_log}",
    ]
    if with_worker:
        lines.append(f"  Worker log        {settings.worker_log}")
    else:
        lines.append(f"  Start a worker    TEMPORAL_ADDRESS={settings.address} {python} worker.py")
    if demo:
        lines.append(
            "  Console users     demo users (console/users.example.toml), password demo-password:"
        )
        lines += [f"                      {user}" for user in demo_users()]
    examples = [
        ("kinds", "the decisions you can make"),
        ("refer --help", "open a case from a referral"),
        ("list", "cases in progress"),
        ("status <case-ref>", "where a case is and what is due"),
    ]
    width = max(len(command) for command, _ in examples)
    lines += ["", "Try, from another terminal in this folder:"]
    lines += [f"  {cli} {command:<{width}}  # {what}" for command, what in examples]
    lines += [
        "",
        "From any other folder, the same commands with:",
        f"  {elsewhere_prefix(settings, default_port)} list",
    ]
    lines += [
        "",
        "Press Ctrl-C to stop " + ("the worker and " if with_worker else "") + "the server.",
    ]
    return "\n".join(lines)
