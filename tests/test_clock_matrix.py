"""The date- and time-dependent tests pass whatever the day and the hour: each runs, in a fresh
pytest process, under frozen clocks (tests/clock.py's moments: a Monday morning, a Friday
evening, either side of midnight UK time, either side of the start of British Summer Time; with
SRO_CLOCK_MATRIX=full, `make clock-matrix`, also every weekday, a bank-holiday week, the end of
summer time and New Year).

The command-line files run in-process with the wall clock frozen: one process runs each of their
tests at every moment. The workflow files read today from a time-skipping server, which can only
skip forward: one process per moment, its server's clock skipped to it (the earliest moment of
the file's first test; later tests of the file move on from there as they skip time). `make test`
runs the in-process files at the short list and one workflow file at its riskiest moment (a
Wednesday triage meeting's reminder window); `make clock-matrix` runs every file at every moment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import clock

ROOT = Path(__file__).resolve().parent.parent
FULL = os.environ.get("SRO_CLOCK_MATRIX", "").strip().lower() == "full"

#: Files whose tests read today's date from the wall clock (the command line's `now`).
IN_PROCESS = ["tests/starter/test_cli.py", "tests/starter/test_cli_escalation.py"]
#: Files whose tests read it from a time-skipping server (the workflows' `workflow.now()`).
ON_TEST_SERVER = [
    "tests/workflows/test_referral.py",
    "tests/workflows/test_escalation.py",
    "tests/workflows/test_delivery.py",
    "tests/workflows/test_partnerships.py",
    "tests/workflows/test_referral_register.py",
    "tests/workflows/test_referral_carry_over.py",
    "tests/activities/test_notifications.py",
]
#: What `make test` runs on a test server: the file with the most date arithmetic per case.
QUICK_ON_TEST_SERVER = {"monday-09:00": ["tests/workflows/test_referral.py"]}
#: The probes that show the pin took (tests/test_clock.py), run alongside every time.
PROBES = "tests/test_clock.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get(clock.ENV)), reason="this runs the matrix; it is not run inside it"
    ),
]

MOMENTS = clock.moments(datetime.now(UTC), full=FULL)


def run_pinned(moments: list[datetime], files: list[str], tmp_path: Path) -> list[str]:
    """Run `files` in a fresh pytest process with SRO_TEST_NOW pinned to `moments`; fail with
    its output unless every test passed; return the names of the tests that passed."""
    report = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SRO_CLOCK"))}
    env[clock.ENV] = ",".join(moment.isoformat() for moment in moments)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q"),
            *(f"--junitxml={report}", "--timeout=600", PROBES, *files),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (
        f"{clock.ENV}={env[clock.ENV]} pytest {' '.join(files)}:\n"
        f"{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    )
    passed = []
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        assert not list(case), f"{case.get('name')} did not pass: {ElementTree.tostring(case)!r}"
        passed.append(case.get("name", ""))
    return passed


def test_the_command_line_files_pass_at_every_moment(tmp_path: Path) -> None:
    moments = list(MOMENTS.values())
    passed = run_pinned(moments, IN_PROCESS, tmp_path)
    # Each test ran once at each moment (its id names the moment).
    counts = {sum(moment.isoformat() in name for name in passed) for moment in moments}
    assert len(counts) == 1 and counts.pop() > 100, passed


@pytest.mark.parametrize(
    "name",
    [name for name in MOMENTS if FULL or name in QUICK_ON_TEST_SERVER],
)
def test_the_workflow_files_pass_at(name: str, tmp_path: Path) -> None:
    files = ON_TEST_SERVER if FULL else QUICK_ON_TEST_SERVER[name]
    passed = run_pinned([MOMENTS[name]], files, tmp_path)
    assert len(passed) > 10, passed
