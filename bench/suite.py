"""5. The test suite's own time: `pytest -q` (what `make test` runs after the linters)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.machine import load_average
from bench.report import Results, heading, say

TARGET_SECONDS = 180.0
ROOT = Path(__file__).resolve().parent.parent


def run(results: Results) -> None:
    command = [str(Path(sys.executable).parent / "pytest"), "-q", "-p", "no:cacheprovider"]
    heading(f"5. Test suite: {' '.join(command[-3:])} (load average before: {load_average()})")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    say(f"{last}\nwall time {wall:.1f} s, exit code {done.returncode}")
    results.sections["tests"] = {"wall_s": wall, "summary": last, "exit": done.returncode}
    results.target(
        "5. test suite on this machine",
        f"<= {TARGET_SECONDS:.0f} s",
        f"{wall:.0f} s ({last})",
        wall <= TARGET_SECONDS and done.returncode == 0,
    )
