"""Subject access (issue 14, point 4): who a request is about, and where a case names them.

A request about a person (a child, a parent, a referrer, a professional) gives a name, a date of
birth, or both. `PersonQuery` checks them (refused with the field named); `referral_mentions`
says where a referral names them and `text_mentions` whether a piece of free text does. Matching
is deliberately simple and explainable, so that whoever answers the request can say what was
searched: names compared without case, accents or punctuation, every word of the name asked
for present as whole words (a referral's name field) or as one phrase (free text); dates of birth
compared as dates in a referral and looked for in free text in the usual written forms
(2023-05-17, 17/05/2023, 17.05.2023, 17 May 2023). Initials and misspellings are not found:
search again by surname alone to widen. No I/O here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safeguarding.referral import Referral

_SEPARATORS = re.compile(r"[^\w]+")


class PersonQuery(BaseModel):
    """Who a request is about: a name, a date of birth, or both (at least one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, max_length=200)
    born: date | None = None

    @model_validator(mode="after")
    def _something_to_find(self) -> Self:
        if self.name is not None and not words(self.name):
            raise ValueError("name: give at least one letter or digit")
        if self.name is None and self.born is None:
            raise ValueError("name or born: give a name, a date of birth, or both")
        return self

    def name_words(self) -> tuple[str, ...]:
        return words(self.name) if self.name else ()


def words(text: str) -> tuple[str, ...]:
    """`text` as comparable words: case, accents and punctuation gone."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return tuple(w for w in _SEPARATORS.split(plain) if w)


def _phrase_in(needle: tuple[str, ...], haystack: tuple[str, ...]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def date_forms(day: date) -> tuple[tuple[str, ...], ...]:
    """The ways a date is usually written, as words (so 17/05/2023 and 17.05.2023 are one)."""
    month = day.strftime("%B").casefold()
    return (
        (f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"),
        (f"{day.day:02d}", f"{day.month:02d}", f"{day.year:04d}"),
        (str(day.day), str(day.month), f"{day.year:04d}"),
        (str(day.day), month, f"{day.year:04d}"),
        (f"{day.day:02d}", month, f"{day.year:04d}"),
        (str(day.day), month[:3], f"{day.year:04d}"),
    )


def text_mentions(text: str | None, query: PersonQuery) -> list[str]:
    """Whether free text names the person: "name" (the whole name as a phrase), "date of
    birth" (written in a usual form), both or neither."""
    if not text:
        return []
    found = words(text)
    hits = []
    if query.name and _phrase_in(query.name_words(), found):
        hits.append("name")
    if query.born and any(_phrase_in(form, found) for form in date_forms(query.born)):
        hits.append("date of birth")
    return hits


def _name_matches(name: str, query: PersonQuery) -> bool:
    asked = query.name_words()
    return bool(asked) and set(asked) <= set(words(name))


def referral_mentions(referral: Referral, query: PersonQuery) -> list[str]:
    """Where a referral names the person: "child 1: name", "child 2: date of birth",
    "referrer: name", "summary: name"... (never the value itself)."""
    hits: list[str] = []
    for number, child in enumerate(referral.children, start=1):
        if query.name and _name_matches(child.name, query):
            hits.append(f"child {number}: name")
        if query.born and child.date_of_birth == query.born:
            hits.append(f"child {number}: date of birth")
    if query.name and _name_matches(referral.referrer.name, query):
        hits.append("referrer: name")
    for label, text in (("summary", referral.summary), ("late reason", referral.late_reason)):
        hits += [f"{label}: {what}" for what in text_mentions(text, query)]
    return hits


__all__ = [
    "PersonQuery",
    "date_forms",
    "referral_mentions",
    "text_mentions",
    "words",
]
