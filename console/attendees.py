"""Who attended, chosen rather than typed (issue 15, item 3).

A people field ("Who attended") offers rows of a name with the person's role and agency chosen
from lists, and keeps its text box (one "Name, role, agency" line each) for more people, or a
list pasted from minutes. Plain form controls: nothing needs JavaScript. The rows are read here;
the lines by the forms as before; the decision gets both, rows first.
"""

from __future__ import annotations

from typing import Any, Protocol

from console.labels import option_label
from safeguarding.vocabulary import Agency, Role

#: Rows offered on a form (more people go in the text box).
ROWS = 4
ROLE_CHOICES: tuple[tuple[str, str], ...] = tuple((r.value, option_label(r)) for r in Role)
AGENCY_CHOICES: tuple[tuple[str, str], ...] = tuple((a.value, a.label) for a in Agency)
ROWS_HELP = (
    "Write each person's name and choose their role and agency; leave a row empty if not needed."
)


class FormInput(Protocol):
    """Starlette's FormData, or anything with its `get`."""

    def get(self, key: str, /) -> Any: ...


def read_rows(
    data: FormInput, name: str
) -> tuple[list[dict[str, str]], list[tuple[str, str, str]], list[str]]:
    """The people the rows name, the rows as typed (to show again), and what is wrong (each
    problem names its row)."""
    people: list[dict[str, str]] = []
    shown: list[tuple[str, str, str]] = []
    problems: list[str] = []
    roles, agencies = dict(ROLE_CHOICES), dict(AGENCY_CHOICES)
    for i in range(ROWS):
        person, role, agency = (
            str(data.get(f"{name}-{i}-{part}") or "").strip() for part in ("name", "role", "agency")
        )
        shown.append((person, role, agency))
        if not (person or role or agency):
            continue
        missing = [
            words
            for words, value in (("the name", person), ("the role", role), ("the agency", agency))
            if not value
        ]
        if missing:
            problems.append(f"Row {i + 1}: give {' and '.join(missing)}.")
            continue
        if role not in roles or agency not in agencies:
            problems.append(f"Row {i + 1}: choose the role and agency from the lists.")
            continue
        people.append({"name": person, "role": role, "agency": agency})
    return people, shown, problems
