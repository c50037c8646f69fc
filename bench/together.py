"""The lifecycle against the baseline, both at once: a steadier reading of issue 16's ratio.

    python -m bench.together                        # the register on SQLite
    python -m bench.together --register postgresql

`python -m bench --only lifecycle` times the two kinds in alternating laps, so a lap on a slower
moment of this shared machine moves the ratio: its runs spread by about 0.1 either side of their
mean (BENCHMARKS.md, issue 16 rounds 8 to 11). Here two benchmark processes run at the same time,
one timing only lifecycle laps (`--kind lifecycle`), the other only baseline laps, each with its
own dev server, worker and driver, so whatever slows the machine slows both kinds alike. Each
kind's cost is the CPU its own three processes spent a case over the laps that ran while the
other kind was running too (the window both were busy in); its ratio is the lifecycle's over the
baseline's. With the machine saturated (BENCHMARKS.md, round 9) the issue's wall-time ratio is
this ratio of CPU.

The register is the lifecycle process's alone: the baseline process uses SQLite, which its laps
never touch (only its probe cases, before the laps), so PostgreSQL's CPU, counted by process
name, is the lifecycle's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import table

COSTS = ("worker_cpu", "server_cpu", "driver_cpu", "register_cpu")


@dataclass(frozen=True)
class Window:
    """The laps of both kinds that ran while the other kind was running too."""

    lifecycle: list[dict[str, Any]]
    baseline: list[dict[str, Any]]
    seconds: float


def laps_of(output: str) -> list[dict[str, Any]]:
    return [json.loads(line[4:]) for line in output.splitlines() if line.startswith("LAP ")]


def window(lifecycle: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> Window:
    if not lifecycle or not baseline:
        return Window([], [], 0.0)
    start = max(lifecycle[0]["started"], baseline[0]["started"])
    end = min(lifecycle[-1]["ended"], baseline[-1]["ended"])

    def inside(laps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [lap for lap in laps if lap["started"] >= start and lap["ended"] <= end]

    return Window(inside(lifecycle), inside(baseline), end - start)


def per_case_ms(laps: list[dict[str, Any]], costs: tuple[str, ...] = COSTS) -> float:
    """CPU a case, in ms, of these costs over these laps."""
    cases = sum(lap["cases"] for lap in laps)
    return 1000 * sum(lap[cost] for lap in laps for cost in costs) / cases if cases else 0.0


def ratio(lifecycle: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> float:
    """The lifecycle's CPU a case over the baseline's (the baseline's register is not its own:
    see the module's doc)."""
    return per_case_ms(lifecycle) / per_case_ms(baseline, COSTS[:3])


def halves(found: Window) -> list[float]:
    """The ratio over each half of the window (how steady it was within the run)."""
    starts = [lap["started"] for lap in found.lifecycle + found.baseline]
    middle = (min(starts) + max(lap["ended"] for lap in found.lifecycle + found.baseline)) / 2
    ratios = []
    for first in (True, False):
        pick = [
            [lap for lap in laps if (lap["ended"] <= middle) == first]
            for laps in (found.lifecycle, found.baseline)
        ]
        if all(pick):
            ratios.append(ratio(*pick))
    return ratios


def report(found: Window) -> str:
    rows = []
    for name, costs in (
        ("worker", ("worker_cpu",)),
        ("server", ("server_cpu",)),
        ("driver", ("driver_cpu",)),
        ("register (PostgreSQL)", ("register_cpu",)),
    ):
        ours = per_case_ms(found.lifecycle, costs)
        theirs = 0.0 if name.startswith("register") else per_case_ms(found.baseline, costs)
        rows.append([name, ours, theirs, ours / theirs if theirs else float("nan")])
    ours, theirs = per_case_ms(found.lifecycle), per_case_ms(found.baseline, COSTS[:3])
    rows.append(["all", ours, theirs, ours / theirs])
    lines = [
        table(rows, ["CPU ms/case", "lifecycle", "baseline", "ratio"]),
        f"laps in the window ({found.seconds:.0f} s both running): "
        f"lifecycle {len(found.lifecycle)}, baseline {len(found.baseline)}; "
        f"the ratio by half of it: {' '.join(f'{r:.3f}' for r in halves(found))}",
    ]
    return "\n".join(lines)


def command(kind: str, register: str, cases: int, rounds: int, concurrency: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench",
        "--only",
        "lifecycle",
        "--kind",
        kind,
        "--register",
        register,
        "--cases",
        str(cases),
        "--rounds",
        str(rounds),
        "--concurrency",
        str(concurrency),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.together", description=__doc__)
    parser.add_argument("--register", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--cases", type=int, default=16, help="cases a lap")
    parser.add_argument("--concurrency", type=int, default=8, help="cases at once, each kind")
    parser.add_argument("--rounds", type=int, default=20, help="lifecycle laps")
    parser.add_argument(
        "--baseline-rounds",
        type=int,
        default=28,
        help="baseline laps (more: a baseline lap is quicker, and the window is the time both ran)",
    )
    args = parser.parse_args(argv)
    runs = {
        "lifecycle": command("lifecycle", args.register, args.cases, args.rounds, args.concurrency),
        "baseline": command(
            "baseline", "sqlite", args.cases, args.baseline_rounds, args.concurrency
        ),
    }
    with tempfile.TemporaryDirectory(prefix="sro-together-") as folder:
        logs = {kind: Path(folder) / f"{kind}.txt" for kind in runs}
        started = {
            kind: subprocess.Popen(line, stdout=logs[kind].open("w"), stderr=subprocess.STDOUT)
            for kind, line in runs.items()
        }
        failed = [kind for kind, process in started.items() if process.wait() != 0]
        outputs = {kind: logs[kind].read_text() for kind in runs}
    if failed:
        for kind in failed:
            print(f"the {kind} process failed:\n{outputs[kind][-3000:]}", file=sys.stderr)
        return 1
    found = window(laps_of(outputs["lifecycle"]), laps_of(outputs["baseline"]))
    if not found.lifecycle or not found.baseline:
        print("the two processes' laps did not overlap: give the baseline more rounds")
        return 1
    print(f"The lifecycle against the baseline at once (register: {args.register})")
    print(report(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
