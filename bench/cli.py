"""6. The command line's latency, side by side with the bare client (not a timed test).

`sro status CASE` beside a bare temporalio client describing the same workflow, and `sro --help`
beside `python -c "import temporalio.client, pydantic"`: each a fresh process, wall time,
interleaved rounds (A, B, A, B...) so both see the same machine, the median of each.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from temporalio.client import Client

from bench.report import Results, heading, say, table
from bench.routes import CaseRefs, referral, start_case
from bench.stack import BenchError, DevServer, WorkerProcess, clean_env
from workflows.referral import ReferralWorkflow

ROUNDS = 9
TARGET_RATIO = 1.5
#: A bare client as anyone would write it: connect, describe, print the status; then leave
#: without interpreter teardown, as `sro` does (the SDK's threads can crash it: cli._hard_exit).
BARE_DESCRIBE = """
import asyncio, os, sys
from temporalio.client import Client

async def main():
    client = await Client.connect(sys.argv[1])
    described = await client.get_workflow_handle(sys.argv[2]).describe()
    print(described.status, flush=True)

asyncio.run(main())
os._exit(0)
"""


def _sro() -> list[str]:
    script = Path(sys.executable).parent / "sro"
    return [str(script)] if script.exists() else [sys.executable, "-m", "starter"]


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"{command[:3]} exited {done.returncode}: {done.stderr[-500:]}")
    return wall


def side_by_side(
    ours: list[str], bare: list[str], env: dict[str, str], rounds: int
) -> tuple[float, float]:
    """Medians of `rounds` interleaved runs each, after one warm-up run each (.pyc files)."""
    _wall(ours, env), _wall(bare, env)
    timed: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        timed[0].append(_wall(ours, env))
        timed[1].append(_wall(bare, env))
    return statistics.median(timed[0]), statistics.median(timed[1])


async def _opened(client: Client, workflow_id: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            await client.get_workflow_handle(workflow_id).query(ReferralWorkflow.status)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def run(
    client: Client,
    server: DevServer,
    workdir: Path,
    refs: CaseRefs,
    partnership: str,
    today: date,
    results: Results,
    rounds: int = ROUNDS,
) -> None:
    heading(f"6. Command line: fresh processes, median of {rounds} interleaved rounds")
    worker = WorkerProcess(workdir, server.address, "bench-cli", "bench-cli-w0")
    try:
        await worker.wait_polling(client)
        case_ref = refs.new()
        handle = await start_case(client, worker.queue, case_ref, referral(partnership, today))
        await _opened(client, handle.id)
        env = {
            **clean_env(),
            "TEMPORAL_ADDRESS": server.address,
            "TEMPORAL_NAMESPACE": "default",
            "SRO_TASK_QUEUE": worker.queue,
            "SRO_DATA_DIR": str(workdir / "data"),
            "SRO_CODEC_KEYS_FILE": os.environ.get("SRO_CODEC_KEYS_FILE", ""),
        }
        pairs = [
            (
                "sro status",
                [*_sro(), "status", case_ref],
                "bare client: describe",
                [sys.executable, "-c", BARE_DESCRIBE, server.address, handle.id],
            ),
            (
                "sro --help",
                [*_sro(), "--help"],
                "import temporalio.client, pydantic",
                [sys.executable, "-c", "import temporalio.client, pydantic"],
            ),
        ]
        rows: list[list[str]] = []
        section: dict[str, dict[str, float]] = {}
        for name, ours, bare_name, bare in pairs:
            mine, theirs = await asyncio.to_thread(side_by_side, ours, bare, env, rounds)
            ratio = mine / theirs
            rows.append([name, f"{mine:.3f}", bare_name, f"{theirs:.3f}", f"{ratio:.2f}x"])
            section[name] = {"sro_s": mine, "bare_s": theirs, "ratio": ratio}
            results.target(
                f"6. {name} vs {bare_name}",
                f"<= {TARGET_RATIO}x",
                f"{ratio:.2f}x ({mine:.2f} s vs {theirs:.2f} s)",
                ratio <= TARGET_RATIO,
            )
        say(table(rows, ["command", "median s", "beside", "median s", "ratio"]))
        results.sections["cli"] = {"rounds": rounds, **section}
    finally:
        worker.stop()
