"""Which fields of the domain's models may carry personal data (issue 14, DATA-PROTECTION.md).

One rule, applied to every field of the decisions, the referral and the case records, so a field
added later is classified without anyone editing this module:

- **Text is personal unless shown otherwise.** A field of free text (`str`, `list[str]`,
  `LongText`, `ShortText`...) may name the child or the family (notes, reasons, findings,
  evidence, action descriptions, advice, summaries): it is `PERSONAL`. The exceptions are text
  that people do not write: an identifier (a `str` with a `pattern` constraint, such as
  `Identifier`), a field marked in its annotation (`Annotated[str, Sensitive.system("why")]`),
  or one of the system-written fields listed in `_EXPLICIT` below.
- **Whole models** that describe the child (`Child`) are personal in every field, dates and
  flags included; so are the referral's facts about the incident that `_EXPLICIT` names.
- **A professional's name** (who decided, who attended, the lead reviewer) is `PROFESSIONAL`:
  personal data of a professional acting in their role, shown beside what they did
  (accountability), but never the child's.
- Everything else (dates, enums, numbers, flags) is `NONE`.

A nested model field takes the most sensitive class among its model's fields, so `by: Person` is
`PROFESSIONAL` and `children: list[Child]` is `PERSONAL`.

The interfaces show `PERSONAL` fields only to people whose role needs them (the console's
`permissions.sees_personal_data`, the rule the referral's personal fields already follow). No I/O
here: plain typing and pydantic.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from safeguarding import case_records, case_views, decisions, escalation, people, referral
from safeguarding.case_records import HistoryEntry, HistoryKind

# Defined with the case's views (light, for `sro status`); named here too.
from safeguarding.case_views import HIDDEN as HIDDEN
from safeguarding.case_views import PERSONAL_HISTORY_KINDS as PERSONAL_HISTORY_KINDS
from safeguarding.decisions import DECISION_MODELS
from safeguarding.vocabulary import DecisionKind


class Sensitivity(IntEnum):
    """How sensitive a field is, least first (a nested model takes its most sensitive field)."""

    NONE = 0
    PROFESSIONAL = 1
    PERSONAL = 2


@dataclass(frozen=True)
class Sensitive:
    """A field's class, given in its annotation: `Annotated[str, Sensitive.system("why")]`."""

    sensitivity: Sensitivity
    why: str

    @classmethod
    def system(cls, why: str) -> Sensitive:
        """Text the system writes (titles, labels, codes): never a person's words."""
        return cls(Sensitivity.NONE, why)

    @classmethod
    def professional(cls, why: str) -> Sensitive:
        return cls(Sensitivity.PROFESSIONAL, why)

    @classmethod
    def personal(cls, why: str) -> Sensitive:
        return cls(Sensitivity.PERSONAL, why)


_SYSTEM = Sensitivity.NONE
_PRO = Sensitivity.PROFESSIONAL
_PERSONAL = Sensitivity.PERSONAL

#: Fields whose class is not what the rule would give them, with why: (model name, field).
#: Keyed by name, not class, so that a model defined later in a module is listed the same way.
_EXPLICIT: dict[tuple[str, str], tuple[Sensitivity, str]] = {
    # Who did what: professionals, shown with their decisions.
    ("Person", "name"): (_PRO, "a professional's name, recorded with what they decided"),
    ("CsprMilestone", "lead_reviewer"): (_PRO, "the independent lead reviewer's name"),
    ("CsprRecord", "lead_reviewer"): (_PRO, "the independent lead reviewer's name"),
    ("CaseStatus", "lead_reviewer"): (_PRO, "the independent lead reviewer's name"),
    ("DeadlineExtended", "agreed_with"): (_PRO, "who agreed an extension, e.g. the Panel"),
    # References and places that are not about the child.
    ("NotificationSubmitted", "reference"): (_SYSTEM, "the National Panel's reference number"),
    ("Published", "location"): (_SYSTEM, "where the published (anonymised) report is"),
    ("CsprRecord", "published_at_location"): (_SYSTEM, "where the published report is"),
    # The referral: who referred is personal (README: shown only to roles that need it), as are
    # the incident's facts beside the child's details.
    ("Referrer", "name"): (_PERSONAL, "the referrer is named only to those who see the case"),
    ("Referral", "incident_on"): (_PERSONAL, "the incident's date identifies the child"),
    ("Referral", "abuse_or_neglect_suspected"): (_PERSONAL, "special-category: suspected abuse"),
    ("Referral", "partnership"): (_SYSTEM, "a partnership code"),
    # What the case writes itself (codes, titles, labels), never a person's words.
    ("HistoryEntry", "decision_id"): (_SYSTEM, "an identifier"),
    ("HistoryEntry", "decision_kind"): (_SYSTEM, "a decision kind's code"),
    ("HistoryEntry", "deadline_id"): (_SYSTEM, "a deadline id"),
    ("Action", "action_id"): (_SYSTEM, "an identifier"),
    ("Action", "monitored_by"): (_SYSTEM, "the group monitoring the plan, from the profile"),
    ("CaseOfConcernRecord", "shared_with"): (_SYSTEM, "names of partnership groups"),
    ("DecisionResult", "decision_id"): (_SYSTEM, "an identifier"),
    ("DecisionResult", "message"): (_SYSTEM, "the system's answer: kind and stage"),
    ("DeadlineView", "deadline_id"): (_SYSTEM, "a deadline id"),
    ("DeadlineView", "title"): (_SYSTEM, "a deadline's title, from the rules"),
    ("DeadlineView", "owner"): (_SYSTEM, "a role or agency"),
    ("DeadlineView", "basis"): (_SYSTEM, "the rule the deadline counts by"),
    ("Task", "task"): (_SYSTEM, "a stage's task, from the rules"),
    ("Task", "owed_by"): (_SYSTEM, "a role or agency"),
    ("CaseStatus", "case_ref"): (_SYSTEM, "a random reference"),
    ("CaseStatus", "partnership"): (_SYSTEM, "a partnership code"),
    ("CaseStatus", "partnership_name"): (_SYSTEM, "the partnership's name"),
    ("CaseStatus", "stage_label"): (_SYSTEM, "a stage's label"),
    ("CaseStatus", "notification_reference"): (_SYSTEM, "the National Panel's reference"),
    ("Effects", "deadline_requests"): (_SYSTEM, "deadlines the rules open: titles and owners"),
    ("Effects", "notices"): (_SYSTEM, "email notices carry no child data (README)"),
    # Professional disagreements (safeguarding/escalation.py): the concern, the reasons, the
    # resolution and the history that quotes them are personal; the policy's words are not.
    ("Escalation", "escalation_ref"): (_SYSTEM, "a random reference"),
    ("Escalation", "settings"): (_SYSTEM, "the partnership's profile"),
    ("Escalation", "stages"): (_SYSTEM, "the policy's stages, with times"),
    ("Escalation", "applied"): (_SYSTEM, "decision ids and their actions"),
    ("EscalationEvent", "decision_id"): (_SYSTEM, "an identifier"),
    ("EscalationStatus", "escalation_ref"): (_SYSTEM, "a random reference"),
    ("EscalationStatus", "partnership"): (_SYSTEM, "a partnership code"),
    ("EscalationStatus", "partnership_name"): (_SYSTEM, "the partnership's name"),
    ("EscalationStatus", "stage_name"): (_SYSTEM, "the policy's name for the stage"),
    ("EscalationStatus", "who"): (_SYSTEM, "the policy's role for the stage"),
    ("EscalationStatus", "linked_case_ref"): (_SYSTEM, "a random reference"),
    ("EscalationStatus", "overseen_by"): (_SYSTEM, "a partnership group, from the profile"),
    ("EscalationStatus", "stages"): (_SYSTEM, "the policy's stages, with times"),
    ("StageRecord", "name"): (_SYSTEM, "the policy's name for the stage"),
    ("StageRecord", "who"): (_SYSTEM, "the policy's role for the stage"),
}
#: Models every field of which is personal, whatever its type.
PERSONAL_MODELS = frozenset({"Child"})

#: The models classified here: every decision kind's, the referral's and the case records'.
MODULES = (decisions, people, referral, case_records, case_views, escalation)


def _strip(annotation: Any) -> Any:
    """The annotation without `Annotated[...]` and `| None`."""
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


def _marker(metadata: list[Any]) -> Sensitive | None:
    return next((m for m in metadata if isinstance(m, Sensitive)), None)


def _has_pattern(metadata: list[Any]) -> bool:
    return any(getattr(m, "pattern", None) for m in metadata)


def _of_type(annotation: Any, metadata: list[Any], seen: frozenset[type]) -> Sensitivity:
    """The class a value of this type has by the rule (no explicit entry applies)."""
    base = _strip(annotation)
    if base is str:
        return Sensitivity.NONE if _has_pattern(metadata) else Sensitivity.PERSONAL
    if isinstance(base, type) and issubclass(base, BaseModel):
        return model_sensitivity(base) if base not in seen else Sensitivity.NONE
    args = get_args(base)
    if get_origin(base) in (list, tuple, set, frozenset, dict) and args:
        inner = [a for a in args if a is not Ellipsis]
        # A dict's keys are codes (kinds, agencies): only its values may carry words.
        if get_origin(base) is dict:
            inner = inner[1:]
        return max((_of_type(a, _meta(a), seen) for a in inner), default=Sensitivity.NONE)
    return Sensitivity.NONE


def _meta(annotation: Any) -> list[Any]:
    """Constraints inside an `Annotated[...]` element type (a list's item, say)."""
    annotation = _strip_optional(annotation)
    if get_origin(annotation) is Annotated:
        found: list[Any] = []
        for extra in get_args(annotation)[1:]:
            found.append(extra)
            found.extend(getattr(extra, "metadata", []))
        return found
    return []


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def field_sensitivity(model: type[BaseModel], name: str) -> Sensitivity:
    """The class of `model`'s field `name`: its marker, else the explicit table (looked up along
    the model's bases), else the rule."""
    if any(cls.__name__ in PERSONAL_MODELS for cls in model.__mro__):
        return Sensitivity.PERSONAL
    field = model.model_fields[name]
    marker = _marker(field.metadata)
    if marker is not None:
        return marker.sensitivity
    for cls in model.__mro__:
        explicit = _EXPLICIT.get((cls.__name__, name))
        if explicit is not None:
            return explicit[0]
    return _of_type(field.annotation, list(field.metadata), frozenset({model}))


@cache
def model_sensitivity(model: type[BaseModel]) -> Sensitivity:
    """The most sensitive class among a model's fields."""
    return max(
        (field_sensitivity(model, name) for name in model.model_fields), default=Sensitivity.NONE
    )


@cache
def personal_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` that are, or contain, personal data."""
    return frozenset(
        name
        for name in model.model_fields
        if field_sensitivity(model, name) is Sensitivity.PERSONAL
    )


def classified_models() -> list[type[BaseModel]]:
    """Every model this module classifies: each decision kind's model and every pydantic model
    defined in the decisions, referral and case-record modules (with the models of those modules
    they nest)."""
    found: dict[str, type[BaseModel]] = {}
    modules = {m.__name__ for m in MODULES}
    pending: list[type[BaseModel]] = list(DECISION_MODELS.values())
    for module in MODULES:
        pending.extend(
            v
            for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == module.__name__
        )
    while pending:
        model = pending.pop()
        key = f"{model.__module__}.{model.__qualname__}"
        if key in found:
            continue
        found[key] = model
        for field in model.model_fields.values():
            pending.extend(m for m in _models_in(field.annotation) if m.__module__ in modules)
    return sorted(found.values(), key=lambda m: (m.__module__, m.__qualname__))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def explicit_entries() -> dict[tuple[str, str], tuple[Sensitivity, str]]:
    """The explicit table (for the test that every entry names a field that exists)."""
    return dict(_EXPLICIT)


def decision_has_personal_data(kind: DecisionKind | str) -> bool:
    """May a decision of this kind carry personal data (every kind has a note: yes, so far)?"""
    try:
        model = DECISION_MODELS[DecisionKind(kind)]
    except ValueError:
        return True  # a kind this version does not know: assume the worst
    return bool(personal_fields(model))


def history_text_is_personal(entry: HistoryEntry) -> bool:
    """May this history entry's text (or its `why`) quote people's words?"""
    if entry.kind is HistoryKind.DECISION and entry.decision_kind is not None:
        return decision_has_personal_data(entry.decision_kind)
    return entry.kind in PERSONAL_HISTORY_KINDS
