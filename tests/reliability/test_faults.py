"""Faults against the real thing: a dev server with SQLite persistence, the worker as a separate
process (`python worker.py`), the register on PostgreSQL and an SMTP server, each broken in the
middle of rapid reviews and mended again. Every case must still close with exactly its decisions
(none lost, none applied twice), the register must hold each decision once and each email must
arrive once (see scenario.py for the cases and what is counted).

RELIABILITY_CASES (default 5) sets the cases per fault, RELIABILITY_OUTAGE (default 3) the
seconds each fault lasts, RELIABILITY_FIGURES a file to append the figures to (JSON lines),
and RELIABILITY_FULL=1 runs the three slower faults (the baseline, the worker killed while emails
go out, the register hung) at those counts too; without it they run a short version (at most
SHORT_CASES cases, SHORT_OUTAGE-second outages), so `make test` still exercises them. `make
reliability` runs everything at RELIABILITY.md's counts:

    RELIABILITY_CASES=50 RELIABILITY_OUTAGE=10 RELIABILITY_FULL=1 \
        .venv/bin/pytest tests/reliability -m integration
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client

from register import db
from tests.conftest import missing
from tests.reliability.scenario import (
    EMAILING,
    Drive,
    Fault,
    Figures,
    cases_wanted,
    outage_seconds,
)
from tests.reliability.stack import (
    DevServer,
    MailServer,
    Postgres,
    WorkerProcess,
    worker_env,
)

pytestmark = pytest.mark.integration
#: The slower faults' short version (`make test`): this many cases at most, outages this long.
SHORT_CASES = 2
SHORT_OUTAGE = 1.0


def slow_fault_counts() -> tuple[int, float]:
    """Cases and outage seconds for a slower fault: RELIABILITY_CASES and RELIABILITY_OUTAGE
    with RELIABILITY_FULL=1 (`make reliability`), else the short version."""
    if os.environ.get("RELIABILITY_FULL"):
        return cases_wanted(), outage_seconds()
    return min(SHORT_CASES, cases_wanted()), min(SHORT_OUTAGE, outage_seconds())


@dataclass
class Stack:
    folder: Path
    server: DevServer
    worker: WorkerProcess
    mail: MailServer
    postgres: Postgres | None
    database_url: str
    client: Client
    queue: str

    def drive(self) -> Drive:
        return Drive(
            self.client,
            self.queue,
            self.folder / "decisions",
            self.database_url,
            self.mail.mailbox,
        )

    def diagnostics(self) -> str:
        return (
            f"worker log (tail):\n{self.worker.tail()}\n\n"
            f"dev server log (tail):\n{self.server.tail()}"
        )


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    folder = tmp_path_factory.mktemp("reliability")
    (folder / "decisions").mkdir()
    mail = MailServer()
    mail.start()
    postgres: Postgres | None = None
    try:
        postgres = Postgres(Path(f"/tmp/sro-rel-pg-{uuid.uuid4().hex[:8]}"))
        database_url = postgres.url
    except (FileNotFoundError, KeyError):  # no PostgreSQL here: the register on SQLite
        postgres = None
        database_url = f"sqlite:///{folder / 'register.db'}"
    server = DevServer(folder / "temporal")
    worker: WorkerProcess | None = None
    try:
        if postgres is not None:  # both at once: each takes seconds
            await asyncio.gather(asyncio.to_thread(postgres.up), server.start())
        else:
            await server.start()
        client = await server.connect()
        queue = f"reliability-{uuid.uuid4().hex[:8]}"
        env = worker_env(
            address=server.address,
            queue=queue,
            data_dir=folder / "data",
            database_url=database_url,
            smtp_port=mail.port,
        )
        worker = WorkerProcess(env, folder / "worker.log")
        await worker.start(client)
        with pytest.MonkeyPatch.context() as patch:
            # The command line (run in this process) finds the dev server from the environment.
            patch.setenv("TEMPORAL_ADDRESS", server.address)
            patch.setenv("TEMPORAL_NAMESPACE", "default")
            # ... and the worker's register, where the case keys are.
            patch.setenv("DATABASE_URL", database_url)
            patch.delenv("TEMPORAL_API_KEY", raising=False)
            patch.delenv("TEMPORAL_PROFILE", raising=False)
            yield Stack(folder, server, worker, mail, postgres, database_url, client, queue)
    finally:  # scratch processes: no need to wait for a graceful stop
        if worker is not None:
            worker.kill9()
        server.kill()
        mail.stop()
        if postgres is not None:
            postgres.remove()
        with contextlib.suppress(Exception):
            db.forget(database_url)


async def run(stack: Stack, fault: Fault, counts: tuple[int, float] | None = None) -> Figures:
    cases, outage = counts or (cases_wanted(), outage_seconds())
    try:
        figures = await stack.drive().run_fault(fault, cases, outage)
    except BaseException:
        print(stack.diagnostics())
        raise
    figures.record()
    if figures.problems:
        print(stack.diagnostics())
    assert figures.problems == [], figures
    assert figures.decisions_applied_once == figures.decisions_sent
    assert figures.register_decisions == figures.decisions_sent
    assert figures.emails_delivered == figures.emails_expected
    return figures


async def test_no_fault_baseline(stack: Stack) -> None:
    """The same cases and load with nothing broken: what the fault figures compare against."""

    async def nothing() -> None:
        return None

    await run(
        stack,
        Fault(
            name="no fault (baseline)",
            how="nothing injected; the same cases, decisions and command-line calls",
            inject=nothing,
            remove=nothing,
            gate_at=3,
        ),
        slow_fault_counts(),
    )


async def test_worker_killed_mid_rapid_review(stack: Stack) -> None:
    """kill -9 the worker while the information returns are in flight; start a new one."""

    async def kill() -> None:
        stack.worker.kill9()

    async def restart() -> None:
        await stack.worker.start(stack.client)

    figures = await run(
        stack,
        Fault(
            name="worker killed (kill -9) mid rapid review",
            how="SIGKILL to `python worker.py` 0.2 s after every case sent its first "
            "information return; a new worker process started after the outage",
            inject=kill,
            remove=restart,
            gate_at=3,
            inject_after=0.2,
            settle_mail=True,
        ),
    )
    assert figures.workflow_task_failures == 0


async def test_worker_killed_while_emails_go_out(stack: Stack) -> None:
    """kill -9 the worker while the information requests are on the wire to a slow mail server
    (1 s to answer each): the one window in which an email can go twice (accepted by the server,
    the worker dead before it wrote its sent-marker). Both copies carry the same Message-ID.
    Slow: an activity on a dead worker is retried only when its 60 s timeout runs out."""

    async def kill() -> None:
        stack.worker.kill9()

    async def restart() -> None:
        stack.mail.mailbox.delay = 0.0
        await stack.worker.start(stack.client)

    stack.mail.mailbox.delay = 1.0
    try:
        await run(
            stack,
            Fault(
                name="worker killed (kill -9) while emails go out",
                how="the mail server takes 1 s to answer each message; SIGKILL to the worker "
                "1.5 s after every case sent its information request; a new worker started "
                "after the outage",
                inject=kill,
                remove=restart,
                gate_at=EMAILING,
                inject_after=1.5,
                duplicate_email_window=True,
            ),
            slow_fault_counts(),
        )
    finally:
        stack.mail.mailbox.delay = 0.0


async def test_dev_server_restarted_mid_case(stack: Stack) -> None:
    """kill -9 the dev server (SQLite persistence) while decisions are in flight; start it
    again on the same database: the worker reconnects by itself and the cases carry on."""

    async def kill() -> None:
        stack.server.kill()

    async def restart() -> None:
        await stack.server.start()

    await run(
        stack,
        Fault(
            name="Temporal dev server restarted (kill -9) mid case",
            how="SIGKILL to `temporal server start-dev --db-filename ...` 0.2 s after every "
            "case sent its notification; started again on the same SQLite file",
            inject=kill,
            remove=restart,
            gate_at=1,
            inject_after=0.2,
        ),
    )
    assert stack.worker.alive(), "the worker should ride out a server restart"


async def test_register_database_unavailable(stack: Stack) -> None:
    """The register's PostgreSQL stops (immediate shutdown, as a crash) while decisions are
    made; the projection retries and the register catches up, each decision once."""
    if stack.postgres is None:
        missing("PostgreSQL is not installed: the register fault needs a server to stop")
    postgres = stack.postgres

    async def stop() -> None:
        postgres.stop("immediate")

    async def start() -> None:
        postgres.start()

    await run(
        stack,
        Fault(
            name="register database (PostgreSQL) down",
            how="`pg_ctl stop -m immediate` before the information request is sent; "
            "`pg_ctl start` after the outage",
            inject=stop,
            remove=start,
            gate_at=EMAILING,
        ),
    )


async def test_register_database_hung(stack: Stack) -> None:
    """The register's PostgreSQL hangs (every process SIGSTOPped: connections are accepted and
    never answered, as behind a network partition), then resumes."""
    if stack.postgres is None:
        missing("PostgreSQL is not installed: the register fault needs a server to stop")
    postgres = stack.postgres

    async def freeze() -> None:
        postgres.freeze()

    async def thaw() -> None:
        postgres.thaw()

    await run(
        stack,
        Fault(
            name="register database (PostgreSQL) hung",
            how="SIGSTOP to every PostgreSQL process before the information request is sent; "
            "SIGCONT after the outage",
            inject=freeze,
            remove=thaw,
            gate_at=EMAILING,
        ),
        slow_fault_counts(),
    )


async def test_mail_server_down(stack: Stack) -> None:
    """The SMTP server is down when the information requests go out; each arrives once it is
    back (counted by Message-ID), and decisions never wait for it."""

    async def stop() -> None:
        stack.mail.stop()

    async def start() -> None:
        stack.mail.start()

    await run(
        stack,
        Fault(
            name="mail server (SMTP) down",
            how="the aiosmtpd server stopped (connections refused) before the information "
            "requests are sent; started again on the same port after the outage",
            inject=stop,
            remove=start,
            gate_at=EMAILING,
        ),
    )
