"""`sro kinds [KIND]`: what each decision needs, from its pydantic model. Needs no Temporal."""

from __future__ import annotations

import argparse
from typing import Any

from safeguarding import horizon
from safeguarding.decisions import DECISION_MODELS, SET_BY_INTERFACE, DecisionBase
from safeguarding.fields import shape_of
from safeguarding.vocabulary import DecisionKind
from starter.common import PROG, CliError, print_json, table
from starter.flags import describe_type, flags_for, item_form

#: Fields every decision has; `sro kinds` lists them once.
COMMON_FIELDS = tuple(n for n in DecisionBase.model_fields if n not in SET_BY_INTERFACE)


async def dispatch(args: argparse.Namespace) -> int:
    return cmd_kinds(args)


def kind_fields(kind: DecisionKind) -> list[dict[str, Any]]:
    model = DECISION_MODELS[kind]
    fields = []
    for name, field in model.model_fields.items():
        if name == "kind" or name in SET_BY_INTERFACE:
            continue
        required = field.is_required() and name != "decision_id"
        shape = shape_of(field)
        form = item_form(shape.item) if shape.kind == "list_model" and shape.item else None
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
            print_json(summary)
            return 0
        rows = [["KIND", "FIELDS (* required)"]]
        for entry in summary:
            specific = [f"{n}*" for n in entry["required"] if n not in COMMON_FIELDS]
            rows.append([entry["kind"], ", ".join(specific + entry["optional"]) or "-"])
        print("\n".join(table(rows, indent="")))
        print()
        print(
            "Every kind also takes: decision_id (default: fresh), by* (--by-name --by-role "
            "--by-agency, or SRO_USER_NAME/ROLE/AGENCY), occurred_on, note; and attendees and "
            "agreed_by where the partnership's profile asks who attended or agreed."
        )
        print(horizon.describe())
        print(f"Details: {PROG} kinds KIND    Send: {PROG} decide CASE_REF KIND [flags]")
        return 0

    kind = _kind(args.kind)
    fields = kind_fields(kind)
    if args.json:
        print_json(
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
