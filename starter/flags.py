"""Flags generated from the pydantic models: one or more per field, as `sro kinds` shows them.

A new decision field gets its flags, its help and its `sro kinds` line from its model; the
field's shape (`safeguarding.fields.shape_of`) says which kind of flag.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from safeguarding.decisions import SET_BY_INTERFACE, DecisionBase, validation_problems
from safeguarding.fields import shape_of
from starter.common import USER_ENV, iso_date


def _max_length(field: FieldInfo) -> int | None:
    for meta in field.metadata:
        limit = getattr(meta, "max_length", None)
        if isinstance(limit, int):
            return limit
    return None


def item_form(model: type[BaseModel]) -> str:
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
        return "date YYYY-MM-DD (or today, today+N, today-N)"
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


def flag(name: str) -> str:
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
        return [flag(f"{name}_{sub}") for sub in shape.item.model_fields]
    if shape.kind == "bool":
        return [flag(name), flag(f"no_{name}")]
    if shape.kind in ("list_choice", "list_model") and _singular(name) != name:
        return [flag(_singular(name)), flag(name)]
    return [flag(name)]


# ====================================================================== value parsers


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

    convert.__name__ = item_form(model)  # argparse names the type in its error messages
    return convert


# ====================================================================== adding flags


def add_field_flags(parser: argparse.ArgumentParser, model: type[DecisionBase]) -> None:
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
                parser.add_argument(flag(f"{name}_{sub}"), dest=f"{name}__{sub}", **kwargs)
        elif shape.kind == "bool":
            parser.add_argument(
                flag(name), dest=name, action=argparse.BooleanOptionalAction, **common
            )
        elif shape.kind == "choice":
            parser.add_argument(flag(name), dest=name, choices=shape.choices, **common)
        elif shape.kind == "date":
            parser.add_argument(flag(name), dest=name, type=iso_date, metavar="DATE", **common)
        elif shape.kind == "int":
            parser.add_argument(flag(name), dest=name, type=int, **common)
        elif shape.kind == "text":
            parser.add_argument(flag(name), dest=name, metavar="TEXT", **common)
        elif shape.kind == "list_choice":
            common["help"] = f"{note} (repeat the flag for more)".strip()
            parser.add_argument(
                *flags_for(name, field), dest=name, action="append", choices=shape.choices, **common
            )
        else:  # list_model
            assert shape.item is not None
            form = item_form(shape.item)
            common["help"] = (
                f"{note} one per flag as {form} or a JSON object; "
                f"{flag(name)} also takes a JSON list (repeat for more)"
            ).strip()
            parser.add_argument(
                *flags_for(name, field),
                dest=name,
                action="extend",
                type=_item_parser(shape.item),
                metavar=form,
                **common,
            )


def problems(err: Exception, prefix: str) -> list[str]:
    """One line per field problem: from the pydantic error when there is one."""
    cause = err.__cause__
    if isinstance(cause, ValidationError):
        return validation_problems(cause, prefix)
    return [str(err).removeprefix(f"{prefix} refused: ")]
