"""HTML forms generated from the pydantic models, and form data turned back into them.

Decision forms come from `DECISION_MODELS`: a label and help text per field (from the Field
descriptions), selects for options, date inputs, yes/no radios for required booleans, checkboxes,
people as "Name, role, agency" lines, information requests as agency + date rows. The referral
form is declared here too. Parsing returns the raw dict the models validate and, per field, the
problems to show next to it. The person deciding is never read from a form.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol, get_args

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from console import attendees, dates
from console.labels import (
    DECISION_HELP,
    DECISION_TITLES,
    FIELD_LABELS,
    PEOPLE_HELP,
    agency_choices,
    humanise,
    option_label,
    plain,
)
from console.permissions import OPEN_STATES
from safeguarding.case import CaseStatus
from safeguarding.decisions import (
    DECISION_ADAPTER,
    DECISION_MODELS,
    MAX_DECISION_BYTES,
    DecisionBase,
    InformationRequest,
    Person,
)
from safeguarding.fields import shape_of
from safeguarding.ids import DeadlineId
from safeguarding.referral import (
    MAX_CHILDREN,
    Child,
    Referral,
    Referrer,
    received_problem,
    referral_problems,
)
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import ActionStatus, Agency, DecisionKind, HarmLocation, Role

Widget = Literal[
    "text", "textarea", "date", "number", "select", "yesno", "checkbox", "checkboxes",
    "people", "requests", "hidden",
]  # fmt: skip

#: Rows offered for information requests (one per agency at most).
REQUEST_ROWS = 6
KIND_VALUES = frozenset(k.value for k in DecisionKind)
_FIELD_WORD = re.compile(r"^([a-z_]+)\b")
_DECISION_ID = re.compile(r"console-[0-9a-f]{24}")


class FormInput(Protocol):
    """Starlette's FormData (or anything with the same two methods)."""

    def get(self, key: str, /) -> Any: ...

    def getlist(self, key: Any) -> list[Any]: ...


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    widget: Widget
    required: bool = False
    help: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None
    #: Where the value goes in the model's raw dict ("referrer.name", "children.0.name").
    path: tuple[str | int, ...] = ()
    #: For a select: convert yes/no/"" to True/False/None.
    tristate: bool = False
    #: The value the form starts with (the model's default).
    default: str | None = None

    @property
    def key(self) -> tuple[str | int, ...]:
        return self.path or (self.name,)


@dataclass
class FormState:
    """What the user typed (to show again) and what is wrong with it."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        if name in self.errors:
            if message not in self.errors[name]:
                self.errors[name] += f" {message}"
        else:
            self.errors[name] = message

    @property
    def ok(self) -> bool:
        return not self.errors and not self.general


# ============================================================================ decision forms


@dataclass(frozen=True)
class DecisionForm:
    kind: DecisionKind
    title: str
    help: str | None
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def _max_length(info: FieldInfo) -> int | None:
    for meta in info.metadata:
        limit = getattr(meta, "max_length", None)
        if isinstance(limit, int):
            return limit
    return None


def _enum_choices(info: FieldInfo) -> tuple[tuple[str, str], ...]:
    shape = shape_of(info)
    return tuple((c, _choice_label(c)) for c in shape.choices)


def _choice_label(value: str) -> str:
    try:
        return Agency(value).label
    except ValueError:
        return option_label(value)


def _spec_for(name: str, info: FieldInfo, required: bool | None = None) -> FieldSpec | None:
    shape = shape_of(info)
    needed = info.is_required() if required is None else required
    label = FIELD_LABELS.get(name, humanise(name))
    help_text = info.description
    if shape.kind == "text":
        limit = _max_length(info)
        widget: Widget = "textarea" if (limit or 0) > 200 else "text"
        if name.endswith("_id") and help_text:
            help_text = f"{humanise(help_text)}."
        return FieldSpec(name, label, widget, needed, _sentence(help_text), max_length=limit)
    if shape.kind == "int":
        return FieldSpec(name, label, "number", needed, _sentence(help_text))
    if shape.kind == "date":
        return FieldSpec(name, label, "date", needed, _sentence(help_text))
    if shape.kind == "bool":
        widget = "yesno" if info.is_required() else "checkbox"
        return FieldSpec(name, label, widget, needed and widget == "yesno", _sentence(help_text))
    if shape.kind == "choice":
        default = info.default if isinstance(info.default, str) else None
        return FieldSpec(
            name,
            label,
            "select",
            needed,
            _sentence(help_text),
            _enum_choices(info),
            default=default,
        )
    if shape.kind == "list_choice":
        choices = tuple((c, _choice_label(c)) for c in shape.choices)
        return FieldSpec(name, label, "checkboxes", needed, _sentence(help_text), choices)
    if shape.kind == "list_model" and shape.item is Person:
        return FieldSpec(name, label, "people", needed, _sentence(help_text) or PEOPLE_HELP)
    if shape.kind == "list_model" and shape.item is InformationRequest:
        return FieldSpec(name, label, "requests", needed, _sentence(help_text), agency_choices())
    return None  # `by` and anything else the form never takes


def _sentence(text: str | None) -> str | None:
    if not text:
        return None
    text = plain(text)
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def decision_form(
    kind: DecisionKind,
    settings: PartnershipSettings,
    status: CaseStatus | None = None,
    *,
    may_close_actions: bool = False,
) -> DecisionForm:
    """The form for one decision kind, narrowed to what this case and partnership offer."""
    model: type[DecisionBase] = DECISION_MODELS[kind]
    common = set(DecisionBase.model_fields)
    specific = [n for n in model.model_fields if n not in common and n != "kind"]
    order = [*specific, "attendees", "agreed_by", "occurred_on", "note"]
    fields: list[FieldSpec] = []
    for name in order:
        info = model.model_fields[name]
        if name == "lead_reviewer" and kind is not DecisionKind.LEAD_REVIEWER_APPOINTED:
            continue
        required: bool | None = None
        if name == "lead_reviewer":
            required = True
        if name == "attendees":
            meeting = kind is DecisionKind.RAPID_REVIEW_DECISION or settings.needs_meeting(kind)
            if not meeting and not settings.takes_attendees(kind):
                continue
            required = kind is DecisionKind.RAPID_REVIEW_DECISION or settings.quorum_applies(kind)
        if name == "agreed_by" and not settings.takes_agreement(kind):
            continue
        spec = _spec_for(name, info, required)
        if spec is None:
            continue
        who = settings.participation(kind)
        if name == "attendees" and settings.quorum_applies(kind) and who == _quorum_only(settings):
            quorum = ", ".join(a.label for a in settings.quorum)
            spec = _with(spec, help=f"{PEOPLE_HELP} The quorum is {quorum}.")
        elif name in ("attendees", "agreed_by") and who:
            spec = _with(spec, help=f"{PEOPLE_HELP} {_sentence(who)}")
        elif name == "attendees":
            spec = _with(spec, help=PEOPLE_HELP)
        spec = _narrow(kind, spec, settings, status, may_close_actions)
        fields.append(spec)
    fields.append(FieldSpec("decision_id", "Decision id", "hidden"))
    return DecisionForm(kind, DECISION_TITLES[kind], DECISION_HELP.get(kind), tuple(fields))


def _quorum_only(settings: PartnershipSettings) -> str:
    return "quorum: " + ", ".join(a.label for a in settings.quorum)


def _with(spec: FieldSpec, **changes: Any) -> FieldSpec:
    values = {**spec.__dict__, **changes}
    return FieldSpec(**values)


def _narrow(
    kind: DecisionKind,
    spec: FieldSpec,
    settings: PartnershipSettings,
    status: CaseStatus | None,
    may_close_actions: bool,
) -> FieldSpec:
    """Offer only the options this partnership and this case have (the workflow still checks)."""
    if kind is DecisionKind.TRIAGE and spec.name == "outcome":
        return _with(spec, choices=tuple((r.value, option_label(r)) for r in settings.routes))
    if kind is DecisionKind.TRIAGE and spec.name == "review_type":
        offered = settings.other_review_types
        return _with(spec, choices=tuple((t.value, option_label(t)) for t in offered))
    if status is None:
        return spec
    if spec.name == "deadline_id":
        open_deadlines = [d for d in status.deadlines if d.state in OPEN_STATES]
        choices = tuple(
            (d.deadline_id, f"{d.title} (due {dates.words(d.due_on)})") for d in open_deadlines
        )
        return _with(spec, widget="select", choices=choices, help=None)
    if kind is DecisionKind.ACTION_UPDATED and spec.name == "action_id":
        unfinished = [a for a in status.actions if not ActionStatus(a.status).finished]
        # Named by id, agency and due date: the description may name the child or family
        # (safeguarding/personal.py), and forms are offered without asking who may see it.
        choices = tuple(
            (a.action_id, f"{a.action_id} ({a.lead_agency.label}, due {dates.words(a.due_on)})")
            for a in unfinished
        )
        return _with(spec, widget="select", choices=choices, help=None)
    if kind is DecisionKind.ACTION_UPDATED and spec.name == "status" and not may_close_actions:
        closing = ActionStatus.CLOSED_BY_REVIEW_GROUP.value
        return _with(spec, choices=tuple(c for c in spec.choices if c[0] != closing))
    if kind is DecisionKind.INFORMATION_RETURNED and spec.name == "agency":
        waiting = [
            agency
            for d in status.deadlines
            if (agency := DeadlineId.information_agency(d.deadline_id)) and d.state in OPEN_STATES
        ]
        if waiting:
            return _with(spec, choices=tuple(c for c in spec.choices if c[0] in waiting))
    return spec


def new_decision_id() -> str:
    return f"console-{secrets.token_hex(12)}"


def is_decision_id(text: str) -> bool:
    """One `new_decision_id` made (anything else in the form is replaced, never trusted)."""
    return _DECISION_ID.fullmatch(text) is not None


def initial_values(form: DecisionForm, prefill: dict[str, str] | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"decision_id": new_decision_id()}
    for spec in form.fields:
        if spec.default is not None:
            values[spec.name] = spec.default
        if spec.name in (prefill or {}) and spec.widget in ("text", "select", "date"):
            values[spec.name] = (prefill or {})[spec.name]
    return values


def parse_decision_form(
    form: DecisionForm, data: FormInput, person: Person
) -> tuple[dict[str, Any] | None, FormState]:
    """The decision as the workflow wants it (None while anything is wrong) and the state to
    show again. `person` comes from the signed-in user, never from the form."""
    state = FormState()
    raw: dict[str, Any] = {"kind": form.kind.value}
    for spec in form.fields:
        _read(spec, data, raw, state)
    decision_id = str(raw.get("decision_id") or "")
    if not is_decision_id(decision_id):
        raw["decision_id"] = state.values["decision_id"] = new_decision_id()
    raw["by"] = person.model_dump(mode="json")
    raw["via"] = "console"  # the case history records where it came from
    if state.errors:
        return None, state
    try:
        decision = DECISION_ADAPTER.validate_python(raw)
    except ValidationError as err:
        _attach(err, state, [f.name for f in form.fields], _decision_where)
        return None, state
    body = decision.model_dump(mode="json", exclude_none=True)
    if len(str(body).encode()) > MAX_DECISION_BYTES:
        state.general.append(f"The decision is larger than {MAX_DECISION_BYTES // 1024} KiB.")
        return None, state
    return body, state


def _decision_where(loc: list[str | int]) -> tuple[str, str]:
    top = str(loc[0])
    rest = loc[1:]
    if top == "attendees" and rest:
        return top, f"Person {int(rest[0]) + 1}" + (f", {rest[1]}" if len(rest) > 1 else "") + ": "
    if top == "requests" and rest:
        return top, f"Row {int(rest[0]) + 1}" + (f", {rest[1]}" if len(rest) > 1 else "") + ": "
    return top, ""


# ============================================================================ reading fields


def _read(spec: FieldSpec, data: FormInput, raw: dict[str, Any], state: FormState) -> None:
    name = spec.name
    if spec.widget == "checkboxes":
        picked = [str(v) for v in data.getlist(name) if str(v)]
        state.values[name] = picked
        allowed = {c[0] for c in spec.choices}
        if any(p not in allowed for p in picked):
            state.add(name, "Choose from the options given.")
        _put(raw, spec.key, picked)
        return
    if spec.widget == "checkbox":
        checked = data.get(name) is not None
        state.values[name] = checked
        _put(raw, spec.key, checked)
        return
    if spec.widget == "requests":
        _read_requests(spec, data, raw, state)
        return
    if spec.widget == "people":
        _read_attendees(spec, data, raw, state)
        return
    text = str(data.get(name) or "").strip()
    state.values[name] = text
    if not text:
        return
    if spec.widget == "yesno":
        if text not in ("yes", "no"):
            state.add(name, "Choose yes or no.")
            return
        _put(raw, spec.key, text == "yes")
    elif spec.widget == "select" and spec.tristate:
        if text not in ("yes", "no"):
            state.add(name, "Choose from the options given.")
            return
        _put(raw, spec.key, text == "yes")
    elif spec.widget == "select":
        if spec.choices and text not in {c[0] for c in spec.choices}:
            state.add(name, "Choose from the options given.")
            return
        _put(raw, spec.key, text)
    elif spec.widget == "number":
        try:
            _put(raw, spec.key, int(text))
        except ValueError:
            state.add(name, "Enter a whole number.")
    elif spec.widget == "date":
        try:
            _put(raw, spec.key, dates.parse_day(text).isoformat())
        except dates.BadDate as err:
            state.add(name, str(err))
    else:
        _put(raw, spec.key, text)


def _put(raw: dict[str, Any], key: tuple[str | int, ...], value: Any) -> None:
    target: Any = raw
    for step, following in itertools.pairwise(key):
        if isinstance(step, int):
            while len(target) <= step:
                target.append({})
            target = target[step]
        else:
            target = target.setdefault(step, [] if isinstance(following, int) else {})
    last = key[-1]
    if isinstance(last, int):  # pragma: no cover - keys never end on an index
        raise ValueError(key)
    target[last] = value


def _norm(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _lookup(text: str, options: dict[str, str]) -> str | None:
    return options.get(_norm(text))


_ROLES = {_norm(r.value): r.value for r in Role}
_AGENCIES: dict[str, str] = {}
for _agency in Agency:
    _AGENCIES[_norm(_agency.value)] = _agency.value
    _AGENCIES[_norm(_agency.label)] = _agency.value
    _AGENCIES[_norm(re.sub(r"\(.*?\)", "", _agency.label))] = _agency.value
_AGENCIES.update({"csc": "childrens_social_care", "socialcare": "childrens_social_care"})


def _read_attendees(
    spec: FieldSpec, data: FormInput, raw: dict[str, Any], state: FormState
) -> None:
    """The people chosen in the rows (issue 15), then those written as lines."""
    rows, shown, problems = attendees.read_rows(data, spec.name)
    text = str(data.get(spec.name) or "").strip()
    state.values[spec.name] = text
    state.values[f"{spec.name}-rows"] = shown
    for problem in problems:
        state.add(spec.name, problem)
    lines = _read_people(text, spec.name, state) if text else []
    if (rows or text) and lines is not None and not problems:
        _put(raw, spec.key, rows + lines)


def _read_people(text: str, name: str, state: FormState) -> list[dict[str, str]] | None:
    people = []
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) != 3 or not all(parts):
            problems.append(f"Line {number}: write Name, role, agency.")
            continue
        person_name, role_text, agency_text = parts
        role = _lookup(role_text, _ROLES)
        agency = _lookup(agency_text, _AGENCIES)
        if role is None:
            problems.append(f"Line {number}: {role_text!r} is not a role.")
        if agency is None:
            problems.append(f"Line {number}: {agency_text!r} is not an agency.")
        if role and agency:
            people.append({"name": person_name, "role": role, "agency": agency})
    if problems:
        state.add(name, " ".join(problems))
        return None
    return people


def _read_requests(spec: FieldSpec, data: FormInput, raw: dict[str, Any], state: FormState) -> None:
    rows = []
    shown = []
    agencies = {c[0] for c in spec.choices}
    for i in range(REQUEST_ROWS):
        agency = str(data.get(f"{spec.name}-{i}-agency") or "").strip()
        due_on = str(data.get(f"{spec.name}-{i}-due_on") or "").strip()
        shown.append((agency, due_on))
        if not agency and not due_on:
            continue
        if not agency:
            state.add(spec.name, f"Row {i + 1}: choose the agency.")
            continue
        if agency not in agencies:
            state.add(spec.name, f"Row {i + 1}: choose an agency from the list.")
            continue
        if due_on:
            try:
                due_on = dates.parse_day(due_on).isoformat()
            except dates.BadDate as err:
                state.add(spec.name, f"Row {i + 1}: {err}")
                continue
        rows.append({"agency": agency, **({"due_on": due_on} if due_on else {})})
    state.values[spec.name] = shown
    raw[spec.name] = rows


# ============================================================================ errors


def friendly(problem: dict[str, Any]) -> str:
    kind = problem.get("type", "")
    message = str(problem.get("msg", "")).removeprefix("Value error, ")
    if kind == "missing":
        return "Required."
    if kind.startswith("date") or kind == "datetime_parsing":
        return f"Enter a real date. {dates.HINT}"
    if kind == "too_short" and "List" in message:
        return "Give at least one."
    if kind == "string_too_short":
        return "Required."
    if kind == "string_pattern_mismatch":
        return "Use letters, digits and . _ : - only (no spaces), starting with a letter or digit."
    if kind in ("enum", "literal_error"):
        return "Choose from the options given."
    if kind in ("int_parsing", "int_from_float"):
        return "Enter a whole number."
    if kind == "bool_parsing":
        return "Choose yes or no."
    message = plain(message)
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _attach(
    err: ValidationError,
    state: FormState,
    names: list[str],
    where: Any,
) -> None:
    """Put each problem next to its field; a problem of the whole form goes on top, or next to
    the field its message starts with ("review_type is required when ...")."""
    for problem in err.errors():
        loc = [p for p in problem["loc"] if str(p) not in KIND_VALUES]
        message = friendly(dict(problem))
        if not loc:
            raw = str(problem.get("msg", "")).removeprefix("Value error, ")
            found = _FIELD_WORD.match(raw)
            word = found.group(1) if found else ""
            if word in names:
                state.add(word, message)
            else:
                state.general.append(message)
            continue
        name, prefix = where(loc)
        if name == "by":
            state.general.append(
                "Your user record cannot make decisions (role or agency): ask an administrator."
            )
        elif name in names:
            state.add(name, prefix + message)
        else:
            state.general.append(f"{'.'.join(str(p) for p in loc)}: {message}")


# ============================================================================ the referral form


HARM_CHOICES: tuple[tuple[str, str], ...] = (
    ("death", "Death"),
    ("serious_harm", "Serious harm"),
    ("other", "Other"),
)
SEX_CHOICES = tuple((v, humanise(v)) for v in get_args(Child.model_fields["sex"].annotation))
YES_NO_UNKNOWN = (("yes", "Yes"), ("no", "No"))


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[FieldSpec, ...]
    #: An optional section (a sibling) starts folded unless it has values or errors.
    optional: bool = False
    name: str = ""


def _help(model: type[BaseModel], name: str) -> str | None:
    return _sentence(model.model_fields[name].description)


def child_section(i: int) -> Section:
    p = f"children-{i}-"

    def spec(name: str, label: str, widget: Widget, **kw: Any) -> FieldSpec:
        return FieldSpec(f"{p}{name}", label, widget, path=("children", i, name), **kw)

    return Section(
        f"Child {i + 1}" if i == 0 else f"Child {i + 1} (a sibling in the same incident)",
        (
            spec("name", "Name or initials", "text", required=True, help=_help(Child, "name")),
            spec("date_of_birth", "Date of birth", "date"),
            spec(
                "age_years", "Age in years", "number", help="0 to 17; 18 to 24 for a care leaver."
            ),
            spec("sex", "Sex", "select", choices=SEX_CHOICES),
            spec("ethnicity", "Ethnicity", "text"),
            spec("disability", "Disability", "select", choices=YES_NO_UNKNOWN, tristate=True),
            spec("looked_after", "Looked after", "checkbox"),
            spec("child_protection_plan", "On a child protection plan", "checkbox"),
            spec("care_leaver", "A care leaver aged 18 to 24", "checkbox"),
        ),
        optional=i > 0,
        name=f"children-{i}",
    )


def referral_sections(partnerships: list[tuple[str, str]]) -> tuple[Section, ...]:
    return (
        Section("The referral", _referral_fields(partnerships)),
        Section("Referrer", _referrer_fields()),
        *(child_section(i) for i in range(MAX_CHILDREN)),
        Section(
            "Agencies involved with the family",
            (
                FieldSpec(
                    "agencies_involved", "Agencies involved", "checkboxes", choices=agency_choices()
                ),
            ),
        ),
    )


def _referral_fields(partnerships: list[tuple[str, str]]) -> tuple[FieldSpec, ...]:
    r = Referral.model_fields
    late_help = (
        f"{_help(Referral, 'late_reason')} Only when the partnership has a time limit after "
        "the incident and it has passed."
    )
    return (
        FieldSpec("partnership", "Partnership", "select", True, choices=tuple(partnerships)),
        FieldSpec("received_on", "Received on", "date", True, _help(Referral, "received_on")),
        FieldSpec("incident_on", "Date of the incident", "date"),
        FieldSpec(
            "la_aware_on",
            "Local authority aware on",
            "date",
            False,
            _help(Referral, "la_aware_on"),
        ),
        FieldSpec("harm", "Harm", "select", True, choices=HARM_CHOICES),
        FieldSpec(
            "abuse_or_neglect_suspected",
            "Is abuse or neglect known or suspected?",
            "yesno",
            True,
        ),
        FieldSpec(
            "where_harmed",
            "Where the child died or was harmed",
            "select",
            False,
            "Not given: in the local authority's area. A child normally resident here and "
            "harmed outside England is notified here too.",
            choices=tuple((h.value, h.label[:1].upper() + h.label[1:]) for h in HarmLocation),
        ),
        FieldSpec(
            "summary",
            "Summary",
            "textarea",
            True,
            _help(Referral, "summary"),
            max_length=_max_length(r["summary"]),
        ),
        FieldSpec(
            "late_reason",
            "Reason the referral is late",
            "textarea",
            False,
            late_help,
            max_length=_max_length(r["late_reason"]),
        ),
    )


def _referrer_fields() -> tuple[FieldSpec, ...]:
    referrer = ("referrer",)
    return (
        FieldSpec("referrer-name", "Referrer's name", "text", True, path=(*referrer, "name")),
        FieldSpec(
            "referrer-agency",
            "Referrer's agency",
            "select",
            True,
            choices=agency_choices(),
            path=(*referrer, "agency"),
        ),
        FieldSpec(
            "referrer-discussed_with_safeguarding_lead",
            "Did the referrer discuss it with their safeguarding lead first?",
            "yesno",
            True,
            path=(*referrer, "discussed_with_safeguarding_lead"),
            help=_help(Referrer, "discussed_with_safeguarding_lead"),
        ),
    )


def referral_initial(today: date) -> dict[str, Any]:
    # The safeguarding-lead discussion has no default: the person recording it answers.
    return {"received_on": dates.uk_numeric(today)}


def parse_referral_form(
    sections: tuple[Section, ...],
    data: FormInput,
    today: date,
    settings_for: dict[str, PartnershipSettings],
) -> tuple[Referral | None, FormState]:
    """The referral (None while anything is wrong) and the state to show again."""
    state = FormState()
    raw: dict[str, Any] = {}
    for section in sections:
        for spec in section.fields:
            _read(spec, data, raw, state)
    # A sibling row left empty is not a child.
    children = raw.get("children", [])
    kept = []
    for i, child in enumerate(children):
        if any(v not in (None, False, "") for v in child.values()) or i == 0:
            kept.append((i, child))
    raw["children"] = [c for _, c in kept]
    index_of = [i for i, _ in kept]
    names = [s.name for section in sections for s in section.fields]
    if state.errors:
        return None, state

    def where(loc: list[str | int]) -> tuple[str, str]:
        if loc[0] == "children":
            if len(loc) == 1:
                return "children-0-name", ""
            row = index_of[int(loc[1])] if int(loc[1]) < len(index_of) else int(loc[1])
            if len(loc) == 2:
                return f"children-{row}", ""
            return f"children-{row}-{loc[2]}", ""
        if loc[0] == "referrer" and len(loc) > 1:
            return f"referrer-{loc[1]}", ""
        return str(loc[0]), ""

    try:
        referral = Referral.model_validate(raw)
    except ValidationError as err:
        _attach(err, state, [*names, *(f"children-{i}" for i in range(MAX_CHILDREN))], where)
        for problem in list(state.general):
            if "care leaver" in problem:
                state.general.remove(problem)
                state.add("children-0-care_leaver", problem)
        return None, state
    settings = settings_for.get(referral.partnership)
    if settings is None:
        state.add("partnership", "Choose a partnership you work for.")
        problems = [p for p in [received_problem(referral, today)] if p is not None]
    else:
        # The same rule as the command line's: the domain says what is missing.
        problems = referral_problems(referral, settings, today)
    for found in problems:
        # The domain names nested fields with dots; the form's names use dashes.
        state.add(found.field.replace(".", "-"), _sentence(found.message) or found.message)
    return (referral if state.ok else None), state
