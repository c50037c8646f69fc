"""A PostgreSQL server for the benchmark's register (`--register postgresql`).

initdb in a scratch folder (removed at the end), a free port on 127.0.0.1, its socket in that
folder, as tests/conftest.py starts one, but with a deployment's durability (fsync and
synchronous_commit on: RELIABILITY.md, O4), so its commits cost what they would in production.
As root the server runs as the `postgres` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.stack import BenchError, free_port


def postgres_binaries() -> Path | None:
    """The PostgreSQL server binaries: the newest /usr/lib/postgresql/*/bin, or on PATH (the
    tests' PostgreSQL comes from here too: tests/conftest.py)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if all((folder / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _binaries() -> Path:
    found = postgres_binaries()
    if found is not None:
        return found
    raise BenchError("--register postgresql: PostgreSQL's initdb, pg_ctl and postgres not found")


class Postgres:
    def __init__(self) -> None:
        self.bin = _binaries()
        # A folder of its own: the run's folder is private to this user (mkdtemp), and the
        # server may run as another.
        self.root = Path(tempfile.mkdtemp(prefix="sro-bench-pg-", dir="/tmp"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=120, cwd=self.root
        )
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise BenchError(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}\n{log[-2000:]}")

    def start(self) -> str:
        """Start the server and make the register's database; returns its URL."""
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "start",
        )  # fmt: skip
        import psycopg

        server = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute('CREATE DATABASE "register"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/register"

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
            capture_output=True,
            timeout=120,
            cwd=self.root,
        )
        shutil.rmtree(self.root, ignore_errors=True)
