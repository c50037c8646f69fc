"""The command line for coordinators and panel members: `sro <command>` or `python -m starter`.

    sro refer --file referral.json         start a case (or give the referral as flags)
    sro decide CASE_REF KIND [flags]       make a decision (`sro kinds KIND` lists its fields)
    sro status CASE_REF                    stage, deadlines, outstanding work and history
    sro list [--stage S] [--overdue]       cases, from Temporal visibility
    sro kinds [KIND]                       what each decision needs
    sro escalation raise|resolve|escalate|status|list
                                           professional disagreements, stage by stage
    sro register upgrade|rebuild|info|access-log|subject-access|find-person
                                           the case register, its access log, subject access
    sro report summary|annual|calendar|learning
                                           reports from the register
    sro keys rewrap                        wrap every case key with the ring's current key

Where things are: the flags in starter/parser.py (generated from the pydantic models by
starter/flags.py), the commands in starter/cases.py, starter/escalations.py, starter/kinds.py and
starter/register_cli.py; every call into Temporal goes through the `gateway` package.
A command's module is imported only when it runs (`COMMANDS`), so `sro --help` and `sro status`
never load the database stack or the charts.

Exit codes: 0 done, 1 Temporal unreachable (or no worker answering), 2 bad input, refused, or no
such case. Personal data (children, the referral's summary) never goes into ids, summaries or
output other than what the user asked to see.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from temporalio.service import RPCError, RPCStatusCode

from config import SettingsError
from gateway.errors import GatewayError
from security.files import private_files
from starter.common import CliError, cli_error, client_used, unreachable
from starter.parser import build_parser

#: Each command's module, imported when the command runs. Each has `async dispatch(args)`.
COMMANDS = {
    "refer": "starter.cases",
    "decide": "starter.cases",
    "status": "starter.case_status",
    "list": "starter.cases",
    "kinds": "starter.kinds",
    "escalation": "starter.escalations",
    "register": "starter.register_cli",
    "report": "starter.register_cli",
    "schedules": "starter.schedules_cli",
    "keys": "starter.keys_cli",
}

__all__ = ["build_parser", "main", "run"]


async def _dispatch(args: argparse.Namespace) -> int:
    module = importlib.import_module(COMMANDS[args.command])
    collect_from_here()
    code: int = await module.dispatch(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code. With `argv` None (the `sro` script and
    `python -m starter`) the process ends here once Temporal was contacted: see `_hard_exit`."""
    private_files()  # the register and the reports `sro` writes hold case data
    code = run(argv)
    if argv is None and client_used():
        _hard_exit(code)
    return code


def collect_from_here() -> None:
    """What is loaded so far lives as long as the process: out of the garbage collector's sight
    from now on, and the collector back on if `starter.entry` turned it off for loading."""
    if gc.isenabled():
        return  # not started by `starter.entry` (a test, an embedding program): leave it be
    gc.freeze()
    gc.enable()


def _hard_exit(code: int) -> NoReturn:
    """Leave without interpreter teardown. The Temporal client's Rust threads can abort CPython's
    finalisation of a short-lived process ("PyGILState_Release: thread state ... must be current
    when releasing", temporalio/sdk-python#300), turning a clean exit into SIGABRT."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    # Only the command asked for gets its model-generated flags built (`sro --help` needs none).
    parser = build_parser(next((a for a in given if not a.startswith("-")), ""))
    try:
        args = parser.parse_args(given)
    except SystemExit as exit_:  # --help, or a usage error argparse has already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return asyncio.run(_dispatch(args))
    except BrokenPipeError:
        # The reader went away (`sro status ... | head`): stop quietly, like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except GatewayError as err:
        return _report(cli_error(err))
    except CliError as err:
        return _report(err)
    except SettingsError as err:  # a variable that cannot be used (config/): say which
        return _report(CliError(str(err)))
    except RPCError as err:
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return _report(unreachable(err))
        return _report(CliError(f"Temporal refused the request: {err.message}", code=1))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _report(err: CliError) -> int:
    print(f"error: {err.message}", file=sys.stderr)
    for line in err.details:
        print(f"  - {line}", file=sys.stderr)
    return err.code


if __name__ == "__main__":
    raise SystemExit(main())
