"""What every `sro` command shares: errors, input files, output helpers, the connection.

Import-light on purpose (no workflows, no database, no data converter): `sro --help` loads it.
Connecting is starter/session.py.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.config import connect_config
from gateway.errors import Conflict, GatewayError, Unavailable, Unreachable
from gateway.refs import (
    CASE_REF_PATTERN,
    ESCALATION_REF_PATTERN,
    ESCALATION_WORKFLOW_ID_PREFIX,
    WORKFLOW_ID_PREFIX,
)
from safeguarding.clock import uk_local, uk_today

PROG = "sro"

#: Who decides, when --by-* flags (and the decision file) do not say.
USER_ENV = {"name": "SRO_USER_NAME", "role": "SRO_USER_ROLE", "agency": "SRO_USER_AGENCY"}

DEFAULT_TIMEOUT = 30.0


class CliError(Exception):
    """A problem to report in a line or a few, then exit with `code` (no traceback)."""

    def __init__(self, message: str, *, code: int = 2, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = list(details)


# ====================================================================== input


#: `today`, `today+7`, `today-3`: days counted from today (UK), for scripts and the README's
#: walkthrough, which must not go stale.
_RELATIVE_DAY = re.compile(r"today(?:([+-])(\d{1,4}))?")


def iso_date(text: str) -> str:
    """A date flag: YYYY-MM-DD, or `today` with a number of days added or taken (`today+14`)."""
    relative = _RELATIVE_DAY.fullmatch(text.strip().lower())
    if relative:
        sign, days = relative.groups()
        offset = timedelta(days=int(days or 0)) * (-1 if sign == "-" else 1)
        return (uk_today(datetime.now(UTC)) + offset).isoformat()
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date as YYYY-MM-DD or today[+N|-N], got {text!r}"
        ) from None


def read_json_file(path: str, *, what: str, limit: int) -> Any:
    try:
        if path == "-":
            text = sys.stdin.read(limit + 1)
        else:
            with Path(path).open(encoding="utf-8") as f:
                text = f.read(limit + 1)
    except OSError as err:
        raise CliError(f"cannot read {what} file {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise CliError(f"{what} file {path} is not UTF-8 text") from None
    if len(text.encode()) > limit:
        raise CliError(f"{what} file {path} is larger than {limit} bytes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise CliError(
            f"{what} file {path} is not valid JSON: {err.msg} (line {err.lineno}, "
            f"column {err.colno})"
        ) from None
    except RecursionError:
        raise CliError(f"{what} file {path} is nested too deeply to be a {what}") from None


def normalise_case_ref(text: str) -> str:
    case_ref = text.strip().removeprefix(WORKFLOW_ID_PREFIX).upper()
    if not CASE_REF_PATTERN.match(case_ref):
        raise CliError(
            f"{text[:40]!r} is not a case reference (like LSCP-2026-1A2B3C); "
            f"`{PROG} list` shows them"
        )
    return case_ref


def normalise_escalation_ref(text: str) -> str:
    ref = text.strip().removeprefix(ESCALATION_WORKFLOW_ID_PREFIX).upper()
    if not ESCALATION_REF_PATTERN.match(ref):
        raise CliError(
            f"{text[:40]!r} is not an escalation reference (like CSCP-ESC-2026-1A2B3C); "
            f"`{PROG} escalation list` shows them"
        )
    return ref


def new_decision_id() -> str:
    return f"cli-{uuid.uuid4().hex}"


def person_payload(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, Any]:
    """Who raises or decides: the --by-* flags, else SRO_USER_NAME/ROLE/AGENCY."""
    person: dict[str, Any] = {}
    for sub, variable in USER_ENV.items():
        given = getattr(args, f"by__{sub}", None)
        if given is not None:
            person[sub] = given
        elif env.get(variable):
            person[sub] = env[variable]
    return person


# ====================================================================== output


def spaced(value: str) -> str:
    return value.replace("_", " ")


def moment(at: datetime) -> str:
    return uk_local(at).strftime("%Y-%m-%d %H:%M")


def table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


# ====================================================================== Temporal


def _target() -> str:
    try:
        return str(connect_config()["target_host"])
    except Exception:
        return "the configured address"


def _reason(err: BaseException) -> str:
    text = str(err)
    found = re.findall(r'message: "([^"]+)"', text)
    if found:
        return str(found[-1])
    return text.removeprefix("Failed client connect: ")[:200]


def unreachable(err: BaseException) -> CliError:
    return CliError(
        f"cannot reach Temporal at {_target()}: {_reason(err)} — is `make run` running?", code=1
    )


_client_used = False


def client_used() -> bool:
    """Has this process connected to Temporal (`cli.main` then leaves without teardown)?"""
    return _client_used


def mark_client_used() -> None:
    global _client_used
    _client_used = True


def no_worker(case_ref: str, timeout: float) -> CliError:
    return CliError(
        f"{case_ref} did not answer within {timeout:g} s — is the worker running "
        f"(`make run` or `python worker.py`)?",
        code=1,
    )


def cli_error(err: GatewayError) -> CliError:
    """A gateway error no command put in its own words: a line, and the exit code."""
    if isinstance(err, Unreachable):
        return unreachable(err.__cause__ or err)
    if isinstance(err, Unavailable | Conflict):
        return CliError(err.message, code=1)
    return CliError(err.message)


def server_words(err: GatewayError) -> str:
    """The server's own words, kept as the cause of the error the gateway mapped."""
    cause = err.__cause__
    return str(getattr(cause, "message", None) or err.message)
