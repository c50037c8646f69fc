"""The command line for coordinators and panel members: `sro <command>` or `python -m starter`.

    sro refer --file referral.json         start a case (or give the referral as flags)
    sro decide CASE_REF KIND [flags]       make a decision (`sro kinds KIND` lists its fields)
    sro status CASE_REF                    stage, deadlines, outstanding work and history
    sro list [--stage S] [--overdue]       cases, from Temporal visibility
    sro kinds [KIND]                       what each decision needs
    sro escalation raise|resolve|escalate|status|list
                                           professional disagreements, stage by stage
    sro register upgrade|rebuild|info      the case register (starter/register_cli.py)
    sro report summary|annual|calendar|learning
                                           reports from the register

Thin on purpose: it turns flags into the pydantic models in `safeguarding`, validates them before
connecting to anything, and talks to the ReferralWorkflow. The rules live in the workflow.
Exit codes: 0 done, 1 Temporal unreachable (or no worker answering), 2 bad input, refused, or no
such case. Personal data (children, the referral's summary) never goes into ids, summaries or
output other than what the user asked to see.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import sys
import types
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from safeguarding import horizon
from safeguarding.calendar import WorkingCalendar
from safeguarding.case import CaseStatus, DeadlineView, DecisionResult
from safeguarding.clock import uk_local, uk_today
from safeguarding.decisions import (
    DECISION_MODELS,
    MAX_DECISION_BYTES,
    SET_BY_INTERFACE,
    DecisionBase,
    InvalidDecision,
    parse_decision,
    printable,
    validation_problems,
)
from safeguarding.escalation import ESCALATION_REF_PATTERN as ESCALATION_REF
from safeguarding.escalation import (
    Disagreement,
    EscalationStatus,
    StageRecord,
    parse_escalation_decision,
)
from safeguarding.profiles import ProfileError, profile_for
from safeguarding.referral import (
    MAX_REFERRAL_BYTES,
    InvalidReferral,
    Referral,
    days_late,
    parse_referral,
)
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import Agency, DecisionKind, Role, Route, Stage
from security.files import private_files
from security.keys import KeyError_
from starter.connection import connect, connect_config, data_converter
from worker import task_queue
from workflows import search_attributes as sa
from workflows.escalation import (
    EscalationInput,
    ProfessionalDisagreementWorkflow,
    escalation_workflow_id,
)
from workflows.referral import CASE_REF_PATTERN as CASE_REF
from workflows.referral import ReferralInput, ReferralWorkflow, workflow_id

PROG = "sro"
WORKFLOW_ID_PREFIX = workflow_id("")
CASE_REF_PATTERN = re.compile(CASE_REF)
ESCALATION_WORKFLOW_ID_PREFIX = escalation_workflow_id("")
ESCALATION_REF_PATTERN = re.compile(ESCALATION_REF)
PARTNERSHIP_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: Who decides, when --by-* flags (and the decision file) do not say.
USER_ENV = {"name": "SRO_USER_NAME", "role": "SRO_USER_ROLE", "agency": "SRO_USER_AGENCY"}
#: Fields every decision has; `sro kinds` lists them once.
COMMON_FIELDS = tuple(n for n in DecisionBase.model_fields if n not in SET_BY_INTERFACE)
DEFAULT_TIMEOUT = 30.0
HARM_CHOICES: tuple[str, ...] = get_args(Referral.model_fields["harm"].annotation)


class CliError(Exception):
    """A problem to report in a line or a few, then exit with `code` (no traceback)."""

    def __init__(self, message: str, *, code: int = 2, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = list(details)


# ====================================================================== field shapes


@dataclass(frozen=True)
class Shape:
    """What kind of value a model field takes, for flags and for `sro kinds`."""

    kind: Literal["text", "int", "date", "bool", "choice", "list_choice", "list_model", "model"]
    choices: tuple[str, ...] = ()
    item: type[BaseModel] | None = None


def _strip(annotation: Any) -> Any:
    """The annotation without Annotated[...] and `| None`."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _choices(annotation: Any) -> tuple[str, ...] | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(str(m.value) for m in annotation)
    if get_origin(annotation) is Literal:
        return tuple(str(v.value) if isinstance(v, Enum) else str(v) for v in get_args(annotation))
    return None


def shape_of(field: FieldInfo) -> Shape:
    base = _strip(field.annotation)
    choices = _choices(base)
    if choices is not None:
        return Shape("choice", choices)
    if get_origin(base) is list:
        (item,) = get_args(base)
        item = _strip(item)
        item_choices = _choices(item)
        if item_choices is not None:
            return Shape("list_choice", item_choices)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return Shape("list_model", item=item)
    if isinstance(base, type):
        if issubclass(base, BaseModel):
            return Shape("model", item=base)
        if base is bool:
            return Shape("bool")
        if base is date:
            return Shape("date")
        if base is int:
            return Shape("int")
        if base is str:
            return Shape("text")
    raise TypeError(f"no command-line form for {field.annotation!r}")  # a new model needs one


def _max_length(field: FieldInfo) -> int | None:
    for meta in field.metadata:
        limit = getattr(meta, "max_length", None)
        if isinstance(limit, int):
            return limit
    return None


def _item_form(model: type[BaseModel]) -> str:
    """`NAME:ROLE:AGENCY`, `AGENCY[:DUE_ON]`: the colon form of a list item."""
    parts = []
    for name, field in model.model_fields.items():
        token = name.upper()
        parts.append(token if field.is_required() else f"[{token}]")
    text = ":".join(parts)
    return re.sub(r":\[", "[:", text)


def describe_type(field: FieldInfo) -> str:
    shape = shape_of(field)
    if shape.kind == "text":
        limit = _max_length(field)
        return f"text (at most {limit} characters)" if limit else "text"
    if shape.kind == "int":
        return "whole number"
    if shape.kind == "date":
        return "date YYYY-MM-DD"
    if shape.kind == "bool":
        return "yes/no"
    if shape.kind == "choice":
        return "one of " + ", ".join(shape.choices)
    if shape.kind == "list_choice":
        return "list, each one of " + ", ".join(shape.choices)
    assert shape.item is not None
    if shape.kind == "list_model":
        return f"list of {{{', '.join(shape.item.model_fields)}}}"
    return "; ".join(f"{n}: {describe_type(f)}" for n, f in shape.item.model_fields.items())


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") else name


def flags_for(name: str, field: FieldInfo) -> list[str]:
    """The flags that set a field, as `sro kinds` shows them."""
    shape = shape_of(field)
    if shape.kind == "model":
        assert shape.item is not None
        return [_flag(f"{name}_{sub}") for sub in shape.item.model_fields]
    if shape.kind == "bool":
        return [_flag(name), _flag(f"no_{name}")]
    if shape.kind in ("list_choice", "list_model") and _singular(name) != name:
        return [_flag(_singular(name)), _flag(name)]
    return [_flag(name)]


# ====================================================================== value parsers


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON: {err}") from None


def parse_item(model: type[BaseModel], text: str) -> list[Any]:
    """One list item as `a:b:c` (the model's fields in order; the first may contain colons),
    or a JSON object, or a JSON list of objects."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        value = _json_value(stripped)
        return value if isinstance(value, list) else [value]
    names = list(model.model_fields)
    parts = stripped.rsplit(":", len(names) - 1)
    return [{n: p.strip() for n, p in zip(names, parts, strict=False) if p.strip()}]


def _item_parser(model: type[BaseModel]) -> Any:
    def convert(text: str) -> list[Any]:
        return parse_item(model, text)

    convert.__name__ = _item_form(model)  # argparse names the type in its error messages
    return convert


# ====================================================================== the parser


def _add_field_flags(parser: argparse.ArgumentParser, model: type[DecisionBase]) -> None:
    """One or more flags per model field; only the flags given end up in the namespace."""
    for name, field in model.model_fields.items():
        if name == "kind" or name in SET_BY_INTERFACE:
            continue
        shape = shape_of(field)
        note = field.description or ""
        required = field.is_required()
        if name == "decision_id":
            note += " (default: a fresh id, printed so you can re-send safely)"
        elif required:
            note = f"{note} (required)" if note else "required"
        common: dict[str, Any] = {"default": argparse.SUPPRESS, "help": note.strip() or None}
        if shape.kind == "model":
            assert shape.item is not None
            for sub, sub_field in shape.item.model_fields.items():
                sub_shape = shape_of(sub_field)
                help_text = f"{name}: {sub.replace('_', ' ')}"
                if name == "by":
                    help_text += f" (default: ${USER_ENV.get(sub, '')})"
                kwargs: dict[str, Any] = {"default": argparse.SUPPRESS, "help": help_text}
                if sub_shape.kind == "choice":
                    kwargs["choices"] = sub_shape.choices
                else:
                    kwargs["metavar"] = sub.upper()
                parser.add_argument(_flag(f"{name}_{sub}"), dest=f"{name}__{sub}", **kwargs)
        elif shape.kind == "bool":
            parser.add_argument(
                _flag(name), dest=name, action=argparse.BooleanOptionalAction, **common
            )
        elif shape.kind == "choice":
            parser.add_argument(_flag(name), dest=name, choices=shape.choices, **common)
        elif shape.kind == "date":
            parser.add_argument(
                _flag(name), dest=name, type=_iso_date, metavar="YYYY-MM-DD", **common
            )
        elif shape.kind == "int":
            parser.add_argument(_flag(name), dest=name, type=int, **common)
        elif shape.kind == "text":
            parser.add_argument(_flag(name), dest=name, metavar="TEXT", **common)
        elif shape.kind == "list_choice":
            common["help"] = f"{note} (repeat the flag for more)".strip()
            parser.add_argument(
                *flags_for(name, field), dest=name, action="append", choices=shape.choices, **common
            )
        else:  # list_model
            assert shape.item is not None
            form = _item_form(shape.item)
            common["help"] = (
                f"{note} one per flag as {form} or a JSON object; "
                f"{_flag(name)} also takes a JSON list (repeat for more)"
            ).strip()
            parser.add_argument(
                *flags_for(name, field),
                dest=name,
                action="extend",
                type=_item_parser(shape.item),
                metavar=form,
                **common,
            )


def _add_send_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    def d(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--file",
        default=d(None),
        metavar="DECISION.json",
        help="take the decision from a JSON file ('-' for stdin); flags given override its fields",
    )
    parser.add_argument(
        "--signal",
        action="store_true",
        default=d(False),
        help="send as the 'decision' signal (fire and forget; a refusal shows in the history)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        default=d(False),
        help="validate and print the decision without sending it",
    )
    parser.add_argument("--json", action="store_true", default=d(False), help="machine output")
    parser.add_argument(
        "--timeout",
        type=float,
        default=d(DEFAULT_TIMEOUT),
        metavar="SECONDS",
        help=f"how long to wait for the case to answer (default {DEFAULT_TIMEOUT:g})",
    )


def _new_parser(
    parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, **kwargs: Any
) -> argparse.ArgumentParser:
    return parent.add_parser(name, allow_abbrev=False, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Safeguarding Review Orchestrator: start cases, record decisions, follow "
        "deadlines. Connection from TEMPORAL_ADDRESS etc. (default localhost:7233).",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # ---------------------------------------------------------------- refer
    refer = _new_parser(
        commands,
        "refer",
        help="start a case from a referral",
        description="Start a case. Give the referral as --file (a JSON object with the fields of "
        "safeguarding.referral.Referral) or as flags. It is checked before anything is sent.",
    )
    refer.add_argument("--file", metavar="REFERRAL.json", help="the referral ('-' for stdin)")
    refer.add_argument("--partnership", help="partnership code, e.g. LSCP")
    refer.add_argument(
        "--received-on", type=_iso_date, metavar="YYYY-MM-DD", help="default: today (UK)"
    )
    refer.add_argument("--incident-on", type=_iso_date, metavar="YYYY-MM-DD")
    refer.add_argument(
        "--la-aware-on",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="day the local authority became aware (default: received on)",
    )
    refer.add_argument("--harm", choices=HARM_CHOICES)
    refer.add_argument("--abuse-or-neglect-suspected", action=argparse.BooleanOptionalAction)
    refer.add_argument("--referrer-name")
    refer.add_argument("--referrer-agency", choices=[a.value for a in Agency])
    refer.add_argument(
        "--discussed-with-safeguarding-lead",
        action=argparse.BooleanOptionalAction,
        help="the referrer discussed it with their safeguarding lead (default: yes)",
    )
    refer.add_argument(
        "--child",
        action="append",
        default=[],
        metavar="NAME[:AGE]",
        help="a child (repeat for siblings, at most 4)",
    )
    refer.add_argument("--child-name", help="a child's name (when it contains a colon)")
    refer.add_argument("--child-age", type=int, help="that child's age in years")
    refer.add_argument(
        "--care-leaver", action="store_true", default=None, help="a care leaver aged 18 to 24"
    )
    refer.add_argument(
        "--agency",
        action="append",
        default=[],
        choices=[a.value for a in Agency],
        help="an agency involved with the family (repeat for more)",
    )
    refer.add_argument("--summary", help="what happened, in the referrer's words")
    refer.add_argument(
        "--late-reason",
        help="why the referral is later than the partnership's time limit (e.g. Salford: 5 days)",
    )
    refer.add_argument(
        "--dry-run", action="store_true", help="check and print the referral, start nothing"
    )
    refer.add_argument("--json", action="store_true", help="machine output")

    # ---------------------------------------------------------------- decide
    decide = _new_parser(
        commands,
        "decide",
        help="make a decision on a case",
        description="Make a decision: `sro decide CASE_REF KIND [flags]`; `sro decide CASE_REF "
        "KIND --help` and `sro kinds KIND` list the flags. Or `sro decide CASE_REF --file "
        "decision.json`. Who decides comes from --by-name/--by-role/--by-agency or "
        "SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY.",
    )
    decide.add_argument("case_ref", metavar="CASE_REF")
    decide.set_defaults(kind=None)
    _add_send_flags(decide, suppress=False)
    kinds = decide.add_subparsers(dest="kind_command", metavar="KIND")
    for kind, model in DECISION_MODELS.items():
        aliases = [kind.value.replace("_", "-")] if "_" in kind.value else []
        sub = _new_parser(
            kinds,
            kind.value,
            aliases=aliases,
            help=kind.label,
            description=f"{kind.label} ({model.__name__}). Fields: `sro kinds {kind.value}`.",
        )
        sub.set_defaults(kind=kind.value)
        _add_field_flags(sub, model)
        _add_send_flags(sub, suppress=True)

    # ---------------------------------------------------------------- status
    status = _new_parser(commands, "status", help="a case's stage, deadlines, tasks and history")
    status.add_argument("case_ref", metavar="CASE_REF")
    status.add_argument("--json", action="store_true", help="the whole status as JSON")
    status.add_argument(
        "--history-limit", type=int, metavar="N", help="show only the last N history entries"
    )
    status.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS")

    # ---------------------------------------------------------------- list
    listing = _new_parser(commands, "list", help="list cases (open ones unless --all)")
    listing.add_argument("--stage", choices=[s.value for s in Stage])
    listing.add_argument("--route", choices=[r.value for r in Route])
    listing.add_argument("--partnership", metavar="CODE")
    listing.add_argument("--overdue", action="store_true", help="only cases with an overdue item")
    listing.add_argument("--all", action="store_true", help="closed and failed cases too")
    listing.add_argument("--limit", type=int, default=500, metavar="N")
    listing.add_argument("--json", action="store_true", help="machine output")

    # ---------------------------------------------------------------- kinds
    kinds_cmd = _new_parser(commands, "kinds", help="decision kinds and their fields")
    kinds_cmd.add_argument("kind", nargs="?", metavar="KIND")
    kinds_cmd.add_argument("--json", action="store_true", help="machine output")

    _add_escalation_parsers(commands)
    from starter import register_cli  # here, not at the top: register_cli imports this module

    register_cli.add_commands(commands)
    return parser


def _add_by_flags(parser: argparse.ArgumentParser, who: str) -> None:
    parser.add_argument(
        "--by-name", dest="by__name", metavar="NAME", help=f"{who}: name (default: $SRO_USER_NAME)"
    )
    parser.add_argument(
        "--by-role",
        dest="by__role",
        choices=[r.value for r in Role],
        help=f"{who}: role (default: $SRO_USER_ROLE)",
    )
    parser.add_argument(
        "--by-agency",
        dest="by__agency",
        choices=[a.value for a in Agency],
        help=f"{who}: agency (default: $SRO_USER_AGENCY)",
    )


def _add_escalation_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    escalation = _new_parser(
        commands,
        "escalation",
        help="professional disagreements under the partnership's escalation policy",
        description="Raise a professional disagreement and follow it through the stages of the "
        "partnership's escalation and resolution policy (its profile sets the stages and their "
        "time limits; an unresolved stage moves up by itself).",
    )
    sub = escalation.add_subparsers(dest="escalation_command", required=True, metavar="ACTION")

    raise_ = _new_parser(
        sub,
        "raise",
        help="raise a disagreement (it starts at stage 1)",
        description="Raise a professional disagreement with another agency. It is checked "
        "(fields, and that the partnership has a profile) before anything is sent. The concern "
        "stays in the escalation's payload: it is never put in ids, summaries or listings.",
    )
    raise_.add_argument("--partnership", metavar="CODE", help="partnership code, e.g. CSCP")
    raise_.add_argument(
        "--with",
        dest="raised_with",
        choices=[a.value for a in Agency],
        help="the agency the disagreement is with",
    )
    raise_.add_argument("--concern", metavar="TEXT", help="what the disagreement is about")
    raise_.add_argument(
        "--case",
        dest="linked_case_ref",
        metavar="CASE_REF",
        help="the referral case it concerns (its history records the escalation)",
    )
    raise_.add_argument(
        "--raised-on", type=_iso_date, metavar="YYYY-MM-DD", help="default: today (UK)"
    )
    _add_by_flags(raise_, "who raises it")
    raise_.add_argument(
        "--dry-run", action="store_true", help="check and print the disagreement, start nothing"
    )
    raise_.add_argument("--json", action="store_true", help="machine output")

    for action, field, what in (
        ("resolve", "outcome", "how it was resolved"),
        ("escalate", "reason", "why it cannot be resolved at this stage"),
    ):
        parser = _new_parser(
            sub,
            action,
            help="resolve it (this ends it)" if action == "resolve" else "move it up a stage now",
            description=f"{action.capitalize()} an escalation: `{PROG} escalation {action} REF "
            f"--{field} TEXT`. Who decides comes from --by-name/--by-role/--by-agency or "
            "SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY.",
        )
        parser.set_defaults(action=action)
        parser.add_argument("escalation_ref", metavar="REF")
        parser.add_argument(f"--{field}", metavar="TEXT", help=f"{what} (required)")
        _add_by_flags(parser, "who decides")
        parser.add_argument(
            "--decision-id",
            metavar="ID",
            help="unique id for this decision; re-sending the same id applies it once "
            "(default: a fresh id, printed so you can re-send safely)",
        )
        parser.add_argument(
            "--signal",
            action="store_true",
            help="send as the 'decision' signal (fire and forget; a refusal shows in the history)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and print the decision, send nothing"
        )
        parser.add_argument("--json", action="store_true", help="machine output")
        parser.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT,
            metavar="SECONDS",
            help=f"how long to wait for the escalation to answer (default {DEFAULT_TIMEOUT:g})",
        )

    status = _new_parser(
        sub, "status", help="an escalation's stage, time limit, stages so far and history"
    )
    status.add_argument("escalation_ref", metavar="REF")
    status.add_argument("--json", action="store_true", help="the whole status as JSON")
    status.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS")

    listing = _new_parser(
        sub,
        "list",
        help="list escalations (open ones unless --all)",
        description="List escalations from Temporal visibility. --oversight lists those at or "
        "past the stage from which the partnership is told (its profile's "
        "escalation_policy.partnership_notified_from_stage): the ones its review group oversees.",
    )
    listing.add_argument("--partnership", metavar="CODE")
    listing.add_argument(
        "--oversight",
        action="store_true",
        help="only those at or past the partnership's threshold stage (needs --partnership)",
    )
    listing.add_argument("--all", action="store_true", help="resolved and closed ones too")
    listing.add_argument("--limit", type=int, default=500, metavar="N")
    listing.add_argument("--json", action="store_true", help="machine output")


# ====================================================================== input files


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


def _problems(err: Exception, prefix: str) -> list[str]:
    """One line per field problem: from the pydantic error when there is one."""
    cause = err.__cause__
    if isinstance(cause, ValidationError):
        return validation_problems(cause, prefix)
    return [str(err).removeprefix(f"{prefix} refused: ")]


# ====================================================================== refer


_REFERRAL_FLAGS = (
    "partnership",
    "received_on",
    "incident_on",
    "la_aware_on",
    "harm",
    "abuse_or_neglect_suspected",
    "referrer_name",
    "referrer_agency",
    "discussed_with_safeguarding_lead",
    "child",
    "child_name",
    "child_age",
    "care_leaver",
    "agency",
    "summary",
    "late_reason",
)


def _child(text: str) -> dict[str, Any]:
    name, sep, age = text.rpartition(":")
    if not sep:
        return {"name": text.strip()}
    if not age.strip():
        return {"name": name.strip()}
    try:
        return {"name": name.strip(), "age_years": int(age)}
    except ValueError:
        raise CliError(
            "--child takes NAME or NAME:AGE with AGE a whole number; for a name with a colon "
            "use --child-name and --child-age"
        ) from None


def referral_payload(args: argparse.Namespace, today: date) -> dict[str, Any]:
    """The raw referral from --file or the flags (not yet validated)."""
    given = [f for f in _REFERRAL_FLAGS if getattr(args, f) not in (None, [])]
    if args.file is not None:
        if given:
            flags = ", ".join(_flag(f) for f in given)
            raise CliError(f"give the referral as --file or as flags, not both (also got {flags})")
        loaded = read_json_file(args.file, what="referral", limit=MAX_REFERRAL_BYTES)
        if not isinstance(loaded, dict):
            raise CliError(f"the referral must be a JSON object, not {type(loaded).__name__}")
        return dict(loaded)

    raw: dict[str, Any] = {"received_on": args.received_on or today.isoformat()}
    simple = ("partnership", "incident_on", "la_aware_on", "harm", "abuse_or_neglect_suspected")
    for name in simple:
        if getattr(args, name) is not None:
            raw[name] = getattr(args, name)
    if isinstance(raw.get("partnership"), str):
        raw["partnership"] = raw["partnership"].strip().upper()
    referrer: dict[str, Any] = {}
    if args.referrer_name is not None:
        referrer["name"] = args.referrer_name
    if args.referrer_agency is not None:
        referrer["agency"] = args.referrer_agency
    if args.discussed_with_safeguarding_lead is not None:
        referrer["discussed_with_safeguarding_lead"] = args.discussed_with_safeguarding_lead
    if referrer:
        raw["referrer"] = referrer
    children = [_child(c) for c in args.child]
    if args.child_name is not None:
        children.append({"name": args.child_name})
        if args.child_age is not None:
            children[-1]["age_years"] = args.child_age
    elif args.child_age is not None:
        raise CliError("--child-age needs --child-name (or use --child NAME:AGE)")
    if args.care_leaver:
        for child in children:
            child["care_leaver"] = True
    if children:
        raw["children"] = children
    if args.agency:
        raw["agencies_involved"] = args.agency
    if args.summary is not None:
        raw["summary"] = args.summary
    if args.late_reason is not None:
        raw["late_reason"] = args.late_reason
    return raw


def check_partnership_rules(referral: Referral) -> None:
    """What the partnership's profile asks of a referral, checked before anything starts."""
    try:
        settings = profile_for(referral.partnership)
    except ProfileError as err:
        raise CliError(f"the referral is not valid; nothing was started: {err}") from None
    late = days_late(referral, settings.referral_time_limit_days)
    if late is not None and not referral.late_reason:
        raise CliError(
            f"the referral is {late} day(s) past {settings.name}'s limit of "
            f"{settings.referral_time_limit_days} days after the incident; it is accepted and "
            "flagged, with the reason: give --late-reason (or late_reason in the file)"
        )


def new_case_ref(partnership: str, year: int) -> str:
    case_ref = f"{partnership}-{year:04d}-{secrets.token_hex(3).upper()}"
    assert CASE_REF_PATTERN.match(case_ref), case_ref
    return case_ref


def _static_details(referral: Referral) -> str:
    # No personal data: not the children, not the summary, not even the referrer's name.
    return (
        f"Referral from {referral.referrer.agency.label}, received {referral.received_on}.\n"
        f"Started with `{PROG} refer`. See `{PROG} status` for the case."
    )


async def cmd_refer(args: argparse.Namespace, now: datetime) -> int:
    today = uk_today(now)
    raw = referral_payload(args, today)
    try:
        referral = parse_referral(raw, today=today)
    except InvalidReferral as err:
        raise CliError(
            "the referral is not valid; nothing was started:", details=_problems(err, "referral")
        ) from None
    check_partnership_rules(referral)
    if args.dry_run:
        body = referral.model_dump(mode="json")
        if args.json:
            _print_json({"valid": True, "started": False, "referral": body})
        else:
            print("The referral is valid (dry run: nothing was started):")
            print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0

    client = await _connect()
    queue = task_queue()
    for _attempt in range(5):
        case_ref = new_case_ref(referral.partnership, referral.received_on.year)
        try:
            handle = await client.start_workflow(
                ReferralWorkflow.run,
                ReferralInput(case_ref=case_ref, referral=referral),
                id=workflow_id(case_ref),
                task_queue=queue,
                # A case reference is never reused, even after its case has closed.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"Referral {case_ref} — {referral.partnership}",
                static_details=_static_details(referral),
                # Listed by partnership and stage at once, before a worker has picked it up.
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.PARTNERSHIP, referral.partnership),
                        SearchAttributePair(sa.REVIEW_STAGE, Stage.REFERRAL_RECEIVED.value),
                    ]
                ),
            )
            break
        except WorkflowAlreadyStartedError:
            continue
    else:
        raise CliError("could not find an unused case reference after 5 tries", code=1)

    if args.json:
        _print_json(
            {
                "case_ref": case_ref,
                "workflow_id": handle.id,
                "run_id": handle.result_run_id,
                "partnership": referral.partnership,
                "task_queue": queue,
            }
        )
        return 0
    print(f"Case {case_ref} opened for {referral.partnership}.")
    print(f"  workflow {handle.id} on task queue {queue}")
    print("Next:")
    steps = [
        (f"{PROG} status {case_ref}", "stage, deadlines, decisions allowed now"),
        (f"{PROG} kinds triage", "what a triage decision needs"),
        (f"{PROG} decide {case_ref} triage --outcome ...", "record the triage decision"),
    ]
    width = max(len(command) for command, _ in steps)
    for command, what in steps:
        print(f"  {command.ljust(width)}   {what}")
    return 0


# ====================================================================== decide


def new_decision_id() -> str:
    return f"cli-{uuid.uuid4().hex}"


def decision_payload(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The raw decision from --file and the flags given (flags win), with `by` from the
    environment and a fresh decision id when neither says. Not yet validated."""
    env = os.environ if env is None else env
    payload: dict[str, Any] = {}
    if args.file is not None:
        raw = read_json_file(args.file, what="decision", limit=MAX_DECISION_BYTES)
        if not isinstance(raw, dict):
            raise CliError(f"the decision must be a JSON object, not {type(raw).__name__}")
        payload.update(raw)
    if args.kind is not None:
        if "kind" in payload and payload["kind"] != args.kind:
            raise CliError(
                f"the decision file is a {payload['kind']!r} decision, not {args.kind!r}"
            )
        payload["kind"] = args.kind
    if "kind" not in payload:
        raise CliError(f"say which decision: `{PROG} decide CASE_REF KIND ...` (see `sro kinds`)")
    try:
        model = DECISION_MODELS[DecisionKind(payload["kind"])]
    except ValueError:
        known = ", ".join(k.value for k in DecisionKind)
        raise CliError(
            f"unknown decision kind {str(payload['kind'])[:40]!r}; one of {known}"
        ) from None

    for name, field in model.model_fields.items():
        if name == "kind":
            continue
        shape = shape_of(field)
        if shape.kind == "model":
            assert shape.item is not None
            current = payload.get(name)
            if current is not None and not isinstance(current, dict):
                continue  # not an object: validation says so
            nested: dict[str, Any] = dict(current or {})
            for sub in shape.item.model_fields:
                if hasattr(args, f"{name}__{sub}"):
                    nested[sub] = getattr(args, f"{name}__{sub}")
                elif name == "by" and sub not in nested and env.get(USER_ENV.get(sub, "")):
                    nested[sub] = env[USER_ENV[sub]]
            if nested:
                payload[name] = nested
        elif hasattr(args, name):
            payload[name] = getattr(args, name)
    if not payload.get("decision_id"):
        payload["decision_id"] = new_decision_id()
    return payload


def _validate_decision(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        # The case history records that it came from the command line.
        decision = parse_decision({**payload, "via": "sro"})
    except InvalidDecision as err:
        kind = payload.get("kind", "the")
        details = _problems(err, "decision")
        if any(line.startswith("by") for line in details):
            details.append(
                "say who decides with --by-name/--by-role/--by-agency "
                "(or SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY)"
            )
        details.append(f"see `{PROG} kinds {kind}` for the fields")
        raise CliError(
            f"the {kind} decision is not valid; nothing was sent:", details=details
        ) from None
    body = decision.model_dump(mode="json", exclude_none=True)
    if len(json.dumps(body).encode()) > MAX_DECISION_BYTES:
        raise CliError(f"the decision is larger than {MAX_DECISION_BYTES} bytes")
    return body


def _deadline_line(d: DeadlineView) -> str:
    return f"{d.due_on}  {_state(d.state.value):<9}  {d.title} ({d.owner})"


async def cmd_decide(args: argparse.Namespace) -> int:
    case_ref = normalise_case_ref(args.case_ref)
    body = _validate_decision(decision_payload(args))
    decision_id = body["decision_id"]
    if args.dry_run:
        if args.json:
            _print_json({"case_ref": case_ref, "sent": False, "decision": body})
        else:
            print(
                f"The decision is well formed (dry run: nothing was sent to {case_ref}; "
                f"the case itself checks the stage and who may decide):"
            )
            print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0

    client = await _connect()
    handle = client.get_workflow_handle(workflow_id(case_ref))
    if args.signal:
        try:
            await handle.signal("decision", body, rpc_timeout=timedelta(seconds=args.timeout))
        except RPCError as err:
            _raise_for_case(err, case_ref)
        if args.json:
            _print_json({"case_ref": case_ref, "decision_id": decision_id, "sent": "signal"})
        else:
            print(f"Sent {body['kind']} to {case_ref} as a signal (decision id {decision_id}).")
            print(
                f"A signal gets no answer: if the case refuses it, the refusal shows in its "
                f"history (`{PROG} status {case_ref}`)."
            )
        return 0

    try:
        result = await handle.execute_update(
            "decide",
            body,
            id=decision_id,
            result_type=DecisionResult,
            rpc_timeout=timedelta(seconds=args.timeout),
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            print(f"refused ({cause.type or 'Refused'}): {cause.message}", file=sys.stderr)
        else:
            print(f"refused: {cause}", file=sys.stderr)
        return 2
    except RPCTimeoutOrCancelledError:
        raise CliError(
            f"{case_ref} did not answer within {args.timeout:g} s (is the worker running?). "
            f"The decision may or may not have been applied: re-send it with "
            f"--decision-id {decision_id} (it applies once), then check `{PROG} status`.",
            code=1,
        ) from None
    except RPCError as err:
        _raise_for_case(err, case_ref)

    if args.json:
        _print_json(result.model_dump(mode="json"))
        return 0
    if result.duplicate:
        print(f"Decision {decision_id} was already applied; nothing changed.")
    else:
        print(result.message)
    print(f"  case: {case_ref}  stage: {result.stage.value}  decision id: {result.decision_id}")
    if result.deadlines:
        print("  deadlines:")
        for d in result.deadlines:
            print(f"    {_deadline_line(d)}")
    return 0


# ====================================================================== status


def _state(value: str) -> str:
    return value.replace("_", " ")


def _moment(at: datetime) -> str:
    return uk_local(at).strftime("%Y-%m-%d %H:%M")


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]


def render_status(status: CaseStatus, history_limit: int | None = None) -> list[str]:
    lines = [f"Case {status.case_ref} — {status.partnership_name}"]
    facts = [
        ("Stage", f"{status.stage_label} [{status.stage.value}]"),
        ("Route", _state(status.route.value)),
        ("Opened", f"{_moment(status.opened_at)} (UK)"),
    ]
    if status.closed_at:
        facts.append(("Closed", f"{_moment(status.closed_at)} (UK)"))
    facts.append(("Overdue", "YES" if status.overdue else "no"))
    if status.notification_reference:
        facts.append(("Notification ref", status.notification_reference))
    if status.possible_national_importance:
        facts.append(("National importance", "possible"))
    if status.lead_reviewer:
        facts.append(("Lead reviewer", status.lead_reviewer))
    if status.planned_publication_on:
        facts.append(("Planned publication", str(status.planned_publication_on)))
    width = max(len(k) for k, _ in facts) + 1
    lines += [f"  {(k + ':').ljust(width)} {v}" for k, v in facts]

    lines.append("")
    lines.append("Deadlines")
    if status.deadlines:
        rows = [["DUE", "STATE", "DEADLINE", "OWNER", "ID"]]
        for d in status.deadlines:
            state = _state(d.state.value)
            if d.met_on:
                state += f" {d.met_on}"
            title = d.title + (" (statutory)" if d.statutory else "")
            if d.extended:
                title += f" (extended {d.extended}x)"
            rows.append([str(d.due_on), state, title, d.owner, d.deadline_id])
        lines += _table(rows)
    else:
        lines.append("  none")

    lines.append("")
    lines.append("Outstanding")
    if status.tasks:
        for t in status.tasks:
            when = ""
            if t.due_on:
                when = f", due {t.due_on}" + (f" ({_state(t.state.value)})" if t.state else "")
            lines.append(f"  - {t.task} — {t.owed_by}{when}")
    else:
        lines.append("  nothing")

    if status.actions:
        lines.append("")
        lines.append("Actions")
        rows = [["ID", "STATUS", "RAG", "DUE", "LEAD", "DESCRIPTION"]]
        for a in status.actions:
            rows.append(
                [
                    a.action_id,
                    _state(a.status.value),
                    a.rag.value if a.rag else "-",
                    str(a.due_on),
                    a.lead_agency.label,
                    a.description if len(a.description) <= 60 else a.description[:57] + "...",
                ]
            )
        lines += _table(rows)

    lines.append("")
    allowed = ", ".join(k.value for k in status.decisions_allowed) or "none (case closed)"
    lines.append(f"Decisions allowed now: {allowed}")

    history = status.history
    total = status.history_from + len(history)  # a long case shows only its latest entries
    shown = history[-history_limit:] if history_limit is not None and history_limit >= 0 else None
    lines.append("")
    if shown is not None and len(shown) < total:
        lines.append(f"History (last {len(shown)} of {total})")
    elif status.history_from:
        lines.append(f"History (last {len(history)} of {total})")
        shown = history
    else:
        lines.append("History")
        shown = history
    if status.history_from:
        lines.append(f"  (the first {status.history_from} entries are in the register)")
    lines += [f"  {_moment(h.at)}  {h.kind.value:<18} {h.text}" for h in shown]
    if status.runs > 1:
        lines.append(f"  (the case has continued over {status.runs} workflow runs)")
    # Free text (summaries, notes, evidence) may hold control characters: never raw to a terminal.
    return [printable(line) for line in lines]


async def cmd_status(args: argparse.Namespace) -> int:
    case_ref = normalise_case_ref(args.case_ref)
    client = await _connect()
    handle = client.get_workflow_handle(workflow_id(case_ref))
    try:
        status = await handle.query(
            "status", result_type=CaseStatus, rpc_timeout=timedelta(seconds=args.timeout)
        )
    except WorkflowQueryFailedError as err:
        # The status query fails only while the case is opening (its message is encrypted).
        raise CliError(
            f"{case_ref} could not answer yet (it may still be opening: try again in a moment; "
            f"is the worker running?): {err.message}",
            code=1,
        ) from None
    except WorkflowQueryRejectedError as err:
        raise CliError(f"{case_ref} did not answer: {err}", code=1) from None
    except RPCTimeoutOrCancelledError:
        raise _no_worker(case_ref, args.timeout) from None
    except RPCError as err:
        # The server gives up on a query no worker picks up as CANCELLED ("Timeout expired").
        if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise _no_worker(case_ref, args.timeout) from None
        _raise_for_case(err, case_ref)
    if args.json:
        print(status.model_dump_json(indent=2))
    else:
        print("\n".join(render_status(status, args.history_limit)))
    return 0


def _no_worker(case_ref: str, timeout: float) -> CliError:
    return CliError(
        f"{case_ref} did not answer within {timeout:g} s — is the worker running "
        f"(`make run` or `python worker.py`)?",
        code=1,
    )


# ====================================================================== list


def visibility_query(
    *,
    stage: str | None = None,
    route: str | None = None,
    partnership: str | None = None,
    overdue: bool = False,
    include_closed: bool = False,
) -> str:
    clauses = [f"WorkflowType = '{ReferralWorkflow.__name__}'"]
    if not include_closed:
        clauses.append("ExecutionStatus = 'Running'")
    if stage is not None:
        clauses.append(f"{sa.REVIEW_STAGE.name} = '{Stage(stage).value}'")
    if route is not None:
        clauses.append(f"{sa.REVIEW_ROUTE.name} = '{Route(route).value}'")
    if partnership is not None:
        if not PARTNERSHIP_PATTERN.match(partnership):
            raise CliError(f"--partnership: not a partnership code: {partnership[:20]!r}")
        clauses.append(f"{sa.PARTNERSHIP.name} = '{partnership}'")
    if overdue:
        clauses.append(f"{sa.OVERDUE.name} = true")
    return " AND ".join(clauses)


async def cmd_list(args: argparse.Namespace) -> int:
    query = visibility_query(
        stage=args.stage,
        route=args.route,
        partnership=args.partnership.strip().upper() if args.partnership else None,
        overdue=args.overdue,
        include_closed=args.all,
    )
    client = await _connect()
    rows: list[dict[str, Any]] = []
    try:
        async for execution in client.list_workflows(query, limit=args.limit):
            attrs = execution.typed_search_attributes
            next_deadline = attrs.get(sa.NEXT_DEADLINE)
            rows.append(
                {
                    "case_ref": execution.id.removeprefix(WORKFLOW_ID_PREFIX),
                    "workflow_id": execution.id,
                    "status": execution.status.name if execution.status else None,
                    "stage": attrs.get(sa.REVIEW_STAGE),
                    "route": attrs.get(sa.REVIEW_ROUTE),
                    "partnership": attrs.get(sa.PARTNERSHIP),
                    "next_deadline": next_deadline.date().isoformat() if next_deadline else None,
                    "overdue": attrs.get(sa.OVERDUE),
                    "started_at": execution.start_time.isoformat(),
                }
            )
    except RPCError as err:
        if err.status is RPCStatusCode.INVALID_ARGUMENT:
            raise CliError(
                f"Temporal refused the search ({err.message}); are the search attributes "
                f"registered (ReviewStage, ReviewRoute, Partnership, NextDeadline, Overdue)?",
                code=1,
            ) from None
        raise
    rows.sort(key=lambda r: (r["next_deadline"] is None, r["next_deadline"] or "", r["case_ref"]))
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No cases match." if args.all else "No open cases match (--all includes closed).")
        return 0
    header = ["CASE", "STAGE", "NEXT DEADLINE", "OVERDUE"]
    if args.all:
        header.append("STATUS")
    table = [header]
    for r in rows:
        overdue = {True: "YES", False: "no", None: "-"}[r["overdue"]]
        row = [r["case_ref"], r["stage"] or "-", r["next_deadline"] or "-", overdue]
        if args.all:
            row.append((r["status"] or "-").lower())
        table.append(row)
    print("\n".join(_table(table, indent="")))
    suffix = "" if len(rows) < args.limit else f" (the first {args.limit}; see --limit)"
    print(f"{len(rows)} case{'s' if len(rows) != 1 else ''}{suffix}")
    return 0


# ====================================================================== escalation

#: Disagreement and decision fields as the flags that set them, for error messages.
_ESCALATION_FLAGS = {
    "partnership": "--partnership",
    "raised_with": "--with",
    "concern": "--concern",
    "raised_on": "--raised-on",
    "linked_case_ref": "--case",
    "raised_by.name": "--by-name",
    "raised_by.role": "--by-role",
    "raised_by.agency": "--by-agency",
    "by.name": "--by-name",
    "by.role": "--by-role",
    "by.agency": "--by-agency",
    "decision_id": "--decision-id",
    "outcome": "--outcome",
    "reason": "--reason",
}
_WHO_HINT = (
    "say who with --by-name/--by-role/--by-agency (or SRO_USER_NAME/SRO_USER_ROLE/SRO_USER_AGENCY)"
)


def _as_flags(problems: list[str]) -> list[str]:
    """`raised_with: Field required` -> `--with: Field required`."""
    lines = []
    for line in problems:
        where, sep, what = line.partition(": ")
        where = where.removeprefix("resolve.").removeprefix("escalate.")  # the union's tag
        flag = _ESCALATION_FLAGS.get(where)
        lines.append(f"{flag}: {what}" if sep and flag else line)
    if any(line.startswith("--by-") for line in lines):
        lines.append(_WHO_HINT)
    return lines


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


def normalise_escalation_ref(text: str) -> str:
    ref = text.strip().removeprefix(ESCALATION_WORKFLOW_ID_PREFIX).upper()
    if not ESCALATION_REF_PATTERN.match(ref):
        raise CliError(
            f"{text[:40]!r} is not an escalation reference (like CSCP-ESC-2026-1A2B3C); "
            f"`{PROG} escalation list` shows them"
        )
    return ref


def new_escalation_ref(partnership: str, year: int) -> str:
    ref = f"{partnership}-ESC-{year:04d}-{secrets.token_hex(3).upper()}"
    assert ESCALATION_REF_PATTERN.match(ref), ref
    return ref


def disagreement_payload(
    args: argparse.Namespace, today: date, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The raw disagreement from the flags (not yet validated)."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {
        "raised_by": person_payload(args, env),
        "raised_on": args.raised_on or today.isoformat(),
    }
    if args.partnership is not None:
        raw["partnership"] = args.partnership.strip().upper()
    if args.raised_with is not None:
        raw["raised_with"] = args.raised_with
    if args.concern is not None:
        raw["concern"] = args.concern
    if args.linked_case_ref is not None:
        raw["linked_case_ref"] = normalise_case_ref(args.linked_case_ref)
    return raw


def check_disagreement(
    raw: dict[str, Any], today: date
) -> tuple[Disagreement, PartnershipSettings]:
    """The disagreement validated, and its partnership's settings: before connecting."""
    try:
        disagreement = Disagreement.model_validate(raw)
    except ValidationError as err:
        raise CliError(
            "the disagreement is not valid; nothing was started:",
            details=_as_flags(validation_problems(err)),
        ) from None
    if disagreement.raised_on is not None and disagreement.raised_on > today:
        raise CliError(f"--raised-on: {disagreement.raised_on} is in the future")
    try:
        settings = profile_for(disagreement.partnership)
    except ProfileError as err:
        raise CliError(f"the disagreement is not valid; nothing was started: {err}") from None
    case_ref = disagreement.linked_case_ref
    if case_ref is not None and case_ref.split("-", 1)[0] != disagreement.partnership:
        raise CliError(
            f"--case {case_ref} belongs to {case_ref.split('-', 1)[0]}, not "
            f"{disagreement.partnership}; raise the escalation under the case's partnership"
        )
    return disagreement, settings


def stage_one_hint(settings: PartnershipSettings, today: date) -> tuple[str, date | None]:
    """What stage 1 is and when its time runs out (the workflow computes the same on the same
    calendar; this is the expected date, `status` shows the one it set)."""
    policy = settings.escalation_policy
    first = policy.stage(1)
    text = f"Stage 1: {first.name} ({first.who})"
    if first.working_days is None:
        return text + ", with no time limit.", None
    due = WorkingCalendar(settings.closure_days).add_working_days(today, first.working_days)
    text += f", to be resolved within {first.working_days} working days: by {due}."
    if len(policy.stages) > 1:
        text += f" Unresolved by then, it moves to stage 2 ({policy.stage(2).name}) by itself."
    return text, due


def _escalation_details(disagreement: Disagreement) -> str:
    # No personal data: not the concern, not even who raised it.
    text = (
        f"Professional disagreement raised by {disagreement.raised_by.agency.label} with "
        f"{disagreement.raised_with.label}, on {disagreement.raised_on}.\n"
    )
    if disagreement.linked_case_ref:
        text += f"Concerns case {disagreement.linked_case_ref}.\n"
    return text + f"Started with `{PROG} escalation raise`. See `{PROG} escalation status`."


async def _check_case_exists(client: Client, case_ref: str) -> None:
    try:
        await client.get_workflow_handle(workflow_id(case_ref)).describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise CliError(
                f"--case: no case {case_ref} (no workflow {workflow_id(case_ref)}); "
                "nothing was started"
            ) from None
        raise


async def cmd_escalation_raise(args: argparse.Namespace, now: datetime) -> int:
    today = uk_today(now)
    disagreement, settings = check_disagreement(disagreement_payload(args, today), today)
    hint, due = stage_one_hint(settings, today)
    if args.dry_run:
        body = disagreement.model_dump(mode="json")
        if args.json:
            _print_json({"valid": True, "started": False, "disagreement": body})
        else:
            print("The disagreement is valid (dry run: nothing was started):")
            print(json.dumps(body, indent=2, ensure_ascii=False))
            print(hint)
        return 0

    client = await _connect()
    if disagreement.linked_case_ref is not None:
        await _check_case_exists(client, disagreement.linked_case_ref)
    queue = task_queue()
    partnership = disagreement.partnership
    year = (disagreement.raised_on or today).year
    for _attempt in range(5):
        ref = new_escalation_ref(partnership, year)
        try:
            handle = await client.start_workflow(
                ProfessionalDisagreementWorkflow.run,
                EscalationInput(escalation_ref=ref, disagreement=disagreement),
                id=escalation_workflow_id(ref),
                task_queue=queue,
                # An escalation reference is never reused, even after it is resolved.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"Escalation {ref} — {partnership}",
                static_details=_escalation_details(disagreement),
                # Listed by partnership and stage at once, before a worker has picked it up.
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.PARTNERSHIP, partnership),
                        SearchAttributePair(sa.ESCALATION_STAGE, 1),
                    ]
                ),
            )
            break
        except WorkflowAlreadyStartedError:
            continue
    else:
        raise CliError("could not find an unused escalation reference after 5 tries", code=1)

    policy = settings.escalation_policy
    if args.json:
        _print_json(
            {
                "escalation_ref": ref,
                "workflow_id": handle.id,
                "run_id": handle.result_run_id,
                "partnership": partnership,
                "task_queue": queue,
                "stage": 1,
                "stage_name": policy.stage(1).name,
                "expected_due_on": due.isoformat() if due else None,
                "linked_case_ref": disagreement.linked_case_ref,
            }
        )
        return 0
    print(f"Escalation {ref} raised for {partnership} with {disagreement.raised_with.label}.")
    print(f"  workflow {handle.id} on task queue {queue}")
    print(f"  {hint}")
    print(
        f"  {settings.name} is told if it reaches stage {policy.partnership_notified_from_stage}; "
        f"{settings.review_group} then oversees it."
    )
    if disagreement.linked_case_ref:
        print(f"  Case {disagreement.linked_case_ref}'s history records it.")
    print("Next:")
    steps = [
        (f"{PROG} escalation status {ref}", "stage, time limit, history"),
        (f"{PROG} escalation resolve {ref} --outcome ...", "resolved: this ends it"),
        (f"{PROG} escalation escalate {ref} --reason ...", "move it up a stage now"),
    ]
    width = max(len(command) for command, _ in steps)
    for command, what in steps:
        print(f"  {command.ljust(width)}   {what}")
    return 0


def escalation_decision_payload(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The raw resolve/escalate decision from the flags, with `by` from the environment when
    the flags do not say and a fresh decision id unless given. Not yet validated."""
    env = os.environ if env is None else env
    payload: dict[str, Any] = {
        "action": args.action,
        "decision_id": args.decision_id or new_decision_id(),
        "by": person_payload(args, env),
    }
    field = "outcome" if args.action == "resolve" else "reason"
    if getattr(args, field) is not None:
        payload[field] = getattr(args, field)
    return payload


def validate_escalation_decision(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        decision = parse_escalation_decision(payload)
    except InvalidDecision as err:
        raise CliError(
            f"the {payload.get('action')} decision is not valid; nothing was sent:",
            details=_as_flags(_problems(err, str(payload.get("action")))),
        ) from None
    body = decision.model_dump(mode="json")
    if len(json.dumps(body).encode()) > MAX_DECISION_BYTES:
        raise CliError(f"the decision is larger than {MAX_DECISION_BYTES} bytes")
    return body


async def _closed_escalation(client: Client, ref: str) -> int:
    """A decision sent to an escalation whose workflow has ended: refused, like the workflow
    refuses one that arrives between its resolution and its end."""
    description = await client.get_workflow_handle(escalation_workflow_id(ref)).describe()
    status = description.status.name.lower() if description.status else "closed"
    if status == "completed":
        print("refused (WrongStage): the escalation is already resolved", file=sys.stderr)
    else:
        print(
            f"refused (Closed): escalation {ref} has ended ({status}); it takes no more decisions",
            file=sys.stderr,
        )
    return 2


def _raise_for_escalation(err: RPCError, ref: str) -> NoReturn:
    if err.status is RPCStatusCode.NOT_FOUND:
        raise CliError(f"no escalation {ref} (no workflow {escalation_workflow_id(ref)})") from None
    raise err


def _is_closed(err: RPCError) -> bool:
    return err.status is RPCStatusCode.NOT_FOUND and "completed" in err.message.lower()


def _due_text(status: EscalationStatus) -> str:
    return f"by {status.due_on}" if status.due_on else "no time limit (the policy's last stage)"


async def cmd_escalation_decide(args: argparse.Namespace) -> int:
    ref = normalise_escalation_ref(args.escalation_ref)
    body = validate_escalation_decision(escalation_decision_payload(args))
    decision_id = body["decision_id"]
    if args.dry_run:
        if args.json:
            _print_json({"escalation_ref": ref, "sent": False, "decision": body})
        else:
            print(
                f"The decision is well formed (dry run: nothing was sent to {ref}; the "
                f"escalation itself checks its stage):"
            )
            print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0

    client = await _connect()
    handle = client.get_workflow_handle(escalation_workflow_id(ref))
    if args.signal:
        try:
            await handle.signal("decision", body, rpc_timeout=timedelta(seconds=args.timeout))
        except RPCError as err:
            if _is_closed(err):
                return await _closed_escalation(client, ref)
            _raise_for_escalation(err, ref)
        if args.json:
            _print_json({"escalation_ref": ref, "decision_id": decision_id, "sent": "signal"})
        else:
            print(f"Sent {args.action} to {ref} as a signal (decision id {decision_id}).")
            print(
                f"A signal gets no answer: if the escalation refuses it, the refusal shows in "
                f"its history (`{PROG} escalation status {ref}`)."
            )
        return 0

    try:
        status = await handle.execute_update(
            "decide",
            body,
            id=decision_id,
            result_type=EscalationStatus,
            rpc_timeout=timedelta(seconds=args.timeout),
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            print(f"refused ({cause.type or 'Refused'}): {cause.message}", file=sys.stderr)
        else:
            print(f"refused: {cause}", file=sys.stderr)
        return 2
    except RPCTimeoutOrCancelledError:
        raise CliError(
            f"{ref} did not answer within {args.timeout:g} s (is the worker running?). "
            f"The decision may or may not have been applied: re-send it with "
            f"--decision-id {decision_id} (it applies once), then check "
            f"`{PROG} escalation status {ref}`.",
            code=1,
        ) from None
    except RPCError as err:
        if _is_closed(err):
            return await _closed_escalation(client, ref)
        _raise_for_escalation(err, ref)

    if args.json:
        _print_json(status.model_dump(mode="json"))
        return 0
    if status.resolved:
        print(f"Escalation {ref} resolved at stage {status.stage} ({status.stage_name}).")
    else:
        print(
            f"Escalation {ref} is now at stage {status.stage}: {status.stage_name} "
            f"({status.who}), {_formal(status.formal)}; to be resolved {_due_text(status)}."
        )
        if status.partnership_notified:
            print(f"  {status.partnership_name} has been told; {status.overseen_by} oversees it.")
    print(f"  decision id: {decision_id}")
    return 0


def _formal(formal: bool) -> str:
    return "formal" if formal else "informal"


_LEFT_BECAUSE = {"resolved": "resolved", "timed_out": "time ran out", "escalated": "escalated"}


def _stage_row(record: StageRecord) -> list[str]:
    return [
        str(record.stage),
        record.name,
        _formal(record.formal),
        record.who,
        _moment(record.entered_at),
        str(record.due_on) if record.due_on else "-",
        _moment(record.left_at) if record.left_at else "-",
        _LEFT_BECAUSE.get(record.left_because or "", "-"),
    ]


def render_escalation(status: EscalationStatus) -> list[str]:
    lines = [f"Escalation {status.escalation_ref} — {status.partnership_name}"]
    facts = [
        ("Stage", f"{status.stage}, {status.stage_name} ({_formal(status.formal)})"),
        ("With", status.who),
    ]
    if status.resolved:
        facts.append(("State", f"resolved at stage {status.stage}"))
        if status.resolution:
            facts.append(("Resolution", status.resolution))
    else:
        facts.append(("State", "open"))
        facts.append(("Due", str(status.due_on) if status.due_on else "no time limit"))
    facts += [
        ("Raised by", status.raised_by.describe()),
        ("Raised with", status.raised_with.label),
        ("Partnership notified", "yes" if status.partnership_notified else "no"),
        ("Overseen by", status.overseen_by),
        ("Linked case", status.linked_case_ref or "none"),
    ]
    width = max(len(k) for k, _ in facts) + 1
    lines += [f"  {(k + ':').ljust(width)} {v}" for k, v in facts]

    lines.append("")
    lines.append("Stages")
    header = ["STAGE", "NAME", "FORMAL", "WHO", "ENTERED", "DUE", "LEFT", "WHY"]
    lines += _table([header] + [_stage_row(r) for r in status.stages])

    lines.append("")
    lines.append("History")
    lines += [f"  {_moment(h.at)}  {h.text}" for h in status.history]
    return lines


async def cmd_escalation_status(args: argparse.Namespace) -> int:
    ref = normalise_escalation_ref(args.escalation_ref)
    client = await _connect()
    handle = client.get_workflow_handle(escalation_workflow_id(ref))
    try:
        status = await handle.query(
            "status", result_type=EscalationStatus, rpc_timeout=timedelta(seconds=args.timeout)
        )
    except WorkflowQueryFailedError as err:
        raise CliError(f"{ref} could not answer: {err.message}", code=1) from None
    except WorkflowQueryRejectedError as err:
        raise CliError(f"{ref} did not answer: {err}", code=1) from None
    except RPCTimeoutOrCancelledError:
        raise _no_worker(ref, args.timeout) from None
    except RPCError as err:
        if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise _no_worker(ref, args.timeout) from None
        _raise_for_escalation(err, ref)
    if args.json:
        print(status.model_dump_json(indent=2))
    else:
        print("\n".join(render_escalation(status)))
    return 0


def escalation_visibility_query(
    *, partnership: str | None = None, min_stage: int | None = None, include_closed: bool = False
) -> str:
    clauses = [f"WorkflowType = '{ProfessionalDisagreementWorkflow.__name__}'"]
    if not include_closed:
        clauses.append("ExecutionStatus = 'Running'")
    if partnership is not None:
        if not PARTNERSHIP_PATTERN.match(partnership):
            raise CliError(f"--partnership: not a partnership code: {partnership[:20]!r}")
        clauses.append(f"{sa.PARTNERSHIP.name} = '{partnership}'")
    if min_stage is not None:
        clauses.append(f"{sa.ESCALATION_STAGE.name} >= {int(min_stage)}")
    return " AND ".join(clauses)


async def cmd_escalation_list(args: argparse.Namespace) -> int:
    partnership = args.partnership.strip().upper() if args.partnership else None
    settings: PartnershipSettings | None = None
    if args.oversight:
        if partnership is None:
            raise CliError(
                "--oversight needs --partnership CODE: the threshold stage is the partnership's"
            )
        if not PARTNERSHIP_PATTERN.match(partnership):
            raise CliError(f"--partnership: not a partnership code: {partnership[:20]!r}")
        try:
            settings = profile_for(partnership)
        except ProfileError as err:
            raise CliError(f"--partnership: {err}") from None
    threshold = settings.escalation_policy.partnership_notified_from_stage if settings else None
    query = escalation_visibility_query(
        partnership=partnership, min_stage=threshold, include_closed=args.all
    )
    client = await _connect()
    rows: list[dict[str, Any]] = []
    try:
        async for execution in client.list_workflows(query, limit=args.limit):
            attrs = execution.typed_search_attributes
            rows.append(
                {
                    "escalation_ref": execution.id.removeprefix(ESCALATION_WORKFLOW_ID_PREFIX),
                    "workflow_id": execution.id,
                    "status": execution.status.name if execution.status else None,
                    "stage": attrs.get(sa.ESCALATION_STAGE),
                    "partnership": attrs.get(sa.PARTNERSHIP),
                    "started_at": execution.start_time.isoformat(),
                    "closed_at": execution.close_time.isoformat() if execution.close_time else None,
                }
            )
    except RPCError as err:
        if err.status is RPCStatusCode.INVALID_ARGUMENT:
            raise CliError(
                f"Temporal refused the search ({err.message}); are the search attributes "
                f"registered (EscalationStage, Partnership)?",
                code=1,
            ) from None
        raise
    rows.sort(key=lambda r: (-(r["stage"] or 0), r["started_at"], r["escalation_ref"]))
    if args.json:
        _print_json(rows)
        return 0
    if settings is not None:
        print(
            f"Escalations {settings.review_group} oversees: stage {threshold} and above "
            f"({settings.name})"
        )
    if not rows:
        print(
            "No escalations match."
            if args.all
            else "No open escalations match (--all includes resolved ones)."
        )
        return 0
    header = ["ESCALATION", "STAGE", "PARTNERSHIP", "RAISED"]
    if args.all:
        header.append("STATUS")
    table = [header]
    for r in rows:
        stage = r["stage"]
        row = [
            r["escalation_ref"],
            str(stage) if stage is not None else "-",
            r["partnership"] or "-",
            _moment(datetime.fromisoformat(r["started_at"])),
        ]
        if args.all:
            row.append((r["status"] or "-").lower())
        table.append(row)
    print("\n".join(_table(table, indent="")))
    suffix = "" if len(rows) < args.limit else f" (the first {args.limit}; see --limit)"
    print(f"{len(rows)} escalation{'s' if len(rows) != 1 else ''}{suffix}")
    return 0


async def cmd_escalation(args: argparse.Namespace, now: datetime) -> int:
    command = args.escalation_command
    if command == "raise":
        return await cmd_escalation_raise(args, now)
    if command in ("resolve", "escalate"):
        return await cmd_escalation_decide(args)
    if command == "status":
        return await cmd_escalation_status(args)
    return await cmd_escalation_list(args)


# ====================================================================== kinds


def kind_fields(kind: DecisionKind) -> list[dict[str, Any]]:
    model = DECISION_MODELS[kind]
    fields = []
    for name, field in model.model_fields.items():
        if name == "kind" or name in SET_BY_INTERFACE:
            continue
        required = field.is_required() and name != "decision_id"
        shape = shape_of(field)
        form = _item_form(shape.item) if shape.kind == "list_model" and shape.item else None
        description = field.description or ""
        if not description and shape.kind == "model" and shape.item and shape.item.__doc__:
            description = shape.item.__doc__.strip()
        if name == "by":
            description += " Defaults: $SRO_USER_NAME, $SRO_USER_ROLE, $SRO_USER_AGENCY."
        fields.append(
            {
                "name": name,
                "type": describe_type(field),
                "form": form,
                "required": required,
                "flags": flags_for(name, field),
                "description": description.strip(),
                "common": name in COMMON_FIELDS,
            }
        )
    return fields


def _kind(text: str) -> DecisionKind:
    try:
        return DecisionKind(text.strip().replace("-", "_"))
    except ValueError:
        known = ", ".join(k.value for k in DecisionKind)
        raise CliError(f"unknown decision kind {text[:40]!r}; one of {known}") from None


def cmd_kinds(args: argparse.Namespace) -> int:
    if args.kind is None:
        summary: list[dict[str, Any]] = [
            {
                "kind": kind.value,
                "model": DECISION_MODELS[kind].__name__,
                "required": [f["name"] for f in kind_fields(kind) if f["required"]],
                "optional": [
                    f["name"] for f in kind_fields(kind) if not f["required"] and not f["common"]
                ],
            }
            for kind in DecisionKind
        ]
        if args.json:
            _print_json(summary)
            return 0
        rows = [["KIND", "FIELDS (* required)"]]
        for entry in summary:
            specific = [f"{n}*" for n in entry["required"] if n not in COMMON_FIELDS]
            rows.append([entry["kind"], ", ".join(specific + entry["optional"]) or "-"])
        print("\n".join(_table(rows, indent="")))
        print()
        print(
            "Every kind also takes: decision_id (default: fresh), by* (--by-name --by-role "
            "--by-agency, or SRO_USER_NAME/ROLE/AGENCY), occurred_on, note."
        )
        print(horizon.describe())
        print(f"Details: {PROG} kinds KIND    Send: {PROG} decide CASE_REF KIND [flags]")
        return 0

    kind = _kind(args.kind)
    fields = kind_fields(kind)
    if args.json:
        _print_json(
            {
                "kind": kind.value,
                "model": DECISION_MODELS[kind].__name__,
                "fields": fields,
                "dates": horizon.describe(),
            }
        )
        return 0
    print(f"{kind.value} — {DECISION_MODELS[kind].__name__}")
    print(f"  {PROG} decide CASE_REF {kind.value} [flags]   (or --file decision.json)")
    print(f"  {horizon.describe()}")
    for f in sorted(fields, key=lambda f: bool(f["common"])):
        print()
        print(f"  {f['name']}" + ("  (required)" if f["required"] else ""))
        print(f"      type:  {f['type']}")
        if f["form"]:
            print(f"      one per flag as {f['form']} or a JSON object")
        print(f"      flags: {' / '.join(f['flags'])}")
        if f["description"]:
            print(f"      {f['description']}")
    return 0


# ====================================================================== plumbing


def normalise_case_ref(text: str) -> str:
    case_ref = text.strip().removeprefix(WORKFLOW_ID_PREFIX).upper()
    if not CASE_REF_PATTERN.match(case_ref):
        raise CliError(
            f"{text[:40]!r} is not a case reference (like LSCP-2026-1A2B3C); "
            f"`{PROG} list` shows them"
        )
    return case_ref


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


def _unreachable(err: BaseException) -> CliError:
    return CliError(
        f"cannot reach Temporal at {_target()}: {_reason(err)} — is `make run` running?", code=1
    )


_client_used = False


async def _connect() -> Client:
    global _client_used
    try:
        connect_config()
    except Exception as err:
        raise CliError(f"cannot read the Temporal connection settings: {err}", code=1) from None
    try:
        data_converter()
    except KeyError_ as err:
        raise CliError(f"cannot encrypt case data: {err}", code=1) from None
    _client_used = True
    try:
        return await connect()
    except Exception as err:
        raise _unreachable(err) from None


def _raise_for_case(err: RPCError, case_ref: str) -> NoReturn:
    if err.status is RPCStatusCode.NOT_FOUND:
        if "completed" in err.message.lower():
            raise CliError(f"case {case_ref} is closed; it takes no more decisions") from None
        raise CliError(f"no case {case_ref} (no workflow {workflow_id(case_ref)})") from None
    raise err


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "refer":
        return await cmd_refer(args, datetime.now(UTC))
    if args.command == "decide":
        return await cmd_decide(args)
    if args.command == "status":
        return await cmd_status(args)
    if args.command == "list":
        return await cmd_list(args)
    if args.command == "escalation":
        return await cmd_escalation(args, datetime.now(UTC))
    if args.command in ("register", "report"):
        from starter import register_cli

        return await register_cli.dispatch(args)
    return cmd_kinds(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code. With `argv` None (the `sro` script and
    `python -m starter`) the process ends here once Temporal was contacted: see `_hard_exit`."""
    private_files()  # the register and the reports `sro` writes hold case data
    code = run(argv)
    if argv is None and _client_used:
        _hard_exit(code)
    return code


def _hard_exit(code: int) -> NoReturn:
    """Leave without interpreter teardown. The Temporal client's Rust threads can abort CPython's
    finalisation of a short-lived process ("PyGILState_Release: thread state ... must be current
    when releasing", temporalio/sdk-python#300), turning a clean exit into SIGABRT."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return asyncio.run(_dispatch(args))
    except BrokenPipeError:
        # The reader went away (`sro status ... | head`): stop quietly, like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except CliError as err:
        print(f"error: {err.message}", file=sys.stderr)
        for line in err.details:
            print(f"  - {line}", file=sys.stderr)
        return err.code
    except RPCError as err:
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            print(f"error: {_unreachable(err).message}", file=sys.stderr)
            return 1
        print(f"error: Temporal refused the request: {err.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
