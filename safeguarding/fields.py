"""What kind of value a pydantic model field takes: the shape the command line's flags and the
console's forms are generated from. Plain typing and pydantic; no I/O."""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo


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
