"""python -m bench: the benchmarks, in one run on a dev server of their own.

    python -m bench --quick                 # every phase at small sizes (under a minute)
    python -m bench                         # the full run recorded in BENCHMARKS.md
    python -m bench --only lifecycle,scale --cases 100 --open-cases 2000
    python -m bench --only tests            # the test suite's own time

Phases: lifecycle (1), curve (1b: cases/s at concurrency 1, 4, 16, 64, and memory per open
case), history (2), plan (2, long action plans), limits (2, how far a case can
carry itself), scale (3), scaleout (4), tests (5), cli (6: `sro status` and `sro --help` beside
the bare client). Every size is a flag; --quick only changes the
defaults and leaves out limits and tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench import cli, curve, history, lifecycle, scale, stack, suite
from bench.machine import describe, load_average
from bench.postgres import Postgres
from bench.report import Results, heading, say, table
from bench.routes import CaseRefs
from bench.stack import DevServer, WorkerProcess, use_run_key
from safeguarding.clock import uk_today
from workflows.referral import ReferralOptions

PHASES = ["lifecycle", "curve", "history", "plan", "limits", "scale", "scaleout", "tests", "cli"]
#: Left out of --quick unless named with --only.
SLOW_PHASES = {"limits", "tests"}


@dataclass(frozen=True)
class Sizes:
    cases: int
    rounds: int
    concurrency: int
    curve_open: int
    open_cases: int
    start_concurrency: int
    query_samples: int
    plan_years: int
    plan_actions_per_quarter: int
    plan_updates: int
    plan_continue_after: int
    limit_updates: int
    limit_evidence_chars: int
    scaleout_open_cases: int
    scaleout_cases: int


FULL = Sizes(
    cases=100,
    rounds=2,
    concurrency=16,
    curve_open=200,
    open_cases=10_000,
    start_concurrency=64,
    query_samples=500,
    plan_years=5,
    plan_actions_per_quarter=2,
    plan_updates=1_500,
    plan_continue_after=2_000,
    limit_updates=2_000,
    limit_evidence_chars=4_000,
    scaleout_open_cases=10_000,
    scaleout_cases=100,
)
QUICK = Sizes(
    cases=10,
    rounds=1,
    concurrency=8,
    curve_open=50,
    open_cases=150,
    start_concurrency=32,
    query_samples=100,
    plan_years=1,
    plan_actions_per_quarter=2,
    plan_updates=120,
    plan_continue_after=500,
    limit_updates=700,
    limit_evidence_chars=4_000,
    scaleout_open_cases=150,
    scaleout_cases=10,
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes; leaves out the limits and tests phases"
    )
    parser.add_argument(
        "--only", default=None, help=f"comma-separated phases to run: {', '.join(PHASES)}"
    )
    size = parser.add_argument_group("sizes (defaults: full run; --quick: smaller)")
    size.add_argument("--cases", type=int, help="lifecycle: cases per round and kind")
    size.add_argument("--rounds", type=int, help="lifecycle: alternating rounds per kind")
    size.add_argument("--concurrency", type=int, help="lifecycle: cases driven at once")
    size.add_argument("--curve-open", type=int, help="curve: open cases for memory per case")
    size.add_argument("--open-cases", type=int, help="scale: open cases on one worker")
    size.add_argument("--start-concurrency", type=int, help="scale: starts in flight at once")
    size.add_argument("--query-samples", type=int, help="scale: status queries timed")
    size.add_argument("--plan-years", type=int, help="plan: years of action-plan monitoring")
    size.add_argument(
        "--plan-actions-per-quarter", type=int, help="plan: actions added each quarter"
    )
    size.add_argument("--plan-updates", type=int, help="plan: action updates on the dev server")
    size.add_argument(
        "--plan-continue-after",
        type=int,
        help="plan: the cases' continue_as_new_after_events (the workflow's default: 2000)",
    )
    size.add_argument("--limit-updates", type=int, help="limits: most action updates sent")
    size.add_argument(
        "--limit-evidence-chars", type=int, help="limits: characters of evidence per update"
    )
    size.add_argument("--scaleout-open-cases", type=int, help="scaleout: open cases")
    size.add_argument("--scaleout-cases", type=int, help="scaleout: cases driven to closed")
    parser.add_argument("--partnership", default="ENGLAND", help="profile the cases use")
    parser.add_argument(
        "--register",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="the register's database (postgresql: a server of the run's own, fsync on)",
    )
    parser.add_argument("--workdir", help="logs and outbox (default: a new temporary folder)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="sample the worker with py-spy (lifecycle laps, opening the open cases) into DIR",
    )
    diagnosis = parser.add_argument_group("diagnosis (not for recorded runs)")
    diagnosis.add_argument(
        "--stub-register",
        action="store_true",
        help="the worker's record_case writes nothing (isolates the register's cost)",
    )
    diagnosis.add_argument(
        "--worker-max-cached",
        type=int,
        help="scale phases: the workers' max_cached_workflows (default: the worker's, 500)",
    )
    diagnosis.add_argument(
        "--kind",
        choices=["both", "lifecycle", "baseline"],
        default="both",
        help="lifecycle phase: time only this kind's laps, each as a LAP line of JSON (for "
        "python -m bench.together, which runs one process of each kind at once)",
    )
    diagnosis.add_argument(
        "--no-search-attributes",
        action="store_true",
        help="lifecycle cases upsert no search attributes (isolates visibility's cost)",
    )
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    overrides = {
        name: getattr(args, name)
        for name in Sizes.__dataclass_fields__
        if getattr(args, name, None) is not None
    }
    args.sizes = Sizes(**{**base.__dict__, **overrides})
    if args.only:
        args.phases = [p.strip() for p in args.only.split(",") if p.strip()]
        unknown = sorted(set(args.phases) - set(PHASES))
        if unknown:
            parser.error(f"unknown phase(s): {', '.join(unknown)}; choose from {PHASES}")
    else:
        args.phases = [p for p in PHASES if not (args.quick and p in SLOW_PHASES)]
    return args


async def guarded(name: str, results: Results, phase: Awaitable[None]) -> None:
    """Run one phase; if it fails, say so (and record it) and go on with the next."""
    try:
        await phase
    except Exception as err:
        trace = traceback.format_exc(limit=6)
        say(f"\nPHASE {name} FAILED: {type(err).__name__}: {str(err)[:300]}\n{trace}")
        results.sections.setdefault("failed_phases", {})[name] = f"{type(err).__name__}: {err}"
        results.target(f"phase {name} ran", "no error", f"{type(err).__name__}", False)


async def run_on_server(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    sizes: Sizes = args.sizes
    phases = set(args.phases)
    server = DevServer(workdir)
    postgres = Postgres() if args.register == "postgresql" else None
    if postgres is not None:
        stack.register_url = postgres.start()
        say(f"The register on PostgreSQL (port {postgres.port}, fsync and synchronous_commit on)")
    # This process starts the cases, and so makes their keys (security/case_keys.py): in the
    # run's own register, the one its workers read them from.
    os.environ["DATABASE_URL"] = stack.register_url or stack.run_register(workdir)
    say(f"Starting the Temporal dev server on {server.address} (in memory, headless)...")
    client = await server.start()
    today = uk_today(datetime.now().astimezone())
    refs = CaseRefs(args.partnership, today.year)
    workers: list[WorkerProcess] = []
    profile_dir = Path(args.profile).resolve() if args.profile else None
    try:
        if {"lifecycle", "history", "limits"} & phases:
            worker = WorkerProcess(
                workdir,
                server.address,
                "bench-lifecycle",
                "bench-w0",
                baseline=True,
                stub_register=args.stub_register,
            )
            workers.append(worker)
            await worker.wait_polling(client)
            life = lifecycle.Lifecycle(
                client,
                server,
                worker,
                refs,
                args.partnership,
                today,
                profile_dir,
                ReferralOptions(search_attributes=False) if args.no_search_attributes else None,
            )
            if "lifecycle" in phases:
                await guarded(
                    "lifecycle",
                    results,
                    lifecycle.run(
                        life,
                        results,
                        cases=sizes.cases,
                        rounds=sizes.rounds,
                        concurrency=sizes.concurrency,
                        kinds=lifecycle.KINDS if args.kind == "both" else (args.kind,),
                    ),
                )
            if "history" in phases:
                await guarded(
                    "history (routes)",
                    results,
                    history.run_routes(
                        client, worker.queue, refs, args.partnership, today, results
                    ),
                )
                await guarded(
                    "history (many updates)",
                    results,
                    history.run_many_updates(
                        client,
                        worker.queue,
                        refs,
                        args.partnership,
                        today,
                        results,
                        sizes.plan_updates,
                        sizes.plan_continue_after,
                    ),
                )
            if "limits" in phases:
                await guarded(
                    "limits",
                    results,
                    history.run_carried_limit(
                        client,
                        worker.queue,
                        refs,
                        args.partnership,
                        today,
                        results,
                        updates=sizes.limit_updates,
                        evidence_chars=sizes.limit_evidence_chars,
                        continue_after=sizes.plan_continue_after,
                    ),
                )
            worker.stop()
            workers.remove(worker)
        if "curve" in phases:
            await guarded(
                "curve",
                results,
                curve.run(
                    client,
                    server,
                    workdir,
                    refs,
                    args.partnership,
                    today,
                    results,
                    open_cases=sizes.curve_open,
                ),
            )
        if "scale" in phases:
            await guarded(
                "scale",
                results,
                scale.run_scale(
                    client,
                    server,
                    workdir,
                    refs,
                    args.partnership,
                    today,
                    results,
                    open_cases=sizes.open_cases,
                    start_concurrency=sizes.start_concurrency,
                    query_samples=sizes.query_samples,
                    profile_dir=profile_dir,
                    max_cached=args.worker_max_cached,
                ),
            )
        if "scaleout" in phases:
            await guarded(
                "scaleout",
                results,
                scale.run_scaleout(
                    client,
                    server,
                    workdir,
                    refs,
                    args.partnership,
                    today,
                    results,
                    open_cases=sizes.scaleout_open_cases,
                    cases=sizes.scaleout_cases,
                    start_concurrency=sizes.start_concurrency,
                    concurrency=sizes.concurrency,
                    max_cached=args.worker_max_cached,
                ),
            )
        if "cli" in phases:
            await guarded(
                "cli",
                results,
                cli.run(client, server, workdir, refs, args.partnership, today, results),
            )
        memory = server.memory()
        results.sections["server_memory_mb"] = {"rss": memory.rss_mb, "hwm": memory.hwm_mb}
        say(f"\nDev server memory: {memory.rss_mb:.0f} MiB now, {memory.hwm_mb:.0f} MiB peak")
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
        if postgres is not None:
            postgres.stop()


async def main(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="sro-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    use_run_key(workdir)
    server_binary = DevServer(workdir).binary
    machine = describe(server_binary)
    results = Results()
    results.sections["machine"] = machine
    results.sections["sizes"] = args.sizes.__dict__
    results.sections["command"] = " ".join(["python -m bench", *sys.argv[1:]])
    heading("Machine")
    say(table([[k, v] for k, v in machine.items()], ["", ""]))
    say(f"sizes: {args.sizes}")
    say(f"phases: {', '.join(args.phases)}; logs in {workdir}")
    started = time.perf_counter()
    if set(args.phases) - {"tests", "plan"}:
        await run_on_server(args, workdir, results)
    if "plan" in args.phases:
        await guarded(
            "plan",
            results,
            history.run_long_plan(
                workdir,
                args.partnership,
                results,
                years=args.sizes.plan_years,
                actions_per_quarter=args.sizes.plan_actions_per_quarter,
                continue_after=args.sizes.plan_continue_after,
            ),
        )
    if "tests" in args.phases:
        suite.run(results)
    elapsed = time.perf_counter() - started
    heading("Targets")
    say(results.summary())
    say(f"\nbenchmark wall time {elapsed:.0f} s; load average at the end {load_average()}")
    results.sections["elapsed_s"] = elapsed
    results.sections["load_average_end"] = load_average()
    if args.json:
        body = {**results.sections, "targets": [t.__dict__ for t in results.targets]}
        Path(args.json).write_text(json.dumps(body, indent=2, default=str))
        say(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(None))))
